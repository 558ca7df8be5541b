"""Fixtures of the server tests (helpers in ``srvkit``); see srvkit's docstring."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from srvkit import PG_URL, Srv, make_server


def _pg_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3) as c:
            c.execute("SELECT 1")
        return None
    except Exception as e:
        return f"PostgreSQL at {PG_URL} unreachable: {str(e).strip().splitlines()[0]}"


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A throwaway PostgreSQL database URL, dropped afterwards."""
    why = _pg_available()
    if why:
        if os.environ.get("KITVET_REQUIRE_PG") == "1":
            pytest.fail(why + " (KITVET_REQUIRE_PG=1)")
        pytest.skip(why)
    import psycopg

    name = f"kitvet_srv_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    base = PG_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _server(tmp_path: Path, db_url: str | None, **settings: Any) -> Iterator[Srv]:
    from fastapi.testclient import TestClient

    app, est, ut, it = make_server(tmp_path / "estate", db_url, **settings)
    try:
        with TestClient(app) as client:
            yield Srv(app, est, client, ut, it)
    finally:
        est.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def srv(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Srv]:
    """A seeded server on SQLite, then on PostgreSQL."""
    db_url = request.getfixturevalue("pg_database") if request.param == "postgres" else None
    yield from _server(tmp_path, db_url)


@pytest.fixture
def sqlite_srv(tmp_path: Path) -> Iterator[Srv]:
    """A seeded server on SQLite only (page tests)."""
    yield from _server(tmp_path, None)


