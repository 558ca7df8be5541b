"""Network neighbours of the live system: the kernel's ARP table, else ``ip -j neigh``.

Each neighbour with a hardware address becomes a device row (bus "network") with its MAC, IP
and the IEEE registry organisation of the MAC (:func:`kitvet.identify.hardware.oui_org`).
Incomplete entries (flags 0x0, all-zero MAC, state INCOMPLETE/FAILED) are not devices seen.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from kitvet.model import Snapshot

logger = logging.getLogger(__name__)

SOURCE = "neighbours"
MAX_BYTES = 16 * 1024 * 1024
_MAC = re.compile(r"^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$")
_BAD_STATES = {"INCOMPLETE", "FAILED", "NOARP", "NONE"}


def normalize_mac(value: str | None) -> str | None:
    """``AA-BB-CC-DD-EE-FF`` / ``aabb.ccdd.eeff`` -> ``aa:bb:cc:dd:ee:ff``; None if not a MAC."""
    hexes = re.sub(r"[^0-9a-fA-F]", "", value or "").lower()
    if len(hexes) != 12 or len(re.sub(r"[^0-9a-fA-F:.\-]", "", value or "")) != len(value or ""):
        return None
    mac = ":".join(hexes[i : i + 2] for i in range(0, 12, 2))
    return None if mac in ("00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff") else mac


def parse_proc_arp(text: str, *, file: str) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Rows from /proc/net/arp text, and (location, reason) of lines that could not be read."""
    rows: list[dict[str, Any]] = []
    bad: list[tuple[str, str]] = []
    for n, line in enumerate(text.splitlines()[1:], start=2):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 6:
            bad.append((f"{file}:{n}", "malformed ARP line"))
            continue
        ip, flags, hw, dev = parts[0], parts[2], parts[3], parts[5]
        if flags == "0x0":
            continue
        mac = normalize_mac(hw)
        if mac is None:
            continue
        rows.append(_row(mac, ip, dev, f"{file}:{n}"))
    return rows, bad


def parse_ip_neigh(text: str) -> list[dict[str, Any]]:
    """Rows from ``ip -j neigh`` JSON."""
    data = json.loads(text or "[]")
    rows = []
    for i, entry in enumerate(data if isinstance(data, list) else []):
        if not isinstance(entry, dict):
            continue
        states = set(entry.get("state") or [])
        if states & _BAD_STATES:
            continue
        mac = normalize_mac(str(entry.get("lladdr") or ""))
        if mac is None:
            continue
        rows.append(_row(mac, str(entry.get("dst") or ""), str(entry.get("dev") or ""),
                         f"ip -j neigh:[{i}]"))
    return rows


def _row(mac: str, ip: str, dev: str, location: str) -> dict[str, Any]:
    from kitvet.identify import hardware

    row = {
        "source": SOURCE, "location": location, "bus": "network", "mac": mac,
        "ip": ip[:64] or None,
        "description": f"neighbour on {dev[:32]}" if dev else "neighbour",
    }
    hardware.name_devices([row])  # oui_org and vendor_name: the IEEE registry's organisation
    return row


def collect(snap: Snapshot, proc: Path = Path("/proc")) -> None:
    """Add the network neighbours to ``snap``."""
    arp = proc / "net" / "arp"
    try:
        with arp.open("rb") as fh:
            text = fh.read(MAX_BYTES).decode("utf-8", errors="replace")
    except OSError as e:
        logger.debug("cannot read %s: %s", arp, e)
        text = None
    if text is not None:
        rows, bad = parse_proc_arp(text, file=str(arp))
        for location, reason in bad:
            snap.skip(SOURCE, reason, location=location)
    else:
        rows = _ip_neigh(snap)
    seen: set[tuple[str, str]] = set()
    for row in rows:
        key = (row["mac"], row["ip"] or "")
        if key not in seen:
            seen.add(key)
            snap.add_device(**row)


def _ip_neigh(snap: Snapshot) -> list[dict[str, Any]]:
    exe = shutil.which("ip")
    if exe is None:
        snap.skip(SOURCE, "no /proc/net/arp and no ip command")
        return []
    try:
        proc = subprocess.run([exe, "-j", "neigh"], capture_output=True, timeout=10, check=False)
        if proc.returncode != 0:
            raise OSError(proc.stderr.decode("utf-8", "replace").strip()[:200])
        return parse_ip_neigh(proc.stdout.decode("utf-8", errors="replace"))
    except (OSError, subprocess.TimeoutExpired, ValueError) as e:
        snap.skip(SOURCE, f"ip -j neigh failed: {e}", location="ip -j neigh")
        return []
