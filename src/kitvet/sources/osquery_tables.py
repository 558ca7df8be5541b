"""osquery tables kitvet reads, how they are recognised, and what each row becomes.

Columns follow osquery's table specs (``specs/*.table``): e.g. ``programs`` (name, version,
publisher, install_location, uninstall_string, identifying_number), ``usb_devices`` (vendor,
vendor_id, model, model_id, serial), ``authenticode`` (path, subject_name, result) and
``signature`` (path, authority, team_identifier, signed).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from packageurl import PackageURL

from kitvet.model import Snapshot
from kitvet.sources.detect_util import hex_id, loads, mac_address, text

logger = logging.getLogger(__name__)

#: table -> column sets; a row whose columns include all of one set is from that table.
SIGNATURES: dict[str, tuple[frozenset[str], ...]] = {
    t: tuple(frozenset(s.split()) for s in sigs)
    for t, sigs in {
        "authenticode": ("subject_name result", "original_program_name"),
        "signature": ("team_identifier", "cdhash", "authority signed"),
        "programs": ("identifying_number", "uninstall_string", "install_source"),
        "deb_packages": ("admindir", "maintainer arch", "revision maintainer"),
        "rpm_packages": ("release arch", "release epoch", "release sha1"),
        "apps": ("bundle_identifier", "bundle_short_version"),
        "chrome_extensions": ("identifier update_url", "identifier permissions",
                              "identifier profile"),
        "firefox_addons": ("identifier creator", "source_url visible"),
        "python_packages": ("summary license", "summary directory"),
        "npm_packages": ("homepage directory", "homepage license"),
        "usb_devices": ("usb_address", "usb_port", "vendor_id model_id removable"),
        "pci_devices": ("pci_slot", "pci_class"),
        "arp_cache": ("address mac interface", "address mac permanent"),
        "system_info": ("uuid cpu_brand", "uuid hardware_vendor", "uuid computer_name"),
        "os_version": ("major minor platform", "platform_like", "codename platform"),
        "file": ("filename directory inode", "filename directory mtime"),
        "hash": ("md5 sha1 sha256", "sha256 ssdeep"),
    }.items()
}
TABLE_NAMES: tuple[str, ...] = (*tuple(SIGNATURES), "programs_and_features")
_BY_LENGTH = sorted(TABLE_NAMES, key=len, reverse=True)


def table_for(query_name: str | None, sample: dict[str, Any]) -> str | None:
    """The osquery table a query reads, from its name (``pack_x_programs``) or its columns."""
    if query_name:
        q = query_name.lower()
        for t in _BY_LENGTH:
            if q == t or q.endswith("_" + t) or q.endswith("/" + t) or q.startswith(t + "_"):
                return "programs" if t == "programs_and_features" else t
    cols = set(sample) if isinstance(sample, dict) else set()
    for t, sigs in SIGNATURES.items():
        if any(sig <= cols for sig in sigs):
            return t
    return None


Row = dict[str, Any]


def _programs(r: Row) -> Row:
    return {"name": text(r.get("name")), "version": text(r.get("version")),
            "publisher": text(r.get("publisher")), "package_type": "windows",
            "path": text(r.get("install_location")),
            "uninstall": text(r.get("uninstall_string"))}


def _deb(r: Row) -> Row:
    return {"name": text(r.get("name")), "version": text(r.get("version")),
            "publisher": text(r.get("maintainer")), "package_type": "deb",
            "arch": text(r.get("arch"))}


def _rpm(r: Row) -> Row:
    version, release = text(r.get("version")), text(r.get("release"))
    return {"name": text(r.get("name")),
            "version": f"{version}-{release}" if version and release else version,
            "publisher": text(r.get("vendor")), "package_type": "rpm",
            "arch": text(r.get("arch")), "sha256": None}


def _apps(r: Row) -> Row:
    name = text(r.get("bundle_name")) or text(r.get("display_name")) or text(r.get("name"))
    if name and name.endswith(".app"):
        name = name[:-4]
    return {"name": name,
            "version": text(r.get("bundle_short_version")) or text(r.get("bundle_version")),
            "package_type": "macos", "path": text(r.get("path")),
            "bundle_id": text(r.get("bundle_identifier"))}


def _browser(ptype: str, author: str) -> Callable[[Row], Row]:
    def conv(r: Row) -> Row:
        return {"name": text(r.get("name")), "version": text(r.get("version")),
                "publisher": text(r.get(author)), "package_type": ptype,
                "path": text(r.get("path")), "bundle_id": text(r.get("identifier"))}
    return conv


def _lang(ptype: str) -> Callable[[Row], Row]:
    def conv(r: Row) -> Row:
        return {"name": text(r.get("name")), "version": text(r.get("version")),
                "publisher": text(r.get("author")), "package_type": ptype,
                "path": text(r.get("path"))}
    return conv


SOFTWARE: dict[str, Callable[[Row], Row]] = {
    "programs": _programs,
    "deb_packages": _deb,
    "rpm_packages": _rpm,
    "apps": _apps,
    "chrome_extensions": _browser("chrome", "author"),
    "firefox_addons": _browser("firefox", "creator"),
    "python_packages": _lang("pypi"),
    "npm_packages": _lang("npm"),
}


def _bus_device(bus: str) -> Callable[[Row], Row]:
    def conv(r: Row) -> Row:
        return {"bus": bus, "vendor_id": hex_id(r.get("vendor_id")),
                "product_id": hex_id(r.get("model_id")), "vendor_name": text(r.get("vendor")),
                "product_name": text(r.get("model")), "serial": text(r.get("serial")),
                "description": text(r.get("pci_class")) or text(r.get("driver"))}
    return conv


def _arp(r: Row) -> Row:
    return {"bus": "network", "mac": mac_address(r.get("mac")), "ip": text(r.get("address")),
            "description": text(r.get("interface"))}


def _system(r: Row) -> Row:
    return {"bus": "system", "vendor_name": text(r.get("hardware_vendor")),
            "product_name": text(r.get("hardware_model")),
            "serial": text(r.get("hardware_serial")), "description": "the machine itself"}


DEVICES: dict[str, Callable[[Row], Row]] = {
    "usb_devices": _bus_device("usb"),
    "pci_devices": _bus_device("pci"),
    "arp_cache": _arp,
    "system_info": _system,
}
_IGNORED_MACS = {"00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"}


def _file(r: Row) -> Row | None:
    path = text(r.get("path"))
    if not path or text(r.get("type")) == "directory":
        return None
    name = text(r.get("filename")) or path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    mtime = text(r.get("mtime"))
    if mtime and mtime.isdigit():
        from datetime import UTC, datetime

        try:
            mtime = datetime.fromtimestamp(int(mtime), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        except (OverflowError, OSError, ValueError):
            mtime = None
    return {"path": path, "name": name, "size": text(r.get("size")), "mtime": mtime,
            "sha256": (text(r.get("sha256")) or "").lower() or None,
            "sha1": (text(r.get("sha1")) or "").lower() or None,
            "md5": (text(r.get("md5")) or "").lower() or None}


#: osquery tables that become file rows (the ransomware sweep reads them).
FILES: dict[str, Callable[[Row], Row | None]] = {"file": _file, "hash": _file}


def add_rows(snap: Snapshot, by_table: dict[str, list[tuple[str, Any]]], osv: Row,
             cache: dict[Any, Any] | None = None) -> None:
    """Turn each table's rows into software/device rows of ``snap`` (bad rows are skipped).

    A software row may be given as its canonical JSON (``bytes``): it is then converted once
    per distinct row, table and distribution through ``cache`` and copied for each host.
    """
    signers = _signers(by_table)
    distro = (text(osv.get("platform")) or "").lower() or None
    for table, rows in by_table.items():
        conv = SOFTWARE.get(table)
        if conv is not None:
            known = (cache if cache is not None else {}).setdefault((table, distro), {})
            _software_rows(snap, table, conv, rows, signers, distro, known)
        elif table in DEVICES:
            for where, r in rows:
                _device(snap, table, loads(r) if type(r) is bytes else r, where)
        elif table in FILES:
            for where, r in rows:
                row = FILES[table](loads(r) if type(r) is bytes else r)
                if row is None:
                    snap.skip(f"osquery:{table}", "row without a file path (or a folder)", where)
                    continue
                snap.files.append({k: v for k, v in row.items() if v} |
                                  {"source": f"osquery:{table}", "location": where})


def _software_rows(snap: Snapshot, table: str, conv: Callable[[Row], Row],
                   rows: list[tuple[str, Any]], signers: dict[str, str], distro: str | None,
                   known: dict[bytes, Row | str]) -> None:
    source = f"osquery:{table}"
    out = snap.software
    for where, r in rows:
        if type(r) is bytes:
            done = known.get(r)
            if done is None:
                done = known[r] = _convert(table, conv, loads(r), distro)
        else:
            done = _convert(table, conv, r, distro)
        if isinstance(done, str):
            snap.skip(source, done, where)
            continue
        path = done.get("path") if signers else None
        signer = signers.get(_norm_path(path)) if path else None
        if signer:
            out.append({**done, "signer": signer, "source": source, "location": where})
        else:  # keys are SOFTWARE_FIELDS
            out.append({**done, "source": source, "location": where})


def _convert(table: str, conv: Callable[[Row], Row], r: Row, distro: str | None) -> Row | str:
    """One host-independent software row (without signer and location), or why it is skipped."""
    row = conv(r)
    if not row.get("name"):
        return "row without a name"
    if table == "deb_packages":
        status = text(r.get("status"))
        if status and not status.endswith(" installed"):
            return f"package not installed (status {status!r})"
    if table in _PURL_TYPES:
        row["purl"] = _purl(table, row, r, distro)
    return {k: v for k, v in row.items() if v}


def _device(snap: Snapshot, table: str, r: Any, where: str) -> None:
    source = f"osquery:{table}"
    row = {k: v for k, v in DEVICES[table](r).items() if v is not None}
    if table == "arp_cache" and (row.get("mac") is None or row["mac"] in _IGNORED_MACS):
        snap.skip(source, "incomplete or broadcast ARP entry", where)
        return
    if len(row) <= 2 and not (row.get("vendor_id") or row.get("vendor_name") or row.get("mac")):
        snap.skip(source, "device row without vendor, product or address", where)
        return
    snap.add_device(source=source, location=where, **row)


_PURL_TYPES = {"deb_packages": "deb", "rpm_packages": "rpm", "python_packages": "pypi",
               "npm_packages": "npm"}


def _purl(table: str, row: Row, raw: Row, distro: str | None) -> str | None:
    ptype = _PURL_TYPES.get(table)
    if ptype is None or not row.get("version"):
        return None
    quals: dict[str, str] = {}
    if row.get("arch"):
        quals["arch"] = row["arch"]
    epoch = text(raw.get("epoch"))
    if table == "rpm_packages" and epoch and epoch != "0":
        quals["epoch"] = epoch
    ns = distro if ptype in ("deb", "rpm") else None
    fast = _fast_purl(ptype, ns, row["name"], row["version"], quals)
    if fast is not None:
        return fast
    try:
        return PackageURL(type=ptype, namespace=ns, name=row["name"], version=row["version"],
                          qualifiers=quals or None).to_string()
    except ValueError:
        return None


#: Text that packageurl's normalisation and percent-encoding leave as it is ("+" aside).
_PLAIN = re.compile(r"[A-Za-z0-9._~+:-]+\Z")


def _fast_purl(ptype: str, ns: str | None, name: str, version: str,
               quals: dict[str, str]) -> str | None:
    """The purl ``PackageURL(...).to_string()`` gives, for plain text only (else None).

    A hundred times cheaper; the tests compare it with packageurl on many inputs.
    """
    plain = _PLAIN.match
    if not (plain(name) and plain(version) and (ns is None or plain(ns))
            and all(plain(v) for v in quals.values())):
        return None
    if ptype in ("pypi", "npm"):
        if "+" in name or ns:  # lowered after percent-encoding there ("%2b"); namespaces
            return None
        name = name.lower().replace("_", "-") if ptype == "pypi" else name.lower()
    out = f"pkg:{ptype}/{ns}/{name}@{version}" if ns else f"pkg:{ptype}/{name}@{version}"
    if quals:
        out += "?" + "&".join(f"{k}={quals[k]}" for k in sorted(quals))
    return out.replace("+", "%2B") if "+" in out else out


def _signers(by_table: dict[str, list[tuple[str, Any]]]) -> dict[str, str]:
    """Normalised path (file, bundle, or any folder above it) -> code signer."""
    out: dict[str, str] = {}
    for _where, r in by_table.get("authenticode", []) + by_table.get("signature", []):
        if not isinstance(r, dict):
            continue
        result = (text(r.get("result")) or "").lower()
        if result in ("missing", "invalid") or text(r.get("signed")) == "0":
            continue
        signer = text(r.get("subject_name")) or text(r.get("authority")) \
            or text(r.get("team_identifier"))
        path = text(r.get("path"))
        if not signer or not path:
            continue
        p = _norm_path(path)
        out.setdefault(p, signer)
        # the folders above it, so install locations and app bundles join; never as high as
        # "C:/Program Files" or "/Applications", which hold many vendors' programs
        least = 3 if len(p) > 1 and p[1] == ":" else 2
        while "/" in p and not p.endswith(".app"):
            p = p[:p.rfind("/")]
            if len([x for x in p.split("/") if x]) < least:
                break
            out.setdefault(p, signer)
    return out


def _norm_path(path: str) -> str:
    p = path.replace("\\", "/").rstrip("/")
    return p.lower() if len(p) > 1 and p[1] == ":" else p
