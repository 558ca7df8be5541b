"""Persistence of alerts: the event outbox and the per-receiver queue (no sending here).

Every function takes a connection of a transaction the caller opened with
:func:`kitvet.store.db.write` (or ``read`` for the listings); writes are serialised by it, so
claiming the head of a receiver's queue cannot race another sender.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from kitvet.errors import StoreError
from kitvet.model.alert import AlertRecord, Attachment, Event
from kitvet.store import alert_tables as at
from kitvet.store.db import inserted_id

#: The largest attachment the queue keeps (bytes): a report, not an archive.
MAX_ATTACHMENT_BYTES = 32 * 1024 * 1024


def record_events(conn: Connection, events: Iterable[Event], *, now: str) -> list[int]:
    """Store events whose key is new; returns the ids of those stored (known keys are skipped)."""
    batch: dict[str, Event] = {}
    for ev in events:
        batch.setdefault(ev.key[:400], ev)
    if not batch:
        return []
    e = at.alert_events
    known: set[str] = set()
    keys = list(batch)
    for i in range(0, len(keys), 500):
        known.update(conn.execute(select(e.c.event_key).where(
            e.c.event_key.in_(keys[i:i + 500]))).scalars())
    ids = []
    for key, ev in batch.items():
        if key in known:
            continue
        payload = {"text": ev.text, "link": ev.link, "data": ev.data}
        ids.append(inserted_id(conn.execute(e.insert().values(
            event_key=key, kind=ev.kind, at=now, institution=_cut(ev.institution),
            status=ev.status, subject_id=_cut(ev.subject_id), finding_id=ev.finding_id,
            title=ev.title, payload=json.dumps(payload, ensure_ascii=False, default=str)))))
    return ids


def unrouted(conn: Connection, *, limit: int = 5000) -> list[Any]:
    """Events not yet turned into alerts, oldest first."""
    e = at.alert_events
    return list(conn.execute(select(e).where(e.c.routed_at.is_(None))
                             .order_by(e.c.event_id).limit(limit)))


def mark_routed(conn: Connection, event_ids: Sequence[int], *, now: str) -> None:
    """Record that these events were routed."""
    e = at.alert_events
    for i in range(0, len(event_ids), 500):
        conn.execute(e.update().where(e.c.event_id.in_(event_ids[i:i + 500]))
                     .values(routed_at=now))


def enqueue(conn: Connection, *, receiver: str, kind: str, title: str, text: str = "",
            institution: str | None = None, status: str | None = None,
            link: str | None = None, data: dict[str, Any] | None = None,
            attachments: Sequence[Attachment] = (), event_id: int | None = None,
            event_key: str | None = None, actor: str, now: str) -> int:
    """Queue one message for ``receiver``; returns its alert id (the order of sending)."""
    for a in attachments:
        if len(a.content) > MAX_ATTACHMENT_BYTES:
            raise StoreError(f"attachment {a.filename!r} is larger than "
                             f"{MAX_ATTACHMENT_BYTES // (1024 * 1024)} MiB")
    message = {"text": text, "link": link, "data": data or {}, "event_key": event_key}
    aid = inserted_id(conn.execute(at.alert_queue.insert().values(
        receiver=receiver[:300], event_id=event_id, kind=kind, title=title,
        institution=_cut(institution), status=status,
        message=json.dumps(message, ensure_ascii=False, default=str), created_at=now,
        created_by=actor[:300], state="pending", attempts=0, next_attempt_at=now)))
    if attachments:
        conn.execute(at.alert_attachments.insert(), [
            dict(alert_id=aid, filename=a.filename[:255], media_type=a.media_type[:100],
                 content=a.content) for a in attachments])
    return aid


def claim(conn: Connection, receiver: str, *, now: str, until: str, limit: int = 1,
          due_by: str | None = None) -> list[Any]:
    """Take the head of ``receiver``'s queue: up to ``limit`` pending alerts in order, stopping
    at the first one not yet due (its next attempt after ``due_by``, default ``now``) or held
    by another sender (order per receiver is kept). The alerts taken are held until ``until``."""
    due_by = due_by or now
    q = at.alert_queue
    rows = list(conn.execute(select(q).where(q.c.receiver == receiver, q.c.state == "pending")
                             .order_by(q.c.alert_id).limit(limit)))
    taken = []
    for r in rows:
        if (r.next_attempt_at or "") > due_by or (r.claimed_until or "") > now:
            break
        taken.append(r)
    if taken:
        conn.execute(q.update().where(q.c.alert_id.in_([r.alert_id for r in taken]))
                     .values(claimed_until=until))
    return taken


def attachments(conn: Connection, alert_ids: Sequence[int]) -> dict[int, list[Attachment]]:
    """The attachments of these alerts, by alert id, in the order they were added."""
    a = at.alert_attachments
    out: dict[int, list[Attachment]] = {}
    if not alert_ids:
        return out
    for r in conn.execute(select(a).where(a.c.alert_id.in_(list(alert_ids)))
                          .order_by(a.c.attachment_id)):
        out.setdefault(r.alert_id, []).append(Attachment(r.filename, r.media_type,
                                                         bytes(r.content)))
    return out


def mark_sent(conn: Connection, alert_ids: Sequence[int], *, now: str) -> None:
    """The receiver accepted these alerts."""
    q = at.alert_queue
    conn.execute(q.update().where(q.c.alert_id.in_(list(alert_ids))).values(
        state="sent", sent_at=now, claimed_until=None, last_error=None,
        attempts=q.c.attempts + 1))


def mark_failed(conn: Connection, alert_ids: Sequence[int], *, now: str, error: str,
                retry_at: str | None) -> None:
    """A delivery failed: retry at ``retry_at``, or dead-letter the alerts when it is None."""
    q = at.alert_queue
    values: dict[str, Any] = dict(attempts=q.c.attempts + 1, last_error=error[:2000],
                                  claimed_until=None)
    if retry_at is None:
        values.update(state="dead", dead_at=now)
    else:
        values.update(next_attempt_at=retry_at)
    conn.execute(q.update().where(q.c.alert_id.in_(list(alert_ids))).values(**values))


def release(conn: Connection, alert_ids: Sequence[int]) -> None:
    """Give back claimed alerts that were not tried (the sender stopped before them)."""
    if alert_ids:
        q = at.alert_queue
        conn.execute(q.update().where(q.c.alert_id.in_(list(alert_ids)),
                                      q.c.state == "pending").values(claimed_until=None))


def replay(conn: Connection, *, now: str, alert_ids: Sequence[int] = (),
           receiver: str | None = None) -> list[int]:
    """Put dead alerts back in their queue (attempts start again); returns their ids."""
    q = at.alert_queue
    cond = [q.c.state == "dead"]
    if alert_ids:
        cond.append(q.c.alert_id.in_(list(alert_ids)))
    if receiver:
        cond.append(q.c.receiver == receiver)
    ids = list(conn.execute(select(q.c.alert_id).where(*cond).order_by(q.c.alert_id)).scalars())
    if ids:
        conn.execute(q.update().where(q.c.alert_id.in_(ids)).values(
            state="pending", attempts=0, next_attempt_at=now, dead_at=None, claimed_until=None))
    return ids


def listing(conn: Connection, *, receiver: str | None = None, state: str | None = None,
            alert_ids: Sequence[int] = (), limit: int = 100,
            newest_first: bool = False) -> list[AlertRecord]:
    """Alerts in the queue, filtered."""
    q, a = at.alert_queue, at.alert_attachments
    cond = []
    if receiver:
        cond.append(q.c.receiver == receiver)
    if state:
        cond.append(q.c.state == state)
    if alert_ids:
        cond.append(q.c.alert_id.in_(list(alert_ids)))
    order = q.c.alert_id.desc() if newest_first else q.c.alert_id
    rows = list(conn.execute(select(q).where(*cond).order_by(order).limit(limit)))
    names: dict[int, list[str]] = {}
    if rows:
        for aid, fname in conn.execute(select(a.c.alert_id, a.c.filename).where(
                a.c.alert_id.in_([r.alert_id for r in rows])).order_by(a.c.attachment_id)):
            names.setdefault(aid, []).append(fname)
    return [AlertRecord(r.alert_id, r.receiver, r.kind, r.title, r.state, r.created_at,
                        r.attempts, r.next_attempt_at if r.state == "pending" else None,
                        r.last_error, r.sent_at, r.dead_at, r.institution, r.status,
                        tuple(names.get(r.alert_id, ()))) for r in rows]


def depth(conn: Connection) -> dict[tuple[str, str], int]:
    """Alerts per (receiver, state)."""
    q = at.alert_queue
    return {(r, s): int(n) for r, s, n in conn.execute(
        select(q.c.receiver, q.c.state, func.count()).group_by(q.c.receiver, q.c.state))}


def pending_receivers(conn: Connection, *, now: str) -> list[str]:
    """Receivers with at least one alert due now."""
    q = at.alert_queue
    return list(conn.execute(select(q.c.receiver).where(
        q.c.state == "pending", or_(q.c.next_attempt_at.is_(None), q.c.next_attempt_at <= now),
        or_(q.c.claimed_until.is_(None), q.c.claimed_until <= now)).distinct()
        .order_by(q.c.receiver)).scalars())


def unrouted_count(conn: Connection) -> int:
    """Events waiting to be routed."""
    e = at.alert_events
    return int(conn.execute(select(func.count()).where(and_(e.c.routed_at.is_(None))))
               .scalar_one())


def _cut(value: str | None) -> str | None:
    return value[:300] if isinstance(value, str) else value
