"""Findings that live: new, seen, removed by a fresh snapshot, reappeared, unmatched."""

from __future__ import annotations

from store.helpers import ACME, EVIL, policy, review, snap

from kitvet.model.risk import ListSet

D1, D2, D3 = "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z"


def only(estate, **kw):
    items = estate.findings(live=None, **kw).items
    assert len(items) == 1, items
    return items[0]


def test_found_removed_reappeared(estate):
    estate.import_snapshots([snap("h1", "P", D1, [("Evil App", "1", EVIL), ("ok", "1", "Good")]),
                             snap("h2", "A", D1, [("Acme Tool", "1", ACME)])], actor="a")
    r1 = review(estate)
    assert (r1.new, r1.removed, r1.reappeared) == (2, 0, 0)
    assert r1.by_status == {"ban": 1, "review": 1}
    f = only(estate, subject="evil-build")
    assert (f.state, f.status, f.first_seen[:10], f.last_seen[:10]) == ("open", "ban",
                                                                        "2026-11-01", "2026-11-01")

    # the same inventory reviewed again: nothing changes but the review count
    r2 = review(estate)
    assert (r2.new, r2.seen, r2.removed) == (0, 2, 0)

    # a newer snapshot of h1 without the item: removed, resolved at that snapshot's time
    estate.import_snapshots([snap("h1", "P", D2, [("ok", "1", "Good")])], actor="a")
    r3 = review(estate)
    assert (r3.removed, r3.findings) == (1, 1)
    f = only(estate, subject="evil-build")
    assert (f.state, f.live, f.resolved_at[:10]) == ("removed", False, "2026-11-02")
    assert estate.findings(status="ban").total == 0  # live only by default
    entry = estate.audit(action="estate.review", newest_first=True, limit=1)[0]
    assert entry.details["removed_ids"] == [f.finding_id] and entry.details["removed"] == 1

    # it comes back: re-opened and flagged, history kept
    estate.import_snapshots([snap("h1", "P", D3, [("Evil App", "1", EVIL)])], actor="a")
    r4 = review(estate)
    assert r4.reappeared == 1 and r4.new == 0
    f = only(estate, subject="evil-build")
    assert (f.state, f.live, f.reappeared, f.resolved_at) == ("open", True, 1, None)
    assert f.first_seen[:10] == "2026-11-01" and f.last_seen[:10] == "2026-11-03"
    assert estate.findings(reappeared=True).total == 1
    kinds = [e.kind for e in estate.finding(f.finding_id).events]
    assert kinds == ["found", "removed", "reappeared"]
    last = estate.audit(action="estate.review", newest_first=True, limit=1)[0]
    assert last.details["reappeared_ids"] == [f.finding_id]


def test_not_matched_any_more_with_same_snapshot_is_not_removed(estate):
    estate.import_snapshots([snap("h1", "P", D1, [("Evil App", "1", EVIL)])], actor="a")
    review(estate)
    res = estate.review(actor="a", lists=ListSet(()), policy=policy(), profile="default")
    assert res.removed == 0 and res.findings == 0
    f = only(estate)
    assert (f.state, f.live) == ("open", False)
    assert [e.kind for e in estate.finding(f.finding_id).events] == ["found", "unmatched"]


def test_item_upgrade_keeps_the_finding(estate):
    estate.import_snapshots([snap("h1", "P", D1, [("Evil App", "1", EVIL)])], actor="a")
    review(estate)
    estate.import_snapshots([snap("h1", "P", D2, [("Evil App", "2", EVIL)])], actor="a")
    r = review(estate)
    assert (r.new, r.removed, r.seen) == (0, 0, 1)
    assert only(estate).version == "2"


def test_finding_detail_has_evidence_and_prefix_lookup(estate):
    estate.import_snapshots([snap("h1", "P", D1, [("Evil App", "1", EVIL)])], actor="a")
    review(estate)
    f = only(estate)
    d = estate.finding(f.finding_id[:8])
    assert d.finding.finding_id == f.finding_id
    assert d.evidence["matched"][0]["kind"] == "publisher"
    assert "Evil Build" in d.evidence["explanation"]
    # the assertions behind it, as the review's lists and policy saw them
    assert (d.subject["list_name"], d.subject["profile"], d.subject["status"]) == (
        "test-list", "default", "ban")
    [a] = d.subject["assertions"]
    assert (a["authority"], a["kind"], a["instrument"], a["date"]) == (
        "Test Authority", "confirmed-malicious-version", "Test instrument 1", "2026-01-01")
    assert a["reference_url"] == "https://example.org/instrument" and "ban" in a["outcome"]


def test_pagination_and_filters(estate):
    estate.import_snapshots([snap(f"h{i}", "P" if i % 2 else "A", D1, [("Evil App", "1", EVIL)])
                             for i in range(7)], actor="a")
    review(estate)
    page = estate.findings(limit=3, offset=0)
    assert page.total == 7 and len(page.items) == 3
    rest = estate.findings(limit=3, offset=6)
    assert len(rest.items) == 1
    ids = {f.finding_id for o in (0, 3, 6) for f in estate.findings(limit=3, offset=o).items}
    assert len(ids) == 7
    assert estate.findings(institution="A").total == 4
    assert estate.findings(state="in_review").total == 0


def test_review_defaults_to_bundled_lists_and_default_profile(estate):
    s = snap("srv", "P", D1)
    s.add_software(host_id="srv", source="dpkg", name="xz-utils", version="5.6.1-1",
                   package_type="deb")
    estate.import_snapshots([s], actor="a")
    res = estate.review(actor="a")
    assert res.by_status.get("ban") == 1
    f = estate.findings().items[0]
    assert f.subject_id.startswith("xz-utils") and f.list_name == "kitvet-core"
    assert estate.audit(action="estate.review")[0].details["profile"] == "default"


def test_review_reports_each_step_for_a_progress_bar(estate):
    from store.helpers import lists

    from kitvet.estate import REVIEW_STEPS

    estate.import_snapshots([snap("h1", "P", D1, [("Evil App", "1", EVIL)])], actor="a")
    steps: list[str] = []
    estate.review(actor="a", lists=lists(), policy=policy(), progress=steps.append)
    assert tuple(steps) == REVIEW_STEPS


def test_findings_recorded_a_batch_at_a_time(estate, monkeypatch):
    """The engine's findings reach the review database a batch at a time (one row each here):
    each finding is stored once, and what a later snapshot lacks is removed."""
    from kitvet.match import engine

    monkeypatch.setattr(engine, "BATCH_ROWS", 1)
    estate.import_snapshots([snap(f"h{n}", "P", D1, [("Evil App", "1", EVIL),
                                                     ("Acme Tool", "1", ACME)])
                             for n in range(3)], actor="a")
    r1 = review(estate)
    assert (r1.new, r1.findings, r1.by_status) == (6, 6, {"ban": 3, "review": 3})
    assert estate.findings(live=None).total == 6
    estate.import_snapshots([snap("h1", "P", D2, [("Acme Tool", "1", ACME)])], actor="a")
    r2 = review(estate)
    assert (r2.new, r2.seen, r2.removed, r2.findings) == (0, 5, 1, 5)
    assert only(estate, subject="evil-build", host="h1").state == "removed"
