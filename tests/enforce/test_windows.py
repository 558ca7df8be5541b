"""WDAC deny policy and AppLocker policy: valid against Microsoft's own schemas (xmllint with
cipolicy.xsd / AppIdPolicy.xsd), the structure Windows requires, safe to update and to merge."""

from __future__ import annotations

import dataclasses
import re

import defusedxml.ElementTree as DET
import pytest

from kitvet.enforce.select import select_bans
from kitvet.enforce.windows import (
    ApplockerExporter,
    WdacExporter,
    publisher_name,
    version_ex,
    wdac_policy_id,
)
from kitvet.model.risk import ListSet

from .conftest import ALL_BAN, TEST_LIST, check_golden
from .xsd import schema, xmllint

NS = {"si": "urn:schemas-microsoft-com:sipolicy"}
GUID = re.compile(r"^\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$")


@pytest.fixture(scope="module")
def schemas(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("xsd")
    return {"wdac": schema("cipolicy.xsd", tmp), "applocker": schema("AppIdPolicy.xsd", tmp)}


def wdac(bans, **options):
    return DET.fromstring(WdacExporter().export(bans, options=options).text.encode())


@pytest.mark.parametrize("target", ["wdac", "applocker"])
def test_every_export_is_valid_against_microsofts_schema(bans, hostile_bans, schemas,
                                                         tmp_path, target):
    ex = WdacExporter() if target == "wdac" else ApplockerExporter()
    variants = [{}, {"enforce": True}, {"applocker_standalone": True}, {"wdac_revision": 7}]
    for b in (bans, hostile_bans, dataclasses.replace(bans, subjects=())):
        for opts in variants:
            r = xmllint(ex.export(b, options=opts).text, schemas[target], tmp_path)
            assert r.returncode == 0, r.stderr


def test_the_schema_check_would_catch_a_broken_policy(bans, schemas, tmp_path):
    text = WdacExporter().export(bans).text
    broken = text.replace('ID="ID_DENY_KITVET_1"', 'ID="DENY-1"')
    assert xmllint(broken, schemas["wdac"], tmp_path).returncode != 0
    text = ApplockerExporter().export(bans).text
    assert xmllint(text.replace('Action="Deny"', 'Action="Block"'), schemas["applocker"],
                   tmp_path).returncode != 0


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


def test_wdac_update_replaces_the_deployed_policy(lists):
    """A newer export of the same ban (new list version and date, one subject fewer, another
    date) keeps its PolicyID — Windows replaces {PolicyID}.cip — and raises VersionEx."""
    old = select_bans(lists, policy=ALL_BAN, date="2026-01-15")
    newer_list = dataclasses.replace(TEST_LIST, version="1.1.0", date="2026-03-02",
                                     subjects=TEST_LIST.subjects[:-1])
    new = select_bans(ListSet((newer_list,)), policy=ALL_BAN)
    r_old, r_new = wdac(old), wdac(new)
    pid = r_old.findtext("si:PolicyID", namespaces=NS)
    assert pid == r_new.findtext("si:PolicyID", namespaces=NS) == wdac_policy_id(new)
    v_old = tuple(int(x) for x in r_old.findtext("si:VersionEx", namespaces=NS).split("."))
    v_new = tuple(int(x) for x in r_new.findtext("si:VersionEx", namespaces=NS).split("."))
    assert v_old == (2026, 1, 15, 0) and v_new == (2026, 3, 2, 0) and v_new > v_old
    assert v_old > (10, 0, 0, 0)  # also above kitvet's earlier fixed 10.0.0.0
    assert version_ex("2026-03-02", 3) == "2026.3.2.3"
    # another ban (other profile or other subjects chosen) is another policy
    other = select_bans(lists, subject_ids=["kaspersky-lab"])
    assert wdac_policy_id(other) != pid
    assert wdac_policy_id(select_bans(lists, subject_ids=["kaspersky-lab"], date="2027-01-01")) \
        == wdac_policy_id(other)


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


def test_applocker_is_deny_only_and_safe_to_merge(bans):
    out = ApplockerExporter().export(bans)
    root = DET.fromstring(out.text.encode())
    assert root.tag == "AppLockerPolicy" and root.get("Version") == "1"
    cols = root.findall("RuleCollection")
    assert [c.get("Type") for c in cols] == ["Exe", "Msi"]
    for c in cols:
        assert c.get("EnforcementMode") == "AuditOnly"
        assert c.findall("FilePathRule") == []  # nothing that allows: merging adds only denies
        assert {r.get("Action") for r in c} == {"Deny"}
        pubs = [d.find("Conditions/FilePublisherCondition") for d in c]
        assert [p.get("PublisherName") for p in pubs] == [
            "O=AO KASPERSKY LAB, L=MOSCOW, S=MOSCOW, C=RU"]
        assert pubs[0].get("ProductName") == "*" and pubs[0].get("BinaryName") == "*"
        rng = pubs[0].find("BinaryVersionRange")
        assert (rng.get("LowSection"), rng.get("HighSection")) == ("*", "*")
    assert "Deny-only, for merging into your AppLocker policy" in out.text
    ids = [r.get("Id") for r in root.iter() if r.get("Id")]
    assert len(ids) == len(set(ids))
    assert all(re.match(r"^[0-9a-f-]{36}$", i) for i in ids)
    assert applocker(bans, enforce=True).find("RuleCollection").get("EnforcementMode") == "Enabled"


def test_applocker_names_without_a_subject_are_gaps_not_rules(bans):
    out = ApplockerExporter().export(bans)
    assert any("publisher 'AO Kaspersky Lab' is a name, not a certificate subject" in g.reason
               and "Get-AppLockerFileInformation" in g.reason for g in out.gaps)
    assert "O=AO KASPERSKY LAB\"" not in out.text and 'PublisherName="O=KASPERSKY' not in out.text


def test_applocker_standalone_mode_allows_the_rest_and_says_never_to_merge(bans):
    out = ApplockerExporter().export(bans, options={"applocker_standalone": True})
    root = DET.fromstring(out.text.encode())
    for c in root.findall("RuleCollection"):
        (allow,) = c.findall("FilePathRule")
        assert allow.get("Action") == "Allow"
        assert allow.find("Conditions/FilePathCondition").get("Path") == "*"
    head = out.text.split("-->", 1)[0]
    assert "WARNING — standalone mode" in head and "Never merge this file" in head


def test_publisher_name_form():
    assert publisher_name("AO Kaspersky Lab") is None
    assert publisher_name("O=AO KASPERSKY LAB") is None  # AppLocker needs the whole subject
    assert publisher_name("CN=AO Kaspersky Lab, O=AO Kaspersky Lab, L=Moscow, ST=Moscow, "
                          "C=RU") == "O=AO KASPERSKY LAB, L=MOSCOW, S=MOSCOW, C=RU"
    assert publisher_name('CN=Adobe, O="Adobe Systems, Incorporated", L=San Jose, '
                          "S=California, C=US") == \
        'O="ADOBE SYSTEMS, INCORPORATED", L=SAN JOSE, S=CALIFORNIA, C=US'
    assert publisher_name("O=X, C=US, garbage") is None


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
