"""The audit log: append-only and hash-chained.

Each entry is ``(seq, at, actor, action, object, details, prev_hash, hash)`` where
``hash = sha256(canonical JSON of [seq, at, actor, action, object, details, prev_hash])`` and
``prev_hash`` is the previous entry's hash (64 zeros for the first). ``audit_head`` keeps the
last (seq, hash), so removing entries from the end is detected too. Entries are written in the
same transaction as the change they record.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from kitvet.store import tables as t
from kitvet.store.db import utcnow

logger = logging.getLogger(__name__)

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    """One entry of the audit log."""

    seq: int
    at: str
    actor: str
    action: str
    object: str
    details: dict[str, Any]
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what ``kitvet audit export`` writes, one per line)."""
        return asdict(self)


@dataclass(frozen=True)
class AuditCheck:
    """The result of verifying the chain."""

    ok: bool
    entries: int
    head_hash: str | None
    first_bad_seq: int | None = None
    problem: str | None = None


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(seq: int, at: str, actor: str, action: str, obj: str, details: str,
               prev_hash: str) -> str:
    """The hash of one entry (``details`` already canonical JSON)."""
    body = canonical([seq, at, actor, action, obj, details, prev_hash])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def append(conn: Connection, *, actor: str, action: str, obj: str,
           details: dict[str, Any] | None = None, at: str | None = None) -> AuditEntry:
    """Append one entry in the caller's (write-locked) transaction."""
    at = at or utcnow()
    head = conn.execute(select(t.audit_head.c.seq, t.audit_head.c.hash)
                        .where(t.audit_head.c.id == 1)).first()
    seq, prev = (head.seq + 1, head.hash) if head else (1, GENESIS)
    body = canonical(details or {})
    h = entry_hash(seq, at, actor, action, obj, body, prev)
    conn.execute(t.audit_log.insert().values(seq=seq, at=at, actor=actor, action=action,
                                             object=obj, details=body, prev_hash=prev, hash=h))
    if head:
        conn.execute(t.audit_head.update().where(t.audit_head.c.id == 1).values(seq=seq, hash=h))
    else:
        conn.execute(t.audit_head.insert().values(id=1, seq=seq, hash=h))
    return AuditEntry(seq, at, actor, action, obj, details or {}, prev, h)


def row_entry(r: Any) -> AuditEntry:
    try:
        details = json.loads(r.details)
    except ValueError:
        details = {"_unparsable": r.details}
    return AuditEntry(r.seq, r.at, r.actor, r.action, r.object, details, r.prev_hash, r.hash)


def entries(conn: Connection, *, limit: int | None = None, offset: int = 0,
            action: str | None = None, obj: str | None = None,
            newest_first: bool = False, where: Sequence[Any] = ()) -> list[AuditEntry]:
    """Entries in order of ``seq`` (optionally filtered by action prefix or object, and by
    the caller's further conditions ``where``)."""
    q = select(t.audit_log).where(*where)
    if action:
        q = q.where(t.audit_log.c.action.like(
            action.replace("%", "").replace("_", "\\_") + "%", escape="\\"))
    if obj:
        q = q.where(t.audit_log.c.object == obj)
    q = q.order_by(t.audit_log.c.seq.desc() if newest_first else t.audit_log.c.seq)
    q = q.offset(max(0, offset))
    if limit is not None:
        q = q.limit(limit)
    return [row_entry(r) for r in conn.execute(q)]


def iter_rows(conn: Connection, chunk: int = 5000) -> Iterator[Any]:
    """Every raw row in physical ``seq`` order, in chunks (for verify and export)."""
    last = 0
    while True:
        rows = conn.execute(select(t.audit_log).where(t.audit_log.c.seq > last)
                            .order_by(t.audit_log.c.seq).limit(chunk)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def verify(conn: Connection, *, expect_head: str | None = None) -> AuditCheck:
    """Check the whole chain; name the first entry that was edited, deleted or moved."""
    prev, expected_seq, n = GENESIS, 1, 0
    for r in iter_rows(conn):
        if r.seq != expected_seq:
            return AuditCheck(False, n, None, expected_seq,
                              f"entry {expected_seq} is missing (next entry is {r.seq})")
        if r.prev_hash != prev:
            return AuditCheck(False, n, None, r.seq,
                              f"entry {r.seq} does not follow entry {r.seq - 1} "
                              "(deleted, inserted or reordered)")
        if entry_hash(r.seq, r.at, r.actor, r.action, r.object, r.details, r.prev_hash) != r.hash:
            return AuditCheck(False, n, None, r.seq, f"entry {r.seq} was edited (hash mismatch)")
        prev, expected_seq, n = r.hash, expected_seq + 1, n + 1
    head = conn.execute(select(t.audit_head.c.seq, t.audit_head.c.hash)).first()
    if n == 0 and head is None:
        return _expect(AuditCheck(True, 0, None), expect_head)
    if head is None:
        return AuditCheck(False, n, prev, None, f"the log has {n} entries but its head record "
                          "is missing (deleted)")
    if head.seq != n or head.hash != prev:
        first_bad = n if head.seq == n else min(n, head.seq) + 1
        return AuditCheck(False, n, prev, first_bad,
                          f"the log ends at entry {n} but its head records entry "
                          f"{head.seq} (entries removed from the end, "
                          "or the head was edited)")
    return _expect(AuditCheck(True, n, prev), expect_head)


def _expect(check: AuditCheck, expect_head: str | None) -> AuditCheck:
    if expect_head and check.head_hash != expect_head:
        return AuditCheck(False, check.entries, check.head_hash, None,
                          f"the chain is consistent but its head {check.head_hash} is not the "
                          f"expected {expect_head} (the log was rewritten or truncated)")
    return check


def count(conn: Connection) -> int:
    """Number of entries."""
    return conn.execute(select(func.count()).select_from(t.audit_log)).scalar_one()
