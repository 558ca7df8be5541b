"""rpm header blobs, parsed without the ``rpm`` program.

Every rpm database (sqlite ``rpmdb.sqlite``, ndb ``Packages.db``, Berkeley DB ``Packages``)
stores one header per installed package as an *exported header blob* (rpm's ``headerExport``,
no magic/lead)::

    int32 BE  il          number of index entries
    int32 BE  dl          length of the data store
    il x 16 bytes         index entries: int32 tag, uint32 type, int32 offset, uint32 count
    dl bytes              data store (offsets are relative to its start)

The first entry is usually a region tag (63 ``HEADER_IMMUTABLE``) whose data is a trailer;
it is ignored here. Types: 0 NULL, 1 CHAR, 2 INT8, 3 INT16, 4 INT32, 5 INT64, 6 STRING,
7 BIN, 8 STRING_ARRAY, 9 I18NSTRING. Strings are NUL-terminated; integers big-endian.

:func:`parse_header` checks every bound (rpm's own limits: at most 0xffff entries, 256 MiB of
data) and raises :class:`RpmHeaderError` on anything malformed, so a caller can skip that one
package with the reason. :func:`header_to_row` turns a parsed header into a software row.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kitvet.errors import SourceError
from kitvet.model import Skipped
from kitvet.sources.detect_util import shown
from kitvet.sources.hostfacts import bounded, make_purl

#: rpm's limits (lib/header.c: HEADER_TAGS_MAX, HEADER_DATA_MAX).
MAX_INDEX_ENTRIES = 0xFFFF
MAX_DATA_BYTES = 256 * 1024 * 1024

# Types
_NULL, _CHAR, _INT8, _INT16, _INT32, _INT64, _STRING, _BIN, _STRING_ARRAY, _I18NSTRING = range(10)

#: tag number -> key in the parsed dict. Only what kitvet uses is decoded.
TAGS: dict[int, str] = {
    1000: "name",
    1001: "version",
    1002: "release",
    1003: "epoch",
    1004: "summary",
    1006: "buildtime",
    1007: "buildhost",
    1008: "installtime",
    1009: "size",
    1010: "distribution",
    1011: "vendor",
    1014: "license",
    1015: "packager",
    1016: "group",
    1020: "url",
    1021: "os",
    1022: "arch",
    1044: "sourcerpm",
    269: "sha1header",  # RPMTAG_SHA1HEADER (hex string)
    273: "sha256header",  # RPMTAG_SHA256HEADER (hex string)
}

_INT_FORMATS = {
    _CHAR: ("B", 1), _INT8: ("B", 1), _INT16: ("H", 2), _INT32: ("I", 4), _INT64: ("Q", 8),
}


class RpmHeaderError(SourceError):
    """One rpm header blob is malformed."""


def parse_header(blob: bytes) -> dict[str, Any]:
    """Decode the tags kitvet uses from one exported header blob.

    Returns a dict with (when present) name, version, release, epoch (int), arch, vendor,
    packager, summary, license, url, sourcerpm, distribution, buildtime/installtime/size (int)
    and the header digests. Raises :class:`RpmHeaderError` when the blob is malformed.
    """
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        raise RpmHeaderError(f"header is {type(blob).__name__}, not bytes")
    blob = bytes(blob)
    if len(blob) < 8:
        raise RpmHeaderError(f"header too short ({len(blob)} bytes)")
    il, dl = struct.unpack_from(">ii", blob, 0)
    if il < 1 or il > MAX_INDEX_ENTRIES:
        raise RpmHeaderError(f"bad index entry count {il}")
    if dl < 0 or dl > MAX_DATA_BYTES:
        raise RpmHeaderError(f"bad data length {dl}")
    data_start = 8 + 16 * il
    if data_start + dl > len(blob):
        raise RpmHeaderError(
            f"header truncated: needs {data_start + dl} bytes, has {len(blob)}"
        )
    data = blob[data_start : data_start + dl]
    out: dict[str, Any] = {}
    for i in range(il):
        tag, typ, offset, count = struct.unpack_from(">iIiI", blob, 8 + 16 * i)
        key = TAGS.get(tag)
        if key is None:
            continue
        try:
            out[key] = _decode(data, typ, offset, count)
        except RpmHeaderError as e:
            raise RpmHeaderError(f"tag {tag} ({key}): {e.message}") from None
    if not out.get("name"):
        raise RpmHeaderError("header has no name")
    return out


def _decode(data: bytes, typ: int, offset: int, count: int) -> Any:
    if offset < 0 or offset > len(data):
        raise RpmHeaderError(f"offset {offset} outside data ({len(data)} bytes)")
    if count < 1 or count > len(data) + 1:
        raise RpmHeaderError(f"bad count {count}")
    if typ in (_STRING, _STRING_ARRAY, _I18NSTRING):
        strings = _strings(data, offset, 1 if typ == _STRING else count)
        return strings[0] if typ in (_STRING, _I18NSTRING) else strings
    if typ in _INT_FORMATS:
        fmt, size = _INT_FORMATS[typ]
        if offset + size * count > len(data):
            raise RpmHeaderError("integer data runs past the end")
        values = struct.unpack_from(f">{count}{fmt}", data, offset)
        return values[0] if count == 1 else list(values)
    if typ == _BIN:
        if offset + count > len(data):
            raise RpmHeaderError("binary data runs past the end")
        return data[offset : offset + count].hex()
    raise RpmHeaderError(f"unknown type {typ}")


def _strings(data: bytes, offset: int, count: int) -> list[str]:
    out = []
    pos = offset
    for _ in range(count):
        end = data.find(b"\0", pos)
        if end < 0:
            raise RpmHeaderError("string not NUL-terminated")
        out.append(data[pos:end].decode("utf-8", errors="replace"))
        pos = end + 1
    return out


def evr(hdr: dict[str, Any]) -> str:
    """``[epoch:]version-release`` as ``rpm -q`` and purl/univers rpm versions use it."""
    version = str(hdr.get("version") or "")
    release = hdr.get("release")
    text = f"{version}-{release}" if release else version
    epoch = hdr.get("epoch")
    if epoch not in (None, ""):
        text = f"{epoch}:{text}"
    return text


def header_to_row(hdr: dict[str, Any], *, source: str, location: str,
                  vendor_namespace: str | None = None) -> dict[str, Any]:
    """A software row (keys of SOFTWARE_FIELDS) for one parsed rpm header.

    ``vendor_namespace`` is the purl namespace (the distribution id, e.g. "fedora",
    "mariner"); without it the purl has no namespace. Publisher is the rpm Vendor, else the
    Packager.
    """
    name = bounded(str(hdr["name"]), 256) or ""  # empty: only control characters
    version = bounded(evr(hdr), 256)
    arch = hdr.get("arch")
    if isinstance(arch, list):
        arch = arch[0] if arch else None
    arch = bounded(arch, 64) if isinstance(arch, str) else None
    publisher = bounded(str(hdr.get("vendor") or hdr.get("packager") or "")) or None
    return {
        "source": source,
        "location": location,
        "name": name,
        "version": version,
        "publisher": publisher,
        "package_type": "rpm",
        "arch": arch,
        "purl": rpm_purl(name, hdr, vendor_namespace),
    }


def rpm_purl(name: str, hdr: dict[str, Any], namespace: str | None) -> str:
    """purl of an rpm (purl-spec): pkg:rpm/<ns>/name@version-release?arch=..&epoch=.."""
    ver = str(hdr.get("version") or "")
    if hdr.get("release"):
        ver = f"{ver}-{hdr['release']}"
    arch = hdr.get("arch") if isinstance(hdr.get("arch"), str) else None
    epoch = hdr.get("epoch")
    return make_purl("rpm", namespace, name, bounded(ver, 256),
                     {"arch": bounded(arch, 64), "epoch": None if epoch in (None, "") else
                      str(epoch)[:20]})


#: rpm keeps imported signing keys as pseudo-packages of this name; they are not software.
SIGNING_KEY = "gpg-pubkey"


def rows_from_blobs(blobs: Iterable[tuple[str, bytes | None, str | None]], *, path: Path,
                    source: str, vendor_namespace: str | None = None
                    ) -> tuple[list[dict[str, Any]], list[Skipped]]:
    """Software rows for (place, header blob, reason) triples of one rpm database, any format.

    A blob of None (its reason says why) or a malformed header becomes a Skipped record
    located ``<file>:<place>``; signing keys are left out, as ``rpm -qa`` users expect.
    """
    rows: list[dict[str, Any]] = []
    skipped: list[Skipped] = []
    for place, blob, reason in blobs:
        location = f"{shown(path)}:{place}"
        if blob is None:
            skipped.append(Skipped(source=source, reason=reason or "unreadable", location=location))
            continue
        try:
            hdr = parse_header(blob)
        except RpmHeaderError as e:
            skipped.append(Skipped(source=source, reason=f"bad rpm header: {e.message}",
                                   location=location))
            continue
        if hdr.get("name") == SIGNING_KEY:
            continue
        row = header_to_row(hdr, source=source, location=location,
                            vendor_namespace=vendor_namespace)
        if not row["name"]:
            skipped.append(Skipped(source=source, location=location,
                                   reason="package name made only of control characters"))
            continue
        rows.append(row)
    return rows, skipped
