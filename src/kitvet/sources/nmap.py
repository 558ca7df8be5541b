"""nmap XML scan output (``nmap -oX``): each host up becomes a network snapshot.

Each ``<host>`` gives a :class:`Snapshot` with platform ``network``: its addresses, a device row
(bus ``network``, MAC, IP, the IEEE organisation of the MAC), the best OS match and its CPEs, and
one software row per service nmap recognised (product, version, CPE), located as
``scan.xml:/nmaprun/host[3]/ports/port[2]``.

The XML is parsed with :mod:`defusedxml` (entity declarations and external references are
refused) and streamed host by host, so a large scan is never held whole in memory. A scan that
was interrupted (truncated XML) keeps the hosts written before the cut.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from kitvet.errors import SourceError
from kitvet.identify.cpe import cpe22_to_23
from kitvet.identify.hardware import name_devices
from kitvet.model import Host, Snapshot
from kitvet.sources.detect_util import shown
from kitvet.sources.hostfacts import bounded
from kitvet.sources.interface import Importer

logger = logging.getLogger(__name__)

SOURCE = "nmap"
#: Longest text kept from any attribute (hostile scans).
MAX_TEXT = 4096
_MAC = re.compile(r"^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$", re.IGNORECASE)


def clip(value: Any) -> str | None:
    """Host-supplied text bounded in size and stripped of control characters (None if empty)."""
    return None if value is None else bounded(str(value), MAX_TEXT)


class NmapImporter(Importer):
    """Reads nmap XML output."""

    name = "nmap"
    description = "nmap XML scan (-oX): network hosts, MAC vendors, OS matches, service CPEs"

    def detect(self, path: Path, head: bytes) -> bool:
        return path.is_file() and b"<nmaprun" in head[:16384]

    def read(self, path: Path, *, institution: str | None = None) -> list[Snapshot]:
        return read_nmap(path, institution=institution)


def read_nmap(path: Path, *, institution: str | None = None) -> list[Snapshot]:
    """Every host that was up in an nmap XML file, one snapshot each."""
    path = Path(path)
    fname, where = path.name, shown(path)
    snaps: list[Snapshot] = []
    depth, host_index, scan_start, root = 0, 0, None, None
    try:
        for event, elem in SafeET.iterparse(str(path), events=("start", "end")):
            if event == "start":
                depth += 1
                if depth == 1:
                    if elem.tag != "nmaprun":
                        raise SourceError(f"not an nmap scan (root element <{clip(elem.tag)}>)",
                                          file=str(path), place="line 1")
                    root, scan_start = elem, elem.get("start")
                continue
            depth -= 1
            if depth == 1 and elem.tag == "host":
                host_index += 1
                snap = _host(elem, host_index, fname, where, scan_start, institution)
                if snap is not None:
                    snaps.append(snap)
            if depth == 1 and root is not None:
                root.clear()  # drop what was read: memory stays bounded on big scans
    except DefusedXmlException as e:
        raise SourceError(f"refused XML: {type(e).__name__} ({e})", file=str(path),
                          place="document type declaration") from e
    except LookupError as e:  # expat: the declared encoding is unknown
        raise SourceError(f"XML in an unknown encoding ({e})", file=str(path),
                          place="XML declaration") from e
    except ParseError as e:
        line, col = getattr(e, "position", (0, 0))
        if not snaps:
            raise SourceError(f"XML is not well-formed ({e.msg if hasattr(e, 'msg') else e})",
                              file=str(path), place=f"line {line}, column {col}") from e
        snaps[-1].skip(SOURCE, f"scan file truncated or corrupt after this host: {e}",
                       f"{where}:line {line}")
        logger.warning("%s: truncated at line %s; kept %d hosts", path, line, len(snaps))
    return snaps


def _iso(epoch: str | None) -> str | None:
    try:
        return datetime.fromtimestamp(int(epoch or ""), tz=UTC).isoformat()
    except (ValueError, OverflowError, OSError):
        return None


def _addresses(elem: Element) -> dict[str, str | None]:
    out: dict[str, str | None] = {"ipv4": None, "ipv6": None, "mac": None, "vendor": None}
    for a in elem.findall("address"):
        kind, addr = a.get("addrtype"), clip(a.get("addr"))
        if kind in out and addr and not out[kind]:
            if kind == "mac":
                if not _MAC.match(addr):
                    continue
                addr = addr.lower().replace("-", ":")
                out["vendor"] = clip(a.get("vendor"))
            out[kind] = addr
    return out


def _accuracy(e: Element) -> int:
    try:
        return int(e.get("accuracy") or 0)
    except ValueError:
        return 0


def _best(elems: list[Element]) -> tuple[int, Element] | None:
    """The most accurate element (first among equals), with its 1-based index."""
    best: tuple[int, Element] | None = None
    for i, e in enumerate(elems, start=1):
        if best is None or _accuracy(e) > _accuracy(best[1]):
            best = (i, e)
    return best


def _os_guess(elem: Element, place: str) -> dict[str, Any]:
    """Best OS match: name, device type, CPEs and where it was read (nmap 5 and 6+ layouts)."""
    match = _best(elem.findall("os/osmatch"))
    if match:
        i, m = match
        cls = _best(m.findall("osclass")) or _best(elem.findall("os/osclass"))
        return {"name": clip(m.get("name")), "type": clip(cls[1].get("type")) if cls else None,
                "cpes": [x.text for x in m.findall("osclass/cpe")],
                "location": f"{place}/os/osmatch[{i}]"}
    cls = _best(elem.findall("os/osclass"))
    if not cls:
        return {"name": None, "type": None, "cpes": [], "location": None}
    i, c = cls
    name = " ".join(x for x in (clip(c.get(a)) for a in ("vendor", "osfamily", "osgen")) if x)
    return {"name": name or None, "type": clip(c.get("type")),
            "cpes": [x.text for x in c.findall("cpe")], "location": f"{place}/os/osclass[{i}]"}


def _host(elem: Element, index: int, fname: str, where: str, scan_start: str | None,
          institution: str | None) -> Snapshot | None:
    status = elem.find("status")
    if status is not None and status.get("state") not in (None, "up"):
        return None
    place = f"{where}:/nmaprun/host[{index}]"
    addr = _addresses(elem)
    ip = addr["ipv4"] or addr["ipv6"]
    if not ip and not addr["mac"]:
        logger.info("%s: host without an address, ignored", place)
        return None
    hn = elem.find("hostnames/hostname")
    guess = _os_guess(elem, place)
    host = Host(
        host_id=_host_id(addr, ip, fname),
        hostname=clip(hn.get("name")) if hn is not None else None,
        institution=institution,
        platform="network",
        os_name=guess["name"],
        collected_at=_iso(elem.get("starttime")) or _iso(scan_start),
        sources=(SOURCE,),
    )
    snap = Snapshot(host=host)
    _device(snap, addr, ip, guess, place)
    _services(snap, elem, place)
    _os_cpes(snap, guess)
    return snap


def _host_id(addr: dict[str, str | None], ip: str | None, fname: str) -> str:
    """MAC when nmap saw it (same LAN), else the IP; loopback is only unique within its scan."""
    if addr["mac"]:
        return f"mac:{addr['mac']}"
    if ip and (ip.startswith("127.") or ip == "::1"):
        return f"ip:{ip}@{fname}"
    return f"ip:{ip}"


def _device(snap: Snapshot, addr: dict[str, str | None], ip: str | None,
            guess: dict[str, Any], place: str) -> None:
    """The host itself as a network device, named by the IEEE registry, else by nmap."""
    desc = "; ".join(x for x in (guess["type"], guess["name"]) if x) or None
    row = {"bus": "network", "mac": addr["mac"], "ip": ip, "vendor_name": addr["vendor"],
           "description": desc}
    name_devices([row])
    if not row.get("oui_org") and addr["mac"]:
        row["oui_org"] = addr["vendor"]  # nmap's own copy of the registry (nmap-mac-prefixes)
    snap.add_device(source=SOURCE, location=f"{place}/address", **row)


def _services(snap: Snapshot, elem: Element, place: str) -> None:
    for k, port in enumerate(elem.findall("ports/port"), start=1):
        state = port.find("state")
        if state is not None and state.get("state") not in ("open", "open|filtered", None):
            continue
        svc = port.find("service")
        if svc is None:
            continue
        product = clip(svc.get("product"))
        cpes = [c for c in (cpe22_to_23(clip(x.text)) for x in svc.findall("cpe")) if c]
        if not product and not cpes:
            continue
        name = product or _cpe_product(cpes[0])
        snap.add_software(
            source=SOURCE, location=f"{place}/ports/port[{k}]", name=name,
            version=clip(svc.get("version")), cpe=cpes[0] if cpes else None,
            path=f"{clip(port.get('protocol'))}/{clip(port.get('portid'))}",
        )


def _os_cpes(snap: Snapshot, guess: dict[str, Any]) -> None:
    seen: set[str] = set()
    for text in guess["cpes"]:
        cpe = cpe22_to_23(clip(text))
        if not cpe or cpe in seen:
            continue
        seen.add(cpe)
        parts = cpe.split(":")
        snap.add_software(
            source=f"{SOURCE}:os", location=guess["location"],
            name=guess["name"] or _cpe_product(cpe),
            version=parts[5] if parts[5] not in ("*", "-") else None, cpe=cpe,
        )


def _cpe_product(cpe: str) -> str:
    return cpe.split(":")[4].replace("\\", "")
