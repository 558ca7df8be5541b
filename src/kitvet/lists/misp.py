"""Sharing lists as MISP events (export and import), with pymisp's object templates.

Layout of an exported event (every object is valid against its MISP object template):

* event ``info`` "kitvet risk list <name> <version>", ``date`` the list date, tags
  ``kitvet:list="<name>"``; one ``text`` attribute carries the list metadata.
* per subject an **anchor** object: ``organization`` (vendor, hardware-vendor, service,
  signer) or ``software`` (product, product-version, file-hash), its name attribute tagged
  ``kitvet:status="<status under the profile>"`` and ``kitvet:subject="<id>"``;
* per identifier an object referencing the anchor (``identifies``): ``file`` with a
  ``sha256`` attribute for hashes; ``device`` for USB/PCI vendor ids and MAC prefixes;
  ``iot-device`` (vendor) for OUI organisation names; ``software`` (name, vendor, version,
  cpe) for the rest;
* per assertion an ``annotation`` object referencing the anchor (``annotates``), its
  ``type`` the assertion kind, ``ref`` the reference URL, ``creation-date`` the date, and
  tags ``kitvet:authority``, ``kitvet:assertion-kind``, ``kitvet:jurisdiction``.

Each object's ``comment`` holds the kitvet record as compact JSON, so kitvet → MISP →
kitvet is lossless; events from elsewhere are imported from the native attributes.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import asdict
from typing import Any

from kitvet.errors import ListError
from kitvet.lists.format import LIST_FORMAT_VERSION
from kitvet.model.risk import Assertion, Identifier, RiskList, Subject

logger = logging.getLogger(__name__)

_NS = uuid.UUID("6f1c3a52-8a4e-4a55-9d7e-6b6f6b697476")  # kitvet's uuid5 namespace
_ORG_KINDS = {"vendor", "hardware-vendor", "service", "signer"}
_DEVICE_BUS = {"usb_vendor_id": "usb", "usb_product_id": "usb", "pci_vendor_id": "pci",
               "mac_prefix": "network"}


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "/".join(parts)))


def _js(obj: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in obj.items() if v not in (None, (), [])},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _record(x: Any, tag: str) -> str:
    d = asdict(x)
    d["kitvet"] = tag
    return _js(d)


def _tag(attr: Any, name: str, value: str | None) -> None:
    if value:
        attr.add_tag(f'kitvet:{name}="{value}"')


def _anchor(s: Subject, rl: RiskList, status: str | None) -> Any:
    from pymisp import MISPObject

    name = "organization" if s.kind in _ORG_KINDS else "software"
    obj = MISPObject(name, strict=True)
    obj.uuid = _uuid(rl.name, s.id)
    obj.comment = _js({"kitvet": "subject", "id": s.id, "name": s.name, "kind": s.kind,
                       "aliases": list(s.aliases), "description": s.description,
                       "organisation": s.organisation})
    attr = obj.add_attribute("name", value=s.name)
    _tag(attr, "subject", s.id)
    _tag(attr, "status", status)
    if name == "organization":
        for alias in s.aliases:
            obj.add_attribute("alias", value=alias)
        if s.description:
            obj.add_attribute("description", value=s.description)
        obj.add_attribute("type-of-organization", value=s.kind)
    return obj


def _identifier_object(i: Identifier, s: Subject, n: int, rl: RiskList) -> Any:
    from pymisp import MISPObject

    if i.kind in ("sha256", "sha1", "md5"):
        obj = MISPObject("file", strict=True)
        obj.add_attribute(i.kind, value=i.value.lower())
    elif i.kind in _DEVICE_BUS:
        obj = MISPObject("device", strict=True)
        obj.add_attribute("name", value=s.name)
        obj.add_attribute("device-type", value=_DEVICE_BUS[i.kind])
        obj.add_attribute("description", value=f"{i.kind} {i.value}")
    elif i.kind == "oui_org_name":
        obj = MISPObject("iot-device", strict=True)
        obj.add_attribute("vendor", value=i.value)
    else:
        obj = MISPObject("software", strict=True)
        if i.kind == "cpe":
            obj.add_attribute("name", value=s.name)
            obj.add_attribute("cpe", value=i.value)
        elif i.kind in ("publisher", "signer"):
            obj.add_attribute("name", value=s.name)
            obj.add_attribute("vendor", value=i.value)
        else:
            obj.add_attribute("name", value=i.value)
        if i.versions:
            obj.add_attribute("version", value=", ".join(i.versions))
    obj.uuid = _uuid(rl.name, s.id, "identifier", str(n))
    obj.comment = _record(i, "identifier")
    return obj


def _assertion_object(a: Assertion, s: Subject, n: int, rl: RiskList) -> Any:
    from pymisp import MISPObject

    obj = MISPObject("annotation", strict=True)
    obj.uuid = _uuid(rl.name, s.id, "assertion", str(n))
    text = f"{a.kind} by {a.authority}: {a.instrument}"
    if a.scope:
        text += f". Scope: {a.scope}"
    attr = obj.add_attribute("text", value=text)
    for name, value in (("authority", a.authority_id or a.authority),
                        ("assertion-kind", a.kind), ("jurisdiction", a.jurisdiction),
                        ("verified", None if a.verified else "false")):
        _tag(attr, name, value)
    obj.add_attribute("type", value=a.kind)
    if a.reference_url:
        obj.add_attribute("ref", value=a.reference_url)
    if a.date:
        obj.add_attribute("creation-date", value=f"{a.date}T00:00:00+00:00")
    obj.comment = _record(a, "assertion")
    return obj


def to_misp_event(rl: RiskList, policy: Any | None = None) -> Any:
    """The list as a ``pymisp.MISPEvent`` (statuses from ``policy``, if given)."""
    from pymisp import MISPEvent

    ev = MISPEvent()
    ev.uuid = _uuid(rl.name, rl.version)
    ev.info = f"kitvet risk list {rl.name} {rl.version}"
    ev.set_date(rl.date)
    ev.distribution = 0
    ev.threat_level_id = 4
    ev.analysis = 2
    ev.add_tag(f'kitvet:list="{rl.name}"')
    meta = {"kitvet": "list", "kitvet_list": LIST_FORMAT_VERSION, "name": rl.name,
            "publisher": rl.publisher, "version": rl.version, "date": rl.date,
            "description": rl.description}
    ev.add_attribute("text", rl.description or ev.info, category="Other", comment=_js(meta),
                     to_ids=False)
    for s in rl.subjects:
        status = policy.evaluate(s).status if policy is not None else None
        anchor = _anchor(s, rl, status)
        ev.add_object(anchor)
        for n, i in enumerate(s.identifiers):
            obj = _identifier_object(i, s, n, rl)
            obj.add_reference(anchor.uuid, "identifies")
            ev.add_object(obj)
        for n, a in enumerate(s.assertions):
            obj = _assertion_object(a, s, n, rl)
            obj.add_reference(anchor.uuid, "annotates")
            ev.add_object(obj)
    _fix_uuids(ev)
    return ev


def _fix_uuids(ev: Any) -> None:
    """Derive every attribute and reference uuid from its object: exports are reproducible."""
    for n, attr in enumerate(ev.attributes):
        attr.uuid = _uuid(ev.uuid, "attribute", str(n))
    for obj in ev.objects:
        for n, attr in enumerate(obj.attributes):
            attr.uuid = _uuid(obj.uuid, "attribute", str(n))
        for n, ref in enumerate(obj.references):
            ref.uuid = _uuid(obj.uuid, "reference", str(n))


def export_misp(rl: RiskList, policy: Any | None = None) -> str:
    """The list as MISP event JSON (``{"Event": {...}}``)."""
    return to_misp_event(rl, policy).to_json(indent=2)


def import_misp(text: str | bytes, *, file: str = "event.json") -> dict[str, Any]:
    """A MISP event (JSON) as a kitvet list document (validate before use)."""
    from kitvet.lists.misp_import import event_to_document

    try:
        return event_to_document(text, file=file)
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        raise ListError(f"malformed MISP content: {type(e).__name__}: {e}", file=file) from e


__all__ = ["ListError", "export_misp", "import_misp", "to_misp_event"]
