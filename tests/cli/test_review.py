"""`kitvet review` on inventory files: formats, exit codes, bad input."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kitvet.cli import main

FIX = Path(__file__).parent / "fixtures"
SMALL = str(FIX / "estate-small.json")


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_json_report_has_findings_with_evidence_and_exit_code_1_on_ban():
    r = run("review", SMALL, "--format", "json")
    assert r.exit_code == 1
    doc = json.loads(r.output)
    assert doc["kitvet_report"].startswith("1.")
    by = {(f["host_id"], f["subject_id"]): f for f in doc["findings"]}
    xz = [f for (h, _), f in by.items() if h == "h-deb-bad"]
    assert len(xz) == 1 and xz[0]["status"] == "ban"
    assert xz[0]["matched"][0]["kind"] == "package_name"
    assert not any(h == "h-deb-revert" for h, _ in by)  # Debian's revert is not a finding
    kas = [f for (h, s), f in by.items() if h == "h-win" and "kaspersky" in s]
    assert kas and all(f["assertions"] for f in kas)
    # the Commission's "no indication of danger" answers are shown beside the accusations
    assert any(a["kind"] == "no-evidence-found" for f in kas for a in f["exculpatory"])
    huawei = [f for (h, s), f in by.items() if h == "h-win" and f["item_type"] == "device"]
    assert huawei and "12d1" in huawei[0]["explanation"]
    assert doc["summary"]["by_status"]["ban"] == 1


@pytest.mark.parametrize("fail_on, code", [("ban", 1), ("review", 1), ("monitor", 1), ("none", 0)])
def test_fail_on(fail_on, code):
    assert run("review", SMALL, "--format", "json", "--fail-on", fail_on).exit_code == code


def test_fail_on_threshold_with_only_review_findings(tmp_path):
    doc = json.loads((FIX / "estate-small.json").read_text())
    doc["snapshots"] = [s for s in doc["snapshots"] if s["host"]["host_id"] == "h-win"]
    f = tmp_path / "review-only.json"
    f.write_text(json.dumps(doc))
    assert run("review", str(f), "--fail-on", "ban").exit_code == 0
    assert run("review", str(f), "--fail-on", "review").exit_code == 1
    r = run("review", str(FIX / "clean.json"), "--fail-on", "monitor")
    assert r.exit_code == 0 and "No findings" in r.output


def test_csv_neutralises_formulas():
    r = run("review", SMALL, "--format", "csv", "--fail-on", "none")
    rows = list(csv.DictReader(io.StringIO(r.output)))
    names = [row["name"] for row in rows]
    assert "'=HYPERLINK(\"http://x\")" in names
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())


def test_html_escapes_host_strings_and_fetches_nothing(tmp_path):
    out = tmp_path / "r.html"
    run("review", SMALL, "--format", "html", "-o", str(out), "--fail-on", "none")
    html = out.read_text()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html and "src=\"http" not in html and "<link" not in html
    assert "Agency" in html and "Secretariat" in html and "<svg" in html


def test_sarif_is_2_1_0():
    doc = json.loads(run("review", SMALL, "--format", "sarif", "--fail-on", "none").output)
    assert doc["version"] == "2.1.0"
    results = doc["runs"][0]["results"]
    assert {r["level"] for r in results} >= {"error", "warning"}
    assert all(r["ruleId"] in {x["id"] for x in doc["runs"][0]["tool"]["driver"]["rules"]}
               for r in results)


def test_table_output_names_status_and_evidence():
    r = run("review", SMALL, "--fail-on", "none")
    assert r.exit_code == 0
    assert "ban" in r.output and "xz-utils" in r.output and "USB vendor id 12d1" in r.output


@pytest.mark.parametrize("content, message", [
    ('{"kitvet_inventory": "1.0.0", "snapshots": [{"host": {"host_id": "a"}, "softw', "not valid JSON"),
    ('{"kitvet_inventory": "9.0.0", "snapshots": []}', "unsupported inventory schema version"),
    ('{"kitvet_inventory": "1.0.0", "snapshots": {"a": 1}}', "must be a list"),
    ('{"kitvet_inventory": "1.0.0", "snapshots": [{"host": {"host_id": 5}}]}', "host_id"),
])
def test_bad_inventory_is_one_line_and_exit_2(tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    p = subprocess.run([sys.executable, "-m", "kitvet", "review", str(bad)],
                       capture_output=True, text=True)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    assert str(bad) in p.stderr and message in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_a_bad_row_is_skipped_and_the_good_ones_kept(tmp_path):
    doc = {"kitvet_inventory": "1.0.0", "snapshots": [{"host": {"host_id": "h", "platform": "linux"},
           "software": [{"name": ["not", "a", "string"]},
                        {"name": "xz-utils", "version": "5.6.0-0.1", "package_type": "deb"}]}]}
    f = tmp_path / "inv.json"
    f.write_text(json.dumps(doc))
    out = json.loads(run("review", str(f), "--format", "json", "--fail-on", "none").output)
    assert [x["name"] for x in out["findings"]] == ["xz-utils"]
    assert out["skipped"] and "must be a string" in out["skipped"][0]["reason"]


def test_a_device_known_only_by_its_ids_is_reported_not_a_crash(tmp_path):
    doc = {"kitvet_inventory": "1.0.0", "snapshots": [{"host": {"host_id": "h", "platform": "linux"},
           "devices": [{"bus": "usb", "vendor_id": "12d1", "product_id": "1506"}]}]}
    f = tmp_path / "inv.json"
    f.write_text(json.dumps(doc))
    for fmt in ("table", "csv", "html", "json"):
        r = run("review", str(f), "--format", fmt, "--fail-on", "none")
        assert r.exit_code == 0, (fmt, r.output)
        assert "12d1" in r.output
    assert "None" not in run("review", str(f), "--format", "html", "--fail-on", "none").output
