"""API tokens: per-institution ingest tokens for hosts and tools, and user tokens for scripts.

A token is ``kvt_`` + 43 URL-safe random characters, shown once when issued; the database keeps
only its SHA-256. An ``ingest`` token may only send inventory for its institution; a ``user``
token acts as its user on the read-and-act API (same scope and role). An estate's tokens are
``Estate.tokens`` (:class:`Tokens`).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select, update

from kitvet.estate.accounts import AccountError, sha256
from kitvet.store import account_tables as st
from kitvet.store import audit
from kitvet.store.db import utcnow, write

logger = logging.getLogger(__name__)

PREFIX = "kvt_"


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


def _info(r: Any) -> TokenInfo:
    return TokenInfo(r.token_id, r.name, r.kind, r.institution, r.username, r.created_at,
                     r.revoked_at, r.last_used_at)


class Tokens:
    """The API tokens of one estate."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def issue_token(self, *, name: str, actor: str, institution: str | None = None,
                    username: str | None = None) -> tuple[str, TokenInfo]:
        """Issue a token for an institution (ingest) or a user; returns (token, info)."""
        if bool(institution) == bool(username):
            raise AccountError("a token is either for one institution or for one user")
        name = (name or "").strip()[:100]
        if not name:
            raise AccountError("a token needs a name (what or who uses it)")
        token = PREFIX + secrets.token_urlsafe(32)
        kind = "ingest" if institution else "user"
        now = utcnow()
        with write(self.engine) as conn:
            if username and not conn.execute(select(st.users.c.username).where(
                    st.users.c.username == username, st.users.c.disabled_at.is_(None))).first():
                raise AccountError(f"no enabled user {username!r}")
            res = conn.execute(insert(st.api_tokens).values(
                token_hash=sha256(token), name=name, kind=kind, institution=institution,
                username=username, created_at=now, created_by=actor))
            tid = int(res.inserted_primary_key[0])  # type: ignore[index]
            audit.append(conn, actor=actor, action="token.issue", obj=f"token:{tid}",
                         details={"name": name, "kind": kind, "institution": institution,
                                  "username": username}, at=now)
        return token, TokenInfo(tid, name, kind, institution, username, now)

    def lookup(self, token: str | None) -> TokenInfo | None:
        """The live token with this value, or None."""
        if not token or not token.startswith(PREFIX) or len(token) > 200:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(st.api_tokens).where(
                st.api_tokens.c.token_hash == sha256(token),
                st.api_tokens.c.revoked_at.is_(None))).first()
        return _info(row) if row else None

    def touch(self, token_id: int) -> None:
        """Record that a token was used now."""
        with self.engine.begin() as conn:
            conn.execute(update(st.api_tokens).where(st.api_tokens.c.token_id == token_id)
                         .values(last_used_at=utcnow()))

    def list_tokens(self, *, include_revoked: bool = False) -> list[TokenInfo]:
        """Issued tokens (without their values)."""
        q = select(st.api_tokens).order_by(st.api_tokens.c.token_id)
        if not include_revoked:
            q = q.where(st.api_tokens.c.revoked_at.is_(None))
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
