"""CycloneDX importer: JSON and XML, software, hardware and operations BOMs, bad components."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from packageurl import PackageURL

from kitvet.errors import SourceError
from kitvet.sources import registry
from kitvet.sources.cyclonedx import CycloneDxImporter

FIX = Path(__file__).parent / "fixtures" / "cyclonedx"


def _one(path: Path, **kw):
    snaps = CycloneDxImporter().read(path, **kw)
    assert len(snaps) == 1
    return snaps[0]


def test_detected_from_content_json_and_xml():
    assert isinstance(registry.detect(FIX / "router-hbom-1.6.json"), CycloneDxImporter)
    assert isinstance(registry.detect(FIX / "server-obom-1.2.xml"), CycloneDxImporter)


def test_hardware_bom_devices_firmware_and_the_machine_itself():
    s = _one(FIX / "router-hbom-1.6.json", institution="Network team")
    assert s.host.host_id == "edge-router-3" and s.host.institution == "Network team"
    assert s.host.collected_at == "2024-03-04T09:00:00Z"
    assert s.host.os_name == "Linux" and s.host.platform == "linux"
    devices = {d["product_name"]: d for d in s.devices}
    assert devices["edge-router-3"]["vendor_name"] == "Huawei Technologies Co., Ltd."
    assert devices["edge-router-3"]["description"] == "the machine itself"
    assert devices["NetEngine AR6140"]["vendor_name"] == "Huawei Technologies Co., Ltd."
    nic = devices["Ethernet Controller I225-V"]
    assert nic["location"].endswith("router-hbom-1.6.json:$.components[0].components[1]")
    fw = next(r for r in s.software if r["name"] == "VRP")
    assert fw["package_type"] == "firmware" and fw["publisher"].startswith("Huawei")


def test_purl_cpe_hash_and_publisher_fallbacks_are_kept():
    s = _one(FIX / "router-hbom-1.6.json")
    sw = {r["name"]: r for r in s.software}
    xz = sw["xz"]
    assert xz["purl"] == "pkg:generic/tukaani/xz@5.6.1"
    assert xz["cpe"] == "cpe:2.3:a:tukaani:xz:5.6.1:*:*:*:*:*:*:*"
    assert xz["sha256"].startswith("b5b1e8a5")
    assert xz["publisher"] == "Jia Tan"  # from authors (1.6)
    agent = sw["@kaspersky/kes-agent"]  # npm scope joined to the name
    assert agent["publisher"] == "AO Kaspersky Lab" and agent["package_type"] == "npm"
    assert sw["Linux"]["publisher"] == "The Linux Foundation"


def test_bad_components_are_skipped_and_good_ones_kept():
    s = _one(FIX / "router-hbom-1.6.json")
    reasons = {k.location.rsplit(":", 1)[-1]: k.reason for k in s.skipped}
    assert "PURL" in reasons["$.components[3]"]
    assert "data" in reasons["$.components[4]"]
    assert "'name' must be a string" in reasons["$.components[5]"]
    assert len(s.software) == 4 and len(s.devices) == 3


def test_xml_bom_1_2_with_nested_components():
    s = _one(FIX / "server-obom-1.2.xml")
    assert s.host.host_id == "db-server-9"
    assert s.host.os_name == "Debian GNU/Linux" and s.host.os_version == "12"
    sw = {r["name"]: r for r in s.software}
    assert sw["kesl"]["publisher"] == "AO Kaspersky Lab"
    assert sw["kesl"]["purl"] == "pkg:deb/debian/kesl@12.0.0.6672?arch=amd64"
    assert sw["libkes"]["location"].endswith(
        "/bom/components/component[2]/components/component[1]")
    assert sw["openssl"]["publisher"] == "OpenSSL Software Foundation"
    assert [k.location.rsplit(":", 1)[-1] for k in s.skipped] == [
        "/bom/components/component[3]"]


@pytest.mark.parametrize("version", [SchemaVersion.V1_2, SchemaVersion.V1_3, SchemaVersion.V1_4,
                                     SchemaVersion.V1_5, SchemaVersion.V1_6])
@pytest.mark.parametrize("fmt", [OutputFormat.JSON, OutputFormat.XML])
def test_every_spec_version_written_by_the_library_reads_back(tmp_path, version, fmt):
    bom = Bom()
    bom.components.add(Component(
        name="kes", version="12.1", type=ComponentType.APPLICATION, publisher="AO Kaspersky Lab",
        purl=PackageURL(type="generic", name="kes", version="12.1")))
    out = make_outputter(bom, fmt, version).output_as_string()
    path = tmp_path / f"bom.{'json' if fmt == OutputFormat.JSON else 'xml'}"
    path.write_text(out, encoding="utf-8")
    assert isinstance(registry.detect(path), CycloneDxImporter)
    s = _one(path)
    assert [(r["name"], r["version"], r["publisher"], r["purl"]) for r in s.software] == [
        ("kes", "12.1", "AO Kaspersky Lab", "pkg:generic/kes@12.1")]
    assert s.host.host_id.startswith("urn:uuid:")  # no metadata.component: serialNumber


def test_billion_laughs_is_refused(tmp_path):
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE bom [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components><component '
        'type="library"><name>&c;</name></component></components></bom>')
    with pytest.raises(SourceError, match="entity") as e:
        CycloneDxImporter().read(bomb)
    assert e.value.file == str(bomb)


def test_external_entity_is_refused(tmp_path):
    xxe = tmp_path / "xxe.xml"
    xxe.write_text('<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                   '<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components><component '
                   'type="library"><name>&x;</name></component></components></bom>')
    with pytest.raises(SourceError, match="DTD or entity"):
        CycloneDxImporter().read(xxe)


@pytest.mark.parametrize("content, match, place", [
    ('{"bomFormat": "CycloneDX", "specVersion": "1.4", "components": [', "not valid JSON",
     "line 1"),
    ('{"bomFormat": "SPDX"}', "not a CycloneDX BOM", "$"),
    ('{"bomFormat": "CycloneDX", "specVersion": 1.4}', "specVersion", "$.specVersion"),
    ('{"bomFormat": "CycloneDX", "specVersion": "9.9"}', "unsupported", "$.specVersion"),
    ('{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": {}}', "must be a list",
     "$.components"),
    ('<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components>', "not well-formed", "line"),
    ('<other xmlns="urn:x"/>', "not a CycloneDX BOM", "/bom"),
])
def test_broken_documents_give_one_clear_error(tmp_path, content, match, place):
    p = tmp_path / "bad.bom"
    p.write_text(content)
    with pytest.raises(SourceError, match=match) as e:
        CycloneDxImporter().read(p)
    assert e.value.file == str(p) and e.value.place.startswith(place)


def test_hostile_values_are_bounded_and_cleaned(tmp_path):
    doc = {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [
        {"type": "library", "name": "x" * 5_000_000, "version": "1\x1b[31m\x00"},
        {"type": "library", "name": "<script>alert(1)</script>", "version": "=cmd|' /C calc'!A0"},
    ]}
    p = tmp_path / "bom.json"
    p.write_text(json.dumps(doc))
    s = _one(p)
    assert len(s.software[0]["name"]) == 4096
    assert s.software[0]["version"] == "1[31m"
    # markup and formulas are data: kept verbatim here, escaped by the reports
    assert s.software[1]["name"] == "<script>alert(1)</script>"


def test_deeply_nested_json_is_an_error_not_a_crash(tmp_path):
    p = tmp_path / "deep.json"
    p.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.4", "x": ' + "[" * 100_000
                 + "]" * 100_000 + "}")
    with pytest.raises(SourceError, match="not valid JSON"):
        CycloneDxImporter().read(p)


def test_deeply_nested_components_are_bounded(tmp_path):
    comp: dict = {"type": "library", "name": "leaf"}
    for i in range(200):
        comp = {"type": "library", "name": f"n{i}", "components": [comp]}
    p = tmp_path / "nest.json"
    p.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.4",
                             "components": [comp]}))
    s = _one(p)
    assert 60 <= len(s.software) <= 70
    assert any("nested" in k.reason for k in s.skipped)
