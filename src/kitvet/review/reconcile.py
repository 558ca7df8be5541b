"""A review: reconcile the matching engine's findings table with the findings that live.

New rows become ``open`` findings; rows seen again refresh ``last_seen``; a live finding whose
host now has a newer snapshot without the item becomes ``removed``; a removed finding whose item
is back is re-opened and flagged ``reappeared``. A finding that no longer matches while its host's
snapshot is unchanged (the lists or policy changed) stops being live but keeps its state.

The engine's rows stay columnar (Arrow) from the engine to the database: each batch's columns
are computed once per distinct value (the effective status of a subject, the snapshot of a
host, the evidence text of a column's value), loaded into a temporary table
(:class:`~kitvet.store.bulk.Stage`) and applied by set-based statements that compare it with the
stored findings in the database.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
)

from kitvet.model import status_rank
from kitvet.model.finding import FINDING_FIELDS
from kitvet.store import tables as t
from kitvet.store.bulk import Stage

logger = logging.getLogger(__name__)

_EVIDENCE_FIELDS = tuple(f for f in FINDING_FIELDS if f not in ("finding_id", "status", "rule"))
_MAX_EVIDENCE_CHARS = 65536
_REQUIRED = {"finding_id", "host_id", "subject_id", "status"}
_NAMES = ("hostname", "institution", "subject_name", "list_name")  # bounded to 300 characters
_REAPPEARED = "the item is back in a newer snapshot"


@dataclass(frozen=True)
class Counts:
    """What a reconciliation changed."""

    new: int
    seen: int
    removed: int
    reappeared: int
    unmatched: int
    reappeared_ids: tuple[str, ...]
    removed_ids: tuple[str, ...] = ()
    #: (finding id, status) of each new finding
    new_findings: tuple[tuple[str, str], ...] = ()
    #: (finding id, status before, status now) of findings seen again whose effective status
    #: changed (a risk-list or policy update)
    status_changes: tuple[tuple[str, str, str], ...] = ()


def dedupe(table: pa.Table | pa.RecordBatch) -> list[dict[str, Any]]:
    """Engine rows as dicts, one per finding id (the most severe status wins)."""
    _check_columns(table.column_names)
    best: dict[str, dict[str, Any]] = {}
    for row in table.to_pylist():
        fid = row["finding_id"]
        old = best.get(fid)
        if old is None or status_rank(row["status"]) > status_rank(old["status"]):
            best[fid] = row
    return list(best.values())


def _check_columns(names: list[str]) -> None:
    missing = _REQUIRED - set(names)
    if missing:
        from kitvet.errors import StoreError

        raise StoreError(f"the findings table lacks columns {sorted(missing)}")


def _evidence(row: dict[str, Any]) -> str:
    """The evidence text of one engine row: its non-empty fields as JSON (``matched`` parsed)."""
    ev = {f: row.get(f) for f in _EVIDENCE_FIELDS if row.get(f) not in (None, "")}
    matched = ev.get("matched")
    if isinstance(matched, str):
        with contextlib.suppress(ValueError):
            ev["matched"] = json.loads(matched)
    text = json.dumps(ev, ensure_ascii=False, default=str)
    return text if len(text) <= _MAX_EVIDENCE_CHARS else text[:_MAX_EVIDENCE_CHARS]


def _json_value(value: str, *, parse: bool) -> str:
    """``value`` as :func:`_evidence` writes it inside the evidence object."""
    if parse:
        with contextlib.suppress(ValueError):
            return json.dumps(json.loads(value), ensure_ascii=False, default=str)
    return json.dumps(value, ensure_ascii=False, default=str)


def _per_value(col: pa.Array | pa.ChunkedArray, fn: Callable[[Any], str | None]) -> pa.Array:
    """``fn`` of each row's value (a string), called once per distinct value; nulls stay
    null."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    enc = pc.dictionary_encode(arr)
    return pa.array([fn(v) for v in enc.dictionary.to_pylist()], pa.string()).take(enc.indices)


def evidence_column(table: pa.Table) -> pa.Array:
    """:func:`_evidence` of every row of an engine table, built column by column: each field's
    ``"name": value`` text is made once per distinct value, then the row's texts are joined."""
    fields = [f for f in _EVIDENCE_FIELDS if f in table.column_names]
    if any(not pa.types.is_string(table.schema.field(f).type) for f in fields):
        return pa.array([_evidence(r) for r in table.select(fields).to_pylist()], pa.string())
    pieces = []
    for f in fields:
        key = ", " + json.dumps(f, ensure_ascii=False) + ": "

        def piece(v: str, key: str = key, parse: bool = f == "matched") -> str:
            return "" if v == "" else key + _json_value(v, parse=parse)

        pieces.append(_per_value(table.column(f), piece).fill_null(""))
    if not pieces:
        return pa.array(["{}"] * table.num_rows, pa.string())
    inner = pc.utf8_slice_codeunits(pc.binary_join_element_wise(*pieces, ""), 2)  # the 1st ", "
    text = pc.binary_join_element_wise("{", inner, "}", "")
    if table.num_rows and pc.max(pc.utf8_length(text)).as_py() > _MAX_EVIDENCE_CHARS:
        text = pa.array([s[:_MAX_EVIDENCE_CHARS] for s in text.to_pylist()], pa.string())
    return text


def _most_severe(table: pa.Table) -> pa.Table:
    """One row per finding id (the most severe status wins, the first of equals)."""
    if pc.count_distinct(table.column("finding_id")).as_py() == table.num_rows:
        return table
    return pa.Table.from_pylist(dedupe(table), schema=table.schema)


#: The columns of the staged batch (:meth:`Reconciler.add_batch`): what a finding row takes.
_STAGED = ("finding_id", "host_id", "subject_id", "item_type", "item_key", "hostname",
           "institution", "name", "version", "publisher", "subject_name", "list_name",
           "finding_class", "policy_status", "status", "decision", "rule", "snapshot_id",
           "collected", "evidence")
#: Columns a finding seen again takes from the engine's row (the rest keep or follow rules).
_REFRESHED = ("hostname", "institution", "name", "version", "publisher", "subject_name",
              "list_name", "finding_class", "policy_status", "status", "decision", "rule",
              "snapshot_id", "evidence")


def reconcile(conn: Connection, rows: list[dict[str, Any]], *, actor: str, now: str,
              review_id: int, current: dict[str, tuple[str, str]],
              decided: dict[str, tuple[str, str]]) -> Counts:
    """Apply deduplicated engine rows; ``current``: host -> (snapshot_id, collected_at),
    ``decided``: subject -> (decision, status)."""
    rec = Reconciler(conn, actor=actor, now=now, review_id=review_id, current=current,
                     decided=decided)
    rec.add(rows)
    return rec.finish()


class Reconciler:
    """One review's reconciliation, fed the engine's rows a batch at a time (:meth:`add_batch`)
    so that a review of millions of findings never holds them all; :meth:`finish` then marks
    what was not seen (removed, or no longer matched) and returns the counts. Only the ids of
    the rows seen are kept between batches (in Python, and in a temporary table)."""

    def __init__(self, conn: Connection, *, actor: str, now: str, review_id: int,
                 current: dict[str, tuple[str, str]], decided: dict[str, tuple[str, str]]):
        self.conn, self.actor, self.now, self.review_id = conn, actor, now, review_id
        self.current, self.decided = current, decided
        self.seen: set[str] = set()
        self.subject_ids: set[str] = set()
        self.new_findings: list[tuple[str, str]] = []
        self.updated = 0
        self.reappeared_ids: list[str] = []
        self.changed: list[tuple[str, str, str]] = []
        self.batch = Stage(conn, "_kv_review_batch",
                           [Column("seq", Integer, primary_key=True, autoincrement=False),
                            *(Column(c, Text) for c in _STAGED),
                            # what is stored of the finding (null: a new finding)
                            Column("old_state", Text), Column("old_status", Text),
                            Column("old_live", Boolean), Column("unchanged", Integer)])
        self.seen_ids = Stage(conn, "_kv_review_seen",
                              [Column("finding_id", String(64), primary_key=True)])

    def add(self, rows: list[dict[str, Any]]) -> None:
        """Apply engine rows given as dicts (see :meth:`add_batch`)."""
        if rows:
            self.add_batch(pa.Table.from_pylist(rows))

    def add_batch(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Apply one batch of engine rows (FINDING_FIELDS); a finding id already seen in an
        earlier batch is skipped (the engine gives the most severe first)."""
        _check_columns(batch.column_names)
        table = _most_severe(pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch)
                             else batch)
        ids = table.column("finding_id").to_pylist()
        fresh = [fid not in self.seen for fid in ids]
        if not all(fresh):
            table = table.filter(pa.array(fresh))
            ids = [fid for fid, keep in zip(ids, fresh, strict=True) if keep]
        if not ids:
            return
        self.seen.update(ids)
        self.subject_ids.update(pc.unique(table.column("subject_id")).to_pylist())
        cols = self._columns(table)
        self.batch.load({"seq": range(len(ids)), **cols})
        self.seen_ids.load({"finding_id": ids}, replace=False)
        self._apply(ids, cols["status"].to_pylist())

    def _columns(self, table: pa.Table) -> dict[str, pa.Array]:
        """The staged columns of a batch (see :data:`_STAGED`), each value computed once."""
        n = table.num_rows

        def col(name: str) -> pa.Array:
            if name in table.column_names:
                c = table.column(name).combine_chunks()
                return c if pa.types.is_string(c.type) else c.cast(pa.string())
            return pa.nulls(n, pa.string())

        host, subject, status = col("host_id"), col("subject_id"), col("status")
        decided = {s: self.decided[s] for s in pc.unique(subject).to_pylist() if s in self.decided}
        none = (None, None)
        hosts = {h: self.current.get(h, (None, self.now)) for h in pc.unique(host).to_pylist()}
        out = {
            "finding_id": col("finding_id"), "host_id": host, "subject_id": subject,
            "item_type": pc.if_else(pc.equal(col("item_type"), ""), None, col("item_type"))
            .fill_null("software"),
            "item_key": col("item_key").fill_null(""),
            "name": col("name"), "version": col("version"), "publisher": col("publisher"),
            "finding_class": col("finding_class"), "policy_status": status,
            "status": pc.coalesce(_per_value(subject, lambda s: decided.get(s, none)[1]),
                                  status),
            "decision": _per_value(subject, lambda s: decided.get(s, none)[0]),
            "rule": col("rule"),
            "snapshot_id": _per_value(host, lambda h: hosts[h][0]),
            "collected": _per_value(host, lambda h: hosts[h][1]).fill_null(self.now),
            "evidence": evidence_column(table),
        }
        for name in _NAMES:
            c = col(name)
            if n and (pc.max(pc.utf8_length(c)).as_py() or 0) > 300:
                c = _per_value(c, _name)
            out[name] = c
        return out

    def _apply(self, ids: list[str], status: list[str]) -> None:
        """Record the staged batch: what is stored of its findings is read once into the
        stage, then the events, the findings seen again (only ``updated_at`` and ``last_seen``
        where nothing else changes) and the new findings follow from the stage."""
        conn, f, s = self.conn, t.findings, self.batch.table
        by_id = f.c.finding_id == s.c.finding_id
        unchanged = and_(*(f.c[c].is_not_distinct_from(s.c[c]) for c in _REFRESHED),
                         f.c.live.is_(True), f.c.resolved_at.is_(None), f.c.removed_at.is_(None),
                         f.c.state != "removed")
        conn.execute(s.update().where(by_id).values(
            old_state=f.c.state, old_status=f.c.status, old_live=f.c.live,
            unchanged=case((unchanged, 1), else_=0)))
        found, back = s.c.old_state.is_(None), s.c.old_state == "removed"
        # the stored findings this batch changes beyond last_seen: reappeared, or a new status
        for seq, state, live, before in conn.execute(
                select(s.c.seq, s.c.old_state, s.c.old_live, s.c.old_status)
                .where(~found, or_(back, s.c.old_status != s.c.status)).order_by(s.c.seq)):
            if live and before != status[seq]:
                self.changed.append((ids[seq], before, status[seq]))
            if state == "removed":
                self.reappeared_ids.append(ids[seq])
                self.updated -= 1
        new = list(conn.execute(select(s.c.seq).where(found).order_by(s.c.seq)).scalars())
        self.new_findings.extend((ids[i], status[i]) for i in new)
        self.updated += len(ids) - len(new)
        conn.execute(t.finding_events.insert().from_select(
            ["finding_id", "at", "actor", "kind", "from_state", "to_state", "reason",
             "review_id"],
            select(s.c.finding_id, literal(self.now), literal(self.actor),
                   case((found, literal("found")), else_=literal("reappeared")),
                   case((found, null()), else_=literal("removed")), literal("open"),
                   case((found, null()), else_=literal(_REAPPEARED)),
                   literal(self.review_id))
            .where(or_(found, back)).order_by(s.c.seq)))
        if len(new) < len(ids):
            was = f.c.state == "removed"
            conn.execute(f.update().where(by_id, s.c.unchanged == 0).values(
                {**{c: s.c[c] for c in _REFRESHED}, "live": true(), "updated_at": self.now,
                 "last_seen": s.c.collected, "resolved_at": None, "removed_at": None,
                 "state": case((was, "open"), else_=f.c.state),
                 "reappeared": case((was, f.c.reappeared + 1), else_=f.c.reappeared),
                 "reappeared_at": case((was, self.now), else_=f.c.reappeared_at)}))
            conn.execute(f.update().where(by_id, s.c.unchanged == 1).values(
                updated_at=self.now, last_seen=s.c.collected))
        if new:
            cols = [c for c in _STAGED if c != "collected"]
            conn.execute(f.insert().from_select(
                [*cols, "state", "live", "first_seen", "last_seen", "reappeared",
                 "updated_at"],
                select(*(s.c[c] for c in cols), literal("open"), true(), s.c.collected,
                       s.c.collected, literal(0), literal(self.now))
                .where(found).order_by(s.c.seq)))

    def finish(self) -> Counts:
        """Mark the live findings not seen: ``removed`` where their host has a newer snapshot,
        no longer live (state kept) where it has not; the counts of the whole review."""
        f, seen = t.findings, self.seen_ids.table
        gone, unmatched, events = [], [], []
        # every finding seen is stored and not removed now: when they are all the findings not
        # removed (an index count), there is nothing else to read
        stored = self.conn.execute(select(func.count()).select_from(f)
                                   .where(f.c.state != "removed")).scalar_one()
        unseen = self.conn.execute(
            select(f.c.finding_id, f.c.state, f.c.live, f.c.host_id, f.c.snapshot_id)
            .where(f.c.state != "removed", ~exists().where(seen.c.finding_id == f.c.finding_id))
        ).partitions(10_000) if stored > len(self.seen) else iter(())
        for chunk in unseen:
            for old in chunk:
                fid = old.finding_id
                if fid in self.seen:
                    continue
                cur = self.current.get(old.host_id)
                if cur is not None and cur[0] != old.snapshot_id:
                    sid, collected = cur
                    gone.append(dict(b_id=fid, resolved_at=collected, removed_at=self.now,
                                     updated_at=self.now))
                    events.append(_event(fid, self.now, self.actor, "removed", old.state,
                                         "removed", f"not in snapshot {sid[:12]}",
                                         self.review_id))
                elif old.live:
                    unmatched.append(dict(b_id=fid, updated_at=self.now))
                    events.append(_event(fid, self.now, self.actor, "unmatched", old.state,
                                         old.state,
                                         "no longer matched by the lists and policy in force",
                                         self.review_id))
        _write(self.conn, gone, unmatched, events)
        self.batch.drop()
        self.seen_ids.drop()
        return Counts(len(self.new_findings), self.updated, len(gone),
                      len(self.reappeared_ids), len(unmatched), tuple(self.reappeared_ids),
                      tuple(g["b_id"] for g in gone), tuple(self.new_findings),
                      tuple(self.changed))


def _name(value: Any) -> Any:
    """Bound a name to the database's column width (300)."""
    return value[:300] if isinstance(value, str) else value


def _event(fid: str, at: str, actor: str, kind: str, frm: str | None, to: str | None,
           reason: str | None, review_id: int | None) -> dict[str, Any]:
    return dict(finding_id=fid, at=at, actor=actor, kind=kind, from_state=frm, to_state=to,
                reason=reason, review_id=review_id)


def _write(conn: Connection, gone: list, unmatched: list, events: list) -> None:
    f = t.findings
    by_id = f.update().where(f.c.finding_id == bindparam("b_id"))
    if gone:
        conn.execute(by_id, [dict(g, state="removed", live=False) for g in gone])
    if unmatched:
        conn.execute(by_id, [dict(u, live=False) for u in unmatched])
    if events:
        conn.execute(t.finding_events.insert(), events)


def live_counts(conn: Connection) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Live findings per effective status, and per class then status (classes are never
    summed), from one pass over the findings. The statuses come in the order the findings
    table first holds them (on SQLite, its rowid order; as a scan of it would list them)."""
    f = t.findings
    first = func.min(literal_column("rowid")) if conn.dialect.name == "sqlite" else literal(0)
    by_status: dict[str, int] = {}
    by_class: dict[str, dict[str, int]] = {}
    order: dict[str, Any] = {}
    for cls, status, n, at in conn.execute(
            select(f.c.finding_class, f.c.status, func.count(), first).where(f.c.live.is_(True))
            .group_by(f.c.finding_class, f.c.status)
            .order_by(f.c.finding_class, f.c.status)):
        by_class.setdefault(cls or "unclassified", {})[status] = n
        by_status[status] = by_status.get(status, 0) + n
        order[status] = min(order.get(status, at), at)
    return dict(sorted(by_status.items(), key=lambda kv: order[kv[0]])), by_class


def status_counts(conn: Connection) -> dict[str, int]:
    """Live findings per effective status."""
    return live_counts(conn)[0]


def class_counts(conn: Connection) -> dict[str, dict[str, int]]:
    """Live findings per class, then per effective status (classes are never summed)."""
    return live_counts(conn)[1]
