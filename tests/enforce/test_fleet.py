"""Fleet policies and the osquery pack: every query runs in SQLite against tables with
osquery's real column names, on compliant and non-compliant rows."""

from __future__ import annotations

import json
import sqlite3

import pytest
import yaml

from kitvet.enforce.fleet import SPEC_KEYS, FleetExporter, OsqueryPackExporter
from kitvet.enforce.osquery_sql import deb_upstream_is
from kitvet.enforce.select import select_bans

from .conftest import check_golden
from .fleet_reader import FleetRefused, apply_policies, gitops_policies
from .osquery_schema import osquery_db


def policies(bans) -> list[dict]:
    """The policy specs as fleetctl apply reads them (Fleet's splitting and checks)."""
    return apply_policies(FleetExporter().export(bans).text)


def spec_for(bans, subject: str, platform: str, scope: str = "host") -> dict:
    specs = [p for p in policies(bans) if subject in p["name"]
             and platform in p["platform"].split(",")
             and (", device nearby:" in p["name"]) == (scope == "segment")]
    assert len(specs) == 1, [p["name"] for p in policies(bans)]
    return specs[0]


def compliant(bans, subject: str, platform: str, scope: str = "host", **rows) -> bool:
    spec = spec_for(bans, subject, platform, scope)
    got = osquery_db(platform, **rows).execute(spec["query"]).fetchall()
    assert got in ([], [(1,)])
    return got == [(1,)]


def test_fleet_reads_every_document(bans, hostile_bans):
    for b in (bans, hostile_bans):
        text = FleetExporter().export(b).text
        specs = apply_policies(text)  # raises what fleetctl would refuse
        assert len(specs) == FleetExporter().export(b).rules > 0
        for s in specs:
            assert set(s) == set(SPEC_KEYS)
        # a line starting with --- is a separator for Fleet, wherever it stands
        assert [ln for ln in text.splitlines() if ln.startswith("---")] == ["---"] * len(specs)


def test_fleet_would_refuse_a_header_before_the_first_separator(bans):
    text = FleetExporter().export(bans).text
    assert text.startswith("---\n# kitvet enforce export")
    with pytest.raises(FleetRefused, match=r'Missing required fields \("spec", "kind"\)'):
        apply_policies(text.removeprefix("---\n").replace("\napiVersion", "\n---\napiVersion", 1))


def test_an_export_without_policies_is_only_comments(lists):
    from kitvet.enforce.select import select_bans
    from kitvet.model.risk import ListSet, RiskList, Subject

    s = Subject(id="nothing", name="Nothing", identifiers=())
    b = select_bans(ListSet((RiskList("x", "x", "1", "2026-01-01", (s,)),)),
                    subject_ids=["nothing"])
    out = FleetExporter().export(b)
    assert out.rules == 0 and "# Note: No policy: nothing to apply." in out.text
    with pytest.raises(FleetRefused):  # fleetctl has no empty document: it is not applied
        apply_policies(out.text)
    assert gitops_policies(FleetExporter().export(b, fmt="gitops").text) == []


def test_gitops_policies_file(bans):
    out = FleetExporter().export(bans, fmt="gitops")
    items = gitops_policies(out.text)
    assert items == policies(bans)  # the same policies in GitOps form
    assert out.text.startswith("# kitvet enforce export — target: fleet (gitops)")


def test_policy_documents_have_fleets_fields(bans):
    docs = [d for d in yaml.safe_load_all(FleetExporter().export(bans).text) if d]
    assert docs
    for d in docs:
        assert d["apiVersion"] == "v1" and d["kind"] == "policy"
        assert set(d["spec"]) == set(SPEC_KEYS)
        assert set(d["spec"]["platform"].split(",")) <= {"darwin", "linux", "windows"}
        assert d["spec"]["critical"] is (", device nearby:" not in d["spec"]["name"])


def test_neighbours_are_informational_with_their_own_resolution(bans):
    host = spec_for(bans, "Huawei", "linux")
    nearby = spec_for(bans, "Huawei", "linux", scope="segment")
    assert host["critical"] is True and nearby["critical"] is False
    assert "arp_cache" not in host["query"] and "arp_cache" in nearby["query"]
    assert nearby["platform"] == "darwin,linux,windows"
    assert nearby["description"].startswith("Informational, not a fault of this host.")
    assert nearby["resolution"].startswith("Nothing to remove on this host.")
    assert "Remove every program" in host["resolution"]
    # a Huawei gateway in the ARP cache fails only the informational policy
    gw = {"arp_cache": [{"address": "10.0.0.1", "mac": "00:e0:fc:12:34:56"}]}
    assert compliant(bans, "Huawei", "linux", **gw)
    assert not compliant(bans, "Huawei", "linux", scope="segment", **gw)


def test_windows_policy_says_which_hardware_checks_it_cannot_carry(bans):
    out = FleetExporter().export(bans)
    names = [p["name"] for p in policies(bans) if "Huawei" in p["name"]]
    assert "kitvet ban: Huawei Technologies Company (windows)" not in names  # nothing to check
    assert "#   Huawei Technologies Company: windows: USB device of vendor 12d1 (osquery has " \
           "no usb_devices table on windows)" in out.text
    assert "windows: PCI device of vendor 19e5" in out.text
    from kitvet.model.risk import Identifier, ListSet, RiskList, Subject

    mixed = Subject(id="mixed", name="Mixed", identifiers=(
        Identifier("process_name", "evil.exe"), Identifier("usb_vendor_id", "0bad")))
    b = select_bans(ListSet((RiskList("x", "x", "1", "2026-01-01", (mixed,)),)),
                    subject_ids=["mixed"])
    win = next(p for p in apply_policies(FleetExporter().export(b).text)
               if p["platform"] == "windows")
    assert win["description"].endswith("Not checked on windows: USB device of vendor 0bad "
                                       "(osquery has no usb_devices table on windows).")


def test_identifier_for_a_platform_without_its_table_is_a_gap():
    from kitvet.model.risk import Identifier, ListSet, RiskList, Subject

    s = Subject(id="linuxapp", name="Linux App", identifiers=(
        Identifier("product_name", "Some App", platforms=("linux",)),))
    b = select_bans(ListSet((RiskList("x", "x", "1", "2026-01-01", (s,)),)),
                    subject_ids=["linuxapp"])
    out = FleetExporter().export(b)
    assert out.rules == 0
    assert any("product_name Some App (platforms linux): osquery table programs does not "
               "exist there" in g.reason for g in out.gaps)


def test_every_query_runs_over_osquerys_tables_of_its_platforms(bans, hostile_bans):
    for b in (bans, hostile_bans):
        for p in policies(b):
            for plat in p["platform"].split(","):
                assert osquery_db(plat).execute(p["query"]).fetchall() == [(1,)], p["name"]
        pack = json.loads(OsqueryPackExporter().export(b).text)
        for q in pack["queries"].values():
            for plat in q["platform"].split(","):
                assert osquery_db(plat).execute(q["query"]).fetchall() == [(1,)]


@pytest.mark.parametrize("version,ok", [
    ("5.6.1-1", False),
    ("5.6.0-0.1", False),
    ("1:5.6.1-2", False),
    ("5.6.1", False),
    ("5.6.1+really5.4.5-1", True),
    ("5.4.5-0.3", True),
    ("5.6.10-1", True),
    ("5.6.1-rc1-1", True),
])
def test_xz_deb_versions(bans, version, ok):
    rows = {"deb_packages": [{"name": "xz-utils", "version": version, "arch": "amd64"}]}
    assert compliant(bans, "xz-utils", "linux", **rows) is ok


@pytest.mark.parametrize("version,ok", [("5.6.1", False), ("5.6.0", False), ("5.4.6", True)])
def test_xz_rpm_versions(bans, version, ok):
    rows = {"rpm_packages": [{"name": "xz", "version": version, "release": "1.fc40"}]}
    assert compliant(bans, "xz-utils", "linux", **rows) is ok


def test_other_packages_do_not_trip_the_xz_policy(bans):
    rows = {"deb_packages": [{"name": "xz-utils-extra", "version": "5.6.1-1"}],
            "rpm_packages": [{"name": "xz-libs", "version": "5.6.1"}]}
    assert compliant(bans, "xz-utils", "linux", **rows)


def test_usb_and_pci_vendor_ids(bans):
    assert not compliant(bans, "Huawei", "linux",
                         usb_devices=[{"vendor": "Huawei", "vendor_id": "12d1", "model_id": "1506"}])
    assert not compliant(bans, "Huawei", "darwin",
                         usb_devices=[{"vendor_id": "0x12D1", "model_id": "0x1506"}])
    assert not compliant(bans, "Huawei", "linux", pci_devices=[{"vendor_id": "19E5"}])
    assert compliant(bans, "Huawei", "linux",
                     usb_devices=[{"vendor_id": "1d6b", "model_id": "0002"}],
                     pci_devices=[{"vendor_id": "8086"}])


def test_arp_cache_mac_prefix(bans):
    assert not compliant(bans, "Huawei", "windows", "segment",
                         arp_cache=[{"address": "10.0.0.9", "mac": "00:e0:fc:12:34:56"}])
    assert not compliant(bans, "Huawei", "linux", "segment",
                         arp_cache=[{"address": "10.0.0.9", "mac": "00-E0-FC-12-34-56"}])
    assert compliant(bans, "Huawei", "linux", "segment",
                     arp_cache=[{"address": "10.0.0.1", "mac": "00:e1:fc:12:34:56"}])


def test_oui_organisation_resolved_through_the_registry(bans):
    # 0C:75:D2 is registered to Hangzhou Hikvision Digital Technology Co.,Ltd. (IEEE MA-L)
    assert not compliant(bans, "Hikvision", "linux", "segment",
                         arp_cache=[{"address": "10.0.0.7", "mac": "0c:75:d2:00:00:01"}])
    assert compliant(bans, "Hikvision", "linux", "segment",
                     arp_cache=[{"address": "10.0.0.7", "mac": "0c:75:d3:00:00:01"}])


def test_windows_programs_and_processes(bans):
    assert not compliant(bans, "Kaspersky", "windows",
                         programs=[{"name": "Kaspersky Endpoint Security",
                                    "publisher": "AO Kaspersky Lab", "version": "12.1"}])
    assert not compliant(bans, "Kaspersky", "windows",
                         processes=[{"pid": 4, "name": "AVP.EXE"}])
    assert compliant(bans, "Kaspersky", "windows",
                     programs=[{"name": "Firefox", "publisher": "Mozilla", "version": "1"}],
                     processes=[{"pid": 4, "name": "firefox.exe"}])


def test_macos_apps_by_bundle_id_and_product_name(bans):
    assert not compliant(bans, "Kaspersky", "darwin",
                         apps=[{"name": "Kaspersky.app", "bundle_identifier": "com.kaspersky.kav"}])
    assert compliant(bans, "Kaspersky", "darwin",
                     apps=[{"name": "X.app", "bundle_identifier": "com.kasperskyfan.app"}])
    assert not compliant(bans, "3CX", "darwin",
                         apps=[{"name": "3CX Desktop App.app", "bundle_short_version": "18.12.407"}])
    assert compliant(bans, "3CX", "darwin",
                     apps=[{"name": "3CX Desktop App.app", "bundle_short_version": "18.12.416"}])


def test_linux_processes_not_limited_to_windows_names(bans):
    assert not compliant(bans, "Kaspersky", "linux",
                         deb_packages=[{"name": "kesl", "version": "11.2.0-4528"}])


def test_unexpressible_identifiers_are_reported(bans):
    out = FleetExporter().export(bans)
    reasons = " | ".join(g.reason for g in out.gaps)
    assert "team_id 2Y8XE5CQ94" in reasons and "sha256" in reasons
    assert "#   Kaspersky Lab: signer AO Kaspersky Lab" in out.text


def test_hostile_values_are_sql_literals(hostile_bans):
    host = {p["platform"]: p["query"] for p in policies(hostile_bans)
            if ", device nearby:" not in p["name"]}
    lin = osquery_db("linux", deb_packages=[{"name": "x'); drop table deb_packages; --"}])
    assert lin.execute(host["linux"]).fetchall() == []  # the hostile name matched as a string
    lin.execute("SELECT count(*) FROM deb_packages").fetchall()  # table still there
    win = osquery_db("windows", programs=[{"name": "a*b'c[d]?", "version": "1' OR '1'='1",
                                           "publisher": "Acme"}])
    assert win.execute(host["windows"]).fetchall() == []  # wildcard kept, quotes literal
    clean = osquery_db("windows", programs=[{"name": "abc", "version": "1", "publisher": "Acme"}])
    assert clean.execute(host["windows"]).fetchall() == [(1,)]


def test_osquery_pack_has_the_same_queries(bans):
    pack = json.loads(OsqueryPackExporter().export(bans).text)
    fleet = {p["query"] for p in policies(bans)}
    assert {q["query"] for q in pack["queries"].values()} == fleet
    for name, q in pack["queries"].items():
        assert name.startswith("kitvet_ban_") and q["interval"] == 3600
        assert set(q["platform"].split(",")) <= {"darwin", "linux", "windows"}
    assert pack["queries"]["kitvet_ban_huawei_segment"]["platform"] == "darwin,linux,windows"
    assert pack["kitvet"]["date"] == "2026-01-15"


def test_deb_upstream_expression_direct():
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE t (version)")
    for v in ("5.6.1-1", "5.6.1+really5.4.5-1", "2:5.6.1", "5.6.1-1-1"):
        con.execute("INSERT INTO t VALUES (?)", (v,))
    got = [r[0] for r in con.execute(f"SELECT version FROM t WHERE {deb_upstream_is('5.6.1')}")]
    assert got == ["5.6.1-1", "2:5.6.1"]


def test_golden(bans):
    check_golden("fleet-policies.yml", FleetExporter().export(
        _without(bans, "hikvision")).text)
    check_golden("osquery-pack.json", OsqueryPackExporter().export(
        _without(bans, "hikvision")).text)


def _without(bans, subject_id):
    import dataclasses

    return dataclasses.replace(bans, subjects=tuple(b for b in bans.subjects
                                                    if b.id != subject_id))


def test_publisher_matches_rpm_vendor_and_is_checked_once(bans):
    assert not compliant(bans, "Kaspersky", "linux",
                         rpm_packages=[{"name": "kes", "version": "12", "vendor": "AO Kaspersky Lab"}])
    win = [p for p in policies(bans) if "Kaspersky" in p["name"] and p["platform"] == "windows"]
    assert win[0]["query"].count("FROM programs WHERE lower(publisher)") == 1


def test_description_keeps_what_speaks_for_the_subject_beside_the_accusations(bans):
    specs = [p for p in policies(bans) if "Kaspersky Lab" in p["name"]]
    assert specs
    for p in specs:
        assert "Asserted by: US Congress" in p["description"]
        assert ("On record for it: no-evidence-found by European Commission "
                "(Answer P-000603/2018).") in p["description"]


def test_table_platforms_are_osquerys_own():
    from kitvet.enforce.osquery_sql import TABLE_PLATFORMS

    from .osquery_schema import spec

    for table, plats in TABLE_PLATFORMS.items():
        assert set(plats) == set(spec()["tables"][table]["platforms"]), table
