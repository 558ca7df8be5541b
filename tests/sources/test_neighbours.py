"""Network neighbours from /proc/net/arp and ip -j neigh, with their OUI organisation."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from kitvet.identify import hardware
from kitvet.model import Host, Snapshot
from kitvet.sources import neighbours

IDS = Path(__file__).parents[1] / "identify" / "fixtures"

ARP = """IP address       HW type     Flags       HW address            Mask     Device
192.168.1.1      0x1         0x2         48:ad:08:aa:bb:cc     *        eth0
192.168.1.64     0x1         0x2         BC:5E:33:00:11:22     *        eth0
192.168.1.77     0x1         0x0         00:00:00:00:00:00     *        eth0
192.168.1.99     0x1         0x2         02:00:00:00:00:01     *        wlan0
garbage line
192.168.1.64     0x1         0x2         bc:5e:33:00:11:22     *        eth0
"""


@pytest.fixture(autouse=True)
def oui_db(tmp_path: Path) -> Iterator[None]:
    ieee = tmp_path / "ieee"
    ieee.mkdir()
    for name in ("oui.csv", "mam.csv", "oui36.csv"):
        shutil.copy(IDS / name, ieee / name)
    hardware.configure(hardware.HardwareDB(system_dirs=(), ieee_dir=str(ieee),
                                           data=tmp_path / "none", use_netaddr=False))
    yield
    hardware.reset()


def test_arp_table_rows_with_oui_org(tmp_path: Path) -> None:
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "arp").write_text(ARP)
    snap = Snapshot(host=Host(host_id="h"))
    neighbours.collect(snap, tmp_path)
    assert [(d["ip"], d["mac"]) for d in snap.devices] == [
        ("192.168.1.1", "48:ad:08:aa:bb:cc"), ("192.168.1.64", "bc:5e:33:00:11:22"),
        ("192.168.1.99", "02:00:00:00:00:01")]  # incomplete entry and duplicate dropped
    huawei, hik, local = snap.devices
    assert huawei["oui_org"] == "HUAWEI TECHNOLOGIES CO.,LTD" and huawei["bus"] == "network"
    assert hik["oui_org"] == "Hangzhou Hikvision Digital Technology Co.,Ltd."
    assert local.get("oui_org") is None  # locally administered: no registry owner
    assert huawei["location"] == f"{tmp_path / 'net' / 'arp'}:2"
    assert [s.reason for s in snap.skipped] == ["malformed ARP line"]


def test_ip_neigh_json() -> None:
    text = json.dumps([
        {"dst": "10.0.0.1", "dev": "eth0", "lladdr": "74:1a:e0:90:00:01", "state": ["REACHABLE"]},
        {"dst": "10.0.0.2", "dev": "eth0", "state": ["FAILED"]},
        {"dst": "fe80::1", "dev": "eth0", "lladdr": "48:ad:08:00:00:01", "router": None,
         "state": ["STALE"]},
        "junk",
    ])
    rows = neighbours.parse_ip_neigh(text)
    assert [(r["ip"], r["oui_org"]) for r in rows] == [
        ("10.0.0.1", "Private"), ("fe80::1", "HUAWEI TECHNOLOGIES CO.,LTD")]


@pytest.mark.parametrize("raw, mac", [
    ("AA-BB-CC-DD-EE-FF", "aa:bb:cc:dd:ee:ff"),
    ("aabb.ccdd.eeff", "aa:bb:cc:dd:ee:ff"),
    ("00:00:00:00:00:00", None),
    ("aa:bb:cc:dd:ee", None),
    ("aa:bb:cc:dd:ee:ff<script>", None),
])
def test_mac_normalisation(raw: str, mac: str | None) -> None:
    assert neighbours.normalize_mac(raw) == mac


@pytest.mark.skipif(shutil.which("ip") is None, reason="iproute2 not installed")
def test_falls_back_to_ip_neigh_without_proc(tmp_path: Path) -> None:
    import subprocess

    out = subprocess.run(["ip", "-j", "neigh"], capture_output=True, text=True, check=False).stdout
    expected = {neighbours.normalize_mac(e.get("lladdr")) for e in json.loads(out or "[]")
                if e.get("lladdr") and not set(e.get("state") or []) & {"FAILED", "INCOMPLETE"}}
    snap = Snapshot(host=Host(host_id="h"))
    neighbours.collect(snap, tmp_path / "no-proc")
    assert snap.skipped == []
    assert {d["mac"] for d in snap.devices} == expected - {None}
    assert all(d["location"].startswith("ip -j neigh") for d in snap.devices)
