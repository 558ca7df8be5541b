"""Whole-host collection of a mounted root and of the live system."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from kitvet.identify import hardware
from kitvet.sources import apk, local

FIX = Path(__file__).parent / "fixtures"


def _sibling(name: str) -> ModuleType:
    """A test module beside this one (its fixture builders), loaded by path."""
    spec = importlib.util.spec_from_file_location(f"kitvet_tests_{name}",
                                                  Path(__file__).parent / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_rpm = _sibling("test_rpm_sqlite")
GOOD, make_rpmdb = _rpm.GOOD, _rpm.make_rpmdb
make_sysfs = _sibling("test_sysfs").make_sysfs
MACHINE_ID = "5f1e4c0c2d2a4c3f9b8e7d6c5b4a3921"


def image(tmp_path: Path) -> Path:
    """A mounted root with dpkg, rpm (sqlite) and apk databases and host facts."""
    root = tmp_path / "image"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text('NAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n')
    (root / "etc/machine-id").write_text(MACHINE_ID + "\n")
    (root / "etc/hostname").write_text("imaged-host\n")
    admin = root / "var/lib/dpkg"
    shutil.copytree(FIX / "dpkg" / "admin", admin)
    (admin / "expected-dpkg-query-W.txt").unlink()
    make_rpmdb(root / "var/lib/rpm/rpmdb.sqlite", GOOD)
    (root / "lib/apk/db").mkdir(parents=True)
    shutil.copy(FIX / "apk" / "installed", root / "lib/apk/db/installed")
    return root


def test_mounted_root_reads_every_database_and_skips_live_only_parts(tmp_path: Path) -> None:
    root = image(tmp_path)
    snap = local.collect(root, institution="Ministry of Examples")
    host = snap.host
    assert host.host_id == MACHINE_ID == host.machine_id
    assert (host.hostname, host.os_name, host.os_version, host.platform) == (
        "imaged-host", "Debian GNU/Linux", "12", "linux")
    assert host.institution == "Ministry of Examples"
    assert host.collected_at and host.collected_at.endswith("Z")
    assert host.sources == ("dpkg", "rpm", "apk")
    by_type: dict[str, int] = {}
    for row in snap.software:
        by_type[row["package_type"]] = by_type.get(row["package_type"], 0) + 1
        assert row["host_id"] == MACHINE_ID
    assert by_type == {"deb": 9, "rpm": 3, "apk": 3}
    assert snap.devices == []
    assert {(s.source, s.reason) for s in snap.skipped} == {
        ("sysfs", "not a live system"), ("neighbours", "not a live system")}


def test_explicit_host_id_wins(tmp_path: Path) -> None:
    snap = local.collect(image(tmp_path), host_id="asset-0042")
    assert snap.host.host_id == "asset-0042" and snap.host.machine_id == MACHINE_ID
    assert {r["host_id"] for r in snap.software} == {"asset-0042"}


def test_empty_root_says_what_was_missing(tmp_path: Path) -> None:
    snap = local.collect(tmp_path)
    (tmp_path / "other").mkdir()
    assert local.collect(tmp_path / "other").host.host_id != snap.host.host_id  # no collision
    assert local.collect(tmp_path).host.host_id == snap.host.host_id  # but stable
    assert snap.software == []
    assert ("packages", "no dpkg, rpm or apk database found") in {
        (s.source, s.reason) for s in snap.skipped}


def test_a_failing_collector_does_not_lose_the_others(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kw: object) -> bool:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(apk, "collect", boom)
    snap = local.collect(image(tmp_path))
    assert {r["package_type"] for r in snap.software} == {"deb", "rpm"}
    assert ("apk", "collector failed: RuntimeError: simulated bug") in {
        (s.source, s.reason) for s in snap.skipped}


def test_corrupt_rpmdb_is_skipped_with_reason(tmp_path: Path) -> None:
    root = image(tmp_path)
    (root / "var/lib/rpm/rpmdb.sqlite").write_bytes(b"garbage" * 100)
    snap = local.collect(root)
    assert "rpm" not in snap.host.sources
    (skip,) = [s for s in snap.skipped if s.source == "rpm"]
    assert skip.reason == "not an SQLite database"
    assert skip.location == str(root / "var/lib/rpm/rpmdb.sqlite")
    assert {r["package_type"] for r in snap.software} == {"deb", "apk"}


def test_live_system_reads_sysfs_and_neighbours(tmp_path: Path) -> None:
    fake_sys = make_sysfs(tmp_path / "sys")
    proc = tmp_path / "proc"
    (proc / "net").mkdir(parents=True)
    (proc / "net" / "arp").write_text(
        "IP address       HW type     Flags       HW address            Mask     Device\n"
        "10.1.1.1         0x1         0x2         48:ad:08:00:00:01     *        eth0\n")
    hardware.reset()
    try:
        snap = local.collect(Path("/"), sysfs=fake_sys, proc=proc)
    finally:
        hardware.reset()
    assert {"sysfs", "neighbours"} <= set(snap.host.sources)
    buses = sorted(d["bus"] for d in snap.devices)
    assert buses == ["network", "pci", "pci", "pci", "usb", "usb"]
    net = next(d for d in snap.devices if d["bus"] == "network")
    assert net["oui_org"] and "HUAWEI" in net["oui_org"].upper()  # from whichever registry
    assert not [s for s in snap.skipped if s.reason == local.NOT_LIVE]


def _writers() -> ModuleType:
    """The rpm ndb/bdb file writers of the rpmdb importer's tests (fixtures/rpmdb_writers.py)."""
    spec = importlib.util.spec_from_file_location("kitvet_tests_rpmdb_writers",
                                                  FIX / "rpmdb_writers.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("rel, kind", [("usr/lib/sysimage/rpm/Packages.db", "ndb"),
                                       ("var/lib/rpm/Packages", "bdb")])
def test_older_rpm_databases_are_read_without_rpm(tmp_path: Path, rel: str, kind: str) -> None:
    w = _writers()
    blobs = [w.header_blob(name="kesl", version="11.2.0", release="4528", arch="x86_64",
                           vendor="AO Kaspersky Lab"),
             w.header_blob(name="bash", version="4.4", release="150400.27.3.2", arch="x86_64",
                           vendor="SUSE LLC <https://www.suse.com/>")]
    root = tmp_path / "suse"
    (root / rel).parent.mkdir(parents=True)
    (root / rel).write_bytes(w.ndb_bytes(blobs) if kind == "ndb" else w.bdb_bytes(blobs))
    (root / "etc").mkdir()
    (root / "etc/os-release").write_text('ID="sles"\nVERSION_ID="15.4"\n')
    snap = local.collect(root)
    assert snap.host.sources == ("rpm",)
    rows = {r["name"]: r for r in snap.software}
    assert set(rows) == {"kesl", "bash"}
    assert rows["kesl"]["publisher"] == "AO Kaspersky Lab"
    assert rows["kesl"]["version"] == "11.2.0-4528"
    assert rows["kesl"]["purl"] == "pkg:rpm/sles/kesl@11.2.0-4528?arch=x86_64"
    assert {r["host_id"] for r in snap.software} == {snap.host.host_id}


def test_unreadable_older_rpm_database_is_a_skip(tmp_path: Path) -> None:
    root = tmp_path / "r"
    (root / "var/lib/rpm").mkdir(parents=True)
    (root / "var/lib/rpm/Packages").write_bytes(b"\x00" * 5000)
    snap = local.collect(root)
    (skip,) = [s for s in snap.skipped if s.source == "rpm"]
    assert skip.location == str(root / "var/lib/rpm/Packages")
    assert skip.reason
    assert "rpm" not in snap.host.sources
