"""Explain who made an item: one identifier typed by hand, or every item of an inventory file.

Items are written ``KIND:VALUE``:

=============================  ===============================================
``usb:12d1``, ``usb:12d1:1506``  USB vendor (and product) id
``pci:19e5``, ``pci:19e5:0123``  PCI vendor (and device) id
``mac:bc:5e:33:00:11:22``      MAC address (IEEE MA-S, MA-M, MA-L registries)
``oui:"zte corporation"``      IEEE registry organisation name
``publisher:"AO Kaspersky Lab"``  publisher / vendor name
``signer:"CN=..., O=..."``     code signer (Authenticode subject, Apple identity)
``bundle:com.kaspersky.kav``   macOS bundle identifier
``package:kesl``               package-manager package name
``process:avp.exe``            executable name or path
``cpe:2.3:o:hikvision:…``      a CPE 2.3 name (or ``cpe:/…`` 2.2 URI) typed as is
=============================  ===============================================

Anything else is an inventory file or folder: the CLI reads it in any importable format and
:func:`explain_snapshots` explains each of its items.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kitvet.errors import KitvetError
from kitvet.identify import software as sw
from kitvet.identify.software import Attribution
from kitvet.model import Snapshot


class IdentifyError(KitvetError):
    """An item to identify is malformed."""


@dataclass(frozen=True)
class Explained:
    """One item and the attributions of its identifiers."""

    item: str  # e.g. "usb:12d1" or "Kaspersky Endpoint Security for Windows 11.11.0.452"
    item_type: str  # identifier | software | device
    attributions: tuple[Attribution, ...] = ()
    host_id: str | None = None
    location: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out: dict[str, Any] = {"item": self.item, "item_type": self.item_type}
        if self.host_id:
            out["host_id"] = self.host_id
        if self.location:
            out["location"] = self.location
        out["organisations"] = sorted({a.organisation for a in self.attributions})
        out["attributions"] = [a.to_dict() for a in self.attributions]
        if not self.attributions:
            out["why_unknown"] = why_unknown(self)
        if self.extra.get("suggestions"):
            out["suggestions"] = self.extra["suggestions"]
        return out


def _bus(bus: str) -> Callable[[str], list[Attribution]]:
    def f(value: str) -> list[Attribution]:
        parts = value.split(":")
        if len(parts) > 2 or not all(_is_hex4(p) for p in parts):
            raise IdentifyError(f"{bus} id must be VVVV or VVVV:PPPP in hex, got {value!r}")
        return sw.by_bus_id(bus, parts[0], parts[1] if len(parts) > 1 else None)
    return f


def _is_hex4(text: str) -> bool:
    t = text.lower().removeprefix("0x")
    return 1 <= len(t) <= 4 and all(c in "0123456789abcdef" for c in t)


def _mac(value: str) -> list[Attribution]:
    digits = "".join(c for c in value.lower() if c in "0123456789abcdef")
    if len(digits) != 12 or any(c not in "0123456789abcdef:-. " for c in value.lower()):
        raise IdentifyError(f"MAC address must have 12 hex digits, got {value!r}")
    return sw.by_mac(":".join(digits[i:i + 2] for i in range(0, 12, 2)))


#: item kind -> function attributing its value.
ITEM_KINDS: dict[str, Callable[[str], list[Attribution]]] = {
    "usb": _bus("usb"),
    "pci": _bus("pci"),
    "mac": _mac,
    "oui": sw.by_oui_org,
    "publisher": sw.by_publisher,
    "signer": sw.by_signer,
    "bundle": sw.by_bundle_id,
    "package": sw.by_package_name,
    "process": sw.by_process,
    "cpe": lambda v: sw.by_cpe(v if v.lower().startswith("cpe:") else f"cpe:{v}"),
}


def parse_item(text: str) -> tuple[str, str] | None:
    """(kind, value) of a ``KIND:VALUE`` item, None if ``text`` is not written that way."""
    kind, sep, value = text.partition(":")
    if not sep or kind.lower() not in ITEM_KINDS:
        return None
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    elif value[:1] in ("\"", "'") or value[-1:] in ("\"", "'"):
        raise IdentifyError(f"unbalanced quote in {text!r}")
    if not value:
        raise IdentifyError(f"nothing after {kind}:")
    return kind.lower(), value


def explain_item(text: str) -> Explained:
    """The attributions of one ``KIND:VALUE`` item."""
    parsed = parse_item(text)
    if parsed is None:
        raise IdentifyError(f"not an item (KIND:VALUE with KIND one of "
                            f"{', '.join(ITEM_KINDS)}): {text!r}")
    kind, value = parsed
    return Explained(item=f"{kind}:{value}", item_type="identifier",
                     attributions=tuple(ITEM_KINDS[kind](value)))


def why_unknown(item: Explained) -> str:
    """Why an item has no attribution, in words for the table's empty "why" column."""
    if item.item_type != "identifier":
        return "no identifier of this item is in a database kitvet has"
    kind, _, value = item.item.partition(":")
    if kind == "mac":
        digits = "".join(c for c in value.lower() if c in "0123456789abcdef")
        if len(digits) > 1 and int(digits[1], 16) & 2:
            return ("a locally administered MAC (randomised, or set by its owner): no IEEE "
                    "registry assigns it")
        return "prefix in no IEEE registry kitvet has (kitvet update-data fetches them)"
    if kind in ("usb", "pci"):
        return f"vendor id in neither {kind}.ids nor the alias table"
    return "in the alias table under no organisation"


#: Least rapidfuzz token-set ratio (0-100) for a graph name to be suggested as an alias.
SUGGEST_SCORE = 85


def suggest(item: Explained, limit: int = 3) -> list[dict[str, Any]]:
    """Names of the organisation graph that look like the organisation names of ``item`` no
    database knows (rapidfuzz token-set ratio of the normalised names), for a reviewer to add
    as aliases with a source. Suggestions are never attributions and never make a finding."""
    from rapidfuzz import fuzz, process

    from kitvet.identify.graph import default_graph
    from kitvet.identify.orgs import normalize_org

    unknown = [a.observed for a in item.attributions if not a.org_id
               and a.kind in ("publisher", "signer", "oui_org_name")]
    if item.item_type == "identifier" and not item.attributions:
        kind, _, value = item.item.partition(":")
        if kind in ("publisher", "signer", "oui"):
            unknown.append(value)
    if not unknown:
        return []
    g = default_graph()
    choices: dict[str, tuple[str, str]] = {}
    for org in g.organisations.values():
        for name in org.all_names():
            key = normalize_org(name)
            if key:
                choices.setdefault(key, (org.id, name))
    out: list[dict[str, Any]] = []
    for name in dict.fromkeys(unknown):
        query = normalize_org(name)
        if not query:
            continue
        for key, score, _ in process.extract(query, list(choices), scorer=fuzz.token_set_ratio,
                                             limit=limit, score_cutoff=SUGGEST_SCORE):
            oid, graph_name = choices[key]
            out.append({"name": name, "organisation": oid, "similar_to": graph_name,
                        "score": round(float(score), 1)})
    return out


def with_suggestions(items: list[Explained]) -> list[Explained]:
    """The items, each with its alias suggestions in ``extra['suggestions']``."""
    from dataclasses import replace

    return [replace(i, extra={**i.extra, "suggestions": suggest(i)}) for i in items]


def _label(row: dict[str, Any], fields: tuple[str, ...]) -> str:
    return " ".join(str(row[f]) for f in fields if row.get(f)) or "?"


def explain_snapshots(snaps: list[Snapshot], *, include_unknown: bool = False) -> list[Explained]:
    """Each software and device item of the snapshots with its attributions."""
    out: list[Explained] = []
    for snap in snaps:
        hid = snap.host.host_id
        for row in snap.software:
            atts = tuple(sw.identify_software(row))
            if atts or include_unknown:
                out.append(Explained(_label(row, ("name", "version")), "software", atts, hid,
                                     row.get("location")))
        for row in snap.devices:
            atts = tuple(sw.identify_device(row))
            if atts or include_unknown:
                label = _label(row, ("vendor_name", "product_name")) if (
                    row.get("vendor_name") or row.get("product_name")) else _label(
                    row, ("bus", "vendor_id", "product_id", "mac", "ip"))
                out.append(Explained(label, "device", atts, hid, row.get("location")))
    return out


def explain_typed(target: str) -> Explained | None:
    """The item typed as ``target`` (``KIND:VALUE``), or None when it is not written that way.

    A ``target`` that looks like a mistyped kind (``vendor:Huawei``) is an error naming the
    kinds; anything else is for the caller to read as an inventory file or folder.
    """
    if parse_item(target) is not None:
        return explain_item(target)
    kind, sep, _ = target.partition(":")
    if sep and kind.isalpha() and 2 <= len(kind) <= 16:  # a mistyped KIND (not C:\)
        raise IdentifyError(f"{target}: no such file or folder, and {kind!r} is not an "
                            f"item kind (one of {', '.join(ITEM_KINDS)})")
    return None
