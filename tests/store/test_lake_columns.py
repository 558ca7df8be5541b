"""Lake batches: rows convert to string columns, whatever shape a lenient source gave them."""

from __future__ import annotations

import pyarrow.parquet as pq

from kitvet.model import Host, Snapshot
from kitvet.store.lake import Lake


def test_write_batch_keeps_values_and_missing_fields_as_null(tmp_path):
    a = Snapshot(host=Host(host_id="a", platform="linux"))
    a.add_software(name="xz-utils", version="5.6.1-1", package_type="deb")
    a.add_software(name="bash")
    b = Snapshot(host=Host(host_id="b"))
    b.add_software(name="tool", version=5)  # a number from a lenient source
    b.add_device(bus="usb", vendor_id="12d1")
    lake = Lake(tmp_path / "lake")
    batch = lake.write_batch([("s-a", a), ("s-b", b)])
    sw = pq.read_table(tmp_path / "lake" / "software" / f"{batch}.parquet").to_pylist()
    assert [(r["snapshot_id"], r["host_id"], r["name"], r["version"]) for r in sw] == [
        ("s-a", "a", "xz-utils", "5.6.1-1"), ("s-a", "a", "bash", None), ("s-b", "b", "tool", "5")]
    assert all(r["batch_id"] == batch for r in sw)
    dev = pq.read_table(tmp_path / "lake" / "devices" / f"{batch}.parquet").to_pylist()
    assert [(r["host_id"], r["bus"], r["vendor_id"], r["mac"]) for r in dev] == [("b", "usb", "12d1", None)]
    hosts = pq.read_table(tmp_path / "lake" / "hosts" / f"{batch}.parquet").to_pylist()
    assert [(r["snapshot_id"], r["host_id"], r["platform"]) for r in hosts] == [
        ("s-a", "a", "linux"), ("s-b", "b", "unknown")]
