"""Which release cycle an inventory item is: operating systems from host facts, runtimes and
libraries from packages (Windows, Windows Server, Debian, Ubuntu, RHEL, macOS, Python, Node.js,
OpenSSL, Oracle Java, Eclipse Temurin).

:func:`os_release` reads a host's ``platform|os_name|os_version`` key, :func:`package_release`
a software row's ``package_type|name|version`` key; each answers ``(product, cycle, why)`` —
endoflife.date's product id and cycle — or None. Both are asked once per *distinct* key by the
matching engine (probe ``release_cycle``) and cached.

The cycles come from :func:`catalog`: kitvet's bundled snapshot of endoflife.date
(``identify/data/endoflife.json``, with its source and date), replaced by the copy
``kitvet update-data`` fetched into the data dir when that one is newer.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from kitvet.identify.endoflife import Cycle, ReleaseCatalog, ReleaseSkip, read_paths

logger = logging.getLogger(__name__)

RELEASES_FILE = "endoflife.json"
#: Products recognised from host facts (the others from packages: see PACKAGE_RULES).
OS_PRODUCTS: tuple[str, ...] = ("windows", "windows-server", "debian", "ubuntu", "rhel", "macos")
_NUM = re.compile(r"\d+|[a-z]+")


@dataclass(frozen=True)
class PackageRule:
    """Package names (full match, lower case) that are a product, for some package types."""

    product: str
    names: re.Pattern[str]
    package_types: tuple[str, ...] | None  # None: any type, including none


#: Which packages are which product. Only the package people upgrade is named (python3.7, not
#: libpython3.7-stdlib), so one install gives one finding.
PACKAGE_RULES: tuple[PackageRule, ...] = (
    PackageRule("python", re.compile(r"python[23]\.\d+"), ("deb",)),
    PackageRule("python", re.compile(r"python[23]?(?:\.?\d+)?"), ("rpm", "apk")),
    PackageRule("python", re.compile(r"python \d+\.\d+\.\d+ \((?:64|32)-bit\)"), None),
    PackageRule("nodejs", re.compile(r"nodejs"), ("deb", "rpm", "apk")),
    PackageRule("nodejs", re.compile(r"node\.js"), None),
    PackageRule("openssl", re.compile(r"openssl|libssl\d+(?:\.\d+)*(?:t64)?"), ("deb", "apk")),
    PackageRule("openssl", re.compile(r"openssl(?:\d+)?(?:-libs)?"), ("rpm",)),
    PackageRule("openssl", re.compile(r"(?:win(?:32|64) )?openssl(?: v?\d[\w.]*)?(?: light)?"
                                      r"(?: \((?:64|32)-bit\))?"), None),
    PackageRule("eclipse-temurin", re.compile(r"temurin-\d+-(?:jdk|jre)"), ("deb", "rpm", "apk")),
    PackageRule("eclipse-temurin", re.compile(r"eclipse temurin (?:jdk|jre)\b.*"), None),
    PackageRule("oracle-jdk", re.compile(r"(?:jdk|jre)(?:-\d+|1\.\d+(?:\.\d+)?)"), ("rpm",)),
    PackageRule("oracle-jdk", re.compile(
        r"java(?:\(tm\))? (?:\d+ update \d+|se (?:development kit|runtime environment)\b.*"
        r"|\d+)(?: \((?:64|32)-bit\))?"), None),
)

#: Name prefixes every rule's names start with (lower case): the SQL pre-filter of the probe.
NAME_PREFIXES: tuple[str, ...] = ("python", "nodejs", "node.js", "openssl", "libssl",
                                  "win64 openssl", "win32 openssl", "temurin-",
                                  "eclipse temurin", "jdk", "jre", "java")

#: Package types whose version has a packaging revision to strip (epoch, -1, -r2).
_PACKAGED = ("deb", "rpm", "apk")


# -- the catalog ------------------------------------------------------------------------------
def bundled_path() -> Path:
    """The bundled snapshot (``kitvet/identify/data/endoflife.json``)."""
    return Path(str(resources.files("kitvet.identify").joinpath("data", RELEASES_FILE)))


def updated_path() -> Path:
    """Where ``kitvet update-data`` keeps its copy (``<data dir>/endoflife.json``)."""
    from kitvet.identify.hardware import data_dir

    return data_dir() / RELEASES_FILE


@lru_cache(maxsize=1)
def catalog() -> ReleaseCatalog:
    """The release data in force: ``$KITVET_RELEASES`` if set, else the newer of the updated
    copy and the bundled snapshot (by the date each says it holds)."""
    env = os.environ.get("KITVET_RELEASES")
    candidates = [Path(env)] if env else [updated_path(), bundled_path()]
    best: ReleaseCatalog | None = None
    for path in candidates:
        if not path.is_file():
            continue
        got, skipped = read_paths([path])
        for s in skipped:
            logger.warning("release data %s", s)
        got = ReleaseCatalog(got.products, got.source, got.date, origin=str(path))
        if got.products and (best is None or got.date > best.date):
            best = got
    return best or ReleaseCatalog(source="none", date="")


def reset() -> None:
    """Forget the cached catalog and answers (after ``update-data`` or in tests)."""
    catalog.cache_clear()
    os_release.cache_clear()
    package_release.cache_clear()


def load(paths: list[Path]) -> tuple[ReleaseCatalog, list[ReleaseSkip]]:
    """Release data read from files or folders (for ``update-data --releases-from``)."""
    return read_paths(paths)


def display_name(product: str, c: Cycle, title: str | None = None) -> str:
    """``Python 3.7``, ``Debian 10 (Buster)``, ``Microsoft Windows Server 2012 R2`` (``title``:
    the product's, default from the catalog in force)."""
    if title is None:
        p = catalog().products.get(product)
        title = p.title if p else product
    words = title.split()
    first = c.name.split()[0] if c.name.split() else ""
    if first in words:  # the label repeats the title ("Windows Server 2012 R2")
        return " ".join([*words[:words.index(first)], c.name])
    return f"{title} {c.name}"


# -- versions to cycles -------------------------------------------------------------------------
def _tokens(text: str) -> tuple[int | str, ...]:
    return tuple(int(t) if t.isdigit() else t for t in _NUM.findall(text.lower()))


def cycle_of_version(product: str, version: str) -> Cycle | None:
    """The cycle whose number is a prefix of ``version`` (``3.7`` of ``3.7.9``, never ``3.1``
    of ``3.10.2``); the longest such cycle."""
    p = catalog().products.get(product)
    if p is None:
        return None
    have = _tokens(version)
    best: Cycle | None = None
    for c in p.cycles:
        want = _tokens(c.cycle)
        if want and all(isinstance(t, int) for t in want) and have[:len(want)] == want and (
                best is None or len(want) > len(_tokens(best.cycle))):
            best = c
    return best


def _upstream(package_type: str, version: str) -> str:
    v = version.strip()
    if package_type in _PACKAGED:
        v = v.split(":", 1)[1] if re.match(r"^\d+:", v) else v
        v = re.sub(r"-r\d+$", "", v) if package_type == "apk" else v.rsplit("-", 1)[0]
    return v


def _java_version(v: str) -> str:
    """Java's 1.x numbering as the cycle's (``1.8.0_381`` → ``8.0_381``); 1.4 stays 1.4."""
    m = re.match(r"^1\.(\d+)(.*)$", v)
    return f"{m.group(1)}{m.group(2)}" if m and int(m.group(1)) >= 5 else v


@lru_cache(maxsize=65536)
def package_release(key: str) -> tuple[str, str, str] | None:
    """``package_type|name|version`` → (product, cycle, why), or None."""
    ptype, _, rest = key.partition("|")
    name, _, version = rest.rpartition("|")
    ptype, low = ptype.strip().lower(), name.strip().lower()
    if not version.strip():
        return None
    for rule in PACKAGE_RULES:
        if rule.package_types is not None and ptype not in rule.package_types:
            continue
        if not rule.names.fullmatch(low):
            continue
        up = _upstream(ptype, version)
        if rule.product == "oracle-jdk":
            up = _java_version(up)
        c = cycle_of_version(rule.product, up)
        if c is None:
            return None
        shown = f"{ptype} package" if ptype else "program"
        return (rule.product, c.cycle,
                f"{shown} {name} {version} → {display_name(rule.product, c)} "
                f"(endoflife.date {rule.product} {c.cycle})")
    return None


# -- operating systems --------------------------------------------------------------------------
def _version_text(name: str, version: str) -> str:
    return version if re.search(r"\d", version) else " ".join(re.findall(r"\d+(?:\.\d+)*", name))


def _windows_flags(cycle: str) -> set[str]:
    return set(cycle.split("-")[2:])


def _windows_client(lname: str, version: str) -> Cycle | None:
    p = catalog().products.get("windows")
    if p is None:
        return None
    builds = {c.latest.split(".")[-1]: c for c in p.cycles if c.latest}
    found = next((t for t in re.findall(r"\d{4,5}", version) if t in builds), None)
    if found is None:
        return None
    cands = [c for c in p.cycles if c.latest and c.latest.split(".")[-1] == found]
    lts = "ltsc" in lname or "ltsb" in lname
    iot = "iot" in lname
    ent = any(w in lname for w in ("enterprise", "education"))

    def fits(c: Cycle) -> int:
        f = _windows_flags(c.cycle)
        if ("lts" in f) != lts or ("iot" in f) != iot:
            return 0
        if not f - {"lts", "iot"}:
            return 1
        return 2 if ("e" in f) == (ent or lts) else 0
    ranked = sorted((fits(c), n) for n, c in enumerate(cands))
    best = [n for score, n in ranked if score == ranked[-1][0] and score > 0]
    return cands[best[0]] if len(best) == 1 else None


_SERVER_YEARS = {"2025": "2025", "2022": "2022", "2019": "2019", "2016": "2016"}


def _windows_server(lname: str, version: str) -> Cycle | None:
    p = catalog().products.get("windows-server")
    if p is None:
        return None
    m = re.search(r"\b(2000|2003|2008|2012|2016|2019|2022|2025)\b( r2)?", lname)
    if m:
        year, r2 = m.group(1), bool(m.group(2))
        want = {"2012": "2012-r2" if r2 else "2012", "2008": "2008-r2-sp1" if r2 else "2008-sp2",
                "2003": "2003-sp1" if "sp1" in lname else "2003-sp2"}.get(year, year)
        return next((c for c in p.cycles if c.cycle == want), None)
    builds = [c for c in p.cycles if c.latest and c.latest.split(".")[-1] in
              re.findall(r"\d{4,5}", version)]
    return builds[0] if len(builds) == 1 else None


def _os_product(lname: str, platform: str) -> str | None:
    if "windows" in lname or (platform == "windows" and not lname):
        return "windows-server" if "server" in lname else "windows"
    for needle, product in (("debian", "debian"), ("ubuntu", "ubuntu"),
                            ("red hat enterprise linux", "rhel"), ("rhel", "rhel"),
                            ("macos", "macos"), ("mac os x", "macos"), ("os x", "macos")):
        if needle in lname:
            return product
    return None


@lru_cache(maxsize=65536)
def os_release(key: str) -> tuple[str, str, str] | None:
    """``platform|os_name|os_version`` → (product, cycle, why), or None."""
    platform, _, rest = key.partition("|")
    name, _, version = rest.rpartition("|")
    lname = name.strip().lower()
    product = _os_product(lname, platform.strip().lower())
    if product is None:
        return None
    text = _version_text(name, version)
    if product == "windows":
        c = _windows_client(lname, text)
    elif product == "windows-server":
        c = _windows_server(lname, text)
    else:
        c = cycle_of_version(product, text)
    if c is None:
        return None
    seen = " ".join(x for x in (name.strip(), version.strip()) if x)
    return (product, c.cycle, f"operating system {seen} → {display_name(product, c)} "
                              f"(endoflife.date {product} {c.cycle})")


def release_key(kind: str) -> object:
    """For the engine's index: a function giving a distinct key's ``product:cycle`` ('' if
    none) — ``kind`` is ``os`` or ``package``."""
    fn = os_release if kind == "os" else package_release

    def key(k: str) -> str:
        got = fn(k)
        return f"{got[0]}:{got[1]}".lower() if got else ""
    return key
