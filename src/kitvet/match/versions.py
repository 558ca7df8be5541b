"""Version semantics per package type, on top of `univers`.

Risk lists name *upstream* versions (xz-utils "5.6.0", "5.6.1"); installed versions carry the
packager's epoch and revision (Debian ``5.6.1-1``, rpm ``5.6.1-2.fc40``, Alpine ``5.6.1-r2``).
:func:`version_matches` takes the upstream part of the installed version and compares it with
the package type's own ordering — never as strings — so Debian's ``5.6.1-1`` is 5.6.1 while its
revert ``5.6.1+really5.4.5-1`` is not (dpkg orders it *after* 5.6.1, and it is not equal).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from univers import versions as uv
from univers.version_range import VersionRange

from kitvet.match.fastvers import in_vers

#: purl type -> univers version class used for ordering the upstream part
_VERSION_CLASS: dict[str, type[uv.Version]] = {
    "deb": uv.DebianVersion,
    "rpm": uv.RpmVersion,
    "apk": uv.AlpineLinuxVersion,
    "pypi": uv.PypiVersion,
    "npm": uv.SemverVersion,
    "gem": uv.RubygemsVersion,
    "maven": uv.MavenVersion,
    "nuget": uv.NugetVersion,
    "golang": uv.GolangVersion,
}
_APK_REL = re.compile(r"-r\d+$")
_NUM = re.compile(r"\d+|[a-z]+")


@dataclass(frozen=True)
class VersionCheck:
    """Outcome of comparing one installed version with a subject's listed versions."""

    matched: bool
    upstream: str  # the upstream part that was compared
    explanation: str


def upstream_of(package_type: str | None, version: str) -> str:
    """The upstream part of an installed version (epoch and packaging revision removed)."""
    v = version.strip()
    pt = (package_type or "").lower()
    if pt in ("deb", "rpm"):
        if ":" in v and v.split(":", 1)[0].isdigit():
            v = v.split(":", 1)[1]
        if "-" in v:
            v = v.rsplit("-", 1)[0]
    elif pt == "apk":
        v = _APK_REL.sub("", v)
    return v


@lru_cache(maxsize=262144)
def _parse(package_type: str, text: str) -> object:
    cls = _VERSION_CLASS.get(package_type)
    if cls is None:
        return _generic_key(text)
    try:
        return cls(text)
    except Exception:  # univers raises several types for junk; fall back to a generic key
        return _generic_key(text)


def _generic_key(text: str) -> tuple:
    """Ordering key for versions without a known scheme: numeric segments compare as numbers,
    trailing zero segments are ignored ("18.12.416" == "18.12.416.0")."""
    parts: list[tuple[int, object]] = []
    for tok in _NUM.findall(text.lower()):
        parts.append((1, int(tok)) if tok.isdigit() else (0, tok))
    while parts and parts[-1] == (1, 0):
        parts.pop()
    return tuple(parts)


def _equal(package_type: str, a: str, b: str) -> bool:
    pa, pb = _parse(package_type, a), _parse(package_type, b)
    if type(pa) is not type(pb):
        return _generic_key(a) == _generic_key(b)
    return pa == pb


@lru_cache(maxsize=262144)
def version_matches(
    package_type: str | None,
    installed: str | None,
    listed: tuple[str, ...] = (),
    version_range: str | None = None,
) -> VersionCheck:
    """Does ``installed`` (as the package type writes it) fall on a listed upstream version or
    inside ``version_range`` (a ``vers:`` string)? An identifier with neither matches any version."""
    pt = (package_type or "").lower()
    if not listed and not version_range:
        return VersionCheck(True, installed or "", "any version")
    if not installed:
        return VersionCheck(False, "", "no version in inventory")
    # a distribution's own record (OSV Debian, Alpine, AlmaLinux ...) names package versions
    # whole: its fix is often a new revision of the same upstream (3.0.11-1~deb12u2), so the
    # installed version is compared whole too; lists naming upstream versions get upstream
    up = installed.strip() if _packaged(pt, listed, version_range) else upstream_of(pt, installed)
    scheme = pt if pt in _VERSION_CLASS else "generic"
    for lv in listed:
        if _equal(pt, up, lv):
            return VersionCheck(True, up, _why(installed, up, f"listed version {lv}", scheme))
    if version_range and version_range.lower().startswith("vers:generic/"):
        got = in_generic_range(pt, up, version_range)
        if got is None:
            return VersionCheck(False, up, f"cannot compare {up!r} with {version_range}")
        if got:
            return VersionCheck(True, up, _why(installed, up, f"in {version_range}", scheme))
    elif version_range and (fast := in_vers(pt, up, version_range)) is not None:
        if fast:
            return VersionCheck(True, up, _why(installed, up, f"in {version_range}", scheme))
    elif version_range:
        try:
            rng = _version_range(version_range)
            if _parse(pt, up) in rng:
                return VersionCheck(True, up, _why(installed, up, f"in {version_range}", scheme))
        except Exception:  # a range of another scheme or junk version: no match, say why
            return VersionCheck(False, up, f"cannot compare {up!r} with {version_range}")
    what = "version" if up == installed.strip() else "upstream"
    return VersionCheck(False, up, f"{what} {up} is not a listed version")


def _packaged(pt: str, listed: tuple[str, ...], version_range: str | None) -> bool:
    """Do the listed versions or the range's bounds carry an epoch or a packaging revision
    (deb ``1:2.3-1``, rpm ``2.3-4.el9``, apk ``2.3-r1``)?"""
    if pt not in ("deb", "rpm", "apk"):
        return False
    bounds = list(listed)
    if version_range and "/" in version_range:
        bounds += [_OPS.sub(r"\2", b.strip()) for b in version_range.split("/", 1)[1].split("|")]
    if pt == "apk":
        return any(_APK_REL.search(b) for b in bounds)
    return any("-" in b or ":" in b for b in bounds)


@lru_cache(maxsize=65536)
def _version_range(text: str) -> VersionRange:
    """A ``vers:`` range, parsed once (a feed's ranges are checked against many versions)."""
    return VersionRange.from_string(text)


def _why(installed: str, up: str, what: str, scheme: str) -> str:
    if up == installed:
        return f"version {installed} is {what} ({scheme} ordering)"
    return f"version {installed} has upstream {up}, {what} ({scheme} ordering)"


_OPS = re.compile(r"^(>=|<=|!=|<|>|=)?(.+)$")


def _cmp(package_type: str, a: str, b: str) -> int:
    """-1, 0, 1: ``a`` against ``b`` in the package type's ordering (generic when the two do
    not parse alike)."""
    pa, pb = _parse(package_type, a), _parse(package_type, b)
    if type(pa) is not type(pb):
        pa, pb = _generic_key(a), _generic_key(b)
    try:
        return (pa > pb) - (pa < pb)  # type: ignore[operator]
    except TypeError:
        ka, kb = _generic_key(a), _generic_key(b)
        return (ka > kb) - (ka < kb)


def in_generic_range(package_type: str, version: str, vers: str) -> bool | None:
    """Is ``version`` in a ``vers:generic/...`` range (CPE ranges from NVD), ordered by the
    package type's own semantics where it has them, else numerically segment by segment?
    The algorithm of the vers specification; None when the range cannot be read."""
    body = vers.split("/", 1)[1] if "/" in vers else ""
    if body.strip() == "*":
        return True
    cons: list[tuple[str, str]] = []
    for part in body.split("|"):
        m = _OPS.match(part.strip())
        if not m or not m.group(2):
            return None
        cons.append((m.group(1) or "=", m.group(2)))
    if not cons:
        return None
    if any(op == "=" and _cmp(package_type, version, v) == 0 for op, v in cons):
        return True
    if any(op == "!=" and _cmp(package_type, version, v) == 0 for op, v in cons):
        return False
    rest = [(op, v) for op, v in cons if op not in ("=", "!=")]
    if not rest:
        return False
    import functools

    def order(x: tuple[str, str], y: tuple[str, str]) -> int:
        return _cmp(package_type, x[1], y[1])

    rest.sort(key=functools.cmp_to_key(order))
    for n, (op, v) in enumerate(rest):
        c = _cmp(package_type, version, v)
        if n == 0 and op in ("<", "<=") and (c < 0 or (op == "<=" and c == 0)):
            return True
        if n == len(rest) - 1 and op in (">", ">=") and (c > 0 or (op == ">=" and c == 0)):
            return True
        if n + 1 < len(rest) and op in (">", ">="):
            nop, nv = rest[n + 1]
            if nop in ("<", "<="):
                c2 = _cmp(package_type, version, nv)
                lo = c > 0 or (op == ">=" and c == 0)
                hi = c2 < 0 or (nop == "<=" and c2 == 0)
                if lo and hi:
                    return True
    return False
