"""Every source names its devices the same way, through kitvet.identify.hardware.

A USB id, a PCI id or a MAC address that the source gave without names gets the registry's
vendor/product names and the IEEE organisation; names the source reported are kept.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from kitvet.identify import hardware
from kitvet.sources import registry

IDS = Path(__file__).parents[1] / "identify" / "fixtures"
HUAWEI = "Huawei Technologies Co., Ltd."
HIKVISION = "Hangzhou Hikvision Digital Technology Co.,Ltd."


@pytest.fixture(autouse=True)
def fixture_db(tmp_path: Path) -> Iterator[None]:
    """The registries of tests/identify/fixtures, so the answers do not depend on the system."""
    misc, ieee = tmp_path / "misc", tmp_path / "ieee"
    misc.mkdir()
    ieee.mkdir()
    for name in ("usb.ids", "pci.ids"):
        shutil.copy(IDS / name, misc / name)
    for name in ("oui.csv", "mam.csv", "oui36.csv"):
        shutil.copy(IDS / name, ieee / name)
    hardware.configure(hardware.HardwareDB(system_dirs=(str(misc),), ieee_dir=str(ieee),
                                           data=tmp_path / "none", use_netaddr=False))
    yield
    hardware.reset()


def _devices(path: Path, fmt: str | None = None) -> list[dict]:
    snaps = registry.read_paths([path], fmt=fmt)
    return [d for s in snaps for d in s.devices]


def _by_bus(devices: list[dict]) -> dict[str, dict]:
    return {d["bus"]: d for d in devices}


def _check(devs: dict[str, dict]) -> None:
    usb, net = devs["usb"], devs["network"]
    assert (usb["vendor_name"], usb["product_name"]) == (HUAWEI, "Modem/Networkcard")
    assert net["oui_org"] == HIKVISION and net["vendor_name"] == HIKVISION
    if "pci" in devs:
        assert devs["pci"]["vendor_name"] == HUAWEI
        assert devs["pci"]["product_name"] == "Hi1822 Family (4*25GE)"


def test_osquery_devices_without_names_are_named(tmp_path: Path) -> None:
    log = tmp_path / "osqueryd.results.log"
    events = [
        {"name": "usb_devices", "hostIdentifier": "pc-1", "action": "snapshot",
         "snapshot": [{"vendor": "", "vendor_id": "12d1", "model": "", "model_id": "1506",
                       "usb_address": "1", "usb_port": "2", "removable": "1"}]},
        {"name": "pci_devices", "hostIdentifier": "pc-1", "action": "snapshot",
         "snapshot": [{"pci_slot": "0000:01:00.0", "pci_class": "Ethernet controller",
                       "vendor_id": "0x19e5", "model_id": "0x1822", "vendor": "",
                       "model": ""}]},
        {"name": "arp_cache", "hostIdentifier": "pc-1", "action": "snapshot",
         "snapshot": [{"address": "10.0.0.5", "mac": "BC:5E:33:00:11:22", "interface": "eth0",
                       "permanent": "0"}]},
    ]
    log.write_text("\n".join(json.dumps(e) for e in events) + "\n")
    _check(_by_bus(_devices(log)))


def test_csv_devices_without_names_are_named(tmp_path: Path) -> None:
    csv = tmp_path / "assets.csv"
    csv.write_text("Asset,Bus,VID,PID,MAC\npc-1,usb,12D1,1506,\npc-1,network,,,bc-5e-33-00-11-22\n")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("kind: device\ncolumns:\n  host: Asset\n  bus: Bus\n  vendor_id: VID\n"
                       "  product_id: PID\n  mac: MAC\n")
    from kitvet.sources.csv_mapping import CsvImporter, load_mapping

    snaps = CsvImporter(load_mapping(mapping)).read(csv)
    _check(_by_bus([d for s in snaps for d in s.devices]))


def test_kitvet_documents_from_other_agents_are_named(tmp_path: Path) -> None:
    doc = tmp_path / "agent.json"
    doc.write_text(json.dumps({"kitvet_inventory": "1.0.0", "snapshots": [{
        "host": {"host_id": "pc-1"},
        "devices": [{"bus": "usb", "vendor_id": "12d1", "product_id": "1506"},
                    {"bus": "network", "mac": "bc:5e:33:00:11:22"}]}]}))
    _check(_by_bus(_devices(doc)))


def test_nmap_keeps_its_vendor_and_adds_the_registry_organisation(tmp_path: Path) -> None:
    scan = tmp_path / "scan.xml"
    scan.write_text(
        '<?xml version="1.0"?><nmaprun scanner="nmap" start="1700000000">'
        '<host><status state="up"/><address addr="192.0.2.5" addrtype="ipv4"/>'
        '<address addr="BC:5E:33:00:11:22" addrtype="mac" vendor="Hikvision"/></host>'
        '<host><status state="up"/><address addr="192.0.2.6" addrtype="ipv4"/>'
        '<address addr="02:00:00:00:00:01" addrtype="mac" vendor="Made Up"/></host>'
        "</nmaprun>")
    cam, local = _devices(scan)
    assert cam["vendor_name"] == "Hikvision" and cam["oui_org"] == HIKVISION
    # no registry owner (locally administered): nmap's own prefix table is the evidence
    assert local["vendor_name"] == "Made Up" and local["oui_org"] == "Made Up"


def test_reported_names_are_kept_and_unknown_ids_get_none() -> None:
    rows = [{"bus": "usb", "vendor_id": "12d1", "product_id": "1506", "vendor_name": "HUAWEI",
             "product_name": "E3372"},
            {"bus": "usb", "vendor_id": "ffff", "product_id": "0001"},
            {"bus": "network", "mac": "02:00:00:00:00:01"},
            {"bus": "network", "mac": "bc:5e:33:00:11:22", "oui_org": "Reported Org"}]
    hardware.name_devices(rows)
    assert (rows[0]["vendor_name"], rows[0]["product_name"]) == ("HUAWEI", "E3372")
    assert "vendor_name" not in rows[1] and "product_name" not in rows[1]  # nothing invented
    assert rows[1]["description"] == "USB device ffff:0001"  # but never a nameless device
    assert "oui_org" not in rows[2] and "vendor_name" not in rows[2]
    assert rows[3]["oui_org"] == "Reported Org"


def test_a_broken_database_never_loses_a_row(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*a: object) -> None:
        raise OSError("disk error")

    monkeypatch.setattr(hardware, "oui_org", boom)
    rows = [{"bus": "network", "mac": "bc:5e:33:00:11:22"}]
    hardware.name_devices(rows)
    assert rows == [{"bus": "network", "mac": "bc:5e:33:00:11:22"}]


def test_oui_answers_are_cached_per_36_bit_block_and_reset_forgets_them() -> None:
    assert hardware.oui_org("bc:5e:33:00:11:22")[0] == HIKVISION
    assert hardware.oui_org("BC-5E-33-00-11-99")[0] == HIKVISION  # same block, one look-up
    assert hardware._oui_block.cache_info().hits >= 1
    hardware.reset()
    assert hardware._oui_block.cache_info().currsize == 0
