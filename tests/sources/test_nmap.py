"""nmap XML importer: hosts, MAC vendors, OS guesses, service products, hostile scans."""

from __future__ import annotations

from pathlib import Path

import pytest

from kitvet.errors import SourceError
from kitvet.identify.cpe import cpe22_to_23
from kitvet.sources.nmap import NmapImporter, read_nmap

FIXTURES = Path(__file__).parent / "fixtures" / "nmap"
SCAN = FIXTURES / "scan.xml"


def test_each_host_up_is_a_network_snapshot_and_down_hosts_are_left_out():
    snaps = read_nmap(SCAN)
    assert [s.host.host_id for s in snaps] == ["mac:bc:5e:33:00:11:22", "mac:48:ad:08:aa:bb:cc"]
    assert {s.host.platform for s in snaps} == {"network"}
    assert snaps[0].host.hostname == "cam-lobby.example.org"
    assert snaps[0].host.collected_at == "2024-03-04T10:00:01+00:00"


def test_device_row_carries_mac_ip_and_vendor():
    cam = read_nmap(SCAN)[0]
    (dev,) = cam.devices
    assert dev["bus"] == "network"
    assert dev["mac"] == "bc:5e:33:00:11:22"
    assert dev["ip"] == "192.0.2.5"
    assert dev["vendor_name"] == "Hangzhou Hikvision Digital Technology"
    assert "hikvision" in dev["oui_org"].lower()
    assert dev["location"] == f"{SCAN}:/nmaprun/host[1]/address"  # the path as given


def test_most_accurate_os_match_names_the_host_and_its_cpe_is_kept():
    cam = read_nmap(SCAN)[0]
    assert cam.host.os_name == "Hikvision DS-2CD camera"
    (os_row,) = [r for r in cam.software if r["source"] == "nmap:os"]
    assert os_row["cpe"] == "cpe:2.3:h:hikvision:ds-2cd2032-i:*:*:*:*:*:*:*:*"
    assert os_row["location"] == f"{SCAN}:/nmaprun/host[1]/os/osmatch[2]"


def test_open_services_with_a_product_become_software_with_their_port_location():
    router = read_nmap(SCAN)[1]
    (ssh,) = router.software
    assert (ssh["name"], ssh["version"]) == ("OpenSSH", "8.4p1")
    assert ssh["cpe"] == "cpe:2.3:a:openbsd:openssh:8.4p1:*:*:*:*:*:*:*"
    assert ssh["location"] == f"{SCAN}:/nmaprun/host[3]/ports/port[1]"
    cam = read_nmap(SCAN)[0]
    names = [r["name"] for r in cam.software if r["source"] == "nmap"]
    assert "nginx" not in names  # closed port
    assert names == ["Hikvision IP camera httpd", "Hikvision 7513 POE IP camera rtspd"]


def test_detects_nmap_xml_by_content(tmp_path):
    imp = NmapImporter()
    assert imp.detect(SCAN, SCAN.read_bytes()[:65536])
    other = tmp_path / "x.xml"
    other.write_text("<bom/>")
    assert not imp.detect(other, other.read_bytes())


def test_cpe_22_uri_converts_to_23_formatted_string():
    assert cpe22_to_23("cpe:/o:linux:linux_kernel:2.6") == (
        "cpe:2.3:o:linux:linux_kernel:2.6:*:*:*:*:*:*:*")
    assert cpe22_to_23("cpe:/a:vendor:prod%21:1.0") == "cpe:2.3:a:vendor:prod\\!:1.0:*:*:*:*:*:*:*"
    assert cpe22_to_23("cpe:/a:v:p:1:u:~~pro~win~x64~") == "cpe:2.3:a:v:p:1:u:*:*:pro:win:x64:*"
    assert cpe22_to_23("not a cpe") is None


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE nmaprun [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<nmaprun><host><status state="up"/><address addr="&c;" addrtype="ipv4"/></host></nmaprun>
"""


def test_entity_expansion_is_refused_with_the_file_named(tmp_path):
    f = tmp_path / "laughs.xml"
    f.write_text(BILLION_LAUGHS)
    with pytest.raises(SourceError) as e:
        read_nmap(f)
    assert e.value.file == str(f)
    assert "refused" in str(e.value)


def test_external_entity_is_refused(tmp_path):
    f = tmp_path / "xxe.xml"
    f.write_text('<?xml version="1.0"?><!DOCTYPE nmaprun [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                 '<nmaprun><host><status state="up"/><address addr="&x;" addrtype="ipv4"/></host>'
                 "</nmaprun>")
    with pytest.raises(SourceError):
        read_nmap(f)


def test_interrupted_scan_keeps_the_hosts_before_the_cut(tmp_path):
    text = SCAN.read_text()
    cut = text.index("<host starttime=\"1709546402\"") + 120
    f = tmp_path / "partial.xml"
    f.write_text(text[:cut])
    snaps = read_nmap(f)
    assert [s.host.host_id for s in snaps] == ["mac:bc:5e:33:00:11:22"]
    assert "truncated" in snaps[0].skipped[0].reason


@pytest.mark.parametrize("content", [b"", b"\x00\xff\xfe junk \x89PNG", b"<nmaprun><host>"])
def test_empty_or_junk_file_is_one_clear_error(tmp_path, content):
    f = tmp_path / "bad.xml"
    f.write_bytes(content)
    with pytest.raises(SourceError) as e:
        read_nmap(f)
    assert e.value.file == str(f) and e.value.place


def test_wrong_root_element_is_refused(tmp_path):
    f = tmp_path / "bom.xml"
    f.write_text("<bom><components/></bom>")
    with pytest.raises(SourceError, match="not an nmap scan"):
        read_nmap(f)


def test_hostile_values_are_bounded_and_stripped(tmp_path):
    huge = "A" * 100_000
    f = tmp_path / "hostile.xml"
    f.write_text(
        '<nmaprun><host><status state="up"/><address addr="10.0.0.1" addrtype="ipv4"/>'
        '<address addr="not-a-mac" addrtype="mac"/><ports><port protocol="tcp" portid="1">'
        f'<state state="open"/><service name="x" product="&lt;script&gt;{huge}" version="1&#xa;2"/>'
        "</port></ports></host></nmaprun>")
    (snap,) = read_nmap(f)
    (row,) = snap.software
    assert len(row["name"]) <= 4096 and row["name"].startswith("<script>")
    assert row["version"] == "12"
    assert snap.devices[0]["mac"] is None


def test_non_ascii_names_survive(tmp_path):
    f = tmp_path / "latin1.xml"
    f.write_bytes('<?xml version="1.0" encoding="ISO-8859-1"?><nmaprun><host><status state="up"/>'
                  '<address addr="10.0.0.2" addrtype="ipv4"/><hostnames><hostname name="caf\xe9"/>'
                  "</hostnames></host></nmaprun>".encode("latin-1"))
    (snap,) = read_nmap(f)
    assert snap.host.hostname == "café"


def test_review_of_the_scan_flags_devices_whose_mac_belongs_to_a_listed_vendor():
    import json

    from click.testing import CliRunner

    from kitvet.cli import main

    res = CliRunner().invoke(main, ["review", "--format", "json", "--fail-on", "none", str(SCAN)])
    assert res.exit_code == 0, res.output
    found = {f["host_id"]: f for f in json.loads(res.output)["findings"]
             if f["item_type"] == "device"}
    assert "hikvision" in found["mac:bc:5e:33:00:11:22"]["subject_id"]
    assert "huawei" in found["mac:48:ad:08:aa:bb:cc"]["subject_id"]
    assert found["mac:48:ad:08:aa:bb:cc"]["mac"] == "48:ad:08:aa:bb:cc"


def test_loopback_hosts_of_different_scans_are_different_hosts(tmp_path):
    xml = ('<nmaprun><host><status state="up"/><address addr="127.0.0.1" addrtype="ipv4"/>'
           '</host><host><status state="up"/><address addr="192.0.2.1" addrtype="ipv4"/>'
           "</host></nmaprun>")
    (tmp_path / "a.xml").write_text(xml)
    (tmp_path / "b.xml").write_text(xml)
    ids_a = [s.host.host_id for s in read_nmap(tmp_path / "a.xml")]
    ids_b = [s.host.host_id for s in read_nmap(tmp_path / "b.xml")]
    assert ids_a == ["ip:127.0.0.1@a.xml", "ip:192.0.2.1"]
    assert ids_b == ["ip:127.0.0.1@b.xml", "ip:192.0.2.1"]
