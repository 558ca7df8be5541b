"""Reading a STIX 2.1 bundle back into a kitvet list document (see :mod:`kitvet.lists.stix`).

Indicators exported by kitvet carry ``x_kitvet_subject`` / ``x_kitvet_identifiers`` and
their assertions ``x_kitvet_assertion``; they come back exactly. Indicators from elsewhere
are read from their patterns (software name and version, vendor, CPE, SHA-256, process
image name, MAC prefix) and relationships whose type is an assertion kind become
assertions by the source identity; an indicator without one gets an unverified
``warning`` by its creator.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from kitvet.errors import ListError
from kitvet.lists.format import LIST_FORMAT_VERSION
from kitvet.lists.misp_import import _slug
from kitvet.model.risk import ASSERTION_KINDS

logger = logging.getLogger(__name__)

_OBSERVATION = re.compile(r"\[((?:'(?:\\.|[^'\\])*'|[^\]'])*)\]")
_COMPARISON = re.compile(
    r"([a-z0-9-]+):([A-Za-z0-9_.'-]+)\s*(=|LIKE)\s*'((?:\\.|[^'\\])*)'")
_SIMPLE = {
    ("file", "hashes.'SHA-256'"): "sha256",
    ("file", "hashes.'SHA-1'"): "sha1",
    ("file", "hashes.MD5"): "md5",
    ("file", "hashes.'MD5'"): "md5",
    ("software", "vendor"): "publisher",
    ("software", "cpe"): "cpe",
    ("process", "image_ref.name"): "process_name",
    ("mac-addr", "value"): "mac_prefix",
    ("x-usb-device", "vendor_id"): "usb_vendor_id",
    ("x-pci-device", "vendor_id"): "pci_vendor_id",
    ("x-network-device", "oui_org"): "oui_org_name",
}


def _unquote(v: str, like: bool) -> str:
    v = re.sub(r"\\(.)", r"\1", v)
    return v[:-1] if like and v.endswith("%") else v


def identifiers_from_pattern(pattern: str) -> list[dict[str, Any]]:
    """Identifiers recognised in a STIX pattern (software, hashes, vendor, CPE, MAC ...)."""
    products: dict[str, list[str]] = {}
    out: list[dict[str, Any]] = []
    for obs in _OBSERVATION.findall(pattern):
        comps = {(o, p): _unquote(v, op == "LIKE") for o, p, op, v in _COMPARISON.findall(obs)}
        name = comps.pop(("software", "name"), None)
        version = comps.pop(("software", "version"), None)
        if name:
            versions = products.setdefault(name, [])
            if version and version not in versions:
                versions.append(version)
        for key, value in comps.items():
            kind = _SIMPLE.get(key)
            if kind is None:
                logger.info("STIX comparison %s:%s not understood; skipped", *key)
                continue
            if kind in ("sha256", "sha1", "md5", "mac_prefix"):
                value = value.lower().rstrip(":-.")
            ident = {"kind": kind, "value": value}
            if ident not in out:
                out.append(ident)
    for name, versions in products.items():
        out.insert(0, {"kind": "product_name", "value": name,
                       **({"versions": versions} if versions else {})})
    return out


def _parse(text: str | bytes, file: str) -> Any:
    import stix2

    try:
        bundle = stix2.parse(text, allow_custom=True)
    except Exception as e:  # stix2 raises many types on malformed input
        raise ListError(f"not a STIX 2.1 bundle: {e}", file=file) from e
    if getattr(bundle, "type", None) != "bundle":
        raise ListError("not a STIX bundle (type must be 'bundle')", file=file)
    return bundle


def _meta(objects: list[Any], bundle_id: str) -> dict[str, Any]:
    for o in objects:
        if o.get("type") == "identity" and o.get("x_kitvet_list"):
            meta = dict(o["x_kitvet_list"])
            meta["kitvet_list"] = LIST_FORMAT_VERSION
            return {k: v for k, v in meta.items() if v is not None}
    dates = sorted(str(o["created"])[:10] for o in objects if o.get("created"))
    return {"kitvet_list": LIST_FORMAT_VERSION, "name": f"stix-{bundle_id[8:16]}",
            "publisher": "STIX bundle", "version": "1",
            "date": dates[-1] if dates else "1970-01-01",
            "description": f"Imported from STIX bundle {bundle_id}"}


def _foreign_assertion(rel: Any, who: Any, meta: dict[str, Any]) -> dict[str, Any]:
    refs = rel.get("external_references") or []
    first = refs[0] if refs else {}
    a = {"authority": (who.get("name") if who else None) or meta["publisher"],
         "kind": rel["relationship_type"],
         "instrument": (first.get("description") or first.get("source_name")
                        or rel.get("description") or "STIX relationship")[:2000],
         "date": str(rel["start_time"])[:10] if rel.get("start_time") else None,
         "scope": rel.get("description"), "reference_url": first.get("url"),
         "source": f"STIX relationship {rel['id']}", "verified": False}
    return {k: v for k, v in a.items() if v is not None}


def _subject(ind: Any, n: int) -> dict[str, Any]:
    if ind.get("x_kitvet_subject"):
        s = dict(ind["x_kitvet_subject"])
        s["identifiers"] = [dict(i) for i in ind.get("x_kitvet_identifiers", [])]
    else:
        name = ind.get("name") or ind["id"]
        idents = identifiers_from_pattern(ind["pattern"])
        versioned = any(i.get("versions") for i in idents)
        s = {"id": f"{_slug(name)}-{n}", "name": name[:300],
             "kind": "product-version" if versioned else "product", "identifiers": idents}
        if ind.get("description"):
            s["description"] = ind["description"]
    s["assertions"] = []
    return s


def bundle_to_document(text: str | bytes, *, file: str) -> dict[str, Any]:
    """The STIX bundle ``text`` as a kitvet list document (not yet validated)."""
    bundle = _parse(text, file)
    objects = list(bundle.get("objects", []))
    meta = _meta(objects, bundle["id"])
    by_id = {o["id"]: o for o in objects}
    subjects: dict[str, dict[str, Any]] = {}
    for n, o in enumerate(objects):
        if o.get("type") == "indicator":
            subjects[o["id"]] = _subject(o, n)
    for o in objects:
        if o.get("type") != "relationship" or o["target_ref"] not in subjects:
            continue
        s = subjects[o["target_ref"]]
        if o.get("x_kitvet_assertion"):
            s["assertions"].append(dict(o["x_kitvet_assertion"]))
        elif o["relationship_type"] in ASSERTION_KINDS:
            s["assertions"].append(_foreign_assertion(o, by_id.get(o["source_ref"]), meta))
    for ind_id, s in subjects.items():
        if not s["assertions"]:
            creator = by_id.get(by_id[ind_id].get("created_by_ref", ""))
            s["assertions"].append({
                "authority": (creator.get("name") if creator else None) or meta["publisher"],
                "kind": "warning", "instrument": f"STIX indicator {ind_id}",
                "date": str(by_id[ind_id]["valid_from"])[:10], "verified": False,
                "source": f"STIX indicator {ind_id} ("
                          f"{', '.join(by_id[ind_id].get('indicator_types') or ['no type'])})"})
    return {**meta, "subjects": list(subjects.values())}
