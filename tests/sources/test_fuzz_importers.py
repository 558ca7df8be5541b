"""Every registered importer against malformed, truncated, huge and binary input (issue 19,
part 4): the answer is rows, skipped rows or one InventoryError naming the file — never
another exception, never a field beyond the bound.

The registry is enumerated, so a new importer without a sample here fails
``test_every_importer_is_fuzzed``. Binary formats (registry hives, rpm databases, app bundle
plists) are also mutated structurally in ``test_fuzz_b.py``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kitvet.errors import InventoryError
from kitvet.model.document import MAX_FIELD_CHARS
from kitvet.sources.csv_mapping import CsvImporter, parse_map
from kitvet.sources.interface import Importer
from kitvet.sources.registry import IMPORTERS, importer

HERE = Path(__file__).parent
FIX = HERE / "fixtures"
#: Real samples per importer (truncated and mutated below).
SAMPLES: dict[str, list[Path]] = {
    "kitvet": [HERE.parent / "server" / "fixtures" / "alpha.kitvet.json"],
    "nmap": [FIX / "nmap" / "scan.xml"],
    "dpkg-status": [FIX / "dpkg" / "admin" / "status"],
    "apk-installed": [FIX / "apk" / "installed"],
    "cyclonedx": [FIX / "cyclonedx" / "router-hbom-1.6.json",
                  FIX / "cyclonedx" / "server-obom-1.2.xml"],
    "spdx": [FIX / "spdx" / "server-17.spdx.json", FIX / "spdx" / "laptop-3.spdx"],
    "osquery": [FIX / "osquery" / "results.log", FIX / "osquery" / "pc-042.json"],
    "csv": [FIX / "csv" / "glpi-software.csv"],
}
#: Importers whose input is binary: damaged real files in test_fuzz_b.py; bytes and huge
#: inputs here.
BINARY = {"registry", "rpmdb", "macos-apps"}
GLPI_MAP = "name=Software,version=Version,publisher=Publisher,host=Computer Name,institution=Entity"
FUZZ = settings(max_examples=40, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
MIB = 1024 * 1024
HUGE = {
    "deep-json-array": b"[" * 200_000,
    "deep-json-object": b'{"a":' * 100_000,
    "deep-xml": b"<a>" * 100_000,
    "huge-json-value": b'{"bomFormat": "CycloneDX", "x": "' + b"A" * (8 * MIB) + b'"}',
    "huge-record": b"Package: " + b"p" * (4 * MIB) + b"\nVersion: 1\n\n",
    "nul-bytes": b"\x00" * (2 * MIB),
    "many-short-lines": b"P:x\nV:1\n\n" * 200_000,
}


def _importer(name: str) -> Importer:
    return CsvImporter(parse_map(GLPI_MAP)) if name == "csv" else importer(name)


def _check(name: str, data: bytes, suffix: str = ".in") -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"input{suffix}"
        path.write_bytes(data)
        try:
            snaps = _importer(name).read(path)
        except InventoryError as e:
            assert e.message
            return
        for s in snaps:
            assert s.host.host_id
            for row in s.software + s.devices:
                for v in row.values():
                    assert v is None or (isinstance(v, str) and len(v) <= MAX_FIELD_CHARS), \
                        (name, str(v)[:80])
            assert all(k.reason for k in s.skipped)


def test_every_importer_is_fuzzed():
    assert set(IMPORTERS) == set(SAMPLES) | BINARY
    for paths in SAMPLES.values():
        assert all(p.is_file() for p in paths)


@pytest.mark.parametrize("name", sorted(IMPORTERS))
@FUZZ
@given(data=st.binary(max_size=4096))
def test_any_bytes(name, data):
    _check(name, data)


@pytest.mark.parametrize("name", sorted(SAMPLES))
@FUZZ
@given(data=st.data())
def test_truncated_and_damaged_samples(name, data):
    path = data.draw(st.sampled_from(SAMPLES[name]))
    raw = bytearray(path.read_bytes())
    cut = data.draw(st.integers(0, len(raw)))
    raw = raw[:cut]
    for _ in range(data.draw(st.integers(0, 4))):
        if raw:
            i = data.draw(st.integers(0, len(raw) - 1))
            raw[i] = data.draw(st.integers(0, 255))
    _check(name, bytes(raw), path.suffix or ".in")


@pytest.mark.parametrize("case", sorted(HUGE))
@pytest.mark.parametrize("name", sorted(IMPORTERS))
def test_huge_and_deeply_nested_inputs(name, case):
    _check(name, HUGE[case], ".xml" if "xml" in case else ".json")


@pytest.mark.parametrize("name,path", [("cyclonedx", SAMPLES["cyclonedx"][1]),
                                       ("nmap", SAMPLES["nmap"][0])])
def test_an_unknown_xml_encoding_is_a_refusal(name, path):
    """Found by the damaged-samples test: one byte of ``UTF-8`` changed (``U-F-8``) made
    expat raise LookupError through both XML importers."""
    damaged = path.read_bytes().replace(b'encoding="UTF-8"', b'encoding="U-F-8"', 1)
    assert b"U-F-8" in damaged
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "input.xml"
        p.write_bytes(damaged)
        with pytest.raises(InventoryError, match="unknown encoding"):
            _importer(name).read(p)
