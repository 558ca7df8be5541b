"""The audit chain detects an edited, deleted, reordered or truncated log (raw SQL tampering)."""

from __future__ import annotations

import io
import itertools
import json

import pytest
from sqlalchemy import text
from store.helpers import ACME, review, snap

from kitvet.errors import StoreError


@pytest.fixture
def logged(estate):
    estate.import_snapshots([snap("h1", "P", "2026-11-01T00:00:00Z",
                                  [("Acme Tool", "1", ACME)])], actor="a")
    review(estate)
    estate.decide("acme", "banned", actor="board", rationale="decision 14")
    estate.start_campaign("acme", actor="ciso")
    estate.add_exception(subject_id="acme", scope="host:h1", reason="lab", approver="CISO",
                         expires="2099-12-31", actor="ciso")
    assert estate.verify_audit().ok
    return estate


def raw(estate, sql: str, **params) -> None:
    with estate.engine.begin() as conn:
        conn.execute(text(sql), params)


def test_intact_chain(logged):
    check = logged.verify_audit()
    entries = logged.audit(limit=None)
    assert check.ok and check.entries == len(entries) >= 6
    assert check.head_hash == entries[-1].hash
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    assert logged.verify_audit(expect_head=check.head_hash).ok


def test_edited_entry_is_named(logged):
    raw(logged, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 4")
    check = logged.verify_audit()
    assert not check.ok and check.first_bad_seq == 4 and "edited" in check.problem


def test_edited_details_is_named(logged):
    raw(logged, "UPDATE audit_log SET details = :d WHERE seq = 3",
        d=json.dumps({"decision": "cleared"}))
    assert logged.verify_audit().first_bad_seq == 3


def test_deleted_entry_is_named(logged):
    raw(logged, "DELETE FROM audit_log WHERE seq = 3")
    check = logged.verify_audit()
    assert not check.ok and check.first_bad_seq == 3 and "missing" in check.problem


def test_deleted_and_renumbered_entry_is_named(logged):
    n = logged.verify_audit().entries
    raw(logged, "DELETE FROM audit_log WHERE seq = 3")
    for seq in range(4, n + 1):
        raw(logged, "UPDATE audit_log SET seq = :new WHERE seq = :old", new=seq - 1, old=seq)
    check = logged.verify_audit()
    assert not check.ok and check.first_bad_seq == 3


def test_reordered_entries_are_named(logged):
    raw(logged, "UPDATE audit_log SET seq = -1 WHERE seq = 3")
    raw(logged, "UPDATE audit_log SET seq = 3 WHERE seq = 4")
    raw(logged, "UPDATE audit_log SET seq = 4 WHERE seq = -1")
    check = logged.verify_audit()
    assert not check.ok and check.first_bad_seq == 3


def test_truncated_tail_is_detected(logged):
    n = logged.verify_audit().entries
    raw(logged, "DELETE FROM audit_log WHERE seq = :n", n=n)
    check = logged.verify_audit()
    assert not check.ok and check.first_bad_seq == n and "removed from the end" in check.problem


def test_consistent_rewrite_caught_by_expected_head(logged):
    head = logged.verify_audit().head_hash
    logged.decide("acme", "cleared", actor="b", rationale="appeal")
    check = logged.verify_audit(expect_head=head)
    assert not check.ok and "not the expected" in check.problem


def test_every_change_writes_an_entry_and_export_is_json_lines(logged):
    fid = logged.findings().items[0].finding_id
    logged.set_state(fid, "in_review", actor="bob", reason="check")
    actions = [e.action for e in logged.audit(limit=None)]
    for action in ("estate.init", "estate.import", "estate.review", "decision",
                   "campaign.start", "exception.add", "exception.apply", "finding.state"):
        assert action in actions
    out = io.StringIO()
    assert logged.export_audit(out) == len(actions)
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [x["seq"] for x in lines] == list(range(1, len(actions) + 1))
    assert lines[-1]["details"]["to"] == "in_review" and lines[-1]["actor"] == "bob"


def test_failed_change_writes_no_entry(logged):
    before = logged.verify_audit().entries
    with pytest.raises(StoreError):
        logged.set_state(logged.findings().items[0].finding_id, "removed", actor="b", reason="x")
    assert logged.verify_audit().entries == before


def test_missing_head_is_detected(logged):
    raw(logged, "DELETE FROM audit_head")
    check = logged.verify_audit()
    assert not check.ok and "head record is missing" in check.problem


def test_rewritten_last_entry_is_named(logged):
    from kitvet.store.audit import entry_hash

    n = logged.verify_audit().entries
    last = logged.audit(limit=None)[-1]
    forged = entry_hash(n, last.at, "mallory", last.action, last.object, "{}", last.prev_hash)
    raw(logged, "UPDATE audit_log SET actor = 'mallory', details = '{}', hash = :h WHERE seq = :n",
        h=forged, n=n)
    check = logged.verify_audit()
    assert not check.ok and check.first_bad_seq == n


# -- issue 20, item 7: a wiped or consistently rewritten log; an edited entry named itself ----

def test_wiped_log_fails_verify(logged):
    raw(logged, "DELETE FROM audit_log")
    raw(logged, "DELETE FROM audit_head")
    check = logged.verify_audit()
    assert not check.ok and check.entries == 0
    assert "wiped" in check.problem and "import batch" in check.problem


def test_wiped_log_and_cleared_batch_anchors_still_fail(logged):
    raw(logged, "DELETE FROM audit_log")
    raw(logged, "DELETE FROM audit_head")
    raw(logged, "UPDATE batches SET audit_seq = NULL, audit_hash = NULL")
    check = logged.verify_audit()
    assert not check.ok and "lake's batch file" in check.problem
    check = logged.verify_audit(lake=False)  # the batch rows alone: no import entry left
    assert not check.ok and "has no audit entry" in check.problem


def test_a_consistent_new_chain_is_caught_by_the_lake_anchors(logged):
    """A forger rebuilds a whole, consistent log (one import entry per batch) and clears the
    batch rows' anchors: the lake's batch files still hold the old chain's head."""
    from sqlalchemy import select

    from kitvet.store import audit, tables
    from kitvet.store.db import write

    with logged.engine.connect() as conn:
        batches = conn.execute(select(tables.batches.c.batch_id)).scalars().all()
    raw(logged, "DELETE FROM audit_log")
    raw(logged, "DELETE FROM audit_head")
    raw(logged, "UPDATE batches SET audit_seq = NULL, audit_hash = NULL")
    with write(logged.engine) as conn:
        audit.append(conn, actor="mallory", action="estate.init", obj="estate")
        for b in batches:
            audit.append(conn, actor="mallory", action="estate.import", obj=f"batch:{b}")
    assert logged.verify_audit(lake=False).ok  # consistent in itself
    check = logged.verify_audit()
    assert not check.ok and "lake's batch file" in check.problem and "rewritten" in check.problem


def test_batch_row_anchor_names_a_rewritten_entry(logged):
    """Rewrite the log from the import entry on, consistently (hashes recomputed): the import
    batch's anchor names the entry."""
    from kitvet.store.audit import entry_hash

    seq = next(e.seq for e in logged.audit(limit=None) if e.action == "estate.import")
    entries = logged.audit(limit=None)
    prev = entries[seq - 2].hash if seq > 1 else "0" * 64
    for e in entries[seq - 1:]:
        actor = "mallory" if e.seq == seq else e.actor
        details = audit_canonical(e.details)
        h = entry_hash(e.seq, e.at, actor, e.action, e.object, details, prev)
        raw(logged, "UPDATE audit_log SET actor = :a, prev_hash = :p, hash = :h WHERE seq = :s",
            a=actor, p=prev, h=h, s=e.seq)
        prev = h
    raw(logged, "UPDATE audit_head SET hash = :h", h=prev)
    check = logged.verify_audit(lake=False)
    assert not check.ok and check.first_bad_seq == seq and "import batch" in check.problem


def test_edited_entry_with_recomputed_hash_is_named_itself(logged):
    from kitvet.store.audit import entry_hash

    e = logged.audit(limit=None)[2]  # entry 3
    forged = entry_hash(e.seq, e.at, "mallory", e.action, e.object,
                        audit_canonical(e.details), e.prev_hash)
    raw(logged, "UPDATE audit_log SET actor = 'mallory', hash = :h WHERE seq = 3", h=forged)
    check = logged.verify_audit()
    assert not check.ok and check.first_bad_seq == 3
    assert "entry 3 was edited and its hash recomputed" in check.problem


def test_cli_audit_verify_fails_on_a_wiped_log(logged):
    from click.testing import CliRunner

    from kitvet.cli import main

    raw(logged, "DELETE FROM audit_log")
    raw(logged, "DELETE FROM audit_head")
    r = CliRunner().invoke(main, ["audit", "verify"], env={"KITVET_ESTATE": str(logged.root)})
    assert r.exit_code == 1, r.output
    assert "NOT intact" in r.output and "wiped" in r.output


def audit_canonical(details):
    from kitvet.store.audit import canonical

    return canonical(details)


def test_a_batch_of_several_uploads_is_anchored(estate):
    """The ingest queue stores several uploads as one batch with one audit entry each: the
    batch row records the last of them, the lake file the head before, and a wipe fails."""
    from sqlalchemy import select

    from kitvet.store import tables
    from kitvet.store.ingest import Group, import_groups

    groups = [Group([snap(h, "P", "2026-11-01T00:00:00Z", [("Acme Tool", "1", ACME)])],
                    actor=f"token:{h}") for h in ("h1", "h2", "h3")]
    results = import_groups(estate.engine, estate.lake, groups)
    assert len({r.batch_id for r in results}) == 1
    entries = [e for e in estate.audit(limit=None) if e.action == "estate.import"]
    assert [e.actor for e in entries] == ["token:h1", "token:h2", "token:h3"]
    with estate.engine.connect() as conn:
        row = conn.execute(select(tables.batches.c.audit_seq, tables.batches.c.audit_hash)).one()
    assert (row.audit_seq, row.audit_hash) == (entries[-1].seq, entries[-1].hash)
    [(batch, seq, _digest)] = list(estate.lake.anchors())
    assert batch == results[0].batch_id and seq == entries[0].seq - 1
    assert estate.verify_audit().ok
    raw(estate, "DELETE FROM audit_log")
    raw(estate, "DELETE FROM audit_head")
    check = estate.verify_audit()
    assert not check.ok and "wiped" in check.problem
