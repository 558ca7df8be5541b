"""Exceptions: accept covered findings, expire, revoke, report the unused."""

from __future__ import annotations

import pytest
from store.helpers import ACME, review, snap

from kitvet.errors import StoreError

D1 = "2026-11-01T00:00:00Z"


@pytest.fixture
def reviewed(estate):
    estate.import_snapshots([snap("h1", "Parliament", D1, [("Acme Tool", "1", ACME)]),
                             snap("h2", "Parliament", D1, [("Acme Tool", "1", ACME)]),
                             snap("h3", "Agency", D1, [("Acme Tool", "1", ACME)])], actor="a")
    review(estate)
    return estate


def states(est) -> dict[str, str]:
    return {f.host_id: f.state for f in est.findings().items}


def set_clock(monkeypatch, when: str) -> None:
    import kitvet.estate.estate
    import kitvet.estate.reads

    for mod in (kitvet.estate.estate, kitvet.estate.reads):  # the estate's clock
        monkeypatch.setattr(mod, "utcnow", lambda: when)


def test_scope_host_institution_estate(reviewed):
    e1 = reviewed.add_exception(subject_id="acme", scope="host:h1", reason="lab", approver="CISO",
                                expires="2099-12-31", actor="a")
    assert e1.matched == 1 and states(reviewed) == {"h1": "accepted", "h2": "open",
                                                    "h3": "open"}
    reviewed.add_exception(subject_id="acme", scope="institution:Agency", reason="contract",
                           approver="CISO", expires="2099-12-31", actor="a")
    assert states(reviewed) == {"h1": "accepted", "h2": "open", "h3": "accepted"}
    reviewed.add_exception(subject_id="acme", scope="estate", reason="all", approver="CISO",
                           expires="2099-12-31", actor="a")
    assert set(states(reviewed).values()) == {"accepted"}
    ev = reviewed.finding(reviewed.findings(host="h1").items[0].finding_id).events[-1]
    assert ev.kind == "exception" and ev.to_state == "accepted" and "lab" in ev.reason


def test_accepted_by_hand_needs_a_covering_exception(reviewed):
    fid = reviewed.findings(host="h2").items[0].finding_id
    with pytest.raises(StoreError, match="needs an active exception"):
        reviewed.set_state(fid, "accepted", actor="a", reason="ok")


def test_expired_exception_reopens_at_next_review(reviewed, monkeypatch):
    ex = reviewed.add_exception(subject_id="acme", scope="institution:Parliament",
                                reason="until the upgrade", approver="CISO",
                                expires="2099-01-31", actor="a")
    assert states(reviewed)["h1"] == "accepted"
    set_clock(monkeypatch, "2099-01-31T23:59:59.000000Z")  # last valid day
    assert review(reviewed).reopened == 0
    set_clock(monkeypatch, "2099-02-01T00:00:01.000000Z")
    res = review(reviewed)
    assert res.reopened == 2
    assert states(reviewed) == {"h1": "open", "h2": "open", "h3": "open"}
    ev = reviewed.finding(reviewed.findings(host="h1").items[0].finding_id).events[-1]
    assert (ev.from_state, ev.to_state) == ("accepted", "open")
    assert f"exception {ex.exception_id} expired" in ev.reason
    assert not list(reviewed.exceptions(active_only=True))


def test_revoke_reopens_at_once_unless_another_covers(reviewed):
    host = reviewed.add_exception(subject_id="acme", scope="host:h1", reason="a",
                                  approver="CISO", expires="2099-12-31", actor="a")
    wide = reviewed.add_exception(subject_id="acme", scope="institution:Parliament", reason="b",
                                  approver="CISO", expires="2099-12-31", actor="a")
    reviewed.revoke_exception(wide.exception_id, actor="a", reason="contract ended")
    assert states(reviewed) == {"h1": "accepted", "h2": "open", "h3": "open"}
    r = reviewed.revoke_exception(host.exception_id, actor="a", reason="done")
    assert not r.active and states(reviewed)["h1"] == "open"
    with pytest.raises(StoreError, match="already revoked"):
        reviewed.revoke_exception(host.exception_id, actor="a", reason="again")
    assert [e.action for e in reviewed.audit(action="exception.revoke")] == ["exception.revoke"] * 2


def test_unused_exceptions_are_reported(reviewed):
    unused = reviewed.add_exception(subject_id="evil-build", scope="estate", reason="none here",
                                    approver="CISO", expires="2099-12-31", actor="a")
    assert unused.matched == 0
    assert review(reviewed).unused_exceptions == (unused.exception_id,)


@pytest.mark.parametrize("kw,message", [
    (dict(scope="host:nope"), "no host 'nope'"),
    (dict(scope="institution:Nowhere"), "no institution"),
    (dict(scope="planet:earth"), "bad scope"),
    (dict(expires="2001-01-01"), "already past"),
    (dict(expires="soon"), "bad expiry"),
    (dict(approver=""), "approver"),
])
def test_bad_exceptions_refused(reviewed, kw, message):
    args = dict(subject_id="acme", scope="estate", reason="r", approver="CISO",
                expires="2099-12-31", actor="a")
    args.update(kw)
    with pytest.raises(StoreError, match=message):
        reviewed.add_exception(**args)
    assert reviewed.exceptions() == []


def test_a_hostname_instead_of_a_host_id_is_named_in_the_refusal(reviewed):
    from store.helpers import snap

    reviewed.import_snapshots([snap("uuid-7f3a", "Agency", "2026-11-01T00:00:00Z",
                                    [("Acme Tool", "1", "Acme Networks Co")],
                                    hostname="lab-07")], actor="a")
    with pytest.raises(StoreError, match="'lab-07' is the hostname of host id 'uuid-7f3a'"):
        reviewed.add_exception(subject_id="acme", scope="host:lab-07", reason="lab",
                               approver="CISO", expires="2099-12-31", actor="a")
    assert reviewed.exceptions() == []
