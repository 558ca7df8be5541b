"""Santa rules JSON (santactl rule --import / sync server form): read as Santa reads a rule, and
only rules that can match on macOS."""

from __future__ import annotations

import json

from kitvet.enforce.santa import SantaExporter, santa_rule
from kitvet.enforce.select import select_bans
from kitvet.model.risk import Identifier, ListSet, RiskList, Subject

from .conftest import FCC, check_golden
from .santa_reader import read_rule


def rules_of(bans) -> list[dict]:
    return [read_rule(r) for r in json.loads(SantaExporter().export(bans).text)["rules"]]


def test_every_rule_is_one_santa_accepts_unchanged(bans, hostile_bans):
    for b in (bans, hostile_bans):
        for raw in json.loads(SantaExporter().export(b).text)["rules"]:
            assert read_rule(raw)["identifier"] == raw["identifier"]  # already normalised


def test_only_macos_applicable_rules(bans):
    got = {(r["rule_type"], r["identifier"]) for r in rules_of(bans)}
    assert got == {
        ("TEAMID", "2Y8XE5CQ94"),
        ("BINARY", "a" * 64),  # the list marks it a macOS file
        ("CDHASH", "d" * 40),
        ("SIGNINGID", "33CF4VB9Y2:com.electron.3cx-desktop-app"),
    }
    for r in rules_of(bans):
        assert set(r) == {"identifier", "policy", "rule_type", "custom_msg", "comment"}
        assert r["policy"] == "BLOCKLIST" and r["custom_msg"]


def test_hashes_of_other_platforms_are_gaps_not_rules(bans):
    out = SantaExporter().export(bans)
    reasons = [g.reason for g in out.gaps if g.subject == "3CX DesktopApp"]
    assert any(r.startswith("sha256 " + "b" * 64 + ": for windows only — Santa runs on macOS")
               for r in reasons)
    assert any(r.startswith("sha256 " + "c" * 64 + ": a file hash the list does not mark as a "
                            "macOS file") for r in reasons)
    assert "b" * 64 not in json.dumps(json.loads(out.text)["rules"])


def test_a_windows_only_subject_gets_no_santa_rule():
    """The us-federal case: SolarWinds/CCleaner hashes of Windows files gave BINARY rules that
    never match on a Mac."""
    s = Subject(id="orion", name="SolarWinds Orion (SUNBURST)", identifiers=(
        Identifier("sha256", "e" * 64, platforms=("windows",), source="vendor advisory"),
        Identifier("sha256", "f" * 64, source="vendor advisory")), assertions=(FCC,))
    b = select_bans(ListSet((RiskList("x", "x", "1", "2026-01-01", (s,)),)), subject_ids=["orion"])
    out = SantaExporter().export(b)
    assert out.rules == 0 and json.loads(out.text)["rules"] == []
    assert "no macOS Team ID, signing ID, certificate, cdhash or macOS file hash" in out.text


def test_comment_names_subject_identifier_and_source(bans):
    team = next(r for r in rules_of(bans) if r["rule_type"] == "TEAMID")
    assert team["comment"].startswith("kitvet: Kaspersky Lab [kaspersky-lab] — team_id "
                                      "2Y8XE5CQ94; identifier source: test source for 2Y8XE5CQ94")
    assert "Kaspersky Lab" in team["custom_msg"] and "US Congress" in team["custom_msg"]


def test_message_calls_only_a_ban_a_ban():
    s = Subject(id="mac-malware", name="Mac malware", identifiers=(
        Identifier("sha256", "e" * 64, platforms=("macos",)),), assertions=(FCC,))
    rl = RiskList("x", "x", "1", "2026-01-01", (s,))

    class Monitor:
        name = "p"

        def evaluate(self, subject):
            return type("V", (), {"status": "monitor", "rule": "r", "deciding": ()})()

    b = select_bans(ListSet((rl,)), policy=Monitor(), status="monitor")
    (rule,) = json.loads(SantaExporter().export(b).text)["rules"]
    assert rule["custom_msg"] == "Blocked by your organisation (status monitor): Mac malware " \
                                 "— US FCC"
    b = select_bans(ListSet((rl,)), subject_ids=["mac-malware"])
    (rule,) = json.loads(SantaExporter().export(b).text)["rules"]
    assert rule["custom_msg"].startswith("Blocked by your organisation's ban: ")


def test_names_and_prefixes_are_not_expressible(bans):
    out = SantaExporter().export(bans)
    reasons = {(g.subject, g.reason) for g in out.gaps}
    assert any(s == "Kaspersky Lab" and "signer 'AO Kaspersky Lab' is a name" in r
               for s, r in reasons)
    assert any("bundle id prefix com.kaspersky." in r for _, r in reasons)
    assert any(s == "Huawei Technologies Company" and "not expressible as a Santa rule" in r
               for s, r in reasons)
    assert json.loads(out.text)["kitvet"]["not_expressible"]


def test_rule_recognition():
    assert santa_rule("team_id", "eqhxz8m8av") == ("TEAMID", "EQHXZ8M8AV")
    assert santa_rule("team_id", "EQHXZ8M8A") is None
    assert santa_rule("signer", "B" * 64) == ("CERTIFICATE", "b" * 64)
    assert santa_rule("signer", "platform:com.apple.curl") == ("SIGNINGID",
                                                               "platform:com.apple.curl")
    assert santa_rule("cdhash", "A" * 40) == ("CDHASH", "a" * 40)
    assert santa_rule("sha256", "xyz") is None


def test_golden(bans):
    check_golden("santa-rules.json", SantaExporter().export(bans).text)


def test_the_reader_refuses_what_santa_refuses():
    import pytest

    from .santa_reader import SantaRefused

    for bad in ({"identifier": "x" * 64, "policy": "BLOCKLIST", "rule_type": "BINARY"},
                {"identifier": "ABC", "policy": "BLOCKLIST", "rule_type": "TEAMID"},
                {"identifier": "a" * 40, "policy": "DENY", "rule_type": "CDHASH"},
                {"identifier": "com.x", "policy": "BLOCKLIST", "rule_type": "SIGNINGID"}):
        with pytest.raises(SantaRefused):
            read_rule(bad)
