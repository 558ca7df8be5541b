"""Reviewer state changes and decisions on subjects."""

from __future__ import annotations

import pytest
from store.helpers import ACME, EVIL, review, snap

from kitvet.errors import StoreError

D1, D2 = "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"


@pytest.fixture
def reviewed(estate):
    estate.import_snapshots([snap("h1", "P", D1, [("Evil App", "1", EVIL)]),
                             snap("h2", "A", D1, [("Acme Tool", "1", ACME)]),
                             snap("h3", "A", D1, [("Acme Tool", "1", ACME)])], actor="a")
    review(estate)
    return estate


def test_transitions_record_actor_reason_and_audit(reviewed):
    fid = reviewed.findings(subject="evil-build").items[0].finding_id
    rec = reviewed.set_state(fid, "in_review", actor="bob", reason="asked the owner")
    assert rec.state == "in_review"
    reviewed.set_state(fid, "confirmed", actor="carol", reason="it is there")
    events = [(e.kind, e.from_state, e.to_state, e.actor, e.reason)
              for e in reviewed.finding(fid).events if e.kind == "state"]
    assert events == [("state", "open", "in_review", "bob", "asked the owner"),
                      ("state", "in_review", "confirmed", "carol", "it is there")]
    entries = reviewed.audit(action="finding.state")
    assert [(e.actor, e.details["to"]) for e in entries] == [("bob", "in_review"),
                                                             ("carol", "confirmed")]


@pytest.mark.parametrize("state,reason,message", [
    ("removed", "gone", "only when a fresh snapshot"),
    ("accepted", "fine", "needs an active exception"),
    ("in_review", "  ", "reason is required"),
    ("open", "x", "already open"),
    ("done", "x", "unknown state"),
])
def test_refused_transitions(reviewed, state, reason, message):
    fid = reviewed.findings(subject="evil-build").items[0].finding_id
    with pytest.raises(StoreError, match=message):
        reviewed.set_state(fid, state, actor="bob", reason=reason)
    assert reviewed.finding(fid).finding.state == "open"


def test_false_positive_cannot_jump_to_confirmed(reviewed):
    fid = reviewed.findings(subject="evil-build").items[0].finding_id
    reviewed.set_state(fid, "false_positive", actor="b", reason="a different product")
    with pytest.raises(StoreError, match="cannot go from false_positive to confirmed"):
        reviewed.set_state(fid, "confirmed", actor="b", reason="x")


def test_removed_finding_cannot_be_changed_by_hand(reviewed):
    fid = reviewed.findings(subject="evil-build").items[0].finding_id
    reviewed.import_snapshots([snap("h1", "P", D2, [])], actor="a")
    review(reviewed)
    with pytest.raises(StoreError, match="cannot be changed by hand"):
        reviewed.set_state(fid, "open", actor="b", reason="x")


def test_decision_overrides_policy_status_now_and_at_later_reviews(reviewed):
    assert {f.status for f in reviewed.findings(subject="acme").items} == {"review"}
    d = reviewed.decide("acme", "banned", actor="board", rationale="Bureau decision 14",
                        evidence=["https://example.org/d14"])
    assert d.findings_affected == 2 and d.status == "ban"
    items = reviewed.findings(subject="acme").items
    assert {(f.status, f.policy_status, f.decision) for f in items} == {("ban", "review",
                                                                         "banned")}
    ev = reviewed.finding(items[0].finding_id).events[-1]
    assert ev.kind == "decision" and "review → ban" in ev.reason and ev.actor == "board"
    review(reviewed)  # the policy still says review; the decision still wins
    assert {f.status for f in reviewed.findings(subject="acme").items} == {"ban"}
    # a newer decision supersedes: cleared → allow
    reviewed.decide("acme", "cleared", actor="board", rationale="vendor cleared on appeal")
    assert {f.status for f in reviewed.findings(subject="acme").items} == {"allow"}
    assert [x.decision for x in reviewed.decisions(subject="acme", include_superseded=True)] \
        == ["cleared", "banned"]
    assert reviewed.audit(action="decision")[0].details["evidence"] == ["https://example.org/d14"]


def test_decision_on_subject_not_yet_seen_applies_when_found(estate):
    estate.decide("acme", "confirmed-malicious", actor="b", rationale="lab analysis")
    estate.import_snapshots([snap("h9", "A", D1, [("Acme Tool", "1", ACME)])], actor="a")
    review(estate)
    f = estate.findings().items[0]
    assert (f.status, f.policy_status, f.decision) == ("ban", "review", "confirmed-malicious")


def test_bad_decision_refused(reviewed):
    with pytest.raises(StoreError, match="unknown decision"):
        reviewed.decide("acme", "maybe", actor="b", rationale="x")
    with pytest.raises(StoreError, match="rationale"):
        reviewed.decide("acme", "banned", actor="b", rationale="")
