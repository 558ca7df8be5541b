"""The login throttle: failed logins counted per account and per (account, client address).

Checking the limits and recording the attempt are one serialised transaction
(:func:`kitvet.store.db.write`: ``BEGIN IMMEDIATE`` on SQLite, an advisory lock of its own on
PostgreSQL). An attempt is recorded as a failure *before* its password is checked and turned
into a success afterwards, so twenty parallel guesses take twenty places in the count, and a
locked-out attempt never reaches the (costly) password hash.

Two limits, over a sliding window:

- per (account, address): ``max_failures`` — one address guessing one account;
- per account, over every address: ``account_failures`` — guessing spread over many addresses.
  An address that signed in to the account within :data:`KNOWN_ADDRESS_S` is exempt from this
  one, so failures from elsewhere do not lock the account's owner out of their usual place.

A locked account is unlocked by waiting for the window, or by ``kitvet serve user unlock``
(:func:`unlock`, audited).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, func, insert, select, update

from kitvet.errors import KitvetError
from kitvet.store import account_tables as st
from kitvet.store import audit
from kitvet.store.db import PG_LOGIN_KEY, inserted_id, utcnow, write

logger = logging.getLogger(__name__)

#: A successful login from an address exempts it from the per-account limit for this long.
KNOWN_ADDRESS_S = 30 * 86400


class RateLimited(KitvetError):
    """Too many failed logins for this account (from this address, or from everywhere)."""

    def __init__(self, message: str, retry_after_s: int):
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class LoginLimits:
    """The throttle's settings."""

    max_failures: int = 5  # per (account, address)
    account_failures: int = 50  # per account, addresses not recently signed in from
    window_s: int = 15 * 60


def _ago(seconds: int) -> str:
    t = datetime.now(UTC) - timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def begin(engine: Engine, username: str, *, client: str, limits: LoginLimits) -> int:
    """Check the limits and record the attempt as a failure, atomically; the attempt's id.

    Raises :class:`RateLimited` (and records nothing) when a limit is reached.
    """
    la = st.login_attempts
    since = _ago(limits.window_s)
    with write(engine, key=PG_LOGIN_KEY) as conn:
        failed = (la.c.username == username, la.c.ok.is_(False), la.c.at >= since)
        here = conn.execute(select(func.count()).select_from(la).where(
            *failed, la.c.client == client)).scalar_one()
        if here >= limits.max_failures:
            raise RateLimited(f"too many failed logins; try again in "
                              f"{max(1, limits.window_s // 60)} minutes", limits.window_s)
        known = conn.execute(select(la.c.attempt_id).where(
            la.c.username == username, la.c.client == client, la.c.ok.is_(True),
            la.c.at >= _ago(KNOWN_ADDRESS_S)).limit(1)).first()
        if known is None:
            everywhere = conn.execute(select(func.count()).select_from(la).where(
                *failed)).scalar_one()
            if everywhere >= limits.account_failures:
                logger.warning("login for %r from %s refused: the account is locked "
                               "(%d failures)", username, client, everywhere)
                raise RateLimited("too many failed logins for this account; try again later "
                                  "or ask an administrator to unlock it", limits.window_s)
        return inserted_id(conn.execute(insert(la).values(
            username=username, client=client, at=utcnow(), ok=False)))


def succeed(engine: Engine, attempt_id: int, username: str, *, client: str) -> None:
    """The attempt's password was right: it counts as a success; this address's failures for
    the account are forgotten."""
    la = st.login_attempts
    with write(engine, key=PG_LOGIN_KEY) as conn:
        conn.execute(update(la).where(la.c.attempt_id == attempt_id).values(ok=True))
        conn.execute(delete(la).where(la.c.username == username, la.c.client == client,
                                      la.c.ok.is_(False)))
        conn.execute(delete(la).where(la.c.ok.is_(False), la.c.at < _ago(86400)))
        conn.execute(delete(la).where(la.c.at < _ago(KNOWN_ADDRESS_S)))


def abandon(engine: Engine, attempt_id: int) -> None:
    """Forget an attempt whose password was never checked (the server was too busy)."""
    la = st.login_attempts
    with write(engine, key=PG_LOGIN_KEY) as conn:
        conn.execute(delete(la).where(la.c.attempt_id == attempt_id))


def unlock(engine: Engine, username: str, *, actor: str) -> int:
    """Forget the account's failed logins from every address (audited); how many."""
    la = st.login_attempts
    with write(engine) as conn:
        n = conn.execute(delete(la).where(la.c.username == username, la.c.ok.is_(False))
                         ).rowcount or 0
        audit.append(conn, actor=actor, action="user.unlock", obj=f"user:{username}",
                     details={"failures_forgotten": n})
    return n
