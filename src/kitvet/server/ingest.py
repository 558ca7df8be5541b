"""Ingest: turn one HTTP request body into snapshots, with size limits and format checks.

Accepted formats: kitvet inventory JSON, osquery result logs (snapshot and differential) and
CycloneDX (JSON or XML). A body may be gzip-compressed (``Content-Encoding: gzip`` or simply a
gzip body); the compressed size is limited by ``max_body_bytes`` and the decompressed size by
``max_inventory_bytes`` (decompression stops as soon as it passes the limit: gzip bombs are
refused with 413 without being expanded). The body is parsed by the same importers as
``kitvet import``, from a private temporary file.
"""

from __future__ import annotations

import logging
import re
import tempfile
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

from kitvet.errors import KitvetError
from kitvet.model import Snapshot

logger = logging.getLogger(__name__)

FORMATS: tuple[str, ...] = ("kitvet", "osquery", "cyclonedx")
CONTENT_TYPES = {
    "application/vnd.cyclonedx+json": "cyclonedx",
    "application/vnd.cyclonedx+xml": "cyclonedx",
}
HOST_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$")
_CHUNK = 1024 * 1024


class IngestRefused(KitvetError):
    """The request cannot be ingested; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str, *, place: str | None = None):
        super().__init__(message, place=place)
        self.status = status


async def read_body(chunks: AsyncIterator[bytes], *, limit: int) -> bytes:
    """The whole body, refused with 413 as soon as it passes ``limit`` bytes."""
    buf = bytearray()
    async for chunk in chunks:
        buf += chunk
        if len(buf) > limit:
            raise IngestRefused(413, f"request body larger than {limit} bytes")
    return bytes(buf)


def decompress(body: bytes, *, encoding: str | None, limit: int) -> bytes:
    """Undo gzip (by header or by magic bytes), never producing more than ``limit`` bytes."""
    enc = (encoding or "").strip().lower()
    if enc not in ("", "identity", "gzip", "x-gzip"):
        raise IngestRefused(415, f"unsupported Content-Encoding {enc[:40]!r} (use gzip)")
    if enc not in ("gzip", "x-gzip") and not body.startswith(b"\x1f\x8b"):
        if len(body) > limit:
            raise IngestRefused(413, f"inventory larger than {limit} bytes")
        return body
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = bytearray()
    data = body
    try:
        while data:
            out += d.decompress(data, _CHUNK)
            if len(out) > limit:
                raise IngestRefused(413, f"inventory larger than {limit} bytes once decompressed")
            data = d.unconsumed_tail
        out += d.flush()
    except zlib.error as e:
        raise IngestRefused(400, f"the gzip body is corrupt: {e}", place="body") from e
    if not d.eof:
        raise IngestRefused(400, "the gzip body is truncated", place="body")
    if len(out) > limit:
        raise IngestRefused(413, f"inventory larger than {limit} bytes once decompressed")
    return bytes(out)


def _pick(path: Path, head: bytes, fmt: str | None, content_type: str | None) -> str:
    from kitvet.sources.registry import importer

    if fmt:
        if fmt not in FORMATS:
            raise IngestRefused(415, f"unsupported format {fmt[:40]!r} "
                                f"(one of: {', '.join(FORMATS)})")
        return fmt
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype in CONTENT_TYPES:
        return CONTENT_TYPES[ctype]
    for name in FORMATS:
        if importer(name).detect(path, head):
            return name
    raise IngestRefused(415, "not a kitvet inventory, osquery result log or CycloneDX BOM "
                        "(give ?format=kitvet|osquery|cyclonedx)")


def parse(body: bytes, *, fmt: str | None = None, content_type: str | None = None,
          host: str | None = None, institution: str) -> tuple[str, list[Snapshot]]:
    """Parse a (decompressed) body into snapshots of ``institution``; (format, snapshots).

    Raises :class:`IngestRefused`: 400 for a malformed document (naming the place), 403 for
    a snapshot that claims another institution, 415 for an unknown format.
    """
    from kitvet.sources.registry import importer

    if not body.strip():
        raise IngestRefused(400, "the request body is empty", place="body")
    if host is not None and not HOST_RE.match(host):
        raise IngestRefused(400, "bad host id (letters, digits and ._:- only, 200 at most)",
                            place="host")
    suffix = ".xml" if body.lstrip()[:1] == b"<" else ".json"
    with tempfile.TemporaryDirectory(prefix="kitvet-ingest-") as tmp:
        path = Path(tmp) / f"{host or 'upload'}{suffix}"
        path.write_bytes(body)
        name = _pick(path, body[:65536], fmt, content_type)
        try:
            snaps = importer(name).read(path, institution=institution)
        except KitvetError as e:
            raise IngestRefused(400, e.message, place=e.place or "body") from e
        except (ValueError, UnicodeError) as e:
            raise IngestRefused(400, f"cannot read the {name} document: {e}", place="body") from e
    if not snaps:
        raise IngestRefused(400, f"the {name} document holds no host inventory", place="body")
    for s in snaps:
        if s.host.institution != institution:
            raise IngestRefused(403, f"this token sends inventory for {institution!r}, not "
                                f"{(s.host.institution or '')[:100]!r}",
                                place=f"host {s.host.host_id[:100]}")
    return name, snaps
