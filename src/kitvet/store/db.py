"""The review database: engine set-up, serialised write transactions, migrations, clock.

SQLite runs in WAL mode with a busy timeout, and every write transaction starts with
``BEGIN IMMEDIATE`` so two processes queue instead of failing half-way. On PostgreSQL every
write transaction takes one transaction-scoped advisory lock, so writes to one estate are
serialised the same way (the audit chain needs a single writer at a time).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError

from kitvet.errors import StoreError

logger = logging.getLogger(__name__)

#: Advisory lock key of kitvet's write transactions on PostgreSQL ("kitvet" in ASCII).
PG_LOCK_KEY = 0x6B6974766574
#: Advisory lock key of the login throttle's check-and-record ("kitvet-l").
PG_LOGIN_KEY = 0x6B69747665742D6C
SQLITE_TIMEOUT_S = 60.0
MIGRATIONS = Path(__file__).parent / "migrations"


def utcnow() -> str:
    """The current time as kitvet stores it: ISO 8601 UTC with microseconds and ``Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (``sqlite:///...`` or ``postgresql+psycopg://...``)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_TIMEOUT_S})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={int(SQLITE_TIMEOUT_S * 1000)}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql(conn.get_execution_options().get("kitvet_begin", "BEGIN"))


@contextmanager
def write(engine: Engine, *, key: int = PG_LOCK_KEY) -> Iterator[Connection]:
    """A serialised write transaction: committed on success, rolled back on any error.

    ``key`` is the PostgreSQL advisory lock taken (another key serialises another kind of
    write independently of the estate's, e.g. :data:`PG_LOGIN_KEY`); SQLite has one lock.
    """
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                conn.execution_options(kitvet_begin="BEGIN IMMEDIATE")
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
                yield conn
    except SQLAlchemyError as e:
        raise StoreError(f"database error: {_short(e)}") from e


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    """A read transaction (a consistent view)."""
    try:
        with engine.connect() as conn, conn.begin():
            yield conn
    except SQLAlchemyError as e:
        raise StoreError(f"database error: {_short(e)}") from e


def inserted_id(result: Any) -> int:
    """The integer primary key an INSERT produced."""
    pk = result.inserted_primary_key
    if not pk or pk[0] is None:
        raise StoreError("the database returned no id for a new row")
    return int(pk[0])


def _short(e: SQLAlchemyError) -> str:
    return str(getattr(e, "orig", e)).strip().splitlines()[0]


def _alembic_config(conn: Connection):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # Other areas add their tables on their own Alembic branch here (the accounts: "server").
    cfg.set_main_option("version_locations", str(MIGRATIONS / "versions"))
    cfg.set_main_option("path_separator", "space")
    cfg.attributes["connection"] = conn
    return cfg


def pending_migrations(engine: Engine) -> bool:
    """True if the database is behind the newest revision (or empty)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with read(engine) as conn:
        script = ScriptDirectory.from_config(_alembic_config(conn))
        current = set(MigrationContext.configure(conn).get_current_heads())
        return current != set(script.get_heads())


def migrate(engine: Engine) -> None:
    """Bring the database to the newest revision of every branch (inside a write lock)."""
    from alembic import command

    if not pending_migrations(engine):
        return
    try:
        with write(engine) as conn:
            command.upgrade(_alembic_config(conn), "heads")
    except SQLAlchemyError as e:
        raise StoreError(f"cannot migrate the estate database: {_short(e)}") from e
    logger.info("estate database migrated")
