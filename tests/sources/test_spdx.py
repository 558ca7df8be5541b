"""SPDX importer: 2.2/2.3 JSON and tag-value through spdx-tools; bad packages skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kitvet.errors import SourceError
from kitvet.sources import registry
from kitvet.sources.spdx import SpdxImporter

FIX = Path(__file__).parent / "fixtures" / "spdx"


def _one(path: Path, **kw):
    snaps = SpdxImporter().read(path, **kw)
    assert len(snaps) == 1
    return snaps[0]


def test_detected_from_content():
    assert isinstance(registry.detect(FIX / "server-17.spdx.json"), SpdxImporter)
    assert isinstance(registry.detect(FIX / "laptop-3.spdx"), SpdxImporter)


def test_json_packages_with_supplier_originator_purl_and_cpe():
    s = _one(FIX / "server-17.spdx.json", institution="Agency")
    assert s.host.host_id == "server-17" and s.host.institution == "Agency"
    assert s.host.collected_at == "2024-03-04T09:00:00Z"
    sw = {r["name"]: r for r in s.software}
    xz = sw["xz-utils"]
    assert xz["version"] == "5.6.1-1"
    assert xz["publisher"] == "Sebastian Andrzej Siewior"
    assert xz["purl"] == "pkg:deb/debian/xz-utils@5.6.1-1?arch=amd64"
    assert xz["cpe"] == "cpe:2.3:a:tukaani:xz:5.6.1:*:*:*:*:*:*:*"
    assert xz["package_type"] == "deb"
    assert xz["location"].endswith("server-17.spdx.json:$.packages[0]")
    assert sw["kaspersky-endpoint"]["publisher"] == "AO Kaspersky Lab"  # supplier first
    assert sw["libssl3"]["publisher"] == "OpenSSL Software Foundation"  # NOASSERTION supplier


def test_json_bad_package_is_skipped_with_reason():
    s = _one(FIX / "server-17.spdx.json")
    assert "broken" not in {r["name"] for r in s.software}
    (k,) = s.skipped
    assert k.location.endswith("$.packages[2]") and "Robot" in k.reason


def test_tag_value_document():
    s = _one(FIX / "laptop-3.spdx")
    assert s.host.host_id == "laptop-3"
    sw = {r["name"]: r for r in s.software}
    assert sw["hikvision-ivms"]["publisher"] == "Hangzhou Hikvision Digital Technology Co., Ltd."
    assert sw["hikvision-ivms"]["location"].endswith("laptop-3.spdx:9")
    assert sw["requests"]["purl"] == "pkg:pypi/requests@2.31.0"
    assert sw["requests"]["publisher"] == "Kenneth Reitz"
    assert sw["requests"]["location"].endswith("laptop-3.spdx:19")


def test_tag_value_bad_package_keeps_the_others(tmp_path):
    text = (FIX / "laptop-3.spdx").read_text().replace(
        "PackageOriginator: Person: Kenneth", "PackageOriginator: Robot: Kenneth")
    p = tmp_path / "bad.spdx"
    p.write_text(text)
    s = _one(p)
    assert [r["name"] for r in s.software] == ["hikvision-ivms"]
    (k,) = s.skipped
    assert k.location.endswith("bad.spdx:19") and "PackageOriginator" in k.reason


def test_version_2_2_json_is_read(tmp_path):
    doc = json.loads((FIX / "server-17.spdx.json").read_text())
    doc["spdxVersion"] = "SPDX-2.2"
    p = tmp_path / "v22.json"
    p.write_text(json.dumps(doc))
    assert len(_one(p).software) == 3


@pytest.mark.parametrize("content, match, place", [
    ('{"spdxVersion": "SPDX-3.0", "packages": []}', "unsupported SPDX version", "$.spdxVersion"),
    ('{"spdxVersion": "SPDX-2.3", "packages": {}}', "must be a list", "$.packages"),
    ('{"spdxVersion": "SPDX-2.3", "packages": [', "not valid JSON", "line 1"),
    ("SPDXVersion: SPDX-1.2\nDocumentName: x\n", "unsupported SPDX version", "SPDXVersion"),
])
def test_broken_documents_give_one_clear_error(tmp_path, content, match, place):
    p = tmp_path / "bad.spdx"
    p.write_text(content)
    with pytest.raises(SourceError, match=match) as e:
        SpdxImporter().read(p)
    assert e.value.file == str(p) and e.value.place.startswith(place)


def test_non_utf8_and_binary_tag_value(tmp_path):
    p = tmp_path / "latin.spdx"
    p.write_bytes(b"SPDXVersion: SPDX-2.3\nDocumentName: caf\xe9\n")
    with pytest.raises(SourceError, match="not UTF-8"):
        SpdxImporter().read(p)
    b = tmp_path / "bin.spdx"
    b.write_bytes(b"SPDXVersion: SPDX-2.3\n\x00\x01\x02")
    with pytest.raises(SourceError, match="binary"):
        SpdxImporter().read(b)


def test_packages_of_wrong_type_are_skipped(tmp_path):
    doc = {"spdxVersion": "SPDX-2.3", "name": "h", "packages": [
        "not an object",
        {"SPDXID": "SPDXRef-a", "name": "ok", "downloadLocation": "NOASSERTION"},
        {"SPDXID": "SPDXRef-b", "name": {"x": 1}, "downloadLocation": "NOASSERTION"},
    ]}
    p = tmp_path / "t.json"
    p.write_text(json.dumps(doc))
    s = _one(p)
    assert [r["name"] for r in s.software] == ["ok"]
    assert len(s.skipped) == 2


def test_operating_system_package_names_the_hosts_os(tmp_path):
    doc = {"spdxVersion": "SPDX-2.3", "name": "vm-4", "packages": [
        {"SPDXID": "SPDXRef-os", "name": "debian", "versionInfo": "12.5",
         "downloadLocation": "NOASSERTION", "primaryPackagePurpose": "OPERATING-SYSTEM"},
        {"SPDXID": "SPDXRef-a", "name": "openssh-server", "versionInfo": "1:9.2p1-2",
         "downloadLocation": "NOASSERTION", "primaryPackagePurpose": "APPLICATION"}]}
    p = tmp_path / "vm.json"
    p.write_text(json.dumps(doc))
    s = _one(p)
    assert (s.host.os_name, s.host.os_version, s.host.platform) == ("debian", "12.5", "linux")
    assert [r.get("package_type") for r in s.software] == ["os", None]
