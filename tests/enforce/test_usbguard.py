"""USBGuard rules: every generated rule is checked with USBGuard's own parser."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from kitvet.enforce.usbguard import UsbguardExporter, usb_id

from .conftest import check_golden

PARSER = shutil.which("usbguard-rule-parser")
needs_parser = pytest.mark.skipif(PARSER is None, reason="usbguard-rule-parser not installed "
                                  "(Debian package usbguard)")


def rule_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def test_rules_name_vendor_and_product_ids(bans):
    out = UsbguardExporter().export(bans)
    rules = rule_lines(out.text)
    assert 'block id 12d1:* label "kitvet:huawei"' in rules
    assert 'block id 12d1:1001 label "kitvet:huawei"' in rules
    assert out.rules == len(rules) == 2


def test_subjects_without_usb_ids_are_reported_not_dropped(bans):
    out = UsbguardExporter().export(bans)
    assert "#   Kaspersky Lab: no USB vendor or product id — not expressible as a USBGuard rule" \
        in out.text
    assert {g.subject for g in out.gaps} == {"Kaspersky Lab", "xz-utils 5.6.0/5.6.1",
                                             "Hikvision", "3CX DesktopApp"}


def test_each_rule_has_a_comment_naming_subject_and_sources(bans):
    lines = UsbguardExporter().export(bans).text.splitlines()
    for i, ln in enumerate(lines):
        if ln.startswith("block "):
            assert lines[i - 1].startswith("# Huawei Technologies Company [huawei]: USB id")
            assert "asserted by: US FCC" in lines[i - 1]


def test_reject_action(bans):
    out = UsbguardExporter().export(bans, options={"usb_action": "reject"})
    assert all(r.startswith("reject id ") for r in rule_lines(out.text))


def test_usb_id_parsing():
    assert usb_id("usb_vendor_id", "0x12D1") == "12d1:*"
    assert usb_id("usb_vendor_id", "12d") is None
    assert usb_id("usb_product_id", "12d1:zzzz") is None
    assert usb_id("usb_vendor_id", '12d1" allow') is None


@needs_parser
def test_every_rule_passes_usbguards_parser(bans, hostile_bans, tmp_path):
    for b in (bans, hostile_bans):
        for action in ("block", "reject"):
            text = UsbguardExporter().export(b, options={"usb_action": action}).text
            for rule in rule_lines(text):
                r = subprocess.run(check=False, args=[PARSER, rule], capture_output=True, text=True, timeout=30)
                assert r.returncode == 0, (rule, r.stdout, r.stderr)
                assert f"OUTPUT: {rule}" in r.stdout
            f = tmp_path / f"rules-{action}.conf"
            f.write_text(text, encoding="utf-8")
            r = subprocess.run(check=False, args=[PARSER, "-f", str(f)], capture_output=True, text=True, timeout=30)
            assert r.returncode == 0, r.stdout + r.stderr


@needs_parser
def test_the_parser_would_catch_a_broken_rule():
    r = subprocess.run(check=False, args=[PARSER, "block id 12d1:* with-bogus x"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode != 0


def test_hostile_subject_name_stays_in_comments(hostile_bans):
    text = UsbguardExporter().export(hostile_bans).text
    for ln in text.splitlines():
        assert ln.startswith(("#", "block id 0bad:* ")) or ln == ""
    assert 'label "kitvet:evil"' in text


def test_golden(bans):
    check_golden("usbguard.rules", UsbguardExporter().export(bans).text)


def test_rule_comment_names_first_the_authorities_that_decided_under_the_profile():
    from kitvet.enforce.select import select_bans
    from kitvet.lists import bundled
    from kitvet.policy import load_profile

    def comment(profile: str) -> str:
        bans = select_bans(bundled(), policy=load_profile(profile), subject_ids=["huawei"])
        text = UsbguardExporter().export(bans).text
        return next(ln for ln in text.splitlines() if ln.startswith("# Huawei"))

    assert "asserted by: US Congress; US FCC" in comment("us-federal")
    eu = comment("eu-institutions")
    assert "asserted by: UK Government" in eu or "asserted by: European Commission" in eu


def test_comment_text_folds_controls_and_bidirectional_overrides():
    from kitvet.enforce.header import one_line

    assert one_line("evil\u202eexe.bat\nblock id *:*\x85x\u2066y") == \
        "evil exe.bat block id *:* x y"


def test_partial_coverage_is_a_gap_not_nothing():
    """The bundled DJI/Autel subject carries DJI's USB vendor id only: the export says the
    rules cover DJI only, for every hardware target."""
    from kitvet.enforce.fleet import FleetExporter
    from kitvet.enforce.nac import NacExporter
    from kitvet.enforce.select import select_bans
    from kitvet.lists import bundled
    from kitvet.policy import load_profile

    bans = select_bans(bundled(), policy=load_profile("us-federal"),
                       subject_ids=["foreign-uas-dji-autel"])
    out = UsbguardExporter().export(bans)
    assert rule_lines(out.text) == ['block id 2ca3:* label "kitvet:foreign-uas-dji-autel"']
    assert "Not expressible for usbguard: nothing" not in out.text
    assert ("#   Foreign-produced uncrewed aircraft systems (DJI, Autel Robotics): Autel "
            "Robotics: no USB vendor or product id in the lists — these rules cover DJI only "
            "(partial coverage)") in out.text
    nac = NacExporter().export(bans, fmt="text")
    assert "Autel Robotics: no MAC prefix or OUI organisation in the lists — these rules " \
           "cover DJI only (partial coverage)" in nac.text
    fleet = FleetExporter().export(bans)
    assert "Autel Robotics: no identifier osquery can check" in fleet.text


def test_makers_of_a_subject():
    from kitvet.enforce.coverage import makers
    from kitvet.model.risk import Subject

    assert makers(Subject("x", "Drones (DJI, Autel Robotics)", kind="hardware-vendor")) == \
        ["DJI", "Autel Robotics"]
    assert makers(Subject("x", "China Telecom (Americas) Corp.", kind="service")) == []
    assert makers(Subject("x", "CCleaner 5.33 (2017)", kind="product-version")) == []
    assert makers(Subject("x", "Hikvision", kind="hardware-vendor",
                          aliases=("Hikvision", "Ezviz"))) == ["Hikvision", "Ezviz"]


def test_deployed_rule_lines_are_what_usbguard_writes_back(bans, hostile_bans):
    """usbguard-daemon rewrites every rule file (without comments) when it saves the policy:
    the deployed RuleFile is the rule lines only, each exactly as USBGuard prints it, so the
    file keeps the digest in the header."""
    import hashlib

    for b in (bans, hostile_bans):
        out = UsbguardExporter().export(b)
        lines = out.extra["usbguard_rules"]
        assert lines == "".join(ln + "\n" for ln in rule_lines(out.text))
        digest = hashlib.sha256(lines.encode()).hexdigest()
        assert f"# Note: Rule lines as deployed (and as usbguard writes them back): sha256 " \
               f"{digest}" in out.text
