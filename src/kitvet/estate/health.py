"""Readiness of an estate for a server: its database answers, its schema is the newest, its
inventory lake is writable. Used by the server's ``/readyz`` (``/healthz`` needs none of it)."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import literal, select
from sqlalchemy.exc import SQLAlchemyError

from kitvet.errors import KitvetError
from kitvet.store.db import pending_migrations

if TYPE_CHECKING:
    from kitvet.estate.estate import Estate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    """One readiness check: its name, whether it passed, how long it took, why it failed."""

    name: str
    ok: bool
    ms: float
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (no error key when it passed)."""
        out: dict[str, Any] = {"ok": self.ok, "ms": round(self.ms, 1)}
        if self.error:
            out["error"] = self.error
        return out


@dataclass(frozen=True)
class Readiness:
    """The checks of one readiness probe; ready when every one passed."""

    checks: tuple[Check, ...] = field(default_factory=tuple)

    @property
    def ready(self) -> bool:
        """True when every check passed."""
        return all(c.ok for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        """``{"status": "ready"|"not ready", "checks": {name: {...}}}``."""
        return {"status": "ready" if self.ready else "not ready",
                "checks": {c.name: c.to_dict() for c in self.checks}}


def _reason(e: Exception) -> str:
    """A short reason that names the kind of failure, never the database URL or password."""
    if isinstance(e, SQLAlchemyError):
        orig = getattr(e, "orig", None)
        return type(orig or e).__name__
    if isinstance(e, KitvetError):
        return e.message[:200]
    return type(e).__name__


def _timed(name: str, probe: Any) -> Check:
    t0 = time.perf_counter()
    try:
        error = probe()
    except Exception as e:  # a probe reports every failure; it never raises
        logger.warning("readiness check %s failed: %s", name, e)
        error = _reason(e)
    return Check(name, error is None, (time.perf_counter() - t0) * 1000, error)


def readiness(estate: Estate) -> Readiness:
    """Check the database (a round trip), its schema (no pending migration) and the lake."""

    def database() -> str | None:
        with estate.engine.connect() as conn:
            conn.execute(select(literal(1))).scalar_one()
        return None

    def schema() -> str | None:
        if pending_migrations(estate.engine):
            return "the database schema is behind kitvet's (run kitvet estate init)"
        return None

    def lake() -> str | None:
        # the lake folder appears with the first import; until then its estate folder counts
        folder = estate.lake.path if estate.lake.path.exists() else estate.root
        if not folder.is_dir():
            return f"the {'inventory lake' if folder == estate.lake.path else 'estate'} folder is missing"
        if not os.access(folder, os.W_OK | os.X_OK):
            return "the inventory lake is not writable"
        return None

    db = _timed("database", database)
    checks = [db]
    # the schema check needs the database; when it is down, say so once
    checks.append(_timed("schema", schema) if db.ok else Check("schema", False, 0.0, "no database"))
    checks.append(_timed("lake", lake))
    return Readiness(tuple(checks))
