"""Dashboard pages: login, sessions, CSRF, rate limit, headers, escaping, scope (404)."""

from __future__ import annotations

import re

from srvkit import PASSWORD, csrf_of, login

PAGES = ["/", "/findings", "/subjects", "/subjects/acme", "/decisions", "/exceptions",
         "/campaigns", "/hosts", "/hosts/alpha-ws-1", "/audit"]


def test_pages_need_a_session(sqlite_srv):
    r = sqlite_srv.client.get("/findings?status=ban", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/findings%3Fstatus%3Dban"


def test_login_sets_a_strict_httponly_session_cookie(sqlite_srv):
    r = login(sqlite_srv.client, "admin", next_url="/findings")
    assert r.status_code == 303 and r.headers["location"] == "/findings"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("kitvet_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    for page in PAGES:
        assert sqlite_srv.client.get(page).status_code == 200, page


def test_session_id_is_stored_hashed(sqlite_srv):
    from sqlalchemy import select

    from kitvet.store import account_tables as st

    login(sqlite_srv.client, "admin")
    cookie = sqlite_srv.client.cookies.get("kitvet_session")
    with sqlite_srv.estate.engine.connect() as conn:
        stored = conn.execute(select(st.sessions.c.session_hash)).scalars().all()
    assert cookie and cookie not in stored and len(stored) == 1


def test_login_refuses_an_open_redirect(sqlite_srv):
    r = login(sqlite_srv.client, "admin", next_url="//evil.example/")
    assert r.headers["location"] == "/"


def test_wrong_password_and_rate_limit(sqlite_srv):
    c = sqlite_srv.client
    for _ in range(5):
        assert login(c, "alice", "wrong password!").status_code == 401
    r = login(c, "alice")  # right password, but locked out for 15 minutes
    assert r.status_code == 429
    assert "too many failed logins" in r.text
    assert login(c, "bob").status_code == 303  # another user is not affected


def test_login_form_needs_its_csrf_token(sqlite_srv):
    c = sqlite_srv.client
    c.get("/login")
    r = c.post("/login", data={"username": "admin", "password": PASSWORD,
                               "csrf_token": "forged"}, follow_redirects=False)
    assert r.status_code == 403


def test_every_post_checks_the_session_csrf_token(sqlite_srv):
    c = sqlite_srv.client
    login(c, "alice")
    fid = sqlite_srv.finding_of("alpha-ws-1")["finding_id"]
    page = c.get(f"/findings/{fid}")
    token = csrf_of(page.text)
    data = {"state": "in_review", "reason": "looking"}
    assert c.post(f"/findings/{fid}/state", data=data).status_code == 403
    assert c.post(f"/findings/{fid}/state", data={**data, "csrf_token": "x" * 43}
                  ).status_code == 403
    r = c.post(f"/findings/{fid}/state", data={**data, "csrf_token": token},
               follow_redirects=False)
    assert r.status_code == 303
    assert "in_review" in c.get(f"/findings/{fid}").text
    assert c.post("/logout", data={}).status_code == 403
    assert c.post("/logout", data={"csrf_token": token}, follow_redirects=False
                  ).status_code == 303
    assert c.get("/", follow_redirects=False).status_code == 303


def test_security_headers(sqlite_srv):
    login(sqlite_srv.client, "admin")
    for path in ("/", "/login", "/api/v1/summary", "/static/kitvet.css"):
        h = sqlite_srv.client.get(path).headers
        assert "default-src 'self'" in h["content-security-policy"], path
        assert "frame-ancestors 'none'" in h["content-security-policy"]
        assert h["x-content-type-options"] == "nosniff"


def test_host_strings_are_escaped(sqlite_srv):
    c = sqlite_srv.client
    login(c, "admin")
    fid = next(f["finding_id"] for f in sqlite_srv.findings() if f["name"].startswith("<"))
    for page in ("/findings", f"/findings/{fid}", "/hosts/alpha-ws-1",
                 "/hosts?software=script", "/findings?q=<script>"):
        html = c.get(page).text
        assert "<script>alert(1)</script>" not in html, page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, page
    html = c.get("/hosts/alpha-ws-1").text
    assert "=HYPERLINK(&#34;http://evil.example&#34;,&#34;click&#34;)" in html
    assert 'href="http://evil.example"' not in html


def test_no_javascript_and_no_external_assets(sqlite_srv):
    c = sqlite_srv.client
    login(c, "admin")
    for page in [*PAGES, "/login", "/api/v1/docs"]:
        html = c.get(page).text
        assert "<script" not in html.replace("&lt;script", ""), page
        for url in re.findall(r'<(?:link|img|script)[^>]+(?:href|src)="([^"]+)"', html):
            assert url.startswith("/"), (page, url)


def test_javascript_references_are_never_links(sqlite_srv):
    login(sqlite_srv.client, "admin")
    html = sqlite_srv.client.get("/subjects/acme").text
    assert "Test Commission" in html and 'href="javascript:' not in html
    assert 'href="https://gov.example/order"' in html


def test_reviewer_pages_are_scoped(sqlite_srv):
    c = sqlite_srv.client
    login(c, "alice")
    beta = sqlite_srv.finding_of("beta-ws-1")["finding_id"]
    r = c.get(f"/findings/{beta}")
    assert r.status_code == 404 and "Evil Tool" not in r.text
    assert c.get("/hosts/beta-ws-1").status_code == 404
    token = csrf_of(c.get("/").text)
    r = c.post(f"/findings/{beta}/state", data={"state": "in_review", "reason": "x",
                                                "csrf_token": token})
    assert r.status_code == 404
    for page in ("/findings", "/hosts", "/", "/hosts?software=suite", "/audit"):
        html = c.get(page).text
        assert "beta-ws-1" not in html and "Beta Bureau" not in html, page


def test_auditor_sees_no_action_forms(sqlite_srv):
    c = sqlite_srv.client
    login(c, "audrey")
    fid = sqlite_srv.finding_of("alpha-ws-1")["finding_id"]
    html = c.get(f"/findings/{fid}").text
    assert "state-form" not in html and "exception-form" not in html
    r = c.post(f"/findings/{fid}/state", data={"state": "in_review", "reason": "x",
                                               "csrf_token": csrf_of(html)})
    assert r.status_code == 403


def test_overview_chart_and_campaign_burndown(sqlite_srv):
    c = sqlite_srv.client
    login(c, "admin")
    html = c.get("/").text
    assert "<svg" in html and "Alpha Agency" in html
    token = csrf_of(html)
    r = c.post("/campaigns", data={"subject_id": "evil-build", "csrf_token": token},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    page = c.get(r.headers["location"]).text
    assert "Burndown" in page and "<polyline" in page and "remaining" in page


def test_exception_from_the_finding_page(sqlite_srv):
    c = sqlite_srv.client
    login(c, "alice")
    fid = sqlite_srv.finding_of("alpha-ws-2")["finding_id"]
    html = c.get(f"/findings/{fid}").text
    assert "estate" not in re.findall(r'<select name="scope">(.*?)</select>', html, re.DOTALL)[0]
    r = c.post(f"/findings/{fid}/exception", data={
        "scope": "host:alpha-ws-2", "expires": "2999-01-01", "reason": "test bench",
        "csrf_token": csrf_of(html)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert "accepted" in c.get(f"/findings/{fid}").text
    r = c.post(f"/findings/{fid}/exception", data={
        "scope": "host:alpha-ws-2", "expires": "2000-01-01", "reason": "x",
        "csrf_token": csrf_of(html)})
    assert r.status_code == 409 and "already past" in r.text


def test_guessing_other_user_names_from_an_address_does_not_lock_the_admin_out(sqlite_srv):
    """Issue 20, item 3: the throttle is per account and per (account, address), so failures
    for other names from one address (behind a proxy: everyone's) leave the admin alone."""
    c = sqlite_srv.client
    for i in range(60):
        assert login(c, f"nobody{i % 12}", "guess").status_code == 401
    assert login(c, "nobody0", "guess").status_code == 429
    assert login(c, "admin").status_code == 303


def test_control_and_bidi_characters_are_shown_not_obeyed(sqlite_srv):
    login(sqlite_srv.client, "admin")
    html = sqlite_srv.client.get("/hosts/alpha-ws-1").text
    assert "\u202e" not in html and "\x07" not in html
    assert "Notes\\u202efdp.exe" in html  # shown escaped (the reader already dropped the BEL)


def test_error_pages_keep_the_navigation_for_a_signed_in_user(sqlite_srv):
    login(sqlite_srv.client, "alice")
    r = sqlite_srv.client.get("/findings/0123456789abcdef0123")
    assert r.status_code == 404 and "Log out" in r.text and "Not found" in r.text


def _hostile_host(srv, host_id: str = "rack/7") -> str:
    """Import a host whose id has a "/" and whose strings are very long; returns its finding."""
    from srvkit import risk_lists

    from kitvet.model import Host, Snapshot
    from kitvet.policy import load_profile

    snap = Snapshot(host=Host(host_id=host_id, hostname="h" * 400, institution="Alpha Agency",
                              collected_at="2026-11-20T10:00:00Z"),
                    software=[{"name": "Evil <b>" + "N" * 5000, "version": "1",
                               "publisher": "Evil Build Corp"}])
    srv.estate.import_snapshots([snap], actor="tests")
    srv.estate.review(actor="tests", lists=risk_lists(), policy=load_profile("default"))
    return next(f["finding_id"] for f in srv.findings() if f["host_id"] == host_id)


def test_a_host_id_with_a_slash_has_a_working_page_and_api(sqlite_srv):
    fid = _hostile_host(sqlite_srv)
    c = sqlite_srv.client
    login(c, "admin")
    html = c.get(f"/findings/{fid}").text
    assert 'href="/hosts/rack/7"' in html
    page = c.get("/hosts/rack/7")
    assert page.status_code == 200 and "Evil &lt;b&gt;NNN" in page.text
    api = c.get("/api/v1/hosts/rack%2F7", headers=sqlite_srv.as_("admin"))
    assert api.status_code == 200 and api.json()["host_id"] == "rack/7"
    inv = c.get("/api/v1/hosts/rack/7/inventory", headers=sqlite_srv.as_("admin"))
    assert inv.status_code == 200 and inv.json()["host_id"] == "rack/7"
    assert inv.json()["items"][0]["publisher"] == "Evil Build Corp"
    # still scoped: bob (Beta Bureau) gets 404 for both
    assert c.get("/api/v1/hosts/rack/7", headers=sqlite_srv.as_("bob")).status_code == 404
    assert c.get("/api/v1/hosts/rack/7/inventory",
                 headers=sqlite_srv.as_("bob")).status_code == 404


def test_lists_cut_long_host_strings_the_finding_page_shows_more(sqlite_srv):
    fid = _hostile_host(sqlite_srv)
    c = sqlite_srv.client
    login(c, "admin")
    listing = c.get("/findings?q=rack").text
    assert "N" * 110 in listing and "N" * 200 not in listing and "h" * 400 not in listing
    assert "&lt;b&gt;" in listing and "<b>NNN" not in listing
    hosts = c.get("/hosts?q=rack").text
    assert "h" * 60 in hosts and "h" * 61 not in hosts
    detail = c.get(f"/findings/{fid}").text
    assert "N" * 900 in detail and "N" * 1001 not in detail


def test_audit_details_read_as_json_not_python(sqlite_srv):
    login(sqlite_srv.client, "admin")
    html = sqlite_srv.client.get("/audit?action=estate.review").text
    assert "<b>by_status</b>: {&#34;" in html  # {"ban": 1, ...}
    assert "{&#39;" not in html and ": None<" not in html


def test_campaign_page_counts_excepted_hosts_so_the_columns_add_up(sqlite_srv):
    c = sqlite_srv.client
    login(c, "admin")
    token = csrf_of(c.get("/campaigns").text)
    r = c.post("/campaigns", data={"subject_id": "evil-build", "csrf_token": token},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    waived = sqlite_srv.finding_of("alpha-ws-1")
    assert waived["subject_id"] == "evil-build"
    r = c.post("/api/v1/exceptions", headers=sqlite_srv.as_("admin"), json={
        "subject_id": "evil-build", "scope": "host:alpha-ws-1", "reason": "malware lab",
        "expires": "2999-01-01"})
    assert r.status_code == 201, r.text
    page = c.get(r.headers.get("location") or "/campaigns/1").text
    rows = re.findall(r"<tr><td><a[^>]*>Alpha Agency</a></td>(.*?)</tr>", page)
    assert rows, page
    cells = [int(x) for x in re.findall(r'<td class="num[^"]*">(\d+)</td>', rows[0])]
    affected, removed, excepted, remaining, _overdue = cells
    assert excepted == 1 and affected == removed + excepted + remaining
    assert "<th>Excepted</th>" in c.get("/campaigns").text
    assert "━ hosts remaining" in page  # the burndown legend says which line is which


def test_start_campaign_offers_only_subjects_a_campaign_can_start_for(sqlite_srv):
    c = sqlite_srv.client
    login(c, "admin")

    def offered() -> list[str]:
        html = c.get("/campaigns").text
        return re.findall(r'<option value="([^"]+)">', html)

    assert offered() == ["evil-build"]  # ban by policy; acme is only "review"
    r = c.post("/campaigns", data={"subject_id": "evil-build",
                                   "csrf_token": csrf_of(c.get("/campaigns").text)},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    assert offered() == [] and 'id="no-candidates"' in c.get("/campaigns").text
    r = c.post("/api/v1/decisions", headers=sqlite_srv.as_("admin"), json={
        "subject_id": "acme", "decision": "banned", "rationale": "ministry order"})
    assert r.status_code == 201, r.text
    assert offered() == ["acme"]
