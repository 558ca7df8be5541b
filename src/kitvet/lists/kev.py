"""Importing CISA's Known Exploited Vulnerabilities (KEV) catalogue as a kitvet list.

One subject per (vendorProject, product) with one ``known-exploited-vulnerability``
assertion per CVE (authority CISA, date = dateAdded, scope = description, required action,
federal due date and ransomware use). KEV gives neither versions nor CPE names, so the only
identifiers are CPE prefixes *derived* from vendorProject and product the way NVD usually
names them (``cpe:2.3:a:microsoft:exchange_server:`` and the ``o`` part), marked
``verified: false``: they match SBOM inventories that carry CPEs and nothing else, and a
match says "this product has known exploited vulnerabilities: check its patch level", not
"this version is vulnerable". Bad records are skipped with a reason; the good ones are kept.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from kitvet.errors import ListError
from kitvet.lists.format import LIST_FORMAT_VERSION
from kitvet.lists.misp_import import _slug

logger = logging.getLogger(__name__)

_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CTL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CPE_CHARS = re.compile(r"[^a-z0-9._\-]+")
AUTHORITY = "US Cybersecurity and Infrastructure Security Agency (CISA)"


@dataclass(frozen=True)
class KevSkip:
    """A catalogue record that could not be imported, with the reason."""

    index: int
    reason: str


def _text(v: Any, limit: int) -> str:
    return _CTL.sub(" ", str(v or "")).strip()[:limit]


def _cpe_part(text: str) -> str:
    return _CPE_CHARS.sub("_", text.strip().lower()).strip("_")


def _identifiers(vendor: str, product: str, version: str) -> list[dict[str, Any]]:
    v, p = _cpe_part(vendor), _cpe_part(product)
    src = (f"derived by kitvet from KEV {version} vendorProject/product (NVD CPE naming "
           "assumed; not checked against the CPE dictionary)")
    return [{"kind": "cpe", "value": f"cpe:2.3:{part}:{v}:{p}:", "source": src,
             "verified": False, "label": "KEV gives no versions: check the patch level"}
            for part in ("a", "o")]


def _assertion(rec: dict[str, Any], version: str, released: str) -> dict[str, Any]:
    cve = rec["cveID"]
    scope = (f"{_text(rec.get('shortDescription'), 3000)} Required action: "
             f"{_text(rec.get('requiredAction'), 1000)} Due date for US federal agencies "
             f"(BOD 22-01): {_text(rec.get('dueDate'), 20) or 'none'}. Known ransomware "
             f"campaign use: {_text(rec.get('knownRansomwareCampaignUse'), 20) or 'Unknown'}.")
    a = {"authority": AUTHORITY, "authority_id": "us-cisa", "jurisdiction": "US",
         "kind": "known-exploited-vulnerability",
         "instrument": f"Known Exploited Vulnerabilities Catalog: {cve} "
                       f"{_text(rec.get('vulnerabilityName'), 500)}".strip(),
         "citation": cve, "date": rec["dateAdded"], "scope": scope,
         "reference_url": f"https://nvd.nist.gov/vuln/detail/{cve}",
         "source": f"CISA KEV catalogue {version} (released {released})",
         "source_quality": "official"}
    notes = _text(rec.get("notes"), 3000)
    if notes:
        a["note"] = notes
    return a


def _check(rec: Any) -> str | None:
    if not isinstance(rec, dict):
        return "not an object"
    if not isinstance(rec.get("cveID"), str) or not _CVE.match(rec["cveID"]):
        return f"cveID {rec.get('cveID')!r} is not a CVE id"
    if not isinstance(rec.get("dateAdded"), str) or not _DATE.match(rec["dateAdded"]):
        return f"dateAdded {rec.get('dateAdded')!r} is not a date"
    for k in ("vendorProject", "product"):
        if not isinstance(rec.get(k), str) or not _cpe_part(rec[k]):
            return f"{k} is missing"
    return None


def kev_to_document(text: str | bytes, *, file: str) -> tuple[dict[str, Any], list[KevSkip]]:
    """The KEV catalogue JSON as a list document, and the records skipped with reasons."""
    try:
        cat = json.loads(text)
    except ValueError as e:
        raise ListError(f"not JSON: {e}", file=file) from e
    if not isinstance(cat, dict) or not isinstance(cat.get("vulnerabilities"), list):
        raise ListError("not a KEV catalogue (no 'vulnerabilities' list)", file=file)
    version = _text(cat.get("catalogVersion"), 100) or "unknown"
    released = _text(cat.get("dateReleased"), 40)
    date = released[:10] if _DATE.match(released[:10]) else "1970-01-01"
    subjects: dict[tuple[str, str], dict[str, Any]] = {}
    skipped: list[KevSkip] = []
    for n, rec in enumerate(cat["vulnerabilities"]):
        why = _check(rec)
        if why:
            skipped.append(KevSkip(n, why))
            logger.warning("%s: vulnerabilities[%d] skipped: %s", file, n, why)
            continue
        vendor, product = _text(rec["vendorProject"], 140), _text(rec["product"], 140)
        key = (vendor.lower(), product.lower())
        if key not in subjects:
            subjects[key] = {"id": f"kev-{_slug(f'{vendor} {product}')}"[:100],
                             "name": product if product.lower().startswith(vendor.lower())
                             else f"{vendor} {product}", "kind": "product",
                             "identifiers": _identifiers(vendor, product, version),
                             "assertions": []}
        subjects[key]["assertions"].append(_assertion(rec, version, released))
    _dedupe_ids(list(subjects.values()))
    doc = {"kitvet_list": LIST_FORMAT_VERSION, "name": "cisa-kev",
           "publisher": "CISA (imported by kitvet)", "version": version, "date": date,
           "description": f"{_text(cat.get('title'), 200) or 'CISA KEV'} {version}, "
                          f"{len(cat['vulnerabilities']) - len(skipped)} vulnerabilities.",
           "subjects": list(subjects.values())}
    return doc, skipped


def _dedupe_ids(subjects: list[dict[str, Any]]) -> None:
    seen: dict[str, int] = {}
    for s in subjects:
        base = s["id"]
        if base in seen:
            seen[base] += 1
            s["id"] = f"{base[:95]}-{seen[base]}"
        else:
            seen[base] = 0
