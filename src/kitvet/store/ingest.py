"""Importing snapshots into an estate: atomic, idempotent, safe to run concurrently.

Order of work: (1) snapshots are checked and given content-hash ids; (2) the new ones are
written to the lake as one batch (files renamed into place, never referenced yet); (3) one
serialised database transaction records the batch, institutions, hosts, snapshots and the audit
entry — if the process dies before this commits, the database is unchanged and the batch files
are orphans nobody reads; (4) ``current.parquet`` is rewritten from the database under the lake
lock. Killing the process at any point leaves a consistent estate; rerunning the import succeeds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from orjson import dumps as _odumps
from sqlalchemy import Connection, Engine, bindparam, select

from kitvet.errors import StoreError
from kitvet.model import (
    DEVICE_FIELDS,
    FILE_FIELDS,
    SOFTWARE_FIELDS,
    Host,
    RowsFile,
    Skipped,
    Snapshot,
)
from kitvet.store import audit
from kitvet.store import tables as t
from kitvet.store.db import read, utcnow, write
from kitvet.store.lake import Lake, new_batch_id
from kitvet.store.records import ImportResult

logger = logging.getLogger(__name__)

#: Test hook: ``KITVET_PAUSE_AT=<point>:<seconds>`` sleeps at a named point of an import
#: (``after-lake``: batch files written, nothing committed; ``in-transaction``: database rows
#: written but not committed). The kill test uses it to SIGKILL an import mid-way.
PAUSE_ENV = "KITVET_PAUSE_AT"
#: Longest host id, institution, hostname or machine id the database keeps.
MAX_NAME = 300


def _pause(point: str) -> None:
    spec = os.environ.get(PAUSE_ENV, "")
    name, _, seconds = spec.partition(":")
    if name == point:
        logger.warning("pausing %ss at %s (%s)", seconds, point, PAUSE_ENV)
        time.sleep(float(seconds or 30))


def snapshot_id(snap: Snapshot) -> str:
    """Content hash of a snapshot: the same inventory imported twice has the same id.

    sha256 over canonical JSON of [host row, sorted software rows, sorted device rows], each row
    the list of its field values in the order of the model's fields (null and "" alike); a
    snapshot with file rows appends them, sorted, so ids of snapshots without files are as
    they always were.
    """
    if snap.software_table is not None:
        return _streamed_id(snap)
    software = _values(snap.software, _SW_FIELDS)
    devices = _values(snap.devices, _DEV_FIELDS)
    host = sorted((k, str(v)) for k, v in snap.host.to_row().items() if v not in (None, ""))
    doc = [host, software, devices]
    if snap.files:
        doc.append(_values(snap.files, _FILE_FIELDS))
    try:  # the same bytes as json.dumps(ensure_ascii=False, compact), ten times faster
        body = _odumps(doc)
    except TypeError:  # a lone surrogate: the standard library fails as it always did
        body = None
    if body is None:
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(body).hexdigest()


def _streamed_id(snap: Snapshot) -> str:
    """:func:`snapshot_id` of a snapshot whose software rows are an Arrow table: the same
    bytes hashed, the rows sorted by Arrow (UTF-8 byte order is code point order, as Python
    sorts) and serialised a slice at a time, so a million rows never become Python lists."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = snap.software_table
    if isinstance(table, RowsFile):
        return _spilled_id(snap, table)
    if snap.software:  # rows in both places: one table
        table = pa.concat_tables([table, pa.Table.from_pylist(
            [{f: _text(r.get(f)) for f in _SW_FIELDS} for r in snap.software],
            schema=table.schema)])
    cols = {}
    for f in _SW_FIELDS:
        col = table.column(f).cast(pa.string()) if f in table.column_names else \
            pa.nulls(table.num_rows, pa.string())
        cols[f] = pc.fill_null(col, "") if col.null_count else col
    table = pa.table(cols)
    order = pc.sort_indices(table, sort_keys=[(f, "ascending") for f in _SW_FIELDS])
    h = hashlib.sha256()
    host = sorted((k, str(v)) for k, v in snap.host.to_row().items() if v not in (None, ""))
    h.update(b"[" + _odumps(host) + b",[")
    step = 16384  # rows turned into Python lists at a time
    for i in range(0, table.num_rows, step):
        part = table.take(order[i:i + step])
        rows = list(map(list, zip(*(part.column(f).to_pylist() for f in _SW_FIELDS),
                                  strict=True)))
        h.update((b"," if i else b"") + _odumps(rows)[1:-1])
    h.update(b"]," + _odumps(_values(snap.devices, _DEV_FIELDS)))
    if snap.files:
        h.update(b"," + _odumps(_values(snap.files, _FILE_FIELDS)))
    h.update(b"]")
    return h.hexdigest()


#: Memory DuckDB may use to sort the rows of a spilled snapshot (it sorts on disk past it).
SORT_MEMORY = "64MB"


def _spilled_id(snap: Snapshot, rows: RowsFile) -> str:
    """:func:`snapshot_id` of a snapshot whose software rows are in a Parquet file: DuckDB
    sorts them (on disk beyond :data:`SORT_MEMORY`; VARCHAR compares bytes, the order of
    Python's sort) and the same bytes are hashed a slice at a time."""
    import duckdb
    import pyarrow as pa

    from kitvet.duck import arrow_reader, sql_str

    h = hashlib.sha256()
    host = sorted((k, str(v)) for k, v in snap.host.to_row().items() if v not in (None, ""))
    h.update(b"[" + _odumps(host) + b",[")
    with pq.ParquetFile(rows.path) as pf:
        have = set(pf.schema_arrow.names)
    cols = ", ".join(f"coalesce(CAST({_q(f)} AS VARCHAR), '')" if f in have else "''"
                     for f in _SW_FIELDS)
    sql = f"SELECT {cols} FROM read_parquet({sql_str(str(rows.path))})"
    con = duckdb.connect(config={"memory_limit": SORT_MEMORY, "threads": 1,
                                 "temp_directory": str(rows.path) + ".sort.tmp",
                                 "preserve_insertion_order": False})
    try:
        if snap.software:  # rows in both places: sorted together
            extra = pa.table({f: pa.array([_text(r.get(f)) for r in snap.software], pa.string())
                              for f in _SW_FIELDS})
            con.register("kitvet_extra_rows", extra)
            sql += " UNION ALL SELECT " + ", ".join(_q(f) for f in _SW_FIELDS) + \
                " FROM kitvet_extra_rows"
        order = ", ".join(str(i + 1) for i in range(len(_SW_FIELDS)))
        first = True
        for batch in arrow_reader(con, f"{sql} ORDER BY {order}", 16384):
            if not batch.num_rows:
                continue
            vals = list(map(list, zip(*(c.to_pylist() for c in batch.columns), strict=True)))
            h.update((b"" if first else b",") + _odumps(vals)[1:-1])
            first = False
    finally:
        con.close()
        pa.default_memory_pool().release_unused()
    h.update(b"]," + _odumps(_values(snap.devices, _DEV_FIELDS)))
    if snap.files:
        h.update(b"," + _odumps(_values(snap.files, _FILE_FIELDS)))
    h.update(b"]")
    return h.hexdigest()


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_SW_FIELDS = tuple(f for f in SOFTWARE_FIELDS if f != "host_id")
_DEV_FIELDS = tuple(f for f in DEVICE_FIELDS if f != "host_id")
_FILE_FIELDS = tuple(f for f in FILE_FIELDS if f != "host_id")
_ONLY_STR = {str}


def _values(rows: list[dict[str, Any]], fields: tuple[str, ...]) -> list[list[str]]:
    """Each row's values in ``fields`` order as text ("" for null), sorted."""
    blanks = ("",) * len(fields)
    out = []
    for r in rows:
        vals = list(map(r.get, fields, blanks))  # one C loop: the common all-text row
        if set(map(type, vals)) != _ONLY_STR:
            vals = [_text(r.get(f)) for f in fields]
        out.append(vals)
    out.sort()
    return out


def _text(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else str(value)


def parse_time(value: str | None) -> str | None:
    """An ISO 8601 time in kitvet's stored form (UTC, ``Z``); None if unparsable."""
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclasses.dataclass
class _Prepared:
    sid: str
    snap: Snapshot
    collected_at: str
    #: (software, devices, skipped) rows of a snapshot already in the lake, whose ``snap``
    #: holds only the host (see :func:`record_lake_batches`)
    counts: tuple[int, int, int] | None = None

    def row_counts(self) -> tuple[int, int, int]:
        """How many software, device and skipped rows the snapshot has."""
        return self.counts or (self.snap.software_count, len(self.snap.devices),
                               len(self.snap.skipped))


def prepare(snapshots: Iterable[Snapshot], institution: str | None, now: str
            ) -> tuple[list[_Prepared], list[Skipped]]:
    """Give each snapshot its institution, id and collection time; refuse what cannot be kept."""
    out: dict[str, _Prepared] = {}
    rejected: list[Skipped] = []
    for snap in snapshots:
        host = snap.host
        where = f"host {host.host_id}"
        if institution and not host.institution:
            host = dataclasses.replace(host, institution=institution)
        if not host.institution:
            rejected.append(Skipped("estate", "snapshot has no institution (give --institution)",
                                    where[:MAX_NAME]))
            continue
        if len(host.host_id) > MAX_NAME or len(host.institution) > MAX_NAME:
            rejected.append(Skipped("estate", f"host id or institution longer than {MAX_NAME} "
                                    "characters", where[:MAX_NAME]))
            continue
        host = dataclasses.replace(
            host, hostname=(host.hostname or None) and host.hostname[:MAX_NAME],
            machine_id=(host.machine_id or None) and host.machine_id[:MAX_NAME],
            platform=(host.platform or "unknown")[:40])
        collected = parse_time(host.collected_at)
        if host.collected_at and collected is None:
            rejected.append(Skipped("estate", f"collected_at {host.collected_at[:40]!r} is not "
                                    "an ISO 8601 time", where))
            continue
        snap = dataclasses.replace(snap, host=host)
        sid = snapshot_id(snap)
        out.setdefault(sid, _Prepared(sid, snap, collected or now))
    return sorted(out.values(), key=lambda p: p.collected_at), rejected


def import_snapshots(engine: Engine, lake: Lake, snapshots: Iterable[Snapshot], *, actor: str,
                     institution: str | None = None, create_institutions: bool = True
                     ) -> ImportResult:
    """Import snapshots atomically (see the module docstring for the guarantees)."""
    return import_groups(engine, lake, [Group(list(snapshots), actor, institution,
                                              create_institutions)])[0]


@dataclasses.dataclass
class Group:
    """The snapshots of one upload (one ingest job): imported together with other groups in
    one batch, but recorded, audited and answered on their own."""

    snapshots: list[Snapshot]
    actor: str
    institution: str | None = None
    create_institutions: bool = True


#: Called inside the import's write transaction with each group's result (the ingest queue
#: records its jobs as done in the same commit as their snapshots).
OnCommit = Callable[[Connection, list[ImportResult]], None]


def import_groups(engine: Engine, lake: Lake, groups: Sequence[Group], *,
                  on_commit: OnCommit | None = None) -> list[ImportResult]:
    """Import several uploads as one lake batch and one database transaction.

    Each group gets its own :class:`ImportResult` and its own audit entry (its actor); a
    snapshot sent by two groups of the batch is stored once and is a duplicate of the later
    group. ``on_commit`` runs in the write transaction, also when nothing new is stored.
    """
    now = utcnow()
    preps: list[tuple[list[_Prepared], list[Skipped]]] = [
        prepare(g.snapshots, g.institution, now) for g in groups]
    with read(engine) as conn:
        known = _existing_ids(conn, [p.sid for ps, _ in preps for p in ps])
    owner: dict[str, int] = {}  # sid -> index of the group that stores it
    for i, (ps, _) in enumerate(preps):
        for p in ps:
            if p.sid not in known:
                owner.setdefault(p.sid, i)
    todo = sorted({p.sid: p for i, (ps, _) in enumerate(preps) for p in ps
                   if owner.get(p.sid) == i}.values(), key=lambda p: p.collected_at)
    if not todo:
        results = [ImportResult(None, duplicates=tuple(p.sid for p in ps),
                                rejected=tuple(rej)) for ps, rej in preps]
        if on_commit is not None:
            with write(engine) as conn:
                on_commit(conn, results)
        return results
    batch_id = new_batch_id()
    with read(engine) as conn:
        anchor = audit.head(conn)  # anchors the batch files to the audit log (see verify)
    with lake.importing():
        lake.write_batch(((p.sid, p.snap) for p in todo), batch_id, anchor=anchor)
        _pause("after-lake")
        try:
            with write(engine) as conn:
                no_new = {p.sid for g, (ps, _) in zip(groups, preps, strict=True)
                          if not g.create_institutions for p in ps}
                out = _record(conn, todo, batch_id, actor=_batch_actor(groups), now=now,
                              no_new_institutions=no_new)
                results = _split(preps, owner, known, out, batch_id)
                entries = [_audit(conn, g.actor, batch_id, now, res)
                           for g, res in zip(groups, results, strict=True)
                           if res.batch_id is not None]
                if entries:
                    _anchor(conn, batch_id, entries[-1])
                if on_commit is not None:
                    on_commit(conn, results)
                _pause("in-transaction")
        except BaseException:
            lake.remove_batch(batch_id)
            raise
        if not out.added:
            lake.remove_batch(batch_id)
    if out.added:
        refresh_current(engine, lake)
    return results


def _batch_actor(groups: Sequence[Group]) -> str:
    actors = {g.actor for g in groups}
    return actors.pop() if len(actors) == 1 else "kitvet-ingest"


def record_lake_batches(engine: Engine, lake: Lake, batch_ids: Sequence[str], *, actor: str
                        ) -> list[ImportResult]:
    """Record batches written straight to the lake (the estate generator's) in the review
    database, as an import records its own: the batch, institutions, hosts and snapshots,
    each batch in one transaction, then ``current.parquet`` from the database.

    The snapshots keep the ids the lake gives them; a batch already recorded changes nothing.
    """
    results = []
    now = utcnow()
    for batch_id in batch_ids:
        todo = _lake_batch(lake, batch_id, now)
        with write(engine) as conn:
            if conn.execute(select(t.batches.c.batch_id)
                            .where(t.batches.c.batch_id == batch_id)).first():
                results.append(ImportResult(None, duplicates=tuple(p.sid for p in todo)))
                continue
            out = _record(conn, todo, batch_id, actor=actor, now=now,
                          no_new_institutions=set())
            res = _split([(todo, [])], {p.sid: 0 for p in todo}, set(), out, batch_id)[0]
            if res.batch_id is not None:
                _anchor(conn, batch_id, _audit(conn, actor, batch_id, now, res))
            results.append(res)
    refresh_current(engine, lake)
    return results


def _lake_batch(lake: Lake, batch_id: str, now: str) -> list[_Prepared]:
    """The snapshots of one lake batch: their hosts, and their row counts per kind."""
    try:
        hosts = pq.read_table(lake.path / "hosts" / f"{batch_id}.parquet").to_pylist()
        counts = {kind: _rows_per_snapshot(lake.path / kind / f"{batch_id}.parquet")
                  for kind in ("software", "devices")}
    except (OSError, pa.ArrowInvalid) as e:
        raise StoreError(f"cannot read lake batch {batch_id}: {e}", file=str(lake.path)) from e
    out = []
    for r in hosts:
        sid = r["snapshot_id"]
        host = Host(host_id=r["host_id"], hostname=r.get("hostname"),
                    institution=r.get("institution"), platform=r.get("platform") or "unknown",
                    os_name=r.get("os_name"), os_version=r.get("os_version"),
                    machine_id=r.get("machine_id"), collected_at=r.get("collected_at"),
                    sources=tuple(s for s in (r.get("sources") or "").split(",") if s))
        out.append(_Prepared(sid, Snapshot(host=host), parse_time(host.collected_at) or now,
                             (counts["software"].get(sid, 0), counts["devices"].get(sid, 0), 0)))
    return sorted(out, key=lambda p: p.collected_at)


def _rows_per_snapshot(path: Path) -> dict[str, int]:
    if not path.exists():
        return {}
    got = pq.read_table(path, columns=["snapshot_id"]).group_by("snapshot_id").aggregate(
        [("snapshot_id", "count")])
    return dict(zip(got.column("snapshot_id").to_pylist(),
                    got.column("snapshot_id_count").to_pylist(), strict=True))


def _existing_ids(conn: Connection, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        found.update(conn.execute(select(t.snapshots.c.snapshot_id)
                                  .where(t.snapshots.c.snapshot_id.in_(chunk))).scalars())
    return found


@dataclasses.dataclass
class _HostState:
    institution: str
    machine_id: str | None
    current_collected_at: str
    new: bool = False
    changed: bool = False
    row: dict[str, Any] = dataclasses.field(default_factory=dict)


def _known_hosts(conn: Connection, ids: list[str]) -> dict[str, _HostState]:
    out: dict[str, _HostState] = {}
    h = t.hosts
    for i in range(0, len(ids), 500):
        for r in conn.execute(select(h.c.host_id, h.c.institution, h.c.machine_id,
                                     h.c.current_collected_at)
                              .where(h.c.host_id.in_(ids[i:i + 500]))):
            out[r.host_id] = _HostState(r.institution, r.machine_id, r.current_collected_at)
    return out


@dataclasses.dataclass
class _Outcome:
    """What :func:`_record` did with each snapshot of a batch."""

    added: dict[str, str] = dataclasses.field(default_factory=dict)  # sid -> host id
    current: set[str] = dataclasses.field(default_factory=set)  # sids that became current
    dups: set[str] = dataclasses.field(default_factory=set)
    rejected: dict[str, Skipped] = dataclasses.field(default_factory=dict)
    created: dict[str, str] = dataclasses.field(default_factory=dict)  # institution -> sid


def _record(conn: Connection, todo: list[_Prepared], batch_id: str, *, actor: str, now: str,
            no_new_institutions: set[str]) -> _Outcome:
    """The database half of an import, inside the write transaction (bulk statements)."""
    known = _existing_ids(conn, [p.sid for p in todo])  # a concurrent import may have won
    insts = set(conn.execute(select(t.institutions.c.name)).scalars())
    hosts = _known_hosts(conn, sorted({p.snap.host.host_id for p in todo}))
    out = _Outcome()
    snap_rows = []
    for p in todo:  # sorted by collected_at; prepare() gave each an institution
        h = p.snap.host
        inst = h.institution or ""
        if p.sid in known:
            out.dups.add(p.sid)
            continue
        if inst not in insts:
            if p.sid in no_new_institutions:
                out.rejected[p.sid] = Skipped("estate", f"unknown institution {inst!r}",
                                              f"host {h.host_id}")
                continue
            insts.add(inst)
            out.created[inst] = p.sid
        old = hosts.get(h.host_id)
        why = _collision(old, h) if old is not None else None
        if why:
            out.rejected[p.sid] = Skipped("estate", why, f"host {h.host_id}")
            continue
        fields = dict(hostname=h.hostname, platform=h.platform, current_snapshot_id=p.sid,
                      current_collected_at=p.collected_at, updated_at=now)
        if old is None:
            hosts[h.host_id] = _HostState(inst, h.machine_id, p.collected_at, new=True,
                                          row=dict(fields, machine_id=h.machine_id))
            out.current.add(p.sid)
        elif p.collected_at >= old.current_collected_at:
            old.machine_id = h.machine_id or old.machine_id
            old.current_collected_at = p.collected_at
            old.changed = True
            old.row = dict(fields, machine_id=old.machine_id)
            out.current.add(p.sid)
        out.added[p.sid] = h.host_id
        n_sw, n_dev, n_skip = p.row_counts()
        snap_rows.append(dict(snapshot_id=p.sid, host_id=h.host_id, institution=inst,
                              collected_at=p.collected_at, imported_at=now, batch_id=batch_id,
                              software_count=n_sw, device_count=n_dev, skipped_count=n_skip))
    if out.added:
        _write_rows(conn, batch_id, actor, now, list(out.created), hosts, snap_rows)
    return out


def _split(preps: list[tuple[list[_Prepared], list[Skipped]]], owner: dict[str, int],
           known: set[str], out: _Outcome, batch_id: str) -> list[ImportResult]:
    """Each group's share of a batch's outcome."""
    results = []
    for i, (ps, rejected) in enumerate(preps):
        added: list[str] = []
        current: list[str] = []
        historical: list[str] = []
        dups: list[str] = []
        rej = list(rejected)
        for p in ps:
            if p.sid in known or owner.get(p.sid) != i or p.sid in out.dups:
                dups.append(p.sid)
            elif p.sid in out.rejected:
                rej.append(out.rejected[p.sid])
            elif p.sid in out.added:
                added.append(p.sid)
                if p.sid in out.current:
                    current.append(out.added[p.sid])
                else:
                    historical.append(p.sid)
        mine = {p.sid for p in ps}
        created = tuple(n for n, sid in out.created.items() if sid in mine)
        results.append(ImportResult(batch_id if added else None, tuple(added),
                                    tuple(dict.fromkeys(current)), tuple(historical),
                                    tuple(dups), created, tuple(rej)))
    return results


def _audit(conn: Connection, actor: str, batch_id: str, now: str, res: ImportResult
           ) -> audit.AuditEntry:
    return audit.append(
        conn, actor=actor, action="estate.import", obj=f"batch:{batch_id}", at=now,
        details={"snapshots": len(res.added), "hosts_current": len(res.became_current),
                 "historical": len(res.historical),
                 "institutions_created": list(res.institutions_created),
                 "rejected": len(res.rejected)})


def _anchor(conn: Connection, batch_id: str, entry: audit.AuditEntry) -> None:
    """Record in the batch's row the audit entry written with it (what verify checks)."""
    conn.execute(t.batches.update().where(t.batches.c.batch_id == batch_id)
                 .values(audit_seq=entry.seq, audit_hash=entry.hash))


def _write_rows(conn: Connection, batch_id: str, actor: str, now: str, created: list[str],
                hosts: dict[str, _HostState], snap_rows: list[dict[str, Any]]) -> None:
    if created:
        conn.execute(t.institutions.insert(),
                     [dict(name=n, created_at=now, created_by=actor) for n in created])
    conn.execute(t.batches.insert().values(batch_id=batch_id, imported_at=now, actor=actor,
                                           snapshot_count=len(snap_rows)))
    new = [dict(st.row, host_id=hid, institution=st.institution, first_seen=now)
           for hid, st in hosts.items() if st.new]
    if new:
        conn.execute(t.hosts.insert(), new)
    changed = [dict(st.row, b_host=hid) for hid, st in hosts.items() if st.changed and not st.new]
    if changed:
        conn.execute(t.hosts.update().where(t.hosts.c.host_id == bindparam("b_host")), changed)
    conn.execute(t.snapshots.insert(), snap_rows)


def _collision(old: Any, h: Any) -> str | None:
    """Why a snapshot cannot belong to the host already known under its id, or None.

    The reason goes back to whoever sent the snapshot (an institution's agent, through the
    server): it never names the institution that holds the host, nor says whether the clash
    is one of institution or of machine_id, so a token cannot enumerate other institutions'
    hosts. The detail is logged server-side.
    """
    if old.institution != h.institution:
        logger.warning("host id collision: %r belongs to institution %r, refused for %r",
                       h.host_id, old.institution, h.institution)
    elif old.machine_id and h.machine_id and old.machine_id != h.machine_id:
        logger.warning("host id collision: %r has machine_id %r, refused for machine_id %r",
                       h.host_id, old.machine_id, h.machine_id)
    else:
        return None
    return (f"host id {h.host_id!r} is already used by another machine (host id collision; "
            "choose another host id)")


def refresh_current(engine: Engine, lake: Lake, *, lock: bool = True
                    ) -> dict[str, tuple[str, str]]:
    """Rewrite ``current.parquet`` from the database; returns host -> (snapshot, collected_at).

    Takes the lake lock unless the caller holds it (``lock=False``).
    """
    if lock:
        with lake.locked():
            return refresh_current(engine, lake, lock=False)
    with read(engine) as conn:
        rows = conn.execute(
            select(t.hosts.c.host_id, t.snapshots.c.snapshot_id, t.snapshots.c.batch_id,
                   t.hosts.c.current_collected_at)
            .join(t.snapshots, t.snapshots.c.snapshot_id == t.hosts.c.current_snapshot_id)
            .order_by(t.hosts.c.host_id)).all()
    lake.write_current([dict(host_id=r.host_id, snapshot_id=r.snapshot_id, batch_id=r.batch_id)
                        for r in rows])
    return {r.host_id: (r.snapshot_id, r.current_collected_at) for r in rows}
