"""`kitvet identify`: items typed by hand and inventory files, table and JSON output."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kitvet.cli import main
from kitvet.cli.identify import explain
from kitvet.identify.explain import IdentifyError, explain_item, parse_item

SOURCES = Path(__file__).parent.parent / "sources"
_spec = importlib.util.spec_from_file_location(
    "kitvet_test_regf_writer_b", SOURCES / "fixtures" / "regf_writer.py")
regf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(regf)


def kaspersky_hive(folder: Path) -> Path:
    tree = regf.uninstall_tree({"{KES}": {
        "DisplayName": "Kaspersky Endpoint Security for Windows", "DisplayVersion": "11.11.0.452",
        "Publisher": "AO Kaspersky Lab"}}, prefix=("WOW6432Node", "Microsoft", "Windows",
                                                  "CurrentVersion", "Uninstall"))
    return regf.write_hive(folder / "SOFTWARE", tree)


@pytest.mark.parametrize("text,parsed", [
    ("usb:12d1", ("usb", "12d1")),
    ("usb:12d1:1506", ("usb", "12d1:1506")),
    ("mac:bc:5e:33:00:11:22", ("mac", "bc:5e:33:00:11:22")),
    ('publisher:"AO Kaspersky Lab"', ("publisher", "AO Kaspersky Lab")),
    ("Bundle:com.kaspersky.kav", ("bundle", "com.kaspersky.kav")),
    ("inventory.json", None),
    ("C:/x.json", None),
])
def test_items_are_kind_colon_value(text, parsed):
    assert parse_item(text) == parsed


@pytest.mark.parametrize("text,msg", [
    ("usb:zz", "usb id must be"),
    ("usb:12d1:1506:1", "usb id must be"),
    ("mac:12:34", "12 hex digits"),
    ("publisher:", "nothing after"),
    ('publisher:"AO Kaspersky Lab', "unbalanced quote"),
    ("signer:CN=x'", "unbalanced quote"),
])
def test_malformed_items_are_clear_errors(text, msg):
    with pytest.raises(IdentifyError, match=msg):
        explain_item(text)


def test_a_mistyped_kind_names_the_known_kinds(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(IdentifyError, match="'vendor' is not an item kind .*usb, pci, mac"):
        explain("vendor:Huawei")


def test_item_explained_with_its_database():
    r = explain_item('publisher:"Kaspersky Labs ZAO"')
    (a,) = r.attributions
    assert a.organisation == "Kaspersky Lab"
    assert r.to_dict()["organisations"] == ["Kaspersky Lab"]


def test_inventory_file_items_carry_host_and_location(tmp_path):
    (r,) = explain(str(kaspersky_hive(tmp_path)))
    assert r.item == "Kaspersky Endpoint Security for Windows 11.11.0.452"
    assert r.item_type == "software"
    assert r.location.endswith("/Uninstall/{KES}")
    assert r.attributions[0].explanation == (
        "publisher 'AO Kaspersky Lab' → Kaspersky Lab (alias table)")


def test_nmap_scan_devices_are_attributed(tmp_path):
    scan = tmp_path / "scan.xml"
    shutil.copy(SOURCES / "fixtures" / "nmap" / "scan.xml", scan)
    devices = [r for r in explain(str(scan)) if r.item_type == "device"]
    orgs = {a.org_id for r in devices for a in r.attributions}
    assert {"hikvision", "huawei"} <= orgs


def test_cli_json_output(tmp_path):
    res = CliRunner().invoke(main, ["identify", "--format", "json", "usb:12d1",
                                    str(kaspersky_hive(tmp_path))])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["kitvet_identify"] == "1.0.0"
    usb, kes = doc["items"]
    assert usb["item"] == "usb:12d1" and usb["attributions"][0]["kind"] == "usb_vendor_id"
    assert kes["attributions"][0]["org_id"] == "kaspersky-lab"


def test_cli_table_shows_hostile_text_literally():
    res = CliRunner(env={"COLUMNS": "300"}).invoke(
        main, ["identify", "publisher:[bold red]Evil[/] Corp"])
    assert res.exit_code == 0, res.output
    assert "publisher '[bold red]Evil[/] Corp'" in res.output


def test_cli_bad_input_is_one_line_and_exit_2(tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["identify", "usb:xyz"])
    assert res.exit_code == 2 and "usb id must be" in res.output
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01\x02 not an inventory")
    res = runner.invoke(main, ["identify", str(junk)])
    assert res.exit_code == 2 and "junk.bin" in res.output
    assert "Traceback" not in res.output


def test_a_cpe_can_be_typed_as_is():
    r = explain_item("cpe:2.3:a:kaspersky:total_security:21:*:*:*:*:*:*:*")
    assert [a.org_id for a in r.attributions] == ["kaspersky-lab"]
    assert r.attributions[0].observed == "cpe:2.3:a:kaspersky:total_security:21:*:*:*:*:*:*:*"


def test_the_table_says_why_an_item_is_unknown():
    r = CliRunner().invoke(main, ["identify", "mac:02-00-00-00-00-01", "usb:ffff",
                                  "package:surely-not-listed"], env={"COLUMNS": "300"})
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "locally administered MAC" in text
    assert "vendor id in neither usb.ids nor the alias table" in text
    assert "in the alias table under no organisation" in text
