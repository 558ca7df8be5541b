"""The nftables export in the real kernel: loaded with ``nft -f`` in a network namespace the
test creates, *reloaded* with a newer export (a prefix taken off the ban must be unblocked), and
frames from a banned MAC dropped by the hook of each family (inet, bridge, netdev)."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from kitvet.enforce.nac import ELEMENT_RE, NacExporter
from kitvet.errors import EnforceError

from .netns import NFT, netns, run

BANNED_MAC = "00:e0:fc:12:34:56"  # in Huawei's 00:E0:FC
CLEAN_MAC = "02:00:00:00:10:01"  # locally administered, in no registry


def only(bans, *ids):
    return dataclasses.replace(bans, subjects=tuple(b for b in bans.subjects if b.id in ids))


def export(bans, family="inet", devices=()):
    return NacExporter().export(bans, fmt="nftables",
                                options={"nft_family": family, "nft_devices": devices})


def load(ns: str, text: str, tmp_path) -> None:
    f = tmp_path / "kitvet.nft"
    f.write_text(text, encoding="utf-8")
    run(NFT, "-f", str(f), ns=ns)


def state(ns: str, family: str) -> str:
    """The documented state command, as an administrator runs it on a host."""
    return run("sh", "-c", f"nft list set {family} kitvet banned_ouis | grep -oE "
                           f"'{ELEMENT_RE}' | LC_ALL=C sort", ns=ns).stdout


@pytest.mark.parametrize("family", ["inet", "bridge", "netdev"])
def test_load_then_reload_replaces_the_set(bans, tmp_path, family):
    first = export(only(bans, "huawei", "hikvision"), family, ("lo",) if family == "netdev"
                   else ())
    second = export(only(bans, "huawei"), family, ("lo",) if family == "netdev" else ())
    with netns() as (ns,):
        load(ns, first.text, tmp_path)
        assert state(ns, family) == first.extra["nft_elements"]
        assert first.extra["nft_elements"].count("\n") == first.rules > 1
        load(ns, first.text, tmp_path)  # the same file twice: no error, no duplicate
        assert state(ns, family) == first.extra["nft_elements"]
        load(ns, second.text, tmp_path)  # Hikvision taken off the ban
        assert state(ns, family) == second.extra["nft_elements"] == \
            "00:e0:fc:00:00:00-00:e0:fc:ff:ff:ff\n"
        # the state file a host writes has the digest the ledger records for the set
        statefile = tmp_path / "state"
        run("sh", "-c", f"nft list set {family} kitvet banned_ouis | grep -oE '{ELEMENT_RE}' "
                        f"| LC_ALL=C sort > {statefile}", ns=ns)
        (recorded,) = [a["sha256"] for a in second.extra["artefacts"]
                       if a["name"] == "nftables-set"]
        assert run("sha256sum", str(statefile)).stdout.split()[0] == recorded
        tables = run(NFT, "list", "tables", ns=ns).stdout.split("\n")
        assert tables.count(f"table {family} kitvet") == 1
        chain = run(NFT, "list", "chain", family, "kitvet", "ban", ns=ns).stdout
        assert "ether saddr @banned_ouis counter" in chain and " drop" in chain


def test_an_empty_ban_loads_and_empties_the_set(bans, tmp_path):
    with netns() as (ns,):
        load(ns, export(only(bans, "huawei")).text, tmp_path)
        empty = export(only(bans, "kaspersky-lab"))
        assert empty.rules == 0
        load(ns, empty.text, tmp_path)
        assert state(ns, "inet") == empty.extra["nft_elements"] == ""


def _counter(ns: str, family: str) -> int:
    doc = json.loads(run(NFT, "-j", "list", "chain", family, "kitvet", "ban", ns=ns).stdout)
    for item in doc["nftables"]:
        for expr in item.get("rule", {}).get("expr", []):
            if "counter" in expr:
                return int(expr["counter"]["packets"])
    raise AssertionError("no counter in chain ban")


def _rx_packets(ns: str, dev: str) -> int:
    doc = json.loads(run("ip", "-j", "-s", "link", "show", dev, ns=ns).stdout)
    return int(doc[0]["stats64"]["rx"]["packets"])


def _wait(pred, what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


SEND = ("import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
        "s.sendto(b'kitvet', ('10.9.0.1', 9))")


@pytest.mark.parametrize("family", ["inet", "bridge", "netdev"])
def test_frames_from_a_banned_mac_are_dropped_by_the_familys_hook(bans, tmp_path, family):
    with netns(2) as (host, dev):
        run("ip", "link", "add", "v0", "netns", host, "type", "veth", "peer", "name", "v1",
            "netns", dev)
        if family == "bridge":  # the host bridges v0; its address is on the bridge
            run("ip", "link", "add", "br0", "type", "bridge", ns=host)
            run("ip", "link", "set", "v0", "master", "br0", ns=host)
            run("ip", "link", "set", "br0", "up", ns=host)
        local = "br0" if family == "bridge" else "v0"
        run("ip", "addr", "add", "10.9.0.1/24", "dev", local, ns=host)
        run("ip", "link", "set", "v0", "up", ns=host)
        run("ip", "addr", "add", "10.9.0.2/24", "dev", "v1", ns=dev)
        run("ip", "link", "set", "v1", "up", ns=dev)
        host_mac = json.loads(run("ip", "-j", "link", "show", local, ns=host).stdout)[0]
        run("ip", "neigh", "replace", "10.9.0.1", "lladdr", host_mac["address"], "nud",
            "permanent", "dev", "v1", ns=dev)
        load(host, export(only(bans, "huawei"), family,
                          ("v0",) if family == "netdev" else ()).text, tmp_path)
        python = "python3"
        # a clean MAC: the frame arrives and the ban's counter stays at 0
        run("ip", "link", "set", "v1", "address", CLEAN_MAC, ns=dev)
        before = _rx_packets(host, "v0")
        run(python, "-c", SEND, ns=dev)
        _wait(lambda: _rx_packets(host, "v0") > before, "the clean frame to arrive")
        assert _counter(host, family) == 0
        # a Huawei MAC: dropped by the chain
        run("ip", "link", "set", "v1", "address", BANNED_MAC, ns=dev)
        run(python, "-c", SEND, ns=dev)
        _wait(lambda: _counter(host, family) >= 1, f"the {family} chain to drop the frame")


def test_the_validator_refuses_what_kitvet_must_not_write(tmp_path):
    bad = "table inet kitvet { set s { type ether_addr; elements = { 00:e0:fc } } }\n"
    with netns() as (ns,):
        f = tmp_path / "bad.nft"
        f.write_text(bad)
        assert run(NFT, "-f", str(f), ns=ns, check=False).returncode != 0


def test_family_and_device_options_are_checked(bans):
    b = only(bans, "huawei")
    for opts, msg in (({"nft_family": "ip"}, "family must be one of"),
                      ({"nft_family": "netdev"}, "needs --nft-device"),
                      ({"nft_family": "inet", "nft_devices": ("eth0",)}, "netdev family only"),
                      ({"nft_family": "netdev", "nft_devices": ('eth0"; flush ruleset',)},
                       "not a network interface name")):
        with pytest.raises(EnforceError, match=msg):
            NacExporter().export(b, fmt="nftables", options=opts)
