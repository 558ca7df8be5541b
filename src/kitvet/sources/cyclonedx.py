"""CycloneDX 1.2–1.6 BOMs (JSON and XML): software, hardware (HBOM) and operations (OBOM) BOMs.

Each component is read through cyclonedx-python-lib's own deserialiser, one component at a
time, so one bad component is skipped with its reason and the good ones are kept (the library
would refuse the whole document). XML is parsed with defusedxml with DTDs forbidden: entity
expansion ("billion laughs") and external entities are refused before anything is read.
Components of type ``device`` become device rows; ``data``, ``machine-learning-model`` and
``cryptographic-asset`` components are skipped; everything else becomes a software row.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET
from cyclonedx.model.component import Component

from kitvet.errors import SourceError
from kitvet.model import Host, Snapshot
from kitvet.sources.detect_util import (
    host_id_from_path,
    load_json_file,
    platform_of,
    read_bytes,
    shown,
    text,
    with_institution,
)
from kitvet.sources.interface import Importer

logger = logging.getLogger(__name__)

_NS_PREFIX = "http://cyclonedx.org/schema/bom/"
_NOT_INVENTORY = {"data", "machine-learning-model", "cryptographic-asset"}
_STRING_FIELDS = ("name", "version", "group", "publisher", "author", "purl", "cpe",
                  "description", "bom-ref")
_JOINED_GROUP_TYPES = {"npm", "composer", "golang", "github", "gitlab", "bitbucket"}
#: Components nested deeper than this are skipped (hostile BOMs).
MAX_NESTING = 64
_TOO_DEEP = object()


class CycloneDxImporter(Importer):
    """Reads CycloneDX JSON and XML BOMs."""

    name = "cyclonedx"
    description = "CycloneDX 1.2-1.6 SBOM/HBOM/OBOM, JSON or XML"

    def detect(self, path: Path, head: bytes) -> bool:
        if not path.is_file():
            return False
        h = head[:8192]
        return (b'"bomFormat"' in h and b"CycloneDX" in h) or (
            b"<bom" in h and _NS_PREFIX.encode() in h)

    def read(self, path: Path, *, institution: str | None = None) -> list[Snapshot]:
        snap = _read_xml(path) if _head(path).startswith(b"<") else _read_json(path)
        return with_institution([snap], institution)


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(256).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError as e:
        raise SourceError(f"cannot read: {e.strerror or e}", file=shown(path)) from e


# ---------------------------------------------------------------- JSON


def _read_json(path: Path) -> Snapshot:
    data = load_json_file(path)
    if not isinstance(data, dict) or data.get("bomFormat") != "CycloneDX":
        raise SourceError('not a CycloneDX BOM (no "bomFormat": "CycloneDX")', file=shown(path),
                          place="$")
    spec = data.get("specVersion")
    if not isinstance(spec, str):
        raise SourceError('"specVersion" missing or not a string', file=shown(path),
                          place="$.specVersion")
    _check_spec(spec, path)
    meta = data["metadata"] if isinstance(data.get("metadata"), dict) else {}
    snap = Snapshot(host=_host(path, meta.get("component"), data.get("serialNumber"),
                               meta.get("timestamp"), data.get("components")))
    _machine(snap, meta.get("component"), f"{shown(path)}:$.metadata.component")
    comps = data.get("components", [])
    if not isinstance(comps, list):
        raise SourceError('"components" must be a list', file=shown(path), place="$.components")
    for place, raw in _walk_json(comps, "$.components"):
        where = f"{shown(path)}:{place}"
        if raw is _TOO_DEEP:
            snap.skip("cyclonedx", "components nested too deeply", where)
            continue
        if not isinstance(raw, dict):
            snap.skip("cyclonedx", f"component must be an object, found {type(raw).__name__}",
                      where)
            continue
        bad = next((f for f in _STRING_FIELDS if f in raw and not isinstance(raw[f], str)), None)
        if bad:
            snap.skip("cyclonedx", f"component field {bad!r} must be a string", where)
            continue
        flat = {k: v for k, v in raw.items() if k != "components"}
        try:
            comp = Component.from_json(flat)  # type: ignore[attr-defined]  # added by serializable
        except Exception as e:  # the library raises many kinds for bad input
            snap.skip("cyclonedx", f"component refused by cyclonedx-python-lib: "
                      f"{str(e)[:200]}", where)
            continue
        _add(snap, comp, where)
    return snap


def _walk_json(comps: list[Any], place: str, depth: int = 0) -> Iterator[tuple[str, Any]]:
    for i, raw in enumerate(comps):
        here = f"{place}[{i}]"
        yield here, raw
        nested = raw.get("components") if isinstance(raw, dict) else None
        if isinstance(nested, list) and nested:
            if depth >= MAX_NESTING:
                yield f"{here}.components", _TOO_DEEP
                continue
            yield from _walk_json(nested, f"{here}.components", depth + 1)


def _check_spec(spec: str, path: Path) -> None:
    parts = spec.split(".")
    if len(parts) != 2 or parts[0] != "1" or not parts[1].isdigit():
        raise SourceError(f"unsupported CycloneDX specVersion {spec[:20]!r}", file=shown(path),
                          place="$.specVersion")
    if not 2 <= int(parts[1]) <= 6:
        logger.warning("%s: CycloneDX %s is outside 1.2-1.6; reading it anyway", path, spec)


# ---------------------------------------------------------------- XML


def _read_xml(path: Path) -> Snapshot:
    data = read_bytes(path)
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except (defusedxml.DTDForbidden, defusedxml.EntitiesForbidden,
            defusedxml.ExternalReferenceForbidden) as e:
        raise SourceError("XML with a DTD or entity declarations refused "
                          "(entity expansion and external entities are not allowed)",
                          file=shown(path)) from e
    except ParseError as e:
        line, col = getattr(e, "position", (0, 0))
        raise SourceError(f"not well-formed XML ({e})", file=shown(path),
                          place=f"line {line} column {col}") from e
    except LookupError as e:  # expat: the declared encoding is unknown
        raise SourceError(f"XML in an unknown encoding ({e})", file=shown(path),
                          place="XML declaration") from e
    if not root.tag.startswith("{" + _NS_PREFIX) or not root.tag.endswith("}bom"):
        raise SourceError(f"not a CycloneDX BOM (root element {root.tag[:80]!r})",
                          file=shown(path), place="/bom")
    ns = root.tag[1:].split("}")[0]
    _check_spec(ns[len(_NS_PREFIX):], path)
    q = f"{{{ns}}}"
    meta = root.find(q + "metadata")
    mcomp = meta.find(q + "component") if meta is not None else None
    mdict = _xml_meta_component(mcomp, ns)
    timestamp = meta.findtext(q + "timestamp") if meta is not None else None
    comps = root.find(q + "components")
    comp_els = list(comps) if comps is not None else []
    oses = [{"type": "operating-system", "name": c.findtext(q + "name"),
             "version": c.findtext(q + "version")}
            for c in comp_els if c.get("type") == "operating-system"]
    snap = Snapshot(host=_host(path, mdict, root.get("serialNumber"), timestamp, oses))
    _machine(snap, mdict, f"{shown(path)}:/bom/metadata/component")
    for place, el in _walk_xml(comp_els, q, "/bom/components"):
        where = f"{shown(path)}:{place}"
        if el is None:
            snap.skip("cyclonedx", "components nested too deeply", where)
            continue
        flat = copy.copy(el)
        for child in list(flat):
            if child.tag == q + "components":
                flat.remove(child)
        try:
            comp = Component.from_xml(  # type: ignore[attr-defined]  # added by serializable
                flat, default_namespace=ns)
        except Exception as e:  # the library raises many kinds for bad input
            snap.skip("cyclonedx", f"component refused by cyclonedx-python-lib: "
                      f"{str(e)[:200]}", where)
            continue
        if comp is None or not isinstance(comp.name, str):
            snap.skip("cyclonedx", "component without a name", where)
            continue
        _add(snap, comp, where)
    return snap


def _walk_xml(els: list[Element], q: str, place: str, depth: int = 0
              ) -> Iterator[tuple[str, Element | None]]:
    n = 0
    for el in els:
        if el.tag != q + "component":
            continue
        n += 1
        here = f"{place}/component[{n}]"
        yield here, el
        nested = el.find(q + "components")
        if nested is not None and len(nested):
            if depth >= MAX_NESTING:
                yield f"{here}/components", None
                continue
            yield from _walk_xml(list(nested), q, f"{here}/components", depth + 1)


def _xml_meta_component(el: Element | None, ns: str) -> dict[str, Any] | None:
    if el is None:
        return None
    q = f"{{{ns}}}"
    out: dict[str, Any] = {"name": el.findtext(q + "name"), "group": el.findtext(q + "group"),
                           "version": el.findtext(q + "version"), "type": el.get("type"),
                           "publisher": el.findtext(q + "publisher")}
    for key in ("manufacturer", "supplier", "manufacture"):
        if el.find(q + key) is not None:
            out[key] = {"name": el.find(q + key).findtext(q + "name")}  # type: ignore[union-attr]
    return out


# ---------------------------------------------------------------- shared


def _host(path: Path, mcomp: Any, serial: Any, timestamp: Any, comps: Any) -> Host:
    """The host a BOM describes: metadata.component, else serialNumber, else the file name."""
    mcomp = mcomp if isinstance(mcomp, dict) else {}
    name, group = text(mcomp.get("name")), text(mcomp.get("group"))
    host_id = (f"{group}/{name}" if group and name else name) or text(serial) \
        or host_id_from_path(path, generic=("bom", "sbom", "hbom", "obom", "cyclonedx"))
    oses = [c for c in comps if isinstance(c, dict) and c.get("type") == "operating-system"
            and text(c.get("name"))] if isinstance(comps, list) else []
    if mcomp.get("type") == "operating-system" and name:
        oses.insert(0, mcomp)
    os_name = text(oses[0].get("name")) if oses else None
    return Host(host_id=host_id, hostname=name, platform=platform_of(os_name), os_name=os_name,
                os_version=text(oses[0].get("version")) if oses else None,
                collected_at=text(timestamp), sources=("cyclonedx",))


def _machine(snap: Snapshot, mcomp: Any, where: str) -> None:
    """A BOM about a device (metadata.component of type device) lists the machine itself."""
    if not isinstance(mcomp, dict) or mcomp.get("type") != "device":
        return
    vendor = None
    for key in ("manufacturer", "supplier", "manufacture"):
        if isinstance(mcomp.get(key), dict) and text(mcomp[key].get("name")):
            vendor = text(mcomp[key]["name"])
            break
    vendor = vendor or text(mcomp.get("publisher"))
    row = {"vendor_name": vendor, "product_name": text(mcomp.get("name")),
           "description": "the machine itself"}
    snap.add_device(source="cyclonedx", location=where, **{k: v for k, v in row.items() if v})


def _publisher(c: Component) -> str | None:
    manufacturer = getattr(c, "manufacturer", None)
    for cand in (c.publisher, c.supplier.name if c.supplier else None,
                 manufacturer.name if manufacturer is not None else None, c.author):
        if text(cand):
            return text(cand)
    authors = list(getattr(c, "authors", None) or [])
    return text(authors[0].name) if authors else None


def _add(snap: Snapshot, c: Component, where: str) -> None:
    ctype = c.type.value if c.type is not None else "library"
    name = text(c.name)
    if not name:
        snap.skip("cyclonedx", "component without a name", where)
        return
    if ctype in _NOT_INVENTORY:
        snap.skip("cyclonedx", f"component of type {ctype!r} is neither software nor a device",
                  where)
        return
    publisher = _publisher(c)
    if ctype == "device":
        row = {"vendor_name": publisher, "product_name": name,
               "description": text(c.description)}
        snap.add_device(source="cyclonedx", location=where,
                        **{k: v for k, v in row.items() if v})
        return
    if ctype == "file":  # a file, not a package: a file row with its hashes
        _hashed_file(snap, c, name, where, ("sha256", "sha1", "md5"))
        return
    purl = c.purl
    ptype = purl.type if purl is not None else {
        "operating-system": "os", "firmware": "firmware", "platform": "platform"}.get(ctype)
    group = text(c.group)
    if group and ptype in _JOINED_GROUP_TYPES:
        name = f"{group}/{name}"
    sha256 = next((h.content.lower() for h in c.hashes
                   if getattr(h.alg, "value", "") == "SHA-256"), None)
    row = {"name": name, "version": text(c.version), "publisher": publisher,
           "package_type": ptype, "purl": text(purl.to_string()) if purl is not None else None,
           "cpe": text(c.cpe), "sha256": text(sha256)}
    snap.add_software(source="cyclonedx", location=where, **{k: v for k, v in row.items() if v})
    _hashed_file(snap, c, name, where, ("sha1", "md5"))  # SHA-256: software.sha256


#: CycloneDX hash algorithm -> file row column.
_HASH_COLUMNS = {"SHA-256": "sha256", "SHA-1": "sha1", "MD5": "md5"}


def _hashed_file(snap: Snapshot, c: Component, name: str, where: str,
                 columns: tuple[str, ...]) -> None:
    """A file row for a component that carries hashes of these ``columns`` (hash indicators
    match file rows): the path is the component's name (a ``file`` component names its
    path), the place in the BOM its location."""
    hashes: dict[str, str] = {}
    for h in c.hashes:
        col = _HASH_COLUMNS.get(getattr(h.alg, "value", ""))
        content = (text(h.content) or "").lower()
        if col in columns and content and col not in hashes:
            hashes[col] = content
    if hashes:
        snap.add_file(source="cyclonedx", location=where, path=name,
                      name=name.replace("\\", "/").rsplit("/", 1)[-1], **hashes)
