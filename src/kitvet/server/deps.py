"""Request dependencies, as ``Annotated`` aliases: the context, the signed-in user, tokens.

- ``Ctx``: the :class:`~kitvet.server.context.ServerContext`.
- ``EstateDep``: the :class:`~kitvet.estate.Estate` (the one door to the estate's data).
- ``CurrentUser`` (API): a user token (``Authorization: Bearer kvt_...``; a ``read`` token
  only for safe methods) or a browser session cookie; with a cookie, unsafe methods also need
  the session's CSRF token in ``X-CSRF-Token``.
- ``IngestToken`` (API): an institution's ingest token.
- ``SessionDep`` (pages): the browser session (user and CSRF token); without one the browser
  is sent to the login page.
- ``FindingClasses``: the ``class`` query parameters, checked (400 naming ``class``).
- ``Offset``, ``CampaignId``, ``ExceptionId``: integers bounded to what the review database
  stores (a larger value is a 422 naming the parameter, never a database error).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request

from kitvet.errors import KitvetError
from kitvet.estate import Estate, TokenInfo, User
from kitvet.model.finding import expand_classes
from kitvet.server.context import ServerContext
from kitvet.server.security import SESSION_COOKIE, same_token

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Largest id or offset accepted: INTEGER columns are 32-bit on PostgreSQL.
MAX_INT = 2**31 - 1

Offset = Annotated[int, Query(ge=0, le=MAX_INT, description="rows to skip")]
CampaignId = Annotated[int, Path(ge=1, le=MAX_INT)]
ExceptionId = Annotated[int, Path(ge=1, le=MAX_INT)]


def get_ctx(request: Request) -> ServerContext:
    """The app's context."""
    return request.app.state.kv


Ctx = Annotated[ServerContext, Depends(get_ctx)]


def get_estate(ctx: Ctx) -> Estate:
    """The estate the server serves."""
    return ctx.estate


EstateDep = Annotated[Estate, Depends(get_estate)]


@dataclass(frozen=True)
class WebSession:
    """A browser session: who is signed in and the session's CSRF token."""

    user: User
    csrf: str


class LoginRequired(Exception):
    """Raised by page dependencies; the app answers with a redirect to /login."""

    def __init__(self, next_url: str):
        self.next_url = next_url


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def api_user(request: Request, estate: EstateDep) -> User:
    """The user behind an API request (401 without valid credentials)."""
    token = _bearer(request)
    if token is not None:
        info = estate.tokens.lookup(token)
        if info is None:
            raise HTTPException(401, "invalid, expired or revoked token",
                                headers={"WWW-Authenticate": "Bearer"})
        if info.kind != "user" or not info.username:
            raise HTTPException(403, "an ingest token can only send snapshots")
        if info.read_only and request.method not in SAFE_METHODS:
            raise HTTPException(403, "this token is read-only")
        user = estate.accounts.get_user(info.username)
        if user is None:
            raise HTTPException(401, "the token's user is disabled",
                                headers={"WWW-Authenticate": "Bearer"})
        estate.tokens.touch(info)
        return user
    found = estate.accounts.session_user(request.cookies.get(SESSION_COOKIE))
    if found is None:
        raise HTTPException(401, "sign in or send Authorization: Bearer <token>",
                            headers={"WWW-Authenticate": "Bearer"})
    user, csrf = found
    if request.method not in SAFE_METHODS and not same_token(
            request.headers.get("x-csrf-token"), csrf):
        raise HTTPException(403, "missing or wrong X-CSRF-Token header")
    return user


CurrentUser = Annotated[User, Depends(api_user)]


def ingest_token(request: Request, estate: EstateDep) -> TokenInfo:
    """The institution token of an ingest request (401 missing/invalid, 403 wrong kind)."""
    token = _bearer(request)
    if token is None:
        raise HTTPException(401, "send Authorization: Bearer <institution token>",
                            headers={"WWW-Authenticate": "Bearer"})
    info = estate.tokens.lookup(token)
    if info is None:
        raise HTTPException(401, "invalid, expired or revoked token",
                            headers={"WWW-Authenticate": "Bearer"})
    if info.scope != "ingest" or not info.institution:
        raise HTTPException(403, "this token is not an institution's ingest token")
    return info


IngestToken = Annotated[TokenInfo, Depends(ingest_token)]


def web_session(request: Request, estate: EstateDep) -> WebSession:
    """The browser session of a page request (redirect to /login without one)."""
    found = estate.accounts.session_user(request.cookies.get(SESSION_COOKIE))
    if found is None:
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(nxt if request.method == "GET" else "/")
    return WebSession(*found)


SessionDep = Annotated[WebSession, Depends(web_session)]


def require_act(user: User) -> None:
    """403 unless the user may change findings (admin, reviewer)."""
    if not user.can_act:
        raise HTTPException(403, f"the {user.role} role is read-only")


def require_admin(user: User) -> None:
    """403 unless the user is an admin."""
    if not user.is_admin:
        raise HTTPException(403, "only an admin may do this")


def finding_classes(finding_class: list[str] = Query(default=[], alias="class")
                    ) -> tuple[str, ...]:
    """The requested finding classes or aliases (``eol``, ``vulnerable`` ...), repeatable or
    comma-separated; an unknown one is a bad request naming ``class``."""
    names = tuple(c for c in finding_class if c)
    try:
        expand_classes(n for name in names for n in name.split(",") if n.strip())
    except ValueError as e:
        raise KitvetError(str(e), place="class") from e
    return names


FindingClasses = Annotated[tuple[str, ...], Depends(finding_classes)]
