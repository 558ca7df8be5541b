"""osquery importer: osqueryi JSON and osqueryd result logs replayed into each host's state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kitvet.errors import SourceError
from kitvet.sources import registry
from kitvet.sources.osquery import OsqueryImporter

FIX = Path(__file__).parent / "fixtures" / "osquery"


def _read(path: Path, **kw):
    return {s.host.host_id: s for s in OsqueryImporter().read(path, **kw)}


def _event(name, host="h1", epoch=0, counter=0, **body):
    ev = {"name": name, "hostIdentifier": host, "calendarTime": "Mon Mar  4 09:00:00 2024 UTC",
          "unixTime": 1709542800 + counter, "epoch": epoch, "counter": counter,
          "numerics": False}
    ev.update(body)
    return json.dumps(ev)


def _write(tmp_path: Path, lines: list[str], name="osqueryd.results.log") -> Path:
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def _prog(name, version="1.0", publisher="ACME", **extra):
    row = {"name": name, "version": version, "publisher": publisher, "install_location": "",
           "install_source": "", "language": "", "uninstall_string": "", "install_date": "",
           "identifying_number": ""}
    row.update(extra)
    return row


def test_result_log_is_detected_from_content():
    assert isinstance(registry.detect(FIX / "results.log"), OsqueryImporter)
    assert isinstance(registry.detect(FIX / "pc-042.json"), OsqueryImporter)


def test_differential_log_replays_to_current_state():
    hosts = _read(FIX / "results.log")
    ws = hosts["ws-001"]
    names = {r["name"] for r in ws.software}
    # 3CX was added and later removed; Kaspersky and 7-Zip remain
    assert names == {"Kaspersky Endpoint Security for Windows", "7-Zip 23.01 (x64)"}
    usb = {d["vendor_id"]: d for d in ws.devices if d["bus"] == "usb"}
    assert set(usb) == {"12d1"}  # the Logitech receiver was removed in a batched event
    assert usb["12d1"]["product_id"] == "14dc"
    assert usb["12d1"]["vendor_name"] == "Huawei Technologies Co., Ltd."


def test_host_identity_and_facts_come_from_the_data():
    ws = _read(FIX / "results.log", institution="DG ITEC")["ws-001"]
    assert ws.host.hostname == "ws-001.example.org"
    assert ws.host.machine_id == "4C4C4544-0042-3510-8052-B4C04F4D3732"
    assert ws.host.platform == "windows"
    assert ws.host.os_name == "Microsoft Windows 10 Pro"
    assert ws.host.institution == "DG ITEC"
    assert ws.host.collected_at == "2024-03-04T10:00:00Z"
    machine = [d for d in ws.devices if d["bus"] == "system"]
    assert machine and machine[0]["vendor_name"] == "HUAWEI"


def test_rows_record_source_and_line():
    ws = _read(FIX / "results.log")["ws-001"]
    kes = next(r for r in ws.software if r["name"].startswith("Kaspersky"))
    assert kes["source"] == "osquery:programs"
    assert kes["location"].endswith("results.log:3")
    assert kes["publisher"] == "AO Kaspersky Lab"
    assert kes["uninstall"].startswith("MsiExec.exe")


def test_authenticode_signer_joins_programs_by_install_location():
    ws = _read(FIX / "results.log")["ws-001"]
    by_name = {r["name"]: r for r in ws.software}
    assert by_name["Kaspersky Endpoint Security for Windows"]["signer"] == "AO Kaspersky Lab"
    assert "signer" not in by_name["7-Zip 23.01 (x64)"]  # result "missing": no signer


def test_deb_packages_get_purls_and_uninstalled_are_skipped():
    srv = _read(FIX / "results.log")["srv-01"]
    xz = next(r for r in srv.software if r["name"] == "xz-utils")
    assert xz["purl"] == "pkg:deb/debian/xz-utils@5.6.0-0.2?arch=amd64"
    assert xz["package_type"] == "deb"
    assert "old-tool" not in {r["name"] for r in srv.software}
    assert any("not installed" in k.reason for k in srv.skipped)
    assert srv.host.platform == "linux"


def test_bad_lines_and_foreign_queries_are_counted_not_fatal():
    ws = _read(FIX / "results.log")["ws-001"]
    reasons = [k.reason for k in ws.skipped]
    assert any(r.startswith("not valid JSON") for r in reasons)
    assert any("pack_inventory_processes" in r and "not an inventory table" in r
               for r in reasons)
    bad = next(k for k in ws.skipped if k.reason.startswith("not valid JSON"))
    assert bad.location.endswith("results.log:7")


def test_osqueryi_json_array_names_host_after_file_or_folder():
    pc = _read(FIX / "pc-042.json")["pc-042"]
    assert {r["name"] for r in pc.software} == {
        "Office 16 Click-to-Run Extensibility Component", "iVMS-4200"}
    assert pc.skipped[0].reason == "row without a name"
    assert pc.skipped[0].location.endswith("pc-042.json:$[2]")
    lab = _read(FIX / "lab-07" / "usb_devices.json")
    assert list(lab) == ["lab-07"]
    assert {d["vendor_id"] for d in lab["lab-07"].devices} == {"046d", "2bdf"}


def test_snapshot_event_replaces_previous_rows(tmp_path):
    log = _write(tmp_path, [
        _event("programs", snapshot=[_prog("Old")], action="snapshot"),
        _event("programs", counter=1, snapshot=[_prog("New")], action="snapshot"),
    ])
    assert [r["name"] for r in _read(log)["h1"].software] == ["New"]


def test_new_epoch_starts_the_query_over(tmp_path):
    log = _write(tmp_path, [
        _event("programs", columns=_prog("Gone after reset"), action="added"),
        _event("programs", counter=1, columns=_prog("Also gone"), action="added"),
        _event("programs", epoch=7, counter=0, columns=_prog("Current"), action="added"),
    ])
    assert [r["name"] for r in _read(log)["h1"].software] == ["Current"]


def test_counter_back_at_zero_starts_over_but_one_run_is_kept(tmp_path):
    log = _write(tmp_path, [
        _event("programs", columns=_prog("A"), action="added"),
        _event("programs", columns=_prog("B"), action="added"),  # same run (counter 0)
        _event("programs", counter=1, columns=_prog("C"), action="added"),
        _event("programs", counter=0, columns=_prog("D"), action="added"),  # restart
        _event("programs", counter=0, columns=_prog("E"), action="added"),
    ])
    assert sorted(r["name"] for r in _read(log)["h1"].software) == ["D", "E"]


def test_hosts_are_replayed_separately(tmp_path):
    log = _write(tmp_path, [
        _event("programs", host="a", columns=_prog("X"), action="added"),
        _event("programs", host="b", columns=_prog("X"), action="added"),
        _event("programs", host="a", counter=1, columns=_prog("X"), action="removed"),
    ])
    hosts = _read(log)
    assert hosts["a"].software == [] and [r["name"] for r in hosts["b"].software] == ["X"]


def test_table_recognised_by_columns_when_query_name_is_custom(tmp_path):
    rows = [
        {"name": "Slack", "path": "/Applications/Slack.app", "bundle_identifier":
         "com.tinyspeck.slackmacgap", "bundle_short_version": "4.36.140", "bundle_version": "1"},
    ]
    sig = [{"path": "/Applications/Slack.app", "signed": "1", "identifier":
            "com.tinyspeck.slackmacgap", "cdhash": "ab", "team_identifier": "BQR82RBBHL",
            "authority": "Developer ID Application: Slack Technologies, Inc. (BQR82RBBHL)"}]
    log = _write(tmp_path, [
        _event("my_mac_software", snapshot=rows, action="snapshot"),
        _event("code_signing", snapshot=sig, action="snapshot"),
    ])
    app = _read(log)["h1"].software[0]
    assert app["source"] == "osquery:apps"
    assert app["bundle_id"] == "com.tinyspeck.slackmacgap"
    assert app["version"] == "4.36.140"
    assert app["signer"].startswith("Developer ID Application: Slack")


def test_other_inventory_tables(tmp_path):
    snap_rows = {
        "rpm_packages": [{"name": "xz", "version": "5.6.0", "release": "1.fc40", "source": "",
                          "size": "1", "sha1": "", "arch": "x86_64", "epoch": "1",
                          "vendor": "Fedora Project"}],
        "chrome_extensions": [{"name": "Evil Ext", "identifier": "abcdefghijklmnop",
                               "version": "1.2", "author": "Bad Co", "update_url": "x",
                               "path": "/p", "profile": "Default"}],
        "firefox_addons": [{"name": "uBlock Origin", "identifier": "uBlock0@raymondhill.net",
                            "creator": "Raymond Hill", "version": "1.56", "source_url": "",
                            "visible": "1"}],
        "python_packages": [{"name": "requests", "version": "2.31.0", "summary": "HTTP",
                             "author": "Kenneth Reitz", "license": "Apache-2.0", "path": "/x"}],
        "npm_packages": [{"name": "event-stream", "version": "3.3.6", "author": "",
                          "homepage": "", "license": "MIT", "path": "/n", "directory": "/"}],
        "pci_devices": [{"pci_slot": "0000:00:1f.6", "pci_class": "Ethernet controller",
                         "driver": "e1000e", "vendor": "Intel Corporation", "vendor_id": "0x8086",
                         "model": "I219-LM", "model_id": "15BB"}],
        "arp_cache": [{"address": "10.0.0.1", "mac": "00:1E:10:AA:BB:CC", "interface": "eth0",
                       "permanent": "0"},
                      {"address": "10.0.0.255", "mac": "ff:ff:ff:ff:ff:ff", "interface": "eth0",
                       "permanent": "0"}],
        "os_version": [{"name": "Fedora Linux", "version": "40", "major": "40", "minor": "0",
                        "platform": "fedora", "platform_like": ""}],
    }
    log = _write(tmp_path, [_event(f"pack_inv_{t}", snapshot=r, action="snapshot")
                            for t, r in snap_rows.items()])
    h = _read(log)["h1"]
    sw = {r["source"]: r for r in h.software}
    assert sw["osquery:rpm_packages"]["version"] == "5.6.0-1.fc40"
    assert sw["osquery:rpm_packages"]["purl"] == \
        "pkg:rpm/fedora/xz@5.6.0-1.fc40?arch=x86_64&epoch=1"
    assert sw["osquery:rpm_packages"]["publisher"] == "Fedora Project"
    assert sw["osquery:chrome_extensions"]["bundle_id"] == "abcdefghijklmnop"
    assert sw["osquery:chrome_extensions"]["publisher"] == "Bad Co"
    assert sw["osquery:firefox_addons"]["publisher"] == "Raymond Hill"
    assert sw["osquery:python_packages"]["purl"] == "pkg:pypi/requests@2.31.0"
    assert sw["osquery:npm_packages"]["purl"] == "pkg:npm/event-stream@3.3.6"
    dev = {d["source"]: d for d in h.devices}
    assert dev["osquery:pci_devices"]["vendor_id"] == "8086"
    assert dev["osquery:pci_devices"]["product_id"] == "15bb"
    assert dev["osquery:arp_cache"]["mac"] == "00:1e:10:aa:bb:cc"
    assert sum(1 for d in h.devices if d["bus"] == "network") == 1  # broadcast skipped


def test_signer_does_not_spread_to_shared_program_folders(tmp_path):
    auth = [{"path": "C:\\Program Files\\Vendor A\\a.exe", "subject_name": "Vendor A",
             "result": "trusted", "issuer_name": "", "serial_number": "",
             "original_program_name": ""}]
    log = _write(tmp_path, [
        _event("authenticode", snapshot=auth, action="snapshot"),
        _event("programs", snapshot=[_prog("B", install_location="C:\\Program Files\\"),
                                     _prog("A", install_location="C:\\Program Files\\Vendor A")],
               action="snapshot"),
    ])
    by = {r["name"]: r for r in _read(log)["h1"].software}
    assert by["A"]["signer"] == "Vendor A" and "signer" not in by["B"]


def test_empty_and_wrong_files(tmp_path):
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="empty"):
        OsqueryImporter().read(empty)
    obj = tmp_path / "obj.json"
    obj.write_text("[1, 2]")
    with pytest.raises(SourceError, match="table kitvet does not read") as e:
        OsqueryImporter().read(obj)
    assert str(obj) in str(e.value)
    trunc = tmp_path / "trunc.json"
    trunc.write_text('[{"name": "x", "uninstall_string": "')
    with pytest.raises(SourceError, match="not valid JSON") as e:
        OsqueryImporter().read(trunc)
    assert e.value.place and "line 1" in e.value.place


def test_truncated_last_line_keeps_earlier_events(tmp_path):
    good = _event("programs", columns=_prog("Kept"), action="added")
    log = tmp_path / "cut.log"
    log.write_text(good + "\n" + good[: len(good) // 2])
    h = _read(log)["h1"]
    assert [r["name"] for r in h.software] == ["Kept"]
    assert any(k.location.endswith("cut.log:2") for k in h.skipped)


def test_over_long_line_is_skipped_without_losing_the_next(tmp_path, monkeypatch):
    import kitvet.sources.osquery as mod

    monkeypatch.setattr(mod, "MAX_LINE_BYTES", 4096)
    huge = _event("programs", columns=_prog("X" * 10_000), action="added")
    log = _write(tmp_path, [huge, _event("programs", columns=_prog("Next"), action="added")])
    h = _read(log)["h1"]
    assert [r["name"] for r in h.software] == ["Next"]
    assert any("longer than the limit" in k.reason and k.location.endswith(":1")
               for k in h.skipped)


def test_json_array_of_result_events_is_replayed(tmp_path):
    p = tmp_path / "fleet-export.json"
    p.write_text("[" + ",".join([
        _event("programs", columns=_prog("A"), action="added"),
        _event("programs", counter=1, columns=_prog("A"), action="removed"),
        _event("programs", counter=1, columns=_prog("B"), action="added")]) + "]")
    assert isinstance(registry.detect(p), OsqueryImporter)
    assert [r["name"] for r in _read(p)["h1"].software] == ["B"]


def test_a_file_without_one_usable_event_is_an_error_not_an_empty_host(tmp_path):
    junk = tmp_path / "junk.log"
    junk.write_bytes(b"\x00\xff garbage\nmore garbage\n")
    with pytest.raises(SourceError, match="no osquery result event") as e:
        OsqueryImporter().read(junk)
    assert e.value.file == str(junk) and e.value.place == "line 1"
    arr = tmp_path / "events.json"
    arr.write_text('[{"name": "programs", "columns": {}, "action": "added"}]')  # no host
    with pytest.raises(SourceError, match="without hostIdentifier") as e:
        OsqueryImporter().read(arr)
    assert e.value.place == "item 0"


def test_one_table_exports_without_os_version_get_the_tables_platform(tmp_path):
    d = tmp_path / "pc-7"
    d.mkdir()
    (d / "programs.json").write_text(json.dumps([_prog("7-Zip")]))
    (snap,) = OsqueryImporter().read(d / "programs.json")
    assert snap.host.platform == "windows"  # programs is a Windows-only table
    (d / "apps.json").write_text(json.dumps([{"name": "Firefox.app", "bundle_identifier": "x",
                                              "bundle_short_version": "1", "path": "/A"}]))
    (snap,) = OsqueryImporter().read(d / "apps.json")
    assert snap.host.platform == "macos"
    (d / "arp_cache.json").write_text(json.dumps([{"address": "10.0.0.1", "mac": "bc:5e:33:00:11:22",
                                                   "interface": "eth0", "permanent": "0"}]))
    (snap,) = OsqueryImporter().read(d / "arp_cache.json")
    assert snap.host.platform == "unknown"  # every platform has an ARP table
