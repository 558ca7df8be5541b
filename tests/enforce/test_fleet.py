"""Fleet policies and the osquery pack: every query runs in SQLite against tables with
osquery's real column names, on compliant and non-compliant rows."""

from __future__ import annotations

import json
import sqlite3

import pytest
import yaml

from kitvet.enforce.fleet import FleetExporter, OsqueryPackExporter
from kitvet.enforce.osquery_sql import deb_upstream_is

from .conftest import check_golden

#: Columns of the osquery tables the queries use (osquery table specs).
OSQUERY_TABLES = {
    "programs": "name, version, install_location, install_source, language, publisher, "
                "uninstall_string, install_date, identifying_number",
    "deb_packages": "name, version, source, size, arch, revision, status, maintainer, section, "
                    "priority, admindir",
    "rpm_packages": "name, version, release, source, size, sha1, arch, epoch, install_time, "
                    "vendor, package_group",
    "apps": "name, path, bundle_executable, bundle_identifier, bundle_name, "
            "bundle_short_version, bundle_version, bundle_package_type, environment, element, "
            "compiler, development_region, display_name, info_string, minimum_system_version, "
            "category, applescript_enabled, copyright, last_opened_time",
    "processes": "pid, name, path, cmdline, state, cwd, root, uid, gid",
    "usb_devices": "usb_address, usb_port, vendor, vendor_id, version, model, model_id, serial, "
                   "class, subclass, protocol, removable",
    "pci_devices": "pci_slot, pci_class, driver, vendor, vendor_id, model, model_id",
    "arp_cache": "address, mac, interface, permanent",
}


def osquery_db(**rows: list[dict]) -> sqlite3.Connection:
    con = sqlite3.connect(":memory:")
    for table, cols in OSQUERY_TABLES.items():
        con.execute(f"CREATE TABLE {table} ({cols})")
    for table, items in rows.items():
        for r in items:
            keys = ", ".join(r)
            con.execute(f"INSERT INTO {table} ({keys}) VALUES ({', '.join('?' * len(r))})",
                        list(r.values()))
    return con


def policies(bans) -> list[dict]:
    text = FleetExporter().export(bans).text
    return [d["spec"] for d in yaml.safe_load_all(text) if d]


def compliant(bans, subject: str, platform: str, **rows) -> bool:
    specs = [p for p in policies(bans) if subject in p["name"] and p["platform"] == platform]
    assert len(specs) == 1, [p["name"] for p in policies(bans)]
    got = osquery_db(**rows).execute(specs[0]["query"]).fetchall()
    assert got in ([], [(1,)])
    return got == [(1,)]


def test_policy_documents_have_fleets_fields(bans):
    docs = [d for d in yaml.safe_load_all(FleetExporter().export(bans).text) if d]
    assert docs
    for d in docs:
        assert d["apiVersion"] == "v1" and d["kind"] == "policy"
        assert set(d["spec"]) == {"name", "query", "description", "resolution", "platform",
                                  "critical"}
        assert d["spec"]["platform"] in ("darwin", "linux", "windows")
        assert d["spec"]["critical"] is True


def test_every_query_runs_on_an_empty_host_and_says_compliant(bans):
    con = osquery_db()
    for p in policies(bans):
        assert con.execute(p["query"]).fetchall() == [(1,)], p["name"]


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
    assert not compliant(bans, "Huawei", "windows",
                         arp_cache=[{"address": "10.0.0.9", "mac": "00:e0:fc:12:34:56"}])
    assert not compliant(bans, "Huawei", "linux",
                         arp_cache=[{"address": "10.0.0.9", "mac": "00-E0-FC-12-34-56"}])
    assert compliant(bans, "Huawei", "linux",
                     arp_cache=[{"address": "10.0.0.1", "mac": "00:e1:fc:12:34:56"}])


def test_oui_organisation_resolved_through_the_registry(bans):
    # 0C:75:D2 is registered to Hangzhou Hikvision Digital Technology Co.,Ltd. (IEEE MA-L)
    assert not compliant(bans, "Hikvision", "linux",
                         arp_cache=[{"address": "10.0.0.7", "mac": "0c:75:d2:00:00:01"}])
    assert compliant(bans, "Hikvision", "linux",
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
    con = osquery_db(deb_packages=[{"name": "x'); drop table deb_packages; --"}],
                     programs=[{"name": "a*b'c[d]?", "version": "1' OR '1'='1",
                                "publisher": "Acme"}])
    verdicts = {p["platform"]: con.execute(p["query"]).fetchall() for p in policies(hostile_bans)}
    assert verdicts["linux"] == []  # the hostile package name matched as a plain string
    assert verdicts["windows"] == []  # wildcard kept, quotes and brackets literal
    con.execute("SELECT count(*) FROM deb_packages").fetchall()  # table still there
    clean = osquery_db(programs=[{"name": "abc", "version": "1", "publisher": "Acme"}])
    assert all(clean.execute(p["query"]).fetchall() == [(1,)] for p in policies(hostile_bans))


def test_osquery_pack_has_the_same_queries(bans):
    pack = json.loads(OsqueryPackExporter().export(bans).text)
    fleet = {p["query"] for p in policies(bans)}
    assert {q["query"] for q in pack["queries"].values()} == fleet
    for name, q in pack["queries"].items():
        assert name.startswith("kitvet_ban_") and q["interval"] == 3600
        assert q["platform"] in ("darwin", "linux", "windows")
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
