"""The Parquet lake: batch files, the current pointer, orphans."""

from __future__ import annotations

import os
import time

import duckdb
import pyarrow.parquet as pq

from kitvet.model import SOFTWARE_FIELDS
from kitvet.store.lake import Lake
from store.helpers import snap


def test_views_exist_and_are_empty_without_inventory(tmp_path):
    con = duckdb.connect()
    Lake(tmp_path / "lake").views(con)
    for kind in ("software", "devices", "hosts"):
        assert con.execute(f"SELECT count(*) FROM {kind}").fetchone() == (0,)
    cols = [r[0] for r in con.execute("DESCRIBE software").fetchall()]
    assert cols == ["snapshot_id", "batch_id", *SOFTWARE_FIELDS]


def test_batch_files_hold_all_fields_and_only_current_rows_are_read(tmp_path):
    lake = Lake(tmp_path / "lake")
    old = snap("h1", "P", "2026-01-01T00:00:00Z", [("old", "1", "X")])
    new = snap("h1", "P", "2026-02-01T00:00:00Z", [("new", "2", "X")])
    b1 = lake.write_batch([("s-old", old)])
    b2 = lake.write_batch([("s-new", new)])
    table = pq.read_table(tmp_path / "lake" / "software" / f"{b1}.parquet")
    assert table.column_names == ["snapshot_id", "batch_id", *SOFTWARE_FIELDS]
    assert table.to_pylist()[0]["host_id"] == "h1"
    lake.write_current([{"host_id": "h1", "snapshot_id": "s-new", "batch_id": b2}])
    con = duckdb.connect()
    lake.views(con)
    assert con.execute("SELECT name FROM software").fetchall() == [("new",)]
    assert con.execute("SELECT institution FROM hosts").fetchall() == [("P",)]


def test_orphan_with_same_snapshot_id_is_not_double_counted(tmp_path):
    lake = Lake(tmp_path / "lake")
    s = snap("h1", "P", "2026-01-01T00:00:00Z", [("app", "1", "X")])
    orphan = lake.write_batch([("s1", s)])  # an import killed before its commit
    kept = lake.write_batch([("s1", s)])  # the rerun
    lake.write_current([{"host_id": "h1", "snapshot_id": "s1", "batch_id": kept}])
    con = duckdb.connect()
    lake.views(con)
    assert con.execute("SELECT count(*) FROM software").fetchone() == (1,)
    assert lake.clean({kept}) == []  # too young: could be an import still running
    old = time.time() - 7200
    for kind in ("software", "devices", "hosts"):
        os.utime(tmp_path / "lake" / kind / f"{orphan}.parquet", (old, old))
    assert len(lake.clean({kept})) == 3
    assert lake.batch_ids() == {kept}


def test_sweep_removes_orphans_only_while_no_import_holds_the_lake(tmp_path):
    lake = Lake(tmp_path / "lake")
    s = snap("h1", "P", "2026-01-01T00:00:00Z", [("app", "1", "X")])
    kept = lake.write_batch([("s1", s)])
    orphan = lake.write_batch([("s2", s)])  # written by an import that has not committed yet
    asked = []

    def referenced() -> set[str]:
        asked.append(True)
        return {kept}

    with lake.importing():
        assert lake.sweep(referenced) is None  # an import is under way: nothing removed
        assert not asked and orphan in lake.batch_ids()
    removed = lake.sweep(referenced)
    assert removed and all(name.startswith(orphan) for name in removed)
    assert lake.batch_ids() == {kept}
    with lake.locked(), lake.importing():  # the two locks are apart
        pass
