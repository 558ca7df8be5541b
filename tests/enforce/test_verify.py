"""Verification: the latest snapshot of each host decides; earlier ones give first/last seen."""

from __future__ import annotations

from kitvet.enforce.verify import verify

from .inventory import estate


def test_nothing_remains_after_removal_on_a_host(bans):
    result = verify(estate() + estate(later=True), bans)
    hosts = result.hosts_with_remaining()
    assert "lin-1" not in hosts  # xz reverted to 5.6.1+really5.4.5
    assert "win-1" not in hosts  # Kaspersky uninstalled
    assert {"lin-2", "mac-1"} <= hosts
    assert result.removed >= 4 and result.hosts_checked == 4
    assert not result.clean


def test_first_and_last_seen_span_the_snapshots(bans):
    result = verify(estate() + estate(later=True), bans)
    xz = [r for r in result.remaining if r.host_id == "lin-2" and r.item.startswith("xz ")]
    assert len(xz) == 1
    assert (xz[0].first_seen, xz[0].last_seen) == ("2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z")
    assert xz[0].institution == "Agency B" and xz[0].subject_id == "xz-utils-backdoor-2024"
    usb = [r for r in result.remaining if r.item_type == "device"]
    assert usb and usb[0].item == "Huawei (usb 12d1:1506)"


def test_order_of_files_does_not_matter(bans):
    a = verify(estate() + estate(later=True), bans)
    b = verify(estate(later=True) + estate(), bans)
    assert a.remaining == b.remaining


def test_clean_estate(bans):
    import dataclasses

    only_xz = dataclasses.replace(bans, subjects=tuple(
        b for b in bans.subjects if b.id == "xz-utils-backdoor-2024"))
    later = [s for s in estate(later=True) if s.host.host_id == "lin-1"]
    result = verify(estate()[:1] + later, only_xz)
    assert result.clean and result.removed == 2  # xz-utils and liblzma5
    assert result.to_dict()["hosts_with_banned_items"] == 0
