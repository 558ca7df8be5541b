"""A review: reconcile the matching engine's findings table with the findings that live.

New rows become ``open`` findings; rows seen again refresh ``last_seen``; a live finding whose
host now has a newer snapshot without the item becomes ``removed``; a removed finding whose item
is back is re-opened and flagged ``reappeared``. A finding that no longer matches while its host's
snapshot is unchanged (the lists or policy changed) stops being live but keeps its state.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, bindparam, func, select

from kitvet.model import status_rank
from kitvet.model.finding import FINDING_FIELDS
from kitvet.store import tables as t

logger = logging.getLogger(__name__)

_EVIDENCE_FIELDS = tuple(f for f in FINDING_FIELDS if f not in ("finding_id", "status", "rule"))
_MAX_EVIDENCE_CHARS = 65536


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
    missing = {"finding_id", "host_id", "subject_id", "status"} - set(table.column_names)
    if missing:
        from kitvet.errors import StoreError

        raise StoreError(f"the findings table lacks columns {sorted(missing)}")
    best: dict[str, dict[str, Any]] = {}
    for row in table.to_pylist():
        fid = row["finding_id"]
        old = best.get(fid)
        if old is None or status_rank(row["status"]) > status_rank(old["status"]):
            best[fid] = row
    return list(best.values())


def _evidence(row: dict[str, Any]) -> str:
    ev = {f: row.get(f) for f in _EVIDENCE_FIELDS if row.get(f) not in (None, "")}
    matched = ev.get("matched")
    if isinstance(matched, str):
        with contextlib.suppress(ValueError):
            ev["matched"] = json.loads(matched)
    text = json.dumps(ev, ensure_ascii=False, default=str)
    return text if len(text) <= _MAX_EVIDENCE_CHARS else text[:_MAX_EVIDENCE_CHARS]


#: Findings looked up in the review database per query (SQLite allows 32,766 parameters).
_LOOKUP = 500


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
    """One review's reconciliation, fed the engine's rows a batch at a time (:meth:`add`) so
    that a review of millions of findings never holds them all; :meth:`finish` then marks
    what was not seen (removed, or no longer matched) and returns the counts. Only the ids of
    the rows seen are kept between batches."""

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

    def add_batch(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Apply one batch of engine rows (FINDING_FIELDS)."""
        self.add(dedupe(batch))

    def add(self, rows: list[dict[str, Any]]) -> None:
        """Apply engine rows; a finding id already seen in an earlier batch is skipped (the
        engine gives the most severe first)."""
        rows = [r for r in rows if r["finding_id"] not in self.seen]
        if not rows:
            return
        self.seen.update(r["finding_id"] for r in rows)
        self.subject_ids.update(r["subject_id"] for r in rows)
        f = t.findings
        ids = [r["finding_id"] for r in rows]
        existing = {}
        for i in range(0, len(ids), _LOOKUP):
            for r in self.conn.execute(
                    select(f.c.finding_id, f.c.state, f.c.live, f.c.status, f.c.reappeared)
                    .where(f.c.finding_id.in_(ids[i:i + _LOOKUP]))):
                existing[r.finding_id] = r
        now, actor, review_id = self.now, self.actor, self.review_id
        inserts, updates, events = [], [], []
        for row in rows:
            fid, host = row["finding_id"], row["host_id"]
            sid, collected = self.current.get(host, (None, now))
            decision, status = self.decided.get(row["subject_id"], (None, row["status"]))
            common = dict(hostname=_name(row.get("hostname")),
                          institution=_name(row.get("institution")),
                          name=row.get("name"), version=row.get("version"),
                          publisher=row.get("publisher"),
                          subject_name=_name(row.get("subject_name")),
                          list_name=_name(row.get("list_name")),
                          finding_class=row.get("finding_class"), policy_status=row["status"],
                          status=status, decision=decision, rule=row.get("rule"), live=True,
                          snapshot_id=sid, evidence=_evidence(row), updated_at=now)
            old = existing.get(fid)
            if old is None:
                inserts.append(dict(common, finding_id=fid, host_id=host,
                                    subject_id=row["subject_id"],
                                    item_type=row.get("item_type") or "software",
                                    item_key=row.get("item_key") or "", state="open",
                                    first_seen=collected, last_seen=collected, reappeared=0))
                events.append(_event(fid, now, actor, "found", None, "open", None, review_id))
                self.new_findings.append((fid, status))
                continue
            if old.live and old.status != status:
                self.changed.append((fid, old.status, status))
            upd = dict(common, b_id=fid, last_seen=collected, state=old.state,
                       reappeared=old.reappeared, resolved_at=None, removed_at=None,
                       reappeared_at=None, keep_reappeared_at=True)
            if old.state == "removed":
                upd.update(state="open", reappeared=old.reappeared + 1, reappeared_at=now,
                           keep_reappeared_at=False)
                self.reappeared_ids.append(fid)
                events.append(_event(fid, now, actor, "reappeared", "removed", "open",
                                     "the item is back in a newer snapshot", review_id))
            else:
                self.updated += 1
            updates.append(upd)
        _write(self.conn, inserts, updates, [], [], events)

    def finish(self) -> Counts:
        """Mark the live findings not seen: ``removed`` where their host has a newer snapshot,
        no longer live (state kept) where it has not; the counts of the whole review."""
        f = t.findings
        gone, unmatched, events = [], [], []
        result = self.conn.execute(
            select(f.c.finding_id, f.c.state, f.c.live, f.c.host_id, f.c.snapshot_id)
            .where(f.c.state != "removed"))
        while chunk := result.fetchmany(10_000):
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
        _write(self.conn, [], [], gone, unmatched, events)
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


def _write(conn: Connection, inserts: list, updates: list, gone: list, unmatched: list,
           events: list) -> None:
    f = t.findings
    by_id = f.update().where(f.c.finding_id == bindparam("b_id"))
    if inserts:
        conn.execute(f.insert(), inserts)
    keep, fresh = [], []
    for u in updates:
        if u.pop("keep_reappeared_at"):
            u.pop("reappeared_at")
            keep.append(u)
        else:
            fresh.append(u)
    for group in (keep, fresh):
        if group:
            conn.execute(by_id, group)
    if gone:
        conn.execute(by_id, [dict(g, state="removed", live=False) for g in gone])
    if unmatched:
        conn.execute(by_id, [dict(u, live=False) for u in unmatched])
    if events:
        conn.execute(t.finding_events.insert(), events)


def status_counts(conn: Connection) -> dict[str, int]:
    """Live findings per effective status."""
    f = t.findings
    return dict(Counter(conn.execute(select(f.c.status).where(f.c.live.is_(True))).scalars()))


def class_counts(conn: Connection) -> dict[str, dict[str, int]]:
    """Live findings per class, then per effective status (classes are never summed)."""
    f = t.findings
    out: dict[str, dict[str, int]] = {}
    for cls, status, n in conn.execute(
            select(f.c.finding_class, f.c.status, func.count()).where(f.c.live.is_(True))
            .group_by(f.c.finding_class, f.c.status)):
        out.setdefault(cls or "unclassified", {})[status] = n
    return out

