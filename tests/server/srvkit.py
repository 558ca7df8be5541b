"""Helpers of the server tests: a seeded estate (SQLite, and a real PostgreSQL), accounts of
every role, tokens, and a TestClient with the review worker running.

PostgreSQL: the server the tests start themselves (``pg_server`` in tests/conftest.py, or
``KITVET_TEST_PG_URL``); each server gets its own schema, dropped afterwards.
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore", message=".*httpx.*", category=DeprecationWarning)


def cheap_hashing() -> None:
    """Real argon2id, with the smallest cost parameters: the tests log in often."""
    from argon2 import PasswordHasher

    from kitvet.estate import accounts

    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    accounts._dummy.clear()


cheap_hashing()

FIXTURES = Path(__file__).parent / "fixtures"
PASSWORD = "correct horse battery staple"
USERS = {  # name: (role, institutions)
    "admin": ("admin", ()),
    "alice": ("reviewer", ("Alpha Agency",)),
    "bob": ("reviewer", ("Beta Bureau",)),
    "audrey": ("auditor", ()),
}


def risk_lists() -> Any:
    """Two subjects: evil-build (ban under the default profile) and acme (review), acme with
    an exculpatory "no evidence found" assertion beside the removal order."""
    from kitvet.model import Assertion, Identifier, RiskList, Subject
    from kitvet.model.risk import ListSet

    def a(kind: str, authority: str, url: str) -> Assertion:
        return Assertion(authority=authority, kind=kind, instrument=f"{authority} notice 1",
                         date="2026-01-01", reference_url=url, jurisdiction="EU")

    subjects = (
        Subject(id="evil-build", name="Evil Build", kind="vendor",
                identifiers=(Identifier(kind="publisher", value="Evil Build Corp"),),
                assertions=(a("confirmed-malicious-version", "Test CERT",
                              "https://cert.example/advisory"),)),
        Subject(id="acme", name="Acme Networks", kind="vendor",
                identifiers=(Identifier(kind="publisher", value="Acme Networks Co"),),
                assertions=(a("removal-order", "Test Ministry", "https://gov.example/order"),
                            a("no-evidence-found", "Test Commission",
                              "javascript:alert(1)"))),
    )
    return ListSet((RiskList(name="server-test", publisher="tests", version="1",
                             date="2026-01-01", subjects=subjects),))


@dataclass
class Srv:
    """A running test server: app, estate, client, tokens."""

    app: Any
    estate: Any
    client: Any
    user_tokens: dict[str, str] = field(default_factory=dict)
    ingest_tokens: dict[str, str] = field(default_factory=dict)

    def as_(self, user: str) -> dict[str, str]:
        """API headers acting as ``user``."""
        return {"Authorization": f"Bearer {self.user_tokens[user]}"}

    def ingest(self, institution: str) -> dict[str, str]:
        """API headers of an institution's ingest token."""
        return {"Authorization": f"Bearer {self.ingest_tokens[institution]}"}

    def wait_review(self) -> None:
        """Block until the background review has run."""
        assert self.app.state.kv.worker.wait_idle(60), "the background review did not finish"

    def findings(self, user: str = "admin", **params: Any) -> list[dict[str, Any]]:
        """Live findings through the API."""
        r = self.client.get("/api/v1/findings", params={"limit": 500, **params},
                            headers=self.as_(user))
        assert r.status_code == 200, r.text
        return r.json()["items"]

    def finding_of(self, host: str) -> dict[str, Any]:
        """The first finding of a host (as admin)."""
        return next(f for f in self.findings() if f["host_id"] == host)


def make_server(root: Path, db_url: str | None, *, seed: bool = True,
                pg_template: PgTemplate | None = None, **settings: Any
                ) -> tuple[Any, Any, dict[str, str], dict[str, str]]:
    """An app over a new estate with the users, tokens and (optionally) the two fixtures.

    Building that estate — schema, accounts, tokens, two imports and a review — was most of a
    server test's time, so servers get copies of one built once per test session: on SQLite
    (``db_url`` None) a copy of its folder (the database path is relative, so the folder
    moves); on PostgreSQL, given ``pg_template``, also a database created from the template's
    (``CREATE DATABASE ... TEMPLATE``, 0.2 s instead of 1.2). Any other ``db_url`` gets an
    estate built for it."""
    from kitvet.estate import open_estate
    from kitvet.policy import load_profile
    from kitvet.server.app import create_app
    from kitvet.server.settings import ServerSettings

    lists, policy = risk_lists(), load_profile("default")
    if pg_template is not None:
        assert seed and db_url is not None, "a PostgreSQL template is seeded"
        est, user_tokens, ingest_tokens = pg_template.copy(root, db_url)
    elif db_url is None:
        template, user_tokens, ingest_tokens = _template(seed)
        shutil.copytree(template, root)
        est = open_estate(root)
    else:
        est, user_tokens, ingest_tokens = _seeded(root, db_url, seed)
    cfg = dict(estate=root, max_body_bytes=256 * 1024, max_inventory_bytes=1024 * 1024)
    cfg.update(settings)
    app = create_app(est, ServerSettings(**cfg), lists=lists, policy=policy)
    return app, est, user_tokens, ingest_tokens


@dataclass
class PgTemplate:
    """A seeded estate on its own PostgreSQL database, which server tests copy."""

    root: Path
    url: str
    user_tokens: dict[str, str]
    ingest_tokens: dict[str, str]

    @classmethod
    def build(cls, root: Path, url: str) -> PgTemplate:
        est, user_tokens, ingest_tokens = _seeded(root, url, True)
        est.close()  # a template database must have no connections
        return cls(root, url, user_tokens, ingest_tokens)

    def copy(self, root: Path, url: str) -> tuple[Any, dict[str, str], dict[str, str]]:
        """The estate at ``root`` on the (new) database of ``url``, both copies of this one."""
        import psycopg

        from kitvet.estate import open_estate
        from kitvet.store.location import normalise_db_url, read_config, write_config

        server, name = url.rsplit("/", 1)
        with psycopg.connect(f"{server}/postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.url.rsplit("/", 1)[1]}"')
        shutil.copytree(self.root, root)
        cfg = read_config(root)
        write_config(root, replace(cfg, db_url=normalise_db_url(url)))
        return open_estate(root), dict(self.user_tokens), dict(self.ingest_tokens)


def _seeded(root: Path, db_url: str | None, seed: bool
            ) -> tuple[Any, dict[str, str], dict[str, str]]:
    """A new estate with the users, tokens and (if ``seed``) the two fixtures, reviewed."""
    from kitvet.estate import init_estate
    from kitvet.policy import load_profile

    est = init_estate(root, db_url=db_url, actor="tests")
    user_tokens, ingest_tokens = {}, {}
    for name, (role, insts) in USERS.items():
        est.accounts.create_user(name, PASSWORD, role=role, institutions=insts, actor="tests")
        user_tokens[name] = est.tokens.issue_token(name=f"{name}-script", username=name,
                                                   actor="tests")[0]
    for inst in ("Alpha Agency", "Beta Bureau"):
        ingest_tokens[inst] = est.tokens.issue_token(name=f"{inst} agents", institution=inst,
                                                     actor="tests")[0]
    if seed:
        est.import_paths([FIXTURES / "alpha.kitvet.json"], actor="tests")
        est.import_paths([FIXTURES / "beta.kitvet.json"], actor="tests")
        est.review(actor="tests", lists=risk_lists(), policy=load_profile("default"),
                   profile="default")
    return est, user_tokens, ingest_tokens


_TEMPLATES: dict[bool, tuple[Path, dict[str, str], dict[str, str]]] = {}


def _template(seed: bool) -> tuple[Path, dict[str, str], dict[str, str]]:
    """The SQLite estate every server test copies (built on first use, removed at exit)."""
    if seed not in _TEMPLATES:
        base = Path(tempfile.mkdtemp(prefix="kitvet-srv-template-"))
        atexit.register(shutil.rmtree, base, True)
        est, user_tokens, ingest_tokens = _seeded(base / "estate", None, seed)
        est.close()
        _TEMPLATES[seed] = (base / "estate", user_tokens, ingest_tokens)
    root, user_tokens, ingest_tokens = _TEMPLATES[seed]
    return root, dict(user_tokens), dict(ingest_tokens)


def login(client: Any, user: str, password: str = PASSWORD, *, next_url: str = "/") -> Any:
    """Post the login form as a browser would (token from the form and its cookie)."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return client.post("/login", data={"username": user, "password": password,
                                       "csrf_token": token, "next": next_url},
                       follow_redirects=False)


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
