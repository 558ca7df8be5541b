"""The streaming CycloneDX reader gives the snapshot the whole-document reader gives: the same
host, rows, devices, skips and snapshot id, whether a component takes the direct path or the
library's, and whether its rows stay in memory or are spilled to a Parquet file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kitvet.model import RowsFile
from kitvet.sources import cyclonedx_stream
from kitvet.sources.cyclonedx import CycloneDxImporter
from kitvet.store.ingest import snapshot_id

FIX = Path(__file__).parent / "fixtures" / "cyclonedx"
JSON_BOMS = sorted(FIX.glob("*.json"))


def _rows(snap) -> list[tuple]:
    rows = list(snap.software)
    if snap.software_table is not None:
        rows += snap.software_table.to_pylist()
    return sorted(tuple(sorted((k, v) for k, v in r.items() if v not in (None, "")))
                  for r in rows)


def _same(path: Path, spill: Path | None = None) -> None:
    whole = CycloneDxImporter().read(path, institution="P")[0]
    streamed = cyclonedx_stream.read_json_stream(path, institution="P", spill=spill)[0]
    if spill is not None:
        assert isinstance(streamed.software_table, RowsFile) and spill.exists()
    assert streamed.host == whole.host
    assert _rows(streamed) == _rows(whole)
    assert sorted(map(str, streamed.devices)) == sorted(map(str, whole.devices))
    assert sorted(map(str, streamed.files)) == sorted(map(str, whole.files))
    assert [(k.location, k.reason) for k in streamed.skipped] == \
        [(k.location, k.reason) for k in whole.skipped]
    assert streamed.software_count == len(whole.software)
    assert snapshot_id(streamed) == snapshot_id(whole)


@pytest.mark.parametrize("spill", [False, True], ids=["in-memory", "spilled"])
@pytest.mark.parametrize("path", JSON_BOMS, ids=lambda p: p.name)
def test_the_fixtures_read_the_same_streamed(path, spill, monkeypatch, tmp_path):
    monkeypatch.setattr(cyclonedx_stream, "_ROWS", 2)  # several Arrow slices
    _same(path, tmp_path / "rows.parquet" if spill else None)


def test_spilled_rows_sort_as_python_sorts_them(tmp_path, monkeypatch):
    """The id of spilled rows hashes them in the order Python sorts text (code points), which
    DuckDB must reproduce on disk: case, accents, scripts beyond the BMP, prefixes, spaces and
    punctuation that sort before or after the JSON quote."""
    monkeypatch.setattr(cyclonedx_stream, "_ROWS", 3)
    names = ["a", "a b", "a!", "a ", "ab", "A", "Z", "\u00e9t\u00e9", "e", "\u65e5\u672c",
             "\U0001f600x", "\ufb01", "a\"q", "a\\b", "", "z" * 50, "#1", "~"]
    comps = [{"type": "library", "name": n or "empty", "version": v}
             for n in names for v in ("1", "1.0", "", "10")]
    comps += [{"type": "library", "name": "same", "version": "1"}] * 3
    bom = {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": comps}
    path = tmp_path / "bom.json"
    path.write_text(json.dumps(bom))
    _same(path, tmp_path / "rows.parquet")


def test_plain_and_odd_components_read_the_same(tmp_path):
    comps = [
        {"type": "library", "name": f"lib-{i}", "version": f"1.{i}",
         "purl": f"pkg:npm/%40scope/lib-{i}@1.{i}", "group": "@scope",
         "hashes": [{"alg": "SHA-256", "content": "AB" * 32}],
         "licenses": [{"license": {"id": "MIT"}}], "bom-ref": f"r{i}"} for i in range(5)]
    comps += [
        {"type": "application", "name": "tool", "supplier": {"name": "Supplier Co"}},
        {"type": "library", "name": "bad-purl", "purl": "not a purl"},
        {"type": "library", "name": 5},
        {"type": "data", "name": "training-set"},
        {"type": "device", "name": "Camera", "publisher": "Hik Vendor",
         "description": "a camera"},
        {"type": "library", "name": "weird-hash", "hashes": [{"alg": "SHA-256",
                                                              "content": "xyz"}]},
        {"type": "framework", "name": "outer", "components": [
            {"type": "library", "name": "inner", "version": "2", "author": "Someone"}]},
        "not an object",
    ]
    bom = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
           "metadata": {"timestamp": "2026-11-30T10:00:00Z",
                        "component": {"type": "device", "name": "router-7",
                                      "manufacturer": {"name": "Acme Networks Co"}}},
           "components": [*comps, {"type": "operating-system", "name": "Debian GNU/Linux",
                                   "version": "12"}]}
    path = tmp_path / "bom.json"
    path.write_text(json.dumps(bom))
    _same(path)


def test_reading_stops_past_the_item_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(cyclonedx_stream, "_ROWS", 10)
    bom = {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
           "components": [{"type": "library", "name": f"c{i}"} for i in range(100)]}
    path = tmp_path / "big.json"
    path.write_text(json.dumps(bom))
    with pytest.raises(cyclonedx_stream.TooManyItems):
        cyclonedx_stream.read_json_stream(path, max_items=25)
    with pytest.raises(cyclonedx_stream.TooManyItems):
        cyclonedx_stream.read_json_stream(path, max_items=25, spill=tmp_path / "rows.parquet")
    assert not (tmp_path / "rows.parquet").exists()


def test_hashes_become_the_same_file_rows_streamed(tmp_path):
    """Hash indicators match file rows: a file component's MD5, SHA-1 and SHA-256, another
    component's MD5 and SHA-1, on the direct path and the library's."""
    md5, sha1, sha256 = "44D88612FEA8A8F36DE82E1278ABB02F", "3395856ce81f2b7382dee72602f798b642f14140", "ab" * 32
    comps = [
        {"type": "file", "name": "C:\\Users\\kv\\eicar.com", "hashes": [
            {"alg": "MD5", "content": md5}, {"alg": "SHA-1", "content": sha1}]},
        {"type": "file", "name": "/opt/kv/bin/dropper", "hashes": [
            {"alg": "SHA-256", "content": sha256}, {"alg": "SHA-512", "content": "c" * 128}]},
        {"type": "file", "name": "/opt/kv/no-hash"},
        {"type": "library", "name": "kv-lib", "version": "1.0", "group": "@kv",
         "purl": "pkg:npm/%40kv/kv-lib@1.0", "hashes": [
             {"alg": "SHA-256", "content": sha256}, {"alg": "MD5", "content": "9" * 32}]},
        {"type": "library", "name": "odd", "supplier": {"name": "S"},  # the library's path
         "hashes": [{"alg": "SHA-1", "content": "8" * 40}]},
    ]
    path = tmp_path / "bom.json"
    path.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
                                "components": comps}))
    _same(path)
    streamed = cyclonedx_stream.read_json_stream(path)[0]
    got = sorted((f["path"], f["name"], f.get("md5"), f.get("sha1"), f.get("sha256"))
                 for f in streamed.files)
    assert got == [
        ("/opt/kv/bin/dropper", "dropper", None, None, sha256),
        ("@kv/kv-lib", "kv-lib", "9" * 32, None, None),
        ("C:\\Users\\kv\\eicar.com", "eicar.com", md5.lower(), sha1, None),
        ("odd", "odd", None, "8" * 40, None)]
    assert [r["name"] for r in streamed.software_table.to_pylist()] == ["@kv/kv-lib", "odd"]


def test_file_rows_count_towards_the_item_limit(tmp_path):
    bom = {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
           "components": [{"type": "file", "name": f"/f{i}", "hashes": [
               {"alg": "MD5", "content": f"{i:032x}"}]} for i in range(100)]}
    path = tmp_path / "files.json"
    path.write_text(json.dumps(bom))
    assert len(cyclonedx_stream.read_json_stream(path, max_items=100)[0].files) == 100
    with pytest.raises(cyclonedx_stream.TooManyItems):
        cyclonedx_stream.read_json_stream(path, max_items=25)
