"""The inventory lake: one Parquet file per import batch, and the pointer to current snapshots.

Layout under ``<estate>/lake/``::

    software/<batch_id>.parquet   snapshot_id, batch_id + SOFTWARE_FIELDS
    devices/<batch_id>.parquet    snapshot_id, batch_id + DEVICE_FIELDS
    hosts/<batch_id>.parquet      snapshot_id, batch_id + HOST_FIELDS
    current.parquet               host_id, snapshot_id, batch_id (one row per host)

Every file is written to a temporary name and renamed into place. A batch file that the review
database does not reference (an import killed before it committed) is never read: engines
semi-join every table with ``current.parquet`` on (snapshot_id, batch_id), and
:meth:`Lake.clean` removes such orphans later.
"""

from __future__ import annotations

import fcntl
import logging
import os
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from kitvet.model import DEVICE_FIELDS, HOST_FIELDS, SOFTWARE_FIELDS, Snapshot

logger = logging.getLogger(__name__)

KINDS: dict[str, tuple[str, ...]] = {
    "software": SOFTWARE_FIELDS,
    "devices": DEVICE_FIELDS,
    "hosts": HOST_FIELDS,
}
CURRENT_SCHEMA = pa.schema(
    [("host_id", pa.string()), ("snapshot_id", pa.string()), ("batch_id", pa.string())]
)
#: Orphan batch files younger than this may belong to an import still running.
ORPHAN_GRACE_S = 3600


def new_batch_id() -> str:
    """A new batch id: sortable by time, unique across processes."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:12]


def kind_schema(kind: str) -> pa.Schema:
    """Arrow schema of one lake table (all strings)."""
    cols = ("snapshot_id", "batch_id") + KINDS[kind]
    return pa.schema([pa.field(c, pa.string()) for c in cols])


class Lake:
    """The Parquet inventory lake of one estate."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)

    @property
    def current_file(self) -> Path:
        """``current.parquet``: the current snapshot (and its batch) of each host."""
        return self.path / "current.parquet"

    def glob(self, kind: str) -> str:
        """The glob of one table's batch files, for ``read_parquet``."""
        return str(self.path / kind / "*.parquet")

    def write_batch(self, snapshots: Iterable[tuple[str, Snapshot]],
                    batch_id: str | None = None) -> str:
        """Write (snapshot_id, snapshot) pairs as one batch of three Parquet files."""
        batch_id = batch_id or new_batch_id()
        pairs = list(snapshots)
        for kind in KINDS:
            table = _kind_table(kind, pairs, batch_id)
            self._write(table, self.path / kind / f"{batch_id}.parquet")
        return batch_id

    def write_current(self, rows: list[dict[str, str]]) -> None:
        """Replace ``current.parquet`` with these (host_id, snapshot_id, batch_id) rows."""
        self._write(pa.Table.from_pylist(rows, schema=CURRENT_SCHEMA), self.current_file)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """An exclusive lock on the lake (around rewriting ``current.parquet``)."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / ".lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def batch_ids(self) -> set[str]:
        """Batch ids that have at least one file in the lake."""
        return {p.stem for k in KINDS for p in (self.path / k).glob("*.parquet")}

    def remove_batch(self, batch_id: str) -> None:
        """Delete one batch's files (an import that added nothing, or an orphan)."""
        for kind in KINDS:
            (self.path / kind / f"{batch_id}.parquet").unlink(missing_ok=True)

    def clean(self, referenced: set[str], grace_s: float = ORPHAN_GRACE_S) -> list[str]:
        """Remove batch files the database does not reference and stale temporary files."""
        now = time.time()
        removed = []
        for kind in KINDS:
            folder = self.path / kind
            for p in list(folder.glob("*.parquet")) + list(folder.glob(".*.tmp")):
                if p.suffix == ".parquet" and p.stem in referenced:
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

    def current_views(self, con: Any, *, prefix: str = "") -> None:
        """Create views ``software``, ``devices``, ``hosts`` over current snapshots in DuckDB.

        Each view has the table's fields plus ``snapshot_id`` and ``batch_id``. With no
        inventory yet the views exist and are empty.
        """
        has_current = self.current_file.exists()
        cur = _sql_str(str(self.current_file))
        for kind in KINDS:
            files = list((self.path / kind).glob("*.parquet"))
            name = f"{prefix}{kind}"
            if not files or not has_current:
                cols = ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in kind_schema(kind).names)
                con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT {cols} WHERE false")
                continue
            con.execute(
                f"CREATE OR REPLACE VIEW {name} AS SELECT t.* FROM "
                f"read_parquet({_sql_str(self.glob(kind))}, union_by_name=true) t "
                f"SEMI JOIN read_parquet({cur}) c "
                f"ON t.snapshot_id = c.snapshot_id AND t.batch_id = c.batch_id"
            )

    def _write(self, table: pa.Table, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.stem}.", suffix=".tmp")
        os.close(fd)
        try:
            pq.write_table(table, tmp, compression="zstd")
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


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
            snap.software if kind == "software" else snap.devices)
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


def _column(values: list[Any]) -> pa.Array:
    """A string column; Arrow converts in C, and only a column holding a non-string (a number
    from a lenient source) goes through the per-value fallback."""
    try:
        return pa.array(values, type=pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([_text(v) for v in values], type=pa.string())


def _text(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else str(value)


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
