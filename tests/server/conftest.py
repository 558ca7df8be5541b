"""Fixtures of the server tests (helpers in ``srvkit``); see srvkit's docstring."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from srvkit import Srv, make_server


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
    db_url = request.getfixturevalue("pg_schema_url") if request.param == "postgres" else None
    yield from _server(tmp_path, db_url)


@pytest.fixture
def sqlite_srv(tmp_path: Path) -> Iterator[Srv]:
    """A seeded server on SQLite only (page tests)."""
    yield from _server(tmp_path, None)


