"""rpm ndb (Packages.db) reader and the rpmdb importer's format detection."""

from __future__ import annotations

import importlib.util
import sqlite3
import struct
from pathlib import Path

import pytest

from kitvet.errors import SourceError
from kitvet.sources.rpmdb_ndb import RpmdbImporter, read_rpmdb_ndb, rpmdb_format

_spec = importlib.util.spec_from_file_location(
    "kitvet_test_rpmdb_writers", Path(__file__).parent / "fixtures" / "rpmdb_writers.py")
w = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(w)

KESL = w.header_blob(name="kesl", version="11.2.0", release="4528", arch="x86_64",
                     vendor="AO Kaspersky Lab", summary="Kaspersky Endpoint Security for Linux")
BASH = w.header_blob(name="bash", version="4.4", release="150400.27.3.2", epoch=0,
                     arch="x86_64", vendor="SUSE LLC <https://www.suse.com/>")
PUBKEY = w.header_blob(name="gpg-pubkey", version="39db7c82", release="5f68629b")


def write(tmp_path: Path, data: bytes, name: str = "Packages.db") -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_reads_every_package_with_vendor_and_location(tmp_path):
    db = write(tmp_path, w.ndb_bytes([KESL, BASH]))
    rows, skipped = read_rpmdb_ndb(db)
    assert skipped == []
    kesl, bash = rows
    assert (kesl["name"], kesl["version"], kesl["publisher"]) == (
        "kesl", "11.2.0-4528", "AO Kaspersky Lab")
    assert kesl["package_type"] == "rpm" and kesl["arch"] == "x86_64"
    assert kesl["location"] == f"{db}:slot 2 (package index 1)"
    assert bash["version"] == "0:4.4-150400.27.3.2"


def test_free_slots_are_passed_over_and_signing_keys_are_not_software(tmp_path):
    rows, skipped = read_rpmdb_ndb(write(tmp_path, w.ndb_bytes([PUBKEY, BASH], free_slots_first=5)))
    assert [r["name"] for r in rows] == ["bash"] and skipped == []


def test_importer_gives_one_linux_snapshot(tmp_path):
    (snap,) = RpmdbImporter().read(write(tmp_path, w.ndb_bytes([KESL])))
    assert snap.host.platform == "linux"
    assert [r["source"] for r in snap.software] == ["rpm:ndb"]


def corrupt(data: bytes, marker: bytes, delta: int, value: bytes) -> bytes:
    b = bytearray(data)
    i = b.index(marker) + delta
    b[i:i + len(value)] = value
    return bytes(b)


@pytest.mark.parametrize("how,reason", [
    (lambda d: corrupt(d, b"kesl\0", 0, b"KESL"), "Adler-32"),
    (lambda d: corrupt(d, b"BlbS", 0, b"XXXX"), "bad magic"),
    (lambda d: corrupt(d, b"BlbS", 4, struct.pack("<I", 9)), "belongs to package 9"),
    (lambda d: corrupt(d, b"BlbE", 0, b"BlbX"), "damaged tail"),
])
def test_one_damaged_blob_is_skipped_and_the_others_kept(tmp_path, how, reason):
    data = how(w.ndb_bytes([KESL, BASH]))
    db = write(tmp_path, data)
    rows, skipped = read_rpmdb_ndb(db)
    assert [r["name"] for r in rows] == ["bash"]
    (s,) = skipped
    assert reason in s.reason and s.location == f"{db}:slot 2 (package index 1)"


def test_garbage_header_inside_a_valid_blob_is_skipped(tmp_path):
    rows, skipped = read_rpmdb_ndb(write(tmp_path, w.ndb_bytes([b"\xff" * 40, BASH])))
    assert [r["name"] for r in rows] == ["bash"]
    assert skipped[0].reason.startswith("bad rpm header")


def test_truncated_database_keeps_the_packages_before_the_cut(tmp_path):
    data = w.ndb_bytes([BASH, KESL])
    rows, skipped = read_rpmdb_ndb(write(tmp_path, data[:-20]))
    assert [r["name"] for r in rows] == ["bash"]
    assert "truncated" in skipped[0].reason


@pytest.mark.parametrize("data,place", [
    (b"", "offset 0"),
    (b"\x7fELF" + b"\0" * 5000, "offset 0"),
    (b"RpmP" + struct.pack("<III", 0, 1, 0) + b"\0" * 5000, "offset 12"),
    (b"RpmP" + struct.pack("<III", 0, 1, 99999) + b"\0" * 5000, "offset 12"),
    (b"RpmP" + struct.pack("<III", 3, 1, 1) + b"\0" * 5000, "offset 4"),
])
def test_not_an_ndb_file_is_one_clear_error(tmp_path, data, place):
    p = write(tmp_path, data)
    with pytest.raises(SourceError) as e:
        read_rpmdb_ndb(p)
    assert e.value.file == str(p) and e.value.place == place


def test_corrupt_slot_page_stops_with_a_reason(tmp_path):
    data = bytearray(w.ndb_bytes([KESL, BASH]))
    data[4 * 16:4 * 16 + 4] = b"JUNK"  # slot 4, after both packages
    rows, skipped = read_rpmdb_ndb(write(tmp_path, bytes(data)))
    assert len(rows) == 2
    assert "slot pages corrupt" in skipped[0].reason


def test_format_detection_for_all_three_rpm_databases(tmp_path):
    ndb = write(tmp_path, w.ndb_bytes([KESL]))
    bdb = write(tmp_path, w.bdb_bytes([KESL]), "Packages")
    sq = tmp_path / "rpmdb.sqlite"
    con = sqlite3.connect(sq)
    con.execute("CREATE TABLE Packages "
                "(hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
    con.execute("INSERT INTO Packages (blob) VALUES (?)", (KESL,))
    con.commit()
    con.close()
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    fmt = {p.name: rpmdb_format(p, p.read_bytes()[:65536]) for p in (ndb, bdb, sq, other)}
    assert fmt == {"Packages.db": "ndb", "Packages": "bdb", "rpmdb.sqlite": "sqlite",
                   "other.sqlite": None}
    for p in (ndb, bdb, sq):
        (snap,) = RpmdbImporter().read(p)
        assert [r["name"] for r in snap.software] == ["kesl"], p.name


def test_database_inside_a_system_tree_takes_that_systems_identity(tmp_path):
    root = tmp_path / "sles15"
    db = root / "usr" / "lib" / "sysimage" / "rpm"
    db.mkdir(parents=True)
    (db / "Packages.db").write_bytes(w.ndb_bytes([BASH]))
    (root / "etc").mkdir()
    (root / "etc" / "os-release").write_text('NAME="SLES"\nVERSION_ID="15.4"\nID="sles"\n'
                                             'PRETTY_NAME="SUSE Linux Enterprise Server 15 SP4"\n')
    (root / "etc" / "machine-id").write_text("0123456789abcdef0123456789abcdef\n")
    (root / "etc" / "hostname").write_text("build-07\n")
    (snap,) = RpmdbImporter().read(db / "Packages.db")
    assert snap.host.host_id == "0123456789abcdef0123456789abcdef"
    assert (snap.host.hostname, snap.host.os_version) == ("build-07", "15.4")
    assert snap.software[0]["purl"].startswith("pkg:rpm/sles/bash@")


def test_loose_database_file_gets_a_path_derived_host(tmp_path):
    (snap,) = RpmdbImporter().read(write(tmp_path, w.ndb_bytes([BASH])))
    assert snap.host.host_id.startswith("rpmdb-")
    assert snap.software[0]["purl"].startswith("pkg:rpm/bash@")


def test_control_characters_in_headers_are_removed(tmp_path):
    evil = w.header_blob(name="ba\x07sh\x1b[31m", version="1", release="1",
                         vendor="=HYPERLINK(\"http://x\")\r\n" + "V" * 9000)
    empty = w.header_blob(name="\x01\x02", version="1", release="1")
    rows, skipped = read_rpmdb_ndb(write(tmp_path, w.ndb_bytes([evil, empty])))
    (row,) = rows
    assert row["name"] == "bash[31m"
    assert "\r" not in row["publisher"] and len(row["publisher"]) <= 4096
    assert skipped[0].reason == "package name made only of control characters"
