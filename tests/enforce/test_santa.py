"""Santa rules JSON (santactl rule --import / sync server form)."""

from __future__ import annotations

import json

from kitvet.enforce.santa import SantaExporter, santa_rule

from .conftest import check_golden


def test_rules_in_santas_import_form(bans):
    doc = json.loads(SantaExporter().export(bans).text)
    rules = doc["rules"]
    assert {(r["rule_type"], r["identifier"]) for r in rules} == {
        ("TEAMID", "2Y8XE5CQ94"),
        ("BINARY", "a" * 64),
        ("SIGNINGID", "33CF4VB9Y2:com.electron.3cx-desktop-app"),
    }
    for r in rules:
        assert set(r) == {"identifier", "policy", "rule_type", "custom_msg"}
        assert r["policy"] == "BLOCKLIST"
        assert r["custom_msg"]


def test_custom_message_names_subject_and_authority(bans):
    rules = json.loads(SantaExporter().export(bans).text)["rules"]
    team = next(r for r in rules if r["rule_type"] == "TEAMID")
    assert "Kaspersky Lab" in team["custom_msg"] and "US Congress" in team["custom_msg"]


def test_message_calls_only_a_ban_a_ban():
    from kitvet.enforce.select import select_bans
    from kitvet.lists import bundled
    from kitvet.policy import load_profile

    def messages(status: str) -> set[str]:
        bans = select_bans(bundled(), policy=load_profile("eu-institutions"), status=status)
        return {r["custom_msg"] for r in json.loads(SantaExporter().export(bans).text)["rules"]}

    monitored = ("Blocked by your organisation (status monitor): "
                 "EICAR anti-malware test file — EICAR")
    assert messages("monitor") == {monitored}
    banned = messages("ban")
    assert banned and all(m.startswith("Blocked by your organisation's ban: ") for m in banned)


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
    assert santa_rule("sha256", "xyz") is None


def test_golden(bans):
    check_golden("santa-rules.json", SantaExporter().export(bans).text)
