"""Probes: how each identifier kind is looked for in inventory.

A probe names one key expression over the software or device table (``publisher``,
``lower(vendor_id)`` where ``bus = 'usb'`` ...) and the identifier kinds it answers. The engine
extracts the *distinct* keys of each probe once, decides in Python which identifiers each
distinct key satisfies (normalisation, prefixes, wildcards, registry look-ups — all per distinct
key, never per row), and joins the few matching keys back to the rows.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass

from kitvet.identify.orgs import normalize_org, org_key
from kitvet.lists.osv import pep503, purl_key


@dataclass(frozen=True)
class CompiledIdentifier:
    """One identifier of one subject, ready for matching."""

    ident_id: int
    list_name: str
    subject_id: str
    subject_name: str
    kind: str
    value: str  # as the list writes it
    key: str  # normalised comparison value
    versions: tuple[str, ...]
    version_range: str | None
    package_types: tuple[str, ...]
    platforms: tuple[str, ...]
    label: str | None
    level: int = 0  # reach level (0: the subject's own organisation; see kitvet.match.reach)
    via: str | None = None  # relation path from the organisation graph, for the explanation
    valid_from: str | None = None  # the path held from (YYYY-MM-DD) ...
    valid_to: str | None = None  # ... until (exclusive)

    @property
    def versioned(self) -> bool:
        return bool(self.versions or self.version_range)


def normalise_identifier(kind: str, value: str) -> str:
    """The comparison key of an identifier value."""
    v = value.strip()
    if kind in ("publisher", "signer", "oui_org_name"):
        return org_key(v)
    if kind in ("usb_vendor_id", "pci_vendor_id", "usb_product_id"):
        return v.lower().removeprefix("0x")
    if kind == "mac_prefix":
        return re.sub(r"[^0-9a-f]", "", v.lower())
    if kind == "team_id":
        return v.upper()
    if kind == "purl":
        return purl_key(v)
    return v.lower()


@dataclass(frozen=True)
class Probe:
    """A key expression over one table and the identifier kinds it can satisfy."""

    name: str
    table: str  # "software" | "devices" | "hosts" | "files"
    key_sql: str  # SQL expression over the table's columns (alias-free)
    where_sql: str  # extra filter ("TRUE" for none)
    field: str  # inventory column named in evidence
    kinds: tuple[str, ...]
    # (distinct key, identifiers of this probe) -> [(identifier, explanation)]
    matcher: Callable[[str, list[CompiledIdentifier]], list[tuple[CompiledIdentifier, str]]]


def _basename(path: str) -> str:
    return re.split(r"[\\/]", path.rstrip("\\/"))[-1].lower()


def _match_org(key: str, idents: list[CompiledIdentifier], what: str) -> list:
    norm = normalize_org(key)
    if not norm:
        return []
    okey = org_key(key)
    return [
        (i, f"{what} {key!r} → {i.subject_name} (organisation name {norm!r})")
        for i in idents
        if i.key == okey
    ]


def _match_signer(key: str, idents: list[CompiledIdentifier]) -> list:
    out = _match_org(key, [i for i in idents if i.kind == "signer"], "code signer")
    # Authenticode subjects ("CN=AO Kaspersky Lab, O=AO Kaspersky Lab, ...") carry the org in O=/CN=
    for part in re.findall(r"(?:^|,)\s*(?:CN|O)=([^,]+)", key):
        for i, why in _match_org(part, [i for i in idents if i.kind == "signer"], "code signer"):
            if all(i is not o[0] for o in out):
                out.append((i, why))
    for i in idents:
        if i.kind == "team_id" and re.search(rf"\b{re.escape(i.key)}\b", key.upper()):
            out.append((i, f"Apple Team ID {i.value} in signer {key!r} → {i.subject_name}"))
    return out


def name_form(name: str) -> str:
    """The loosest form two package names that may be the same take (separators folded, as
    PEP 503 folds Python names): the engine's index of name identifiers; the matcher then
    compares exactly, or as PEP 503 says for identifiers of PyPI packages only."""
    return pep503(name.strip())


def _match_name(key: str, idents: list[CompiledIdentifier]) -> list:
    low = key.strip().lower()
    out = []
    for i in idents:
        if i.kind == "package_name" and (low == i.key or (
                "pypi" in i.package_types and pep503(low) == pep503(i.key))):
            out.append((i, f"package name {key!r} → {i.subject_name}"))
        elif i.kind == "product_name" and (
            low == i.key or ("*" in i.key and fnmatch.fnmatchcase(low, i.key))
        ):
            out.append((i, f"product name {key!r} → {i.subject_name}"))
    return out


def _match_process(key: str, idents: list[CompiledIdentifier]) -> list:
    base = _basename(key)
    return [(i, f"binary {base!r} ({key}) → {i.subject_name}") for i in idents if i.key == base]


def _match_prefix(what: str) -> Callable:
    def m(key: str, idents: list[CompiledIdentifier]) -> list:
        low = key.lower()
        return [(i, f"{what} {key!r} starts with {i.value!r} → {i.subject_name}")
                for i in idents if low.startswith(i.key)]
    return m


def _match_exact(what: str) -> Callable:
    def m(key: str, idents: list[CompiledIdentifier]) -> list:
        low = key.lower()
        return [(i, f"{what} {key} → {i.subject_name}") for i in idents if low == i.key]
    return m


#: Hash identifier kind -> how evidence names it.
HASH_NAMES = {"sha256": "SHA-256", "sha1": "SHA-1", "md5": "MD5"}


def _match_file_hash(kind: str) -> Callable:
    def m(key: str, idents: list[CompiledIdentifier]) -> list:
        low = key.lower()
        return [(i, f"{HASH_NAMES[kind]} {low} of the file → {i.subject_name}")
                for i in idents if i.kind == kind and low == i.key]
    return m


def _match_purl(key: str, idents: list[CompiledIdentifier]) -> list:
    base = purl_key(key)
    return [(i, f"package URL {key} → {i.subject_name}") for i in idents
            if base == i.key or base.startswith(i.key.rstrip("/") + "/")]


def _match_cpe(key: str, idents: list[CompiledIdentifier]) -> list:
    low = key.lower()
    return [(i, f"CPE {key} → {i.subject_name}") for i in idents if low.startswith(i.key)]


def _hw_name(kind: str, key: str) -> str | None:
    try:
        from kitvet.identify import hardware
    except ImportError:  # hardware databases not available
        return None
    try:
        if kind == "usb_vendor_id":
            got = hardware.usb_vendor_name(key)
        elif kind == "pci_vendor_id":
            got = hardware.pci_vendor_name(key)
        else:
            got = None
    except Exception:  # a broken ids file never stops a review
        return None
    return f"{got[0]} ({got[1]})" if got else None


def _match_hw_id(bus_label: str) -> Callable:
    def m(key: str, idents: list[CompiledIdentifier]) -> list:
        out = []
        for i in idents:
            if key == i.key:
                name = _hw_name(i.kind, key.split(":")[0]) or i.label
                named = f" → {name}" if name else ""
                out.append((i, f"{bus_label} {key}{named} → {i.subject_name}"))
        return out
    return m


def _match_oui_org(key: str, idents: list[CompiledIdentifier]) -> list:
    return _match_org(key, idents, "MAC address registered to")


def _match_mac(key: str, idents: list[CompiledIdentifier]) -> list:
    """MAC address prefixes (OUI, MA-M, MA-S) named by the list."""
    hexmac = re.sub(r"[^0-9a-f]", "", key.lower())
    return [(i, f"MAC {key} has listed prefix {i.value} → {i.subject_name}")
            for i in idents if hexmac.startswith(i.key)]


def _match_mac_registry(key: str, idents: list[CompiledIdentifier]) -> list:
    """The IEEE registry's organisation for a MAC the inventory gave no organisation for."""
    if len(re.sub(r"[^0-9a-f]", "", key.lower())) != 12:
        return []
    try:
        from kitvet.identify import hardware

        got = hardware.oui_org(key)
    except Exception:  # registry absent or unreadable: no registry evidence
        return []
    if not got:
        return []
    okey = org_key(got[0])
    return [(i, f"MAC {key} registered to {got[0]} ({got[1]}) → {i.subject_name}")
            for i in idents if i.key == okey]


def _match_release(kind: str) -> Callable:
    """Release cycles (endoflife.date product:cycle) of a host's OS or of a package."""
    def m(key: str, idents: list[CompiledIdentifier]) -> list:
        from kitvet.identify.releases import os_release, package_release

        got = (os_release if kind == "os" else package_release)(key)
        if got is None:
            return []
        want = f"{got[0]}:{got[1]}".lower()
        return [(i, got[2]) for i in idents if i.key == want]
    return m


def _release_name_filter() -> str:
    """SQL pre-filter of the package probe: names some release rule could accept (portable to
    DuckDB and Spark SQL: LIKE on prefixes, no regular expressions)."""
    from kitvet.identify.releases import NAME_PREFIXES

    return "(" + " OR ".join(f"lower(name) LIKE '{p}%'" for p in NAME_PREFIXES) + ")"


#: Key of a host's operating system for the release probe (platform|os_name|os_version).
OS_KEY_SQL = ("concat_ws('|', coalesce(lower(platform), ''), coalesce(os_name, ''), "
              "coalesce(os_version, ''))")
#: Key of a package for the release probe (package_type|name|version).
PACKAGE_KEY_SQL = "concat_ws('|', coalesce(lower(package_type), ''), name, coalesce(version, ''))"

PROBES: tuple[Probe, ...] = (
    Probe("publisher", "software", "publisher", "TRUE", "software.publisher", ("publisher",),
          lambda k, ids: _match_org(k, ids, "publisher")),
    Probe("signer", "software", "signer", "TRUE", "software.signer", ("signer", "team_id"),
          _match_signer),
    Probe("name", "software", "name", "TRUE", "software.name",
          ("package_name", "product_name"), _match_name),
    Probe("process", "software", "path", "TRUE", "software.path", ("process_name",),
          _match_process),
    Probe("bundle", "software", "bundle_id", "TRUE", "software.bundle_id",
          ("bundle_id_prefix",), _match_prefix("bundle id")),
    Probe("sha256", "software", "lower(sha256)", "TRUE", "software.sha256", ("sha256",),
          _match_exact("SHA-256")),
    Probe("purl", "software", "purl", "TRUE", "software.purl", ("purl",), _match_purl),
    # files a source hashed (file walks, osquery hash/file, Amcache, CycloneDX hashes)
    Probe("file_sha256", "files", "lower(sha256)", "TRUE", "files.sha256", ("sha256",),
          _match_file_hash("sha256")),
    Probe("file_sha1", "files", "lower(sha1)", "TRUE", "files.sha1", ("sha1",),
          _match_file_hash("sha1")),
    Probe("file_md5", "files", "lower(md5)", "TRUE", "files.md5", ("md5",),
          _match_file_hash("md5")),
    Probe("cpe", "software", "cpe", "TRUE", "software.cpe", ("cpe",), _match_cpe),
    Probe("usb_vendor", "devices", "lower(vendor_id)", "lower(bus) = 'usb'", "devices.vendor_id",
          ("usb_vendor_id",), _match_hw_id("USB vendor id")),
    Probe("usb_product", "devices", "lower(vendor_id) || ':' || lower(product_id)",
          "lower(bus) = 'usb'", "devices.vendor_id:product_id", ("usb_product_id",),
          _match_hw_id("USB device")),
    Probe("pci_vendor", "devices", "lower(vendor_id)", "lower(bus) = 'pci'", "devices.vendor_id",
          ("pci_vendor_id",), _match_hw_id("PCI vendor id")),
    Probe("oui_org", "devices", "oui_org", "TRUE", "devices.oui_org", ("oui_org_name",),
          _match_oui_org),
    Probe("mac", "devices", "lower(mac)", "TRUE", "devices.mac", ("mac_prefix",), _match_mac),
    # the registry is asked even when the inventory named the organisation: the evidence names
    # the IEEE registry and its date
    Probe("mac_registry", "devices", "lower(mac)", "TRUE", "devices.mac",
          ("oui_org_name",), _match_mac_registry),
    Probe("release_os", "hosts", OS_KEY_SQL, "coalesce(os_name, os_version) IS NOT NULL",
          "hosts.os_name/os_version", ("release_cycle",), _match_release("os")),
    Probe("release_package", "software", PACKAGE_KEY_SQL, _release_name_filter(),
          "software.name/version", ("release_cycle",), _match_release("package")),
)
