"""Fixtures and rules shared by the whole suite.

PostgreSQL: the tests own their server. ``pg_server`` starts a throwaway PostgreSQL from the
machine's own binaries (Debian's ``postgresql`` package; ``pg_ctl`` found by pytest-postgresql's
discovery or ``KITVET_TEST_PG_CTL``) in a temporary directory on a free port, once per test
session and only if a test asks for it, and stops and deletes it at the end. A developer can
point the tests at an existing server instead with ``KITVET_TEST_PG_URL``.

In CI (``CI=true``) nothing may be skipped: a PostgreSQL that cannot start, a missing Chromium,
``usbguard-rule-parser``, ``nft`` or Java is a failure, not a skip (the skip reason becomes the
failure message). ``KITVET_REQUIRE_ALL=1`` does the same outside CI.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

STRICT = os.environ.get("CI", "").lower() == "true" or os.environ.get("KITVET_REQUIRE_ALL") == "1"


# -- no skips in CI ------------------------------------------------------------------------------

def _strict(report: pytest.TestReport | pytest.CollectReport) -> None:
    if STRICT and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every component must run: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    _strict(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    outcome = yield
    _strict(outcome.get_result())


# -- PostgreSQL owned by the tests ---------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_ctl() -> str:
    """pg_ctl: ``KITVET_TEST_PG_CTL``, else Debian's newest /usr/lib/postgresql/N/bin, else PATH."""
    explicit = os.environ.get("KITVET_TEST_PG_CTL")
    if explicit:
        return explicit
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
                   key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    if found:
        return str(found[-1])
    which = shutil.which("pg_ctl")
    if which:
        return which
    raise RuntimeError("pg_ctl not found: install Debian's postgresql package "
                       "(scripts/system-deps.sh does) or set KITVET_TEST_PG_CTL")


def _as_unprivileged(base: Path, pg_ctl: str) -> str:
    """PostgreSQL refuses to run as root: when the tests are root (CI containers), pg_ctl runs
    through a wrapper as the ``postgres`` user (created by Debian's package), else ``nobody``."""
    if os.geteuid() != 0:
        return pg_ctl
    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
            break
        except KeyError:
            continue
    else:
        raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' user exists")
    os.chown(base, user.pw_uid, user.pw_gid)
    wrapper = base / f"pg_ctl-as-{name}"
    wrapper.write_text(f'#!/bin/sh\ncd "{base}" && exec runuser -u {name} -- "{pg_ctl}" "$@"\n')
    wrapper.chmod(stat.S_IRWXU)
    return str(wrapper)


def _reachable(url: str) -> str | None:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as c:
            c.execute("SELECT 1")
        return None
    except Exception as e:
        return f"PostgreSQL at {url} is not reachable: {str(e).strip().splitlines()[0]}"


def _wait_until_accepting(url: str, timeout: float = 120.0) -> None:
    """pg_ctl -w can return while the server still answers "the database system is starting
    up" (seen on a machine under load): wait until it accepts a connection."""
    import time

    deadline = time.monotonic() + timeout
    while (why := _reachable(url)) is not None:
        if time.monotonic() > deadline:
            raise RuntimeError(why)
        time.sleep(0.2)


def _unavailable(why: str) -> None:
    if STRICT or os.environ.get("KITVET_REQUIRE_PG") == "1":
        pytest.fail(why)
    pytest.skip(why)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The URL of a PostgreSQL superuser connection (database ``postgres``) on a server this
    test session started itself, or on ``KITVET_TEST_PG_URL`` when that is set."""
    url = os.environ.get("KITVET_TEST_PG_URL")
    if url:
        why = _reachable(url)
        if why:
            _unavailable(why)
        yield url
        return
    from pytest_postgresql.executors import PostgreSQLExecutor

    base = Path(tempfile.mkdtemp(prefix="kitvet-pg-"))
    executor = None
    try:
        port = _free_port()
        executor = PostgreSQLExecutor(
            executable=_as_unprivileged(base, _pg_ctl()), host="127.0.0.1", port=port,
            datadir=str(base / "data"), unixsocketdir=str(base), logfile=str(base / "pg.log"),
            startparams="-w", dbname="postgres", user="postgres",
            postgres_options="-c fsync=off -c full_page_writes=off -c max_connections=200",
        )
        executor.start()
        _wait_until_accepting(f"postgresql://postgres@127.0.0.1:{port}/postgres")
    except Exception as e:
        log = base / "pg.log"
        tail = log.read_text(errors="replace")[-800:] if log.exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        _unavailable(f"the tests could not start PostgreSQL: {type(e).__name__}: {e} {tail}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        try:
            executor.stop()
        finally:
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_database(pg_server: str) -> Iterator[str]:
    """A fresh database for this test session on the tests' PostgreSQL, dropped afterwards."""
    import uuid

    import psycopg

    name = f"kitvet_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_server, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    yield pg_server.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(pg_server, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_schema_url(pg_database: str) -> Iterator[str]:
    """A URL on a fresh schema of the session's database (cheaper than a database per test)."""
    import uuid

    import psycopg

    schema = f"t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_database, autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{pg_database}?options=-csearch_path%3D{schema}"
    with psycopg.connect(pg_database, autocommit=True) as c:
        c.execute(f'DROP SCHEMA "{schema}" CASCADE')


# -- release data: the bundled snapshot, never a copy `kitvet update-data` left on the machine --

@pytest.fixture(scope="session", autouse=True)
def _bundled_release_data() -> Iterator[None]:
    """End-of-life findings read kitvet's bundled endoflife.date snapshot in every test (a test
    of ``update-data`` unsets ``KITVET_RELEASES`` to exercise the data dir)."""
    from kitvet.identify import releases

    old = os.environ.get("KITVET_RELEASES")
    os.environ["KITVET_RELEASES"] = str(releases.bundled_path())
    releases.reset()
    yield
    if old is None:
        os.environ.pop("KITVET_RELEASES", None)
    else:
        os.environ["KITVET_RELEASES"] = old
    releases.reset()
