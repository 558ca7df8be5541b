"""API tokens with scopes and expiry, rotation without downtime, last use, never logged
(issue 19, part 3) — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
import re

from click.testing import CliRunner
from sqlalchemy import update
from srvkit import FIXTURES

from kitvet.cli import main
from kitvet.store import account_tables as st


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_read_token_reads_and_cannot_act(srv):
    token, info = srv.estate.tokens.issue_token(name="dashboard", username="admin",
                                                scope="read", actor="tests")
    assert info.scope == "read" and info.expires_at  # tokens expire by default
    h = _bearer(token)
    assert srv.client.get("/api/v1/findings", headers=h).status_code == 200
    f = srv.finding_of("alpha-ws-1")
    r = srv.client.post(f"/api/v1/findings/{f['finding_id']}/state", headers=h,
                        json={"state": "in_review", "reason": "look"})
    assert r.status_code == 403 and "read-only" in r.text
    # the admin's write token still acts
    r = srv.client.post(f"/api/v1/findings/{f['finding_id']}/state", headers=srv.as_("admin"),
                        json={"state": "in_review", "reason": "look"})
    assert r.status_code == 200, r.text


def test_ingest_tokens_only_ingest_and_user_tokens_never_ingest(srv):
    body = (FIXTURES / "alpha.kitvet.json").read_bytes()
    assert srv.client.get("/api/v1/findings",
                          headers=srv.ingest("Alpha Agency")).status_code == 403
    for scope in ("read", "write"):
        token, _ = srv.estate.tokens.issue_token(name=scope, username="admin", scope=scope,
                                                 actor="tests")
        r = srv.client.post("/api/v1/snapshots", content=body, headers=_bearer(token))
        assert r.status_code == 403, scope


def test_scopes_that_do_not_fit_are_refused(srv):
    import pytest

    from kitvet.estate import AccountError

    with pytest.raises(AccountError, match="does not fit"):
        srv.estate.tokens.issue_token(name="x", institution="Alpha Agency", scope="read",
                                      actor="tests")
    with pytest.raises(AccountError, match="does not fit"):
        srv.estate.tokens.issue_token(name="x", username="admin", scope="ingest", actor="tests")


def test_an_expired_token_stops_working(srv):
    token, info = srv.estate.tokens.issue_token(name="short", username="audrey",
                                                expires_days=1, actor="tests")
    assert srv.client.get("/api/v1/findings", headers=_bearer(token)).status_code == 200
    with srv.estate.engine.begin() as conn:
        conn.execute(update(st.api_tokens).where(st.api_tokens.c.token_id == info.token_id)
                     .values(expires_at="2020-01-01T00:00:00.000000Z"))
    r = srv.client.get("/api/v1/findings", headers=_bearer(token))
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    assert info.token_id not in [t.token_id for t in srv.estate.tokens.list_tokens()]


def test_rotation_keeps_the_old_token_for_the_overlap(srv):
    old = srv.ingest_tokens["Alpha Agency"]
    old_id = srv.estate.tokens.lookup(old).token_id
    new, info = srv.estate.tokens.rotate_token(old_id, actor="tests", overlap_s=3600)
    assert info.replaces == old_id and info.scope == "ingest"
    assert info.institution == "Alpha Agency" and info.name == "Alpha Agency agents"
    body = (FIXTURES / "alpha.kitvet.json").read_bytes()
    for token in (old, new):  # both work during the overlap: no downtime
        r = srv.client.post("/api/v1/snapshots", content=body, headers=_bearer(token))
        assert r.status_code == 202, r.text
    srv.estate.tokens.rotate_token(info.token_id, actor="tests", overlap_s=0)
    assert srv.client.post("/api/v1/snapshots", content=body,
                           headers=_bearer(new)).status_code == 401  # overlap 0: gone
    actions = [e.action for e in srv.estate.audit(action="token.", limit=None)]
    assert actions.count("token.rotate") == 2


def test_last_use_is_recorded(srv):
    token, info = srv.estate.tokens.issue_token(name="grafana", username="audrey",
                                                scope="read", actor="tests")
    assert srv.estate.tokens.lookup(token).last_used_at is None
    srv.client.get("/api/v1/summary", headers=_bearer(token))
    used = srv.estate.tokens.lookup(token).last_used_at
    assert used is not None and used >= info.created_at


def test_tokens_are_never_logged(srv, caplog):
    caplog.set_level(logging.DEBUG)
    token, info = srv.estate.tokens.issue_token(name="agent", institution="Alpha Agency",
                                                actor="tests")
    doc = json.loads((FIXTURES / "alpha.kitvet.json").read_bytes())
    doc["snapshots"][0]["host"]["collected_at"] = "2026-11-21T09:00:00Z"
    r = srv.client.post("/api/v1/snapshots", params={"wait": 30}, content=json.dumps(doc),
                        headers=_bearer(token))
    assert r.json()["status"] == "done", r.text  # stored by the ingest worker, which logs too
    assert srv.estate.tokens.lookup(token).last_used_at is not None  # the worker's touch
    srv.client.get("/api/v1/findings", headers=_bearer(token))
    srv.client.get("/api/v1/findings", headers=_bearer(token + "x"))
    new, _ = srv.estate.tokens.rotate_token(info.token_id, actor="tests")
    srv.estate.tokens.revoke_token(info.token_id, actor="tests")
    text = caplog.text + json.dumps([e.to_dict() for e in srv.estate.audit(limit=None)])
    assert token not in text and new not in text
    assert token[4:20] not in text and new[4:20] not in text


def test_token_commands_scope_expiry_rotation(tmp_path):
    from kitvet.cli.serve import DEFAULT_TOKEN_DAYS
    from kitvet.estate import init_estate, open_estate
    from kitvet.estate.tokens import DEFAULT_DAYS

    assert DEFAULT_TOKEN_DAYS == DEFAULT_DAYS
    root = tmp_path / "estate"
    est = init_estate(root, actor="tests")
    est.accounts.create_user("dash", "a long enough password", role="auditor", actor="tests")
    est.close()
    run = CliRunner().invoke
    base = ["serve", "--estate", str(root), "token"]
    r = run(main, [*base, "add", "--user", "dash", "--name", "wallboard", "--scope", "read",
                          "--expires-days", "30"])
    assert r.exit_code == 0, r.output
    assert re.search(r"token 1 \(read: dash; expires 20\d\d-", r.output)
    r = run(main, [*base, "add", "--institution", "Alpha", "--name", "agents", "--scope", "read"])
    assert r.exit_code == 2 and "does not fit" in r.output
    r = run(main, [*base, "add", "--institution", "Alpha", "--name", "agents", "--no-expiry"])
    assert r.exit_code == 0 and "expires never" in r.output
    r = run(main, [*base, "rotate", "2", "--overlap-hours", "2"])
    assert r.exit_code == 0 and "token 3 replaces token 2" in r.output
    new = re.search(r"kvt_[A-Za-z0-9_-]{40,}", r.output).group(0)
    listing = run(main, [*base, "list"]).output
    lines = listing.splitlines()
    assert len(lines) == 3 and new not in listing
    assert lines[0].startswith("1\tread\tdash\twallboard") and "last used -" in lines[0]
    assert lines[1].startswith("2\tingest\tAlpha\tagents") and "expires never" not in lines[1]
    with open_estate(root) as est:
        assert est.tokens.lookup(new).replaces == 2
