"""``enforce verify --estate``: fresh inventory drives the campaign's progress in the store."""

from __future__ import annotations

import json

from click.testing import CliRunner

from kitvet.cli import main
from kitvet.estate import init_estate, open_estate

from .test_cli import CLEAN, FEB, LIST, MAR


def verify(estate, *files):
    r = CliRunner().invoke(main, ["enforce", "verify", "--estate", str(estate), "--actor",
                                  "tester", "--format", "json", "--subject", "xz-backdoor",
                                  *files, *LIST], catch_exceptions=False)
    return r.exit_code, (json.loads(r.stdout) if r.stdout.startswith("{") else r.output)


def test_verify_records_campaign_progress(tmp_path):
    from kitvet.lists import load_lists

    est = init_estate(tmp_path / "estate", actor="tester")
    try:
        lists = load_lists([LIST[1]], allow_unsigned=True, include_bundled=False)
        est.decide("xz-backdoor", "banned", actor="tester", rationale="confirmed backdoor")
        est.start_campaign("xz-backdoor", actor="tester", lists=lists)
    finally:
        est.close()

    code, doc = verify(tmp_path / "estate", FEB)
    assert code == 1, doc
    assert {r["hostname"] for r in doc["remaining"]} == {"alpha", "bravo"}
    (camp,) = doc["campaigns"]
    assert camp["subject_id"] == "xz-backdoor" and camp["remaining_hosts"] == 2

    code, doc = verify(tmp_path / "estate", MAR)
    assert code == 1
    assert [r["hostname"] for r in doc["remaining"]] == ["bravo"]
    assert doc["campaigns"][0]["remaining_hosts"] == 1

    code, doc = verify(tmp_path / "estate", CLEAN)
    assert code == 0, doc
    assert doc["remaining"] == [] and doc["campaigns"][0]["remaining_hosts"] == 0
    assert doc["removed_since_earlier_snapshots"] == 2

    with open_estate(tmp_path / "estate") as est:
        actions = [e.action for e in est.audit(limit=None)]
    assert actions.count("estate.review") == 3


def test_missing_estate_is_a_clear_error(tmp_path):
    code, out = verify(tmp_path / "nowhere", FEB)
    assert code == 2 and "no estate here" in out
