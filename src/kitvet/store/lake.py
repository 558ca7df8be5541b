"""The inventory lake: one Parquet file per import batch, and the pointer to current snapshots.

Layout under ``<estate>/lake/``::

    software/<batch_id>.parquet   snapshot_id, batch_id + SOFTWARE_FIELDS
    devices/<batch_id>.parquet    snapshot_id, batch_id + DEVICE_FIELDS
    hosts/<batch_id>.parquet      snapshot_id, batch_id + HOST_FIELDS
    files/<batch_id>.parquet      snapshot_id, batch_id + FILE_FIELDS (only batches with files)
    current.parquet               host_id, snapshot_id, batch_id (one row per host)
    keys/<kind>/<batch_id>.<digest>.parquet
                                  probe, k: the distinct match keys of a batch file (made by
                                  the engine the first time a review reads the batch, see
                                  :meth:`Lake.key_files`; ``digest`` names the key expressions)

Every file is written to a temporary name and renamed into place. This module is the one place
that reads the layout: :meth:`Lake.scan` names the batch files that hold the current snapshots
(both engines read those), :meth:`Lake.views` gives DuckDB its views of them. A batch file that
the review database does not reference (an import killed before it committed) is never read,
and :meth:`Lake.clean` removes such orphans later.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kitvet.duck import sql_list, sql_str
from kitvet.errors import StoreError
from kitvet.model import (
    DEVICE_FIELDS,
    FILE_FIELDS,
    HOST_FIELDS,
    SOFTWARE_FIELDS,
    RowsFile,
    Snapshot,
)
from kitvet.util import atomic_path

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

logger = logging.getLogger(__name__)

KINDS: dict[str, tuple[str, ...]] = {
    "software": SOFTWARE_FIELDS,
    "devices": DEVICE_FIELDS,
    "hosts": HOST_FIELDS,
    "files": FILE_FIELDS,
}
#: Parquet metadata keys of a batch's audit anchor (in its ``hosts`` file).
ANCHOR_SEQ, ANCHOR_HASH = b"kitvet.audit_seq", b"kitvet.audit_hash"
#: Tables a batch writes only when it has rows (older lakes have none of them).
OPTIONAL_KINDS = frozenset({"files"})
CURRENT_SCHEMA = pa.schema(
    [("host_id", pa.string()), ("snapshot_id", pa.string()), ("batch_id", pa.string())]
)
#: Folder of the side files of distinct match keys (see :meth:`Lake.key_files`).
KEYS_DIR = "keys"
#: Orphan batch files younger than this may belong to an import still running.
ORPHAN_GRACE_S = 3600


@dataclass(frozen=True)
class LakeScan:
    """What a review reads of the lake: the wanted (snapshot_id, batch_id) pairs, and per kind
    the batch files read whole and those semi-joined with the pairs (see :meth:`Lake.scan`)."""

    current: pa.Table
    files: dict[str, tuple[list[Path], list[Path]]]


def new_batch_id() -> str:
    """A new batch id: sortable by time, unique across processes."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:12]


def kind_schema(kind: str) -> pa.Schema:
    """Arrow schema of one lake table (all strings)."""
    cols = ("snapshot_id", "batch_id") + KINDS[kind]
    return pa.schema([pa.field(c, pa.string()) for c in cols])


@contextmanager
def _flock(path: Path, mode: int) -> Iterator[bool]:
    """Hold ``flock(mode)`` on the lock file ``path`` (made with its folder when missing) for
    the block; yields False instead when ``mode`` has ``LOCK_NB`` and another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, mode)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class Lake:
    """The Parquet inventory lake of one estate."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)

    @property
    def current_file(self) -> Path:
        """``current.parquet``: the current snapshot (and its batch) of each host."""
        return self.path / "current.parquet"

    def has_rows(self, kind: str) -> bool:
        """Whether any batch holds rows of ``kind`` (an estate without file inventory has no
        ``files`` batches at all)."""
        return any((self.path / kind).glob("*.parquet"))

    def glob(self, kind: str) -> str:
        """The glob of one table's batch files, for ``read_parquet``."""
        return str(self.path / kind / "*.parquet")

    def write_batch(self, snapshots: Iterable[tuple[str, Snapshot]],
                    batch_id: str | None = None, *, anchor: tuple[int, str] | None = None
                    ) -> str:
        """Write (snapshot_id, snapshot) pairs as one batch of three Parquet files.

        ``anchor``: the audit log's head (seq, hash) when the batch was written, kept in the
        metadata of its ``hosts`` file (see :meth:`anchors`).
        """
        batch_id = batch_id or new_batch_id()
        pairs = list(snapshots)
        for kind in KINDS:
            if kind == "software" and any(s.software_table is not None for _i, s in pairs):
                self._write_slices(_software_slices(pairs, batch_id),
                                   self.path / kind / f"{batch_id}.parquet")
                continue
            table = _kind_table(kind, pairs, batch_id)
            if kind in OPTIONAL_KINDS and not table.num_rows:
                continue
            if kind == "hosts" and anchor is not None:
                table = table.replace_schema_metadata({
                    ANCHOR_SEQ: str(anchor[0]).encode(), ANCHOR_HASH: anchor[1].encode()})
            self._write(table, self.path / kind / f"{batch_id}.parquet")
        return batch_id

    def anchors(self) -> Iterator[tuple[str, int, str]]:
        """(batch id, audit seq, audit hash) of every batch file that records one."""
        for path in sorted((self.path / "hosts").glob("*.parquet")):
            try:
                meta = pq.read_schema(path).metadata or {}
            except (OSError, pa.ArrowInvalid) as e:
                logger.warning("cannot read %s: %s", path, e)
                continue
            seq, digest = meta.get(ANCHOR_SEQ), meta.get(ANCHOR_HASH)
            if seq is not None and digest is not None and seq.isdigit():
                yield path.stem, int(seq), digest.decode("ascii", "replace")

    def write_current(self, rows: list[dict[str, str]]) -> None:
        """Replace ``current.parquet`` with these (host_id, snapshot_id, batch_id) rows."""
        self._write(pa.Table.from_pylist(rows, schema=CURRENT_SCHEMA), self.current_file)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """An exclusive lock on the lake (around rewriting ``current.parquet``)."""
        with _flock(self.path / ".lock", fcntl.LOCK_EX):
            yield

    @contextmanager
    def importing(self) -> Iterator[None]:
        """Held (shared) by an import from writing its batch files until it has committed:
        :meth:`sweep` removes unreferenced batch files only while no import holds it."""
        with _flock(self.path / ".import.lock", fcntl.LOCK_SH):
            yield

    def sweep(self, referenced: Callable[[], set[str]]) -> list[str] | None:
        """Remove every batch file the database does not reference, whatever its age, when no
        import of any process is under way (None when one is: nothing is removed then).

        ``referenced`` is asked for the referenced batch ids once the lock is held. The lock
        of an import killed by a signal is released by the kernel, so the batch files a
        crashed import left behind are removed at the next start.
        """
        with _flock(self.path / ".import.lock", fcntl.LOCK_EX | fcntl.LOCK_NB) as held:
            if not held:
                return None
            return self.clean(referenced(), grace_s=0)

    def batch_ids(self) -> set[str]:
        """Batch ids that have at least one file in the lake."""
        return {p.stem for k in KINDS for p in (self.path / k).glob("*.parquet")}

    def remove_batch(self, batch_id: str) -> None:
        """Delete one batch's files (an import that added nothing, or an orphan)."""
        for kind in KINDS:
            (self.path / kind / f"{batch_id}.parquet").unlink(missing_ok=True)
            for p in (self.path / KEYS_DIR / kind).glob(f"{batch_id}.*.parquet"):
                p.unlink(missing_ok=True)

    def key_files(self, kind: str, digest: str,
                  build: Callable[[str], pa.Table]) -> list[Path] | None:
        """The side files of distinct match keys of the current batches of ``kind``.

        A side file holds (probe, k) rows: the distinct keys the engine's key expressions
        (named by ``digest``) give over one whole batch file, including snapshots no longer
        current (a superset: a key nobody holds any more matches no row). A missing one (or
        one older than its batch file) is made by ``build`` (given the SQL of the batch file,
        see :func:`batch_sql`) and kept, in place of the batch's side files of other digests.
        None when the lake has no current snapshots or a side file cannot be written.
        """
        scan = self.scan()
        whole, partial = scan.files[kind]
        out = []
        for f in sorted(whole + partial):
            try:
                out.append(self.key_file(kind, f.stem, digest, build))
            except OSError as e:
                logger.info("cannot keep the match keys of %s: %s", f.name, e)
                return None
        return out or None

    def key_file(self, kind: str, batch_id: str, digest: str,
                 build: Callable[[str], pa.Table]) -> Path:
        """The side file of one batch (see :meth:`key_files`), made by ``build`` if missing or
        older than the batch file; OSError if the batch file is missing or it cannot be
        written. Importers call it for the batches they write, so that the first review
        finds them made."""
        f = self.path / kind / f"{batch_id}.parquet"
        folder = self.path / KEYS_DIR / kind
        dest = folder / f"{batch_id}.{digest}.parquet"
        if not dest.exists() or dest.stat().st_mtime < f.stat().st_mtime:
            table = build(batch_sql(f, kind))
            folder.mkdir(parents=True, exist_ok=True)
            self._write(table, dest)
            for other in folder.glob(f"{batch_id}.*.parquet"):  # of other expressions
                if other != dest:
                    other.unlink(missing_ok=True)
        return dest

    def clean(self, referenced: set[str], grace_s: float = ORPHAN_GRACE_S) -> list[str]:
        """Remove batch files the database does not reference and stale temporary files."""
        now = time.time()
        removed = []
        folders = [self.path / k for k in KINDS] + [self.path / KEYS_DIR / k for k in KINDS]
        for folder in folders:
            for p in list(folder.glob("*.parquet")) + list(folder.glob(".*.tmp")):
                if p.suffix == ".parquet" and p.name.split(".", 1)[0] in referenced:
                    continue
                try:
                    if now - p.stat().st_mtime < grace_s:
                        continue
                    p.unlink()
                except FileNotFoundError:
                    continue
                removed.append(p.name)
        if removed:
            logger.info("removed %d orphan lake files", len(removed))
        return removed

    def scan(self, snapshot_ids: Iterable[str] | None = None) -> LakeScan:
        """The batch files that hold the current snapshots (or only ``snapshot_ids`` of them).

        A batch whose snapshots are all wanted is read whole; a batch only partly wanted is
        semi-joined with the wanted (snapshot_id, batch_id) pairs; a batch nothing points at
        (an import killed before it committed, an older snapshot's batch) is never opened.
        """
        try:
            cur = pq.read_table(self.current_file, columns=["snapshot_id", "batch_id"])
        except FileNotFoundError:
            cur = CURRENT_SCHEMA.empty_table().select(["snapshot_id", "batch_id"])
        except (OSError, pa.ArrowInvalid) as e:
            raise StoreError(f"cannot read the lake's current snapshots: {e}",
                             file=str(self.current_file)) from e
        if snapshot_ids is not None:
            wanted = pa.array(sorted(set(snapshot_ids)), pa.string())
            cur = cur.filter(pc.is_in(cur.column("snapshot_id"), value_set=wanted))
        whole, partial = self._classify(cur)
        files: dict[str, tuple[list[Path], list[Path]]] = {}
        for kind in KINDS:
            files[kind] = ([f for b in whole if (f := self.path / kind / f"{b}.parquet").exists()],
                           [f for b in partial
                            if (f := self.path / kind / f"{b}.parquet").exists()])
        return LakeScan(cur, files)

    def _classify(self, cur: pa.Table) -> tuple[list[str], list[str]]:
        """Batches whose snapshots are all wanted (read whole) and those only partly wanted."""
        by_batch: dict[str, set[str]] = {}
        for sid, bid in zip(cur.column("snapshot_id").to_pylist(),
                            cur.column("batch_id").to_pylist(), strict=True):
            by_batch.setdefault(bid, set()).add(sid)
        whole: list[str] = []
        partial: list[str] = []
        for bid in sorted(by_batch):
            # hosts/<batch>.parquet holds one row per snapshot of the batch, and the current
            # pairs of a batch are snapshots of it: as many rows as wanted snapshots means all
            # of them are wanted (the footer says so without reading the file)
            try:
                rows = pq.read_metadata(self.path / "hosts" / f"{bid}.parquet").num_rows
            except (OSError, pa.ArrowInvalid):
                partial.append(bid)  # cannot tell: keep the exact (joined) path
                continue
            (whole if rows == len(by_batch[bid]) else partial).append(bid)
        return whole, partial

    def views(self, con: DuckDBPyConnection, *, snapshot_ids: Iterable[str] | None = None,
              prefix: str = "") -> dict[str, str]:
        """DuckDB views ``software``, ``devices``, ``hosts``, ``files`` of the current snapshots.

        Each view has the table's fields plus ``snapshot_id`` and ``batch_id``; with no
        inventory yet the views exist and are empty. With ``snapshot_ids`` the views hold only
        those snapshots and read only their batches (incremental review). ``prefix`` names the
        views apart (``new_software`` ...). Returns kind -> view name of software, devices and
        hosts, for the keywords of :func:`kitvet.match.engine.match`; the file rows (read by
        the ransomware sweep) are the view ``{prefix}files``.
        """
        scan = self.scan(snapshot_ids)
        names = {k: f"{prefix}{k}" for k in KINDS}
        pairs = f"_kv_current_{prefix}" if prefix else "_kv_current"
        con.register("_kv_scan_current", scan.current)
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {pairs} AS SELECT * FROM _kv_scan_current")
        finally:
            con.unregister("_kv_scan_current")
        for kind in KINDS:
            whole, partial = scan.files[kind]
            parts = []
            if whole:
                parts.append(f"SELECT * FROM read_parquet({_sql_files(whole)}, union_by_name=true)")
            if partial:
                parts.append(f"SELECT t.* FROM read_parquet({_sql_files(partial)}, "
                             f"union_by_name=true) t SEMI JOIN {pairs} c "
                             "ON t.snapshot_id = c.snapshot_id AND t.batch_id = c.batch_id")
            if not parts:
                cols = ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in kind_schema(kind).names)
                parts.append(f"SELECT {cols} WHERE false")
            con.execute(f"CREATE OR REPLACE TEMP VIEW {names[kind]} AS "
                        + " UNION ALL BY NAME ".join(parts))
        return {k: v for k, v in names.items() if k not in OPTIONAL_KINDS}

    def _write_slices(self, tables: Iterator[pa.Table], dest: Path) -> None:
        """Write tables of one schema as one Parquet file, a slice at a time."""
        pool = pa.default_memory_pool()
        with atomic_path(dest) as tmp, pq.ParquetWriter(tmp, kind_schema("software"),
                                                        compression="zstd") as w:
            for t in tables:
                w.write_table(t)
                del t
                pool.release_unused()  # mimalloc keeps freed slices otherwise

    def _write(self, table: pa.Table, dest: Path) -> None:
        with atomic_path(dest) as tmp:
            pq.write_table(table, tmp, compression="zstd")


def _kind_table(kind: str, pairs: list[tuple[str, Snapshot]], batch_id: str) -> pa.Table:
    """One lake table of a batch. Rows convert to Arrow in C (as one struct array); only a
    batch holding a non-string value (a number from a lenient source) goes column by column."""
    fields = [f for f in KINDS[kind] if f != "host_id"]
    items: list[dict[str, Any]] = []
    sids: list[str] = []
    hids: list[str] = []
    for sid, snap in pairs:
        host_row = snap.host.to_row()
        rows = [host_row] if kind == "hosts" else (
            snap.software if kind == "software" else snap.files if kind == "files"
            else snap.devices)
        items.extend(rows)
        sids.extend([sid] * len(rows))
        hids.extend([host_row["host_id"]] * len(rows))
    try:
        struct = pa.array(items, type=pa.struct([(f, pa.string()) for f in fields]))
        cols = {f: struct.field(f) for f in fields}
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        cols = {f: _column([r.get(f) for r in items]) for f in fields}
    cols.update(snapshot_id=pa.array(sids, pa.string()),
                batch_id=pa.array([batch_id] * len(items), pa.string()),
                host_id=pa.array(hids, pa.string()))
    schema = kind_schema(kind)
    return pa.table([cols[name] for name in schema.names], schema=schema)


def _software_slices(pairs: list[tuple[str, Snapshot]], batch_id: str,
                     step: int = 65536) -> Iterator[pa.Table]:
    """The software rows of a batch in which some snapshots hold an Arrow software table:
    the dict rows as one table, then each Arrow table a slice at a time (so the columns
    repeated on every row — snapshot, batch, host — never exist for all rows at once)."""
    yield _kind_table("software", pairs, batch_id)
    schema = kind_schema("software")
    for sid, snap in pairs:
        t = snap.software_table
        if t is None:
            continue
        fixed = {"snapshot_id": sid, "batch_id": batch_id, "host_id": snap.host.host_id}
        parts = t.batches(step) if isinstance(t, RowsFile) else \
            (t.slice(i, step) for i in range(0, t.num_rows, step))
        for part in parts:
            n = part.num_rows
            have = part.schema.names
            yield pa.table([pa.repeat(pa.scalar(fixed[name], pa.string()), n) if name in fixed
                            else part.column(name).cast(pa.string())
                            if name in have else pa.nulls(n, pa.string())
                            for name in schema.names], schema=schema)


def _column(values: list[Any]) -> pa.Array:
    """A string column; Arrow converts in C, and only a column holding a non-string (a number
    from a lenient source) goes through the per-value fallback."""
    try:
        return pa.array(values, type=pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([_text(v) for v in values], type=pa.string())


def _text(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else str(value)


def batch_sql(path: Path, kind: str) -> str:
    """SQL of one batch file with every column of ``kind`` (NULL where an older file has none)."""
    have = set(pq.read_schema(path).names)
    cols = ", ".join(c if c in have else f"CAST(NULL AS VARCHAR) AS {c}"
                     for c in kind_schema(kind).names)
    return f"(SELECT {cols} FROM read_parquet({sql_str(str(path))}))"


def _sql_files(files: Iterable[Path]) -> str:
    return "[" + sql_list(str(f) for f in files) + "]"
