"""The read-and-act API: scope per institution, roles, filters, state changes, decisions,
exceptions, campaigns, lists, audit — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta


def test_openapi_served_and_cdn_docs_disabled(srv):
    spec = srv.client.get("/api/v1/openapi.json").json()
    assert "/api/v1/snapshots" in spec["paths"] and "/api/v1/findings" in spec["paths"]
    assert srv.client.get("/docs").status_code == 404
    assert srv.client.get("/redoc").status_code == 404
    page = srv.client.get("/api/v1/docs").text
    assert "/api/v1/findings" in page
    assert "cdn" not in page.lower() and "<script" not in page


def test_api_needs_credentials(srv):
    assert srv.client.get("/api/v1/findings").status_code == 401
    r = srv.client.get("/api/v1/findings", headers=srv.ingest("Alpha Agency"))
    assert r.status_code == 403


def test_reviewer_sees_only_their_institution(srv):
    mine = srv.findings("alice")
    assert mine and {f["institution"] for f in mine} == {"Alpha Agency"}
    assert {f["institution"] for f in srv.findings("admin")} == {"Alpha Agency", "Beta Bureau"}
    # even when asking for the other institution explicitly
    assert srv.findings("alice", institution="Beta Bureau") == []
    inst = srv.client.get("/api/v1/institutions", headers=srv.as_("alice")).json()
    assert inst == ["Alpha Agency"]
    summary = srv.client.get("/api/v1/summary", headers=srv.as_("alice")).json()
    assert [i["institution"] for i in summary["institutions"]] == ["Alpha Agency"]
    assert summary["hosts"] == 2 and summary["path"] == ""


def test_reviewer_gets_404_for_another_institutions_finding_and_host(srv):
    beta = srv.finding_of("beta-ws-1")
    h = srv.as_("alice")
    assert srv.client.get(f"/api/v1/findings/{beta['finding_id']}", headers=h).status_code == 404
    r = srv.client.post(f"/api/v1/findings/{beta['finding_id']}/state", headers=h,
                        json={"state": "in_review", "reason": "peek"})
    assert r.status_code == 404
    assert srv.client.get("/api/v1/hosts/beta-ws-1", headers=h).status_code == 404
    assert srv.client.get("/api/v1/hosts/beta-ws-1/inventory", headers=h).status_code == 404
    hosts = srv.client.get("/api/v1/hosts", headers=h).json()["items"]
    assert {x["host_id"] for x in hosts} == {"alpha-ws-1", "alpha-ws-2"}
    found = srv.client.get("/api/v1/inventory", params={"q": "suite"}, headers=h).json()
    assert found["items"] == []  # "Beta Secret Suite" is Beta's
    found = srv.client.get("/api/v1/inventory", params={"q": "suite"},
                           headers=srv.as_("bob")).json()
    assert [x["name"] for x in found["items"]] == ["Beta Secret Suite"]
    # the finding did not change
    detail = srv.client.get(f"/api/v1/findings/{beta['finding_id']}", headers=srv.as_("admin"))
    assert detail.json()["finding"]["state"] == "open"


def test_state_change_with_reason_is_audited(srv):
    f = srv.finding_of("alpha-ws-1")
    r = srv.client.post(f"/api/v1/findings/{f['finding_id']}/state", headers=srv.as_("alice"),
                        json={"state": "in_review", "reason": "checking with the owner"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "in_review"
    d = srv.client.get(f"/api/v1/findings/{f['finding_id']}", headers=srv.as_("alice")).json()
    assert d["events"][-1]["reason"] == "checking with the owner"
    assert d["events"][-1]["actor"] == "user:alice"
    log = srv.client.get("/api/v1/audit", params={"action": "finding.state"},
                         headers=srv.as_("audrey")).json()
    assert log[0]["object"] == f"finding:{f['finding_id']}"
    assert log[0]["details"]["reason"] == "checking with the owner"
    assert srv.client.get("/api/v1/audit/verify", headers=srv.as_("audrey")).json()["ok"]
    # bob (Beta) does not see Alpha's audit entry; alice does
    bobs = srv.client.get("/api/v1/audit", headers=srv.as_("bob")).json()
    assert all(e["object"] != f"finding:{f['finding_id']}" for e in bobs)
    alices = srv.client.get("/api/v1/audit", headers=srv.as_("alice")).json()
    assert any(e["object"] == f"finding:{f['finding_id']}" for e in alices)
    assert srv.client.get("/api/v1/audit/verify", headers=srv.as_("bob")).status_code == 403


def test_bad_state_changes(srv):
    f = srv.finding_of("alpha-ws-1")
    url = f"/api/v1/findings/{f['finding_id']}/state"
    assert srv.client.post(url, headers=srv.as_("alice"),
                           json={"state": "in_review"}).status_code == 422
    r = srv.client.post(url, headers=srv.as_("alice"), json={"state": "removed", "reason": "x"})
    assert r.status_code == 409 and "fresh snapshot" in r.json()["detail"]
    r = srv.client.post(url, headers=srv.as_("audrey"), json={"state": "in_review",
                                                              "reason": "x"})
    assert r.status_code == 403


def test_filters_pagination_and_sorting(srv):
    bans = srv.findings(status="ban")
    assert bans and all(f["status"] == "ban" for f in bans)
    everything = srv.findings()
    page1 = srv.client.get("/api/v1/findings", params={"limit": 1, "offset": 0},
                           headers=srv.as_("admin")).json()
    page2 = srv.client.get("/api/v1/findings", params={"limit": 1, "offset": 1},
                           headers=srv.as_("admin")).json()
    assert page1["total"] == len(everything) >= 3
    assert page1["items"][0]["finding_id"] != page2["items"][0]["finding_id"]
    by_host = [f["host_id"] for f in srv.findings(sort="host", desc=True)]
    assert by_host == sorted(by_host, reverse=True)
    assert [f["name"] for f in srv.findings(q="acme vpn")] == ["Acme VPN"]
    assert srv.findings(q="%") == []  # LIKE wildcards are literal
    assert {f["subject_id"] for f in srv.findings(subject="acme")} == {"acme"}


def test_decisions_need_an_admin_and_override_status(srv):
    body = {"subject_id": "acme", "decision": "banned", "rationale": "ministry order"}
    assert srv.client.post("/api/v1/decisions", json=body,
                           headers=srv.as_("alice")).status_code == 403
    r = srv.client.post("/api/v1/decisions", json=body, headers=srv.as_("admin"))
    assert r.status_code == 201, r.text
    assert {f["status"] for f in srv.findings(subject="acme")} == {"ban"}
    listed = srv.client.get("/api/v1/decisions", headers=srv.as_("bob")).json()
    assert listed[0]["subject_id"] == "acme"


def test_exceptions_respect_the_reviewers_scope(srv):
    until = (date.today() + timedelta(days=30)).isoformat()

    def mk(scope: str, who: str):  # type: ignore[no-untyped-def]
        return srv.client.post("/api/v1/exceptions", headers=srv.as_(who), json={
            "subject_id": "acme", "scope": scope, "reason": "lab use", "expires": until})

    r = mk("host:alpha-ws-2", "alice")
    assert r.status_code == 201, r.text
    assert r.json()["matched"] == 1
    assert mk("host:beta-ws-1", "alice").status_code == 404
    assert mk("institution:Beta Bureau", "alice").status_code == 404
    assert mk("estate", "alice").status_code == 403
    assert mk("estate", "audrey").status_code == 403
    assert [e["scope"] for e in srv.client.get("/api/v1/exceptions",
                                               headers=srv.as_("bob")).json()] == []
    eid = r.json()["exception_id"]
    r = srv.client.post(f"/api/v1/exceptions/{eid}/revoke", headers=srv.as_("bob"),
                        json={"reason": "not yours"})
    assert r.status_code == 404
    r = srv.client.post(f"/api/v1/exceptions/{eid}/revoke", headers=srv.as_("alice"),
                        json={"reason": "lab closed"})
    assert r.status_code == 200 and r.json()["active"] is False


def test_campaigns(srv):
    r = srv.client.post("/api/v1/campaigns", json={"subject_id": "evil-build"},
                        headers=srv.as_("alice"))
    assert r.status_code == 403
    r = srv.client.post("/api/v1/campaigns", json={"subject_id": "evil-build",
                                                   "remove_days": 90},
                        headers=srv.as_("admin"))
    assert r.status_code == 201, r.text
    cid = r.json()["campaign_id"]
    full = srv.client.get(f"/api/v1/campaigns/{cid}", headers=srv.as_("admin")).json()
    assert {p["institution"] for p in full["institutions"]} == {"Alpha Agency", "Beta Bureau"}
    mine = srv.client.get(f"/api/v1/campaigns/{cid}", headers=srv.as_("alice")).json()
    assert [p["institution"] for p in mine["institutions"]] == ["Alpha Agency"]
    assert mine["burndown"][0]["affected"] == 1
    r = srv.client.post(f"/api/v1/campaigns/{cid}/close", json={"reason": "done"},
                        headers=srv.as_("admin"))
    assert r.status_code == 409  # hosts still have it
    assert srv.client.get("/api/v1/campaigns/999", headers=srv.as_("admin")).status_code == 404


def test_lists_and_subjects_show_both_sides(srv):
    lists = srv.client.get("/api/v1/lists", headers=srv.as_("audrey")).json()
    assert lists[0]["name"] == "server-test"
    acme = srv.client.get("/api/v1/subjects/acme", headers=srv.as_("audrey")).json()
    kinds = {a["kind"] for a in acme["assertions"]}
    assert {"removal-order", "no-evidence-found"} <= kinds
    ne = next(a for a in acme["assertions"] if a["kind"] == "no-evidence-found")
    assert ne["link"] is None  # a javascript: reference is never offered as a link
    f = srv.finding_of("alpha-ws-2")
    d = srv.client.get(f"/api/v1/findings/{f['finding_id']}", headers=srv.as_("alice")).json()
    assert [a["kind"] for a in d["exculpatory"]] == ["no-evidence-found"]
    assert d["exculpatory"][0]["link"] is None  # javascript: is never a link
    assert d["assertions"][0]["outcome"]  # the policy's reading, stored by the review
    assert d["assertions"][0]["authority"] == "Test Ministry"
    assert d["evidence"]["matched"][0]["kind"] == "publisher"


def test_browser_session_on_the_api_needs_the_csrf_header(srv):
    from srvkit import login

    assert login(srv.client, "alice").status_code == 303
    f = srv.finding_of("alpha-ws-1")
    url = f"/api/v1/findings/{f['finding_id']}/state"
    body = {"state": "in_review", "reason": "from the browser"}
    assert srv.client.get("/api/v1/findings").status_code == 200
    assert srv.client.post(url, json=body).status_code == 403
    from kitvet.server.security import SESSION_COOKIE

    _user, csrf = srv.estate.accounts.session_user(srv.client.cookies.get(SESSION_COOKIE))
    assert srv.client.post(url, json=body, headers={"X-CSRF-Token": csrf}).status_code == 200


def test_health_needs_no_credentials_and_reveals_nothing(srv):
    r = srv.client.get("/api/v1/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert set(r.json()) == {"status", "version"}


def test_summary_counts_only_what_a_scoped_reviewer_may_see(srv):
    admin = srv.client.get("/api/v1/summary", headers=srv.as_("admin")).json()
    alice = srv.client.get("/api/v1/summary", headers=srv.as_("alice")).json()
    assert alice["snapshots"] == 2 < admin["snapshots"]  # alpha.kitvet.json has two hosts
    seen = srv.client.get("/api/v1/audit", params={"limit": 500}, headers=srv.as_("alice"))
    assert alice["audit_entries"] == len(seen.json()) < admin["audit_entries"]
    # a Beta import is not visible to Alpha's reviewer as a fresher "last import"
    before = alice["last_import"]
    r = srv.client.post("/api/v1/snapshots?wait=60", headers=srv.ingest("Beta Bureau"), content=(
        b'{"kitvet_inventory": "1.0.0", "snapshots": [{"host": {"host_id": "beta-new",'
        b' "institution": "Beta Bureau", "collected_at": "2026-11-28T00:00:00Z"}}]}'))
    assert r.status_code == 202, r.text
    again = srv.client.get("/api/v1/summary", headers=srv.as_("alice")).json()
    assert again["last_import"] == before and again["snapshots"] == 2


def test_a_decision_on_a_mistyped_subject_is_refused_with_a_suggestion(srv):
    r = srv.client.post("/api/v1/decisions", headers=srv.as_("admin"), json={
        "subject_id": "acmee", "decision": "banned", "rationale": "typo"})
    assert r.status_code == 404 and "did you mean 'acme'" in r.json()["detail"]
    assert srv.client.get("/api/v1/decisions", headers=srv.as_("admin")).json() == []
