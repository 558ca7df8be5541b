"""PCI and USB devices of the live system, from sysfs.

* ``<sysfs>/bus/pci/devices/*/{vendor,device,class,subsystem_vendor,subsystem_device}``
  (``0x8086`` style values),
* ``<sysfs>/bus/usb/devices/*/{idVendor,idProduct,manufacturer,product,serial}`` (interfaces
  such as ``1-1:1.0`` have no ``idVendor`` and are not devices).

Vendor and product names come from usb.ids / pci.ids (:mod:`kitvet.identify.hardware`); for
USB the strings the device reports about itself are kept in ``description`` (they are
self-declared and can be spoofed; the registry name is what identifies the maker). A device
whose id files cannot be read is skipped with the file and reason; the others are kept.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

from kitvet.model import Snapshot
from kitvet.sources.hostfacts import bounded

logger = logging.getLogger(__name__)

SOURCE = "sysfs"
MAX_ATTR_BYTES = 4096
MAX_TEXT = 256
_HEX_ID = re.compile(r"^(?:0x)?([0-9a-fA-F]{1,4})$")


class _Unreadable(Exception):
    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(reason)
        self.path, self.reason = path, reason


def _attr(dev: Path, name: str, *, required: bool) -> str | None:
    path = dev / name
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_ATTR_BYTES)
    except FileNotFoundError:
        if required:
            raise _Unreadable(path, "missing") from None
        return None
    except OSError as e:
        if required:
            raise _Unreadable(path, f"cannot read: {e.strerror or e}") from None
        logger.debug("cannot read %s: %s", path, e)
        return None
    return clean_text(raw.decode("utf-8", errors="replace"))


def clean_text(value: str | None) -> str | None:
    """Host-supplied text bounded and without control characters (None if empty)."""
    return bounded(value.strip() if value else value, MAX_TEXT)


def hex_id(value: str | None) -> str | None:
    """A 16-bit id as 4 lower-case hex digits ("0x12D1" -> "12d1"), None if not one."""
    m = _HEX_ID.match((value or "").strip())
    return m.group(1).lower().zfill(4) if m else None


def _required_id(dev: Path, name: str) -> str:
    raw = _attr(dev, name, required=True)
    value = hex_id(raw)
    if value is None:
        raise _Unreadable(dev / name, f"not a 16-bit hex id: {(raw or '')[:40]!r}")
    return value


def _entries(base: Path) -> list[Path]:
    try:
        return sorted(base.iterdir())
    except OSError:
        return []


def pci_devices(sysfs: Path, snap: Snapshot) -> int:
    """Add a device row per PCI function; returns how many were added."""
    from kitvet.identify import hardware

    added = 0
    for dev in _entries(sysfs / "bus" / "pci" / "devices"):
        try:
            vid = _required_id(dev, "vendor")
            did = _required_id(dev, "device")
        except _Unreadable as e:
            snap.skip(SOURCE, e.reason, location=str(e.path))
            continue
        cls = _attr(dev, "class", required=False)
        cname = hardware.pci_class_name(cls) if cls else None
        what = f"{cname[0]} (class {cls})" if cname else f"class {cls}"
        row: dict[str, Any] = {
            "source": SOURCE, "location": str(dev), "bus": "pci",
            "vendor_id": vid, "product_id": did,
            "description": f"PCI {dev.name}: {what}" if cls else f"PCI {dev.name}",
        }
        hardware.name_devices([row])
        snap.add_device(**row)
        added += 1
    return added


def usb_devices(sysfs: Path, snap: Snapshot) -> int:
    """Add a device row per USB device (not per interface); returns how many were added."""
    from kitvet.identify import hardware

    added = 0
    for dev in _entries(sysfs / "bus" / "usb" / "devices"):
        if ":" in dev.name:  # an interface of a device, e.g. 1-1:1.0
            continue
        if not any(os.path.lexists(dev / n) for n in ("idVendor", "idProduct")):
            continue  # not a device directory
        try:
            vid = _required_id(dev, "idVendor")
            pid = _required_id(dev, "idProduct")
        except _Unreadable as e:
            snap.skip(SOURCE, e.reason, location=str(e.path))
            continue
        maker = _attr(dev, "manufacturer", required=False)
        product = _attr(dev, "product", required=False)
        reported = " ".join(x for x in (maker, product) if x)
        row: dict[str, Any] = {
            "source": SOURCE, "location": str(dev), "bus": "usb", "vendor_id": vid,
            "product_id": pid, "serial": _attr(dev, "serial", required=False),
            "description": f"device reports: {reported}" if reported else None,
        }
        hardware.name_devices([row])  # the registry's names first: the device's can be spoofed
        row["vendor_name"] = row.get("vendor_name") or maker
        row["product_name"] = row.get("product_name") or product
        snap.add_device(**row)
        added += 1
    return added


def collect(snap: Snapshot, sysfs: Path = Path("/sys")) -> None:
    """Add the PCI and USB devices under ``sysfs`` to ``snap``."""
    if not (sysfs / "bus").is_dir():
        snap.skip(SOURCE, "no sysfs bus directory", location=str(sysfs / "bus"))
        return
    n_pci = pci_devices(sysfs, snap)
    n_usb = usb_devices(sysfs, snap)
    logger.info("sysfs: %d PCI, %d USB devices", n_pci, n_usb)
