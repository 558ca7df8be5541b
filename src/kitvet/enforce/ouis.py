"""MAC address prefixes of banned subjects: ``mac_prefix`` identifiers, and ``oui_org_name``
identifiers resolved to every IEEE assignment (MA-L, MA-M, MA-S, IAB) whose organisation
normalises (:func:`kitvet.identify.orgs.normalize_org`) to the identifier's.

The registries are read from where :mod:`kitvet.identify.hardware` finds them (Debian's
ieee-data CSVs, kitvet's data dir after ``kitvet update-data``), else from netaddr's ``oui.txt``
and ``iab.txt``; read once and indexed by normalised organisation name.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kitvet.identify.orgs import normalize_org

logger = logging.getLogger(__name__)

_OUI_LINE = re.compile(r"^([0-9A-Fa-f]{6})\s+\(base 16\)\s+(.*\S)\s*$")
_IAB_HEX = re.compile(r"^([0-9A-Fa-f]{2})-([0-9A-Fa-f]{2})-([0-9A-Fa-f]{2})\s+\(hex\)")
_IAB_LINE = re.compile(r"^([0-9A-Fa-f]{3})000-[0-9A-Fa-f]{6}\s+\(base 16\)\s+(.*\S)\s*$")


@dataclass(frozen=True, order=True)
class MacPrefix:
    """A MAC prefix: ``hexdigits`` (lower case, 6 for an OUI, 9 for an IAB/MA-S-like) and bits."""

    hexdigits: str
    org: str | None = None  # registry organisation, when resolved from the registry
    registry: str | None = None  # which registry file named it

    @property
    def bits(self) -> int:
        """Prefix length in bits."""
        return len(self.hexdigits) * 4

    def first(self) -> str:
        """First MAC address of the prefix, ``aa:bb:cc:00:00:00``."""
        return _colon(self.hexdigits.ljust(12, "0"))

    def last(self) -> str:
        """Last MAC address of the prefix, ``aa:bb:cc:ff:ff:ff``."""
        return _colon(self.hexdigits.ljust(12, "f"))

    def cidr(self) -> str:
        """``aa:bb:cc:00:00:00/24``."""
        return f"{self.first()}/{self.bits}"


def _colon(hex12: str) -> str:
    return ":".join(hex12[i:i + 2] for i in range(0, 12, 2))


def parse_mac_prefix(value: str) -> MacPrefix | None:
    """A ``mac_prefix`` identifier value (``00:E0:FC``, ``00-e0-fc``, ``00E0FC1``) as a prefix."""
    hexdigits = re.sub(r"[^0-9a-f]", "", value.strip().lower())
    if not 6 <= len(hexdigits) <= 11 or re.search(r"[^0-9a-f:\-. ]", value.strip().lower()):
        return None
    return MacPrefix(hexdigits)


def _netaddr_dir() -> Path:
    import netaddr.eui

    return Path(netaddr.eui.__file__).parent


def registry_sources() -> list[tuple[str, str, Path]]:
    """(registry, label, file) of the IEEE registries, found where
    :mod:`kitvet.identify.hardware` looks (Debian ieee-data, kitvet's data dir), else netaddr's
    MA-L and IAB text files — so exports resolve organisations as the matcher does."""
    from kitvet.identify import hardware

    found: list[tuple[str, str, Path]] = []
    for registry, _digits, fname in hardware.IEEE_REGISTRIES:
        for d in (Path(hardware.SYSTEM_IEEE_DIR), hardware.data_dir()):
            if (d / fname).is_file():
                found.append((registry, f"IEEE {registry} ({d / fname})", d / fname))
                break
        else:
            nfile = {"MA-L": "oui.txt", "IAB": "iab.txt"}.get(registry)
            if nfile and (_netaddr_dir() / nfile).is_file():
                found.append((registry, f"IEEE {registry} (netaddr {nfile})",
                              _netaddr_dir() / nfile))
    return found


def _read_csv(path: Path) -> list[tuple[str, str]]:
    """(hex assignment, organisation) rows of an IEEE registry CSV."""
    import csv

    rows = []
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        for rec in csv.reader(fh):
            if len(rec) > 2 and re.fullmatch(r"[0-9A-Fa-f]{6,9}", rec[1].strip()):
                rows.append((rec[1].strip().lower(), rec[2].strip()))
    return rows


def _read_netaddr(path: Path) -> list[tuple[str, str]]:
    """(hex assignment, organisation) rows of netaddr's oui.txt / iab.txt."""
    rows = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        head = None
        for line in fh:
            m = _OUI_LINE.match(line)
            if m:
                rows.append((m.group(1).lower(), m.group(2).strip()))
                continue
            mh = _IAB_HEX.match(line)
            if mh:
                head = "".join(mh.groups()).lower()
                continue
            mi = _IAB_LINE.match(line)
            if mi and head:
                rows.append((head + mi.group(1).lower(), mi.group(2).strip()))
                head = None
    return rows


@lru_cache(maxsize=1)
def registry_index() -> dict[str, tuple[MacPrefix, ...]]:
    """Normalised organisation → its IEEE MAC prefixes (sorted)."""
    index: dict[str, set[MacPrefix]] = {}
    for _registry, label, path in registry_sources():
        try:
            rows = _read_csv(path) if path.suffix == ".csv" else _read_netaddr(path)
        except OSError as e:  # unreadable registry: resolution finds less, callers record gaps
            logger.warning("IEEE registry %s not readable: %s", path, e)
            continue
        for hexdigits, org in rows:
            key = normalize_org(org)
            if key:
                index.setdefault(key, set()).add(MacPrefix(hexdigits, org, label))
    return {k: tuple(sorted(v)) for k, v in index.items()}


def prefixes_for_org(org_name: str) -> tuple[MacPrefix, ...]:
    """Every registry prefix whose organisation normalises to ``org_name``'s key."""
    return registry_index().get(normalize_org(org_name), ())
