"""The snapshot id (content hash) stays the same whatever way it is computed."""

from __future__ import annotations

import hashlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from kitvet.model import DEVICE_FIELDS, SOFTWARE_FIELDS, Host, Snapshot
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
