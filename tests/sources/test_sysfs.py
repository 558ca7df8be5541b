"""PCI and USB devices from a fake sysfs tree laid out like the kernel's."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from kitvet.identify import hardware
from kitvet.model import Host, Snapshot
from kitvet.sources import sysfs

IDS = Path(__file__).parents[1] / "identify" / "fixtures"


@pytest.fixture(autouse=True)
def ids_db(tmp_path: Path) -> Iterator[None]:
    misc = tmp_path / "misc"
    misc.mkdir()
    for name in ("usb.ids", "pci.ids"):
        shutil.copy(IDS / name, misc / name)
    hardware.configure(hardware.HardwareDB(system_dirs=(str(misc),), ieee_dir=None,
                                           data=tmp_path / "none", use_netaddr=False))
    yield
    hardware.reset()


def _attrs(d: Path, **values: str) -> None:
    d.mkdir(parents=True, exist_ok=True)
    for k, v in values.items():
        (d / k).write_text(v + "\n")


def make_sysfs(base: Path) -> Path:
    """/sys with two PCI functions and a USB hub, a Huawei modem (with interfaces)."""
    devices = base / "devices" / "pci0000:00"
    _attrs(devices / "0000:00:00.0", vendor="0x8086", device="0x1237", **{"class": "0x060000"})
    _attrs(devices / "0000:00:03.0", vendor="0x1af4", device="0x1041", **{"class": "0x020000"},
           subsystem_vendor="0x1af4")
    usb = devices / "0000:00:04.0" / "usb1"
    _attrs(devices / "0000:00:04.0", vendor="0x8086", device="0x9999", **{"class": "0x0c0330"})
    _attrs(usb, idVendor="1d6b", idProduct="0002", manufacturer="Linux 6.1.0 xhci-hcd",
           product="xHCI Host Controller", serial="0000:00:04.0")
    _attrs(usb / "1-1", idVendor="12d1", idProduct="1506", manufacturer="HUAWEI_MOBILE",
           product="HUAWEI_MOBILE\x1b[31m<script>", serial="0123456789ABCDEF")
    _attrs(usb / "1-1" / "1-1:1.0", bInterfaceClass="ff")
    _attrs(usb / "1-1" / "1-1:1.1", bInterfaceClass="ff")
    pci_bus = base / "bus" / "pci" / "devices"
    usb_bus = base / "bus" / "usb" / "devices"
    pci_bus.mkdir(parents=True)
    usb_bus.mkdir(parents=True)
    for dev in ("0000:00:00.0", "0000:00:03.0", "0000:00:04.0"):
        (pci_bus / dev).symlink_to(Path("../../../devices/pci0000:00") / dev)
    rel = Path("../../../devices/pci0000:00/0000:00:04.0/usb1")
    (usb_bus / "usb1").symlink_to(rel)
    (usb_bus / "1-1").symlink_to(rel / "1-1")
    (usb_bus / "1-1:1.0").symlink_to(rel / "1-1" / "1-1:1.0")
    (usb_bus / "1-1:1.1").symlink_to(rel / "1-1" / "1-1:1.1")
    return base


def test_devices_with_ids_names_and_locations(tmp_path: Path) -> None:
    base = make_sysfs(tmp_path / "sys")
    snap = Snapshot(host=Host(host_id="h"))
    sysfs.collect(snap, base)
    assert snap.skipped == []
    pci = [d for d in snap.devices if d["bus"] == "pci"]
    usb = [d for d in snap.devices if d["bus"] == "usb"]
    assert [(d["vendor_id"], d["product_id"]) for d in pci] == [
        ("8086", "1237"), ("1af4", "1041"), ("8086", "9999")]
    assert pci[0]["vendor_name"] == "Intel Corporation"
    assert pci[0]["product_name"] == "440FX - 82441FX PMC [Natoma]"
    assert pci[2].get("product_name") is None  # not in pci.ids: no invented name
    assert pci[1]["location"] == str(base / "bus/pci/devices/0000:00:03.0")
    assert pci[1]["description"] == "PCI 0000:00:03.0: Ethernet controller (class 0x020000)"
    assert len(usb) == 2  # interfaces are not devices
    modem = next(d for d in usb if d["vendor_id"] == "12d1")
    assert modem["vendor_name"] == "Huawei Technologies Co., Ltd."
    assert modem["product_name"] == "Modem/Networkcard"
    assert modem["serial"] == "0123456789ABCDEF"
    # What the device says about itself is kept, without control characters.
    assert "\x1b" not in modem["description"]
    assert modem["description"].startswith("device reports: HUAWEI_MOBILE HUAWEI_MOBILE")


def test_device_strings_name_unknown_vendors(tmp_path: Path) -> None:
    base = tmp_path / "sys"
    _attrs(base / "bus/usb/devices/2-1", idVendor="abcd", idProduct="0001",
           manufacturer="Acme " * 100, product="Gadget")
    snap = Snapshot(host=Host(host_id="h"))
    sysfs.collect(snap, base)
    (dev,) = snap.devices
    assert dev["vendor_name"].startswith("Acme") and len(dev["vendor_name"]) <= 256
    assert dev["product_name"] == "Gadget"


def test_unreadable_and_bad_id_files_skip_only_that_device(tmp_path: Path) -> None:
    base = make_sysfs(tmp_path / "sys")
    bad_pci = base / "devices/pci0000:00/0000:00:03.0/vendor"
    bad_pci.unlink()
    bad_pci.mkdir()  # reading it fails (EISDIR), as any unreadable file
    _attrs(base / "bus/usb/devices/3-1", idVendor="not hex", idProduct="0001")
    snap = Snapshot(host=Host(host_id="h"))
    sysfs.collect(snap, base)
    assert len([d for d in snap.devices if d["bus"] == "pci"]) == 2
    assert len([d for d in snap.devices if d["bus"] == "usb"]) == 2
    reasons = {s.location: s.reason for s in snap.skipped}
    assert reasons[str(base / "bus/pci/devices/0000:00:03.0/vendor")].startswith("cannot read")
    assert reasons[str(base / "bus/usb/devices/3-1/idVendor")].startswith("not a 16-bit hex id")


@contextmanager
def _as_nobody() -> Iterator[None]:
    """Drop the effective uid to nobody (root ignores file permissions)."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(65534)
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def test_permission_denied_is_a_skip_with_reason() -> None:
    base = Path(tempfile.mkdtemp(prefix="kitvet-sysfs-"))
    try:
        base.chmod(0o755)
        make_sysfs(base)
        for p in base.rglob("*"):
            if not p.is_symlink():
                p.chmod(0o755 if p.is_dir() else 0o644)
        secret = base / "devices/pci0000:00/0000:00:04.0/usb1/1-1/idProduct"
        secret.chmod(0o000)
        # Warm the lazy imports and ids lookups before dropping privileges.
        hardware.usb_vendor_name("12d1")
        snap = Snapshot(host=Host(host_id="h"))
        with _as_nobody():
            sysfs.collect(snap, base)
        assert [d["vendor_id"] for d in snap.devices if d["bus"] == "usb"] == ["1d6b"]
        (skip,) = snap.skipped
        assert skip.location == str(base / "bus/usb/devices/1-1/idProduct")
        assert skip.reason == "cannot read: Permission denied"
    finally:
        shutil.rmtree(base)


def test_no_sysfs_is_a_skip(tmp_path: Path) -> None:
    snap = Snapshot(host=Host(host_id="h"))
    sysfs.collect(snap, tmp_path / "nothing")
    assert snap.devices == [] and snap.skipped[0].reason == "no sysfs bus directory"
