"""WDAC deny policy and AppLocker policy: well-formed XML, the structure Windows requires."""

from __future__ import annotations

import re

import defusedxml.ElementTree as DET

from kitvet.enforce.windows import ApplockerExporter, WdacExporter, publisher_name

from .conftest import check_golden

NS = {"si": "urn:schemas-microsoft-com:sipolicy"}
GUID = re.compile(r"^\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$")


def wdac(bans, **options):
    return DET.fromstring(WdacExporter().export(bans, options=options).text.encode())


def test_wdac_deny_only_policy_carries_both_allow_all_rules(bans):
    root = wdac(bans)
    allows = {a.get("ID"): a.get("FileName") for a in root.findall("si:FileRules/si:Allow", NS)}
    assert allows == {"ID_ALLOW_A_1": "*", "ID_ALLOW_A_2": "*"}
    scen = {s.get("Value"): [r.get("RuleID") for r in s.iterfind(".//si:FileRuleRef", NS)]
            for s in root.findall("si:SigningScenarios/si:SigningScenario", NS)}
    assert "ID_ALLOW_A_1" in scen["131"] and "ID_ALLOW_A_2" in scen["12"]


def test_wdac_denies_banned_file_names_in_user_mode(bans):
    root = wdac(bans)
    denies = root.findall("si:FileRules/si:Deny", NS)
    assert [d.get("FileName") for d in denies] == ["avp.exe"]
    assert denies[0].get("MinimumFileVersion") == "65535.65535.65535.65535"
    user = root.find("si:SigningScenarios/si:SigningScenario[@Value='12']", NS)
    assert denies[0].get("ID") in [r.get("RuleID") for r in user.iterfind(".//si:FileRuleRef", NS)]


def test_unverified_identifiers_are_left_out_unless_asked(lists):
    from kitvet.enforce.select import select_bans

    from .conftest import ALL_BAN

    bans = select_bans(lists, policy=ALL_BAN)
    out = WdacExporter().export(bans)
    assert "kavtray.exe" not in [d.get("FileName") for d in
                                 DET.fromstring(out.text.encode()).iter(f"{{{NS['si']}}}Deny")]
    assert "Kaspersky Lab: unverified identifier process_name kavtray.exe — left out" in out.text
    bans = select_bans(lists, policy=ALL_BAN, include_unverified=True)
    root = DET.fromstring(WdacExporter().export(bans).text.encode())
    assert "kavtray.exe" in [d.get("FileName") for d in root.iter(f"{{{NS['si']}}}Deny")]


def test_wdac_every_reference_resolves_and_ids_are_unique(bans):
    root = wdac(bans)
    ids = [e.get("ID") for e in root.find("si:FileRules", NS)]
    assert len(ids) == len(set(ids))
    for ref in root.iterfind(".//si:FileRuleRef", NS):
        assert ref.get("RuleID") in ids
    assert GUID.match(root.findtext("si:PolicyID", namespaces=NS))
    assert root.findtext("si:PolicyID", namespaces=NS) == \
        root.findtext("si:BasePolicyID", namespaces=NS)
    order = [re.sub(r"\{.*\}", "", e.tag) for e in root]
    assert order[:9] == ["VersionEx", "PolicyID", "BasePolicyID", "PlatformID", "Rules", "EKUs",
                         "FileRules", "Signers", "SigningScenarios"]


def test_wdac_audit_mode_unless_enforced(bans):
    opts = [o.text for o in wdac(bans).iterfind(".//si:Option", NS)]
    assert "Enabled:Audit Mode" in opts
    opts = [o.text for o in wdac(bans, enforce=True).iterfind(".//si:Option", NS)]
    assert "Enabled:Audit Mode" not in opts


def test_wdac_reports_signers_and_hashes_it_cannot_express(bans):
    out = WdacExporter().export(bans)
    text = " ".join(g.reason for g in out.gaps)
    assert "TBS hash" in text and "Authenticode hash" in text


def applocker(bans, **options):
    return DET.fromstring(ApplockerExporter().export(bans, options=options).text.encode())


def test_applocker_deny_publisher_rules_with_allow_all(bans):
    root = applocker(bans)
    assert root.tag == "AppLockerPolicy" and root.get("Version") == "1"
    cols = root.findall("RuleCollection")
    assert [c.get("Type") for c in cols] == ["Exe", "Msi"]
    for c in cols:
        assert c.get("EnforcementMode") == "AuditOnly"
        allow = c.findall("FilePathRule")
        assert len(allow) == 1 and allow[0].get("Action") == "Allow"
        assert allow[0].find("Conditions/FilePathCondition").get("Path") == "*"
        denies = c.findall("FilePublisherRule")
        assert {d.get("Action") for d in denies} == {"Deny"}
        pubs = [d.find("Conditions/FilePublisherCondition") for d in denies]
        assert [p.get("PublisherName") for p in pubs] == ["O=AO KASPERSKY LAB",
                                                         "O=KASPERSKY LAB ZAO"]
        assert pubs[0].get("ProductName") == "*" and pubs[0].get("BinaryName") == "*"
        rng = pubs[0].find("BinaryVersionRange")
        assert (rng.get("LowSection"), rng.get("HighSection")) == ("*", "*")
    ids = [r.get("Id") for r in root.iter() if r.get("Id")]
    assert len(ids) == len(set(ids))
    assert all(re.match(r"^[0-9a-f-]{36}$", i) for i in ids)
    assert applocker(bans, enforce=True).find("RuleCollection").get("EnforcementMode") == "Enabled"


def test_publisher_name_form():
    assert publisher_name("AO Kaspersky Lab") == "O=AO KASPERSKY LAB"
    assert publisher_name("O=AO KASPERSKY LAB, L=MOSCOW, C=RU") == \
        "O=AO KASPERSKY LAB, L=MOSCOW, C=RU"


def test_hostile_names_keep_xml_well_formed(hostile_bans):
    for ex in (WdacExporter(), ApplockerExporter()):
        text = ex.export(hostile_bans).text
        DET.fromstring(text.encode())
        comment = text.split("<!--", 1)[1].split("-->", 1)[0]
        assert "--" not in comment
        assert "<script>" in comment  # kept as text inside the comment, harmless there


def test_golden(bans):
    check_golden("wdac-deny.xml", WdacExporter().export(bans).text)
    check_golden("applocker.xml", ApplockerExporter().export(bans).text)
