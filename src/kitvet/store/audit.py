"""The audit log: append-only and hash-chained.

Each entry is ``(seq, at, actor, action, object, details, prev_hash, hash)`` where
``hash = sha256(canonical JSON of [seq, at, actor, action, object, details, prev_hash])`` and
``prev_hash`` is the previous entry's hash (64 zeros for the first). ``audit_head`` keeps the
last (seq, hash), so removing entries from the end is detected too. Entries are written in the
same transaction as the change they record.

A log can also be wiped whole, or rewritten consistently from some entry on. So facts that live
elsewhere are anchored to it (:class:`Anchor`): each import batch's row records the (seq, hash)
of the entry written with it, and each batch's files in the inventory lake the head at the time
they were written. :func:`verify` checks that the chain still holds every anchor: an estate
holding imports and no audit entries is not intact.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
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


@dataclass(frozen=True)
class Anchor:
    """An audit entry (seq, hash) recorded outside the log, by ``where`` (e.g. a batch)."""

    where: str
    seq: int
    hash: str


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(seq: int, at: str, actor: str, action: str, obj: str, details: str,
               prev_hash: str) -> str:
    """The hash of one entry (``details`` already canonical JSON)."""
    body = canonical([seq, at, actor, action, obj, details, prev_hash])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def head(conn: Connection) -> tuple[int, str]:
    """The (seq, hash) of the last entry; (0, GENESIS) for an empty log."""
    row = conn.execute(select(t.audit_head.c.seq, t.audit_head.c.hash)
                       .where(t.audit_head.c.id == 1)).first()
    return (int(row.seq), str(row.hash)) if row else (0, GENESIS)


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


def verify(conn: Connection, *, expect_head: str | None = None,
           anchors: Iterable[Anchor] = (), unanchored: Iterable[str] = ()) -> AuditCheck:
    """Check the whole chain; name the first entry that was edited, deleted or moved.

    ``anchors`` must still be in the chain; ``unanchored`` are objects (``batch:<id>``) that
    must each have an entry (imports from before anchors were recorded).
    """
    check = _chain(conn)
    if check.ok:
        check = _anchored(conn, check, anchors, unanchored)
    return _expect(check, expect_head) if check.ok else check


def _chain(conn: Connection) -> AuditCheck:
    prev, prev_row, expected_seq, n = GENESIS, None, 1, 0
    for r in iter_rows(conn):
        if r.seq != expected_seq:
            return AuditCheck(False, n, None, expected_seq,
                              f"entry {expected_seq} is missing (next entry is {r.seq})")
        intact = _hash_of(r) == r.hash
        if r.prev_hash != prev:
            if intact and prev_row is not None:  # r is untouched: its predecessor changed
                return AuditCheck(False, n, None, prev_row.seq,
                                  f"entry {prev_row.seq} was edited and its hash recomputed "
                                  f"(entry {r.seq} records another hash for it)")
            return AuditCheck(False, n, None, r.seq,
                              f"entry {r.seq} does not follow entry {r.seq - 1} "
                              "(deleted, inserted or reordered)")
        if not intact:
            return AuditCheck(False, n, None, r.seq, f"entry {r.seq} was edited (hash mismatch)")
        prev, prev_row, expected_seq, n = r.hash, r, expected_seq + 1, n + 1
    head = conn.execute(select(t.audit_head.c.seq, t.audit_head.c.hash)).first()
    if n == 0 and head is None:
        return AuditCheck(True, 0, None)
    if head is None:
        return AuditCheck(False, n, prev, None, f"the log has {n} entries but its head record "
                          "is missing (deleted)")
    if head.seq != n or head.hash != prev:
        first_bad = n if head.seq == n else min(n, head.seq) + 1
        return AuditCheck(False, n, prev, first_bad,
                          f"the log ends at entry {n} but its head records entry "
                          f"{head.seq} (entries removed from the end, "
                          "or the head was edited)")
    return AuditCheck(True, n, prev)


def _hash_of(r: Any) -> str:
    return entry_hash(r.seq, r.at, r.actor, r.action, r.object, r.details, r.prev_hash)


def _anchored(conn: Connection, check: AuditCheck, anchors: Iterable[Anchor],
              unanchored: Iterable[str]) -> AuditCheck:
    """``check`` (a consistent chain), or the first anchor the chain no longer holds."""
    n = check.entries
    wanted: dict[int, list[Anchor]] = {}
    for a in anchors:
        if a.seq > 0:
            wanted.setdefault(a.seq, []).append(a)
    if wanted and max(wanted) > n:
        a = wanted[max(wanted)][0]
        return AuditCheck(False, n, check.head_hash, n + 1,
                          f"{a.where} was recorded at audit entry {a.seq}, but the log has "
                          f"{n} entries (the log was wiped or cut short)")
    seqs = sorted(wanted)
    for i in range(0, len(seqs), 500):
        rows = conn.execute(select(t.audit_log.c.seq, t.audit_log.c.hash)
                            .where(t.audit_log.c.seq.in_(seqs[i:i + 500]))
                            .order_by(t.audit_log.c.seq)).all()
        for r in rows:
            bad = next((a for a in wanted[r.seq] if a.hash != r.hash), None)
            if bad:
                return AuditCheck(False, n, check.head_hash, r.seq,
                                  f"entry {r.seq} is not the one {bad.where} recorded (the log "
                                  f"was rewritten from entry {r.seq} on)")
    objs = list(dict.fromkeys(unanchored))
    for i in range(0, len(objs), 500):
        chunk = objs[i:i + 500]
        have = set(conn.execute(select(t.audit_log.c.object)
                                .where(t.audit_log.c.object.in_(chunk))).scalars())
        missing = [o for o in chunk if o not in have]
        if missing:
            return AuditCheck(False, n, check.head_hash, None,
                              f"{missing[0]} has no audit entry ({len(missing)} such; the log "
                              "was wiped or entries were removed)")
    return check


def _expect(check: AuditCheck, expect_head: str | None) -> AuditCheck:
    if expect_head and check.head_hash != expect_head:
        return AuditCheck(False, check.entries, check.head_hash, None,
                          f"the chain is consistent but its head {check.head_hash} is not the "
                          f"expected {expect_head} (the log was rewritten or truncated)")
    return check


def count(conn: Connection) -> int:
    """Number of entries."""
    return conn.execute(select(func.count()).select_from(t.audit_log)).scalar_one()
