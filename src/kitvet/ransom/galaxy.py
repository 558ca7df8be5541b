"""The MISP galaxy's ransomware cluster as a kitvet family list (import and update).

The cluster (``clusters/ransomware.json`` of github.com/MISP/misp-galaxy, CC0 1.0 or
BSD-2-Clause) is one JSON object whose ``values`` are families: ``value`` (the name),
``uuid``, ``description``, ``related`` and ``meta``. Its quirks are handled here and every
value that cannot be used is reported, never silently dropped:

* misspelled keys (``ransomnotes-filesnames``, ``ransomenotes``, ``extension``, ...) are
  read as the key they stand for (:data:`KEY_ALIASES`);
* extensions and note names that are free text or patterns go through
  :func:`kitvet.ransom.patterns.translate` (exact, pattern, or skipped with the reason);
* contact addresses are read out of ``links``, the note texts, the extension values and the
  description, validated (:mod:`kitvet.ransom.features`);
* decryptors are read from ``refs`` (:mod:`kitvet.ransom.decryptors`);
* names are not unique: each entry gets an id from its name, and the galaxy uuid decides
  which of two entries with the same slug keeps the plain one.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from kitvet.errors import ListError
from kitvet.ransom import decryptors, features, patterns
from kitvet.ransom.listfile import RANSOM_FORMAT_VERSION

GALAXY_URL = "https://github.com/MISP/misp-galaxy/blob/main/clusters/ransomware.json"
GALAXY_LICENCE = ("CC0-1.0 OR BSD-2-Clause (MISP galaxy LICENSE.md: \"Copyright (c) "
                  "2015-2018 Alexandre Dulaunoy, CIRCL, Andras Iklody, Raphael Vinot, Deborah "
                  "Servili, various contributors\")")

#: Misspelled meta keys in the data and the key each stands for.
KEY_ALIASES = {
    "ransomnotes-filesnames": "ransomnotes-filenames",
    "ransomnotes-files": "ransomnotes-filenames",
    "ransomenotes-files": "ransomnotes-filenames",
    "ransomenotes": "ransomnotes",
    "ransomenotes-refs": "ransomnotes-refs",
    "extension": "extensions",
    "Encryption": "encryption",
    "TTP": "ttp",
}
#: Meta keys kitvet reads; the others are kept out of the list (and counted in the report).
_USED = {"refs", "extensions", "ransomnotes-filenames", "ransomnotes", "synonyms", "links",
         "ransomnotes-refs"}
_URL = re.compile(r"^(https?|ftp)://\S+$")


@dataclass
class ImportReport:
    """What an import read, normalised and skipped (each with its reason and place)."""

    families: int = 0
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (place, value, reason)
    normalised: list[tuple[str, str, str]] = field(default_factory=list)
    key_aliases: Counter[str] = field(default_factory=Counter)
    unused_keys: Counter[str] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)

    def lines(self) -> list[str]:
        """The report as text lines (what the CLI prints)."""
        out = [f"read {self.families} families: " + ", ".join(
            f"{n} {k}" for k, n in sorted(self.counts.items()))]
        for k, n in sorted(self.key_aliases.items()):
            out.append(f"read misspelled key {k!r} as {KEY_ALIASES[k]!r} ({n} families)")
        if self.unused_keys:
            out.append("not used (no triage meaning): " + ", ".join(
                f"{k} ({n})" for k, n in sorted(self.unused_keys.items())))
        for place, value, how in self.normalised:
            out.append(f"normalised {place}: {value!r} {how}")
        for place, value, reason in self.skipped:
            out.append(f"skipped {place}: {value!r}: {reason}")
        return out


def _slug(name: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return s[:90] or "family"


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _meta(entry: dict[str, Any], report: ImportReport) -> dict[str, list[str]]:
    raw = entry.get("meta")
    meta: dict[str, Any] = raw if isinstance(raw, dict) else {}
    out: dict[str, list[str]] = {}
    for key, value in meta.items():
        real = KEY_ALIASES.get(key, key)
        if real != key:
            report.key_aliases[key] += 1
        if real not in _USED:
            report.unused_keys[real] += 1
            continue
        out.setdefault(real, []).extend(_strings(value))
    return out


def _indicators(values: list[str], what: str, place: str, report: ImportReport
                ) -> tuple[list[str], list[dict[str, str]]]:
    exact: list[str] = []
    regexes: list[dict[str, str]] = []
    for i, value in enumerate(values):
        for t in patterns.translate(value, what=what):
            if t.skipped:
                report.skipped.append((f"{place}[{i}]", value, t.skipped))
                continue
            if t.note:
                report.normalised.append((f"{place}[{i}]", value, t.note))
            if t.exact and t.exact not in exact:
                exact.append(t.exact)
            elif t.regex and all(r["regex"] != t.regex for r in regexes):
                regexes.append({"regex": t.regex, "text": value[:1000]})
    return exact, regexes


def _contacts(meta: dict[str, list[str]], description: str) -> list[dict[str, str]]:
    text = "\n".join([*meta.get("links", []), *meta.get("ransomnotes", []),
                      *meta.get("extensions", []), description])
    seen = features.unique(features.contacts(text))
    return [{"kind": f.kind, "value": f.value} for f in seen]


def family_entry(entry: dict[str, Any], index: int, report: ImportReport, *, source: str
                 ) -> dict[str, Any] | None:
    """One galaxy value as a family document (or None, reported, when it has no name)."""
    name = entry.get("value")
    place = f"values[{index}]"
    if not isinstance(name, str) or not name.strip():
        report.skipped.append((place, str(name)[:80], "no family name ('value')"))
        return None
    name = " ".join(name.split())
    meta = _meta(entry, report)
    raw_desc = entry.get("description")
    description: str = raw_desc if isinstance(raw_desc, str) else ""
    raw_uuid = entry.get("uuid")
    uuid: str | None = raw_uuid if isinstance(raw_uuid, str) else None
    fam: dict[str, Any] = {"id": _slug(name), "name": name}
    synonyms = sorted({" ".join(s.split()) for s in meta.get("synonyms", []) if s.strip()}
                      - {name})
    if synonyms:
        fam["synonyms"] = synonyms
    if description.strip():
        fam["description"] = description.strip()[:20000]
    if uuid and re.fullmatch(r"[0-9a-f-]{36}", uuid):
        fam["galaxy_uuid"] = uuid
    related = sorted({str(r["dest-uuid"]) for r in entry.get("related") or []
                      if isinstance(r, dict) and isinstance(r.get("dest-uuid"), str)})
    if related:
        fam["related"] = related
    names, name_rx = _indicators(meta.get("ransomnotes-filenames", []), "note-name",
                                 f"{place} ({name}) ransomnotes-filenames", report)
    exts, ext_rx = _indicators(meta.get("extensions", []), "extension",
                               f"{place} ({name}) extensions", report)
    for key, value in (("note_names", names), ("note_name_patterns", name_rx),
                       ("extensions", exts), ("extension_patterns", ext_rx)):
        if value:
            fam[key] = value
            report.counts[key.replace("_", " ")] += len(value)
    contacts = _contacts(meta, description)
    if contacts:
        fam["contacts"] = contacts
        report.counts["contacts"] += len(contacts)
    notes = [n.replace("\x00", "")[:100000] for n in meta.get("ransomnotes", []) if n.strip()]
    if notes:
        fam["note_texts"] = notes
        report.counts["note texts"] += len(notes)
    refs = []
    for i, r in enumerate(meta.get("refs", [])):
        if " " in r.strip() and _URL.match(r.strip().split(" ")[0]):
            report.normalised.append((f"{place} ({name}) refs[{i}]", r, "spaces as %20"))
            r = r.strip().replace(" ", "%20")
        if _URL.match(r.strip()) and len(r) <= 3000:
            refs.append(r.strip())
        else:
            report.skipped.append((f"{place} ({name}) refs[{i}]", r[:80], "not a URL"))
    if refs:
        fam["refs"] = refs
    entry_source = f"{source}, entry {uuid or name}"
    found = decryptors.from_refs(refs, name, entry_source)
    if found:
        fam["decryptors"] = [_decryptor_doc(d) for d in found]
        report.counts["decryptor references"] += len(found)
    fam["source"] = entry_source
    return fam


def _decryptor_doc(d: Any) -> dict[str, Any]:
    out = {k: v for k, v in d.__dict__.items() if v is not None}
    return out


def galaxy_to_document(data: bytes, *, file: str, name: str = "kitvet-ransomware",
                       publisher: str = "kitvet project (from the MISP galaxy)",
                       retrieved: str | None = None, source_url: str = GALAXY_URL,
                       ) -> tuple[dict[str, Any], ImportReport]:
    """The MISP galaxy ransomware cluster as a family-list document, and what was skipped.

    Raises :class:`ListError` when ``data`` is not a galaxy cluster at all; a bad entry is
    reported and the others are kept.
    """
    try:
        obj = json.loads(data)
    except ValueError as e:
        raise ListError(f"not JSON: {e}", file=file) from e
    if not isinstance(obj, dict) or not isinstance(obj.get("values"), list):
        raise ListError("not a MISP galaxy cluster (no 'values' list)", file=file)
    if obj.get("type") not in ("ransomware", None):
        raise ListError(f"a {obj.get('type')!r} cluster, not the ransomware cluster", file=file)
    version = str(obj.get("version", "unknown"))
    report = ImportReport()
    source = f"MISP galaxy ransomware cluster, version {version}"
    families: list[dict[str, Any]] = []
    values = sorted(enumerate(obj["values"]),
                    key=lambda iv: str(iv[1].get("uuid", "")) if isinstance(iv[1], dict) else "")
    taken: set[str] = set()
    for index, entry in values:
        if not isinstance(entry, dict):
            report.skipped.append((f"values[{index}]", str(entry)[:80], "not an object"))
            continue
        fam = family_entry(entry, index, report, source=source)
        if fam is None:
            continue
        if fam["id"] in taken:
            fam["id"] = f"{fam['id']}-{(fam.get('galaxy_uuid') or str(index))[:8]}"
        taken.add(fam["id"])
        families.append(fam)
    families.sort(key=lambda f: f["id"])
    report.families = len(families)
    doc: dict[str, Any] = {
        "kitvet_ransom": RANSOM_FORMAT_VERSION,
        "name": name,
        "publisher": publisher,
        "version": version,
        "date": _date(obj) or (retrieved or "1970-01-01"),
        "description": (
            "Ransomware families with their note names, appended extensions, contact "
            "addresses and free decryptors, built by 'kitvet lists import --format "
            "misp-galaxy' from the MISP galaxy ransomware cluster. Indicators the data "
            "writes as free text were translated or skipped (see the import report); "
            "decryptors are read from the entries' references and are not verified."),
        "sources": [{"name": "MISP galaxy, ransomware cluster", "url": source_url,
                     "version": version, "licence": GALAXY_LICENCE,
                     **({"retrieved": retrieved} if retrieved else {})}],
        "families": families,
    }
    return doc, report


def _date(obj: dict[str, Any]) -> str | None:
    """The galaxy carries no date; a ``date`` key a publisher added is used if present."""
    d = obj.get("date")
    return d if isinstance(d, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) else None


def looks_like_galaxy(obj: Any) -> bool:
    """Whether a parsed JSON object is a MISP galaxy cluster."""
    return isinstance(obj, dict) and isinstance(obj.get("values"), list) and \
        "uuid" in obj and "type" in obj and "category" in obj
