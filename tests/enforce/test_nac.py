"""NAC block lists (text, CSV) and the nftables set file (checked with ``nft -c -f``)."""

from __future__ import annotations

import csv
import dataclasses
import io
import shutil
import subprocess

import pytest

from kitvet.enforce.nac import CSV_COLUMNS, NacExporter, _collapse
from kitvet.enforce.ouis import MacPrefix, parse_mac_prefix, prefixes_for_org

from .conftest import check_golden

NFT = shutil.which("nft")


def only(bans, *ids):
    return dataclasses.replace(bans, subjects=tuple(b for b in bans.subjects if b.id in ids))


def body(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln and not ln.startswith("#")]


def test_text_list_from_mac_prefix(bans):
    out = NacExporter().export(only(bans, "huawei"), fmt="text")
    assert body(out.text) == ["00:e0:fc:00:00:00/24"]


def test_oui_org_resolves_to_every_registry_prefix(bans):
    prefixes = prefixes_for_org("Hangzhou Hikvision Digital Technology Co.,Ltd.")
    assert MacPrefix("0c75d2") in {MacPrefix(p.hexdigits) for p in prefixes}
    assert all(p.org for p in prefixes)
    out = NacExporter().export(only(bans, "hikvision"), fmt="text")
    lines = body(out.text)
    assert "0c:75:d2:00:00:00/24" in lines and len(lines) == len(prefixes)
    # another spelling of the same organisation resolves to the same prefixes
    assert prefixes_for_org("HANGZHOU HIKVISION DIGITAL TECHNOLOGY CO., LTD") == prefixes


def test_registry_csv_in_the_data_dir_is_used(tmp_path, monkeypatch):
    from kitvet.enforce import ouis
    from kitvet.identify import hardware

    (tmp_path / "mam.csv").write_text(
        "Registry,Assignment,Organization Name,Organization Address\n"
        'MA-M,70B3D51,"Example Cameras Co.,Ltd.",Somewhere\n', encoding="utf-8")
    monkeypatch.setenv("KITVET_DATA_DIR", str(tmp_path))
    hardware.reset()  # the registries the matcher reads are the ones the export reads
    ouis.registry_index.cache_clear()
    try:
        got = prefixes_for_org("EXAMPLE CAMERAS CO LTD")
        assert [(p.hexdigits, p.bits) for p in got] == [("70b3d51", 28)]
        # the registry label names the copy and its date (the newest copy of a registry wins)
        assert got[0].registry.startswith("IEEE MA-M 20")
        assert got[0].registry.endswith(f"({tmp_path / 'mam.csv'})")
    finally:
        hardware.reset()
        ouis.registry_index.cache_clear()


def test_unknown_organisation_is_a_gap(bans, lists):
    from kitvet.enforce.select import select_bans
    from kitvet.model.risk import Identifier, ListSet, RiskList, Subject

    s = Subject(id="nobody", name="Nobody Ltd",
                identifiers=(Identifier("oui_org_name", "No Such Organisation Ltd"),))
    b = select_bans(ListSet((RiskList("x", "x", "1", "2026-01-01", (s,)),)),
                    subject_ids=["nobody"])
    out = NacExporter().export(b, fmt="nftables")
    assert out.rules == 0 and "no IEEE registry prefix normalises to it" in out.text
    assert "elements" not in out.text


def test_csv_columns_and_formula_safety(bans, hostile_bans):
    out = NacExporter().export(only(bans, "huawei", "hikvision"), fmt="csv")
    rows = list(csv.reader(io.StringIO("\n".join(body(out.text)))))
    assert tuple(rows[0]) == CSV_COLUMNS
    huawei = [r for r in rows[1:] if r[4] == "huawei"]
    assert huawei == [["00:e0:fc:00:00:00/24", "24", "00:e0:fc:00:00:00", "00:e0:fc:ff:ff:ff",
                       "huawei", "Huawei Technologies Company", "mac_prefix", "00:E0:FC", "",
                       "test source for 00:E0:FC"]]
    hik = [r for r in rows[1:] if r[4] == "hikvision"]
    assert hik and all(r[8] == "Hangzhou Hikvision Digital Technology Co.,Ltd." for r in hik)
    assert all(r[9].startswith("IEEE MA-L 20") for r in hik)  # the registry and its date
    bad = NacExporter().export(hostile_bans, fmt="csv").text
    bad_rows = list(csv.reader(io.StringIO("\n".join(body(bad)))))
    for r in bad_rows:
        assert not any(c.startswith(("=", "+", "-", "@")) for c in r), r
    assert ["'-00:11:22", "'=cmd|' /C calc'!A0"] in [[r[7], r[9]] for r in bad_rows]


def test_ma_m_and_ma_s_prefix_bounds():
    p = parse_mac_prefix("0c:75:d2:5")
    assert (p.bits, p.first(), p.last()) == (28, "0c:75:d2:50:00:00", "0c:75:d2:5f:ff:ff")
    p = parse_mac_prefix("70-B3-D5-F7-1")
    assert (p.bits, p.first(), p.last()) == (36, "70:b3:d5:f7:10:00", "70:b3:d5:f7:1f:ff")
    assert parse_mac_prefix("0c:75") is None and parse_mac_prefix("zz:zz:zz") is None


def test_collapse_drops_covered_prefixes():
    got = _collapse([MacPrefix("0c75d25"), MacPrefix("0c75d2"), MacPrefix("00e0fc")])
    assert [p.hexdigits for p in got] == ["00e0fc", "0c75d2"]


def test_nftables_structure(bans):
    out = NacExporter().export(only(bans, "huawei"), fmt="nftables")
    body_lines = body(out.text)
    # declare, delete, re-create: one transaction that loads the first time and replaces later
    assert body_lines[:3] == ["table inet kitvet", "delete table inet kitvet",
                              "table inet kitvet {"]
    assert "type ether_addr" in out.text and "flags interval" in out.text
    assert "00:e0:fc:00:00:00-00:e0:fc:ff:ff:ff" in out.text
    assert "type filter hook prerouting priority raw; policy accept;" in out.text
    assert "# Note: Hook: inet prerouting" in out.text and "silently match nothing" in out.text
    assert out.extra["nft_elements"] == "00:e0:fc:00:00:00-00:e0:fc:ff:ff:ff\n"


@pytest.mark.skipif(NFT is None, reason="nft (nftables) not installed")
def test_nft_accepts_the_file(bans, hostile_bans, tmp_path):
    for b in (only(bans, "huawei", "hikvision"), hostile_bans, only(bans, "kaspersky-lab")):
        f = tmp_path / "kitvet.nft"
        f.write_text(NacExporter().export(b, fmt="nftables").text, encoding="utf-8")
        r = subprocess.run(check=False, args=[NFT, "-c", "-f", str(f)], capture_output=True, text=True,
                           timeout=60)
        if r.returncode != 0 and "Operation not permitted" in r.stderr:
            pytest.skip("nft -c needs CAP_NET_ADMIN here")
        assert r.returncode == 0, r.stderr
    bad = tmp_path / "bad.nft"
    bad.write_text("table inet kitvet { set s { type ether_addr; elements = { 00:e0:fc } } }\n")
    assert subprocess.run(check=False, args=[NFT, "-c", "-f", str(bad)], capture_output=True,
                          timeout=60).returncode != 0


def test_golden(bans):
    b = only(bans, "huawei", "kaspersky-lab")
    check_golden("nac.txt", NacExporter().export(b, fmt="text").text)
    check_golden("nac.csv", NacExporter().export(b, fmt="csv").text)
    check_golden("nac.nft", NacExporter().export(b, fmt="nftables").text)
