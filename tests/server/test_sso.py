"""Single sign-on against a real OpenID Connect provider on loopback (see idp.py): the
authorization code flow with PKCE, claims mapped to roles and institutions, local accounts
beside it, logout at kitvet and at the provider — on SQLite and PostgreSQL, driven over HTTP
like a browser would (tests/server/test_sso_browser.py does it in Chromium)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml
from idp import Provider, provider
from srvkit import PASSWORD, make_server

from kitvet.server.testing import free_port, running

USERS = {  # provider subject: claims
    "u-1001": {"preferred_username": "carla", "email": "carla@example.org",
               "groups": ["kitvet-admins", "staff"]},
    "u-1002": {"preferred_username": "dirk", "email": "dirk@example.org",
               "groups": ["alpha-reviewers"]},
    "u-1003": {"preferred_username": "erin", "email": "erin@example.org",
               "groups": ["reviewers"], "institution": ["Beta Bureau"]},
    "u-1004": {"preferred_username": "frank", "email": "frank@example.org",
               "groups": ["staff"]},
    "u-1005": {"preferred_username": "alice", "email": "alice@example.org",
               "groups": ["kitvet-admins"]},  # a local account of that name exists
}
ROLES = [
    {"claim": "groups", "value": "kitvet-admins", "role": "admin"},
    {"claim": "groups", "value": ["kitvet-auditors"], "role": "auditor"},
    {"claim": "groups", "value": "alpha-reviewers", "role": "reviewer",
     "institutions": ["Alpha Agency"]},
    {"claim": "groups", "value": "reviewers", "role": "reviewer",
     "institutions_claim": "institution"},
]


def sso_config(tmp: Path, idp: Provider, base: str, **extra: Any) -> Path:
    path = tmp / "sso.yaml"
    path.write_text(yaml.safe_dump({
        "issuer": idp.issuer, "client_id": idp.client_id, "client_secret_env": "TEST_SSO_SECRET",
        "public_url": base, "label": "Test IdP", "roles": ROLES, **extra}))
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def site(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
         ) -> Iterator[dict[str, Any]]:
    db_url = request.getfixturevalue("pg_schema_url") if request.param == "postgres" else None
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with provider([f"{base}/login/sso/callback"]) as idp:
        for sub, claims in USERS.items():
            idp.set_user(sub, claims)
        monkeypatch.setenv("TEST_SSO_SECRET", idp.client_secret)
        app, est, _ut, _it = make_server(tmp_path / "estate", db_url, seed=False, review_mode="off",
                                         sso_config=sso_config(tmp_path, idp, base))
        try:
            with running(app, port=port):
                yield {"base": base, "idp": idp, "estate": est, "app": app}
        finally:
            est.close()


def _browser() -> httpx.Client:
    return httpx.Client(timeout=20, follow_redirects=False)


def start(b: httpx.Client, base: str, next_url: str = "/") -> str:
    """Click "Sign in with Test IdP": returns the provider's authorization URL."""
    page = b.get(f"{base}/login", params={"next": next_url})
    assert "Sign in with Test IdP" in page.text
    r = b.get(f"{base}/login/sso", params={"next": next_url})
    assert r.status_code == 303, r.text
    return r.headers["location"]


def authorize(b: httpx.Client, url: str, sub: str) -> str:
    """Sign in at the provider as ``sub``: returns kitvet's callback URL with the code."""
    form = b.get(url)
    assert form.status_code == 200 and "Authorize" in form.text
    r = b.post(url, data={"sub": sub})
    assert r.status_code == 302, r.text
    return r.headers["location"]


def finish(b: httpx.Client, callback: str) -> httpx.Response:
    return b.get(callback)


def sign_in(base: str, sub: str, next_url: str = "/") -> tuple[httpx.Client, httpx.Response]:
    b = _browser()
    r = finish(b, authorize(b, start(b, base, next_url), sub))
    return b, r


def whoami(b: httpx.Client, base: str) -> dict[str, Any] | None:
    r = b.get(f"{base}/api/v1/summary")
    return r.json()["user"] if r.status_code == 200 else None


def test_code_flow_with_pkce_signs_in_with_the_mapped_role(site):
    base, idp = site["base"], site["idp"]
    b = _browser()
    url = start(b, base, "/findings?status=ban")
    q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(idp.issuer + "/oauth2/authorize")
    assert q["response_type"] == "code" and q["client_id"] == idp.client_id
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43
    assert q["redirect_uri"] == f"{base}/login/sso/callback"
    assert set(q["scope"].split()) >= {"openid", "profile", "email"}
    assert len(q["state"]) >= 32 and len(q["nonce"]) >= 32
    r = finish(b, authorize(b, url, "u-1001"))
    assert r.status_code == 200
    # the page moves on by itself (a Strict cookie set after a cross-site redirect)
    assert re.search(r'http-equiv="refresh" content="0;url=/findings\?status=ban"', r.text)
    cookie = r.headers["set-cookie"]
    assert "kitvet_session=" in cookie and "httponly" in cookie.lower()
    assert "samesite=strict" in cookie.lower()
    assert whoami(b, base) == {"username": "carla", "role": "admin", "institutions": []}
    # the provider saw a verifier matching the challenge; nothing was refused
    token_req = idp.pkce.token_requests[-1]
    assert token_req["grant_type"] == "authorization_code" and token_req["code_verifier"]
    assert idp.pkce.refused == 0
    # the estate audit log records the new account, made by the provider
    entry = next(e for e in site["estate"].audit(limit=20) if e.object == "user:carla")
    assert entry.action == "user.create" and entry.actor == f"sso:{idp.issuer}"


def test_groups_map_to_reviewer_scopes(site):
    base = site["base"]
    b, _ = sign_in(base, "u-1002")
    assert whoami(b, base) == {"username": "dirk", "role": "reviewer",
                               "institutions": ["Alpha Agency"]}
    b2, _ = sign_in(base, "u-1003")  # institutions from the provider's own claim
    assert whoami(b2, base)["institutions"] == ["Beta Bureau"]


def test_no_matching_claim_is_refused_and_ends_open_sessions(site):
    base, idp = site["base"], site["idp"]
    b, r = sign_in(base, "u-1004")
    assert r.status_code == 403 and "no kitvet role" in r.text
    assert whoami(b, base) is None
    # dirk signs in, then loses his group at the provider: his next sign-in ends his sessions
    b1, _ = sign_in(base, "u-1002")
    assert whoami(b1, base)["role"] == "reviewer"
    idp.set_user("u-1002", {**USERS["u-1002"], "groups": []})
    _b2, r = sign_in(base, "u-1002")
    assert r.status_code == 403
    assert whoami(b1, base) is None
    assert any(e.action == "user.sso_refused" for e in site["estate"].audit(limit=20))


def test_role_changes_at_the_provider_apply_at_the_next_sign_in(site):
    base, idp = site["base"], site["idp"]
    sign_in(base, "u-1002")
    idp.set_user("u-1002", {**USERS["u-1002"], "groups": ["kitvet-auditors"],
                            "preferred_username": "dirk.renamed"})
    b, _ = sign_in(base, "u-1002")
    # same kitvet user (tied to the provider's subject, not its changing user name)
    assert whoami(b, base) == {"username": "dirk", "role": "auditor", "institutions": []}
    entry = next(e for e in site["estate"].audit(limit=20) if e.action == "user.update")
    assert entry.details["was"] == {"role": "reviewer", "institutions": ["Alpha Agency"]}


def test_a_provider_account_never_takes_over_a_local_account(site):
    base = site["base"]
    b, r = sign_in(base, "u-1005")  # preferred_username "alice" is a local reviewer
    assert r.status_code == 403 and "exists already" in r.text
    assert whoami(b, base) is None
    assert site["estate"].accounts.get_user("alice").role == "reviewer"


def test_local_accounts_still_sign_in_and_provider_accounts_have_no_password(site):
    from srvkit import login

    base = site["base"]
    with httpx.Client(base_url=base, timeout=20) as c:
        r = login(c, "alice")
        assert r.status_code == 303 and whoami(c, base)["username"] == "alice"
    sign_in(base, "u-1001")
    with httpx.Client(base_url=base, timeout=20) as c:
        for guess in ("", "!sso", PASSWORD):
            assert login(c, "carla", guess).status_code in (401, 422, 400)


def test_the_callback_is_bound_to_the_browser_and_used_once(site):
    base = site["base"]
    b = _browser()
    callback = authorize(b, start(b, base), "u-1001")
    other = _browser()  # the same link in another browser (a login CSRF attempt)
    r = other.get(callback)
    assert r.status_code == 400 and "another browser" in r.text
    assert whoami(other, base) is None
    r = finish(b, callback)  # the rightful browser still finishes
    assert r.status_code == 200 and whoami(b, base)["username"] == "carla"
    r = b.get(callback)  # a replay finds nothing
    assert r.status_code == 400


def test_a_wrong_verifier_is_refused_by_the_provider(site, monkeypatch):
    from kitvet.estate.sso import SsoAccounts

    base, idp = site["base"], site["idp"]
    real = SsoAccounts.take_login

    def tampered(self, state, browser):  # type: ignore[no-untyped-def]
        got = real(self, state, browser)
        return got and type(got)(got.state, got.browser, "x" * 64, got.nonce, got.next_url)

    monkeypatch.setattr(SsoAccounts, "take_login", tampered)
    b, r = sign_in(base, "u-1001")
    assert r.status_code == 401 and "invalid_grant" in r.text
    assert idp.pkce.refused == 1 and whoami(b, base) is None


def test_a_state_the_server_never_issued_is_refused(site):
    base = site["base"]
    b = _browser()
    start(b, base)
    r = b.get(f"{base}/login/sso/callback", params={"code": "abc", "state": "forged" * 8})
    assert r.status_code == 400
    r = b.get(f"{base}/login/sso/callback", params={"error": "access_denied", "state": "x"})
    assert r.status_code == 400


def test_logout_ends_the_session_here_and_at_the_provider(site):
    base, idp = site["base"], site["idp"]
    b, _ = sign_in(base, "u-1001")
    overview = b.get(f"{base}/")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', overview.text).group(1)
    session_cookie = b.cookies.get("kitvet_session")
    r = b.post(f"{base}/logout", data={"csrf_token": csrf})
    assert r.status_code == 200
    target = re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', r.text).group(1)
    target = target.replace("&amp;", "&")
    assert target.startswith(f"{idp.issuer}/oauth2/end_session?")
    q = parse_qs(urlsplit(target).query)
    assert q["post_logout_redirect_uri"] == [f"{base}/login"]
    assert q["client_id"] == [idp.client_id]
    assert b.get(target).status_code == 200  # the provider's logout page
    # the session is gone server-side: the old cookie no longer opens anything
    with httpx.Client(timeout=20, cookies={"kitvet_session": session_cookie}) as stolen:
        assert stolen.get(f"{base}/api/v1/summary").status_code == 401
    # a local account's logout stays a plain redirect to the login page
    from srvkit import login

    with httpx.Client(base_url=base, timeout=20) as c:
        login(c, "admin")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/").text).group(1)
        r = c.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login"
