"""Builders shared by the store and review tests: snapshots, a small risk list, the engine.

The risk list is built in memory with the shared model; findings come from the real matching
engine (kitvet.match.engine) through the bundled ``default`` policy profile.
"""

from __future__ import annotations

from typing import Any

import pytest

from kitvet.model import Assertion, Host, Identifier, RiskList, Snapshot, Subject
from kitvet.model.risk import ListSet

#: publishers the test list names, and the status the default profile gives them
EVIL = "Evil Build Corp"  # confirmed-malicious-version -> ban
ACME = "Acme Networks Co"  # removal-order -> review


def snap(host_id: str, institution: str | None, collected_at: str | None,
         software: list[tuple[str, str | None, str | None]] = (), *, machine_id: str | None = None,
         hostname: str | None = None) -> Snapshot:
    """A snapshot with software rows given as (name, version, publisher)."""
    s = Snapshot(host=Host(host_id=host_id, hostname=hostname or host_id, institution=institution,
                           platform="windows", collected_at=collected_at,
                           machine_id=machine_id, sources=("test",)))
    for i, (name, version, publisher) in enumerate(software):
        s.add_software(host_id=host_id, source="test", location=f"test:{i}", name=name,
                       version=version, publisher=publisher, package_type="windows")
    return s


def _assertion(kind: str) -> Assertion:
    return Assertion(authority="Test Authority", kind=kind, instrument="Test instrument 1",
                     date="2026-01-01", reference_url="https://example.org/instrument",
                     jurisdiction="EU")


def lists() -> ListSet:
    """A two-subject risk list: evil-build (ban) and acme (review) under ``default``."""
    subjects = (
        Subject(id="evil-build", name="Evil Build", kind="vendor",
                identifiers=(Identifier(kind="publisher", value=EVIL),),
                assertions=(_assertion("confirmed-malicious-version"),)),
        Subject(id="acme", name="Acme Networks", kind="vendor",
                identifiers=(Identifier(kind="publisher", value=ACME),),
                assertions=(_assertion("removal-order"),)),
    )
    return ListSet((RiskList(name="test-list", publisher="tests", version="1",
                             date="2026-01-01", subjects=subjects),))


def policy() -> Any:
    """The bundled default profile."""
    from kitvet.policy import load_profile

    return load_profile("default")


def review(estate: Any, actor: str = "tester") -> Any:
    """Run a review with the test list and the default profile."""
    return estate.review(actor=actor, lists=lists(), policy=policy(), profile="default")


# -- database fixtures (imported by the conftest of tests/store and tests/review) -------------

@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """None (SQLite inside the estate) or a PostgreSQL URL on a fresh schema."""
    if request.param == "sqlite":
        yield None
        return
    yield request.getfixturevalue("pg_schema_url")  # tests/conftest.py: the tests' own server


@pytest.fixture
def estate(db_url, tmp_path):
    """A new estate on SQLite or PostgreSQL."""
    from kitvet.estate import init_estate

    est = init_estate(tmp_path / "estate", db_url=db_url, actor="tester")
    yield est
    est.close()
