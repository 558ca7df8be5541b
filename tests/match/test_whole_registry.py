"""Done-when of issue 12: every IEEE MA-L/MA-M/MA-S/IAB block of a Covered List vendor's family
is attributed to the right subject under us-federal, with the relation in the evidence, and
nothing outside the family is. Runs over the whole bundled registry (2024-07-22): one device per
block, one snapshot, one review.

The expectations are written here by hand, per registrant spelling, from the registry text —
not derived from the organisation graph the code uses.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from kitvet.identify import graph as og
from kitvet.identify import hardware
from kitvet.lists import bundled
from kitvet.match import review_snapshots
from kitvet.model import Host, Snapshot
from kitvet.policy import load_profile

#: registrant as the registry writes it -> (subject, relation word the evidence must show or
#: None for the listed company itself)
FAMILY = {
    "HUAWEI TECHNOLOGIES CO.,LTD": ("huawei", None),
    "Huawei Technologies Co., Ltd.": ("huawei", None),
    "Huawei Device Co., Ltd.": ("huawei", "a subsidiary of Huawei Technologies"),
    "Hisilicon Technologies Co., Ltd": ("huawei", "a subsidiary of Huawei Technologies"),
    "Huawei Symantec Technologies Co.,Ltd.": ("huawei", "a subsidiary of Huawei Technologies"),
    "zte corporation": ("zte", None),
    "Hytera Communications Corporation Limited": ("hytera", None),
    "Hytera Communications Co .,ltd": ("hytera", None),
    "Sepura Limited": ("hytera", "a subsidiary of Hytera"),
    "Norsat International Inc.": ("hytera", "a subsidiary of Hytera"),
    "Hangzhou Hikvision Digital Technology Co.,Ltd.": ("hikvision", None),
    "Hangzhou Ezviz Software Co.,Ltd.": ("hikvision", "a subsidiary of Hangzhou Hikvision"),
    "Hangzhou Hikrobot Technology Co., Ltd.": ("hikvision", "a subsidiary of Hangzhou Hikvision"),
    "Prama Hikvision India Private Limited": ("hikvision", "a joint venture of Hangzhou Hikvision"),
    "Zhejiang Dahua Technology Co., Ltd.": ("dahua", None),
    "ZHEJIANG DAHUA TECHNOLOGYCO.,LTD": ("dahua", None),
    "Kaspersky Lab Middle-East FZ-LLC": ("kaspersky-lab", "a subsidiary of Kaspersky Lab"),
}
#: look-alikes outside the family (as of the review day), which must give no finding
OUTSIDE = ("Honor Device Co., Ltd.",  # sold by Huawei in November 2020
           "Symantec Corporation",  # former owner of part of Huawei Symantec
           "Shanghai Dahua Scale Factory", "ZTEC Instruments, Inc.", "Prama India Private Limited",
           "Zhejiang Uniview Technologies Co., Ltd.", "SHENZHEN HONOR ELECTRONIC CO.,LTD",
           "SHANGHAI ZTE TECHNOLOGIES CO.,LTD")
VENDORS = {"huawei", "zte", "hytera", "hikvision", "dahua", "kaspersky-lab"}
DIGITS = {"MA-L": 6, "MA-M": 7, "MA-S": 9, "IAB": 9}


@pytest.fixture(scope="module")
def registry_review():
    og.configure(og.load_graph([]))  # the bundled graph only, whatever the machine has
    db = hardware.HardwareDB(system_dirs=(), ieee_dir=None, use_netaddr=False,
                             data=hardware.PACKAGE_DATA / "no-such-dir")
    hardware.configure(db)
    try:
        snap = Snapshot(host=Host(host_id="registry", hostname="registry", platform="network",
                                  collected_at="2026-12-01T00:00:00Z"))
        blocks = {}
        for registry, digits, registrant in db.registry_entries():
            hexmac = (digits + "0" * 12)[:12].lower()
            mac = ":".join(hexmac[i:i + 2] for i in range(0, 12, 2))
            if mac not in blocks:  # a block's first MAC answers for the longest assignment
                blocks[mac] = (registry, digits, registrant)
                snap.add_device(source="ieee", bus="network", mac=mac)
        result = review_snapshots([snap], bundled(), load_profile("us-federal"))
        yield blocks, result.findings.to_pylist()
    finally:
        hardware.reset()
        og.configure(None)


def test_every_block_of_a_covered_vendors_family_is_attributed(registry_review) -> None:
    blocks, findings = registry_review
    by_mac = {}
    for f in findings:
        if f["subject_id"] in VENDORS:
            assert f["mac"] not in by_mac, "one finding per (host, item, subject)"
            by_mac[f["mac"]] = f
    expected = {mac: FAMILY[who] for mac, (_, _, who) in blocks.items() if who in FAMILY}
    assert len(blocks) > 50_000  # the whole registry: MA-L, MA-M, MA-S and IAB
    missing = sorted(f"{blocks[m][2]} {blocks[m][1]}" for m in expected if m not in by_mac)
    assert missing == []
    for mac, (subject, relation) in expected.items():
        f = by_mac[mac]
        registry = blocks[mac][0]
        assert f["subject_id"] == subject
        assert f["status"] == "ban"  # us-federal bans Covered List vendors
        # the evidence names the registry and its date, and the relation when there is one
        assert f"IEEE {registry} 2024-07-22" in f["explanation"]
        if relation:
            assert relation in f["explanation"] and "source: http" in f["explanation"]
            assert "reached by" in f["explanation"]
        else:
            assert " via " not in f["explanation"]
    extra = sorted(f"{blocks[m][2]} {blocks[m][1]}" for m in by_mac if m not in expected)
    assert extra == []  # nothing outside the family
    counts = Counter(s for s, _ in expected.values())
    per_registry = Counter(blocks[m][0] for m in expected)
    print("\nblocks attributed per subject:", dict(sorted(counts.items())), dict(per_registry),
          "total", sum(counts.values()), "of", len(blocks), "blocks")
    assert sum(counts.values()) == len(by_mac)


def test_look_alikes_outside_the_family_give_no_finding(registry_review) -> None:
    blocks, findings = registry_review
    flagged = {f["mac"] for f in findings if f["subject_id"] in VENDORS}
    present = {who for _, _, who in blocks.values()}
    for name in OUTSIDE:
        assert name in present, f"{name} is no longer in the registry: update the test"
        assert not any(blocks[m][2] == name for m in flagged), name


def test_relation_findings_carry_only_the_assertions_that_reach(registry_review) -> None:
    _, findings = registry_review
    f = next(f for f in findings if "Huawei Device" in f["explanation"])
    matched = json.loads(f["matched"])
    assert min(m["level"] for m in matched) == 1
    from kitvet.report.model import reaching_assertions

    lists = bundled()
    kinds = {a.citation for a in reaching_assertions(lists, f)}
    assert kinds == {"FCC Covered List, DA 21-309", "NDAA FY2019 Sec. 889", "FCC 22-84"}


@pytest.mark.parametrize("publisher, subject, relation", [
    ("HIKVISION", "hikvision", None),
    ("Hikvision", "hikvision", None),
    ("Zhejiang Dahua Technology Co., Ltd.", "dahua", None),
    ("Huawei Device Co., Ltd.", "huawei", "a subsidiary of Huawei Technologies"),
    ("ZTE Corporation", "zte", None),
    ("Kaspersky", "kaspersky-lab", None),
    ("Kaspersky Lab UK Ltd.", "kaspersky-lab", "a subsidiary of Kaspersky Lab"),
])
def test_the_publishers_of_issue_12_are_matched(publisher, subject, relation) -> None:
    og.configure(og.load_graph([]))
    try:
        snap = Snapshot(host=Host(host_id="w1", hostname="w1", platform="windows",
                                  collected_at="2026-12-01T00:00:00Z"))
        snap.add_software(source="test", name="Some App", version="1.0", package_type="windows",
                          publisher=publisher)
        rows = review_snapshots([snap], bundled(), load_profile("us-federal")).findings
        [f] = rows.to_pylist()
    finally:
        og.configure(None)
    assert f["subject_id"] == subject and f["status"] == "ban"
    if relation:
        assert relation in f["explanation"] and "reached by" in f["explanation"]


def _written(hexmac: str) -> list[str]:
    """One MAC as sources write it: colons, Windows dashes, Cisco dots, bare; upper and lower."""
    pairs = [hexmac[i:i + 2] for i in range(0, 12, 2)]
    return [":".join(pairs), "-".join(pairs).upper(),
            ".".join(hexmac[i:i + 4] for i in range(0, 12, 4)), hexmac.upper()]


def test_a_mac_inside_a_listed_block_is_found_however_it_is_written() -> None:
    """MACs inside (not at the start of) a Covered List vendor's MA-L block, a family member's
    MA-M block and MA-S block, each written four ways, are attributed; the same addresses one
    block along (another registrant's MA-M / MA-S inside the same IEEE Registration Authority
    MA-L, or an MA-L of someone else) are not."""
    og.configure(og.load_graph([]))
    hardware.configure(hardware.HardwareDB(system_dirs=(), ieee_dir=None, use_netaddr=False,
                                           data=hardware.PACKAGE_DATA / "no-such-dir"))
    try:
        listed = {"00e0fc12abcd": ("huawei", "MA-L"),  # HUAWEI TECHNOLOGIES CO.,LTD
                  "2cc44f9a0b1c": ("kaspersky-lab", "MA-M"),  # Kaspersky Lab Middle-East
                  "70b3d50ae7f3": ("hytera", "MA-S")}  # Norsat International (Hytera)
        neighbours = ["00e0fd12abcd", "2cc44f8a0b1c", "70b3d50af7f3"]
        snap = Snapshot(host=Host(host_id="forms", hostname="forms", platform="network",
                                  collected_at="2026-12-01T00:00:00Z"))
        for hexmac in [*listed, *neighbours]:
            for mac in _written(hexmac):
                snap.add_device(source="test", bus="network", mac=mac)
        rows = review_snapshots([snap], bundled(), load_profile("us-federal")).findings
        found = {}
        for f in rows.to_pylist():
            assert f["mac"] not in found
            found[f["mac"]] = f
    finally:
        hardware.reset()
        og.configure(None)
    expected = {mac: listed[hexmac] for hexmac in listed for mac in _written(hexmac)}
    assert sorted(found) == sorted(expected)
    for mac, (subject, registry) in expected.items():
        assert found[mac]["subject_id"] == subject
        assert f"IEEE {registry} 2024-07-22" in found[mac]["explanation"]
