"""``kitvet policy explain``: the same subject under two profiles, assertion by assertion."""

from __future__ import annotations

import json

from click.testing import CliRunner

from kitvet.cli import main


def _explain(*args: str) -> dict:
    r = CliRunner().invoke(main, ["policy", "explain", *args, "--format", "json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def test_kaspersky_eu_institutions_vs_us_federal() -> None:
    eu = _explain("kaspersky-lab", "--profile", "eu-institutions")
    us = _explain("Kaspersky Lab", "--profile", "us-federal")
    assert (eu["status"], us["status"]) == ("review", "ban")
    assert us["deadlines"] == {"identify": 30, "plan": 60, "remove": 90}
    bod_eu = next(a for a in eu["assertions"] if a["citation"] == "BOD 17-01")
    bod_us = next(a for a in us["assertions"] if a["citation"] == "BOD 17-01")
    assert bod_eu["outcome"] == "monitor" and "us-informs" in bod_eu["reason"]
    assert not bod_eu["deciding"]
    assert bod_us["outcome"] == "ban" and bod_us["deciding"]
    ep = next(a for a in eu["assertions"] if a["authority_id"] == "eu-parliament")
    assert ep["deciding"] and ep["outcome"] == "review"
    for verdict in (eu, us):
        answers = [a for a in verdict["assertions"] if a["kind"] == "no-evidence-found"]
        assert len(answers) == 2 and all(a["outcome"] == "exculpatory" for a in answers)


def test_table_output_marks_unverified_and_exculpatory() -> None:
    r = CliRunner().invoke(main, ["policy", "explain", "kaspersky-lab", "--profile",
                                  "eu-institutions"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "REVIEW" in r.output and "UNVERIFIED" in r.output
    assert "Shown beside the accusations" in r.output and "P-000603/2018" in r.output


def test_unknown_subject_and_profile_are_clear_errors() -> None:
    r = CliRunner().invoke(main, ["policy", "explain", "kasper"])
    assert r.exit_code == 2 and "did you mean kaspersky-lab" in r.output
    r = CliRunner().invoke(main, ["policy", "explain", "kaspersky-lab", "--profile", "nope"])
    assert r.exit_code == 2 and "unknown profile 'nope'" in r.output


def test_profiles_lists_bundled_profiles() -> None:
    r = CliRunner().invoke(main, ["policy", "profiles"])
    assert r.exit_code == 0
    assert {line.split(":")[0] for line in r.output.splitlines()} >= {
        "default", "us-federal", "eu-institutions"}


def test_show_prints_a_profile_that_loads_again(tmp_path) -> None:
    from kitvet.policy import load_profile

    r = CliRunner().invoke(main, ["policy", "show", "eu-institutions"])
    assert r.exit_code == 0 and "name: eu-institutions" in r.output
    p = tmp_path / "ours.yaml"
    p.write_text(r.output.replace("name: eu-institutions", "name: ours"))
    assert load_profile(str(p)).name == "ours"


def test_explain_finds_a_subject_by_alias_in_any_case() -> None:
    assert _explain("AO KASPERSKY LAB", "--profile", "us-federal")["subject"]["id"] == \
        "kaspersky-lab"
    r = CliRunner().invoke(main, ["policy", "explain", "kaspersky"])
    assert r.exit_code == 2 and "did you mean kaspersky-lab" in r.output


def test_json_carries_each_assertions_scope_and_caveats() -> None:
    us = _explain("kaspersky-lab", "--profile", "us-federal")
    fcc = next(a for a in us["assertions"] if a["date"] == "2022-03-25")
    assert "no FCC/USF subsidies" in fcc["scope"]
    assert fcc["note"] == "Public Notice DA number not verified"
    assert fcc["source_quality"] == "secondary"
    undated = next(a for a in us["assertions"] if a["citation"] == "answer to P-001206/2019")
    assert undated["date"] is None and "exact answer date not seen" in undated["date_note"]
