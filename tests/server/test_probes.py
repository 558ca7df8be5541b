"""/healthz and /readyz: liveness without credentials, readiness with a real database round trip
(503 naming the failing check when the database is gone), on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import create_engine

from kitvet.server.testing import free_port


def test_healthz_answers_without_credentials(srv):
    r = srv.client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["version"]
    assert r.headers["cache-control"] == "no-store"


def test_readyz_checks_database_schema_and_lake(srv):
    r = srv.client.get("/readyz")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "schema", "lake"}
    assert all(c["ok"] and c["ms"] >= 0 for c in body["checks"].values())


def test_readyz_is_503_when_the_database_is_unreachable(srv, monkeypatch):
    # a real connection attempt to a port nothing listens on: the server must say so, not hang
    dead = create_engine(f"postgresql+psycopg://kitvet:secret-pw@127.0.0.1:{free_port()}/kitvet")
    monkeypatch.setattr(srv.estate, "engine", dead)
    r = srv.client.get("/readyz")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["database"]["error"] == "OperationalError"
    assert body["checks"]["schema"] == {"ok": False, "ms": 0.0, "error": "no database"}
    assert "secret-pw" not in r.text and "127.0.0.1" not in r.text
    assert srv.client.get("/healthz").status_code == 200  # liveness does not depend on it
    dead.dispose()


def test_readyz_gives_up_after_the_timeout(sqlite_srv, monkeypatch):
    import time

    from kitvet.server import probes

    monkeypatch.setattr(sqlite_srv.app.state.kv.settings, "readiness_timeout_s", 0.2)
    monkeypatch.setattr(probes, "readiness", lambda estate: time.sleep(2))
    t0 = time.monotonic()
    r = sqlite_srv.client.get("/readyz")
    assert r.status_code == 503 and time.monotonic() - t0 < 1.5
    assert r.json()["checks"]["database"]["error"] == "no answer within 0.2 s"


def test_readyz_is_503_when_the_schema_is_behind(sqlite_srv):
    from sqlalchemy import text

    from kitvet.store.db import write

    # forget one branch's newest revision. A write transaction (BEGIN IMMEDIATE) queues behind
    # the server's alert and review threads, which write at start; a plain BEGIN that reads
    # first fails at once with "database is locked" when one of them commits in between (in WAL
    # mode SQLite cannot upgrade a stale read snapshot to a write, busy timeout or not)
    with write(sqlite_srv.estate.engine) as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().first()
        conn.execute(text("DELETE FROM alembic_version WHERE version_num = :v"), {"v": head})
    r = sqlite_srv.client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["database"]["ok"] is True
    assert "kitvet estate init" in r.json()["checks"]["schema"]["error"]


def test_probes_are_in_the_openapi_document(srv):
    paths = srv.client.get("/api/v1/openapi.json").json()["paths"]
    assert "/healthz" in paths and "/readyz" in paths
    assert "503" in paths["/readyz"]["get"]["responses"]
