"""API tokens: per-institution ingest tokens for hosts and tools, and user tokens for scripts.

A token is ``kvt_`` + 43 URL-safe random characters, shown once when issued; the database keeps
only its SHA-256, and no log line ever holds it. Each token has a **scope**: ``ingest`` (an
institution's agents may only send inventory for it), ``read`` (acts as its user on the API's
safe methods only: dashboards) or ``write`` (acts as its user with the user's role: scripts).
Tokens **expire** (``expires_at``; :data:`DEFAULT_DAYS` unless told otherwise) and are
**rotated** without downtime: :meth:`Tokens.rotate_token` issues the successor at once and lets
the old token live on for an overlap, so agents switch over at their own pace. The time a
token was last used is kept (to the minute). An estate's tokens are ``Estate.tokens``
(:class:`Tokens`).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, or_, select, update

from kitvet.estate.accounts import AccountError, sha256
from kitvet.store import account_tables as st
from kitvet.store import audit
from kitvet.store.db import utcnow, write

logger = logging.getLogger(__name__)

PREFIX = "kvt_"
SCOPES = ("ingest", "read", "write")
#: Lifetime of a new token unless told otherwise (days).
DEFAULT_DAYS = 365
#: ``last_used_at`` is written at most this often per token (seconds).
TOUCH_EVERY_S = 60


@dataclass(frozen=True)
class TokenInfo:
    """What a token stands for (never the token itself)."""

    token_id: int
    name: str
    kind: str  # ingest | user
    institution: str | None
    username: str | None
    created_at: str
    revoked_at: str | None = None
    last_used_at: str | None = None
    scope: str = "write"  # ingest | read | write
    expires_at: str | None = None
    replaces: int | None = None

    @property
    def read_only(self) -> bool:
        """A ``read`` token: safe methods only."""
        return self.scope == "read"


def _info(r: Any) -> TokenInfo:
    scope = r.scope or ("ingest" if r.kind == "ingest" else "write")
    return TokenInfo(r.token_id, r.name, r.kind, r.institution, r.username, r.created_at,
                     r.revoked_at, r.last_used_at, scope, r.expires_at, r.replaces)


def _at(days: float | None = None, *, seconds: float = 0) -> str:
    t = datetime.now(UTC) + timedelta(days=days or 0, seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Tokens:
    """The API tokens of one estate."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def issue_token(self, *, name: str, actor: str, institution: str | None = None,
                    username: str | None = None, scope: str | None = None,
                    expires_days: float | None = DEFAULT_DAYS, replaces: int | None = None
                    ) -> tuple[str, TokenInfo]:
        """Issue a token for an institution (scope ``ingest``) or a user (``read`` or
        ``write``, the default); it expires after ``expires_days`` (None: never). Returns
        (token, info); the token is shown only here."""
        if bool(institution) == bool(username):
            raise AccountError("a token is either for one institution or for one user")
        name = (name or "").strip()[:100]
        if not name:
            raise AccountError("a token needs a name (what or who uses it)")
        kind = "ingest" if institution else "user"
        scope = scope or ("ingest" if institution else "write")
        if scope not in SCOPES or (scope == "ingest") != (kind == "ingest"):
            raise AccountError(f"scope {scope!r} does not fit a token for "
                               f"{'an institution' if institution else 'a user'} (an "
                               "institution's token is ingest; a user's is read or write)")
        if expires_days is not None and not 0 < expires_days <= 3650:
            raise AccountError("a token lives between a moment and 3650 days")
        token = PREFIX + secrets.token_urlsafe(32)
        now = utcnow()
        expires = _at(expires_days) if expires_days is not None else None
        with write(self.engine) as conn:
            if username and not conn.execute(select(st.users.c.username).where(
                    st.users.c.username == username, st.users.c.disabled_at.is_(None))).first():
                raise AccountError(f"no enabled user {username!r}")
            res = conn.execute(insert(st.api_tokens).values(
                token_hash=sha256(token), name=name, kind=kind, institution=institution,
                username=username, created_at=now, created_by=actor, scope=scope,
                expires_at=expires, replaces=replaces))
            tid = int(res.inserted_primary_key[0])  # type: ignore[index]
            audit.append(conn, actor=actor, action="token.issue", obj=f"token:{tid}",
                         details={"name": name, "kind": kind, "institution": institution,
                                  "username": username, "scope": scope, "expires": expires,
                                  "replaces": replaces}, at=now)
        return token, TokenInfo(tid, name, kind, institution, username, now, scope=scope,
                                expires_at=expires, replaces=replaces)

    def rotate_token(self, token_id: int, *, actor: str, overlap_s: int = 86400,
                     expires_days: float | None = DEFAULT_DAYS) -> tuple[str, TokenInfo]:
        """Issue the successor of a live token (same name, institution or user, scope) and let
        the old one expire after ``overlap_s`` (sooner if it expired sooner): no downtime for
        agents that pick up the new token within the overlap."""
        old = next((t for t in self.list_tokens() if t.token_id == token_id), None)
        if old is None:
            raise AccountError(f"no live token {token_id}")
        value, info = self.issue_token(name=old.name, actor=actor, institution=old.institution,
                                       username=old.username, scope=old.scope,
                                       expires_days=expires_days, replaces=token_id)
        until = _at(seconds=max(0, overlap_s))
        if old.expires_at and old.expires_at < until:
            until = old.expires_at
        with write(self.engine) as conn:
            conn.execute(update(st.api_tokens).where(st.api_tokens.c.token_id == token_id)
                         .values(expires_at=until))
            audit.append(conn, actor=actor, action="token.rotate", obj=f"token:{token_id}",
                         details={"successor": info.token_id, "old_expires": until})
        return value, info

    def lookup(self, token: str | None) -> TokenInfo | None:
        """The live (not revoked, not expired) token with this value, or None."""
        if not token or not token.startswith(PREFIX) or len(token) > 200:
            return None
        t = st.api_tokens
        with self.engine.connect() as conn:
            row = conn.execute(select(t).where(
                t.c.token_hash == sha256(token), t.c.revoked_at.is_(None),
                or_(t.c.expires_at.is_(None), t.c.expires_at > utcnow()))).first()
        return _info(row) if row else None

    def touch(self, token: TokenInfo | int) -> None:
        """Record that a token (its info, or its id) was used now, at most every
        :data:`TOUCH_EVERY_S` (a request that just looked the token up writes nothing)."""
        if isinstance(token, TokenInfo):
            if token.last_used_at and token.last_used_at > _at(seconds=-TOUCH_EVERY_S):
                return
            token = token.token_id
        t = st.api_tokens
        with self.engine.begin() as conn:
            conn.execute(update(t).where(
                t.c.token_id == token,
                or_(t.c.last_used_at.is_(None), t.c.last_used_at <= _at(seconds=-TOUCH_EVERY_S)))
                .values(last_used_at=utcnow()))

    def list_tokens(self, *, include_revoked: bool = False) -> list[TokenInfo]:
        """Issued tokens (without their values); expired ones only with ``include_revoked``."""
        t = st.api_tokens
        q = select(t).order_by(t.c.token_id)
        if not include_revoked:
            q = q.where(t.c.revoked_at.is_(None),
                        or_(t.c.expires_at.is_(None), t.c.expires_at > utcnow()))
        with self.engine.connect() as conn:
            return [_info(r) for r in conn.execute(q)]

    def revoke_token(self, token_id: int, *, actor: str) -> None:
        """Revoke a token (audited); it stops working at once."""
        with write(self.engine) as conn:
            n = conn.execute(update(st.api_tokens).where(st.api_tokens.c.token_id == token_id,
                                                         st.api_tokens.c.revoked_at.is_(None))
                             .values(revoked_at=utcnow())).rowcount
            if not n:
                raise AccountError(f"no live token {token_id}")
            audit.append(conn, actor=actor, action="token.revoke", obj=f"token:{token_id}")
