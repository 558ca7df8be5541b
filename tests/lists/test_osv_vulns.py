"""OSV vulnerability records: imported with --vulnerabilities, matched by version, joined to
KEV by their CVE alias (Log4Shell: log4j-core 2.14.1 is known exploited, due 2021-12-24)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kitvet.cli import main
from kitvet.lists import load_list

FIX = Path(__file__).parent / "fixtures"
OSV = FIX / "osv-vulns"
KEV = FIX / "kev-httpd.json"
CDX = Path(__file__).parents[1] / "match" / "fixtures" / "log4j.cdx.json"


def _import(tmp_path: Path) -> tuple[Path, str]:
    out = tmp_path / "osv.yaml"
    r = CliRunner().invoke(main, ["lists", "import", str(OSV), "--format", "osv",
                                  "--vulnerabilities", "-o", str(out)])
    assert r.exit_code == 0, r.output
    return out, r.stderr


def test_vulnerability_records_import_and_the_rest_is_reported(tmp_path: Path) -> None:
    out, err = _import(tmp_path)
    rl = load_list(out, allow_unsigned=True)
    assert rl.name == "osv-vulnerabilities"
    assert sorted(s.id for s in rl.subjects) == ["ghsa-jfh8-c2jp-5v3q", "pysec-2099-0001"]
    log4j = rl.subject("ghsa-jfh8-c2jp-5v3q")
    assert log4j is not None and "CVE-2021-44228" in log4j.aliases
    assert [a.kind for a in log4j.assertions] == ["vulnerable-version"]
    assert all(i.versions or i.version_range for i in log4j.identifiers)
    assert "broken.json" in err  # malformed: file and reason
    assert "Obscure-Packages" in err  # unknown ecosystem: reported, not guessed
    assert "MAL-2099-0001" in err and "import it without --vulnerabilities" in err


def test_log4j_2_14_1_is_known_exploited_and_2_17_1_is_not(tmp_path: Path) -> None:
    out, _ = _import(tmp_path)
    r = CliRunner().invoke(main, ["review", str(CDX), "--list", str(out), "--kev", str(KEV),
                                  "--allow-unsigned", "--no-eol", "--format", "json",
                                  "--fail-on", "none"])
    assert r.exit_code == 0, r.output
    findings = json.loads(r.stdout[r.stdout.index("{"):])["findings"]
    got = [(f["name"], f["version"], f["subject_id"], f["status"]) for f in findings]
    assert got == [("log4j-core", "2.14.1", "ghsa-jfh8-c2jp-5v3q", "review")]
    kev = [a for a in findings[0]["assertions"] if a["kind"] == "known-exploited-vulnerability"]
    assert [(a["date"], a["due_date"]) for a in kev] == [("2021-12-10", "2021-12-24")]
