"""Sign-in through the identity provider (OpenID Connect authorization code flow with PKCE),
and logout at the provider.

- ``GET /login/sso?next=`` starts a sign-in (see :meth:`kitvet.estate.sso.SsoAccounts.begin_login`):
  a browser cookie (``SameSite=Lax``, so it comes back with the provider's redirect) ties the
  callback to this browser; the browser goes to the provider with the S256 code challenge.
- ``GET /login/sso/callback`` takes the sign-in back (once), redeems the code with the
  verifier, checks the ID token, maps the claims to a role and institutions, updates the
  kitvet user and starts an ordinary kitvet session. The answer is a page that moves on to
  ``next`` by itself: a cookie set with ``SameSite=Strict`` is not sent on a navigation that a
  cross-site redirect started, so going on from our own page is what lets it be used at once.
- Logout of a provider account ends the kitvet session, then sends the browser to the
  provider's ``end_session_endpoint`` (RP-initiated logout), so the next sign-in asks again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from kitvet.estate import AccountError
from kitvet.server.deps import Ctx
from kitvet.server.security import SESSION_COOKIE, client_address
from kitvet.server.sso.client import OidcClient, SsoError
from kitvet.server.sso.config import SsoConfig
from kitvet.server.web.render import error_page, render

logger = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)
SSO_COOKIE = "kitvet_sso"
SSO_PATH = "/login/sso"


@dataclass
class Sso:
    """The server's identity provider: its configuration and client."""

    config: SsoConfig
    client: OidcClient


def sso_of(request: Request) -> Sso | None:
    """The app's single sign-on, or None when it is not configured."""
    return getattr(request.app.state, "sso", None)


def _next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value[:500]
    return "/"


def _base(request: Request) -> str:
    return str(request.base_url)


@router.get(SSO_PATH)
def start(request: Request, ctx: Ctx, next: str | None = None) -> Response:
    """Send the browser to the identity provider."""
    sso = sso_of(request)
    if sso is None:
        return error_page(request, 404, "single sign-on is not configured")
    login = ctx.estate.sso.begin_login(next_url=_next(next))
    try:
        url = sso.client.authorization_url(redirect_uri=sso.config.redirect_uri(_base(request)),
                                           state=login.state, nonce=login.nonce,
                                           code_verifier=login.code_verifier)
    except SsoError as e:
        logger.warning("single sign-on unavailable: %s", e)
        return error_page(request, 502, f"The identity provider cannot be reached: {e.message}")
    resp = RedirectResponse(url, status_code=303)
    resp.set_cookie(SSO_COOKIE, login.browser, max_age=600, httponly=True, samesite="lax",
                    secure=ctx.settings.secure_cookies, path=SSO_PATH)
    return resp


@router.get(SSO_PATH + "/callback")
def callback(request: Request, ctx: Ctx, code: str | None = None, state: str | None = None,
             error: str | None = None) -> Response:
    """Finish the sign-in the provider sends back."""
    sso = sso_of(request)
    if sso is None:
        return error_page(request, 404, "single sign-on is not configured")
    pending = ctx.estate.sso.take_login(state, request.cookies.get(SSO_COOKIE))
    if pending is None:
        return _refused(request, 400, "This sign-in expired or was started in another browser.")
    if error or not code:
        return _refused(request, 401, f"The identity provider did not sign you in "
                                      f"({(error or 'no code')[:80]}).")
    try:
        signed = sso.client.sign_in(code=code, code_verifier=pending.code_verifier,
                                    nonce=pending.nonce,
                                    redirect_uri=sso.config.redirect_uri(_base(request)))
    except SsoError as e:
        logger.warning("single sign-on refused: %s", e)
        return _refused(request, 401, f"Sign-in failed: {e.message}")
    grant = sso.config.grant(signed.claims)
    if grant is None:
        name = ctx.estate.sso.withdraw(issuer=signed.issuer, subject=signed.subject,
                                       reason="no role rule matched the provider's claims")
        logger.warning("single sign-on of %r (%s): no kitvet role", name, signed.subject[:60])
        return _refused(request, 403, "Your account at the identity provider has no kitvet "
                                      "role. Ask your administrator.")
    try:
        user = ctx.estate.sso.sign_in(issuer=signed.issuer, subject=signed.subject,
                                      username=sso.config.username(signed.claims),
                                      role=grant.role, institutions=grant.institutions)
    except AccountError as e:
        return _refused(request, 403, e.message)
    s = ctx.settings
    cookie, _csrf = ctx.estate.accounts.create_session(user, client=client_address(request),
                                                       ttl_s=s.session_ttl_s)
    logger.info("single sign-on of %r as %s", user.username, user.role)
    resp = render(request, "sso_continue.html", None, target=pending.next_url,
                  message="Signed in. Opening kitvet…")
    resp.set_cookie(SESSION_COOKIE, cookie, max_age=s.session_ttl_s, httponly=True,
                    samesite="strict", secure=s.secure_cookies, path="/")
    resp.delete_cookie(SSO_COOKIE, path=SSO_PATH)
    return resp


def _refused(request: Request, status: int, message: str) -> Response:
    resp = render(request, "sso_refused.html", None, status=status, message=message)
    resp.delete_cookie(SSO_COOKIE, path=SSO_PATH)
    return resp


def logout_target(request: Request, username: str | None) -> Response | None:
    """For a provider account: the page that sends the browser on to the provider's logout
    (a page, not a redirect: the logout form's ``form-action 'self'`` forbids redirecting a
    form elsewhere). None for local accounts or when the provider has no logout."""
    sso = sso_of(request)
    if sso is None or username is None or not sso.config.logout_at_provider:
        return None
    if not request.app.state.kv.estate.sso.is_sso_user(username):
        return None
    back = (sso.config.public_url or _base(request)).rstrip("/") + "/login"
    url = sso.client.end_session_url(post_logout_redirect_uri=back)
    if url is None:
        return None
    return render(request, "sso_continue.html", None, target=url,
                  message=f"Logged out of kitvet. Ending your session at {sso.config.label}…")
