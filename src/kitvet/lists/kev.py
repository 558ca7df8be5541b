"""CISA's Known Exploited Vulnerabilities (KEV) catalogue: what it adds, and what it cannot say.

KEV names a CVE, a vendor and product, the day CISA added it (``dateAdded``), the day US federal
agencies must have acted (``dueDate``, BOD 22-01) and whether ransomware campaigns use it
(``knownRansomwareCampaignUse``). It gives **no versions**. So a KEV entry alone is never a
finding: "Apache HTTP Server has known exploited vulnerabilities" says nothing of httpd 2.2.22,
which CVE-2021-42013 (2.4.49 and 2.4.50 only) does not affect.

How kitvet uses it:

* :func:`read_kev` reads the catalogue (bad records skipped with their place and reason);
* :func:`with_kev` joins it, by CVE id, to vulnerability subjects that carry version data
  (OSV records, NVD CPE configurations: every identifier versioned) and adds to each a
  ``known-exploited-vulnerability`` assertion with the due date — the finding then says
  *known exploited* for exactly the versions the record names;
* :func:`unchecked_list` is the on-request view ("product listed in KEV, version not checked"):
  CPE prefixes derived from vendorProject/product for the KEV entries no versioned subject
  carries, shown apart from findings (``kitvet review --kev-unchecked``);
* :func:`kev_to_document` (``kitvet lists import --format kev``) keeps the catalogue as a list
  of assertions about CVEs: one subject per product, its CVEs as aliases, **no identifiers**.

The catalogue in force: ``$KITVET_KEV``, else ``<data dir>/kev.json`` (``kitvet update-data
--only kev``); none if neither exists.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from kitvet.errors import ListError
from kitvet.lists.format import LIST_FORMAT_VERSION
from kitvet.lists.misp_import import _slug
from kitvet.model.risk import Assertion, Identifier, ListSet, RiskList, Subject

logger = logging.getLogger(__name__)

_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CTL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CPE_CHARS = re.compile(r"[^a-z0-9._\-]+")
AUTHORITY = "US Cybersecurity and Infrastructure Security Agency (CISA)"
KEV_URL = ("https://www.cisa.gov/sites/default/files/feeds/"
           "known_exploited_vulnerabilities.json")
KEV_FILE = "kev.json"
UNCHECKED_LIST = "kev-version-not-checked"


@dataclass(frozen=True)
class KevSkip:
    """A catalogue record that could not be read, with the reason."""

    index: int
    reason: str
    file: str = ""

    def line(self) -> str:
        """``FILE: vulnerabilities[N]: reason``."""
        return f"{self.file}: vulnerabilities[{self.index}]: {self.reason}"


@dataclass(frozen=True)
class KevEntry:
    """One KEV record."""

    cve: str
    vendor: str
    product: str
    name: str
    date_added: str
    due_date: str | None
    ransomware: str  # Known | Unknown
    description: str
    required_action: str
    notes: str


@dataclass(frozen=True)
class KevCatalog:
    """The KEV catalogue: entries by CVE id, its version and release, what was skipped."""

    version: str
    released: str
    entries: dict[str, KevEntry] = field(default_factory=dict, hash=False, compare=False)
    skipped: tuple[KevSkip, ...] = ()
    origin: str | None = None

    @property
    def source(self) -> str:
        return f"CISA KEV catalogue {self.version} (released {self.released or 'unknown'})"


def _text(v: Any, limit: int) -> str:
    return _CTL.sub(" ", str(v or "")).strip()[:limit]


def _cpe_part(text: str) -> str:
    return _CPE_CHARS.sub("_", text.strip().lower()).strip("_")


def _check(rec: Any) -> str | None:
    if not isinstance(rec, dict):
        return "not an object"
    if not isinstance(rec.get("cveID"), str) or not _CVE.match(rec["cveID"]):
        return f"cveID {rec.get('cveID')!r} is not a CVE id"
    if not isinstance(rec.get("dateAdded"), str) or not _DATE.match(rec["dateAdded"]):
        return f"dateAdded {rec.get('dateAdded')!r} is not a date"
    due = rec.get("dueDate")
    if due not in (None, "") and (not isinstance(due, str) or not _DATE.match(due)):
        return f"dueDate {due!r} is not a date"
    for k in ("vendorProject", "product"):
        if not isinstance(rec.get(k), str) or not _cpe_part(rec[k]):
            return f"{k} is missing"
    return None


def read_kev(text: str | bytes, *, file: str) -> KevCatalog:
    """The KEV catalogue JSON; records that cannot be read are skipped with their reason."""
    try:
        cat = json.loads(text)
    except ValueError as e:
        raise ListError(f"not JSON: {e}", file=file) from e
    if not isinstance(cat, dict) or not isinstance(cat.get("vulnerabilities"), list):
        raise ListError("not a KEV catalogue (no 'vulnerabilities' list)", file=file)
    entries: dict[str, KevEntry] = {}
    skipped: list[KevSkip] = []
    for n, rec in enumerate(cat["vulnerabilities"]):
        why = _check(rec)
        if why is None and rec["cveID"] in entries:
            why = f"{rec['cveID']} is listed twice (the first is kept)"
        if why:
            skipped.append(KevSkip(n, why, file))
            logger.warning("%s: vulnerabilities[%d] skipped: %s", file, n, why)
            continue
        entries[rec["cveID"]] = KevEntry(
            cve=rec["cveID"], vendor=_text(rec["vendorProject"], 140),
            product=_text(rec["product"], 140), name=_text(rec.get("vulnerabilityName"), 500),
            date_added=rec["dateAdded"], due_date=rec.get("dueDate") or None,
            ransomware=_text(rec.get("knownRansomwareCampaignUse"), 20) or "Unknown",
            description=_text(rec.get("shortDescription"), 3000),
            required_action=_text(rec.get("requiredAction"), 1000),
            notes=_text(rec.get("notes"), 3000))
    return KevCatalog(version=_text(cat.get("catalogVersion"), 100) or "unknown",
                      released=_text(cat.get("dateReleased"), 40), entries=entries,
                      skipped=tuple(skipped), origin=file)


def kev_assertion(e: KevEntry, cat: KevCatalog) -> Assertion:
    """The ``known-exploited-vulnerability`` assertion of one entry (due date included)."""
    scope = (f"{e.description} Required action: {e.required_action} Due date for US federal "
             f"agencies (BOD 22-01): {e.due_date or 'none'}. Known ransomware campaign use: "
             f"{e.ransomware}.")
    return Assertion(
        authority=AUTHORITY, authority_id="us-cisa", jurisdiction="US",
        kind="known-exploited-vulnerability",
        instrument=f"Known Exploited Vulnerabilities Catalog: {e.cve} {e.name}".strip(),
        citation=e.cve, date=e.date_added, due_date=e.due_date, scope=scope,
        reference_url=f"https://nvd.nist.gov/vuln/detail/{e.cve}", source=cat.source,
        source_quality="official", note=e.notes or None)


def _doc_assertion(a: Assertion) -> dict[str, Any]:
    from kitvet.lists.format import _clean

    return _clean(a, set())


def kev_to_document(text: str | bytes, *, file: str) -> tuple[dict[str, Any], list[KevSkip]]:
    """The KEV catalogue as a list document (one subject per product, its CVEs as aliases, one
    assertion per CVE, no identifiers: KEV gives no versions, so none of it is ever a finding
    by itself), and the records skipped with reasons."""
    cat = read_kev(text, file=file)
    subjects: dict[tuple[str, str], dict[str, Any]] = {}
    for e in cat.entries.values():
        key = (e.vendor.lower(), e.product.lower())
        if key not in subjects:
            name = (e.product if e.product.lower().startswith(e.vendor.lower())
                    else f"{e.vendor} {e.product}")
            subjects[key] = {
                "id": f"kev-{_slug(f'{e.vendor} {e.product}')}"[:100], "name": name,
                "kind": "product", "aliases": [],
                "description": (f"{name} is listed in CISA's KEV catalogue. KEV gives no "
                                "versions, so this subject has no identifiers and is never a "
                                "finding by itself: its CVEs join vulnerability records that "
                                "carry versions (OSV, NVD) at review time."),
                "assertions": []}
        subjects[key]["aliases"].append(e.cve)
        subjects[key]["assertions"].append(_doc_assertion(kev_assertion(e, cat)))
    _dedupe_ids(list(subjects.values()))
    date = cat.released[:10] if _DATE.match(cat.released[:10]) else "1970-01-01"
    doc = {"kitvet_list": LIST_FORMAT_VERSION, "name": "cisa-kev",
           "publisher": "CISA (imported by kitvet)", "version": cat.version, "date": date,
           "description": f"CISA KEV {cat.version}, {len(cat.entries)} vulnerabilities "
                          "(assertions about CVEs: no versions, no identifiers).",
           "subjects": list(subjects.values())}
    return doc, list(cat.skipped)


def _dedupe_ids(subjects: list[dict[str, Any]]) -> None:
    seen: dict[str, int] = {}
    for s in subjects:
        base = s["id"]
        if base in seen:
            seen[base] += 1
            s["id"] = f"{base[:95]}-{seen[base]}"
        else:
            seen[base] = 0


# --- the join ------------------------------------------------------------------------------

def subject_cves(s: Subject) -> set[str]:
    """The CVE ids a subject names: its aliases, its id, its assertions' citations."""
    out = {a.upper() for a in s.aliases if _CVE.match(a.upper())}
    out |= {a.citation.upper() for a in s.assertions
            if a.citation and _CVE.match(a.citation.upper())}
    if _CVE.match(s.id.upper()):
        out.add(s.id.upper())
    return out


def versioned(s: Subject) -> bool:
    """Every identifier of the subject is limited to versions (a KEV assertion may join it)."""
    return bool(s.identifiers) and all(i.versions or i.version_range for i in s.identifiers)


@dataclass(frozen=True)
class KevJoin:
    """What a join did: subjects that became known-exploited, KEV entries with version data
    and those with none anywhere in the lists (never findings)."""

    subjects: int
    cves_joined: frozenset[str]
    cves_without_versions: frozenset[str]


def with_kev(lists: ListSet, cat: KevCatalog | None) -> tuple[ListSet, KevJoin]:
    """``lists`` whose versioned vulnerability subjects that name a KEV CVE carry its
    ``known-exploited-vulnerability`` assertion (with the due date). A subject with an
    unversioned identifier never gets one: a KEV entry is never a product-level finding."""
    if cat is None or not cat.entries:
        return lists, KevJoin(0, frozenset(), frozenset())
    joined: set[str] = set()
    count = 0
    out = []
    for rl in lists.lists:
        subjects = []
        changed = False
        for s in rl.subjects:
            cves = subject_cves(s) & cat.entries.keys() if s.identifiers else set()
            if cves and versioned(s):
                have = {(a.kind, a.citation) for a in s.assertions}
                add = tuple(kev_assertion(cat.entries[c], cat) for c in sorted(cves)
                            if ("known-exploited-vulnerability", c) not in have)
                joined |= cves
                if add:
                    s = replace(s, assertions=s.assertions + add)
                    count += 1
                    changed = True
            subjects.append(s)
        out.append(replace(rl, subjects=tuple(subjects)) if changed else rl)
    return (ListSet(tuple(out)),
            KevJoin(count, frozenset(joined), frozenset(cat.entries.keys() - joined)))


def unchecked_list(cat: KevCatalog, lists: ListSet | None = None) -> RiskList:
    """"Product listed in KEV, version not checked": one subject per KEV product with a CVE no
    versioned subject of ``lists`` carries, recognised by CPE prefixes derived from
    vendorProject/product the way NVD usually names them (Apache / HTTP Server →
    ``cpe:2.3:a:apache:http_server:``; a guess, marked unverified). Never merged with findings:
    shown apart, on request."""
    covered: set[str] = set()
    for _rl, s in (lists.subjects() if lists else []):
        if versioned(s):
            covered |= subject_cves(s)
    groups: dict[tuple[str, str], list[KevEntry]] = {}
    for e in cat.entries.values():
        if e.cve not in covered:
            groups.setdefault((e.vendor, e.product), []).append(e)
    subjects = []
    for (vendor, product), entries in sorted(groups.items()):
        v, p = _cpe_part(vendor), _cpe_part(product)
        src = f"derived by kitvet from {cat.source} vendorProject/product (NVD naming assumed)"
        idents = tuple(Identifier(kind="cpe", value=f"cpe:2.3:{part}:{v}:{p}:", source=src,
                                  verified=False, label="version not checked")
                       for part in ("a", "o"))
        name = product if product.lower().startswith(vendor.lower()) else f"{vendor} {product}"
        subjects.append(Subject(
            id=f"kev-{_slug(f'{vendor} {product}')}"[:100], name=name, kind="product",
            aliases=tuple(e.cve for e in entries), identifiers=idents,
            assertions=tuple(kev_assertion(e, cat) for e in entries),
            description="product listed in KEV, version not checked"))
    return RiskList(name=UNCHECKED_LIST, publisher="CISA KEV (derived by kitvet)",
                    version=cat.version, date=cat.released[:10] or "1970-01-01",
                    subjects=tuple(subjects), origin=cat.origin,
                    description="KEV products without version data: not findings")


# --- the catalogue in force ----------------------------------------------------------------

def data_dir() -> Path:
    """kitvet's data dir ($KITVET_DATA_DIR, else $XDG_DATA_HOME/kitvet/data)."""
    env = os.environ.get("KITVET_DATA_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "kitvet" / "data"


def kev_path() -> Path | None:
    """The KEV catalogue in force: ``$KITVET_KEV``, else the copy ``kitvet update-data`` keeps;
    None when there is none."""
    env = os.environ.get("KITVET_KEV")
    if env:
        return Path(env)
    p = data_dir() / KEV_FILE
    return p if p.is_file() else None


def load_kev(path: Path | None = None) -> KevCatalog | None:
    """The catalogue at ``path`` (default: in force), or None when there is none."""
    p = path or kev_path()
    if p is None:
        return None
    st = p.stat()
    return _load(str(p), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=4)
def _load(path: str, _mtime: int, _size: int) -> KevCatalog:
    p = Path(path)
    return read_kev(p.read_bytes(), file=p.name)
