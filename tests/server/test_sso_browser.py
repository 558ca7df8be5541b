"""Single sign-on in real Chromium (Debian's /usr/bin/chromium through Playwright) against a
real OpenID Connect provider on loopback (idp.py; another site: localhost vs 127.0.0.1): the
login page's button, the provider's page, back to the page asked for with the mapped role,
Strict HttpOnly session cookie, logout through the provider's end-session page, and the old
session dead on the server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from idp import provider
from srvkit import make_server

from kitvet.server.testing import browser, chromium_path, free_port, running

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(chromium_path() is None,
                       reason="Debian chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("sso-browser")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with provider([f"{base}/login/sso/callback"]) as idp:
        idp.set_user("u-2001", {"preferred_username": "dirk", "email": "dirk@example.org",
                                "groups": ["alpha-reviewers"]})
        cfg = tmp / "sso.yaml"
        cfg.write_text(yaml.safe_dump({
            "issuer": idp.issuer, "client_id": idp.client_id,
            "client_secret": idp.client_secret, "public_url": base, "label": "Test IdP",
            "roles": [{"claim": "groups", "value": "alpha-reviewers", "role": "reviewer",
                       "institutions": ["Alpha Agency"]}]}))
        app, est, _ut, _it = make_server(Path(tmp) / "estate", None, review_mode="off",
                                         sso_config=cfg)
        with running(app, port=port), browser() as b:
            yield {"base": base, "idp": idp, "browser": b, "estate": est}
        est.close()


def test_sign_in_and_out_through_the_identity_provider_in_chromium(site):
    base, idp = site["base"], site["idp"]
    ctx = site["browser"].new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    csp_errors: list[str] = []
    page.on("console", lambda m: csp_errors.append(m.text)
            if "Content Security Policy" in m.text else None)

    page.goto(f"{base}/findings?status=ban")
    assert page.url.startswith(f"{base}/login")
    page.click("#sso-login")  # "Sign in with Test IdP"
    page.wait_for_load_state("load")
    assert page.url.startswith(f"{idp.issuer}/oauth2/authorize")
    assert "code_challenge_method=S256" in page.url
    page.fill("input[name=sub]", "u-2001")
    page.click("button:has-text('Authorize')")
    page.wait_for_url(f"{base}/findings?status=ban", timeout=30_000)
    assert "dirk · reviewer · Alpha Agency" in page.inner_text("header .who")
    main = page.inner_text("main")
    assert "alpha-ws-1" in main and "Beta Bureau" not in main
    assert idp.pkce.refused == 0 and idp.pkce.token_requests[-1]["code_verifier"]

    session = next(c for c in ctx.cookies() if c["name"] == "kitvet_session")
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert not any(c["name"] == "kitvet_sso" for c in ctx.cookies())  # used up

    page.click("header .who button:has-text('Log out')")
    page.wait_for_url(f"{idp.issuer}/oauth2/end_session*", timeout=30_000)
    page.click("button:has-text('End session')")
    page.wait_for_url(f"{base}/login*", timeout=30_000)
    assert page.is_visible("#sso-login")
    assert not any(c["name"] == "kitvet_session" for c in ctx.cookies())
    with httpx.Client(timeout=20, cookies={"kitvet_session": session["value"]}) as old:
        assert old.get(f"{base}/api/v1/summary").status_code == 401
    page.goto(f"{base}/")  # signed out: the dashboard asks to log in again
    assert page.url.startswith(f"{base}/login")
    assert csp_errors == []
    ctx.close()
