"""Replacing a package banned only in some versions (xz-utils 5.6.0/5.6.1) instead of removing it
(purging liblzma5 would take dpkg and apt with it).

The fixed version comes from ``--pin NAME=VERSION``, else from the matched identifier's
``fixed_versions`` in the list. Where it is known, the command pins it and says whether that is a
downgrade, compared with the package manager's own ordering (dpkg, rpmvercmp, apk — through
univers): Debian's revert ``5.6.1+really5.4.5-1`` is *higher* than ``5.6.1-1``, bookworm's
``5.4.1-0.2`` lower. ``apt-get install --only-upgrade`` never replaces a package when the fix is
lower, so apt gets the pinned version or a manual step, never that. The packages of one host and
one subject go in one command (xz-utils and liblzma5 move together or apt keeps the library).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from univers import versions as uv

from kitvet.errors import EnforceError

MANAGERS = ("deb", "rpm", "apk")
_CLASS: dict[str, type[uv.Version]] = {"deb": uv.DebianVersion, "rpm": uv.RpmVersion,
                                       "apk": uv.AlpineLinuxVersion}
#: A package version as the three managers write them (no shell metacharacters).
VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+~:_-]{0,199}$")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9+._-]{0,200})=([A-Za-z0-9][A-Za-z0-9.+~:_-]{0,199})$")


def parse_pins(pins: Iterable[str]) -> dict[str, str]:
    """``--pin NAME=VERSION`` options as {name: version}; one clear error for a bad one."""
    out: dict[str, str] = {}
    for p in pins:
        m = _PIN.match(p.strip())
        if not m:
            raise EnforceError(f"--pin must be NAME=VERSION (a package name and version), "
                               f"not {p!r}")
        out[m.group(1)] = m.group(2)
    return out


def compare(package_type: str, a: str, b: str) -> int:
    """-1, 0 or 1 as the package manager orders versions ``a`` and ``b``."""
    cls = _CLASS[package_type]
    va, vb = cls(a), cls(b)
    return (va > vb) - (va < vb)


@dataclass(frozen=True)
class Replacement:
    """One package of one host to move to its fixed version (None: not known)."""

    manager: str  # deb, rpm, apk
    name: str
    installed: str | None
    fixed: str | None

    @property
    def downgrade(self) -> bool:
        """True when the fixed version is lower than the installed one (or that is unknown)."""
        if self.fixed is None:
            return False
        if not self.installed:
            return True
        try:
            return compare(self.manager, self.fixed, self.installed) < 0
        except Exception:  # an unparsable installed version: allow the downgrade, apt asks
            return True


def fixed_version(name: str, candidates: Iterable[str], pins: Mapping[str, str]
                  ) -> tuple[str | None, str | None]:
    """(fixed version, None) or (None, why not): the pin for ``name``, else the one fixed
    version the list gives; several list versions (one per release) need a pin."""
    if name in pins:
        return pins[name], None
    vs = sorted({v for v in candidates if VERSION.match(v)})
    if len(vs) == 1:
        return vs[0], None
    if len(vs) > 1:
        return None, (f"the list gives several fixed versions ({', '.join(vs)}): choose the "
                      f"one of the host's release with --pin {name}=VERSION")
    return None, None


def replacement_command(reps: list[Replacement]) -> tuple[str | None, str | None]:
    """One command that moves all ``reps`` (one manager, one host) to their fixed versions,
    or (None, what to do by hand)."""
    mgr = reps[0].manager
    names = [shlex.quote(r.name) for r in reps]
    if mgr == "deb":
        unknown = [r.name for r in reps if r.fixed is None]
        if unknown:
            return None, (f"{', '.join(unknown)}: banned only in some versions and the list "
                          "names no fixed version — install the version your distribution "
                          "ships (apt-cache policy PKG), apt-get install --allow-downgrades "
                          "PKG=VERSION, or give --pin PKG=VERSION (apt-get install "
                          "--only-upgrade does nothing when the fix is lower)")
        flag = " --allow-downgrades" if any(r.downgrade for r in reps) else ""
        specs = " ".join(shlex.quote(f"{r.name}={r.fixed}") for r in reps)
        return f"apt-get install --yes{flag} {specs}", None
    if mgr == "rpm":
        if any(r.fixed is None for r in reps):
            # the repositories' version, up or down (CISA's advice for xz was to go back)
            return f"dnf distro-sync --assumeyes {' '.join(names)}", None
        down = [shlex.quote(f"{r.name}-{r.fixed}") for r in reps if r.downgrade]
        up = [shlex.quote(f"{r.name}-{r.fixed}") for r in reps if not r.downgrade]
        cmds = ([f"dnf downgrade --assumeyes {' '.join(down)}"] if down else []) + \
               ([f"dnf upgrade --assumeyes {' '.join(up)}"] if up else [])
        return " && ".join(cmds), None
    if any(r.fixed is None for r in reps):  # apk: the repositories' version, also downwards
        return f"apk upgrade --available {' '.join(names)}", None
    return "apk add " + " ".join(shlex.quote(f"{r.name}={r.fixed}") for r in reps), None
