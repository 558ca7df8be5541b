"""rpm Berkeley DB (hash) Packages reader."""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path

import pytest

from kitvet.errors import SourceError
from kitvet.sources.rpmdb_bdb import is_bdb_hash, iter_bdb_values, read_rpmdb_bdb

_spec = importlib.util.spec_from_file_location(
    "kitvet_test_rpmdb_writers", Path(__file__).parent / "fixtures" / "rpmdb_writers.py")
w = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(w)

KESL = w.header_blob(name="kesl", version="11.2.0", release="4528", arch="x86_64",
                     vendor="AO Kaspersky Lab", summary="K" * 3000)
OPENSSL = w.header_blob(name="openssl-libs", version="1.0.2k", release="26.el7_9",
                        epoch=1, arch="x86_64", vendor="CentOS")


def write(tmp_path: Path, data: bytes) -> Path:
    p = tmp_path / "Packages"
    p.write_bytes(data)
    return p


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("psize", [512, 4096])
def test_reads_values_in_both_byte_orders_and_across_overflow_pages(tmp_path, order, psize):
    db = write(tmp_path, w.bdb_bytes([KESL, OPENSSL], psize=psize, order=order))
    rows, skipped = read_rpmdb_bdb(db)
    assert skipped == []
    assert [(r["name"], r["version"], r["publisher"]) for r in rows] == [
        ("kesl", "11.2.0-4528", "AO Kaspersky Lab"),
        ("openssl-libs", "1:1.0.2k-26.el7_9", "CentOS")]
    assert rows[0]["source"] == "rpm:bdb"
    assert rows[0]["location"] == f"{db}:page 1, item 1"  # the path as given


def test_instance_counter_record_is_not_a_package(tmp_path):
    values = list(iter_bdb_values(write(tmp_path, w.bdb_bytes([OPENSSL]))))
    assert [v for v in values if v[1] is not None and len(v[1]) <= 8] == []


def test_overflow_chain_loop_is_skipped_not_endless(tmp_path):
    data = bytearray(w.bdb_bytes([KESL, OPENSSL], psize=512))
    # page 2 starts the kesl chain; point its next-page at itself
    struct.pack_into("<I", data, 2 * 512 + 16, 2)
    rows, skipped = read_rpmdb_bdb(write(tmp_path, bytes(data)))
    assert [r["name"] for r in rows] == ["openssl-libs"]
    assert "loops" in skipped[0].reason


def test_truncated_file_skips_the_cut_package(tmp_path):
    data = w.bdb_bytes([OPENSSL, KESL], psize=512)
    rows, skipped = read_rpmdb_bdb(write(tmp_path, data[:-1024]))
    assert [r["name"] for r in rows] == ["openssl-libs"]
    assert "past the file" in skipped[0].reason


def test_wrong_length_announced_is_skipped(tmp_path):
    data = bytearray(w.bdb_bytes([OPENSSL]))
    i = data.index(b"\x03\0\0\0", 512)
    struct.pack_into("<I", data, i + 8, 99)
    rows, skipped = read_rpmdb_bdb(write(tmp_path, bytes(data)))
    assert rows == [] and "announced" in skipped[0].reason


@pytest.mark.parametrize("data,place", [
    (b"", "page 0"),
    (b"\0" * 4096, "page 0"),
    (b"\0" * 12 + struct.pack("<I", 0x061561) + struct.pack("<I", 9) + struct.pack("<I", 1000)
     + b"\0\x08" + b"\0" * 5000, "page 0, byte 20"),
])
def test_not_a_bdb_hash_is_one_clear_error(tmp_path, data, place):
    p = write(tmp_path, data)
    with pytest.raises(SourceError) as e:
        read_rpmdb_bdb(p)
    assert e.value.file == str(p) and e.value.place == place


def test_encrypted_database_is_refused(tmp_path):
    data = bytearray(w.bdb_bytes([OPENSSL]))
    data[24] = 1
    with pytest.raises(SourceError, match="encrypted"):
        read_rpmdb_bdb(write(tmp_path, bytes(data)))


def test_detection_needs_the_hash_metadata_page():
    assert is_bdb_hash(w.bdb_bytes([OPENSSL])[:512])
    assert is_bdb_hash(w.bdb_bytes([OPENSSL], order=">")[:512])
    assert not is_bdb_hash(b"\0" * 512)


def _db_load() -> str | None:
    import shutil

    return shutil.which("db5.3_load") or shutil.which("db_load")


@pytest.mark.parametrize("config", [["db_pagesize=4096"], ["db_lorder=4321", "db_pagesize=512"]])
def test_reads_a_database_written_by_berkeley_db_itself(tmp_path, config):
    """libdb's own db_load writes the hash file; small headers inline, big ones off-page."""
    import subprocess

    loader = _db_load()
    if loader is None:
        pytest.skip("Berkeley DB's db_load is not installed (Debian: db5.3-util)")
    blobs = [w.header_blob(name=f"pkg{i}", version=f"1.{i}", release="1", arch="noarch",
                           vendor="Vendor " + "v" * (i * 37 % 3000)) for i in range(1, 301)]
    lines = ["VERSION=3", "format=bytevalue", "type=hash", "HEADER=END",
             " " + struct.pack("<I", 0).hex(), " " + struct.pack("<I", 301).hex()]
    for i, b in enumerate(blobs, start=1):
        lines += [" " + struct.pack("<I", i).hex(), " " + b.hex()]
    dump = tmp_path / "dump.txt"
    dump.write_text("\n".join([*lines, "DATA=END", ""]))
    out = tmp_path / "Packages"
    cmd = [loader, "-f", str(dump)] + [a for c in config for a in ("-c", c)] + [str(out)]
    subprocess.run(cmd, check=True, capture_output=True)
    rows, skipped = read_rpmdb_bdb(out)
    assert skipped == []
    assert sorted(r["name"] for r in rows) == sorted(f"pkg{i}" for i in range(1, 301))
