"""Fixtures of the server tests (helpers in ``srvkit``); see srvkit's docstring."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from srvkit import PgTemplate, Srv, make_server


def _server(tmp_path: Path, db_url: str | None, pg_template: PgTemplate | None = None,
            **settings: Any) -> Iterator[Srv]:
    from fastapi.testclient import TestClient

    app, est, ut, it = make_server(tmp_path / "estate", db_url, pg_template=pg_template,
                                   **settings)
    try:
        with TestClient(app) as client:
            yield Srv(app, est, client, ut, it)
    finally:
        est.close()


def _database(server: str, name: str, sql: str) -> str:
    import psycopg

    with psycopg.connect(server, autocommit=True) as c:
        c.execute(sql.format(name=f'"{name}"'))
    return server.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def pg_template(pg_server: str, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[PgTemplate]:
    """The seeded estate the PostgreSQL servers copy, on a database of its own."""
    name = f"kitvet_srv_{uuid.uuid4().hex[:10]}"
    url = _database(pg_server, name, "CREATE DATABASE {name}")
    try:
        yield PgTemplate.build(tmp_path_factory.mktemp("srv-pg") / "estate", url)
    finally:
        _database(pg_server, name, "DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def srv(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Srv]:
    """A seeded server on SQLite, then on PostgreSQL (a database of its own, made from the
    template's and dropped afterwards)."""
    if request.param == "sqlite":
        yield from _server(tmp_path, None)
        return
    pg_server, template = request.getfixturevalue("pg_server"), request.getfixturevalue(
        "pg_template")
    name = f"kitvet_srv_{uuid.uuid4().hex[:10]}"
    url = pg_server.rsplit("/", 1)[0] + "/" + name
    try:
        yield from _server(tmp_path, url, template)
    finally:
        _database(pg_server, name, "DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def sqlite_srv(tmp_path: Path) -> Iterator[Srv]:
    """A seeded server on SQLite only (page tests)."""
    yield from _server(tmp_path, None)
