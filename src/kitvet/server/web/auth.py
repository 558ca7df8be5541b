"""Log in and out. Login forms carry a CSRF token bound to a short-lived cookie
(double submit, SameSite=Strict). Failed logins are throttled per account and per (account,
client address) before any password is hashed, and at most ``login_max_concurrent`` password
checks run at once (a login that waits longer than ``login_queue_timeout_s`` gets 503)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from kitvet.estate import LoginLimits, RateLimited
from kitvet.server.deps import Ctx, EstateDep
from kitvet.server.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    client_address,
    new_token,
    same_token,
)
from kitvet.server.web.forms import CheckedForm, field, read_form
from kitvet.server.web.render import render

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


def _next(value: str | None) -> str:
    """Only local paths (no ``//host`` or scheme) are followed after login."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value[:500]
    return "/"


def _login_page(request: Request, *, status: int = 200, error: str | None = None,
                next_url: str = "/", username: str = "") -> Response:
    token = new_token()
    resp = render(request, "login.html", None, status=status, login_csrf=token, error=error,
                  next_url=next_url, username=username)
    resp.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="strict",
                    secure=request.app.state.kv.settings.secure_cookies, path="/login")
    return resp


@router.get("/login")
def login_form(request: Request, estate: EstateDep, next: str | None = None) -> Response:
    """The login page (or the overview when already signed in)."""
    if estate.accounts.session_user(request.cookies.get(SESSION_COOKIE)):
        return RedirectResponse(_next(next), status_code=303)
    return _login_page(request, next_url=_next(next))


@router.post("/login")
async def login(request: Request, ctx: Ctx) -> Response:
    """Check the password; start a session (HttpOnly, SameSite=Strict cookie)."""
    sso = getattr(request.app.state, "sso", None)
    if sso is not None and not sso.config.local_login:
        return _login_page(request, status=403, error="Sign in with the identity provider.")
    form = await read_form(request)
    username, password = field(form, "username", 100), field(form, "password", 1000)
    nxt = _next(field(form, "next", 500))
    if not same_token(field(form, "csrf_token", 200), request.cookies.get(LOGIN_CSRF_COOKIE)):
        return _login_page(request, status=403, next_url=nxt, username=username,
                           error="The form expired; please try again.")
    s, accounts = ctx.settings, ctx.estate.accounts
    client = client_address(request, s)
    limits = LoginLimits(max_failures=s.login_max_failures,
                         account_failures=s.login_account_max_failures,
                         window_s=s.login_window_s)
    try:  # the throttle is checked (and the attempt counted) before any hashing
        attempt = await run_in_threadpool(accounts.begin_login, username, client=client,
                                          limits=limits)
    except RateLimited as e:
        resp = _login_page(request, status=429, next_url=nxt, username=username,
                           error=e.message)
        resp.headers["Retry-After"] = str(e.retry_after_s)
        return resp
    if not await ctx.login_gate.acquire():
        await run_in_threadpool(accounts.abandon_login, attempt)
        logger.warning("login for %r from %s refused: %d password checks busy", username,
                       client, ctx.login_gate.size)
        resp = _login_page(request, status=503, next_url=nxt, username=username,
                           error="The server is busy; please try again in a moment.")
        resp.headers["Retry-After"] = "5"
        return resp
    try:
        user = await run_in_threadpool(accounts.check_login, attempt, username, password,
                                       client=client)
    finally:
        ctx.login_gate.release()
    if user is None:
        return _login_page(request, status=401, next_url=nxt, username=username,
                           error="Wrong user name or password.")
    cookie, _csrf = ctx.estate.accounts.create_session(user, client=client,
                                                       ttl_s=s.session_ttl_s)
    resp = RedirectResponse(nxt, status_code=303)
    resp.set_cookie(SESSION_COOKIE, cookie, max_age=s.session_ttl_s, httponly=True,
                    samesite="strict", secure=s.secure_cookies, path="/")
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return resp


@router.post("/logout")
def logout(request: Request, estate: EstateDep, checked: CheckedForm) -> Response:
    """End the session (and a provider account's session at the identity provider)."""
    from kitvet.server.sso.routes import logout_target

    session, _form = checked
    estate.accounts.end_session(request.cookies.get(SESSION_COOKIE))
    resp = (logout_target(request, session.user.username)
            or RedirectResponse("/login", status_code=303))
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp
