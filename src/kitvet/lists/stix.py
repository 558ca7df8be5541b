"""Sharing lists as STIX 2.1 bundles (export and import), built and parsed with ``stix2``.

Layout of an exported bundle (ids are uuid5, timestamps the list date: exports are
reproducible):

* an ``identity`` for the list publisher (``created_by_ref`` of everything) and one per
  authority (``identity_class`` organization, ``x_kitvet_authority_id``,
  ``x_kitvet_jurisdiction``);
* per subject an ``indicator``: ``pattern`` (STIX patterning, validated) ORing one
  comparison per identifier, ``valid_from`` the earliest assertion date (or the list date),
  ``valid_until`` the latest assertion ``valid_until`` when every assertion has one,
  ``indicator_types`` malicious-activity for confirmed malicious versions (else
  anomalous-activity), ``x_kitvet_subject`` and ``x_kitvet_identifiers`` (the records);
* a ``software`` object per package/product identifier and version, linked to the
  indicator by a ``related-to`` relationship;
* per assertion a ``relationship`` from the authority's identity to the indicator whose
  ``relationship_type`` is the assertion kind, ``start_time`` its date, ``stop_time`` its
  ``valid_until``, ``external_references`` its instrument, URL and source, and
  ``x_kitvet_assertion`` the record.

Custom properties start with ``x_kitvet_``; custom pattern objects (``x-usb-device``,
``x-pci-device``, ``x-network-device``) stand for what STIX has no object for.
kitvet → STIX → kitvet is lossless; indicators from elsewhere are read from their patterns.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import asdict
from typing import Any

from kitvet.lists.format import LIST_FORMAT_VERSION
from kitvet.model.risk import Assertion, Identifier, RiskList, Subject

logger = logging.getLogger(__name__)

_NS = uuid.UUID("6f1c3a52-8a4e-4a55-9d7e-6b6f6b697476")
_SOFTWARE_KINDS = {"package_name", "product_name"}


def _id(kind: str, *parts: str) -> str:
    return f"{kind}--{uuid.uuid5(_NS, '/'.join(parts))}"


def _ts(date: str | None) -> str | None:
    return f"{date}T00:00:00Z" if date else None


def _q(value: str) -> str:
    """A STIX pattern string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _like_prefix(value: str) -> str:
    return _q(value.replace("%", "\\%").replace("_", "\\_") + "%")


def _comparisons(i: Identifier) -> list[str]:
    """STIX pattern comparisons (ANDed within one) for one identifier."""
    v = i.value
    simple = {
        "sha256": f"file:hashes.'SHA-256' = {_q(v.lower())}",
        "sha1": f"file:hashes.'SHA-1' = {_q(v.lower())}",
        "md5": f"file:hashes.MD5 = {_q(v.lower())}",
        "publisher": f"software:vendor = {_q(v)}",
        "process_name": f"process:image_ref.name = {_q(v)}",
        "signer": f"file:x_kitvet_signer = {_q(v)}",
        "team_id": f"file:x_kitvet_team_id = {_q(v)}",
        "bundle_id_prefix": f"software:x_kitvet_bundle_id LIKE {_like_prefix(v)}",
        "purl": f"software:x_kitvet_purl LIKE {_like_prefix(v)}",
        "cpe": f"software:cpe LIKE {_like_prefix(v)}",
        "usb_vendor_id": f"x-usb-device:vendor_id = {_q(v.lower())}",
        "usb_product_id": f"x-usb-device:vendor_product_id = {_q(v.lower())}",
        "pci_vendor_id": f"x-pci-device:vendor_id = {_q(v.lower())}",
        "oui_org_name": f"x-network-device:oui_org = {_q(v)}",
        "mac_prefix": f"mac-addr:value LIKE {_like_prefix(v.lower())}",
    }
    if i.kind in simple:
        return [simple[i.kind]]
    name = f"software:name = {_q(v)}"
    if not i.versions:
        return [name]
    return [f"{name} AND software:version = {_q(ver)}" for ver in i.versions]


def pattern_for(s: Subject) -> str:
    """The STIX pattern of a subject: any of its identifiers."""
    parts = [f"[{c}]" for i in s.identifiers for c in _comparisons(i)]
    return " OR ".join(parts) or f"[x-kitvet-subject:id = {_q(s.id)}]"


def _authority_identity(a: Assertion, rl: RiskList, created_by: str) -> Any:
    from stix2 import Identity

    key = a.authority_id or a.authority
    return Identity(id=_id("identity", "authority", key), name=a.authority,
                    identity_class="organization", created=_ts(rl.date), modified=_ts(rl.date),
                    created_by_ref=created_by, allow_custom=True,
                    x_kitvet_authority_id=a.authority_id, x_kitvet_jurisdiction=a.jurisdiction)


def _validity(s: Subject, rl: RiskList) -> tuple[str, str | None]:
    dates = sorted(a.date for a in s.assertions if a.date)
    until = [a.valid_until for a in s.assertions]
    valid_until = max(until) if until and all(until) else None  # type: ignore[type-var]
    return _ts(dates[0] if dates else rl.date) or "", _ts(valid_until)


def _indicator(s: Subject, rl: RiskList, created_by: str) -> Any:
    from stix2 import Indicator

    valid_from, valid_until = _validity(s, rl)
    malicious = any(a.kind == "confirmed-malicious-version" for a in s.assertions)
    subject = {"id": s.id, "name": s.name, "kind": s.kind, "aliases": list(s.aliases),
               "description": s.description, "organisation": s.organisation}
    return Indicator(
        id=_id("indicator", rl.name, s.id), name=s.name, description=s.description,
        pattern=pattern_for(s), pattern_type="stix", valid_from=valid_from,
        valid_until=valid_until,
        indicator_types=["malicious-activity" if malicious else "anomalous-activity"],
        labels=[f"kitvet-subject-kind:{s.kind}"], created=_ts(rl.date), modified=_ts(rl.date),
        created_by_ref=created_by, allow_custom=True,
        x_kitvet_subject={k: v for k, v in subject.items() if v not in (None, [])},
        x_kitvet_identifiers=[_clean(asdict(i)) for i in s.identifiers],
    )


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()
            if v is not None and v != ()}


def _assertion_relationship(a: Assertion, n: int, s: Subject, rl: RiskList, ind: str,
                            who: str, created_by: str) -> Any:
    from stix2 import Relationship

    ref = {"source_name": (a.citation or a.instrument)[:250], "description": a.instrument}
    if a.reference_url:
        ref["url"] = a.reference_url
    refs = [ref]
    if a.source:
        refs.append({"source_name": "kitvet-verified-from", "description": a.source})
    return Relationship(
        id=_id("relationship", rl.name, s.id, "assertion", str(n)), relationship_type=a.kind,
        source_ref=who, target_ref=ind, description=a.scope, start_time=_ts(a.date),
        stop_time=_ts(a.valid_until) if a.valid_until and a.valid_until != a.date else None,
        external_references=refs, created=_ts(rl.date), modified=_ts(rl.date),
        created_by_ref=created_by, allow_custom=True, x_kitvet_assertion=_clean(asdict(a)),
    )


def _software_objects(s: Subject, rl: RiskList, ind: str, created_by: str) -> list[Any]:
    from stix2 import Relationship, Software

    out: list[Any] = []
    for i in s.identifiers:
        if i.kind not in _SOFTWARE_KINDS:
            continue
        for ver in i.versions or (None,):
            sw = Software(name=i.value, version=ver)
            rel = Relationship(id=_id("relationship", rl.name, s.id, "software", sw.id),
                               relationship_type="related-to", source_ref=ind, target_ref=sw.id,
                               created=_ts(rl.date), modified=_ts(rl.date),
                               created_by_ref=created_by)
            out += [sw, rel]
    return out


def to_stix_bundle(rl: RiskList) -> Any:
    """The list as a ``stix2.Bundle``."""
    from stix2 import Bundle, Identity

    publisher = Identity(id=_id("identity", "publisher", rl.publisher), name=rl.publisher,
                         identity_class="organization", created=_ts(rl.date),
                         modified=_ts(rl.date), allow_custom=True,
                         x_kitvet_list={"kitvet_list": LIST_FORMAT_VERSION, "name": rl.name,
                                        "publisher": rl.publisher, "version": rl.version,
                                        "date": rl.date, "description": rl.description})
    objects: dict[str, Any] = {publisher.id: publisher}
    for s in rl.subjects:
        ind = _indicator(s, rl, publisher.id)
        objects[ind.id] = ind
        for n, a in enumerate(s.assertions):
            who = _authority_identity(a, rl, publisher.id)
            objects.setdefault(who.id, who)
            rel = _assertion_relationship(a, n, s, rl, ind.id, who.id, publisher.id)
            objects[rel.id] = rel
        for obj in _software_objects(s, rl, ind.id, publisher.id):
            objects.setdefault(obj.id, obj)
    return Bundle(list(objects.values()), id=_id("bundle", rl.name, rl.version),
                  allow_custom=True)


def export_stix(rl: RiskList) -> str:
    """The list as STIX 2.1 bundle JSON."""
    return json.dumps(json.loads(to_stix_bundle(rl).serialize()), indent=2, ensure_ascii=False)


def import_stix(text: str | bytes, *, file: str = "bundle.json") -> dict[str, Any]:
    """A STIX 2.1 bundle (JSON) as a kitvet list document (validate before use)."""
    from kitvet.errors import ListError
    from kitvet.lists.stix_import import bundle_to_document

    try:
        return bundle_to_document(text, file=file)
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        raise ListError(f"malformed STIX content: {type(e).__name__}: {e}", file=file) from e
