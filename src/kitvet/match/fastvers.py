"""Sort keys for Debian and RPM versions, and ``vers:`` ranges checked with them.

A vulnerability feed brings tens of thousands of ranges over Debian and RPM packages; each is
checked once per distinct installed version. univers parses a range and compares its versions
in pure Python objects on every check (milliseconds each); here a version becomes a tuple once
(cached) and a range a list of (comparator, tuple) once, so a check is a few tuple
comparisons. The keys follow the tools' own algorithms:

* dpkg (``verrevcmp``): epoch, then upstream and revision each as alternating non-digit and
  digit runs; in non-digit runs ``~`` sorts before the end of the run, letters before other
  characters; digit runs compare as numbers;
* rpm (``rpmvercmp``): alphanumeric segments, separators ignored; ``~`` sorts before the end,
  ``^`` after the end but before any segment, letters before digits, digits as numbers.

:func:`in_vers` gives the same answers as univers for ``vers:deb`` and ``vers:rpm`` ranges
(tests compare them); other schemes are not handled here (None).
"""

from __future__ import annotations

import re
from functools import lru_cache

_RUN = re.compile(r"(\D*)(\d*)")
_RPM_SEG = re.compile(r"~|\^|[A-Za-z]+|\d+")
_OPS = re.compile(r"^(>=|<=|!=|<|>|=)?(.+)$")
_END = ((0,), 0)


def _weight(c: str) -> int:
    if c == "~":
        return -1
    if c.isalpha():
        return ord(c)
    return ord(c) + 256


def _dpkg_part(text: str) -> tuple:
    out: list = []
    for chars, digits in _RUN.findall(text):
        if not chars and not digits:
            continue
        out.append((*(_weight(c) for c in chars), 0))
        out.append(int(digits) if digits else 0)
    while len(out) >= 2 and out[-2] == (0,) and out[-1] == 0:  # "1.0-0" is "1.0"
        del out[-2:]
    out += _END  # a shorter version continues as an empty run: "1.0~rc" < "1.0" < "1.0.0"
    return tuple(out)


def _split(version: str) -> tuple[int, str, str]:
    """(epoch, version, release) of ``[epoch:]version[-release]``, as dpkg and rpm both write it
    (the release after the last hyphen)."""
    v = version.strip()
    epoch = 0
    if ":" in v and v.split(":", 1)[0].isdigit():
        e, v = v.split(":", 1)
        epoch = int(e)
    ver, _, rel = v.rpartition("-") if "-" in v else (v, "", "")
    return epoch, ver, rel


@lru_cache(maxsize=262144)
def deb_key(version: str) -> tuple:
    """Sort key of a Debian version (``[epoch:]upstream[-revision]``)."""
    epoch, upstream, revision = _split(version)
    return (epoch, _dpkg_part(upstream), _dpkg_part(revision))


def _rpm_part(text: str) -> tuple:
    out: list[tuple] = []
    for seg in _RPM_SEG.findall(text):
        if seg == "~":
            out.append((0,))
        elif seg == "^":
            out.append((2,))
        elif seg.isdigit():
            out.append((4, int(seg)))
        else:
            out.append((3, seg))
    out.append((1,))  # the end: after "~", before "^" and any segment
    return tuple(out)


@lru_cache(maxsize=262144)
def rpm_key(version: str) -> tuple:
    """Sort key of an RPM version (``[epoch:]version[-release]``)."""
    epoch, ver, rel = _split(version)
    return (epoch, _rpm_part(ver), _rpm_part(rel))


KEYS = {"deb": deb_key, "rpm": rpm_key}


@lru_cache(maxsize=65536)
def _constraints(vers: str) -> tuple[str, tuple[tuple[str, tuple], ...]] | None:
    scheme, _, body = vers.partition("/")
    key = KEYS.get(scheme.removeprefix("vers:").lower())
    if key is None or not body:
        return None
    if body.strip() == "*":
        return scheme, (("*", ()),)
    out = []
    for part in body.split("|"):
        m = _OPS.match(part.strip())
        if not m:
            return None
        out.append((m.group(1) or "=", key(m.group(2))))
    rest = sorted((c for c in out if c[0] not in ("=", "!=")), key=lambda c: c[1])
    return scheme, tuple([c for c in out if c[0] in ("=", "!=")] + rest)


def in_vers(package_type: str, version: str, vers: str) -> bool | None:
    """Is ``version`` in a ``vers:deb``/``vers:rpm`` range (the vers specification's
    algorithm, dpkg's or rpm's ordering)? None for another scheme, a package type of another
    ordering, or a range that cannot be read."""
    got = _constraints(vers)
    pt = package_type.lower()
    if got is None or got[0].removeprefix("vers:").lower() != pt:
        return None
    _scheme, cons = got
    if cons and cons[0][0] == "*":
        return True
    v = KEYS[pt](version)
    if any(op == "=" and v == k for op, k in cons):
        return True
    if any(op == "!=" and v == k for op, k in cons):
        return False
    rest = [(op, k) for op, k in cons if op not in ("=", "!=")]
    for n, (op, k) in enumerate(rest):
        if n == 0 and op in ("<", "<=") and (v < k or (op == "<=" and v == k)):
            return True
        if n == len(rest) - 1 and op in (">", ">=") and (v > k or (op == ">=" and v == k)):
            return True
        if n + 1 < len(rest) and op in (">", ">="):
            nop, nk = rest[n + 1]
            if nop in ("<", "<=") and (v > k or (op == ">=" and v == k)) and (
                    v < nk or (nop == "<=" and v == nk)):
                return True
    return False
