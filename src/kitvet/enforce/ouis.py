"""MAC address prefixes of banned subjects: ``mac_prefix`` identifiers, and ``oui_org_name``
identifiers resolved to every IEEE assignment (MA-L, MA-M, MA-S, IAB) whose organisation
normalises (:func:`kitvet.identify.orgs.normalize_org`) to the identifier's.

The registries are the ones :mod:`kitvet.identify.hardware` reads for the matcher (Debian's
ieee-data CSVs, kitvet's data dir after ``kitvet update-data``, netaddr's ``oui.txt`` and
``iab.txt``, kitvet's bundled subsets), indexed once by normalised organisation name.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

from kitvet.identify.orgs import normalize_org

logger = logging.getLogger(__name__)

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


@lru_cache(maxsize=1)
def registry_index() -> dict[str, tuple[MacPrefix, ...]]:
    """Normalised organisation → its IEEE MAC prefixes (sorted), from the registries the
    matcher itself reads (:meth:`kitvet.identify.hardware.HardwareDB.ieee_entries`)."""
    from kitvet.identify import hardware

    index: dict[str, set[MacPrefix]] = {}
    for hexdigits, org, label in hardware.default_db().ieee_entries():
        key = normalize_org(org)
        if key:
            index.setdefault(key, set()).add(MacPrefix(hexdigits.lower(), org, label))
    return {k: tuple(sorted(v)) for k, v in index.items()}


def prefixes_for_org(org_name: str) -> tuple[MacPrefix, ...]:
    """Every registry prefix whose organisation normalises to ``org_name``'s key."""
    return registry_index().get(normalize_org(org_name), ())
