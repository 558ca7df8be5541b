"""A ban reaches the corporate family: the NAC and USBGuard exports block the MAC blocks and USB
vendor ids of the organisations the graph reaches from a banned one, as far as the instruments
reach and the relations held on the export's date, each entry commented with the relation path.

The graph here is a small one of the test's own; its IEEE names are real registrants (Sepura,
Norsat, HiSilicon), so that the NAC export resolves them in the registry as it would in use.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import shutil
import subprocess

import defusedxml.ElementTree as DET
import pytest

from kitvet.enforce.fleet import FleetExporter
from kitvet.enforce.nac import NacExporter
from kitvet.enforce.removal import RemovalPlanExporter
from kitvet.enforce.santa import SantaExporter
from kitvet.enforce.select import select_bans
from kitvet.enforce.usbguard import UsbguardExporter
from kitvet.enforce.windows import ApplockerExporter, WdacExporter
from kitvet.identify.graph import build_graph
from kitvet.model.risk import Assertion, Identifier, ListSet, RiskList, Subject
from kitvet.policy import load_profile

from .conftest import snapshot
from .fleet_reader import apply_policies
from .osquery_schema import osquery_db
from .santa_reader import read_rule
from .xsd import schema, xmllint

SEPURA = "00:1e:96:00:00:00/24"  # an MA-L block
NORSAT = "70:b3:d5:0a:e0:00/36"  # an MA-S block
HISILICON = "84:8a:59:00:00:00/24"


def _org(oid: str, name: str, *names: tuple[str, str], verified: bool = True) -> dict:
    return {"id": oid, "name": name, "names": [
        {"registry": r, "value": v, "source": f"test registry entry of {name}",
         **({} if verified else {"verified": False})} for r, v in names]}


def _rel(frm: str, typ: str, to: str, **dates: str) -> dict:
    return {"from": frm, "type": typ, "to": to, "source": f"test filing: {frm} {typ} {to}",
            **dates}


GRAPH = build_graph([({"organisations": [
    _org("parent", "Parent Holdings", ("usb.ids", "aaaa")),
    _org("radios", "Radios Ltd", ("ieee", "Sepura Limited"), ("usb.ids", "bbbb"),
         ("apple-team-id", "RADIOS0001"), ("package-name", "radios-cps"),
         ("process-name", "radioscps.exe")),
    _org("partner", "Partner Inc", ("ieee", "Norsat International Inc."), ("usb.ids", "cccc"),
         ("apple-team-id", "PARTNR0001"), ("signer", "PARTNR0001:com.partner.console"),
         ("signer", "CN=Partner Inc, O=Partner Inc, L=Burnaby, S=British Columbia, C=CA")),
    _org("sold", "Sold Chips", ("ieee", "Hisilicon Technologies Co., Ltd"), ("usb.ids", "dddd"),
         ("apple-team-id", "SOLDCH0001")),
    _org("future", "Future Labs", ("usb.ids", "eeee"), ("apple-team-id", "FUTURE0001")),
    _org("rumour", "Rumoured Ltd", ("usb.ids", "ffff"), ("apple-team-id", "RUMOUR0001"),
         ("publisher", "Rumor Holdings Intl"), verified=False),
    _org("nothing", "No Apps Ltd"),
], "relations": [
    _rel("radios", "subsidiary", "parent", valid_from="2017-05-25"),
    _rel("partner", "affiliate", "parent"),
    _rel("sold", "subsidiary", "parent", valid_to="2020-11-01"),
    _rel("future", "subsidiary", "parent", valid_from="2030-01-01"),
    _rel("rumour", "subsidiary", "parent"),
    _rel("nothing", "subsidiary", "parent"),
]}, "test-orgs.yaml", None)])


def _assertion(kind: str, reach: str | None, instrument: str) -> Assertion:
    return Assertion(authority="US FCC", kind=kind, instrument=instrument, date="2024-01-01",
                     jurisdiction="US", reach=reach)


def _bans(*assertions: Assertion, ids: tuple[str, ...] = (), **kw):
    subject = Subject(id="parent-holdings", name="Parent Holdings", kind="hardware-vendor",
                      organisation="parent", assertions=assertions, identifiers=(
                          Identifier(kind="usb_vendor_id", value="aaaa", source="usb.ids"),))
    rl = RiskList(name="family-test", publisher="tests", version="1", date="2026-11-01",
                  subjects=(subject,))
    # us-federal: a prohibition is a ban, a warning is to monitor
    return select_bans(ListSet((rl,)), policy=load_profile("us-federal"), subject_ids=ids,
                       graph=kw.pop("graph", GRAPH), **kw)


LAW_ALL = _assertion("prohibited-by-law", "subsidiaries-and-affiliates",
                     "Test Act (and its subsidiaries and affiliates)")


def usb_rules(bans) -> list[str]:
    return [ln for ln in UsbguardExporter().export(bans).text.splitlines()
            if ln.startswith("block")]


def test_usbguard_blocks_the_family_as_far_as_the_instrument_reaches():
    bans = _bans(LAW_ALL)
    assert usb_rules(bans) == [f'block id {v}:* label "kitvet:parent-holdings"'
                               for v in ("aaaa", "bbbb", "cccc")]
    text = UsbguardExporter().export(bans).text.splitlines()
    comment = text[text.index('block id bbbb:* label "kitvet:parent-holdings"') - 1]
    assert "Radios Ltd → a subsidiary of Parent Holdings (since 2017-05-25; source: test " \
           "filing: radios subsidiary parent)" in comment
    assert "reached by Test Act (and its subsidiaries and affiliates) (and its subsidiaries " \
           "and affiliates)" in comment
    affiliate = text[text.index('block id cccc:* label "kitvet:parent-holdings"') - 1]
    assert "Partner Inc → an affiliate of Parent Holdings" in affiliate


def test_relations_that_did_not_hold_on_the_export_date_block_nothing():
    rules = " ".join(usb_rules(_bans(LAW_ALL)))
    assert "dddd" not in rules  # sold on 2020-11-01, before the lists' date
    assert "eeee" not in rules  # bought from 2030
    assert "dddd" in " ".join(usb_rules(_bans(LAW_ALL, date="2019-06-01")))


def test_an_unverified_registry_name_is_left_out_and_said_so():
    bans = _bans(LAW_ALL)
    assert "ffff" not in " ".join(usb_rules(bans))
    assert any("ffff" in g.reason and "Rumoured Ltd" in g.reason for g in bans.withheld)
    assert "ffff" in " ".join(usb_rules(_bans(LAW_ALL, include_unverified=True)))


@pytest.mark.parametrize(("reach", "blocked"), [
    (None, ["aaaa"]),  # an instrument that names one entity
    ("subsidiaries", ["aaaa", "bbbb"]),  # not the affiliate
    ("subsidiaries-and-affiliates", ["aaaa", "bbbb", "cccc"]),
])
def test_the_family_goes_no_further_than_the_instrument(reach, blocked):
    got = usb_rules(_bans(_assertion("prohibited-by-law", reach, "Test Act")))
    assert [r.split()[2].split(":")[0] for r in got] == blocked


def test_a_relative_reached_only_by_weaker_assertions_is_not_banned():
    # the law names the entity only; a warning reaches the affiliates: under the profile they
    # are to monitor, not banned, so a ban export does not block them
    law, warning = (_assertion("prohibited-by-law", None, "Test Act"),
                    _assertion("warning", "subsidiaries-and-affiliates", "Test Advisory"))
    assert [r.split()[2] for r in usb_rules(_bans(law, warning))] == ["aaaa:*"]
    # named explicitly, the subject is enforced as far as its assertions reach
    chosen = usb_rules(_bans(law, warning, ids=("parent-holdings",)))
    assert [r.split()[2] for r in chosen] == ["aaaa:*", "bbbb:*", "cccc:*"]


def test_without_a_graph_nothing_is_added():
    bans = _bans(LAW_ALL, graph=None)
    assert bans.subjects[0].family == ()
    assert usb_rules(bans) == ['block id aaaa:* label "kitvet:parent-holdings"']


def test_nac_text_blocks_the_family_under_a_comment_with_the_path():
    out = NacExporter().export(_bans(LAW_ALL), fmt="text")
    lines = out.text.splitlines()
    assert SEPURA in lines and NORSAT in lines and HISILICON not in lines
    above = lines[lines.index(SEPURA) - 1]
    assert above.startswith("# Parent Holdings [parent-holdings], blocks of Radios Ltd: "
                            "organisation graph: Radios Ltd → a subsidiary of Parent Holdings")
    assert "Sepura Limited" not in " ".join(g.reason for g in out.gaps)
    assert "no MAC prefix" not in " ".join(g.reason for g in out.gaps)
    # under an instrument that names the entity only, no block of the family
    entity = NacExporter().export(_bans(_assertion("prohibited-by-law", None, "Test Act")))
    assert SEPURA not in entity.text and any("no MAC prefix" in g.reason for g in entity.gaps)


def test_nac_csv_names_the_relation_path_in_the_source_column():
    out = NacExporter().export(_bans(LAW_ALL), fmt="csv")
    rows = list(csv.reader(io.StringIO("".join(
        ln + "\n" for ln in out.text.splitlines() if not ln.startswith("#")))))
    sepura = next(r for r in rows[1:] if r[0] == SEPURA)
    assert sepura[4:8] == ["parent-holdings", "Parent Holdings", "oui_org_name", "Sepura Limited"]
    assert "Radios Ltd → a subsidiary of Parent Holdings" in sepura[9]
    assert "reached by Test Act" in sepura[9]


@pytest.mark.skipif(shutil.which("nft") is None, reason="nft (nftables) not installed")
def test_nftables_with_family_comments_loads(tmp_path):
    out = NacExporter().export(_bans(LAW_ALL), fmt="nftables")
    assert "\t\t\t# Parent Holdings [parent-holdings], blocks of Radios Ltd" in out.text
    assert out.extra["nft_elements"].count("\n") == out.rules
    f = tmp_path / "kitvet.nft"
    f.write_text(out.text, encoding="utf-8")
    r = subprocess.run([shutil.which("nft") or "nft", "-c", "-f", str(f)], check=False,
                       capture_output=True, text=True)
    if r.returncode and "Operation not permitted" in r.stderr:
        pytest.skip("nft -c needs CAP_NET_ADMIN here")
    assert r.returncode == 0, r.stderr


def test_us_federal_ban_of_huawei_blocks_its_subsidiaries_but_not_a_divested_one():
    """The bundled lists and organisation graph: Huawei Device Co., Ltd.'s blocks are blocked
    with the path; Honor, sold in November 2020, is not."""
    from kitvet.identify.graph import default_graph
    from kitvet.lists import bundled

    bans = select_bans(bundled(), policy=load_profile("us-federal"), graph=default_graph())
    huawei = dataclasses.replace(bans, subjects=tuple(b for b in bans.subjects
                                                      if b.id == "huawei"))
    lines = NacExporter().export(huawei, fmt="text").text.splitlines()
    device = "00:3d:e1:00:00:00/24"  # IEEE MA-L 00-3D-E1, Huawei Device Co., Ltd.
    assert device in lines and "04:79:75:00:00:00/24" not in lines  # 04-79-75: Honor
    above = next(ln for ln in reversed(lines[:lines.index(device)]) if ln.startswith("#"))
    assert "Huawei Device Co., Ltd. → a subsidiary of Huawei Technologies Co., Ltd." in above
    assert "FCC Covered List" in above


def test_kitvet_enforce_export_uses_the_organisation_graph():
    from click.testing import CliRunner

    from kitvet.cli import main

    r = CliRunner().invoke(main, ["enforce", "export", "-t", "nac", "--subject", "huawei",
                                  "--profile", "us-federal"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "00:3d:e1:00:00:00/24" in r.stdout.splitlines()
    assert "blocks of Huawei Device Co., Ltd.: organisation graph:" in r.stdout


def santa_rules(bans) -> dict[str, dict]:
    rules = json.loads(SantaExporter().export(bans).text)["rules"]
    return {read_rule(r)["identifier"]: r for r in rules}  # as Santa reads each rule


def test_santa_blocks_the_team_ids_and_signing_ids_of_the_family():
    rules = santa_rules(_bans(LAW_ALL))
    assert sorted(rules) == ["PARTNR0001", "PARTNR0001:com.partner.console", "RADIOS0001"]
    assert rules["RADIOS0001"]["rule_type"] == "TEAMID"
    assert rules["PARTNR0001:com.partner.console"]["rule_type"] == "SIGNINGID"
    comment = rules["RADIOS0001"]["comment"]
    assert "team_id RADIOS0001 of Radios Ltd; corporate family, organisation graph: Radios Ltd " \
           "→ a subsidiary of Parent Holdings (since 2017-05-25; source: test filing: radios " \
           "subsidiary parent)" in comment
    assert "reached by Test Act (and its subsidiaries and affiliates)" in comment
    assert "Partner Inc → an affiliate of Parent Holdings" in rules["PARTNR0001"]["comment"]


def test_santa_family_follows_the_reach_the_date_and_verification():
    assert santa_rules(_bans(_assertion("prohibited-by-law", None, "Test Act"))) == {}
    subs = santa_rules(_bans(_assertion("prohibited-by-law", "subsidiaries", "Test Act")))
    assert sorted(subs) == ["RADIOS0001"]
    assert "SOLDCH0001" in santa_rules(_bans(LAW_ALL, date="2019-06-01"))
    assert "RUMOUR0001" in santa_rules(_bans(LAW_ALL, include_unverified=True))
    out = SantaExporter().export(_bans(LAW_ALL))
    reasons = [g.reason for g in out.gaps] + [g.reason for g in _bans(LAW_ALL).withheld]
    assert any("RUMOUR0001" in r and "Rumoured Ltd" in r for r in reasons)
    assert "corporate family: No Apps Ltd → a subsidiary of Parent Holdings: no Apple Team ID " \
           "or signing ID in the organisation graph — not in this export" in reasons
    assert not any("corporate family: Radios Ltd" in r for r in reasons)
    doc = json.loads(out.text)["kitvet"]
    assert any("No Apps Ltd" in g["reason"] for g in doc["not_expressible"])


def test_us_federal_santa_gets_kasperskys_team_id_from_the_graph():
    from kitvet.identify.graph import default_graph
    from kitvet.lists import bundled

    bans = select_bans(bundled(), policy=load_profile("us-federal"), graph=default_graph())
    rules = santa_rules(bans)
    assert sorted(rules) == ["2Y8XE5CQ94"]
    assert "organisation graph: Kaspersky Lab (apple-team-id name: " in \
        rules["2Y8XE5CQ94"]["comment"]


def fleet_spec(bans, platform: str) -> dict:
    """The subject's host policy for ``platform``, as fleetctl apply reads the export."""
    specs = [p for p in apply_policies(FleetExporter().export(bans).text)
             if p["platform"] == platform and "device nearby" not in p["name"]]
    assert len(specs) == 1, specs
    return specs[0]


def fleet_compliant(bans, platform: str, **rows) -> bool:
    got = osquery_db(platform, **rows).execute(fleet_spec(bans, platform)["query"]).fetchall()
    return got == [(1,)]


def programs(publisher: str) -> dict:
    return {"programs": [{"name": "Console", "version": "1.0", "publisher": publisher}]}


@pytest.mark.parametrize(("publisher", "ok"), [
    ("Radios Ltd", False),  # a subsidiary's name
    ("SEPURA LIMITED", False),  # its IEEE registrant name, as a publisher
    ("Partner Inc.", False),  # an affiliate, under an instrument that reaches affiliates
    ("Sold Chips", True),  # sold before the export's date
    ("Future Labs", True),  # bought after it
    ("Rumoured Ltd", False),  # a subsidiary (only its registry names are unverified)
    ("Rumor Holdings Intl", True),  # an unverified publisher name
    ("Mozilla", True),
])
def test_fleet_checks_the_familys_publishers(publisher, ok):
    assert fleet_compliant(_bans(LAW_ALL), "windows", **programs(publisher)) is ok


def test_fleet_family_goes_no_further_than_the_instrument():
    subs = _bans(_assertion("prohibited-by-law", "subsidiaries", "Test Act"))
    assert not fleet_compliant(subs, "windows", **programs("Radios Ltd"))
    assert fleet_compliant(subs, "windows", **programs("Partner Inc"))
    entity = FleetExporter().export(_bans(_assertion("prohibited-by-law", None, "Test Act")))
    assert "Radios Ltd" not in entity.text


def test_fleet_checks_the_familys_packages_and_says_where_each_check_comes_from():
    bans = _bans(LAW_ALL)
    deb = {"deb_packages": [{"name": "radios-cps", "version": "2.1-1"}]}
    assert not fleet_compliant(bans, "linux", **deb)
    desc = fleet_spec(bans, "linux")["description"]
    assert "deb package radios-cps (corporate family: Radios Ltd → a subsidiary of Parent " \
           "Holdings)" in desc
    assert "Corporate family, relations as held on the export date: organisation graph: " \
           "Radios Ltd → a subsidiary of Parent Holdings (since 2017-05-25; source: test " \
           "filing: radios subsidiary parent) — reached by Test Act" in desc
    assert "Partner Inc → an affiliate of Parent Holdings" in desc


def test_us_federal_fleet_checks_huawei_devices_software_and_fleet_reads_it():
    """The bundled lists and graph: software published by Huawei Device Co., Ltd. (a
    subsidiary) fails Huawei's Windows policy; every policy is one fleetctl accepts and every
    query runs over osquery's tables of its platforms."""
    from kitvet.identify.graph import default_graph
    from kitvet.lists import bundled

    bans = select_bans(bundled(), policy=load_profile("us-federal"), graph=default_graph())
    specs = apply_policies(FleetExporter().export(bans).text)
    for spec in specs:
        for plat in spec["platform"].split(","):
            assert osquery_db(plat).execute(spec["query"]).fetchall() == [(1,)], spec["name"]
    (win,) = [s for s in specs if s["name"] == "kitvet ban: Huawei Technologies Company (windows)"]
    assert osquery_db("windows", **programs("Huawei Device Co., Ltd.")).execute(
        win["query"]).fetchall() == []
    assert "Huawei Device Co., Ltd. → a subsidiary of Huawei Technologies Co., Ltd. (source: " \
           in win["description"]


SI = "{urn:schemas-microsoft-com:sipolicy}"


def wdac_denies(bans) -> dict[str, str]:
    root = DET.fromstring(WdacExporter().export(bans).text.encode())
    return {d.get("FileName"): d.get("FriendlyName") for d in root.iter(f"{SI}Deny")}


def applocker_rules(bans) -> dict[str, str]:
    root = DET.fromstring(ApplockerExporter().export(bans).text.encode())
    return {c.get("PublisherName"): r.get("Description")
            for r in root.iter("FilePublisherRule") for c in r.iter("FilePublisherCondition")}


PARTNER_PUB = "O=PARTNER INC, L=BURNABY, S=BRITISH COLUMBIA, C=CA"


def test_wdac_denies_the_familys_file_names_with_the_path():
    denies = wdac_denies(_bans(LAW_ALL))
    assert set(denies) == {"radioscps.exe"}
    assert "Parent Holdings: radioscps.exe of Radios Ltd, corporate family, organisation " \
           "graph: Radios Ltd → a subsidiary of Parent Holdings (since 2017-05-25; source: " \
           "test filing: radios subsidiary parent) — reached by Test Act" in denies["radioscps.exe"]
    assert wdac_denies(_bans(_assertion("prohibited-by-law", None, "Test Act"))) == {}
    out = WdacExporter().export(_bans(LAW_ALL))
    assert any(g.reason.startswith("corporate family: Partner Inc → an affiliate of Parent "
                                   "Holdings: no process (file) name") for g in out.gaps)


def test_applocker_denies_a_family_signing_subject_written_in_full():
    rules = applocker_rules(_bans(LAW_ALL))
    assert set(rules) == {PARTNER_PUB}
    assert rules[PARTNER_PUB].startswith(f"Denies files signed by {PARTNER_PUB}; banned subject "
                                         "Parent Holdings; corporate family, organisation graph: "
                                         "Partner Inc → an affiliate of Parent Holdings")
    # the affiliate is reached only by an instrument that reaches affiliates
    assert applocker_rules(_bans(_assertion("prohibited-by-law", "subsidiaries", "T"))) == {}
    out = ApplockerExporter().export(_bans(LAW_ALL))
    assert any(g.reason.startswith("corporate family: Radios Ltd → a subsidiary of Parent "
                                   "Holdings: no code-signing certificate subject") for g in out.gaps)
    assert "no signer or publisher name" not in " ".join(g.reason for g in out.gaps)


@pytest.mark.parametrize(("target", "xsd"), [(WdacExporter, "cipolicy.xsd"),
                                             (ApplockerExporter, "AppIdPolicy.xsd")])
def test_windows_exports_with_the_family_are_valid_for_microsofts_schema(tmp_path, target, xsd):
    from kitvet.identify.graph import default_graph
    from kitvet.lists import bundled

    federal = select_bans(bundled(), policy=load_profile("us-federal"), graph=default_graph())
    for bans in (_bans(LAW_ALL), _bans(LAW_ALL, include_unverified=True), federal):
        r = xmllint(target().export(bans).text, schema(xsd, tmp_path), tmp_path)
        assert r.returncode == 0, r.stderr


#: One Windows host per publisher: a program of the subject's own, of each family member, and
#: of a stranger.
PUBLISHERS = {"own": "Parent Holdings", "sub": "Radios Ltd", "aff": "Partner Inc",
              "sold": "Sold Chips", "rumour": "Rumor Holdings Intl", "other": "Mozilla"}


def removal_steps(bans) -> dict[str, dict]:
    inventory = [snapshot(f"win-{k}", platform="windows", collected_at="2026-11-20T00:00:00Z",
                          software=[{"name": f"Console {k}", "version": "1.0", "publisher": v,
                                     "package_type": "windows",
                                     "uninstall": f'"C:\\Program Files\\{k}\\uninst.exe" /S'}])
                 for k, v in PUBLISHERS.items()]
    out = RemovalPlanExporter().export(bans, fmt="json", inventory=inventory)
    return {s["hosts"][0].removeprefix("win-"): s for s in json.loads(out.text)["steps"]}


def test_removal_plan_removes_the_familys_programs_as_far_as_the_ban_reaches():
    got = removal_steps(_bans(LAW_ALL))
    assert sorted(got) == ["aff", "own", "sub"]
    assert got["own"]["via"] is None
    assert got["sub"]["command"] == '"C:\\Program Files\\sub\\uninst.exe" /S'
    assert got["sub"]["via"].startswith("organisation graph: Radios Ltd → a subsidiary of Parent "
                                        "Holdings (since 2017-05-25; source: test filing: radios "
                                        "subsidiary parent) — reached by Test Act")
    assert "Partner Inc → an affiliate of Parent Holdings" in got["aff"]["via"]
    assert "rumour" in removal_steps(_bans(LAW_ALL, include_unverified=True))
    assert "sold" in removal_steps(_bans(LAW_ALL, date="2019-06-01"))


def test_removal_plan_is_never_stronger_than_the_instrument():
    assert sorted(removal_steps(_bans(_assertion("prohibited-by-law", None, "Test Act")))) == \
        ["own"]
    # the law names the entity; only a warning reaches the family: not banned, not removed
    law, warning = (_assertion("prohibited-by-law", None, "Test Act"),
                    _assertion("warning", "subsidiaries-and-affiliates", "Test Advisory"))
    assert sorted(removal_steps(_bans(law, warning))) == ["own"]


def test_removal_plan_markdown_names_the_relation():
    inventory = [snapshot("win-sub", platform="windows", software=[
        {"name": "Console", "version": "1.0", "publisher": "Radios Ltd",
         "package_type": "windows"}])]
    md = RemovalPlanExporter().export(_bans(LAW_ALL), inventory=inventory).text
    assert "  corporate family: organisation graph: Radios Ltd → a subsidiary of Parent " \
           "Holdings" in md


def test_removal_plan_finds_a_family_members_program_by_its_code_signer():
    # a Windows program with no publisher recorded, signed by the subsidiary (Authenticode)
    prog = snapshot("win-1", platform="windows", software=[
        {"name": "Radio Console", "version": "3.0", "package_type": "windows",
         "signer": "CN=Radios Ltd, O=Radios Ltd, L=Cambridge, C=GB",
         "uninstall": '"C:\\Program Files\\Radio\\uninst.exe" /S'}])
    out = json.loads(RemovalPlanExporter().export(_bans(LAW_ALL), fmt="json",
                                                  inventory=[prog]).text)
    (step,) = out["steps"]
    assert step["command"] == '"C:\\Program Files\\Radio\\uninst.exe" /S'
    assert "Radios Ltd → a subsidiary of Parent Holdings" in step["via"]
    entity = _bans(_assertion("prohibited-by-law", None, "Test Act"))
    assert json.loads(RemovalPlanExporter().export(entity, fmt="json",
                                                   inventory=[prog]).text)["steps"] == []


def test_verify_names_the_relation_of_a_family_members_item_as_the_review_does():
    from kitvet.enforce.verify import verify

    host = snapshot("win-1", platform="windows", software=[
        {"name": "Console", "version": "1.0", "publisher": "Radios Ltd",
         "package_type": "windows"}])
    (left,) = verify([host], _bans(LAW_ALL)).remaining
    assert left.explanation.endswith(
        "— via Radios Ltd → a subsidiary of Parent Holdings (since 2017-05-25; source: test "
        "filing: radios subsidiary parent) — reached by Test Act (and its subsidiaries and "
        "affiliates) (and its subsidiaries and affiliates)")
    assert verify([host], _bans(_assertion("prohibited-by-law", None, "Test Act"))).clean
