"""Ransomware triage as a STIX 2.1 bundle for CERTs: ``malware`` and ``indicator`` objects.

* one ``identity`` for the producer (kitvet and the lists it used);
* per family a ``malware`` object (``is_family: true``, ``aliases`` = synonyms,
  ``external_references`` = the list's source entry, its references and decryptors);
* per indicator an ``indicator`` with a validated STIX pattern — ``file:name`` for a note
  name seen or recorded, ``file:name LIKE '%.ext'`` for an extension, ``url:value`` for a Tor
  onion, ``email-addr:value``, and the custom ``x-tox:id`` / ``x-cryptocurrency-wallet:value``
  where STIX has no object — and an ``indicates`` relationship to the malware;
* for a sweep, a ``sighting`` per host (``where_sighted_refs`` a ``location``-free identity
  named after the host) so a receiving CERT sees where it was found.

Ids are uuid5 over the content, so the same input gives the same bundle.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kitvet.model.ransom import Family

_NS = uuid.UUID("0c1f7b8e-3d2a-4b8c-9f0e-72616e736f6d")


def _id(kind: str, *parts: str) -> str:
    return f"{kind}--{uuid.uuid5(_NS, '/'.join(parts))}"


def _q(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def pattern(kind: str, value: str) -> str | None:
    """The STIX pattern for one indicator (``kind`` as in :class:`Indicator`)."""
    comparisons = {
        "note-name": f"file:name = {_q(value)}",
        "file-name": f"file:name = {_q(value)}",
        "extension": "file:name LIKE " + _q("%" + value.replace("%", "\\%").replace("_", "\\_")),
        "onion": f"url:value LIKE {_q('%' + value + '%')}",
        "email": f"email-addr:value = {_q(value)}",
        "tox": f"x-tox:id = {_q(value)}",
        "btc": f"x-cryptocurrency-wallet:value = {_q(value)}",
        "xmr": f"x-cryptocurrency-wallet:value = {_q(value)}",
    }
    c = comparisons.get(kind)
    return f"[{c}]" if c else None


@dataclass(frozen=True)
class Indicator:
    """One value to share: its kind (note-name, extension, onion, email, tox, btc, xmr),
    the value, and why (the evidence or the list entry)."""

    kind: str
    value: str
    why: str


@dataclass
class Entry:
    """A family with the indicators to share for it, and where it was sighted."""

    family: Family
    indicators: list[Indicator] = field(default_factory=list)
    sightings: list[tuple[str, int, str]] = field(default_factory=list)  # host, count, first


def family_indicators(fam: Family) -> list[Indicator]:
    """The indicators a family list records for ``fam`` (names, extensions, contacts)."""
    src = f"recorded in {fam.list_name or 'the family list'} ({fam.source or fam.id})"
    out = [Indicator("note-name", n, src) for n in fam.note_names]
    out += [Indicator("extension", e, src) for e in fam.extensions]
    out += [Indicator(k, v, src) for k, v in fam.contacts]
    return out


def bundle(entries: Sequence[Entry], *, created: str, producer: str = "kitvet") -> str:
    """A STIX 2.1 bundle (JSON text) for ``entries``; patterns are checked by ``stix2``."""
    import stix2

    ts = f"{created}T00:00:00Z" if len(created) == 10 else created
    ident = stix2.Identity(id=_id("identity", producer), name=producer,
                           identity_class="organization", created=ts, modified=ts)
    objects: list[Any] = [ident]
    hosts: dict[str, Any] = {}
    for e in entries:
        fam = e.family
        mal = stix2.Malware(
            id=_id("malware", fam.id), name=fam.name, is_family=True,
            aliases=list(fam.synonyms) or None, malware_types=["ransomware"],
            description=(fam.description or None), created=ts, modified=ts,
            created_by_ref=ident.id, external_references=_refs(fam) or None,
            allow_custom=True, x_kitvet_family=fam.id)
        objects.append(mal)
        for ind in _dedupe(e.indicators):
            pat = pattern(ind.kind, ind.value)
            if pat is None:
                continue
            obj = stix2.Indicator(
                id=_id("indicator", fam.id, ind.kind, ind.value), name=f"{fam.name}: {ind.kind} "
                f"{ind.value}", pattern=pat, pattern_type="stix", valid_from=ts, created=ts,
                modified=ts, indicator_types=["malicious-activity"], description=ind.why,
                created_by_ref=ident.id, allow_custom=True)
            objects.append(obj)
            objects.append(stix2.Relationship(
                id=_id("relationship", obj.id, mal.id), relationship_type="indicates",
                source_ref=obj.id, target_ref=mal.id, created=ts, modified=ts,
                created_by_ref=ident.id))
        for host, count, first in e.sightings:
            if host not in hosts:
                hosts[host] = stix2.Identity(id=_id("identity", "host", host), name=host,
                                             identity_class="system", created=ts, modified=ts)
                objects.append(hosts[host])
            objects.append(stix2.Sighting(
                id=_id("sighting", fam.id, host), sighting_of_ref=mal.id, count=count,
                where_sighted_refs=[hosts[host].id], first_seen=first or ts, created=ts,
                modified=ts, created_by_ref=ident.id))
    b = stix2.Bundle(objects=objects, id=_id("bundle", *[o.id for o in objects]),
                     allow_custom=True)
    return json.dumps(json.loads(b.serialize()), indent=2, ensure_ascii=False)


def _dedupe(items: Iterable[Indicator]) -> list[Indicator]:
    seen: set[tuple[str, str]] = set()
    out = []
    for i in items:
        if (i.kind, i.value) not in seen:
            seen.add((i.kind, i.value))
            out.append(i)
    return out


def _refs(fam: Family) -> list[dict[str, str]]:
    out = [{"source_name": fam.list_name or "kitvet",
            "description": fam.source or fam.id}]
    if fam.galaxy_uuid:
        out.append({"source_name": "misp-galaxy", "external_id": fam.galaxy_uuid})
    for d in fam.decryptors:
        out.append({"source_name": f"decryptor ({d.kind})", "url": d.url,
                    "description": d.tool or d.publisher or d.kind})
    for r in fam.refs[:10]:
        out.append({"source_name": "reference", "url": r})
    return out
