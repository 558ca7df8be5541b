"""``kitvet lists diff``: what a reviewer sees before approving an update."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kitvet.cli import main
from kitvet.lists import bundled_paths, load_list
from kitvet.lists.diff import diff_lists

FIXTURES = Path(__file__).parent / "fixtures"


def _new_version(tmp_path: Path) -> Path:
    """A realistic update of small.yaml: one version more, a new subject, a withdrawn warning
    replaced by a clearance, and a corrected date."""
    text = (FIXTURES / "small.yaml").read_text()
    text = text.replace('version: "1"', 'version: "2"')
    text = text.replace('versions: ["1.2.3"]', 'versions: ["1.2.3", "1.2.4"]')
    text = text.replace("kind: warning\n        instrument: Example warning 1/2024",
                        "kind: cleared\n        instrument: Clearance 4/2024")
    text = text.replace("date: 2024-03-20", "date: 2024-03-21")
    text += """  - id: another-vendor
    name: Another Vendor
    identifiers:
      - kind: oui_org_name
        value: Another Vendor Co., Ltd.
        source: fixture
    assertions:
      - authority: Example Agency
        kind: high-risk-vendor
        instrument: Notice 5/2024
        date: 2024-04-01
        source: fixture
"""
    p = tmp_path / "small-v2.yaml"
    p.write_text(text)
    return p


def test_diff_reports_added_removed_changed(tmp_path: Path) -> None:
    old = load_list(FIXTURES / "small.yaml", allow_unsigned=True)
    new = load_list(_new_version(tmp_path), allow_unsigned=True)
    d = diff_lists(old, new)
    got = {(c.what, c.item, c.subject_id, c.key) for c in d.changes}
    assert ("added", "subject", "another-vendor", "another-vendor (Another Vendor)") in got
    assert ("added", "assertion", "another-vendor",
            "high-risk-vendor by Example Agency: Notice 5/2024") in got
    assert ("removed", "assertion", "example-vendor",
            "warning by xx-agency: Example warning 1/2024") in got
    assert ("added", "assertion", "example-vendor", "cleared by xx-agency: Clearance 4/2024") in got
    ident = next(c for c in d.changes if c.item == "identifier")
    assert ident.what == "changed" and ident.fields == (("versions", ["1.2.3"], ["1.2.3", "1.2.4"]),)
    dated = next(c for c in d.changes if c.item == "assertion" and c.what == "changed")
    assert dated.fields == (("date", "2024-03-20", "2024-03-21"),)
    assert ("changed", "list", None, "test-small") in got
    assert diff_lists(old, old).empty


def test_cli_diff_json_and_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    new = _new_version(tmp_path)
    r = runner.invoke(main, ["lists", "diff", str(FIXTURES / "small.yaml"), str(new),
                             "--allow-unsigned", "--format", "json"])
    assert r.exit_code == 1, r.output
    out = json.loads(r.output)
    assert out["old"]["version"] == "1" and out["new"]["version"] == "2"
    assert {c["change"] for c in out["changes"]} == {"added", "removed", "changed"}
    text = runner.invoke(main, ["lists", "diff", str(FIXTURES / "small.yaml"), str(new),
                                "--allow-unsigned"])
    assert "+ subject another-vendor (Another Vendor)" in text.output
    assert "- assertion example-vendor: warning by xx-agency" in text.output
    core = str(bundled_paths()[0])
    same = runner.invoke(main, ["lists", "diff", core, core])
    assert same.exit_code == 0 and "no differences" in same.output


def test_cli_diff_refuses_unsigned_without_flag() -> None:
    r = CliRunner().invoke(main, ["lists", "diff", str(FIXTURES / "small.yaml"),
                                  str(FIXTURES / "small.yaml")])
    assert r.exit_code == 2 and "unsigned" in r.output


def test_diff_shows_what_an_update_does_to_statuses_under_a_profile(tmp_path: Path) -> None:
    core = bundled_paths()[0]
    text = core.read_text("utf-8")
    old_kind = "    kind: warning\n    instrument: EICAR Standard"
    assert text.count(old_kind) == 1
    new = tmp_path / "core-new.yaml"
    new.write_text(text.replace(old_kind, old_kind.replace("warning", "removal-order")), "utf-8")
    args = ["lists", "diff", str(core), str(new), "--allow-unsigned", "--profile"]
    r = CliRunner().invoke(main, [*args, "default"], env={"COLUMNS": "200"})
    assert r.exit_code == 1, r.output
    assert "status under default:" in r.output and "eicar-test-file: monitor → review" in r.output
    r = CliRunner().invoke(main, [*args, "us-federal", "--format", "json"])
    assert json.loads(r.stdout)["statuses"] == {  # a non-US removal order: review there too
        "profile": "us-federal",
        "changed": [{"subject": "eicar-test-file", "old": "monitor", "new": "review"}]}
