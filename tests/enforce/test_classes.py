"""A ban export never blocks a vulnerable or end-of-life release unless a profile bans it."""

from __future__ import annotations

import dataclasses

from kitvet.enforce import exporter
from kitvet.enforce.select import select_bans
from kitvet.model.risk import Assertion, Identifier, ListSet, RiskList, Subject
from kitvet.policy import load_profile
from kitvet.policy.engine import Policy

KEV = Assertion(authority="CISA", kind="known-exploited-vulnerability", instrument="KEV",
                date="2021-11-03", jurisdiction="US")
EOL = Assertion(authority="Debian", kind="end-of-life", instrument="Debian 10 LTS end",
                date="2024-06-30", jurisdiction="INT")
MAL = Assertion(authority="Vendor", kind="confirmed-malicious-version", instrument="advisory",
                date="2024-03-29")


def _subject(sid: str, a: Assertion) -> Subject:
    return Subject(id=sid, name=sid, identifiers=(
        Identifier("usb_vendor_id", {"kev": "0001", "eol": "0002", "mal": "0003"}[sid]),),
        assertions=(a,))


LISTS = ListSet((RiskList("l", "t", "1", "2026-01-01", subjects=(
    _subject("kev", KEV), _subject("eol", EOL), _subject("mal", MAL))),))


def test_status_selection_and_naming_leave_vulnerable_and_eol_out():
    default = load_profile("default")
    for status in ("ban", "review", "monitor"):
        bans = select_bans(LISTS, policy=default, status=status)
        assert bans.subject_ids() <= {"mal"}, status
    named = select_bans(LISTS, policy=default, subject_ids=["kev", "eol", "mal"])
    assert named.subject_ids() == {"mal"}
    reasons = {g.subject: g.reason for g in named.withheld}
    assert "not banned by default (status review)" in reasons["kev"]
    assert reasons["eol"].startswith("end of life, not banned by default (status review)")
    text = exporter("usbguard").export(named).text
    rules = [line for line in text.splitlines() if not line.startswith("#")]
    assert any(r.startswith("block id 0003:*") for r in rules)
    assert not any("0001" in r or "0002" in r for r in rules)
    assert "vulnerability, not banned by default" in text  # said in the header


def test_a_profile_that_bans_them_puts_them_in_the_export():
    spec = load_profile("default").spec
    strict = dataclasses.replace(spec, name="strict", statuses={
        **spec.statuses, "known-exploited-vulnerability": "ban"})
    bans = select_bans(LISTS, policy=Policy(strict), status="ban")
    assert bans.subject_ids() == {"kev", "mal"}
