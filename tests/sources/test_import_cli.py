"""``kitvet import``: detection, folders, merging, summary, exit codes, atomic output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from kitvet.cli import main
from kitvet.model.document import read_document

FIX = Path(__file__).parent / "fixtures"


def _run(*args: str):
    return CliRunner().invoke(main, ["import", *args], catch_exceptions=False)


def test_imports_detected_formats_into_one_document(tmp_path):
    out = tmp_path / "inventory.json"
    r = _run(str(FIX / "osquery" / "results.log"), str(FIX / "spdx" / "laptop-3.spdx"),
             str(FIX / "cyclonedx" / "server-obom-1.2.xml"), "--institution", "EP", "-o", str(out))
    assert r.exit_code == 0, r.output
    snaps = {s.host.host_id: s for s in read_document(out)}
    assert set(snaps) == {"ws-001", "srv-01", "laptop-3", "db-server-9"}
    assert all(s.host.institution == "EP" for s in snaps.values())
    assert "4 host(s)" in r.stderr and "skipped" in r.stderr
    assert "not valid JSON" in r.stderr  # reasons are counted in the summary


def test_folder_is_walked_and_unknown_files_ignored(tmp_path):
    d = tmp_path / "in"
    shutil.copytree(FIX / "osquery", d / "osquery")
    shutil.copy(FIX / "spdx" / "server-17.spdx.json", d)
    (d / "README.txt").write_text("notes about this export\n")
    (d / ".hidden.json").write_text("{}")
    out = tmp_path / "inv.json"
    r = _run(str(d), "-o", str(out))
    assert r.exit_code == 0, r.output
    ids = {s.host.host_id for s in read_document(out)}
    assert {"ws-001", "srv-01", "pc-042", "lab-07", "server-17"} <= ids
    assert "1 file(s) in folders were not in a known format" in r.stderr


def test_snapshots_of_one_host_from_several_files_are_merged(tmp_path):
    d = tmp_path / "pc-9"
    d.mkdir()
    (d / "programs.json").write_text(json.dumps([
        {"name": "AnyDesk", "version": "8.0", "publisher": "AnyDesk Software GmbH",
         "uninstall_string": "x", "identifying_number": "", "install_location": ""}]))
    (d / "usb_devices.json").write_text(json.dumps([
        {"usb_address": "1", "usb_port": "1", "vendor": "Huawei", "vendor_id": "12d1",
         "model": "Modem", "model_id": "1506", "serial": "", "removable": "1"}]))
    out = tmp_path / "inv.json"
    r = _run(str(d / "programs.json"), str(d / "usb_devices.json"), "-o", str(out))
    assert r.exit_code == 0, r.output
    (snap,) = read_document(out)
    assert snap.host.host_id == "pc-9"
    assert len(snap.software) == 1 and len(snap.devices) == 1


def test_csv_with_map_option(tmp_path):
    out = tmp_path / "inv.json"
    r = _run(str(FIX / "csv" / "glpi-software.csv"), "--map",
             "name=Software,version=Version,host=Computer Name,institution=Entity",
             "-o", str(out))
    assert r.exit_code == 0, r.output
    ids = {s.host.host_id: s for s in read_document(out)}
    assert ids["PC-001"].host.institution == "Parliament > DG ITEC"


def test_csv_with_mapping_file(tmp_path):
    m = tmp_path / "map.toml"
    m.write_text('kind = "software"\n[columns]\nname = "Software"\nhost = "Computer Name"\n')
    out = tmp_path / "inv.json"
    r = _run(str(FIX / "csv" / "glpi-software.csv"), "--mapping", str(m), "-o", str(out))
    assert r.exit_code == 0, r.output
    assert len(read_document(out)) == 2


def test_unreadable_input_exits_2_with_one_line_and_writes_nothing(tmp_path):
    bad = tmp_path / "bom.json"
    bad.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.4", "components": [')
    out = tmp_path / "inv.json"
    r = _run(str(bad), "-o", str(out))
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and "line 1" in lines[0]
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]


def test_missing_and_unrecognised_files_exit_2(tmp_path):
    r = _run(str(tmp_path / "nope.log"), "-o", str(tmp_path / "o.json"))
    assert r.exit_code == 2 and "no such file" in r.stderr
    odd = tmp_path / "notes.txt"
    odd.write_text("hello\n")
    r = _run(str(odd), "-o", str(tmp_path / "o.json"))
    assert r.exit_code == 2 and "format not recognised" in r.stderr


def test_unknown_format_and_conflicting_options(tmp_path):
    r = _run(str(FIX / "spdx" / "laptop-3.spdx"), "--format", "nosuch", "-o", "-")
    assert r.exit_code == 2 and "unknown format 'nosuch'" in r.stderr
    r = _run(str(FIX / "csv" / "glpi-software.csv"), "--map", "name=Software",
             "--format", "spdx")
    assert r.exit_code == 2


def test_forced_format_reads_what_detection_would_not(tmp_path):
    p = tmp_path / "inventory.txt"
    p.write_text(json.dumps([{"name": "xz-utils", "version": "5.6.0-0.2", "arch": "amd64",
                              "maintainer": "m", "revision": "0.2",
                              "status": "install ok installed"}]))
    r = _run(str(p), "--format", "osquery", "-o", "-")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["snapshots"][0]["software"][0]["name"] == "xz-utils"


def test_a_bad_file_in_a_folder_does_not_lose_the_others(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(FIX / "spdx" / "laptop-3.spdx", d)
    (d / "broken.spdx.json").write_text('{"spdxVersion": "SPDX-2.3", "packages": [')
    out = tmp_path / "inv.json"
    r = _run(str(d), "-o", str(out))
    assert r.exit_code == 0
    assert [s.host.host_id for s in read_document(out)] == ["laptop-3"]
    assert "warning" in r.stderr and "broken.spdx.json" in r.stderr
    assert "1 file(s) could not be read" in r.stderr


def test_review_and_identify_read_a_folder_as_import_does(tmp_path, caplog):
    d = tmp_path / "pc-042"
    d.mkdir()
    (d / "programs.json").write_text(json.dumps([
        {"name": "Kaspersky Endpoint Security for Windows", "version": "11.1.0.15919",
         "publisher": "AO Kaspersky Lab", "install_location": "", "uninstall_string": "x",
         "identifying_number": ""}]))
    (d / "notes.txt").write_text("not inventory\n")
    (d / "broken.json").write_text('{"kitvet_inventory": "9.0", "snapshots": []}')
    from kitvet.sources.registry import read_paths

    (snap,) = read_paths([d])
    assert snap.host.host_id == "pc-042" and snap.software[0]["publisher"] == "AO Kaspersky Lab"
    assert "broken.json" in caplog.text and "unsupported inventory schema" in caplog.text
    r = CliRunner().invoke(main, ["review", str(d), "--format", "json", "--fail-on", "none"])
    assert r.exit_code == 0, r.output
    (f,) = json.loads(r.stdout)["findings"]
    assert f["subject_id"] == "kaspersky-lab" and f["host_id"] == "pc-042"
    r = CliRunner().invoke(main, ["identify", str(d), "--format", "json"])
    assert r.exit_code == 0, r.output
    (item,) = json.loads(r.stdout)["items"]
    assert item["organisations"] == ["Kaspersky Lab"]


def test_output_to_a_folder_or_nowhere_is_one_line_naming_the_target(tmp_path):
    scan = str(FIX / "nmap" / "scan.xml")
    r = _run(scan, "-o", str(tmp_path))
    assert r.exit_code == 2
    assert f"kitvet: error: {tmp_path}: is a folder" in r.stderr
    assert ".tmp" not in r.stderr and not list(tmp_path.glob(".*.tmp"))
    blocked = tmp_path / "file"
    blocked.write_text("x")
    r = _run(scan, "-o", str(blocked / "inv.json"))  # parent is a file: cannot be created
    assert r.exit_code == 2 and f"{blocked / 'inv.json'}: cannot write here" in r.stderr
    assert "Traceback" not in r.output


def test_a_folder_with_a_given_format_reads_each_file_in_that_format(tmp_path):
    from kitvet.sources.registry import read_paths

    d = tmp_path / "pc-5"
    d.mkdir()
    (d / "programs.json").write_text(json.dumps([
        {"name": "AnyDesk", "version": "8.0", "publisher": "AnyDesk Software GmbH",
         "uninstall_string": "x", "identifying_number": "", "install_location": ""}]))
    (snap,) = read_paths([d], fmt="osquery")
    assert [r["name"] for r in snap.software] == ["AnyDesk"]
    apps = tmp_path / "Applications" / "Tool.app" / "Contents"
    apps.mkdir(parents=True)
    (apps / "Info.plist").write_bytes(b'<?xml version="1.0"?><plist version="1.0"><dict>'
                                      b"<key>CFBundleName</key><string>Tool</string></dict></plist>")
    (snap,) = read_paths([tmp_path / "Applications"], fmt="macos-apps")  # read whole
    assert [r["name"] for r in snap.software] == ["Tool"]
