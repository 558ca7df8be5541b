"""The login throttle against a real server (uvicorn on loopback, parallel HTTP clients), on
SQLite and PostgreSQL (issue 20, items 1–3): parallel guesses are counted
atomically, password checks are bounded and checked only after the throttle, and the limits
are per account and per (account, address) with a trusted proxy's header and an unlock."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from srvkit import PASSWORD, risk_lists

from kitvet.server.testing import running


@dataclass
class Served:
    """A server over an estate with one admin, on loopback."""

    base: str
    root: Path


def _start(tmp_path: Path, db_url: str | None, **settings: Any) -> Iterator[Served]:
    """The kitvet server under uvicorn on a loopback port, in a thread of this process: the
    throttle's counting is the database's and its bound the server's, not the process's (an
    unlock from another process is tested below). Password hashing is srvkit's cheap argon2id
    unless a test puts the default cost back."""
    from kitvet.estate import init_estate
    from kitvet.policy import load_profile
    from kitvet.server.app import create_app
    from kitvet.server.settings import ServerSettings

    root = tmp_path / "estate"
    est = init_estate(root, db_url=db_url, actor="tests")
    try:
        est.accounts.create_user("admin", PASSWORD, role="admin", actor="tests")
        app = create_app(est, ServerSettings(estate=root, review_mode="off", alerts_mode="off",
                                             **settings),
                         lists=risk_lists(), policy=load_profile("default"))
        with running(app, timeout=60) as base:
            yield Served(base, root)
    finally:
        est.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str | None:
    return request.getfixturevalue("pg_schema_url") if request.param == "postgres" else None


def _prepared(base: str, forwarded: str | None = None) -> tuple[httpx.Client, str]:
    """A client holding a login form's CSRF cookie, and the form's token."""
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    c = httpx.Client(base_url=base, timeout=120, headers=headers)
    page = c.get("/login")
    return c, re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def _login(base: str, user: str, password: str, forwarded: str | None = None) -> int:
    c, token = _prepared(base, forwarded)
    try:
        return c.post("/login", data={"username": user, "password": password,
                                      "csrf_token": token}).status_code
    finally:
        c.close()


def _parallel(base: str, attempts: list[tuple[str, str]]) -> list[httpx.Response]:
    """Post every (user, password) at the same moment, each from its own client."""
    prepared = [_prepared(base) for _ in attempts]
    barrier = threading.Barrier(len(attempts))

    def post(i: int) -> httpx.Response:
        (c, token), (user, password) = prepared[i], attempts[i]
        barrier.wait()
        return c.post("/login", data={"username": user, "password": password,
                                      "csrf_token": token})

    try:
        with ThreadPoolExecutor(len(attempts)) as pool:
            return list(pool.map(post, range(len(attempts))))
    finally:
        for c, _ in prepared:
            c.close()


def test_parallel_wrong_passwords_are_counted_atomically(tmp_path, db_url):
    """20 parallel wrong passwords for one account: exactly the limit (5) are checked and
    answered 401, the other 15 are refused 429 — not 20 × 401."""
    for served in _start(tmp_path, db_url, login_max_concurrent=2, login_queue_timeout_s=120):
        codes = Counter(r.status_code for r in
                        _parallel(served.base, [("admin", "wrong password!")] * 20))
        assert codes == {401: 5, 429: 15}, codes
        assert _login(served.base, "admin", PASSWORD) == 429  # locked, right password or not


def test_password_checks_beyond_the_bound_wait_then_get_503(tmp_path, db_url, monkeypatch):
    """One password check at a time and a queue of 50 ms: 20 parallel logins of unknown names
    (each an argon2id check with the library's default cost) are mostly turned away with 503
    and Retry-After instead of all hashing at once; none fails with a server error."""
    from argon2 import PasswordHasher

    from kitvet.estate import accounts

    monkeypatch.setattr(accounts, "_hasher", PasswordHasher())  # the production cost
    monkeypatch.setattr(accounts, "_dummy", [])
    for served in _start(tmp_path, db_url, login_max_concurrent=1,
                         login_queue_timeout_s=0.05):
        responses = _parallel(served.base, [(f"nobody{i}", "guess") for i in range(20)])
        codes = Counter(r.status_code for r in responses)
        assert set(codes) <= {401, 503} and codes[401] >= 1 and codes[503] >= 10, codes
        assert all(r.headers.get("retry-after") == "5" for r in responses
                   if r.status_code == 503)
        assert "busy" in next(r.text for r in responses if r.status_code == 503)
        # turned-away attempts were not counted as failures: the server answers normally
        assert _login(served.base, "admin", PASSWORD) == 303


def test_limits_per_account_and_address_behind_a_trusted_proxy_and_unlock(tmp_path, db_url):
    for served in _start(tmp_path, db_url, forwarded_header="X-Forwarded-For",
                         trusted_proxies=("127.0.0.1",), login_account_max_failures=8):
        b = served.base
        assert _login(b, "admin", PASSWORD, "10.0.0.2") == 303  # signed in
        for _ in range(5):
            assert _login(b, "admin", "wrong password!", "10.0.0.1") == 401
        assert _login(b, "admin", PASSWORD, "10.0.0.1") == 429  # this address is locked
        assert _login(b, "admin", PASSWORD, "10.0.0.3") == 303  # others are not
        for addr in ("10.0.0.4", "10.0.0.5", "10.0.0.6"):  # 8 failures for the account
            assert _login(b, "admin", "wrong password!", f"203.0.113.9, {addr}") == 401
        assert _login(b, "admin", PASSWORD, "10.0.0.9") == 429  # locked for new addresses
        assert _login(b, "admin", PASSWORD, "10.0.0.2") == 303  # not from a known one
        out = subprocess.run([sys.executable, "-m", "kitvet", "serve", "--estate",
                              str(served.root), "user", "unlock", "admin"],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert "8 failed login(s) forgotten" in out.stdout
        assert _login(b, "admin", PASSWORD, "10.0.0.9") == 303
        assert _login(b, "admin", PASSWORD, "10.0.0.1") == 303


def test_the_throttle_is_checked_before_the_password_is_hashed(tmp_path, monkeypatch):
    from kitvet.estate import LoginLimits, RateLimited, accounts, init_estate

    est = init_estate(tmp_path / "estate", actor="tests")
    est.accounts.create_user("admin", PASSWORD, role="admin", actor="tests")
    checks: list[int] = []
    real = accounts._hasher

    class Counting:
        def verify(self, h: str, p: str) -> bool:
            checks.append(1)
            return real.verify(h, p)

    monkeypatch.setattr(accounts, "_hasher", Counting())
    limits = LoginLimits(max_failures=3, account_failures=10, window_s=600)
    for _ in range(3):
        assert est.accounts.authenticate("admin", "wrong", client="a", limits=limits) is None
    with pytest.raises(RateLimited):
        est.accounts.authenticate("admin", PASSWORD, client="a", limits=limits)
    assert len(checks) == 3
    assert est.accounts.authenticate("admin", PASSWORD, client="b", limits=limits)
    est.accounts.unlock_user("admin", actor="tests")
    assert est.accounts.authenticate("admin", PASSWORD, client="a", limits=limits)
    assert [e.action for e in est.audit(action="user.unlock")] == ["user.unlock"]
    est.close()


def test_a_forwarding_header_counts_only_from_a_trusted_proxy():
    from starlette.requests import Request

    from kitvet.server.security import client_address
    from kitvet.server.settings import ServerSettings

    def req(peer: str, xff: str) -> Request:
        return Request({"type": "http", "client": (peer, 1), "headers": [
            (b"x-forwarded-for", xff.encode())]})

    s = ServerSettings(forwarded_header="X-Forwarded-For", trusted_proxies=("10.1.0.0/16",))
    assert client_address(req("10.1.2.3", "198.51.100.7"), s) == "198.51.100.7"
    assert client_address(req("10.1.2.3", "1.1.1.1, 198.51.100.7, 10.1.0.9"), s) == \
        "198.51.100.7"  # the last hop not added by a trusted proxy; a client's own is ignored
    assert client_address(req("192.0.2.5", "198.51.100.7"), s) == "192.0.2.5"  # untrusted
    assert client_address(req("10.1.2.3", "not-an-address"), s) == "10.1.2.3"
    assert client_address(req("10.1.2.3", "198.51.100.7"), ServerSettings()) == "10.1.2.3"
