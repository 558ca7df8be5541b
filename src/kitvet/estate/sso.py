"""Single sign-on accounts: identity-provider users as kitvet users, and sign-ins under way.

The protocol (OpenID Connect) is the server's business; this module keeps what it must remember:

- a **sign-in under way** (:meth:`SsoAccounts.begin_login`): random ``state``, a browser secret
  (a cookie that ties the callback to the browser that started the sign-in), the PKCE
  ``code_verifier`` and the ``nonce``; only hashes of the state and the browser secret are
  stored, and :meth:`SsoAccounts.take_login` hands the rest back once, within ten minutes;
- **who a provider account is** (:meth:`SsoAccounts.sign_in`): the provider's (issuer,
  subject) is tied to one kitvet user name the first time; the user's role and institutions
  are those the provider's claims map to at every sign-in (changes are audited). A provider
  account never takes over a local account (or another provider account) of the same name,
  and an account disabled in kitvet stays disabled.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select, update

from kitvet.estate.accounts import ROLES, USERNAME_RE, AccountError, User, _future, sha256
from kitvet.store import account_tables as at
from kitvet.store import audit
from kitvet.store import sso_tables as st
from kitvet.store.db import PG_LOGIN_KEY, utcnow, write

logger = logging.getLogger(__name__)

#: How long a sign-in may take at the identity provider (seconds).
LOGIN_TTL_S = 600
#: The password hash of provider accounts: not an argon2 hash, so no password ever matches.
NO_PASSWORD = "!sso"


@dataclass(frozen=True)
class PendingLogin:
    """A sign-in under way, as :meth:`SsoAccounts.begin_login` created it."""

    state: str
    browser: str
    code_verifier: str
    nonce: str
    next_url: str


class SsoAccounts:
    """The single sign-on side of one estate's accounts."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def begin_login(self, *, next_url: str, ttl_s: int = LOGIN_TTL_S) -> PendingLogin:
        """Start a sign-in: fresh state, browser secret, PKCE verifier (64 characters) and nonce."""
        login = PendingLogin(secrets.token_urlsafe(32), secrets.token_urlsafe(32),
                             secrets.token_urlsafe(48), secrets.token_urlsafe(32),
                             next_url[:500])
        with self.engine.begin() as conn:
            conn.execute(delete(st.sso_logins).where(st.sso_logins.c.expires_at < utcnow()))
            conn.execute(insert(st.sso_logins).values(
                state_hash=sha256(login.state), browser_hash=sha256(login.browser),
                code_verifier=login.code_verifier, nonce=login.nonce, next_url=login.next_url,
                created_at=utcnow(), expires_at=_future(ttl_s)))
        return login

    def take_login(self, state: str | None, browser: str | None) -> PendingLogin | None:
        """The sign-in ``state`` names, if this browser started it and it has not expired;
        it is used up (a second callback with the same state finds nothing)."""
        if not state or not browser or len(state) > 200 or len(browser) > 200:
            return None
        lg = st.sso_logins
        # a write transaction from the start: a read that becomes a write fails at once on
        # SQLite ('database is locked') when a background review or alert commits in between
        with write(self.engine, key=PG_LOGIN_KEY) as conn:
            row = conn.execute(select(lg).where(lg.c.state_hash == sha256(state))).first()
            if row is None or not secrets.compare_digest(row.browser_hash, sha256(browser)):
                return None
            conn.execute(delete(lg).where(lg.c.state_hash == row.state_hash))
        if row.expires_at < utcnow():
            return None
        return PendingLogin(state, browser, row.code_verifier, row.nonce, row.next_url)

    def sign_in(self, *, issuer: str, subject: str, username: str, role: str,
                institutions: Iterable[str] = ()) -> User:
        """The kitvet user of a provider account, created or updated to ``role`` and
        ``institutions`` (audited); :class:`AccountError` when it cannot be."""
        insts = tuple(dict.fromkeys(i.strip() for i in institutions if i and i.strip()))
        if role not in ROLES:
            raise AccountError(f"unknown role {role!r}")
        if role == "reviewer" and not insts:
            raise AccountError("the identity provider names no institution for this reviewer")
        actor = f"sso:{issuer}"[:300]
        ident, users = st.sso_identities, at.users
        with write(self.engine) as conn:
            known = conn.execute(select(ident.c.username).where(
                ident.c.issuer == issuer, ident.c.subject == subject)).first()
            if known is None:
                if not USERNAME_RE.match(username or ""):
                    raise AccountError(f"the identity provider's user name {username[:40]!r} "
                                       "is not a kitvet user name (letters, digits and ._@-)")
                if conn.execute(select(users.c.username).where(users.c.username == username)
                                ).first():
                    raise AccountError(f"user {username!r} exists already in kitvet and is not "
                                       "this identity provider's account")
                conn.execute(insert(users).values(
                    username=username, password_hash=NO_PASSWORD, role=role,
                    institutions=json.dumps(list(insts)), created_at=utcnow(), created_by=actor))
                conn.execute(insert(ident).values(issuer=issuer, subject=subject,
                                                  username=username, created_at=utcnow(),
                                                  last_login_at=utcnow()))
                audit.append(conn, actor=actor, action="user.create", obj=f"user:{username}",
                             details={"role": role, "institutions": list(insts),
                                      "sso_subject": subject})
                return User(username, role, insts)
            username = known.username
            row = conn.execute(select(users).where(users.c.username == username)).first()
            if row is None or row.disabled_at is not None:
                raise AccountError(f"the kitvet account {username!r} is disabled")
            before = (row.role, tuple(json.loads(row.institutions or "[]")))
            if before != (role, insts):
                conn.execute(update(users).where(users.c.username == username).values(
                    role=role, institutions=json.dumps(list(insts))))
                audit.append(conn, actor=actor, action="user.update", obj=f"user:{username}",
                             details={"role": role, "institutions": list(insts),
                                      "was": {"role": before[0],
                                              "institutions": list(before[1])}})
            conn.execute(update(ident).where(ident.c.issuer == issuer,
                                             ident.c.subject == subject)
                         .values(last_login_at=utcnow()))
        return User(username, role, insts)

    def withdraw(self, *, issuer: str, subject: str, reason: str) -> str | None:
        """The provider no longer grants this account a role: end its sessions (audited).
        Returns the kitvet user name, or None for an account kitvet never saw."""
        ident = st.sso_identities
        with write(self.engine) as conn:
            known = conn.execute(select(ident.c.username).where(
                ident.c.issuer == issuer, ident.c.subject == subject)).first()
            if known is None:
                return None
            conn.execute(delete(at.sessions).where(at.sessions.c.username == known.username))
            audit.append(conn, actor=f"sso:{issuer}"[:300], action="user.sso_refused",
                         obj=f"user:{known.username}", details={"reason": reason[:300]})
        return str(known.username)

    def is_sso_user(self, username: str) -> bool:
        """Whether ``username`` signs in through the identity provider."""
        with self.engine.connect() as conn:
            return conn.execute(select(st.sso_identities.c.username).where(
                st.sso_identities.c.username == username)).first() is not None
