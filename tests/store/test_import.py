"""Importing snapshots: idempotence, history, institutions, collisions, bad input."""

from __future__ import annotations

import json

import duckdb
import pytest

from kitvet.errors import StoreError
from kitvet.estate import open_estate
from store.helpers import ACME, EVIL, snap

T1, T2, T3 = "2026-11-01T08:00:00Z", "2026-11-02T08:00:00Z", "2026-11-03T08:00:00+01:00"


def current_software(est) -> list[tuple]:
    con = duckdb.connect()
    est.lake.views(con)
    return sorted(con.execute("SELECT host_id, name, version FROM software").fetchall())


def test_same_snapshot_twice_changes_nothing(estate):
    s = snap("h1", "Parliament", T1, [("Evil App", "1", EVIL)])
    first = estate.import_snapshots([s], actor="a")
    assert first.batch_id and len(first.added) == 1 and first.became_current == ("h1",)
    audit_before = len(estate.audit(limit=None))
    again = estate.import_snapshots([snap("h1", "Parliament", T1, [("Evil App", "1", EVIL)])],
                                    actor="a")
    assert again.batch_id is None and again.added == () and again.duplicates == first.added
    assert len(estate.audit(limit=None)) == audit_before
    assert estate.status().snapshots == 1
    assert len(estate.lake.batch_ids()) == 1


def test_newer_becomes_current_older_is_history(estate):
    estate.import_snapshots([snap("h1", "P", T2, [("New", "2", None)])], actor="a")
    older = estate.import_snapshots([snap("h1", "P", T1, [("Old", "1", None)])], actor="a")
    assert len(older.historical) == 1 and older.became_current == ()
    assert current_software(estate) == [("h1", "New", "2")]
    assert estate.status().snapshots == 2  # kept in history
    newer = estate.import_snapshots([snap("h1", "P", T3, [("Newest", "3", None)])], actor="a")
    assert newer.became_current == ("h1",)
    assert current_software(estate) == [("h1", "Newest", "3")]


def test_one_import_orders_its_own_snapshots_by_time(estate):
    estate.import_snapshots([snap("h1", "P", T2, [("B", "2", None)]),
                             snap("h1", "P", T1, [("A", "1", None)])], actor="a")
    assert current_software(estate) == [("h1", "B", "2")]


def test_unknown_institution_is_created_or_refused(estate):
    res = estate.import_snapshots([snap("h1", "Agency", T1)], actor="a")
    assert res.institutions_created == ("Agency",)
    assert estate.institutions() == ["Agency"]
    refused = estate.import_snapshots([snap("h2", "Elsewhere", T1), snap("h3", "Agency", T1)],
                                      actor="a", create_institutions=False)
    assert [r.location for r in refused.rejected] == ["host h2"]
    assert "unknown institution 'Elsewhere'" in refused.rejected[0].reason
    assert refused.became_current == ("h3",)
    assert estate.institutions() == ["Agency"]


def test_institution_option_fills_missing_and_missing_is_refused(estate):
    res = estate.import_snapshots([snap("h1", None, T1)], actor="a", institution="Parliament")
    assert res.became_current == ("h1",)
    res = estate.import_snapshots([snap("h2", None, T1)], actor="a")
    assert res.batch_id is None and "no institution" in res.rejected[0].reason


def test_host_id_collision_is_refused_and_others_land(estate):
    estate.import_snapshots([snap("pc-1", "Parliament", T1, machine_id="m-1")], actor="a")
    res = estate.import_snapshots([
        snap("pc-1", "Agency", T2),  # same host id, other institution
        snap("pc-1", "Parliament", T2, machine_id="m-2"),  # same host id, other machine
        snap("pc-2", "Agency", T2, [("Tool", "1", ACME)]),
    ], actor="a")
    reasons = sorted(r.reason for r in res.rejected)
    assert len(reasons) == 2 and all("host id collision" in r for r in reasons)
    assert res.became_current == ("pc-2",)
    assert current_software(estate) == [("pc-2", "Tool", "1")]


def test_bad_collected_at_refused_missing_is_stamped(estate):
    res = estate.import_snapshots([snap("h1", "P", "last tuesday"), snap("h2", "P", None)],
                                  actor="a")
    assert "not an ISO 8601 time" in res.rejected[0].reason
    assert res.became_current == ("h2",)


def test_import_paths_reads_kitvet_json(estate, tmp_path):
    doc = {"kitvet_inventory": "1.0.0", "snapshots": [
        {"host": {"host_id": "ws-9", "hostname": "ws-9", "platform": "linux",
                  "collected_at": T1},
         "software": [{"name": "evil", "version": "1", "publisher": EVIL},
                      {"name": 42.5, "version": {"bad": 1}}]}]}
    p = tmp_path / "inv.json"
    p.write_text(json.dumps(doc))
    res = estate.import_paths([p], actor="a", institution="Lab")
    assert res.became_current == ("ws-9",)
    assert current_software(estate) == [("ws-9", "evil", "1")]


def test_reopen_and_status(estate):
    estate.import_snapshots([snap("h1", "P", T1)], actor="a")
    again = open_estate(estate.root)
    st = again.status()
    assert st.hosts == 1 and st.snapshots == 1 and st.review_is_stale
    assert st.audit_entries == 2  # init + import
    again.close()


def test_not_an_estate_and_bad_db_url(tmp_path):
    from kitvet.estate import init_estate

    with pytest.raises(StoreError, match="no estate here"):
        open_estate(tmp_path / "nothing")
    with pytest.raises(StoreError, match="unsupported database URL"):
        init_estate(tmp_path / "x", db_url="mysql://u@h/db", actor="a")


def test_hostile_sizes_are_bounded_not_fatal(estate):
    long_id = "h" * 5000
    res = estate.import_snapshots([
        snap(long_id, "P", T1),
        snap("ok-1", "P", T1, hostname="n" * 4000, machine_id="m" * 4000),
    ], actor="a")
    assert [r.reason for r in res.rejected] == [
        "host id or institution longer than 300 characters"]
    assert res.became_current == ("ok-1",)
    con = duckdb.connect()
    estate.lake.views(con)
    assert con.execute("SELECT length(hostname) FROM hosts").fetchone() == (300,)


def test_review_of_an_empty_estate(estate):
    from store.helpers import review

    res = review(estate)
    assert (res.findings, res.new) == (0, 0)
    assert estate.status().last_review is not None
