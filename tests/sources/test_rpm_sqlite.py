"""rpm sqlite database: header blobs parsed without rpm; the rpm program when present agrees."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kitvet.errors import SourceError
from kitvet.sources import rpm_cmd, rpmdb_sqlite
from kitvet.sources.rpmheader import RpmHeaderError, header_to_row, parse_header

# rpm tag numbers and types (rpm's lib/rpmtag.h)
NAME, VERSION, RELEASE, EPOCH, SUMMARY, VENDOR, LICENSE, PACKAGER, ARCH = (
    1000, 1001, 1002, 1003, 1004, 1011, 1014, 1015, 1022)
INT32, STRING, BIN, STRING_ARRAY, I18NSTRING = 4, 6, 7, 8, 9
_ALIGN = {3: 2, 4: 4, 5: 8}


def encode_header(entries: list[tuple[int, int, object]]) -> bytes:
    """An exported rpm header blob (il, dl, index entries sorted by tag, aligned data store)."""
    index, data = [], bytearray()
    for tag, typ, value in sorted(entries, key=lambda e: e[0]):
        while len(data) % _ALIGN.get(typ, 1):
            data.append(0)
        offset = len(data)
        if typ == STRING:
            payload, count = str(value).encode() + b"\0", 1
        elif typ in (STRING_ARRAY, I18NSTRING):
            payload = b"".join(v.encode() + b"\0" for v in value)  # type: ignore[union-attr]
            count = len(value)  # type: ignore[arg-type]
        elif typ == INT32:
            payload, count = struct.pack(f">{len(value)}I", *value), len(value)  # type: ignore
        else:
            payload, count = bytes(value), len(value)  # type: ignore[arg-type]
        data += payload
        index.append(struct.pack(">iIiI", tag, typ, offset, count))
    return struct.pack(">ii", len(index), len(data)) + b"".join(index) + bytes(data)


def package(name: str, version: str, release: str, *, epoch: int | None = None,
            vendor: str | None = "Fedora Project", arch: str = "x86_64") -> bytes:
    entries: list[tuple[int, int, object]] = [
        (NAME, STRING, name), (VERSION, STRING, version), (RELEASE, STRING, release),
        (SUMMARY, STRING, f"the {name} package"), (ARCH, STRING, arch),
        (LICENSE, STRING, "MIT"), (PACKAGER, STRING, "Fedora Project <x@example.org>"),
    ]
    if epoch is not None:
        entries.append((EPOCH, INT32, [epoch]))
    if vendor is not None:
        entries.append((VENDOR, STRING, vendor))
    return encode_header(entries)


#: The index tables rpm 4.16+ keeps beside Packages (rpm refuses a database without them).
INDEXES = (
    "Name", "Basenames", "Group", "Requirename", "Providename", "Conflictname", "Obsoletename",
    "Triggername", "Dirnames", "Installtid", "Sigmd5", "Sha1header", "Filetriggername",
    "Transfiletriggername", "Recommendname", "Suggestname", "Supplementname", "Enhancename",
)


def make_rpmdb(path: Path, blobs: list[bytes]) -> Path:
    """An rpmdb.sqlite with rpm's schema: Packages, and the index tables (Name filled in)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,"
                 "blob BLOB NOT NULL)")
    for table in INDEXES:
        ktype = "BLOB" if table in ("Installtid", "Sigmd5") else "TEXT"
        conn.execute(f"CREATE TABLE '{table}' (key '{ktype}' NOT NULL, hnum INTEGER NOT NULL, "
                     "idx INTEGER NOT NULL, FOREIGN KEY (hnum) REFERENCES 'Packages'(hnum))")
    for blob in blobs:
        cur = conn.execute("INSERT INTO Packages (blob) VALUES (?)", (blob,))
        try:
            name = parse_header(blob)["name"]
        except RpmHeaderError:
            continue
        conn.execute("INSERT INTO Name VALUES (?, ?, 0)", (name, cur.lastrowid))
    conn.commit()
    conn.close()
    return path


GOOD = [
    package("xz", "5.6.0", "1.fc40"),
    package("bash", "5.2.26", "3.fc40"),
    package("kernel-core", "6.8.5", "301.fc40", epoch=2),
    package("gpg-pubkey", "a15b79cc", "63d04c2c", vendor=None, arch=""),
]


def test_header_fields_and_row() -> None:
    hdr = parse_header(package("kernel-core", "6.8.5", "301.fc40", epoch=2))
    assert (hdr["name"], hdr["version"], hdr["release"], hdr["epoch"]) == (
        "kernel-core", "6.8.5", "301.fc40", 2)
    assert hdr["vendor"] == "Fedora Project" and hdr["summary"] == "the kernel-core package"
    row = header_to_row(hdr, source="rpm", location="db:hnum=3", vendor_namespace="fedora")
    assert row["version"] == "2:6.8.5-301.fc40"
    assert row["publisher"] == "Fedora Project"
    assert row["purl"] == "pkg:rpm/fedora/kernel-core@6.8.5-301.fc40?arch=x86_64&epoch=2"


def test_publisher_falls_back_to_packager() -> None:
    row = header_to_row(parse_header(package("a", "1", "1", vendor=None)), source="rpm",
                        location="x")
    assert row["publisher"] == "Fedora Project <x@example.org>"


@pytest.mark.parametrize("blob, why", [
    (b"", "too short"),
    (b"\x00\x00\x00\x02\x00\x00\x00\x10", "truncated"),
    (struct.pack(">ii", 0x7FFFFFFF, 4) + b"\0" * 16, "index entry count"),
    (struct.pack(">ii", 1, -5) + b"\0" * 16, "data length"),
    (struct.pack(">ii", 1, 4) + struct.pack(">iIiI", NAME, STRING, 2, 1) + b"abcd",
     "NUL-terminated"),
    (struct.pack(">ii", 1, 4) + struct.pack(">iIiI", NAME, STRING, 900, 1) + b"ab\0\0",
     "outside data"),
    (struct.pack(">ii", 1, 4) + struct.pack(">iIiI", EPOCH, INT32, 2, 1) + b"\0\0\0\0",
     "past the end"),
    (struct.pack(">ii", 1, 4) + struct.pack(">iIiI", NAME, 77, 0, 1) + b"ab\0\0",
     "unknown type"),
    (encode_header([(VERSION, STRING, "1.0")]), "no name"),
])
def test_garbage_headers_raise_a_clear_error(blob: bytes, why: str) -> None:
    with pytest.raises(RpmHeaderError, match=why):
        parse_header(blob)


def test_reads_database_and_skips_bad_headers(tmp_path: Path) -> None:
    junk = b"\xde\xad\xbe\xef" * 10
    db = make_rpmdb(tmp_path / "rpmdb.sqlite", [*GOOD[:2], junk, *GOOD[2:]])
    rows, skipped = rpmdb_sqlite.read_rpmdb_sqlite(db, vendor_namespace="fedora")
    # gpg-pubkey is an imported signing key, not software (rpm -qa lists it; kitvet does not)
    assert [(r["name"], r["version"]) for r in rows] == [
        ("xz", "5.6.0-1.fc40"), ("bash", "5.2.26-3.fc40"), ("kernel-core", "2:6.8.5-301.fc40")]
    assert rows[0]["location"] == f"{db}:hnum=1"
    assert all(r["package_type"] == "rpm" for r in rows)
    assert len(skipped) == 1
    assert skipped[0].location == f"{db}:hnum=3"
    assert skipped[0].reason.startswith("bad rpm header")


def test_not_an_rpmdb_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "rpmdb.sqlite"
    bad.write_bytes(b"this is not sqlite at all")
    with pytest.raises(SourceError, match="not an SQLite database") as e:
        rpmdb_sqlite.read_rpmdb_sqlite(bad)
    assert e.value.file == str(bad)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(SourceError, match="not a readable rpm sqlite database"):
        rpmdb_sqlite.read_rpmdb_sqlite(other)


def test_found_under_either_layout(tmp_path: Path) -> None:
    assert rpmdb_sqlite.find_database(tmp_path) is None
    db = make_rpmdb(tmp_path / "usr/lib/sysimage/rpm/rpmdb.sqlite", GOOD)
    assert rpmdb_sqlite.find_database(tmp_path) == db


def test_rpm_query_output_is_parsed() -> None:
    us, rs = "\x1f", "\x1e"
    out = (us.join(["bash", "", "5.2.26", "3.fc40", "x86_64", "Fedora Project", "(none)"]) + rs
           + us.join(["kernel", "2", "6.8.5", "301.fc40", "x86_64", "(none)", "Pkgr"]) + rs
           + "garbage-without-fields" + rs)
    rows, bad = rpm_cmd.parse(out, vendor_namespace="fedora")
    assert [(r["name"], r["version"], r["publisher"]) for r in rows] == [
        ("bash", "5.2.26-3.fc40", "Fedora Project"), ("kernel", "2:6.8.5-301.fc40", "Pkgr")]
    assert bad == [(3, "expected 7 fields, found 1")]


@pytest.mark.skipif(shutil.which("rpm") is None, reason="the rpm program is not installed")
def test_real_rpm_reads_the_same_packages(tmp_path: Path) -> None:
    """The real rpm, on the database our encoder wrote, lists what our parser lists."""
    db = make_rpmdb(tmp_path / "rpmdb.sqlite", GOOD)
    ours, _ = rpmdb_sqlite.read_rpmdb_sqlite(db)
    try:
        output = rpm_cmd.query(dbpath=str(tmp_path))
    except SourceError as e:
        pytest.skip(f"this rpm cannot read sqlite databases: {e}")
    theirs, bad = rpm_cmd.parse(output)
    assert bad == []
    def key(r):
        return (r["name"], r["version"], r["arch"] or "", r["publisher"] or "")
    assert sorted(map(key, theirs)) == sorted(map(key, ours))


# --- property tests: any bytes give a header or one RpmHeaderError, never anything else ------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_any_bytes_parse_or_raise_rpm_header_error(blob: bytes) -> None:
    try:
        hdr = parse_header(blob)
    except RpmHeaderError:
        return
    assert isinstance(hdr["name"], str) and hdr["name"]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_corrupting_a_real_header_never_escapes_as_another_error(data: st.DataObject) -> None:
    blob = bytearray(GOOD[2])
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(blob) - 1))
        blob[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(blob)))
    with contextlib.suppress(RpmHeaderError):
        parse_header(bytes(blob[:cut]))


_RPM_TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._+~^", min_size=1,
                    max_size=12).filter(lambda t: t[0].isalnum())


@pytest.mark.skipif(shutil.which("rpm") is None, reason="the rpm program is not installed")
@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(_RPM_TEXT, _RPM_TEXT, _RPM_TEXT, st.none() | st.integers(0, 99),
                          st.none() | st.sampled_from(["Fedora Project", "AO Kaspersky Lab",
                                                       "Ünïcödé Vendor GmbH"])),
                min_size=1, max_size=5, unique_by=lambda p: p[0]))
def test_differential_against_the_real_rpm(tmp_path_factory: pytest.TempPathFactory,
                                           pkgs: list[tuple]) -> None:
    folder = tmp_path_factory.mktemp("rpmdb")
    db = make_rpmdb(folder / "rpmdb.sqlite",
                    [package(n, v, r, epoch=e, vendor=vd) for n, v, r, e, vd in pkgs])
    ours, skipped = rpmdb_sqlite.read_rpmdb_sqlite(db)
    try:
        theirs, bad = rpm_cmd.parse(rpm_cmd.query(dbpath=str(folder)))
    except SourceError as e:
        pytest.skip(f"this rpm cannot read sqlite databases: {e}")
    def key(r):
        return (r["name"], r["version"], r["publisher"] or "")
    assert skipped == [] and bad == []
    assert sorted(map(key, ours)) == sorted(map(key, theirs))


def test_hostile_header_strings_are_bounded_and_cleaned() -> None:
    blob = package("evil\x1b[31m", "1.0", "1", vendor="V" * 100_000 + "\x00\x07")
    row = header_to_row(parse_header(blob), source="rpm", location="x")
    assert row["name"] == "evil[31m"
    assert len(row["publisher"]) == 4096 and "\x07" not in row["publisher"]


def test_name_of_only_control_characters_is_skipped(tmp_path: Path) -> None:
    db = make_rpmdb(tmp_path / "rpmdb.sqlite", [package("\x01\x02", "1", "1"), GOOD[0]])
    rows, skipped = rpmdb_sqlite.read_rpmdb_sqlite(db)
    assert [r["name"] for r in rows] == ["xz"]
    assert skipped[0].reason == "package name made only of control characters"
