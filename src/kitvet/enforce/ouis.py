"""MAC address prefixes of banned subjects: ``mac_prefix`` identifiers, and ``oui_org_name``
identifiers resolved to every IEEE assignment (MA-L/OUI and IAB) whose organisation normalises
(:func:`kitvet.identify.orgs.normalize_org`) to the identifier's.

The registry is the IEEE data shipped with netaddr (``oui.txt``, ``iab.txt``), read once and
indexed by normalised organisation name.
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


def _registry_dir() -> Path:
    import netaddr.eui

    return Path(netaddr.eui.__file__).parent


@lru_cache(maxsize=1)
def registry_index() -> dict[str, tuple[MacPrefix, ...]]:
    """Normalised organisation → its IEEE MAC prefixes (sorted)."""
    index: dict[str, list[MacPrefix]] = {}
    base = _registry_dir()
    try:
        with (base / "oui.txt").open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                m = _OUI_LINE.match(line)
                if m:
                    org = m.group(2).strip()
                    index.setdefault(normalize_org(org), []).append(
                        MacPrefix(m.group(1).lower(), org))
        with (base / "iab.txt").open(encoding="utf-8", errors="replace") as fh:
            head = None
            for line in fh:
                mh = _IAB_HEX.match(line)
                if mh:
                    head = "".join(mh.groups()).lower()
                    continue
                mi = _IAB_LINE.match(line)
                if mi and head:
                    org = mi.group(2).strip()
                    index.setdefault(normalize_org(org), []).append(
                        MacPrefix(head + mi.group(1).lower(), org))
                    head = None
    except OSError as e:  # registry missing: resolution finds nothing, callers record a gap
        logger.warning("IEEE registry not readable: %s", e)
    return {k: tuple(sorted(set(v))) for k, v in index.items() if k}


def prefixes_for_org(org_name: str) -> tuple[MacPrefix, ...]:
    """Every registry prefix whose organisation normalises to ``org_name``'s key."""
    return registry_index().get(normalize_org(org_name), ())
