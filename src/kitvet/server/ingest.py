"""Ingest over HTTP: stream one request body into the estate's spool and queue it.

Accepted formats: kitvet inventory JSON, osquery result logs (snapshot and differential) and
CycloneDX (JSON or XML). A body may be gzip-compressed (``Content-Encoding: gzip`` or simply a
gzip body). The body goes to disk as it arrives, never whole into memory: its size is limited
by ``max_body_bytes`` while reading, and gzip is inflated in bounded steps only to count the
decompressed size against ``max_inventory_bytes`` (a gzip bomb is refused with 413 as soon as
it passes the limit) and to recognise the format (415 at once). What takes longer — parsing,
storing — is done by the estate's ingest workers (:mod:`kitvet.estate.ingest`); the request is
answered ``202`` with the job's id as soon as the upload is on disk.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from kitvet.estate.ingest import (
    FORMATS,
    Inflater,
    IngestQueue,
    IngestRefused,
    JobRecord,
    check_body,
    check_host,
    sniff,
)

logger = logging.getLogger(__name__)

__all__ = ["FORMATS", "IngestQueue", "IngestRefused", "Uploads", "accept"]

#: Inflate chunks of a gzip body in a worker thread once it has grown past this (the event
#: loop keeps answering other clients while a large upload is counted).
_INLINE_BYTES = 4 * 1024 * 1024


class Uploads:
    """How many uploads are being received right now, bounded (503 past the bound)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.active = 0

    def enter(self) -> None:
        """Count one more upload, or refuse it."""
        if self.active >= self.limit:
            raise IngestRefused(503, f"{self.active} uploads are being received; send again "
                                "in a few seconds")
        self.active += 1

    def leave(self) -> None:
        """One upload fewer."""
        self.active -= 1


async def accept(request: Request, queue: IngestQueue, uploads: Uploads, *, actor: str,
                 institution: str, token_id: int | None, fmt: str | None,
                 host: str | None) -> JobRecord:
    """Spool the request body and queue it; the queued job (refusals raise IngestRefused)."""
    enc = (request.headers.get("content-encoding") or "").strip().lower()
    if enc not in ("", "identity", "gzip", "x-gzip"):
        raise IngestRefused(415, f"unsupported Content-Encoding {enc[:40]!r} (use gzip)")
    check_host(host)
    if fmt and fmt not in FORMATS:
        raise IngestRefused(415, f"unsupported format {fmt[:40]!r} (one of: {', '.join(FORMATS)})")
    limits = queue.limits
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limits.max_body_bytes:
        raise IngestRefused(413, f"request body larger than {limits.max_body_bytes} bytes")
    uploads.enter()
    try:
        await run_in_threadpool(queue.check_room)
        spooled = queue.receive()
        try:
            inf = Inflater(limit=limits.max_inventory_bytes,
                           gzip=True if enc in ("gzip", "x-gzip") else None)
            async for chunk in request.stream():
                if not chunk:
                    continue
                if spooled.size + len(chunk) > limits.max_body_bytes:
                    raise IngestRefused(413, f"request body larger than {limits.max_body_bytes}"
                                        " bytes")
                spooled.write(chunk)
                if inf.gzip and inf.size > _INLINE_BYTES:
                    await run_in_threadpool(check_body, inf, chunk)
                else:
                    check_body(inf, chunk)
            for _ in inf.close():
                pass
            if not inf.head.strip():
                raise IngestRefused(400, "the request body is empty", place="body")
            name = sniff(spooled.part, inf.head, fmt, request.headers.get("content-type"))
            options: dict[str, Any] = {"format": name, "host": host,
                                       "encoding": "gzip" if inf.gzip else None}
            return await run_in_threadpool(queue.submit, spooled, actor=actor,
                                           institution=institution, token_id=token_id,
                                           options=options)
        except BaseException:
            spooled.discard()
            raise
    finally:
        uploads.leave()
