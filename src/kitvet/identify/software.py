"""Who made a program or device: attributions with the identifier and database behind each.

An :class:`Attribution` says which identifier of an inventory row (publisher, code signer,
package name, bundle id, binary name, USB/PCI vendor id, MAC address) led to which
organisation, and from which database: the organisation graph (bundled
``identify/data/organisations.yaml`` and an organisation's own files, every name sourced;
:mod:`kitvet.identify.graph`), usb.ids / pci.ids or the IEEE
registries (:mod:`kitvet.identify.hardware`), or the inventory itself when a name is known to
no database. Windows publisher and code signer are separate attributions, so a reviewer sees
when they disagree.

    >>> identify_software({"publisher": "AO Kaspersky Lab"})[0].explanation
    "publisher 'AO Kaspersky Lab' → Kaspersky Lab (alias table)"
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from kitvet.identify.cpe import cpe22_to_23
from kitvet.identify.orgs import normalize_org, org_key

logger = logging.getLogger(__name__)

ALIAS_TABLE = Path(__file__).parent / "data" / "organisations.yaml"
ALIAS_DB = "alias table"
#: Identifier kind of each registry of the organisation graph.
REGISTRY_KINDS = {"ieee": "oui_org_name", "publisher": "publisher", "signer": "signer",
                  "alias": "publisher", "usb.ids": "usb_vendor_id", "pci.ids": "pci_vendor_id",
                  "apple-team-id": "team_id", "package-namespace": "purl",
                  "bundle-id-prefix": "bundle_id_prefix", "cpe": "cpe",
                  "package-name": "package_name", "process-name": "process_name"}
REPORTED_DB = "as reported (in no database)"
#: Package types whose row name is a package-manager package name.
PACKAGE_TYPES = frozenset({"deb", "rpm", "apk", "npm", "pypi", "gem", "cargo", "golang",
                           "maven", "nuget", "conda", "alpm", "brew"})
_DN_PART = re.compile(r"(?:^|[,/])\s*(O|CN)\s*=\s*(\"[^\"]*\"|[^,/]+)", re.IGNORECASE)
_EMAIL = re.compile(r"<[^<>]*@[^<>]*>|\(?\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b\)?")
#: Apple signing identities: "Developer ID Application: Mozilla Corporation (43AQ936H96)".
_APPLE_ID = re.compile(r"^(?:Developer ID (?:Application|Installer)|Apple (?:Development|"
                       r"Distribution)|Mac Developer|3rd Party Mac Developer \w+):\s*(.+?)"
                       r"\s*(?:\(([A-Z0-9]{10})\))?$")


@dataclass(frozen=True)
class Attribution:
    """One identifier of an item attributed to one organisation."""

    organisation: str  # canonical name (alias table) or the database's / inventory's name
    kind: str  # identifier kind (kitvet.model.IDENTIFIER_KINDS), e.g. "publisher"
    observed: str  # the value seen in inventory
    database: str  # "alias table", "usb.ids (...)", "IEEE MA-L (...)", "as reported ..."
    explanation: str  # e.g. "USB vendor id 12d1 → Huawei Technologies Co., Ltd. (usb.ids)"
    org_id: str | None = None  # alias-table id when the organisation is known to it
    source: str | None = None  # where the alias-table entry was read

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {k: getattr(self, k) for k in ("organisation", "org_id", "kind", "observed",
                                              "database", "explanation", "source")}


def _cached(fn: Callable[..., list[Attribution]]) -> Callable[..., list[Attribution]]:
    """Cache an attribution function per distinct input (inventories repeat values a lot)."""
    inner = lru_cache(maxsize=65536)(lambda *a, **k: tuple(fn(*a, **k)))

    @functools.wraps(fn)
    def wrapper(*args: Any, **kw: Any) -> list[Attribution]:
        return list(inner(*args, **kw))

    wrapper.cache_clear = inner.cache_clear  # type: ignore[attr-defined]
    return wrapper


@dataclass(frozen=True)
class _Entry:
    org_id: str
    org: str
    kind: str
    value: str
    source: str | None


@dataclass(frozen=True)
class AliasTable:
    """The bundled organisation table, indexed by (kind, comparison key)."""

    index: dict[tuple[str, str], tuple[_Entry, ...]]
    prefixes: tuple[_Entry, ...]  # bundle-id and CPE prefixes
    names: dict[str, tuple[str, str]]  # normalised org key -> (org_id, canonical name)

    def lookup(self, kind: str, key: str) -> tuple[_Entry, ...]:
        """Entries of ``kind`` whose comparison key equals ``key``."""
        return self.index.get((kind, key), ())


def _key(kind: str, value: str) -> str:
    if kind in ("publisher", "signer", "oui_org_name"):
        return org_key(value)
    if kind in ("usb_vendor_id", "pci_vendor_id"):
        return value.strip().lower().zfill(4)
    return value.strip().lower()


@lru_cache(maxsize=4)
def load_aliases(path: Path | None = None) -> AliasTable:
    """The organisation graph's names indexed by (kind, comparison key) (cached). ``path``: a
    graph file read alone and unsigned (tests); default: the process's graph."""
    from kitvet.identify import graph as og

    g = og.default_graph() if path is None else og.load_graph(
        [path], allow_unsigned=True, bundled=False)
    index: dict[tuple[str, str], list[_Entry]] = {}
    prefixes: list[_Entry] = []
    names: dict[str, tuple[str, str]] = {}
    for org in g.organisations.values():
        oid, name = org.id, org.name
        names.setdefault(org_key(name), (oid, name))
        own = og.OrgName("publisher", name, "canonical name")
        for n in (own, *org.names):
            kind = REGISTRY_KINDS[n.registry]
            e = _Entry(oid, name, kind, n.value, n.source)
            if n.registry in og.NAME_REGISTRIES:
                names.setdefault(org_key(e.value), (oid, name))
            if e.kind in ("bundle_id_prefix", "cpe"):
                prefixes.append(e)
            index.setdefault((e.kind, _key(e.kind, e.value)), []).append(e)
    return AliasTable({k: tuple(v) for k, v in index.items()}, tuple(prefixes), names)


def family_note(org_id: str | None) -> str:
    """' — a subsidiary of Huawei Technologies Co., Ltd. (organisation graph)' for an
    organisation that belongs to another today, else ''."""
    if not org_id:
        return ""
    from datetime import date

    from kitvet.identify import graph as og

    g = og.default_graph()
    today = date.today().isoformat()
    parts = [f"{og.RELATION_WORDS[r.type]} {g.organisations[r.to_id].name}"
             for r in g.relations if r.from_id == org_id and r.type != "former-owner"
             and r.holds_on(today)]
    return f" — {'; '.join(parts)} (organisation graph)" if parts else ""


def _org_name(value: str, what: str, kind: str, database: str | None = None,
              alias_kinds: tuple[str, ...] = ("publisher",)) -> list[Attribution]:
    """Attribute an organisation name (publisher, signer, OUI or vendor name)."""
    table = load_aliases()
    name = _EMAIL.sub(" ", value).strip() or value  # "Team <team@example.org>" -> "Team"
    norm = normalize_org(name)
    if not norm:
        return []
    key = org_key(name)
    via = f" ({database})" if database else ""
    for k in (kind, *tuple(a for a in alias_kinds if a != kind)):
        for e in table.lookup(k, key):
            return [Attribution(e.org, kind, value, database or ALIAS_DB,
                                f"{what} {value!r}{via} → {e.org} (alias table)"
                                + family_note(e.org_id), e.org_id, e.source)]
    known = table.names.get(key)
    if known:
        return [Attribution(known[1], kind, value, database or ALIAS_DB,
                            f"{what} {value!r}{via} → {known[1]} (alias table)"
                            + family_note(known[0]), known[0])]
    return [Attribution(name, kind, value, database or REPORTED_DB,
                        f"{what} {value!r}{via}: organisation {norm!r}, not in the alias table")]


@_cached
def by_publisher(value: str) -> list[Attribution]:
    """A publisher / vendor name as the inventory reports it."""
    return _org_name(value, "publisher", "publisher")


def signer_names(subject: str) -> list[str]:
    """Organisation names in a signer string: O= then CN= of a DN, else the string itself."""
    parts = [(m.group(1).upper(), m.group(2).strip().strip('"'))
             for m in _DN_PART.finditer(subject)]
    ordered = [v for k, v in parts if k == "O"] + [v for k, v in parts if k == "CN"]
    apple = _APPLE_ID.match(subject.strip())
    if apple:
        ordered.append(apple.group(1))
    return [p for p in dict.fromkeys(ordered) if p] or [subject.strip()]


@_cached
def by_signer(value: str) -> list[Attribution]:
    """A code signer (Authenticode subject or plain name), reported apart from the publisher."""
    names = signer_names(value)
    for name in names:
        for a in _org_name(name, "code signer", "signer", alias_kinds=("signer", "publisher")):
            if a.org_id:
                named = "" if name == value else f" (name {name!r})"
                return [Attribution(a.organisation, "signer", value, ALIAS_DB,
                                    f"code signer {value!r}{named} → {a.organisation} "
                                    "(alias table)", a.org_id, a.source)]
    norm = normalize_org(names[0])
    if not norm:
        return []
    return [Attribution(names[0], "signer", value, REPORTED_DB,
                        f"code signer {value!r}: organisation {norm!r}, not in the alias table")]


@_cached
def by_bundle_id(value: str) -> list[Attribution]:
    """A macOS bundle identifier, by the longest listed prefix."""
    low = value.strip().lower()
    hits = [e for e in load_aliases().prefixes
            if e.kind == "bundle_id_prefix" and low.startswith(e.value.lower())]
    hits.sort(key=lambda e: -len(e.value))
    return [Attribution(e.org, "bundle_id_prefix", value, ALIAS_DB,
                        f"bundle id {value!r} starts with {e.value!r} → {e.org} (alias table)",
                        e.org_id, e.source) for e in hits[:1]]


@_cached
def by_cpe(value: str) -> list[Attribution]:
    """A CPE 2.3 name (or CPE 2.2 URI), by the longest listed part:vendor prefix."""
    low = value.strip().lower()
    if low.startswith("cpe:/"):
        low = cpe22_to_23(low) or low
    hits = [e for e in load_aliases().prefixes
            if e.kind == "cpe" and low.startswith(e.value.lower())]
    hits.sort(key=lambda e: -len(e.value))
    return [Attribution(e.org, "cpe", value, ALIAS_DB,
                        f"CPE {value} has vendor prefix {e.value!r} → {e.org} (alias table)",
                        e.org_id, e.source) for e in hits[:1]]


@_cached
def by_package_name(value: str) -> list[Attribution]:
    """A package-manager package name."""
    return [Attribution(e.org, "package_name", value, ALIAS_DB,
                        f"package name {value!r} → {e.org} (alias table)", e.org_id, e.source)
            for e in load_aliases().lookup("package_name", value.strip().lower())[:1]]


@_cached
def by_process(path: str) -> list[Attribution]:
    """An executable's file name (from a full path or bare name)."""
    base = re.split(r"[\\/]", path.strip().rstrip("\\/"))[-1].lower()
    return [Attribution(e.org, "process_name", path, ALIAS_DB,
                        f"binary {base!r} → {e.org} (alias table)", e.org_id, e.source)
            for e in load_aliases().lookup("process_name", base)[:1]]


def identify_software(row: dict[str, Any]) -> list[Attribution]:
    """Every attribution of a software row: publisher, signer, package, bundle id, binary."""
    out: list[Attribution] = []
    if row.get("publisher"):
        out += by_publisher(str(row["publisher"]))
    if row.get("signer"):
        out += by_signer(str(row["signer"]))
    if row.get("name") and (row.get("package_type") or "").lower() in PACKAGE_TYPES:
        out += by_package_name(str(row["name"]))
    if row.get("bundle_id"):
        out += by_bundle_id(str(row["bundle_id"]))
    if row.get("path"):
        out += by_process(str(row["path"]))
    if row.get("cpe"):
        out += by_cpe(str(row["cpe"]))
    return out


def _hardware(fn_name: str, *args: str) -> tuple[str, str] | None:
    try:
        from kitvet.identify import hardware
    except ImportError:  # hardware databases not part of this build
        return None
    fn: Callable[..., tuple[str, str] | None] = getattr(hardware, fn_name)
    try:
        return fn(*args)
    except Exception as e:
        logger.debug("%s%s failed: %s", fn_name, args, e)
        return None


@_cached
def by_bus_id(bus: str, vid: str, pid: str | None = None) -> list[Attribution]:
    """A USB or PCI vendor id (and product id): usb.ids / pci.ids, then the alias table."""
    vid = vid.strip().lower().removeprefix("0x").zfill(4)
    label = {"usb": "USB", "pci": "PCI"}[bus]
    kind = f"{bus}_vendor_id"
    got = _hardware(f"{bus}_vendor_name", vid)
    product = None
    if pid:
        pid = pid.strip().lower().removeprefix("0x").zfill(4)
        product = _hardware("usb_product_name" if bus == "usb" else "pci_device_name", vid, pid)
    table = load_aliases()
    listed = table.lookup(kind, vid)
    if got:
        name, database = got
        oid: str | None
        source: str | None = None
        if listed:
            org, oid, source = listed[0].org, listed[0].org_id, listed[0].source
        else:
            oid, org = table.names.get(org_key(name), (None, name))
        what = f"{label} vendor id {vid}" + (f" product {pid} ({product[0]})" if product else "")
        return [Attribution(org, kind, vid if not pid else f"{vid}:{pid}", database,
                            f"{what} → {name} ({database})", oid, source)]
    if listed:
        e = listed[0]
        return [Attribution(e.org, kind, vid, ALIAS_DB,
                            f"{label} vendor id {vid} → {e.org} (alias table)", e.org_id, e.source)]
    return []


@_cached
def by_mac(mac: str) -> list[Attribution]:
    """A MAC address: the IEEE registry's organisation (longest of MA-S, MA-M, MA-L)."""
    got = _hardware("oui_org", mac)
    if not got:
        return []
    name, registry = got
    return _org_name(name, f"MAC {mac} registered to", "oui_org_name", registry,
                     alias_kinds=("oui_org_name", "publisher"))


def clear_caches() -> None:
    """Forget every cached attribution (the organisation graph changed)."""
    for fn in (by_publisher, by_signer, by_bundle_id, by_cpe, by_package_name, by_process,
               by_bus_id, by_mac, by_oui_org):
        fn.cache_clear()  # type: ignore[attr-defined]


def clear_hardware_caches() -> None:
    """Forget attributions that came from the hardware databases (kitvet.identify.hardware
    calls this when its databases change: ``update-data``, ``configure``, ``reset``)."""
    for fn in (by_bus_id, by_mac):
        fn.cache_clear()  # type: ignore[attr-defined]


@_cached
def by_oui_org(name: str) -> list[Attribution]:
    """An IEEE registry organisation name as the inventory reports it."""
    return _org_name(name, "MAC address registered to", "oui_org_name",
                     alias_kinds=("oui_org_name", "publisher"))


def identify_device(row: dict[str, Any]) -> list[Attribution]:
    """Every attribution of a device row: bus vendor id, MAC registry, reported names."""
    out: list[Attribution] = []
    bus = (row.get("bus") or "").lower()
    if bus in ("usb", "pci") and row.get("vendor_id"):
        out += by_bus_id(bus, str(row["vendor_id"]), row.get("product_id"))
    mac_done = False
    if row.get("mac"):
        got = by_mac(str(row["mac"]))
        out += got
        mac_done = bool(got)
    if row.get("oui_org") and not mac_done:
        out += by_oui_org(str(row["oui_org"]))
    if row.get("vendor_name") and not out:
        out += _org_name(str(row["vendor_name"]), "vendor name", "publisher")
    return out
