"""Schemathesis against ``/api/v1/openapi.json`` (issue 19, part 4): every operation, with
cases generated from the schema (valid and invalid), as an admin, a read-only token and an
institution's ingest token. No answer may be a server error, and every answer must match the
schema: its documented status codes, content type and body."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from srvkit import Srv, make_server

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, negative_data_rejection]
FUZZ = settings(max_examples=20, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


@pytest.fixture
def fuzz_srv(tmp_path: Path) -> Iterator[Srv]:
    from fastapi.testclient import TestClient

    app, est, ut, it = make_server(tmp_path / "estate", None, review_mode="off")
    try:
        with TestClient(app):
            read, _ = est.tokens.issue_token(name="wallboard", username="audrey", scope="read",
                                             actor="tests")
            ut["read"] = read
            yield Srv(app, est, None, ut, it)
    finally:
        est.close()


def _fuzz(srv: Srv, who: str, *, path_regex: str | None = None) -> list[str]:
    """Run every operation's positive and negative cases; the failures found, one line each."""
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", srv.app)
    if path_regex:
        schema = schema.include(path_regex=path_regex)
    headers = srv.ingest(who) if who in srv.ingest_tokens else srv.as_(who)
    failures: list[str] = []
    operations = [r.ok() for r in schema.get_all_operations()]
    assert operations
    for op in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=op.as_strategy(generation_mode=mode))
            @FUZZ
            def run(case: Any) -> None:
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                run()
            except Unsatisfiable:  # no invalid input exists (no parameters, a free string)
                continue
            except (Exception, BaseExceptionGroup) as e:  # every operation's failure
                failures.append(f"{op.label} ({mode}): {str(e).strip()[:1500]}")
    return failures


def test_every_operation_as_an_admin(fuzz_srv: Srv) -> None:
    failures = _fuzz(fuzz_srv, "admin")
    assert not failures, "\n\n".join(failures)


def test_every_operation_with_a_read_only_token(fuzz_srv: Srv) -> None:
    failures = _fuzz(fuzz_srv, "read")
    assert not failures, "\n\n".join(failures)


def test_ingest_with_an_institution_token(fuzz_srv: Srv) -> None:
    failures = _fuzz(fuzz_srv, "Alpha Agency", path_regex="/snapshots")
    assert not failures, "\n\n".join(failures)
