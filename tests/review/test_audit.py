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
