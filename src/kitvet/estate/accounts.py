"""Local accounts: users with roles, argon2id passwords, sessions, and the login throttle.

Roles: ``admin`` (everything), ``reviewer`` (reads and acts on the findings of the institutions
named on the account, nothing else), ``auditor`` (reads, never writes; every institution unless
institutions are named). The institutions an account may see are its
:class:`~kitvet.estate.scope.Scope`; every read of the estate takes it. An estate's accounts are
``Estate.accounts`` (:class:`Accounts`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, and_, delete, insert, select, update

from kitvet.errors import KitvetError
from kitvet.estate import logins
from kitvet.estate.logins import LoginLimits
from kitvet.estate.scope import Scope
from kitvet.store import account_tables as st
from kitvet.store import audit
from kitvet.store.db import utcnow, write

logger = logging.getLogger(__name__)

ROLES: tuple[str, ...] = ("admin", "reviewer", "auditor")
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
MIN_PASSWORD = 10
_hasher = PasswordHasher()  # argon2id with argon2-cffi's RFC 9106 "low memory" defaults
_dummy: list[str] = []


class AccountError(KitvetError):
    """An account, session or token operation was refused."""


@dataclass(frozen=True)
class User:
    """A signed-in account."""

    username: str
    role: str
    institutions: tuple[str, ...] = ()

    @property
    def scope(self) -> Scope:
        """What this user may see."""
        if self.role == "admin" or (self.role == "auditor" and not self.institutions):
            return Scope(None, self.actor)
        return Scope(frozenset(self.institutions), self.actor)

    @property
    def can_act(self) -> bool:
        """Reviewers and admins change states and add exceptions; auditors only read."""
        return self.role in ("admin", "reviewer")

    @property
    def is_admin(self) -> bool:
        """Admins decide on subjects, run campaigns and manage accounts."""
        return self.role == "admin"

    @property
    def actor(self) -> str:
        """How this user is named in the audit log."""
        return f"user:{self.username}"


def _dummy_hash() -> str:
    """A hash to verify against for unknown users, so they cost as much as known ones."""
    if not _dummy:
        _dummy.append(_hasher.hash(secrets.token_hex(16)))
    return _dummy[0]


def _future(seconds: int) -> str:
    t = datetime.now(UTC) + timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sha256(value: str) -> str:
    """Hex SHA-256 of a secret (what the database keeps of sessions and tokens)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _name(username: str | None) -> str:
    return (username or "")[:100]


def _client(client: str | None) -> str:
    return (client or "unknown")[:64]


def _user(row: Any) -> User:
    return User(row.username, row.role, tuple(json.loads(row.institutions or "[]")))


class Accounts:
    """The accounts of one estate: users, sessions and the login throttle."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def create_user(self, username: str, password: str, *, role: str,
                    institutions: Iterable[str] = (), actor: str) -> User:
        """Create an account (audited); refuses bad names, short passwords and unscoped reviewers."""
        insts = tuple(dict.fromkeys(i.strip() for i in institutions if i and i.strip()))
        if not USERNAME_RE.match(username or ""):
            raise AccountError(f"bad user name {username[:40]!r}: letters, digits and ._@- only")
        if role not in ROLES:
            raise AccountError(f"unknown role {role!r} (one of: {', '.join(ROLES)})")
        if role == "reviewer" and not insts:
            raise AccountError("a reviewer needs at least one --institution")
        if len(password or "") < MIN_PASSWORD:
            raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
        with write(self.engine) as conn:
            if conn.execute(select(st.users.c.username).where(st.users.c.username == username)
                            ).first():
                raise AccountError(f"user {username!r} exists already")
            conn.execute(insert(st.users).values(
                username=username, password_hash=_hasher.hash(password), role=role,
                institutions=json.dumps(list(insts)), created_at=utcnow(), created_by=actor))
            audit.append(conn, actor=actor, action="user.create", obj=f"user:{username}",
                         details={"role": role, "institutions": list(insts)})
        return User(username, role, insts)

    def get_user(self, username: str) -> User | None:
        """An enabled account, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(st.users).where(st.users.c.username == username,
                                                      st.users.c.disabled_at.is_(None))).first()
        return _user(row) if row else None

    def list_users(self) -> list[User]:
        """Every enabled account."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(st.users).where(st.users.c.disabled_at.is_(None))
                                .order_by(st.users.c.username)).all()
        return [_user(r) for r in rows]

    def begin_login(self, username: str, *, client: str, limits: LoginLimits) -> int:
        """Check the login throttle and record the attempt (see :mod:`kitvet.estate.logins`);
        the attempt's id for :meth:`check_login`. Raises :class:`RateLimited`."""
        return logins.begin(self.engine, _name(username), client=_client(client), limits=limits)

    def check_login(self, attempt_id: int, username: str, password: str, *, client: str
                    ) -> User | None:
        """Check the password of a begun attempt (argon2id; unknown users cost the same)."""
        username, client = _name(username), _client(client)
        with self.engine.connect() as conn:
            row = conn.execute(select(st.users).where(st.users.c.username == username,
                                                      st.users.c.disabled_at.is_(None))).first()
        ok = False
        try:
            ok = _hasher.verify(row.password_hash if row else _dummy_hash(), password or "")
            ok = ok and row is not None
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok:
            logger.warning("failed login for %r from %s", username, client)
            return None
        logins.succeed(self.engine, attempt_id, username, client=client)
        return _user(row)

    def abandon_login(self, attempt_id: int) -> None:
        """Forget a begun attempt whose password was not checked."""
        logins.abandon(self.engine, attempt_id)

    def authenticate(self, username: str, password: str, *, client: str,
                     limits: LoginLimits | None = None) -> User | None:
        """The user if the password is right; None if not; :class:`RateLimited` when locked
        out (the password is then not even checked)."""
        attempt = self.begin_login(username, client=client, limits=limits or LoginLimits())
        return self.check_login(attempt, username, password, client=client)

    def unlock_user(self, username: str, *, actor: str) -> int:
        """Forget an account's failed logins (audited); how many were forgotten."""
        return logins.unlock(self.engine, _name(username), actor=actor)

    def create_session(self, user: User, *, client: str, ttl_s: int) -> tuple[str, str]:
        """A new session: (cookie value, CSRF token). Only the cookie's hash is stored."""
        cookie = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(insert(st.sessions).values(
                session_hash=sha256(cookie), username=user.username, csrf_token=csrf,
                created_at=utcnow(), expires_at=_future(ttl_s), client=(client or "")[:64]))
            conn.execute(delete(st.sessions).where(st.sessions.c.expires_at < utcnow()))
        return cookie, csrf

    def session_user(self, cookie: str | None) -> tuple[User, str] | None:
        """(user, CSRF token) of a live session, or None."""
        if not cookie or len(cookie) > 200:
            return None
        s, u = st.sessions, st.users
        with self.engine.connect() as conn:
            row = conn.execute(select(u, s.c.csrf_token).join(s, s.c.username == u.c.username)
                               .where(and_(s.c.session_hash == sha256(cookie),
                                           s.c.expires_at > utcnow(),
                                           u.c.disabled_at.is_(None)))).first()
        return (_user(row), row.csrf_token) if row else None

    def end_session(self, cookie: str | None) -> None:
        """Log out: delete the session."""
        if cookie:
            with self.engine.begin() as conn:
                conn.execute(delete(st.sessions).where(st.sessions.c.session_hash == sha256(cookie)))

    def disable_user(self, username: str, *, actor: str) -> None:
        """Disable an account and end its sessions (audited)."""
        with write(self.engine) as conn:
            n = conn.execute(update(st.users).where(st.users.c.username == username,
                                                    st.users.c.disabled_at.is_(None))
                             .values(disabled_at=utcnow())).rowcount
            if not n:
                raise AccountError(f"no enabled user {username!r}")
            conn.execute(delete(st.sessions).where(st.sessions.c.username == username))
            audit.append(conn, actor=actor, action="user.disable", obj=f"user:{username}")
