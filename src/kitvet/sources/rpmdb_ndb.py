"""rpm's ndb database (``Packages.db``, rpm >= 4.16 on openSUSE/SLES), read without ``rpm``;
and the ``rpmdb`` importer, which reads all three rpm database formats.

ndb layout (rpm ``lib/backend/ndb/rpmpkg.c``; all integers little-endian):

- a 32-byte header at offset 0: magic ``RpmP``, version 0, generation, number of slot pages,
  next package index;
- slot pages (4096 bytes each; the first two slots of page 0 are the header): 16-byte slots
  ``Slot`` magic, package index, block offset, block count (blocks are 16 bytes; offset 0 =
  free slot);
- at ``block offset * 16`` each blob: head (``BlbS``, package index, generation, length), the
  exported rpm header (:mod:`kitvet.sources.rpmheader`), zero padding, and a tail (Adler-32 of
  head + blob + padding, length, ``BlbE``).

A slot whose blob is damaged (bad magic, wrong index, checksum mismatch, past the end of the
file) skips that package with its reason; the others are kept.
"""

from __future__ import annotations

import logging
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kitvet.errors import SourceError
from kitvet.model import Host, Skipped, Snapshot
from kitvet.sources.interface import Importer

logger = logging.getLogger(__name__)

NDB_MAGIC = b"RpmP"
SLOT_MAGIC = b"Slot"
BLOB_MAGIC = b"BlbS"
BLOB_TAIL_MAGIC = b"BlbE"
PAGE_SIZE = 4096
SLOT_SIZE = 16
BLK_SIZE = 16
BLOB_HEAD = 16
BLOB_TAIL = 12
#: go-rpmdb's sanity limit on slot pages (each page holds 256 slots).
MAX_SLOT_PAGES = 2048
#: Largest single header blob read (rpm's header data limit is 256 MiB).
MAX_BLOB = 256 * 1024 * 1024


def iter_ndb_blobs(path: Path) -> Iterator[tuple[str, bytes | None, str | None]]:
    """(place, header blob or None, reason when None) for every used slot of a Packages.db."""
    path = Path(path)
    try:
        fh = path.open("rb")
    except OSError as e:
        raise SourceError(f"cannot read: {e.strerror or e}", file=str(path)) from e
    with fh:
        size = path.stat().st_size
        head = fh.read(32)
        if len(head) < 32 or head[:4] != NDB_MAGIC:
            raise SourceError("not an rpm ndb database (no 'RpmP' header)", file=str(path),
                              place="offset 0")
        version, _generation, npages = struct.unpack_from("<III", head, 4)
        if version != 0:
            raise SourceError(f"unsupported ndb version {version}", file=str(path),
                              place="offset 4")
        if npages == 0 or npages > MAX_SLOT_PAGES or npages * PAGE_SIZE > size:
            raise SourceError(f"bad slot page count {npages} for a file of {size} bytes",
                              file=str(path), place="offset 12")
        fh.seek(0)
        slots = fh.read(npages * PAGE_SIZE)
        for slotno in range(2, npages * PAGE_SIZE // SLOT_SIZE):
            magic, pkgidx, blkoff, blkcnt = struct.unpack_from("<4sIII", slots, slotno * 16)
            place = f"slot {slotno}"
            if magic != SLOT_MAGIC:
                yield place, None, "bad slot magic: slot pages corrupt, rest of the file not read"
                return
            if blkoff == 0:
                continue
            place = f"slot {slotno} (package index {pkgidx})"
            blob, reason = _read_blob(fh, size, pkgidx, blkoff, blkcnt, npages)
            yield place, blob, reason


def _read_blob(fh: Any, size: int, pkgidx: int, blkoff: int, blkcnt: int,
               npages: int) -> tuple[bytes | None, str | None]:
    start, end = blkoff * BLK_SIZE, (blkoff + blkcnt) * BLK_SIZE
    if blkoff < npages * PAGE_SIZE // BLK_SIZE or blkcnt * BLK_SIZE < BLOB_HEAD + BLOB_TAIL:
        return None, f"slot points at blocks {blkoff}+{blkcnt}, inside the slot pages"
    if end > size:
        return None, f"blob at byte {start} runs past the end of the file (truncated database)"
    if end - start > MAX_BLOB + BLOB_HEAD + BLOB_TAIL + BLK_SIZE:
        return None, f"blob of {end - start} bytes is larger than the {MAX_BLOB} read"
    fh.seek(start)
    raw = fh.read(end - start)
    magic, idx, _gen, bloblen = struct.unpack_from("<4sIII", raw, 0)
    if magic != BLOB_MAGIC:
        return None, f"no blob at byte {start} (bad magic {magic!r})"
    if idx != pkgidx:
        return None, f"blob at byte {start} belongs to package {idx}, not {pkgidx}"
    if (BLOB_HEAD + bloblen + BLOB_TAIL + BLK_SIZE - 1) // BLK_SIZE != blkcnt:
        return None, f"blob length {bloblen} does not fit its {blkcnt} blocks"
    adler, tail_len, tail_magic = struct.unpack_from("<II4s", raw, len(raw) - BLOB_TAIL)
    if tail_magic != BLOB_TAIL_MAGIC or tail_len != bloblen:
        return None, f"blob at byte {start} has a damaged tail"
    if zlib.adler32(raw[:-BLOB_TAIL]) != adler:
        return None, f"blob at byte {start} fails its Adler-32 checksum"
    return raw[BLOB_HEAD:BLOB_HEAD + bloblen], None


def read_rpmdb_ndb(path: Path, *, vendor_namespace: str | None = None
                   ) -> tuple[list[dict[str, Any]], list[Skipped]]:
    """Software rows of every package in a Packages.db, and the packages skipped.

    ``vendor_namespace`` is the purl namespace (the distribution's os-release ID)."""
    from kitvet.sources.rpmheader import rows_from_blobs

    path = Path(path)
    return rows_from_blobs(iter_ndb_blobs(path), path=path, source="rpm:ndb",
                           vendor_namespace=vendor_namespace)


SQLITE_MAGIC = b"SQLite format 3\x00"


def rpmdb_format(path: Path, head: bytes) -> str | None:
    """'sqlite', 'ndb' or 'bdb' when ``head`` starts an rpm database of that format."""
    from kitvet.sources.rpmdb_bdb import is_bdb_hash

    if head[:4] == NDB_MAGIC:
        return "ndb"
    if is_bdb_hash(head):
        return "bdb"
    if head[:16] == SQLITE_MAGIC and b"Packages" in head[:65536] and b"hnum" in head[:65536]:
        return "sqlite"
    return None


class RpmdbImporter(Importer):
    """Reads an rpm database in any of its three formats: sqlite, ndb, Berkeley DB."""

    name = "rpmdb"
    description = "rpm database without rpm: rpmdb.sqlite, Packages.db (ndb), Packages (bdb)"

    def detect(self, path: Path, head: bytes) -> bool:
        return path.is_file() and rpmdb_format(path, head) is not None

    def read(self, path: Path, *, institution: str | None = None) -> list[Snapshot]:
        path = Path(path)
        with path.open("rb") as fh:
            head = fh.read(65536)
        fmt = rpmdb_format(path, head)
        host, namespace = _host(path, institution)
        if fmt == "ndb":
            rows, skipped = read_rpmdb_ndb(path, vendor_namespace=namespace)
        elif fmt == "bdb":
            from kitvet.sources.rpmdb_bdb import read_rpmdb_bdb

            rows, skipped = read_rpmdb_bdb(path, vendor_namespace=namespace)
        elif head[:16] == SQLITE_MAGIC:
            from kitvet.sources.rpmdb_sqlite import read_rpmdb_sqlite

            rows, skipped = read_rpmdb_sqlite(path, source="rpm:sqlite",
                                              vendor_namespace=namespace)
        else:
            raise SourceError("not an rpm database (sqlite, ndb or Berkeley DB hash)",
                              file=str(path), place="offset 0")
        snap = Snapshot(host=host)
        snap.software.extend(rows)
        snap.skipped.extend(skipped)
        logger.info("%s (%s): %d packages, %d skipped", path, fmt or "sqlite", len(rows),
                    len(skipped))
        return [snap]


#: Where rpm keeps its database, relative to the root of the system it belongs to.
DB_DIRS = (("var", "lib", "rpm"), ("usr", "lib", "sysimage", "rpm"))


def _host(path: Path, institution: str | None) -> tuple[Host, str | None]:
    """The host of a database (its system's, when it sits where rpm keeps it in a copied
    tree) and the purl namespace (os-release ID)."""
    from kitvet.sources.hostfacts import database_host

    return database_host("rpmdb", path, institution, DB_DIRS, source="rpm")
