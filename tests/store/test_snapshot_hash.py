"""The snapshot id (content hash) stays the same whatever way it is computed."""

from __future__ import annotations

import hashlib
import json

from hypothesis import example, given, settings
from hypothesis import strategies as st

from kitvet.model import DEVICE_FIELDS, SOFTWARE_FIELDS, Host, RowsFile, Snapshot
from kitvet.store.ingest import snapshot_id


def _reference_id(snap: Snapshot) -> str:
    """The definition: sha256 of json.dumps of [host, sorted software, sorted devices]."""
    def text(v):
        return "" if v is None else v if isinstance(v, str) else str(v)
    sw = sorted([text(r.get(f)) for f in SOFTWARE_FIELDS if f != "host_id"]
                for r in snap.software)
    dev = sorted([text(r.get(f)) for f in DEVICE_FIELDS if f != "host_id"] for r in snap.devices)
    host = sorted((k, str(v)) for k, v in snap.host.to_row().items() if v not in (None, ""))
    body = json.dumps([host, sw, dev], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


_values = st.none() | st.integers(-10**6, 10**6) | st.text(
    alphabet=st.characters(exclude_categories=("Cs",)), max_size=8)


@settings(max_examples=300, deadline=None)
@given(software=st.lists(st.dictionaries(st.sampled_from(["name", "version", "publisher",
                                                          "purl", "location"]), _values),
                         max_size=6),
       devices=st.lists(st.dictionaries(st.sampled_from(["bus", "vendor_id", "mac"]), _values),
                        max_size=4),
       hostname=st.text(max_size=6))
def test_snapshot_id_is_the_hash_of_its_canonical_json(software, devices, hostname) -> None:
    snap = Snapshot(host=Host(host_id="h1", hostname=hostname or None), software=software,
                    devices=devices)
    assert snapshot_id(snap) == _reference_id(snap)


def test_snapshot_id_known_value() -> None:
    snap = Snapshot(host=Host(host_id="h1", platform="linux"),
                    software=[{"name": "bash", "version": "5.2"}, {"name": "a\n\"é"}],
                    devices=[{"bus": "usb", "vendor_id": "8086"}])
    assert snapshot_id(snap) == _reference_id(snap)
    swapped = Snapshot(host=snap.host, software=snap.software[::-1], devices=snap.devices)
    assert snapshot_id(swapped) == snapshot_id(snap)  # row order does not matter


#: Text whose order differs between bytes, case-folding and locale collations.
_ORDERED = ["a", "A", "a b", "a!", "a ", "ab", "Z", "\u00e9t\u00e9", "e", "E\u0301",
            "\u65e5\u672c", "\U0001f600x", "\ufb01", "a\"q", "a\\b", "", "#1", "~", "\x01",
            "a\x00b", "\x7f"]
_text = st.none() | st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=6)


@settings(max_examples=60, deadline=None)
@given(software=st.lists(st.dictionaries(st.sampled_from(["name", "version", "publisher",
                                                          "purl"]), _text),
                         max_size=12),
       in_memory=st.integers(0, 3))
@example(software=[{"name": n, "version": v} for n in _ORDERED for v in ("1", "10", "1.0")],
         in_memory=2)
def test_rows_spilled_to_a_file_hash_as_the_same_rows_in_memory(software, in_memory,
                                                                 tmp_path_factory) -> None:
    """A BOM of a million components keeps its rows in a Parquet file (RowsFile), sorted by
    DuckDB on disk: the id is the one of the same rows as dicts (text sorted as Python sorts
    it, case, accents, astral characters and control characters included)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    fields = [f for f in SOFTWARE_FIELDS if f != "host_id"]
    spilled, kept = software[in_memory:], software[:in_memory]
    path = tmp_path_factory.mktemp("rows") / "rows.parquet"
    pq.write_table(pa.table({f: pa.array([r.get(f) for r in spilled], pa.string())
                             for f in fields}), path)
    host = Host(host_id="h1", platform="linux")
    snap = Snapshot(host=host, software=list(kept),
                    software_table=RowsFile(path, len(spilled)))
    assert snap.software_count == len(software)
    assert snapshot_id(snap) == _reference_id(Snapshot(host=host, software=software))
