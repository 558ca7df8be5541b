"""CSV importer: column mappings, presets, encodings, delimiters, bad rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from kitvet.errors import SourceError
from kitvet.sources import registry
from kitvet.sources.csv_mapping import CsvImporter, load_mapping, parse_map

FIX = Path(__file__).parent / "fixtures" / "csv"
GLPI_MAP = "name=Software,version=Version,publisher=Publisher,host=Computer Name,institution=Entity"


def _hosts(path: Path, mapping=None, **kw):
    return {s.host.host_id: s for s in CsvImporter(mapping).read(path, **kw)}


def test_mapped_export_with_bom_semicolons_quotes_and_multiline_fields():
    hosts = _hosts(FIX / "glpi-software.csv", parse_map(GLPI_MAP))
    assert set(hosts) == {"PC-001", "PC-002"}
    pc1 = hosts["PC-001"]
    assert pc1.host.institution == "Parliament > DG ITEC"
    assert [r["name"] for r in pc1.software] == [
        "Kaspersky Endpoint Security for Windows", "7-Zip 23.01 (x64)"]
    kes = pc1.software[0]
    assert kes["publisher"] == "AO Kaspersky Lab" and kes["version"] == "11.11.0.452"
    assert kes["source"] == "csv:custom" and kes["location"].endswith("glpi-software.csv:2")
    odd = hosts["PC-002"].software[0]
    assert odd["name"] == 'Notes; with "quotes" and a newline'
    assert odd["publisher"] == "Example; Inc"
    assert odd["location"].endswith(":4")  # the row's first line


def test_rows_without_host_or_name_are_skipped_with_reasons():
    hosts = _hosts(FIX / "glpi-software.csv", parse_map(GLPI_MAP))
    reasons = sorted((k.reason, k.location.rsplit(":", 1)[-1])
                     for s in hosts.values() for k in s.skipped)
    assert reasons == [("row without a host name", "6"), ("row without a software name", "7")]


def test_intune_preset_is_recognised_without_a_mapping():
    path = FIX / "intune-appinvrawdata.csv"
    assert isinstance(registry.detect(path), CsvImporter)
    hosts = _hosts(path)
    laptop = hosts["LAPTOP-17"]
    assert laptop.host.platform == "windows"
    assert laptop.host.machine_id == "6f3c1d2e-0000-4b1a-9c1e-1a2b3c4d5e6f"
    assert laptop.host.os_version == "10.0.22631.3296"
    assert {r["name"] for r in laptop.software} == {
        "Kaspersky Endpoint Security for Windows", "Google Chrome"}
    assert hosts["IPHONE-JD"].software[0]["publisher"] == "Hikvision"
    assert laptop.software[0]["source"] == "csv:intune"


def test_device_rows_from_utf16_tab_separated_export():
    m = parse_map("host=Asset,mac=MAC,vendor_id=Vendor ID,vendor_name=Vendor")
    assert m.row_kind == "device"
    hosts = _hosts(FIX / "lansweeper-network.tsv", m)
    (dev,) = hosts["SW-CORE-1"].devices
    assert dev["mac"] == "00:1e:10:aa:bb:cc" and dev["vendor_name"] == "Huawei"
    assert hosts["CAM-12"].devices == []
    assert "not a MAC address" in hosts["CAM-12"].skipped[0].reason


def test_without_host_column_the_file_names_the_host(tmp_path):
    p = tmp_path / "kiosk-4.csv"
    p.write_text("Name,Version\nAnyDesk,8.0\n")
    hosts = _hosts(p, parse_map("name=Name,version=Version"))
    assert list(hosts) == ["kiosk-4"]


def test_windows_1252_export_is_read(tmp_path):
    p = tmp_path / "legacy.csv"
    p.write_bytes("Host;Logiciel;Éditeur\nPC-9;Antivirus;Société Générale\n".encode("cp1252"))
    hosts = _hosts(p, parse_map("host=Host,name=Logiciel,publisher=Éditeur"))
    assert hosts["PC-9"].software[0]["publisher"] == "Société Générale"


def test_mapping_file_yaml_and_toml(tmp_path):
    y = tmp_path / "glpi.yaml"
    y.write_text("kind: software\ncolumns:\n  name: Software\n  host: Computer Name\n"
                 "  institution: Entity\n")
    t = tmp_path / "glpi.toml"
    t.write_text('[columns]\nname = "Software"\nhost = "Computer Name"\n')
    for m in (load_mapping(y), load_mapping(t)):
        hosts = _hosts(FIX / "glpi-software.csv", m)
        assert len(hosts["PC-001"].software) == 2


@pytest.mark.parametrize("spec, match", [
    ("name=Software,colour=Blue", "unknown field"),
    ("name", "FIELD=COLUMN"),
    ("", "names no columns"),
])
def test_bad_map_specs(spec, match):
    with pytest.raises(SourceError, match=match):
        parse_map(spec)


def test_bad_mapping_files(tmp_path):
    p = tmp_path / "m.yaml"
    p.write_text("columns: [1, 2]\n")
    with pytest.raises(SourceError, match="columns"):
        load_mapping(p)
    p.write_text("preset: nope\n")
    with pytest.raises(SourceError, match="unknown preset"):
        load_mapping(p)
    p.write_text("columns: {name: a\n")
    with pytest.raises(SourceError, match="not valid YAML"):
        load_mapping(p)


def test_missing_mapped_column_names_the_header(tmp_path):
    with pytest.raises(SourceError, match="'Produit'.*columns are: Computer Name") as e:
        CsvImporter(parse_map("name=Produit,host=Computer Name")).read(
            FIX / "glpi-software.csv")
    assert e.value.place == "line 1"


def test_no_mapping_and_no_preset_is_a_clear_error(tmp_path):
    with pytest.raises(SourceError, match="give --map or --mapping"):
        CsvImporter().read(FIX / "glpi-software.csv")


def test_empty_file(tmp_path):
    p = tmp_path / "e.csv"
    p.write_text("")
    with pytest.raises(SourceError, match="empty"):
        CsvImporter(parse_map("name=a")).read(p)


def test_huge_line_and_field_are_skipped_and_later_rows_kept(tmp_path):
    p = tmp_path / "big.csv"
    with p.open("w") as fh:
        fh.write("host,name\n")
        fh.write("h1," + "A" * 3_000_000 + "\n")  # a multi-megabyte line
        fh.write('h1,"' + "B" * 200_000 + '"\n')  # a field above csv's limit, under ours
        fh.write("h1,Kept\n")
    hosts = _hosts(p, parse_map("host=host,name=name"))
    names = [r["name"] for r in hosts["h1"].software]
    assert names[-1] == "Kept"
    assert all(len(n) <= 4096 for n in names)
    assert any("longer than" in k.reason for k in hosts["h1"].skipped)


def test_formula_and_control_characters_are_kept_as_inert_text(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text('host,name\nh,"=HYPERLINK(""http://evil"")"\nh,"bad\x07name"\n')
    sw = _hosts(p, parse_map("host=host,name=name"))["h"].software
    assert sw[0]["name"] == '=HYPERLINK("http://evil")'  # escaping is the CSV writer's job
    assert sw[1]["name"] == "badname"
