"""What an upload may be: its formats, its host id, its size, and how much work the queue
does at once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kitvet.store.spool import Inflater, IngestRefused

FORMATS: tuple[str, ...] = ("kitvet", "osquery", "cyclonedx")
CONTENT_TYPES = {
    "application/vnd.cyclonedx+json": "cyclonedx",
    "application/vnd.cyclonedx+xml": "cyclonedx",
}
HOST_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$")
MIB = 1024 * 1024


@dataclass(frozen=True)
class IngestLimits:
    """How much an upload may hold and how much work the queue does at once."""

    #: Largest upload as sent (compressed), bytes.
    max_body_bytes: int = 64 * MIB
    #: Largest upload once decompressed, bytes (a gzip bomb stops here).
    max_inventory_bytes: int = 256 * MIB
    #: Most software, device and file rows one snapshot may hold.
    max_snapshot_items: int = 1_000_000
    #: Worker threads storing uploads (the bound on concurrent ingests).
    workers: int = 2
    #: Most uploads one worker stores as one batch, and most bytes of their bodies.
    batch_jobs: int = 64
    batch_bytes: int = 32 * MIB
    #: After a batch smaller than ``batch_jobs``, a worker waits this long before claiming
    #: again, so that uploads arriving one by one are stored a few at a time (a lake batch
    #: and a transaction cost about as much for one upload as for ten).
    batch_wait_s: float = 0.25
    #: Most uploads waiting in the queue before new ones are turned away (503).
    max_queued: int = 5000


def sniff(path: Path, head: bytes, fmt: str | None, content_type: str | None) -> str:
    """The format of an upload: ``fmt`` if given, else by content type, else detected."""
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


def check_host(host: str | None) -> None:
    """Refuse a bad ``host`` parameter (it becomes a file name)."""
    if host is not None and not HOST_RE.match(host):
        raise IngestRefused(400, "bad host id (letters, digits and ._:- only, 200 at most)",
                            place="host")


def check_body(inflater: Inflater, chunk: bytes) -> None:
    """Count one received chunk through ``inflater`` (refusing a bomb); the output is dropped."""
    for _ in inflater.feed(chunk):
        pass
