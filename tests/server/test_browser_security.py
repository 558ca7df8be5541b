"""Security of the dashboard in real Chromium (issue 19, part 4): the CSP allows no inline
script or style and no page breaks it; a session cookie planted before login is never
adopted (session fixation), and one ended by logout stays dead; forms and API calls forged
by another site or another origin change nothing (CSRF). Plus the HSTS option."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from srvkit import PASSWORD, make_server

from kitvet.server.security import CSP
from kitvet.server.testing import browser, chromium_path, free_port, login, running

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(chromium_path() is None,
                       reason="Debian chromium is not installed (apt-get install chromium)"),
]
PAGES = ["/", "/findings", "/subjects", "/decisions", "/exceptions", "/campaigns", "/hosts",
         "/audit", "/reports", "/api/v1/docs"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("browser-security") / "estate"
    app, est, _ut, _it = make_server(root, None, review_mode="off")
    with running(app) as base, browser() as b:
        yield {"base": base, "browser": b, "estate": est}
    est.close()


class _Attacker:
    """Another web site on loopback serving one page (``html``) at ``/``."""

    def __init__(self, html: str):
        body = html.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _Attacker:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def _state(site: dict[str, Any], finding_id: str) -> str:
    return site["estate"].finding(finding_id, prefix=False).finding.state


def _signed_in(site: dict[str, Any], user: str = "admin") -> tuple[Any, Any]:
    ctx = site["browser"].new_context()
    page = ctx.new_page()
    login(page, site["base"], user, PASSWORD)
    assert "/login" not in page.url
    return ctx, page


def test_csp_allows_no_inline_code_and_no_page_breaks_it(site):
    assert "'unsafe-inline'" not in CSP and "'unsafe-eval'" not in CSP
    assert "frame-ancestors 'none'" in CSP and "object-src 'none'" in CSP
    ctx, page = _signed_in(site)
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text)
            if "Content Security Policy" in m.text else None)
    fid = site["estate"].findings(limit=1).items[0].finding_id
    for path in [*PAGES, f"/findings/{fid}"]:
        resp = page.goto(site["base"] + path)
        assert resp.status == 200, path
        assert "unsafe-inline" not in resp.headers["content-security-policy"]
    assert violations == []
    # the dashboard cannot be framed by another page
    with _Attacker(f'<iframe id="f" src="{site["base"]}/login"></iframe>') as evil:
        page.goto(f"http://localhost:{evil.port}/")
        page.wait_for_timeout(500)
        frame = page.frame_locator("#f")
        assert frame.locator("input[name=password]").count() == 0
    ctx.close()


def test_a_planted_session_cookie_is_never_adopted(site):
    base = site["base"]
    ctx = site["browser"].new_context()
    planted = "attacker-chosen-session-value-0123456789abcdef"
    ctx.add_cookies([{"name": "kitvet_session", "value": planted, "url": base}])
    page = ctx.new_page()
    login(page, base, "admin", PASSWORD)
    assert "/login" not in page.url
    cookie = next(c for c in ctx.cookies(base) if c["name"] == "kitvet_session")
    assert cookie["value"] != planted and len(cookie["value"]) >= 40
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    with httpx.Client(base_url=base, cookies={"kitvet_session": planted}) as c:
        assert c.get("/findings").status_code == 303  # the planted value signs nobody in
    # a second login gets a fresh session, and logout kills the one it ends
    before = cookie["value"]
    page.goto(base + "/login")  # already signed in: sent on
    page.click("form[action='/logout'] button")
    page.wait_for_load_state("load")
    assert "/login" in page.url
    with httpx.Client(base_url=base, cookies={"kitvet_session": before}) as c:
        assert c.get("/findings").status_code == 303
    login(page, base, "admin", PASSWORD)
    after = next(c for c in ctx.cookies(base) if c["name"] == "kitvet_session")["value"]
    assert after not in (before, planted)
    ctx.close()


@pytest.mark.parametrize("attacker_host", ["localhost", "127.0.0.1"])
def test_a_forged_form_from_another_site_or_origin_changes_nothing(site, attacker_host):
    """localhost is another site (the SameSite=Strict cookie is not even sent); 127.0.0.1 on
    another port is the same site but another origin (the cookie is sent, the CSRF token is
    missing: 403)."""
    fid = site["estate"].findings(limit=1).items[0].finding_id
    before = _state(site, fid)
    ctx, page = _signed_in(site)
    html = (f'<form id="f" method="post" action="{site["base"]}/findings/{fid}/state">'
            '<input name="state" value="false_positive"><input name="reason" value="forged">'
            '</form><script>document.getElementById("f").submit()</script>')
    with _Attacker(html) as evil:
        page.goto(f"http://{attacker_host}:{evil.port}/")
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)
    assert page.url.startswith(site["base"])
    body = page.content()
    assert ("CSRF" in body) if attacker_host == "127.0.0.1" else ("password" in body)
    assert _state(site, fid) == before
    ctx.close()


def test_a_cross_origin_api_call_with_the_session_changes_nothing(site):
    fid = site["estate"].findings(limit=1).items[0].finding_id
    before = _state(site, fid)
    ctx, page = _signed_in(site)
    url = f"{site['base']}/api/v1/findings/{fid}/state"
    script = ("<script>fetch('" + url + "', {method: 'POST', credentials: 'include', "
              "headers: {'Content-Type': 'application/json'}, body: JSON.stringify({state: "
              "'false_positive', reason: 'forged'})}).then(r => document.title = 'sent ' + "
              "r.status).catch(e => document.title = 'blocked')</script>")
    with _Attacker(script) as evil:
        page.goto(f"http://127.0.0.1:{evil.port}/")
        page.wait_for_function("document.title !== ''", timeout=10000)
        assert page.title() == "blocked"  # no CORS: the preflight fails, nothing is sent
    assert _state(site, fid) == before
    ctx.close()


def test_hsts_only_when_configured(tmp_path):
    from fastapi.testclient import TestClient

    for max_age, expected in ((0, None), (31536000, "max-age=31536000; includeSubDomains")):
        app, est, _ut, _it = make_server(tmp_path / f"e{max_age}", None, seed=False,
                                         hsts_max_age_s=max_age)
        with TestClient(app) as c:
            for path in ("/login", "/api/v1/openapi.json"):
                assert c.get(path).headers.get("strict-transport-security") == expected
        est.close()
