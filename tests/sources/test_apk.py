"""Alpine installed database."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kitvet.model import Host, Snapshot
from kitvet.sources import apk

FIXTURE = Path(__file__).parent / "fixtures" / "apk" / "installed"


def _root(tmp_path: Path, data: bytes) -> Path:
    db = tmp_path / "lib" / "apk" / "db"
    db.mkdir(parents=True)
    (db / "installed").write_bytes(data)
    return tmp_path


def test_reads_packages_with_maintainer_origin_and_line(tmp_path: Path) -> None:
    root = _root(tmp_path, FIXTURE.read_bytes())
    snap = Snapshot(host=Host(host_id="h"))
    assert apk.collect(snap, root, vendor="alpine") is True
    assert [(r["name"], r["version"]) for r in snap.software] == [
        ("musl", "1.2.4_git20230717-r4"), ("busybox", "1.36.1-r15"), ("xz-libs", "5.6.1-r0")]
    musl = snap.software[0]
    assert musl["publisher"] == "Timo Teräs <timo.teras@iki.fi>"
    assert musl["arch"] == "x86_64" and musl["package_type"] == "apk"
    assert musl["purl"] == "pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64"
    db = root / "lib/apk/db/installed"
    assert musl["location"] == f"{db}:2"
    assert snap.software[1]["location"] == f"{db}:24"
    assert snap.skipped == []


def test_bad_stanzas_are_skipped_and_good_ones_kept(tmp_path: Path) -> None:
    good = FIXTURE.read_bytes()
    data = (good + b"P:\xff\xfe\nV:1.0\n\n"  # non-UTF-8 name
            + b"P:noversion\nA:x86_64\n\n"
            + b"\x00\x01 junk line without a key\nP:junky\nV:1\n\n"
            + b"P:last-good\nV:2.0-r1\n")
    snap = Snapshot(host=Host(host_id="h"))
    apk.collect(snap, _root(tmp_path, data), vendor="alpine")
    assert [r["name"] for r in snap.software] == ["musl", "busybox", "xz-libs", "last-good"]
    reasons = [s.reason for s in snap.skipped]
    assert reasons == ["no valid package name (P:)", "package noversion: no valid version (V:)",
                       "malformed line (expected 'X:value')"]
    assert all(":" in s.location for s in snap.skipped)


def test_absent_database_is_not_an_apk_host(tmp_path: Path) -> None:
    snap = Snapshot(host=Host(host_id="h"))
    assert apk.collect(snap, tmp_path, vendor=None) is False
    assert snap.skipped == []


def test_a_copied_installed_file_imports_through_the_registry(tmp_path: Path) -> None:
    from kitvet.sources.registry import detect, read_paths

    copy = tmp_path / "installed"
    copy.write_bytes(FIXTURE.read_bytes())
    assert detect(copy).name == "apk-installed"
    (snap,) = read_paths([copy])
    assert [r["name"] for r in snap.software] == ["musl", "busybox", "xz-libs"]
    assert snap.software[2]["purl"] == "pkg:apk/alpine/xz-libs@5.6.1-r0?arch=x86_64"
    root = tmp_path / "container"  # inside a copied tree: that system's host and namespace
    (root / "lib" / "apk" / "db").mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "lib" / "apk" / "db" / "installed").write_bytes(FIXTURE.read_bytes())
    (root / "etc" / "os-release").write_text("NAME=postmarketOS\nID=postmarketos\n")
    (root / "etc" / "machine-id").write_text("0123456789abcdef0123456789abcdef\n")
    (snap,) = read_paths([root / "lib" / "apk" / "db" / "installed"])
    assert snap.host.host_id == "0123456789abcdef0123456789abcdef"
    assert snap.software[2]["purl"] == "pkg:apk/postmarketos/xz-libs@5.6.1-r0?arch=x86_64"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"P:x\n", b"V:1.0-r0\n", b"A:x86_64\n", b"m:\xff\n", b"\n",
                                 b"\n\n", b"junk\n", b"P:\xfe\n", b"\x00"]), max_size=40))
def test_any_installed_bytes_parse_without_raising(pieces: list[bytes]) -> None:
    records, bad = apk.parse_installed(b"".join(pieces), file="installed")
    assert all(r["name"] and r["version"] for r in records)
    assert all(line >= 1 and reason for line, reason in bad)


def test_a_file_with_no_readable_record_is_an_error_not_an_empty_host(tmp_path: Path) -> None:
    import pytest

    from kitvet.errors import SourceError

    junk = tmp_path / "installed"
    junk.write_bytes(b"\x00\xffnot an apk database\nat all\n")
    with pytest.raises(SourceError, match="no readable apk package record") as e:
        apk.ApkInstalledImporter().read(junk)
    assert e.value.place == "line 1" and e.value.file == str(junk)
    (tmp_path / "empty").write_bytes(b"")  # an empty database is a host with no packages
    (snap,) = apk.ApkInstalledImporter().read(tmp_path / "empty")
    assert snap.software == [] and snap.skipped == []
