"""Which estate events raise alerts, once each, routed per institution, status and kind."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from store.helpers import ACME, EVIL, lists, policy, review, snap

from kitvet.model import Assertion, RiskList
from kitvet.model.risk import ListSet

NOW = datetime.now(UTC)
TODAY = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")

ROUTED = """
[[receivers]]
name = "parliament-ban"
kind = "webhook"
url = "http://127.0.0.1:9/never"
institutions = ["Parliament"]
statuses = ["ban"]

[[receivers]]
name = "calendar"
kind = "webhook"
url = "http://127.0.0.1:9/never"
events = ["campaign.deadline-soon", "campaign.deadline-missed", "exception.expiring",
          "exception.lapsed", "inventory.host-silent", "inventory.institution-silent"]

[[receivers]]
name = "everything"
kind = "webhook"
url = "http://127.0.0.1:9/never"
"""


def kinds(estate, receiver: str) -> list[str]:
    return [a.kind for a in estate.alerts.listing(receiver=receiver, limit=1000,
                                                  newest_first=False)]


def setup(estate) -> None:
    (estate.root / "alerts.toml").write_text(ROUTED, encoding="utf-8")
    estate.import_snapshots([snap("p1", "Parliament", TODAY, [("Evil App", "1", EVIL)]),
                             snap("a1", "Agency", TODAY, [("Evil App", "1", EVIL),
                                                          ("Acme Tool", "1", ACME)])],
                            actor="a")
    review(estate)


def test_new_ban_findings_are_routed_per_institution_and_status(estate):
    setup(estate)
    assert kinds(estate, "parliament-ban") == ["finding.ban"]  # not Agency's, not acme (review)
    assert sorted(kinds(estate, "everything")) == ["finding.ban", "finding.ban"]
    assert kinds(estate, "calendar") == []
    [a] = estate.alerts.listing(receiver="parliament-ban")
    assert a.institution == "Parliament" and a.status == "ban" and "Evil Build" in a.title
    review(estate)  # seen again: no new alert
    assert len(kinds(estate, "everything")) == 2


def test_a_finding_that_reappears(estate):
    setup(estate)
    later = (NOW + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    latest = (NOW + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    estate.import_snapshots([snap("p1", "Parliament", later, [])], actor="a")
    review(estate)
    estate.import_snapshots([snap("p1", "Parliament", latest, [("Evil App", "1", EVIL)])],
                            actor="a")
    review(estate)
    assert kinds(estate, "parliament-ban") == ["finding.ban", "finding.reappeared"]
    last = estate.alerts.listing(receiver="parliament-ban", limit=1)[0]
    assert last.title.startswith("Finding reappeared")


def test_a_risk_list_update_that_changes_statuses(estate):
    setup(estate)
    base = lists().lists[0]
    acme = next(s for s in base.subjects if s.id == "acme")
    worse = acme.__class__(**{**acme.__dict__, "assertions": (Assertion(
        authority="Test Authority", kind="confirmed-malicious-version",
        instrument="Test instrument 2", date="2026-11-30",
        reference_url="https://example.org/2", jurisdiction="EU"),)})
    updated = RiskList(name=base.name, publisher=base.publisher, version="2",
                       date="2026-11-30", subjects=tuple(
                           worse if s.id == "acme" else s for s in base.subjects))
    estate.review(actor="a", lists=ListSet((updated,)), policy=policy(), profile="default")
    [changed] = [a for a in estate.alerts.listing(receiver="everything", limit=100)
                 if a.kind == "finding.status-changed"]
    assert changed.institution == "Agency" and changed.status == "ban"
    assert "1 finding" in changed.title
    assert kinds(estate, "parliament-ban") == ["finding.ban"]  # Agency's change is not theirs


def test_campaign_deadlines_soon_and_missed(estate):
    setup(estate)
    camp = estate.start_campaign("evil-build", actor="a",
                                 deadlines={"identify": 3, "plan": 20, "remove": 40})
    assert camp.identify_due == (NOW.date() + timedelta(days=3)).isoformat()
    estate.alerts.scan()
    soon = [a for a in estate.alerts.listing(receiver="calendar", limit=100)
            if a.kind == "campaign.deadline-soon"]
    assert sorted(a.institution for a in soon) == ["Agency", "Parliament"]
    assert all("identify deadline" in a.title for a in soon)
    estate.alerts.scan()  # once only
    assert len(kinds(estate, "calendar")) == 2
    later = (NOW + timedelta(days=45)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    estate.alerts.scan(now=later)
    missed = [a for a in estate.alerts.listing(receiver="calendar", limit=100)
              if a.kind == "campaign.deadline-missed"]
    assert sorted(a.institution for a in missed) == ["Agency", "Parliament"]
    assert "removal deadline" in missed[0].title


def test_exceptions_expiring_and_lapsed(estate):
    setup(estate)
    expires = (date.today() + timedelta(days=5)).isoformat()
    ex = estate.add_exception(subject_id="acme", scope="institution:Agency",
                              reason="isolated lab", approver="ciso", expires=expires,
                              actor="a")
    estate.alerts.scan()
    [soon] = estate.alerts.listing(receiver="calendar")
    assert soon.kind == "exception.expiring" and soon.institution == "Agency"
    assert f"expires {expires}" in soon.title
    estate.alerts.scan(now=(NOW + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    [lapsed] = [a for a in estate.alerts.listing(receiver="calendar")
                if a.kind == "exception.lapsed"]
    assert str(ex.exception_id) in lapsed.title and "lapsed on" in lapsed.title


def test_inventory_that_stopped_arriving(estate):
    setup(estate)
    old = (NOW - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    estate.import_snapshots([snap("q1", "Quiet Agency", old, []), snap("q2", "Quiet Agency",
                                                                        old, []),
                             snap("p9", "Parliament", old, [])], actor="a")
    got = {(a.kind, a.institution) for a in estate.alerts.listing(receiver="calendar")}
    assert got == {("inventory.institution-silent", "Quiet Agency"),
                   ("inventory.host-silent", "Parliament")}
    estate.alerts.scan()
    assert len(kinds(estate, "calendar")) == 2


def test_events_raised_while_the_configuration_is_broken_wait_in_the_outbox(estate):
    (estate.root / "alerts.toml").write_text("[[receivers]]\nname = ", encoding="utf-8")
    estate.import_snapshots([snap("p1", "Parliament", TODAY, [("Evil App", "1", EVIL)])],
                            actor="a")
    review(estate)
    assert estate.alerts.depth() == {("(outbox)", "unrouted"): 1}
    (estate.root / "alerts.toml").write_text(ROUTED, encoding="utf-8")
    result = estate.alerts.drain(receivers=[])
    assert result.routed == 2  # parliament-ban and everything
    assert estate.alerts.depth()[("parliament-ban", "pending")] == 1
