"""Reading a MISP event back into a kitvet list document (see :mod:`kitvet.lists.misp`).

Objects exported by kitvet carry their record as JSON in ``comment`` and come back exactly.
Events from elsewhere are read from native attributes: ``software`` objects become product
subjects (name → ``product_name`` with the version, vendor → ``publisher``, cpe → ``cpe``),
``file`` objects and loose ``sha256`` attributes become hash subjects; ``annotation``
objects whose ``type`` is an assertion kind become assertions, and a subject without one
gets an unverified ``warning`` by the event's organisation.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from kitvet.errors import ListError
from kitvet.lists.format import LIST_FORMAT_VERSION
from kitvet.model.risk import ASSERTION_KINDS

logger = logging.getLogger(__name__)

#: MISP hash attribute types and the hex length each has.
_HASH_TYPES = {"sha256": 64, "sha1": 40, "md5": 32}


def _is_hash(kind: str, value: str) -> bool:
    return len(value) == _HASH_TYPES[kind] and all(c in "0123456789abcdefABCDEF" for c in value)


def _slug(text: str, fallback: str = "subject") -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:90]
    return s or fallback


def _record(obj: Any, tag: str) -> dict[str, Any] | None:
    comment = getattr(obj, "comment", None)
    if not comment or not comment.startswith("{"):
        return None
    try:
        rec = json.loads(comment)
    except ValueError:
        return None
    if not isinstance(rec, dict) or rec.pop("kitvet", None) != tag:
        return None
    return {k: v for k, v in rec.items() if v is not None}


def _values(obj: Any, relation: str) -> list[str]:
    return [str(a.value) for a in obj.attributes if a.object_relation == relation]


def _load(text: str | bytes, file: str) -> Any:
    from pymisp import MISPEvent

    try:
        data = json.loads(text)
        ev = MISPEvent()
        ev.load(data)
    except Exception as e:  # pymisp raises many types on malformed input
        raise ListError(f"not a MISP event: {e}", file=file) from e
    return ev


def _list_meta(ev: Any) -> dict[str, Any]:
    for attr in ev.attributes:
        rec = _record(attr, "list")
        if rec:
            rec["kitvet_list"] = LIST_FORMAT_VERSION
            return rec
    orgc = getattr(ev, "Orgc", None)
    date = getattr(ev, "date", None)
    return {
        "kitvet_list": LIST_FORMAT_VERSION,
        "name": _slug(ev.info or "misp-event", "misp-event")[:100],
        "publisher": getattr(orgc, "name", None) or "MISP",
        "version": _version(getattr(ev, "timestamp", None)),
        "date": date.isoformat() if date else "1970-01-01",
        "description": f"Imported from MISP event {ev.uuid}: {ev.info}",
    }


def _version(ts: Any) -> str:
    if ts is None:
        return "1"
    return ts.strftime("%Y%m%dT%H%M%SZ") if hasattr(ts, "strftime") else str(ts)


def _default_assertion(ev: Any, meta: dict[str, Any]) -> dict[str, Any]:
    return {"authority": meta["publisher"], "kind": "warning",
            "instrument": f"MISP event: {ev.info}"[:2000], "date": meta["date"],
            "source": f"MISP event {ev.uuid}", "verified": False}


def _foreign_subject(obj: Any, n: int) -> dict[str, Any] | None:
    if obj.name == "software":
        name = (_values(obj, "name") or ["software"])[0]
        versions = [v.strip() for v in ",".join(_values(obj, "version")).split(",") if v.strip()]
        idents: list[dict[str, Any]] = [{"kind": "product_name", "value": name,
                                         **({"versions": versions} if versions else {})}]
        idents += [{"kind": "publisher", "value": v} for v in _values(obj, "vendor")]
        idents += [{"kind": "cpe", "value": v} for v in _values(obj, "cpe")]
        kind = "product-version" if versions else "product"
    elif obj.name == "file":
        found = [(k, v) for k in _HASH_TYPES for v in _values(obj, k) if _is_hash(k, v)]
        if not found:
            return None
        name = (_values(obj, "filename") or [found[0][1]])[0]
        idents = [{"kind": k, "value": v.lower()} for k, v in found]
        kind = "file-hash"
    else:
        logger.info("MISP object %s (%s) has no kitvet identifier; skipped", obj.name, obj.uuid)
        return None
    return {"id": f"{_slug(name)}-{n}", "name": name[:300], "kind": kind,
            "identifiers": idents, "assertions": []}


def _assertion_from_annotation(obj: Any, ev: Any, meta: dict[str, Any]) -> dict[str, Any] | None:
    kind = (_values(obj, "type") or [""])[0]
    if kind not in ASSERTION_KINDS:
        return None
    a = _default_assertion(ev, meta)
    a["kind"] = kind
    a["instrument"] = ((_values(obj, "text") or [a["instrument"]])[0])[:2000]
    refs = _values(obj, "ref")
    if refs:
        a["reference_url"] = refs[0]
    dates = _values(obj, "creation-date")
    if dates:
        a["date"] = dates[0][:10]
    return a


def event_to_document(text: str | bytes, *, file: str) -> dict[str, Any]:
    """The MISP event ``text`` as a kitvet list document (not yet validated)."""
    ev = _load(text, file)
    meta = _list_meta(ev)
    subjects: dict[str, dict[str, Any]] = {}  # anchor/object uuid -> subject
    for obj in ev.objects:
        rec = _record(obj, "subject")
        if rec is not None:
            rec.setdefault("aliases", [])
            subjects[obj.uuid] = {**rec, "identifiers": [], "assertions": []}
    for n, obj in enumerate(ev.objects):
        if obj.uuid in subjects:
            continue
        target = next((r.referenced_uuid for r in obj.references
                       if r.referenced_uuid in subjects), None)
        ident, assertion = _record(obj, "identifier"), _record(obj, "assertion")
        if target and ident is not None:
            subjects[target]["identifiers"].append(ident)
        elif target and assertion is not None:
            subjects[target]["assertions"].append(assertion)
        elif obj.name == "annotation":
            continue  # foreign annotations are read below, against their target
        else:
            foreign = _foreign_subject(obj, n)
            if foreign:
                subjects[obj.uuid] = foreign
    _attach_foreign_annotations(ev, subjects, meta)
    _loose_hashes(ev, subjects)
    for s in subjects.values():
        if not s["assertions"]:
            s["assertions"].append(_default_assertion(ev, meta))
        if not s.get("aliases"):
            s.pop("aliases", None)
    return {**{k: v for k, v in meta.items() if v is not None},
            "subjects": list(subjects.values())}


def _attach_foreign_annotations(ev: Any, subjects: dict[str, dict], meta: dict) -> None:
    for obj in ev.objects:
        if obj.name != "annotation" or _record(obj, "assertion") is not None:
            continue
        a = _assertion_from_annotation(obj, ev, meta)
        for r in obj.references:
            if a and r.referenced_uuid in subjects:
                subjects[r.referenced_uuid]["assertions"].append(dict(a))


def _loose_hashes(ev: Any, subjects: dict[str, dict]) -> None:
    hashes = [(a.type, str(a.value).lower()) for a in ev.attributes
              if a.type in _HASH_TYPES and _is_hash(a.type, str(a.value))]
    if hashes:
        subjects["_loose"] = {"id": f"misp-{str(ev.uuid)[:8]}-hashes",
                              "name": f"File hashes of MISP event {ev.info}"[:300],
                              "kind": "file-hash",
                              "identifiers": [{"kind": k, "value": h} for k, h in hashes],
                              "assertions": []}
