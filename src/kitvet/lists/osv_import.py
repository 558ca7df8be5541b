"""OSV records as a kitvet list: the malicious-packages feed (``MAL-`` ids) as subjects of
confirmed malicious versions.

Records are read from one JSON file (a record, a JSON array of records or an osv.dev
``{"vulns": [...]}`` answer), a folder tree of such files, or a zip (an ecosystem's
``all.zip``). Each record becomes one subject (id: the OSV id in lower case) with, per
affected package, a ``purl`` identifier (and a ``package_name`` one where inventories name
the package by name alone) carrying the listed versions and the ranges as a ``vers:`` range,
and one assertion by the record's source: authority, instrument (the OSV id and summary),
date (``published``), the osv.dev page, credits, aliases and references.

What is not imported is said, never dropped in silence: a malformed record (file and
reason), a withdrawn one, an ecosystem kitvet has no package type for, a record that is
not a malicious-package record.
"""

from __future__ import annotations

import json
import logging
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kitvet.errors import ListError
from kitvet.lists.format import LIST_FORMAT_VERSION
from kitvet.lists.osv import OsvError, OsvPackage, OsvRecord, parse_record
from kitvet.lists.osv_versions import intervals, to_vers

logger = logging.getLogger(__name__)

#: Largest single OSV file (or zip member) read; real records are a few kB.
MAX_RECORD_BYTES = 8 * 1024 * 1024
_CTL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x1b]")
#: Id prefixes of OSV databases -> (authority, authority id for policy profiles).
DATABASES: dict[str, tuple[str, str]] = {
    "MAL": ("OpenSSF Malicious Packages", "ossf-malicious-packages"),
    "GHSA": ("GitHub Advisory Database", "github-advisories"),
    "PYSEC": ("PyPI Advisory Database", "pypa-advisories"),
    "RUSTSEC": ("RustSec Advisory Database", "rustsec"),
    "GO": ("Go Vulnerability Database", "go-vulndb"),
}
#: Package types whose inventory rows may carry only a name (osquery npm_packages, CSV):
#: those packages also get a package_name identifier.
_NAME_TYPES = frozenset({"npm", "pypi", "gem", "cargo", "nuget", "composer"})


@dataclass(frozen=True)
class OsvSkip:
    """A record (or file) not imported, with where it was and why."""

    file: str
    reason: str
    record_id: str | None = None


@dataclass
class OsvImportReport:
    """What an import read, kept, and left out (and why)."""

    read: int = 0
    imported: int = 0
    skipped: list[OsvSkip] = field(default_factory=list)  # malformed
    withdrawn: list[OsvSkip] = field(default_factory=list)
    unknown_ecosystems: list[OsvSkip] = field(default_factory=list)
    not_imported: list[OsvSkip] = field(default_factory=list)  # other kinds of record

    def lines(self) -> list[str]:
        """The report as lines for a terminal (left out first, then the counts)."""
        out = [f"skipped {s.file}: {s.reason}" for s in self.skipped]
        out += [f"unknown ecosystem in {s.file} ({s.record_id}): {s.reason}"
                for s in self.unknown_ecosystems]
        out += [f"withdrawn {s.record_id} ({s.file}): {s.reason}" for s in self.withdrawn]
        out += [f"not imported {s.record_id} ({s.file}): {s.reason}" for s in self.not_imported]
        out.append(f"{self.read} records read: {self.imported} imported, {len(self.skipped)} "
                   f"malformed, {len(self.withdrawn)} withdrawn, "
                   f"{len(self.unknown_ecosystems)} of unknown ecosystems, "
                   f"{len(self.not_imported)} of other kinds")
        return out


# --- reading files -------------------------------------------------------------------------

def read_source(path: str | Path) -> Iterator[tuple[str, Any]]:
    """(place, parsed JSON object or OsvSkip) for every record at ``path``: a JSON file,
    a folder tree (``*.json``, in path order) or a zip."""
    p = Path(path)
    if p.is_dir():
        for f in sorted(x for x in p.rglob("*.json") if x.is_file()):
            yield from _from_bytes(str(f.relative_to(p)), _read(f))
    elif zipfile.is_zipfile(p):
        try:
            with zipfile.ZipFile(p) as zf:
                for info in sorted(zf.infolist(), key=lambda i: i.filename):
                    if info.is_dir() or not info.filename.endswith(".json"):
                        continue
                    place = f"{p.name}:{info.filename}"
                    if info.file_size > MAX_RECORD_BYTES:
                        yield place, OsvSkip(place, f"larger than {MAX_RECORD_BYTES} bytes")
                        continue
                    yield from _from_bytes(place, zf.read(info))
        except (zipfile.BadZipFile, OSError) as e:
            raise ListError(f"cannot read zip: {e}", file=p.name) from e
    else:
        yield from _from_bytes(p.name, _read(p))


def _read(f: Path) -> bytes | OsvSkip:
    try:
        if f.stat().st_size > MAX_RECORD_BYTES * 8:
            return OsvSkip(f.name, f"larger than {MAX_RECORD_BYTES * 8} bytes")
        return f.read_bytes()
    except OSError as e:
        return OsvSkip(str(f), f"cannot read: {e.strerror or e}")


def _from_bytes(place: str, data: bytes | OsvSkip) -> Iterator[tuple[str, Any]]:
    if isinstance(data, OsvSkip):
        yield place, OsvSkip(place, data.reason)
        return
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        yield place, OsvSkip(place, f"not JSON: {e}")
        return
    if isinstance(obj, dict) and isinstance(obj.get("vulns"), list):
        obj = obj["vulns"]
    if isinstance(obj, list):
        for n, rec in enumerate(obj):
            yield f"{place}[{n}]", rec
    else:
        yield place, obj


def looks_like_osv(obj: Any) -> bool:
    """Whether a parsed JSON document is an OSV record (or a list of them)."""
    if isinstance(obj, dict) and isinstance(obj.get("vulns"), list):
        obj = obj["vulns"]
    if isinstance(obj, list) and obj:
        obj = obj[0]
    return isinstance(obj, dict) and "id" in obj and "modified" in obj and (
        "affected" in obj or "schema_version" in obj or "withdrawn" in obj)


# --- records -> list document --------------------------------------------------------------

def malicious_only(rec: OsvRecord) -> str | None:
    """The assertion kind of a record: ``confirmed-malicious-version`` for the malicious-
    packages feed (``MAL-`` ids), None (not imported) for any other."""
    return "confirmed-malicious-version" if rec.malicious else None


def vulnerabilities_only(rec: OsvRecord) -> str | None:
    """The assertion kind of a vulnerability record (GHSA-, PYSEC-, GO-, RUSTSEC-, a
    distribution's ...): ``vulnerable-version``; None for a malicious-package record, which
    ``kitvet lists import`` imports without ``--vulnerabilities``. Its CVE aliases join the
    KEV catalogue at review time (:func:`kitvet.lists.kev.with_kev`)."""
    return None if rec.malicious else "vulnerable-version"


#: Why ``kind_for`` left a record out, for the import report.
LEFT_OUT: dict[Callable[[OsvRecord], str | None], str] = {
    malicious_only: "not a malicious-package (MAL-) record",
            vulnerabilities_only: "a malicious-package (MAL-) record: import it without "
                                  "--vulnerabilities"}


def read_records(path: str | Path, report: OsvImportReport) -> dict[str, OsvRecord]:
    """Every well-formed record at ``path`` by id (the newest ``modified`` wins when an id
    comes twice; a withdrawn copy withdraws it); problems go to ``report``."""
    records: dict[str, OsvRecord] = {}
    for place, obj in read_source(path):
        report.read += 1
        if isinstance(obj, OsvSkip):
            report.skipped.append(obj)
            continue
        try:
            rec = parse_record(obj, file=place)
            _check_text(rec)
        except OsvError as e:
            report.skipped.append(OsvSkip(place, e.message,
                                          obj.get("id") if isinstance(obj, dict) else None))
            logger.warning("%s", e)
            continue
        old = records.get(rec.id)
        if old is None or rec.withdrawn or (not old.withdrawn and rec.modified > old.modified):
            records[rec.id] = rec
    return records


def _check_text(rec: OsvRecord) -> None:
    """Names and versions become identifiers: control characters or oversize values would
    match nothing (or the wrong thing), so such a record is refused, not cleaned."""
    for n, p in enumerate(rec.affected):
        for what, v in (("name", p.name), *(("versions", x) for x in p.versions),
                        *(("range event", e[1]) for r in p.ranges for e in r.events)):
            if _CTL.search(v) or len(v) > 200 or (what != "name" and "|" in v):
                raise OsvError(f"affected[{n}] {what} {v[:40]!r} is not a usable value")


def records_to_document(
    records: dict[str, OsvRecord], report: OsvImportReport, *, name: str = "osv-malicious",
    kind_for: Callable[[OsvRecord], str | None] = malicious_only,
) -> dict[str, Any]:
    """A list document of the records that are neither withdrawn nor of another kind
    (``kind_for`` gives a record's assertion kind, None to leave it out)."""
    subjects: list[dict[str, Any]] = []
    seen: set[str] = set()
    for rid in sorted(records):
        rec = records[rid]
        place = rec.file or rid
        for eco in rec.unknown_ecosystems:
            report.unknown_ecosystems.append(OsvSkip(
                place, f"{eco!r} has no package type in kitvet; its packages are not imported",
                rid))
        if rec.withdrawn:
            report.withdrawn.append(OsvSkip(place, f"withdrawn {rec.withdrawn}", rid))
            continue
        kind = kind_for(rec)
        if kind is None:
            report.not_imported.append(OsvSkip(place, LEFT_OUT.get(kind_for, "not imported"),
                                               rid))
            continue
        if not rec.affected:
            if not rec.unknown_ecosystems:
                report.skipped.append(OsvSkip(place, "no affected package", rid))
            continue
        sid = _subject_id(rid, seen)
        subjects.append(_subject(rec, sid, kind))
        report.imported += 1
    newest = max((r.modified for r in records.values()), default="1970-01-01T00:00:00Z")
    return {"kitvet_list": LIST_FORMAT_VERSION, "name": name,
            "publisher": "imported by kitvet from OSV records",
            "version": _text(newest, 100), "date": newest[:10],
            "description": f"{len(subjects)} OSV records imported by kitvet "
                           f"(newest modified {newest})",
            "subjects": subjects}


def _subject_id(rid: str, seen: set[str]) -> str:
    sid = re.sub(r"[^a-z0-9-]+", "-", rid.lower()).strip("-")[:90] or "osv"
    if not sid[0].isalnum():
        sid = "osv-" + sid
    base, n = sid, 2
    while sid in seen:
        sid, n = f"{base}-{n}", n + 1
    seen.add(sid)
    return sid


def _text(v: str | None, limit: int) -> str:
    return _CTL.sub(" ", v or "").strip()[:limit]


def _subject(rec: OsvRecord, sid: str, kind: str) -> dict[str, Any]:
    names = [f"{p.name} ({p.ecosystem})" for p in rec.affected]
    shown = ", ".join(dict.fromkeys(names[:3])) + (
        f" and {len(names) - 3} more" if len(names) > 3 else "")
    subject: dict[str, Any] = {
        "id": sid, "name": _text(shown, 300), "kind": "product-version",
        "aliases": list(dict.fromkeys(_text(a, 200) for a in (rec.id, *rec.aliases)
                                      if _text(a, 200))),
        "identifiers": [i for n, p in enumerate(rec.affected)
                        for i in _identifiers(rec, n, p)],
        "assertions": [_assertion(rec, kind)],
    }
    if rec.summary and _text(rec.summary, 8000):
        subject["description"] = _text(rec.summary, 8000)
    return subject


def _identifiers(rec: OsvRecord, n: int, p: OsvPackage) -> list[dict[str, Any]]:
    base: dict[str, Any] = {"source": _text(f"OSV {rec.id} affected[{n}] ({rec.file})", 4000),
                            "label": _text(f"{p.ecosystem} package {p.name}", 500)}
    if p.versions:
        base["versions"] = list(p.versions)
    vers = to_vers(p)
    if vers:
        base["version_range"] = vers
    elif not p.versions:  # ranges univers cannot evaluate and no list: the package as a whole
        base["label"] += " (its ranges could not be evaluated: every version)"
    out = [{"kind": "purl", "value": p.purl, **base}]
    if p.purl_type in _NAME_TYPES:
        out.append({"kind": "package_name", "value": p.name.strip(),
                    "package_types": [p.purl_type], **base})
    return out


def describe_versions(p: OsvPackage) -> str:
    """The affected versions of a package in words (``every version``, ``1.0.0 <= v <
    1.2.11``, ``versions 1.1.5, 1.1.6``)."""
    parts = []
    for s, e, inc in intervals(p):
        if s == "0" and e is None:
            return "every version"
        low = "" if s == "0" else f"{s} <= "
        parts.append(f"{low}v {'<=' if inc else '<'} {e}" if e else f"v >= {s}")
    if p.versions:
        shown = ", ".join(p.versions[:20])
        more = f" and {len(p.versions) - 20} more" if len(p.versions) > 20 else ""
        parts.append(f"versions {shown}{more}")
    return "; ".join(parts) or "no version given"


def _assertion(rec: OsvRecord, kind: str) -> dict[str, Any]:
    prefix = rec.id.split("-", 1)[0].upper()
    authority, authority_id = DATABASES.get(prefix, (f"OSV database {prefix}", None))
    finders = [c.name for c in rec.credits if c.type in (None, "FINDER", "ANALYST", "REPORTER")]
    if finders:
        authority = f"{authority}, reported by {', '.join(dict.fromkeys(finders))}"
    a: dict[str, Any] = {
        "authority": _text(authority, 500), "kind": kind,
        "instrument": _text(f"OSV {rec.id}: {rec.summary or 'no summary'}", 2000),
        "citation": _text(rec.id, 200),
        "scope": _text("; ".join(f"{p.name} ({p.ecosystem}): {describe_versions(p)}"
                                 for p in rec.affected), 8000),
        "reference_url": f"https://osv.dev/vulnerability/{rec.id}",
        "source": _text(f"OSV record {rec.id}, modified {rec.modified} ({rec.file})", 4000),
        "source_quality": "secondary", "verified": False,
    }
    if authority_id:
        a["authority_id"] = authority_id
    if rec.published:
        a["date"] = rec.published[:10]
    else:
        a["date"] = rec.modified[:10]
        a["date_note"] = "the record gives no publication date: the date it was last modified"
    notes = []
    if rec.aliases:
        notes.append("aliases: " + ", ".join(rec.aliases))
    if rec.origins:
        notes.append("origins: " + ", ".join(rec.origins))
    if rec.credits:
        notes.append("credits: " + ", ".join(
            f"{c.name} ({c.type})" if c.type else c.name for c in rec.credits))
    if rec.references:
        notes.append("references: " + " ".join(r.url for r in rec.references))
    if notes:
        a["note"] = _text("; ".join(notes), 4000)
    return a


def import_osv(path: str | Path, *, name: str = "osv-malicious",
               kind_for: Callable[[OsvRecord], str | None] = malicious_only
               ) -> tuple[dict[str, Any], OsvImportReport]:
    """The list document of the OSV records at ``path`` and the report of what was left out."""
    report = OsvImportReport()
    records = read_records(path, report)
    return records_to_document(records, report, name=name, kind_for=kind_for), report
