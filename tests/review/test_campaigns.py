"""Campaigns: start only for banned subjects, deadlines, progress, burndown, close refusal."""

from __future__ import annotations

from pathlib import Path

import pytest
from store.helpers import ACME, EVIL, lists, review, snap

import kitvet.policy
from kitvet.errors import StoreError

D1, D2 = "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"


@pytest.fixture
def reviewed(estate):
    estate.import_snapshots([snap("p1", "Parliament", D1, [("Evil App", "1", EVIL)]),
                             snap("p2", "Parliament", D1, [("Evil App", "1", EVIL)]),
                             snap("a1", "Agency", D1, [("Evil App", "1", EVIL),
                                                       ("Acme Tool", "1", ACME)])], actor="a")
    review(estate)
    return estate


def progress(status) -> dict[str, tuple[int, int, int, int]]:
    return {p.institution: (p.affected, p.removed, p.remaining, p.overdue)
            for p in status.institutions}


def test_only_banned_subjects(reviewed):
    with pytest.raises(StoreError, match="is not banned"):
        reviewed.start_campaign("acme", actor="a")
    reviewed.decide("acme", "banned", actor="board", rationale="decision 14")
    assert reviewed.start_campaign("acme", actor="a").subject_id == "acme"
    with pytest.raises(StoreError, match="already open"):
        reviewed.start_campaign("acme", actor="a")
    reviewed.decide("evil-build", "cleared", actor="board", rationale="false alarm")
    with pytest.raises(StoreError, match="is not banned"):
        reviewed.start_campaign("evil-build", actor="a")


def test_deadlines_from_policy_verdict(reviewed, tmp_path):
    text = (Path(kitvet.policy.__file__).parent / "profiles" / "default.yaml").read_text()
    assert "ban: {identify: 30, plan: 60, remove: 90}" in text
    custom = tmp_path / "strict.yaml"
    custom.write_text(text.replace("name: default", "name: strict").replace(
        "ban: {identify: 30, plan: 60, remove: 90}", "ban: {identify: 10, plan: 20, remove: 45}"))
    policy = kitvet.policy.load_profile(str(custom))
    c = reviewed.start_campaign("evil-build", actor="a", lists=lists(), policy=policy)
    start = c.started_at[:10]
    from datetime import date, timedelta

    d0 = date.fromisoformat(start)
    assert (c.identify_due, c.plan_due, c.remove_due) == tuple(
        (d0 + timedelta(days=n)).isoformat() for n in (10, 20, 45))
    assert reviewed.audit(action="campaign.start")[0].details["deadlines_days"] == {
        "identify": 10, "plan": 20, "remove": 45}


def test_progress_burndown_overdue_and_close(reviewed, monkeypatch):
    c = reviewed.start_campaign("evil-build", actor="a")
    st = reviewed.campaign(c.campaign_id)
    assert st.phase == "identify"
    assert progress(st) == {"Agency": (1, 0, 1, 0), "Parliament": (2, 0, 2, 0)}
    with pytest.raises(StoreError, match=r"3 host\(s\) still have evil-build"):
        reviewed.close_campaign(c.campaign_id, actor="a")

    reviewed.import_snapshots([snap("p1", "Parliament", D2, [])], actor="a")
    with pytest.raises(StoreError, match="run `kitvet estate review`"):
        reviewed.close_campaign(c.campaign_id, actor="a")
    review(reviewed)
    st = reviewed.campaign(c.campaign_id)
    assert progress(st) == {"Agency": (1, 0, 1, 0), "Parliament": (2, 1, 1, 0)}
    assert [p.remaining for p in st.burndown] == [3, 2]

    import kitvet.estate.estate
    import kitvet.estate.reads

    for mod in (kitvet.estate.estate, kitvet.estate.reads):  # the estate's clock
        monkeypatch.setattr(mod, "utcnow", lambda: "2099-01-01T00:00:00.000000Z")
    st = reviewed.campaign(c.campaign_id)
    assert st.phase == "overdue"
    assert progress(st) == {"Agency": (1, 0, 1, 1), "Parliament": (2, 1, 1, 1)}
    monkeypatch.undo()

    reviewed.import_snapshots([snap("p2", "Parliament", D2, []),
                               snap("a1", "Agency", D2, [("Acme Tool", "1", ACME)])], actor="a")
    review(reviewed)
    st = reviewed.campaign(c.campaign_id)
    assert st.remaining == 0 and [p.remaining for p in st.burndown] == [3, 2, 0]
    closed = reviewed.close_campaign(c.campaign_id, actor="ciso", reason="all gone")
    assert closed.closed_by == "ciso"
    assert reviewed.campaign(c.campaign_id).phase == "closed"
    assert reviewed.status().open_campaigns == ()
    with pytest.raises(StoreError, match="already closed"):
        reviewed.close_campaign(c.campaign_id, actor="a")
    assert [e.action for e in reviewed.audit(action="campaign.")] == ["campaign.start",
                                                                       "campaign.close"]


def test_reappearance_counts_against_the_campaign(reviewed):
    c = reviewed.start_campaign("evil-build", actor="a")
    reviewed.import_snapshots([snap("p1", "Parliament", D2, [])], actor="a")
    review(reviewed)
    reviewed.import_snapshots([snap("p1", "Parliament", "2026-11-03T00:00:00Z",
                                    [("Evil App", "1", EVIL)])], actor="a")
    review(reviewed)
    assert progress(reviewed.campaign(c.campaign_id))["Parliament"] == (2, 0, 2, 0)


def test_excepted_hosts_are_not_remaining(reviewed):
    c = reviewed.start_campaign("evil-build", actor="a")
    reviewed.add_exception(subject_id="evil-build", scope="host:a1", reason="malware lab",
                           approver="CISO", expires="2099-12-31", actor="a")
    st = reviewed.campaign(c.campaign_id)
    agency = next(p for p in st.institutions if p.institution == "Agency")
    assert (agency.affected, agency.excepted, agency.remaining) == (1, 1, 0)
    reviewed.import_snapshots([snap("p1", "Parliament", D2, []), snap("p2", "Parliament", D2, [])],
                              actor="a")
    review(reviewed)
    assert reviewed.campaign(c.campaign_id).remaining == 0
    assert reviewed.close_campaign(c.campaign_id, actor="a").closed_at


def _due_lists():
    from kitvet.model.risk import Assertion, Identifier, ListSet, RiskList, Subject

    nvd = Assertion(authority="NVD", kind="vulnerable-version", instrument="CVE-2021-42013",
                    citation="CVE-2021-42013", date="2021-10-07")
    kev = Assertion(authority="CISA", kind="known-exploited-vulnerability",
                    instrument="KEV: CVE-2021-42013", citation="CVE-2021-42013",
                    date="2021-11-03", due_date="2021-11-17", jurisdiction="US")
    eol = Assertion(authority="Maker", kind="end-of-life", instrument="Old OS: end of life on "
                    "2099-06-30", date="2099-06-30", due_date="2099-06-30")
    subjects = (
        Subject(id="cve-2021-42013", name="CVE-2021-42013", kind="product-version",
                aliases=("CVE-2021-42013",), assertions=(nvd, kev),
                identifiers=(Identifier(kind="product_name", value="Web Server",
                                        versions=("2.4.49",)),)),
        Subject(id="eol-old-os", name="Old OS", kind="product-version", assertions=(eol,),
                identifiers=(Identifier(kind="product_name", value="Old Runtime"),)))
    return ListSet((RiskList(name="due", publisher="tests", version="1", date="2026-01-01",
                             subjects=subjects),))


def test_kev_due_date_and_end_of_life_are_remediation_deadlines(estate):
    estate.import_snapshots([snap("w1", "Agency", D1, [("Web Server", "2.4.49", None),
                                                       ("Old Runtime", "1", None)]),
                             snap("w2", "Agency", D1, [("Web Server", "2.4.51", None)])],
                            actor="a")
    ls, pol = _due_lists(), kitvet.policy.load_profile("default")
    estate.review(actor="a", lists=ls, policy=pol, profile="default")
    assert estate.campaign_candidates() == ["cve-2021-42013", "eol-old-os"]
    c = estate.start_campaign("cve-2021-42013", actor="a", lists=ls, policy=pol)
    # the KEV due date has passed: the campaign is overdue from its start, as it is
    assert (c.identify_due, c.plan_due, c.remove_due) == ("2021-11-17",) * 3
    st = estate.campaign(c.campaign_id)
    assert progress(st) == {"Agency": (1, 0, 1, 1)}
    assert estate.audit(action="campaign.start")[0].details["remove_due_from"].startswith(
        "known-exploited-vulnerability CVE-2021-42013: due 2021-11-17 (CISA)")
    e = estate.start_campaign("eol-old-os", actor="a", lists=ls, policy=pol,
                              deadlines={"identify": 5})
    assert e.remove_due == "2099-06-30" and e.identify_due < e.plan_due < e.remove_due
    assert estate.campaign_candidates() == []
