"""A generated estate is a whole estate: ``kitvet bench generate``'s output opens with
``kitvet estate review``, ``kitvet findings list`` and ``kitvet serve`` like any other, with the
findings the engine finds in its lake; ``kitvet bench change`` moves hosts in both."""

from __future__ import annotations

import json
import warnings

import duckdb
from click.testing import CliRunner

from kitvet.bench.estate import read_manifest
from kitvet.cli import main
from kitvet.identify.eol import with_eol
from kitvet.lists import bundled
from kitvet.match.engine import match
from kitvet.policy import load_profile
from kitvet.store.lake import Lake

warnings.filterwarnings("ignore", message=".*httpx.*", category=DeprecationWarning)


def _lake_findings(root) -> set[tuple[str, str]]:
    """(host, subject) pairs the DuckDB engine finds in the lake alone."""
    con = duckdb.connect()
    names = Lake(root / "lake").views(con)
    found = match(con, with_eol(bundled()), load_profile("default"), **names)
    return set(zip(found.column("host_id").to_pylist(), found.column("subject_id").to_pylist(),
                   strict=True))


def test_a_generated_estate_opens_like_any_other(tmp_path):
    root = tmp_path / "generated"
    run = CliRunner().invoke
    res = run(main, ["bench", "generate", "--hosts", "150", "--seed", "17", "-o", str(root),
                     "--batch-hosts", "60", "--actor", "tests"])
    assert res.exit_code == 0, res.output
    expected = _lake_findings(root)
    listed = {subject for _host, subject in expected if not subject.startswith("eol-")}
    assert listed, "the generated estate carries listed items"

    res = run(main, ["estate", "status", "--estate", str(root), "--format", "json"])
    assert res.exit_code == 0, res.output
    assert (json.loads(res.output)["hosts"], json.loads(res.output)["snapshots"]) == (150, 150)

    res = run(main, ["estate", "review", "--estate", str(root), "--actor", "tests"])
    assert res.exit_code == 0, res.output
    res = run(main, ["findings", "list", "--estate", str(root), "--format", "json",
                     "--limit", "1000"])
    assert res.exit_code == 0, res.output
    items = json.loads(res.output)["items"]
    assert {(f["host_id"], f["subject_id"]) for f in items} == expected
    assert all(f["institution"] and f["hostname"] for f in items)

    from fastapi.testclient import TestClient

    from kitvet.estate import open_estate
    from kitvet.server.app import create_app
    from kitvet.server.settings import ServerSettings

    with open_estate(root) as est:
        est.accounts.create_user("admin", "a long enough password", role="admin",
                                 institutions=(), actor="tests")
        token = est.tokens.issue_token(name="script", username="admin", actor="tests")[0]
        app = create_app(est, ServerSettings(estate=root, review_mode="off"))
        with TestClient(app) as client:
            r = client.get("/api/v1/findings", params={"limit": 500},
                           headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
            assert r.json()["total"] == len(expected)
            r = client.get("/api/v1/hosts", params={"limit": 500},
                           headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
            assert r.json()["total"] == 150


def test_change_moves_hosts_in_the_lake_and_the_database(tmp_path):
    root = tmp_path / "generated"
    run = CliRunner().invoke
    assert run(main, ["bench", "generate", "--hosts", "40", "-o", str(root)]).exit_code == 0
    res = run(main, ["bench", "change", "--estate", str(root), "--fraction", "0.1"])
    assert res.exit_code == 0, res.output
    moved = set(read_manifest(root)["changes"][0]["snapshot_ids"])

    from kitvet.estate import open_estate

    with open_estate(root) as est:
        assert est.refresh_current() == 40  # the database's pointers, written to the lake
    con = duckdb.connect()
    Lake(root / "lake").views(con)
    current = {r[0] for r in con.execute("SELECT snapshot_id FROM hosts").fetchall()}
    assert len(moved) == 4 and moved <= current and len(current) == 40
