"""OSV records (the Open Source Vulnerability schema, 1.x): parsed, named by package URL and
checked against versions with each ecosystem's own ordering.

The same schema carries the OpenSSF malicious-packages feed (``MAL-`` ids) and vulnerability
databases (GHSA, PYSEC, RUSTSEC, GO, ...); this module knows nothing of what a record *means*
(:mod:`kitvet.lists.osv_import` turns records into list subjects)::

    rec = parse_record(json.loads(text), file="MAL-2023-462.json")   # OsvError if malformed
    pkg = rec.affected[0]           # OsvPackage: ecosystem, name, purl_type, purl, key, ...

    from kitvet.lists.osv_versions import check_version, to_vers
    check_version(pkg, "1.2.10")    # VersionVerdict(True, "1.0.0 <= 1.2.10 < 1.2.11 (SEMVER)")
    to_vers(pkg)                    # "vers:npm/>=1.0.0|<1.2.11" (what list identifiers carry)

Records are read from one JSON file, a folder tree or a zip by
:func:`kitvet.lists.osv_import.read_source`.
Ecosystems map to purl types (:data:`ECOSYSTEMS`); an ecosystem not in the map is reported
by :class:`UnknownEcosystem`, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from kitvet.errors import ListError

#: OSV ecosystem (the part before any ``:``) -> (purl type, purl namespace for distributions).
ECOSYSTEMS: dict[str, tuple[str, str | None]] = {
    "npm": ("npm", None), "PyPI": ("pypi", None), "RubyGems": ("gem", None),
    "crates.io": ("cargo", None), "NuGet": ("nuget", None), "Maven": ("maven", None),
    "Go": ("golang", None), "Packagist": ("composer", None), "Hex": ("hex", None),
    "Pub": ("pub", None), "Hackage": ("hackage", None), "CRAN": ("cran", None),
    "SwiftURL": ("swift", None), "GitHub Actions": ("github", None),
    "Debian": ("deb", "debian"), "Ubuntu": ("deb", "ubuntu"), "Alpine": ("apk", "alpine"),
    "Wolfi": ("apk", "wolfi"), "Chainguard": ("apk", "chainguard"),
    "Red Hat": ("rpm", "redhat"), "AlmaLinux": ("rpm", "almalinux"),
    "Rocky Linux": ("rpm", "rocky-linux"), "SUSE": ("rpm", "suse"),
    "openSUSE": ("rpm", "opensuse"), "Mageia": ("rpm", "mageia"),
    "Photon OS": ("rpm", "photon"), "openEuler": ("rpm", "openeuler"),
}
_ECOSYSTEM_BY_LOWER = {k.lower(): k for k in ECOSYSTEMS}

EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")
RANGE_TYPES = ("SEMVER", "ECOSYSTEM", "GIT")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


class OsvError(ListError):
    """An OSV record that cannot be read (the reason names the place in the record)."""


@dataclass(frozen=True)
class OsvRange:
    """One ``ranges`` entry: its type and events in the record's order."""

    type: str  # SEMVER, ECOSYSTEM or GIT
    events: tuple[tuple[str, str], ...]  # (introduced|fixed|last_affected|limit, version)
    repo: str | None = None


@dataclass(frozen=True)
class OsvPackage:
    """One ``affected`` entry: the package, named as OSV writes it and as a purl, with the
    versions and ranges it says are affected."""

    ecosystem: str  # as the record writes it, e.g. "PyPI", "Debian:11"
    name: str  # as the record writes it, e.g. "@ledgerhq/connect-kit", "org.x:artifact"
    purl_type: str  # e.g. "npm", "pypi", "maven", "golang"
    namespace: str | None  # purl namespace: npm scope, Maven group, Go module path head
    purl_name: str  # purl name (normalised per ecosystem)
    versions: tuple[str, ...] = ()
    ranges: tuple[OsvRange, ...] = ()
    record_purl: str | None = None  # the record's own ``package.purl``, if given
    cwes: tuple[str, ...] = ()

    @property
    def purl(self) -> str:
        """The package URL without version (percent-encoded as the purl spec writes it)."""
        ns = "/".join(quote(p, safe="") for p in self.namespace.split("/")) + "/" \
            if self.namespace else ""
        return f"pkg:{self.purl_type}/{ns}{quote(self.purl_name, safe='')}"

    @property
    def key(self) -> str:
        """The comparison key of the package (:func:`purl_key` of :attr:`purl`)."""
        return purl_key(self.purl)


@dataclass(frozen=True)
class OsvReference:
    """One ``references`` entry."""

    type: str
    url: str


@dataclass(frozen=True)
class OsvCredit:
    """One ``credits`` entry (type may be absent)."""

    name: str
    type: str | None = None
    contact: tuple[str, ...] = ()


@dataclass(frozen=True)
class OsvRecord:
    """One OSV record, checked and normalised (dates kept as the record writes them)."""

    id: str
    modified: str
    affected: tuple[OsvPackage, ...]
    published: str | None = None
    withdrawn: str | None = None
    aliases: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    summary: str | None = None
    details: str | None = None
    references: tuple[OsvReference, ...] = ()
    credits: tuple[OsvCredit, ...] = ()
    schema_version: str | None = None
    origins: tuple[str, ...] = ()  # database_specific.malicious-packages-origins[].source
    unknown_ecosystems: tuple[str, ...] = ()  # affected entries left out, by ecosystem
    file: str | None = None

    @property
    def malicious(self) -> bool:
        """True for the malicious-packages feed's records (``MAL-`` ids)."""
        return self.id.upper().startswith("MAL-")


@dataclass(frozen=True)
class UnknownEcosystem:
    """An ``affected`` entry whose ecosystem kitvet has no package type for."""

    record_id: str
    ecosystem: str
    name: str


@dataclass(frozen=True)
class VersionVerdict:
    """Whether one version is affected, and why (or why not)."""

    affected: bool
    why: str


# --- reading -------------------------------------------------------------------------------

def _str(obj: dict[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    v = obj.get(key)
    if v is None:
        if required:
            raise OsvError(f"{where}{key} is missing")
        return None
    if not isinstance(v, str):
        raise OsvError(f"{where}{key} is {type(v).__name__}, not a string")
    if required and not v.strip():
        raise OsvError(f"{where}{key} is empty")
    return v


def _strs(obj: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    v = obj.get(key)
    if v is None:
        return ()
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise OsvError(f"{where}{key} is not a list of strings")
    return tuple(dict.fromkeys(x for x in v if x.strip()))


def _list(obj: dict[str, Any], key: str, where: str) -> list[Any]:
    v = obj.get(key)
    if v is None:
        return []
    if not isinstance(v, list):
        raise OsvError(f"{where}{key} is {type(v).__name__}, not a list")
    return v


def _date(obj: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    v = _str(obj, key, "", required=required)
    if v is not None and not _DATE.match(v):
        raise OsvError(f"{key} {v[:40]!r} is not an RFC 3339 time")
    return v


def parse_record(obj: Any, *, file: str | None = None) -> OsvRecord:
    """One OSV record (a parsed JSON object) as an :class:`OsvRecord`.

    Raises :class:`OsvError` with the place of the first problem (a missing id, an event
    that is not one of introduced/fixed/last_affected/limit, ...). ``affected`` entries of
    an ecosystem kitvet does not know are left out and named in ``unknown_ecosystems``.
    """
    if not isinstance(obj, dict):
        raise OsvError("not an OSV record (a JSON object)", file=file)
    try:
        rid = _str(obj, "id", "", required=True)
        assert rid is not None
        modified = _date(obj, "modified", required=True)
        assert modified is not None
        affected, unknown = [], []
        for n, a in enumerate(_list(obj, "affected", "")):
            pkg = _package(a, f"affected[{n}].")
            if isinstance(pkg, UnknownEcosystem):
                unknown.append(pkg.ecosystem)
            elif pkg is not None:
                affected.append(pkg)
        refs = tuple(_reference(r, f"references[{n}].")
                     for n, r in enumerate(_list(obj, "references", "")))
        credits = tuple(_credit(c, f"credits[{n}].")
                        for n, c in enumerate(_list(obj, "credits", "")))
        dbs = obj.get("database_specific")
        origins: list[str] = []
        if isinstance(dbs, dict) and isinstance(dbs.get("malicious-packages-origins"), list):
            origins = [o["source"] for o in dbs["malicious-packages-origins"]
                       if isinstance(o, dict) and isinstance(o.get("source"), str)]
        return OsvRecord(
            id=rid.strip(), modified=modified, affected=tuple(affected),
            published=_date(obj, "published"), withdrawn=_date(obj, "withdrawn"),
            aliases=_strs(obj, "aliases", ""), related=_strs(obj, "related", ""),
            summary=_str(obj, "summary", ""), details=_str(obj, "details", ""),
            references=refs, credits=credits,
            schema_version=_str(obj, "schema_version", ""),
            origins=tuple(dict.fromkeys(origins)),
            unknown_ecosystems=tuple(dict.fromkeys(unknown)), file=file)
    except OsvError as e:
        raise OsvError(e.message, file=file) from e


def _package(a: Any, where: str) -> OsvPackage | UnknownEcosystem | None:
    if not isinstance(a, dict):
        raise OsvError(f"{where[:-1]} is not an object")
    p = a.get("package")
    if p is None:  # OSV allows affected entries without a package (git-only); nothing to match
        return None
    if not isinstance(p, dict):
        raise OsvError(f"{where}package is not an object")
    eco = _str(p, "ecosystem", f"{where}package.", required=True)
    name = _str(p, "name", f"{where}package.", required=True)
    assert eco is not None and name is not None
    base = _ECOSYSTEM_BY_LOWER.get(eco.split(":", 1)[0].strip().lower())
    if base is None:
        return UnknownEcosystem("", eco, name)
    ptype, distro = ECOSYSTEMS[base]
    namespace, pname = package_name_parts(ptype, name.strip(), distro)
    ranges = tuple(_range(r, f"{where}ranges[{n}].")
                   for n, r in enumerate(_list(a, "ranges", where)))
    versions = _strs(a, "versions", where)
    cwes: list[str] = []
    dbs = a.get("database_specific")
    if isinstance(dbs, dict) and isinstance(dbs.get("cwes"), list):
        cwes = [c["cweId"] for c in dbs["cwes"] if isinstance(c, dict)
                and isinstance(c.get("cweId"), str)]
    if not versions and not any(r.type != "GIT" for r in ranges):
        raise OsvError(f"{where[:-1]} names neither versions nor a SEMVER/ECOSYSTEM range")
    return OsvPackage(ecosystem=eco, name=name, purl_type=ptype, namespace=namespace,
                      purl_name=pname, versions=versions, ranges=ranges,
                      record_purl=_str(p, "purl", f"{where}package."), cwes=tuple(cwes))


def package_name_parts(ptype: str, name: str, distro: str | None = None
                       ) -> tuple[str | None, str]:
    """(purl namespace, purl name) of a package as OSV names it in ecosystem ``ptype``:
    npm ``@scope/name``, Maven ``group:artifact``, Go module paths (namespace = all but the
    last segment), PyPI names normalised as PEP 503 says; distribution packages take the
    distribution as namespace."""
    if ptype == "npm" and name.startswith("@") and "/" in name:
        scope, rest = name.split("/", 1)
        return scope, rest
    if ptype == "maven" and ":" in name:
        group, artifact = name.split(":", 1)
        return group, artifact
    if ptype in ("golang", "swift", "github") and "/" in name:
        head, last = name.rstrip("/").rsplit("/", 1)
        return head, last
    if ptype == "pypi":
        return None, pep503(name)
    if ptype in ("nuget", "cargo", "gem", "composer", "hex", "pub"):
        return (None, name.lower()) if ptype != "composer" else _composer(name)
    return distro, name


def _composer(name: str) -> tuple[str | None, str]:
    low = name.lower()
    return tuple(low.split("/", 1)) if "/" in low else (None, low)  # type: ignore[return-value]


def pep503(name: str) -> str:
    """A Python distribution name normalised as PEP 503 says (``Foo_Bar.baz`` → ``foo-bar-baz``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def purl_key(purl: str) -> str:
    """The comparison key of a package URL: without version, qualifiers and subpath,
    percent-decoded, lower case, PyPI names as PEP 503 says. ``pkg:npm/%40scope/x@1.0`` and
    ``pkg:npm/@Scope/x`` have the same key."""
    base = purl.strip().split("#", 1)[0].split("?", 1)[0]
    head, _, last = base.rpartition("/")
    if "@" in last and not last.startswith("@"):
        last = last.rsplit("@", 1)[0]
    elif "@" in last[1:]:
        last = last[0] + last[1:].rsplit("@", 1)[0]
    key = unquote(f"{head}/{last}" if head else last).lower()
    if key.startswith("pkg:pypi/"):
        key = "pkg:pypi/" + pep503(key[9:])
    return key


def _range(r: Any, where: str) -> OsvRange:
    if not isinstance(r, dict):
        raise OsvError(f"{where[:-1]} is not an object")
    rtype = _str(r, "type", where, required=True)
    assert rtype is not None
    if rtype not in RANGE_TYPES:
        raise OsvError(f"{where}type {rtype[:40]!r} is not SEMVER, ECOSYSTEM or GIT")
    events = []
    for n, ev in enumerate(_list(r, "events", where)):
        if not isinstance(ev, dict) or len(ev) != 1:
            raise OsvError(f"{where}events[{n}] is not one introduced/fixed/last_affected/limit")
        ((kind, version),) = ev.items()
        if kind not in EVENT_KINDS or not isinstance(version, str) or not version.strip():
            raise OsvError(f"{where}events[{n}]: {kind!r} is not a version event")
        events.append((kind, version.strip()))
    if not any(k == "introduced" for k, _ in events):
        raise OsvError(f"{where}events has no introduced event")
    return OsvRange(rtype, tuple(events), _str(r, "repo", where))


def _reference(r: Any, where: str) -> OsvReference:
    if not isinstance(r, dict):
        raise OsvError(f"{where[:-1]} is not an object")
    url = _str(r, "url", where, required=True)
    assert url is not None
    return OsvReference(_str(r, "type", where) or "WEB", url.strip())


def _credit(c: Any, where: str) -> OsvCredit:
    if not isinstance(c, dict):
        raise OsvError(f"{where[:-1]} is not an object")
    name = _str(c, "name", where, required=True)
    assert name is not None
    return OsvCredit(name.strip(), _str(c, "type", where), _strs(c, "contact", where))
