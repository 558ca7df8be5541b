"""Versions of OSV packages: which are affected, with each ecosystem's own ordering.

OSV's rule: a range's events sorted by version, ``introduced`` opening an interval that the
next ``fixed`` (exclusive) or ``last_affected`` (inclusive) closes; ``introduced: "0"`` with
no end is every version; SEMVER ranges compare as semantic versions, ECOSYSTEM ranges with
the ecosystem's ordering (univers: PEP 440, Maven, NuGet, RubyGems, Go, dpkg, rpm, apk);
GIT ranges are commits, not versions. :func:`check_version` applies it to one version;
:func:`to_vers` writes the same set as a ``vers:`` range for list identifiers.
"""

from __future__ import annotations

import re
from functools import cmp_to_key, lru_cache
from typing import Any

from univers import versions as uv
from univers.version_range import VersionRange

from kitvet.lists.osv import OsvPackage, OsvRange, VersionVerdict

#: purl type -> univers version class: the ordering of ECOSYSTEM ranges and listed versions.
VERSION_CLASS: dict[str, type[uv.Version]] = {
    "npm": uv.SemverVersion, "pypi": uv.PypiVersion, "gem": uv.RubygemsVersion,
    "cargo": uv.SemverVersion, "nuget": uv.NugetVersion, "maven": uv.MavenVersion,
    "golang": uv.GolangVersion, "composer": uv.ComposerVersion, "hex": uv.SemverVersion,
    "pub": uv.SemverVersion, "deb": uv.DebianVersion, "rpm": uv.RpmVersion,
    "apk": uv.AlpineLinuxVersion,
}
#: purl types whose vers scheme univers knows (others get listed versions only).
_VERS_SCHEMES = frozenset({"npm", "pypi", "gem", "cargo", "nuget", "maven", "golang",
                           "composer", "hex", "deb", "rpm", "apk"})
_NUM = re.compile(r"\d+|[a-z]+")


@lru_cache(maxsize=65536)
def _key(scheme: str, text: str) -> Any:
    """Ordering key of ``text`` in ``scheme`` (a purl type, or "semver"); a generic key
    (numeric segments as numbers) when the scheme has no class or cannot parse it."""
    cls = uv.SemverVersion if scheme == "semver" else VERSION_CLASS.get(scheme)
    if cls is not None:
        try:
            return (1, cls(text.removeprefix("v") if scheme == "semver" else text))
        except Exception:  # univers raises several types for what it cannot parse
            pass
    parts = [(1, int(t)) if t.isdigit() else (0, t) for t in _NUM.findall(text.lower())]
    while parts and parts[-1] == (1, 0):
        parts.pop()
    return (0, tuple(parts))


def _cmp(scheme: str, a: str, b: str) -> int:
    """-1, 0, 1 comparing versions ``a`` and ``b`` in ``scheme``; "0" is below everything."""
    if a == b:
        return 0
    if b == "0":
        return 1
    if a == "0":
        return -1
    ka, kb = _key(scheme, a), _key(scheme, b)
    if ka[0] != kb[0]:  # one side did not parse: compare both generically
        ka, kb = _key("", a), _key("", b)
    return (ka > kb) - (ka < kb)


def scheme_of(pkg: OsvPackage, rng: OsvRange) -> str:
    """The ordering a range's versions follow: semver for SEMVER, the ecosystem's own for
    ECOSYSTEM (PEP 440 for PyPI, Maven's, NuGet's ...)."""
    return "semver" if rng.type == "SEMVER" else pkg.purl_type


def intervals(pkg: OsvPackage, only: OsvRange | None = None
              ) -> list[tuple[str, str | None, bool]]:
    """The affected intervals of a package's SEMVER and ECOSYSTEM ranges (or of ``only``), as
    (introduced, end or None, end inclusive): OSV's rule, events sorted by version, an
    introduced opening an interval that the next fixed (exclusive) or last_affected
    (inclusive) closes. GIT ranges (commits, not versions) give none."""
    out: list[tuple[str, str | None, bool]] = []
    for rng in (only,) if only is not None else pkg.ranges:
        if rng.type == "GIT":
            continue
        events = sorted((e for e in rng.events if e[0] != "limit"),
                        key=_sort_key(scheme_of(pkg, rng)))
        start: str | None = None
        for kind, version in events:
            if kind == "introduced":
                if start is None:
                    start = version
            elif start is not None:
                out.append((start, version, kind == "last_affected"))
                start = None
        if start is not None:
            out.append((start, None, False))
    return out


def _sort_key(scheme: str) -> Any:
    return cmp_to_key(lambda x, y: _cmp(scheme, x[1], y[1]))


def every_version(pkg: OsvPackage) -> bool:
    """True when some range says every version is affected (introduced 0, no end)."""
    return any(iv == ("0", None, False) for iv in intervals(pkg))


def check_version(pkg: OsvPackage, version: str) -> VersionVerdict:
    """Whether ``version`` of ``pkg`` is affected: one of its ``versions``, or inside a
    SEMVER/ECOSYSTEM range compared with the range's own ordering."""
    v = version.strip()
    eco = pkg.purl_type
    for listed in pkg.versions:
        if listed == v or _cmp(eco, v, listed) == 0:
            return VersionVerdict(True, f"{v} is listed ({pkg.ecosystem})")
    for rng in pkg.ranges:
        if rng.type == "GIT":
            continue
        scheme = scheme_of(pkg, rng)
        for start, end, inclusive in intervals(pkg, rng):
            if _cmp(scheme, v, start) < 0:
                continue
            if end is None:
                low = "every version" if start == "0" else f"{start} <= {v}"
                return VersionVerdict(True, f"{low} ({rng.type}, no fix)")
            c = _cmp(scheme, v, end)
            if c < 0 or (inclusive and c == 0):
                op = "<=" if inclusive else "<"
                low = "" if start == "0" else f"{start} <= "
                return VersionVerdict(True, f"{low}{v} {op} {end} ({rng.type})")
    return VersionVerdict(False, f"{v} is neither listed nor in a range")


def to_vers(pkg: OsvPackage) -> str | None:
    """The package's ranges as one ``vers:`` string (univers evaluates it with the purl
    type's ordering), ``vers:TYPE/*`` when every version is affected; None when it has no
    SEMVER/ECOSYSTEM range or univers has no scheme for the type (its ``versions`` remain)."""
    ivs = intervals(pkg)
    if not ivs or pkg.purl_type not in _VERS_SCHEMES:
        return None
    scheme = pkg.purl_type
    if any(s == "0" and e is None for s, e, _ in ivs):
        return f"vers:{scheme}/*"
    def by_start(x: tuple[str, str | None, bool], y: tuple[str, str | None, bool]) -> int:
        return _cmp(scheme, x[0], y[0])

    ivs.sort(key=cmp_to_key(by_start))
    merged: list[list[Any]] = []
    for s, e, inc in ivs:
        if merged and (merged[-1][1] is None or _cmp(scheme, s, merged[-1][1]) < 0
                       or (merged[-1][2] and _cmp(scheme, s, merged[-1][1]) == 0)):
            last = merged[-1]
            if last[1] is not None and (e is None or _cmp(scheme, e, last[1]) > 0
                                        or (inc and _cmp(scheme, e, last[1]) == 0)):
                last[1], last[2] = e, inc
            continue
        merged.append([s, e, inc])
    parts: list[str] = []
    for s, e, inc in merged:
        if s != "0":
            parts.append(f">={s}")
        if e is not None:
            parts.append(f"{'<=' if inc else '<'}{e}")
    vers = f"vers:{scheme}/" + "|".join(parts)
    try:
        VersionRange.from_string(vers)
    except Exception:  # a version univers cannot read in this scheme: listed versions only
        return None
    return vers
