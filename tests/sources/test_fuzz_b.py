"""Property tests over the nmap, registry hive, macOS plist, rpm ndb/bdb parsers and identify.

Whatever the bytes, a parser either returns its model (bad records skipped with a reason) or
raises one SourceError naming the file; never another exception, never unbounded text.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import plistlib
import shutil
import tempfile
from pathlib import Path
from xml.sax.saxutils import quoteattr

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kitvet.errors import KitvetError, SourceError
from kitvet.identify.cpe import cpe22_to_23
from kitvet.identify.explain import IdentifyError, explain_item, parse_item
from kitvet.identify.software import identify_device, identify_software
from kitvet.model import DEVICE_FIELDS, SOFTWARE_FIELDS
from kitvet.sources.macos_apps import read_apps
from kitvet.sources.nmap import read_nmap
from kitvet.sources.registry_hive import read_hive
from kitvet.sources.rpmdb_bdb import read_rpmdb_bdb
from kitvet.sources.rpmdb_ndb import read_rpmdb_ndb

FIX = Path(__file__).parent / "fixtures"


def _load(name: str, file: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, FIX / file)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


regf = _load("kitvet_fuzz_regf", "regf_writer.py")
rpmw = _load("kitvet_fuzz_rpmdb", "rpmdb_writers.py")

#: KITVET_FUZZ_EXAMPLES=5000 runs a deeper search than the default quick one.
SETTINGS = settings(max_examples=int(os.environ.get("KITVET_FUZZ_EXAMPLES", "150")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
HIVE = regf.hive_bytes(regf.uninstall_tree(
    {"A": {"DisplayName": "Alpha", "Publisher": "AO Kaspersky Lab", "DisplayVersion": "1.0"},
     "B": {"DisplayName": "Beta", "UninstallString": "x.exe /u"}},
    prefix=("Microsoft", "Windows", "CurrentVersion", "Uninstall")))
BLOBS = [rpmw.header_blob(name="kesl", version="11.2.0", release="1", arch="x86_64",
                          vendor="AO Kaspersky Lab"),
         rpmw.header_blob(name="bash", version="5.1", release="2", epoch=1)]
NDB = rpmw.ndb_bytes(BLOBS)
BDB = rpmw.bdb_bytes(BLOBS, psize=512)


def _bounded(rows: list[dict], fields: tuple[str, ...]) -> None:
    for row in rows:
        assert set(row) <= set(fields)
        for v in row.values():
            if isinstance(v, str):
                assert len(v) <= 4096
                assert not any(ord(c) < 32 and c != "\t" for c in v), v


_TMP = Path(tempfile.mkdtemp(prefix="kitvet-fuzz-b-"))
atexit.register(shutil.rmtree, _TMP, True)


def _write(data: bytes, name: str) -> Path:
    """Write one example (the same path is reused: examples run one at a time)."""
    p = _TMP / name
    p.write_bytes(data)
    return p


mutations = st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=12)


def _mutate(data: bytes, muts: list[tuple[int, int]], cut: int | None) -> bytes:
    b = bytearray(data)
    for pos, val in muts:
        b[pos % len(b)] = val
    return bytes(b[:cut] if cut is not None else b)


@SETTINGS
@given(st.binary(max_size=2048))
def test_nmap_on_any_bytes(data):
    p = _write(data, "scan.xml")
    try:
        snaps = read_nmap(p)
    except SourceError as e:
        assert e.file == str(p)
        return
    for s in snaps:
        _bounded(s.software, SOFTWARE_FIELDS)
        _bounded(s.devices, DEVICE_FIELDS)


attr_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)


@SETTINGS
@given(attr_text, attr_text, attr_text, attr_text)
def test_nmap_on_any_attribute_values(product, version, mac, vendor):
    def ok(t: str) -> str:  # XML 1.0 allows no other control characters
        return "".join(c for c in t if c in "\t\n\r" or (ord(c) >= 32 and c not in "\ufffe\uffff"))

    xml = ('<nmaprun><host><status state="up"/><address addr="10.0.0.1" addrtype="ipv4"/>'
           f'<address addr={quoteattr(ok(mac))} addrtype="mac" vendor={quoteattr(ok(vendor))}/>'
           '<ports><port protocol="tcp" portid="1"><state state="open"/>'
           f'<service name="x" product={quoteattr(ok(product))} version={quoteattr(ok(version))}>'
           f'<cpe>{ok(product).replace("<", "").replace("&", "")}</cpe></service></port></ports>'
           "</host></nmaprun>")
    (snap,) = read_nmap(_write(xml.encode("utf-8"), "scan.xml"))
    _bounded(snap.software, SOFTWARE_FIELDS)
    _bounded(snap.devices, DEVICE_FIELDS)


@SETTINGS
@given(mutations, st.one_of(st.none(), st.integers(0, len(HIVE))))
def test_registry_hive_on_damaged_hives(muts, cut):
    p = _write(_mutate(HIVE, muts, cut), "SOFTWARE")
    try:
        snap = read_hive(p)
    except SourceError as e:
        assert e.file == str(p)
        return
    assert len(snap.software) <= 2
    _bounded(snap.software, SOFTWARE_FIELDS)


@SETTINGS
@given(st.one_of(st.binary(max_size=1024),
                 st.dictionaries(st.sampled_from(["CFBundleName", "CFBundleIdentifier",
                                                  "CFBundleShortVersionString",
                                                  "NSHumanReadableCopyright", "x"]),
                                 st.one_of(st.text(max_size=200),
                                           st.integers(-2**63, 2**63 - 1), st.booleans(),
                                           st.binary(max_size=20)), max_size=5)
                 .map(lambda d: plistlib.dumps(d, fmt=plistlib.FMT_BINARY))))
def test_macos_plist_on_any_bytes(data):
    folder = _TMP / "Applications"
    contents = folder / "X.app" / "Contents"
    contents.mkdir(parents=True, exist_ok=True)
    (contents / "Info.plist").write_bytes(data)
    snap = read_apps(folder)
    assert len(snap.software) + len(snap.skipped) == 1
    _bounded(snap.software, SOFTWARE_FIELDS)


@SETTINGS
@given(mutations, st.one_of(st.none(), st.integers(0, len(NDB))))
def test_ndb_on_damaged_files(muts, cut):
    p = _write(_mutate(NDB, muts, cut), "Packages.db")
    try:
        rows, _skipped = read_rpmdb_ndb(p)
    except SourceError as e:
        assert e.file == str(p)
        return
    assert len(rows) <= 2
    _bounded(rows, SOFTWARE_FIELDS)


@SETTINGS
@given(mutations, st.one_of(st.none(), st.integers(0, len(BDB))))
def test_bdb_on_damaged_files(muts, cut):
    p = _write(_mutate(BDB, muts, cut), "Packages")
    try:
        rows, _skipped = read_rpmdb_bdb(p)
    except SourceError as e:
        assert e.file == str(p)
        return
    _bounded(rows, SOFTWARE_FIELDS)


@SETTINGS
@given(st.text(max_size=200))
def test_cpe_conversion_on_any_text(text):
    out = cpe22_to_23(text)
    assert out is None or out.startswith("cpe:2.3:")


row_values = st.one_of(st.none(), st.text(max_size=100))


@SETTINGS
@given(st.fixed_dictionaries(dict.fromkeys(
           ("name", "publisher", "signer", "bundle_id", "path", "package_type"), row_values)),
       st.fixed_dictionaries(dict.fromkeys(
           ("bus", "vendor_id", "product_id", "mac", "oui_org", "vendor_name"), row_values)))
def test_identify_never_fails_on_any_row(sw_row, dev_row):
    for a in identify_software(sw_row) + identify_device(dev_row):
        assert a.organisation and a.explanation


@SETTINGS
@given(st.text(max_size=60))
def test_identify_items_parse_or_fail_clearly(text):
    try:
        parsed = parse_item(text)
        if parsed is not None:
            explain_item(text)
    except IdentifyError as e:
        assert isinstance(e, KitvetError) and str(e)


@SETTINGS
@given(st.one_of(st.binary(max_size=512),
                 st.binary(max_size=256).map(lambda b: b"\xcf\xfa\xed\xfe" + b),
                 st.binary(max_size=256).map(lambda b: b"\xca\xfe\xba\xbe" + b)))
def test_macos_executable_signature_on_any_bytes(data):
    folder = _TMP / "Signed"
    macos = folder / "S.app" / "Contents" / "MacOS"
    macos.mkdir(parents=True, exist_ok=True)
    (macos.parent / "Info.plist").write_bytes(
        plistlib.dumps({"CFBundleName": "S", "CFBundleExecutable": "s"}))
    (macos / "s").write_bytes(data)
    (row,) = read_apps(folder).software
    assert row.get("signer") is None or isinstance(row["signer"], str)
