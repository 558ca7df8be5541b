"""``kitvet enforce``: exit codes, determinism, errors as one line, atomic output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kitvet.cli import main

FIX = Path(__file__).parent / "fixtures"
LIST = ["--list", str(FIX / "enforce-list.yaml"), "--allow-unsigned", "--no-bundled"]
FEB, MAR, CLEAN = (str(FIX / f"inventory-{n}.json") for n in ("feb", "mar", "clean"))


def run(*args: str):
    return CliRunner().invoke(main, ["enforce", *args], catch_exceptions=False)


@pytest.mark.parametrize("target,fmt", [
    ("usbguard", None), ("fleet", None), ("osquery", None), ("santa", None), ("wdac", None),
    ("applocker", None), ("nac", "text"), ("nac", "csv"), ("nac", "nftables"),
])
def test_every_target_exports_deterministically(target, fmt):
    args = ["export", "-t", target, "--subject", "examplecom", "--subject", "xz-backdoor", *LIST]
    if fmt:
        args += ["--format", fmt]
    first, second = run(*args), run(*args)
    assert first.exit_code == 0, first.output
    assert first.stdout == second.stdout
    if first.stdout.startswith("{"):  # JSON targets carry the header as an object
        head = json.loads(first.stdout)["kitvet"]
        assert head["lists"][0] | {"signed_by": None} == {
            "name": "enforce-test", "version": "3", "date": "2026-01-15",
            "publisher": "kitvet tests", "signed_by": None}
        assert head["date"] == "2026-01-15" and head["target"] == target
        assert [s["id"] for s in head["subjects"]] == ["examplecom", "xz-backdoor"]
    else:
        assert "List: enforce-test 3 (2026-01-15)" in first.stdout
        assert "Date: 2026-01-15" in first.stdout
        assert "Subjects included (2):" in first.stdout


def test_status_selection_under_a_profile():
    r = run("export", "-t", "fleet", "--status", "ban", "--profile", "default", *LIST)
    assert r.exit_code == 0
    assert "xz-utils 5.6.0/5.6.1 [xz-backdoor]" in r.stdout
    assert "kitvet ban: xz-utils" in r.stdout


def test_date_option_overrides_list_date():
    r = run("export", "-t", "usbguard", "--subject", "examplecom", "--date", "2026-06-30", *LIST)
    assert "# Date: 2026-06-30" in r.stdout


def test_output_file_written(tmp_path):
    out = tmp_path / "rules.conf"
    r = run("export", "-t", "usbguard", "--subject", "examplecom", "-o", str(out), *LIST)
    assert r.exit_code == 0
    assert 'block id 12d1:* label "kitvet:examplecom"' in out.read_text()
    assert not [p for p in tmp_path.iterdir() if p.name != "rules.conf"]  # no temp left


def test_summary_counts_what_the_header_lists_as_not_expressible(tmp_path):
    out = tmp_path / "rules.conf"
    r = run("export", "-t", "usbguard", "--subject", "kaspersky-lab", "--profile", "us-federal",
            "-o", str(out))  # no USB id, three unverified identifiers of the list and the
    # organisation graph's unverified publisher name of Kaspersky Lab UK Ltd. left out
    assert r.exit_code == 0, r.output
    assert "# Not expressible for usbguard (5):" in out.read_text()
    assert "0 rule(s) for 1 subject(s)" in r.stderr
    assert "; 5 not expressible (see its header)" in r.stderr


def test_removal_plan_needs_inventory():
    r = run("export", "-t", "removal-plan", "--subject", "xz-backdoor", *LIST)
    assert r.exit_code == 2 and "needs --inventory" in r.stderr


def test_removal_plan_from_inventory_files():
    r = run("export", "-t", "removal-plan", "--format", "json", "--subject", "xz-backdoor",
            "--inventory", FEB, *LIST)
    assert r.exit_code == 0, r.output
    steps = json.loads(r.stdout)["steps"]
    assert [(s["institution"], s["command"], s["hosts"]) for s in steps] == [
        ("Ministry", "apt-get install --yes xz-utils=5.6.1+really5.4.5-1", ["alpha"]),
        ("Office", "apt-get install --yes xz-utils=5.6.1+really5.4.5-1", ["bravo"]),
    ]
    r = run("export", "-t", "removal-plan", "--format", "json", "--subject", "xz-backdoor",
            "--inventory", FEB, "--pin", "xz-utils=5.4.1-0.2", *LIST)
    assert {s["command"] for s in json.loads(r.stdout)["steps"]} == {
        "apt-get install --yes --allow-downgrades xz-utils=5.4.1-0.2"}
    r = run("export", "-t", "removal-plan", "--subject", "xz-backdoor", "--inventory", FEB,
            "--pin", "xz-utils=5.4; reboot", *LIST)
    assert r.exit_code == 2 and "--pin must be NAME=VERSION" in r.stderr


def test_stdout_holds_only_the_export_when_several_inventories_are_read():
    r = run("export", "-t", "removal-plan", "--subject", "xz-backdoor", "--inventory", FEB,
            "--inventory", MAR, *LIST)
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("<!--\nkitvet enforce export — target: removal-plan\n")


def test_unknown_subject_is_one_clear_error():
    r = run("export", "-t", "santa", "--subject", "nope", *LIST)
    assert r.exit_code == 2
    assert "kitvet: error: no such subject in the lists: nope" in r.stderr
    assert "Traceback" not in r.output


def test_subject_by_name_in_any_case_as_policy_explain_accepts_it():
    by_id = run("export", "-t", "usbguard", "--subject", "examplecom", *LIST)
    by_name = run("export", "-t", "usbguard", "--subject", "example communications co.", *LIST)
    assert by_name.exit_code == 0, by_name.output
    assert by_name.stdout == by_id.stdout and "Subjects included (1):" in by_id.stdout
    r = run("verify", "--subject", "XZ-UTILS 5.6.0/5.6.1", FEB, *LIST)
    assert r.exit_code == 1 and "bravo" in r.stdout


def test_wrong_format_for_target():
    r = run("export", "-t", "usbguard", "--format", "csv", "--subject", "examplecom", *LIST)
    assert r.exit_code == 2 and "has formats rules" in r.stderr


def test_verify_exit_codes():
    r = run("verify", "--subject", "xz-backdoor", FEB, MAR, *LIST)
    assert r.exit_code == 1
    assert "bravo" in r.stdout and "alpha" not in r.stdout
    r = run("verify", "--subject", "xz-backdoor", "--inventory", FEB, "--inventory", MAR,
            "--inventory", CLEAN, *LIST)
    assert r.exit_code == 0, r.stdout
    assert "Nothing banned remains on 2 host(s)" in r.stdout


def test_verify_json_has_first_and_last_seen():
    r = run("verify", "--format", "json", "--subject", "xz-backdoor", FEB, MAR, *LIST)
    doc = json.loads(r.stdout)
    assert doc["hosts_checked"] == 2 and doc["hosts_with_banned_items"] == 1
    (rem,) = doc["remaining"]
    assert (rem["hostname"], rem["first_seen"], rem["last_seen"]) == (
        "bravo", "2026-02-01T09:00:00Z", "2026-03-01T09:00:00Z")
    assert doc["removed_since_earlier_snapshots"] == 1
    assert doc["institutions"] == {"Office": {"hosts_with_banned_items": 1, "items": 1}}


def test_verify_bad_inventory_is_an_error_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"kitvet_inventory": "1.0.0", "snapshots": [', encoding="utf-8")
    r = run("verify", "--subject", "xz-backdoor", str(bad), *LIST)
    assert r.exit_code == 2 and "kitvet: error:" in r.stderr and "Traceback" not in r.output


def test_verify_without_inventory():
    r = run("verify", "--subject", "xz-backdoor", *LIST)
    assert r.exit_code == 2 and "give inventory files" in r.stderr


def test_targets_listing():
    r = run("targets")
    assert r.exit_code == 0
    for t in ("usbguard", "fleet", "osquery", "santa", "wdac", "applocker", "nac",
              "removal-plan"):
        assert t in r.stdout


def test_date_must_be_iso():
    r = run("export", "-t", "usbguard", "--subject", "examplecom", "--date", "2026-06-30\nblock",
            *LIST)
    assert r.exit_code == 2 and "--date must be an ISO date" in r.stderr
