"""SPDX 2.2/2.3 documents, JSON and tag-value, through spdx-tools' parsers.

Packages become software rows: ``name``, ``versionInfo``, publisher from the supplier (else the
originator), purl and CPE from ``externalRefs`` (``purl``, ``cpe23Type``, ``cpe22Type``). The
document ``name`` names the host. JSON packages are parsed one by one with spdx-tools'
``PackageParser`` so one bad package is skipped with its reason; a tag-value document that
spdx-tools refuses is re-read package block by package block for the same effect.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path
from typing import Any

from ply import yacc
from spdx_tools.spdx.model import Package
from spdx_tools.spdx.parser.error import SPDXParsingError
from spdx_tools.spdx.parser.jsonlikedict.package_parser import PackageParser
from spdx_tools.spdx.parser.tagvalue.parser import Parser as TagValueParser

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

_SUPPORTED = ("SPDX-2.2", "SPDX-2.3")
_BLOCK_START = re.compile(r"^(PackageName|FileName|SnippetSPDXID|LicenseID)\s*:", re.M)
_MINIMAL_HEADER = ("SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\n"
                   "DocumentName: kitvet-recovery\nDocumentNamespace: https://kitvet.invalid/r\n"
                   "Creator: Tool: kitvet\nCreated: 2000-01-01T00:00:00Z\n")


class SpdxImporter(Importer):
    """Reads SPDX 2.2/2.3 JSON and tag-value documents."""

    name = "spdx"
    description = "SPDX 2.2/2.3 SBOM, JSON or tag-value"

    def detect(self, path: Path, head: bytes) -> bool:
        if not path.is_file():
            return False
        h = head[:8192]
        return b'"spdxVersion"' in h or re.search(rb"(?m)^SPDXVersion:\s*SPDX-", h) is not None

    def read(self, path: Path, *, institution: str | None = None) -> list[Snapshot]:
        data = read_bytes(path)
        body = data.lstrip(b"\xef\xbb\xbf \t\r\n")
        if not body:
            raise SourceError("file is empty", file=shown(path))
        snap = _read_json(path) if body.startswith(b"{") else _read_tag_value(path, body)
        return with_institution([snap], institution)


def _tv_parser() -> TagValueParser:
    """spdx-tools' tag-value parser, quiet and without writing parser tables to disk."""
    return TagValueParser(debug=False, write_tables=False, errorlog=yacc.NullLogger())


def _host(path: Path, name: Any, created: Any) -> Host:
    host_id = text(name) or host_id_from_path(path, generic=("sbom", "spdx", "bom"))
    return Host(host_id=host_id, hostname=text(name), collected_at=text(created),
                sources=("spdx",))


def _check_version(version: Any, path: Path, place: str) -> None:
    if not isinstance(version, str) or version.strip() not in _SUPPORTED:
        raise SourceError(f"unsupported SPDX version {str(version)[:20]!r} "
                          f"(kitvet reads {', '.join(_SUPPORTED)})", file=shown(path), place=place)


def _read_json(path: Path) -> Snapshot:
    data = load_json_file(path)
    if not isinstance(data, dict):
        raise SourceError(f"expected a JSON object, found {type(data).__name__}",
                          file=shown(path), place="$")
    _check_version(data.get("spdxVersion"), path, "$.spdxVersion")
    info = data["creationInfo"] if isinstance(data.get("creationInfo"), dict) else {}
    snap = Snapshot(host=_host(path, data.get("name"), info.get("created")))
    packages = data.get("packages", [])
    if not isinstance(packages, list):
        raise SourceError('"packages" must be a list', file=shown(path), place="$.packages")
    parser = PackageParser()
    for i, raw in enumerate(packages):
        where = f"{shown(path)}:$.packages[{i}]"
        if not isinstance(raw, dict):
            snap.skip("spdx", f"package must be an object, found {type(raw).__name__}", where)
            continue
        try:
            pkg = parser.parse_package(raw)
        except SPDXParsingError as e:
            snap.skip("spdx", _messages(e), where)
            continue
        except (TypeError, ValueError, AttributeError) as e:
            snap.skip("spdx", f"package refused by spdx-tools: {str(e)[:200]}", where)
            continue
        _add(snap, pkg, where)
    return snap


def _read_tag_value(path: Path, body: bytes) -> Snapshot:
    try:
        doc_text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SourceError("not UTF-8 text", file=shown(path), place=f"byte {e.start}") from e
    if "\x00" in doc_text:
        raise SourceError("binary data, not an SPDX tag-value document", file=shown(path))
    version = re.search(r"(?m)^SPDXVersion:\s*(\S+)", doc_text)
    _check_version(version.group(1) if version else None, path, "SPDXVersion")
    lines = [m.start() for m in re.finditer(r"(?m)^PackageName\s*:", doc_text)]
    line_of = [doc_text.count("\n", 0, pos) + 1 for pos in lines]
    name = re.search(r"(?m)^DocumentName:\s*(.+)$", doc_text)
    created = re.search(r"(?m)^Created:\s*(\S+)", doc_text)
    snap = Snapshot(host=_host(path, name.group(1) if name else None,
                               created.group(1) if created else None))
    try:
        packages: list[Package | None] = list(_tv_parser().parse(doc_text).packages)
        errors: list[str | None] = [None] * len(packages)
    except SPDXParsingError as e:
        logger.info("%s: spdx-tools refused the document (%s); reading package by package",
                    path, _messages(e))
        packages, errors = _tag_value_blocks(doc_text)
    except Exception as e:  # ply/lexer failures on garbage
        raise SourceError(f"not a readable SPDX tag-value document ({str(e)[:200]})",
                          file=shown(path)) from e
    for i, (pkg, err) in enumerate(zip(packages, errors, strict=False)):
        where = f"{shown(path)}:{line_of[i] if i < len(line_of) else '?'}"
        if pkg is None:
            snap.skip("spdx", err or "package refused by spdx-tools", where)
        else:
            _add(snap, pkg, where)
    return snap


def _tag_value_blocks(doc_text: str) -> tuple[list[Package | None], list[str | None]]:
    """Parse each package block on its own (after the document header)."""
    starts = [m.start() for m in _BLOCK_START.finditer(doc_text)]
    header = doc_text[: starts[0]] if starts else doc_text
    try:
        _tv_parser().parse(header)
    except Exception:
        header = _MINIMAL_HEADER
    packages: list[Package | None] = []
    errors: list[str | None] = []
    for a, b in zip(starts, [*starts[1:], len(doc_text)], strict=False):
        block = doc_text[a:b]
        if not block.startswith("PackageName"):
            continue
        try:
            found = _tv_parser().parse(header + "\n" + block).packages
            packages.append(found[0] if found else None)
            errors.append(None if found else "empty package block")
        except SPDXParsingError as e:
            packages.append(None)
            errors.append(_messages(e))
        except Exception as e:
            packages.append(None)
            errors.append(f"package refused by spdx-tools: {str(e)[:200]}")
    return packages, errors


def _messages(e: SPDXParsingError) -> str:
    msgs = e.get_messages() if hasattr(e, "get_messages") else [str(e)]
    return ("spdx-tools: " + "; ".join(str(m) for m in msgs))[:400]


def _actor_name(actor: Any) -> str | None:
    name = getattr(actor, "name", None)
    return text(name) if isinstance(name, str) else None


def _add(snap: Snapshot, pkg: Package, where: str) -> None:
    name = text(pkg.name)
    if not name:
        snap.skip("spdx", "package without a name", where)
        return
    purl = cpe = None
    for ref in pkg.external_references or []:
        rtype = (ref.reference_type or "").lower()
        if rtype == "purl" and purl is None:
            purl = text(ref.locator)
        elif rtype in ("cpe23type", "cpe22type") and cpe is None:
            cpe = text(ref.locator)
    ptype = purl[4:].split("/", 1)[0].lower() if purl and purl.startswith("pkg:") else None
    purpose = getattr(pkg.primary_package_purpose, "name", None)
    if purpose == "OPERATING_SYSTEM" and not snap.host.os_name:  # SPDX 2.3: the host's OS
        snap.host = dataclasses.replace(snap.host, os_name=name, os_version=text(pkg.version),
                                        platform=platform_of(name))
        ptype = ptype or "os"
    row = {"name": name, "version": text(pkg.version),
           "publisher": _actor_name(pkg.supplier) or _actor_name(pkg.originator),
           "package_type": ptype, "purl": purl, "cpe": cpe}
    snap.add_software(source="spdx", location=where, **{k: v for k, v in row.items() if v})
