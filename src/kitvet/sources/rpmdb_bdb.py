"""rpm's Berkeley DB database (``/var/lib/rpm/Packages``: RHEL/CentOS <= 8, SLES <= 15 SP2,
Amazon Linux 2), read without ``rpm`` or libdb.

``Packages`` is a Berkeley DB *hash* database (libdb ``dbinc/db_page.h``, ``dbinc/hash.h``):

- page 0 is the hash metadata page: magic 0x061561 at byte 12 (its byte order tells the
  file's), page size at byte 20, page type 8 at byte 25, last page number at byte 32;
- every page starts with a 26-byte header: LSN, page number, previous/next page, number of
  entries (16 bits), high free offset (16 bits; on overflow pages the bytes of data held),
  level, page type (13 hash, 2 unsorted hash, 7 overflow, ...);
- a hash page has ``entries`` 16-bit offsets to items, alternately key and value. An item's
  first byte is its type: 1 key/data stored inline, 3 "off-page" (pointer to a chain of
  overflow pages: page number and total length).

The keys are package instance numbers; the values are exported rpm header blobs
(:mod:`kitvet.sources.rpmheader`). Like go-rpmdb (``pkg/bdb``), every hash page is scanned and
each value is collected; overflow chains are followed with loop and size guards.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kitvet.errors import SourceError
from kitvet.model import Skipped

HASH_MAGIC = 0x061561
PAGE_HEADER = 26
P_HASH_UNSORTED, P_OVERFLOW, P_HASHMETA, P_HASH = 2, 7, 8, 13
H_KEYDATA, H_DUPLICATE, H_OFFPAGE, H_OFFDUP = 1, 2, 3, 4
VALID_PAGE_SIZES = frozenset(1 << n for n in range(9, 17))
#: Largest value (header blob) reassembled from overflow pages.
MAX_VALUE = 256 * 1024 * 1024


def _order(head: bytes) -> str | None:
    """'<' or '>' for the byte order of a BDB hash file, None if ``head`` is not one."""
    if len(head) < 26:
        return None
    for order in ("<", ">"):
        if struct.unpack_from(order + "I", head, 12)[0] == HASH_MAGIC and head[25] == P_HASHMETA:
            return order
    return None


def is_bdb_hash(head: bytes) -> bool:
    """True when ``head`` starts a Berkeley DB hash database (any byte order)."""
    return _order(head) is not None


class _Pages:
    def __init__(self, buf: Any, order: str, psize: int) -> None:
        self.buf, self.order, self.psize = buf, order, psize
        self.count = len(buf) // psize

    def page(self, n: int) -> bytes:
        return self.buf[n * self.psize:(n + 1) * self.psize]

    def header(self, page: bytes) -> tuple[int, int, int, int, int]:
        """(pgno, next_pgno, entries, hf_offset, type) of a page."""
        pgno, _prev, nxt, entries, hf = struct.unpack_from(self.order + "IIIHH", page, 8)
        return pgno, nxt, entries, hf, page[25]


def iter_bdb_values(path: Path) -> Iterator[tuple[str, bytes | None, str | None]]:
    """(place, value or None, reason when None) for every value of a BDB hash database."""
    path = Path(path)
    try:
        fh = path.open("rb")
    except OSError as e:
        raise SourceError(f"cannot read: {e.strerror or e}", file=str(path)) from e
    with fh:
        head = fh.read(512)
        order = _order(head)
        if order is None:
            raise SourceError("not a Berkeley DB hash database (no hash metadata page)",
                              file=str(path), place="page 0")
        psize = struct.unpack_from(order + "I", head, 20)[0]
        if psize not in VALID_PAGE_SIZES:
            raise SourceError(f"bad page size {psize}", file=str(path), place="page 0, byte 20")
        if head[24] != 0:
            raise SourceError("encrypted Berkeley DB database", file=str(path), place="page 0")
        size = path.stat().st_size
        if size < psize:
            raise SourceError("file shorter than one page", file=str(path), place="page 0")
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            yield from _scan(_Pages(buf, order, psize))


def _scan(pages: _Pages) -> Iterator[tuple[str, bytes | None, str | None]]:
    for n in range(1, pages.count):
        page = pages.page(n)
        _pgno, _nxt, entries, _hf, ptype = pages.header(page)
        if ptype not in (P_HASH, P_HASH_UNSORTED):
            continue
        if PAGE_HEADER + 2 * entries > pages.psize:
            yield f"page {n}", None, f"hash page claims {entries} entries, more than fit"
            continue
        offsets = struct.unpack_from(f"{pages.order}{entries}H", page, PAGE_HEADER)
        for i in range(1, entries, 2):
            place = f"page {n}, item {i // 2}"
            yield (place, *_value(pages, page, offsets, i))


def _value(pages: _Pages, page: bytes, offsets: tuple[int, ...],
           i: int) -> tuple[bytes | None, str | None]:
    off = offsets[i]
    end = offsets[i - 1]
    if not PAGE_HEADER <= off < end <= pages.psize:
        return None, f"item offset {off} outside the page"
    itype = page[off]
    if itype == H_KEYDATA:
        key = page[offsets[i - 1] + 1:(offsets[i - 2] if i >= 2 else pages.psize)]
        if key.strip(b"\0") == b"":
            return None, None  # record 0: rpm's instance counter, not a package
        return bytes(page[off + 1:end]), None
    if itype != H_OFFPAGE:
        return None, f"unsupported hash item type {itype}"
    if end - off < 12:
        return None, "off-page item too short"
    pgno, tlen = struct.unpack_from(pages.order + "II", page, off + 4)
    if tlen > MAX_VALUE:
        return None, f"value of {tlen} bytes is larger than the {MAX_VALUE} read"
    return _overflow(pages, pgno, tlen)


def _overflow(pages: _Pages, pgno: int, tlen: int) -> tuple[bytes | None, str | None]:
    parts: list[bytes] = []
    got = 0
    seen: set[int] = set()
    while pgno != 0:
        if pgno in seen or pgno >= pages.count:
            why = "loops" if pgno in seen else f"points past the file at page {pgno}"
            return None, f"overflow chain {why} (truncated or corrupt database)"
        seen.add(pgno)
        page = pages.page(pgno)
        _p, nxt, _entries, length, ptype = pages.header(page)
        if ptype != P_OVERFLOW:
            return None, f"overflow chain reaches page {pgno} of type {ptype}"
        length = min(length, pages.psize - PAGE_HEADER)
        parts.append(bytes(page[PAGE_HEADER:PAGE_HEADER + length]))
        got += length
        if got > tlen:
            return None, f"overflow chain longer than the {tlen} bytes announced"
        pgno = nxt
    if got != tlen:
        return None, f"overflow chain holds {got} of the {tlen} bytes announced"
    return b"".join(parts), None


def read_rpmdb_bdb(path: Path, *, vendor_namespace: str | None = None
                   ) -> tuple[list[dict[str, Any]], list[Skipped]]:
    """Software rows of every package in a BDB ``Packages`` file, and the packages skipped.

    ``vendor_namespace`` is the purl namespace (the distribution's os-release ID)."""
    from kitvet.sources.rpmheader import rows_from_blobs

    path = Path(path)
    values = ((p, v, r) for p, v, r in iter_bdb_values(path) if v is not None or r is not None)
    return rows_from_blobs(values, path=path, source="rpm:bdb", vendor_namespace=vendor_namespace)
