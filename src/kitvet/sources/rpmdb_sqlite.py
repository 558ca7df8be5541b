"""rpm's sqlite database (``rpmdb.sqlite``, rpm >= 4.16: Fedora 33+, RHEL 9, Mariner, SUSE).

The ``Packages`` table holds ``(hnum INTEGER PRIMARY KEY, blob BLOB)``: one exported header
blob per installed package (see :mod:`kitvet.sources.rpmheader`). The other tables are indexes
kitvet does not need. The file is opened read-only; a read-only medium or a database in WAL mode
without its ``-shm`` file is retried as ``immutable``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from kitvet.errors import SourceError
from kitvet.model import Skipped
from kitvet.sources.rpmheader import rows_from_blobs

logger = logging.getLogger(__name__)

SOURCE = "rpm"
#: Where rpm keeps its sqlite database, newest layout first.
DB_PATHS = ("/usr/lib/sysimage/rpm/rpmdb.sqlite", "/var/lib/rpm/rpmdb.sqlite")
SQLITE_MAGIC = b"SQLite format 3\x00"


def _connect(path: Path) -> Any:
    import sqlite3

    uri = "file:" + quote(str(path.resolve()))
    last: Exception | None = None
    for extra in ("?mode=ro", "?mode=ro&immutable=1"):
        try:
            conn = sqlite3.connect(uri + extra, uri=True)
            conn.execute("SELECT 1 FROM Packages LIMIT 1").fetchall()
            return conn
        except sqlite3.Error as e:
            last = e
    raise SourceError(f"not a readable rpm sqlite database ({last})", file=str(path)) from last


def iter_blobs(path: Path) -> Iterator[tuple[int, bytes]]:
    """(hnum, header blob) of every row of the Packages table, in hnum order."""
    import sqlite3

    if not path.is_file():
        raise SourceError("no such file", file=str(path))
    with path.open("rb") as fh:
        if fh.read(16) != SQLITE_MAGIC:
            raise SourceError("not an SQLite database", file=str(path))
    conn = _connect(path)
    try:
        cur = conn.execute("SELECT hnum, blob FROM Packages ORDER BY hnum")
        while True:
            try:
                batch = cur.fetchmany(512)
            except sqlite3.Error as e:
                raise SourceError(f"database read failed: {e}", file=str(path)) from e
            if not batch:
                break
            for hnum, blob in batch:
                yield int(hnum), blob
    finally:
        conn.close()


def read_rpmdb_sqlite(
    path: Path, *, vendor_namespace: str | None = None, source: str = SOURCE
) -> tuple[list[dict[str, Any]], list[Skipped]]:
    """Software rows of every package in an rpmdb.sqlite, and the headers that were skipped.

    Raises :class:`~kitvet.errors.SourceError` when the file as a whole is not an rpm sqlite
    database; a malformed header only skips that package. Locations are ``<file>:hnum=<n>``.
    """
    blobs = ((f"hnum={hnum}", blob, None) for hnum, blob in iter_blobs(path))
    rows, skipped = rows_from_blobs(blobs, path=path, source=source,
                                    vendor_namespace=vendor_namespace)
    logger.info("rpm sqlite %s: %d packages, %d skipped", path, len(rows), len(skipped))
    return rows, skipped


def find_database(root: Path) -> Path | None:
    """The rpmdb.sqlite under ``root``, if any."""
    from kitvet.sources.hostfacts import under

    for rel in DB_PATHS:
        p = under(root, rel)
        if p.is_file():
            return p
    return None
