"""Routing events to receivers and draining the queue: at least once, in order per receiver.

:func:`route` turns events of the outbox into one queued alert per receiver that wants them.
:func:`drain` sends, receiver by receiver: it claims the head of the receiver's queue (the
alerts are held by this sender for a lease), sends outside any transaction, then records the
outcome. A failure sets the alert's next attempt (exponential back-off) and stops that
receiver's queue, so later alerts never overtake it; after the receiver's last attempt (or a
refusal that retrying cannot change, HTTP 4xx) the alert goes to the dead letters, from where
:func:`kitvet.store.alertq.replay` puts it back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from kitvet.alerts.channels import Channel, DeliveryError, channel_for
from kitvet.alerts.config import AlertConfig, Receiver
from kitvet.errors import AlertError
from kitvet.model.alert import Message
from kitvet.store import alertq
from kitvet.store.db import write

logger = logging.getLogger(__name__)

#: how long a sender holds the alerts it claimed (another sender takes them over after that)
LEASE_S = 300.0
#: claims one drain makes for one receiver at most (a drain never runs forever)
MAX_ROUNDS = 1000
#: alerts claimed in one transaction for a channel that sends one at a time
CLAIM = 25


def iso(dt: datetime) -> str:
    """A time as the store writes it."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def route(conn: Connection, config: AlertConfig, *, now: str, actor: str) -> int:
    """Queue every unrouted event for the receivers that want it; returns alerts queued."""
    queued = 0
    while True:
        events = alertq.unrouted(conn)
        if not events:
            return queued
        for ev in events:
            payload = json.loads(ev.payload)
            for r in config.receivers:
                if r.wants(ev.kind, ev.institution, ev.status):
                    alertq.enqueue(conn, receiver=r.name, kind=ev.kind, title=ev.title,
                                   text=payload.get("text") or "", institution=ev.institution,
                                   status=ev.status, link=config.link(payload.get("link")),
                                   data=payload.get("data") or {}, event_id=ev.event_id,
                                   event_key=ev.event_key, actor=actor, now=now)
                    queued += 1
        alertq.mark_routed(conn, [ev.event_id for ev in events], now=now)


@dataclass
class ReceiverOutcome:
    """What one drain did for one receiver."""

    receiver: str
    sent: int = 0
    retrying: int = 0  # alerts that failed and wait for their next attempt
    dead: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class DrainResult:
    """What one drain did."""

    routed: int = 0
    receivers: list[ReceiverOutcome] = field(default_factory=list)
    unconfigured: list[str] = field(default_factory=list)  # queued for unknown receivers

    @property
    def sent(self) -> int:
        """Alerts delivered."""
        return sum(o.sent for o in self.receivers)

    @property
    def failed(self) -> int:
        """Alerts that failed (retrying or dead)."""
        return sum(o.retrying + o.dead for o in self.receivers)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"routed": self.routed, "sent": self.sent, "failed": self.failed,
                "receivers": [o.__dict__ for o in self.receivers],
                "unconfigured": self.unconfigured}


def _message(row: Any, attachments: dict[int, list[Any]]) -> Message:
    body = json.loads(row.message)
    return Message(alert_id=row.alert_id, receiver=row.receiver, kind=row.kind,
                   title=row.title, text=body.get("text") or "", created_at=row.created_at,
                   institution=row.institution, status=row.status, link=body.get("link"),
                   data=body.get("data") or {}, event_key=body.get("event_key"),
                   attachments=tuple(attachments.get(row.alert_id, ())))


def drain(engine: Engine, config: AlertConfig, *, receivers: Sequence[str] | None = None,
          retry_now: bool = False, actor: str = "kitvet",
          clock: Callable[[], datetime] | None = None,
          channels: Callable[[Receiver], Channel] = channel_for) -> DrainResult:
    """Route, then send what is due to each receiver (``retry_now``: ignore back-off)."""
    clock = clock or (lambda: datetime.now(UTC))
    result = DrainResult()
    with write(engine) as conn:
        result.routed = route(conn, config, now=iso(clock()), actor=actor)
        known = {r.name for r in config.receivers}
        result.unconfigured = sorted({rcv for rcv, state in alertq.depth(conn)
                                      if state == "pending" and rcv not in known})
    chosen = [config.receiver(n) for n in receivers] if receivers else list(config.receivers)
    for r in chosen:
        result.receivers.append(_drain_one(engine, r, retry_now=retry_now, clock=clock,
                                           channels=channels))
    return result


def _drain_one(engine: Engine, receiver: Receiver, *, retry_now: bool,
               clock: Callable[[], datetime], channels: Callable[[Receiver], Channel]
               ) -> ReceiverOutcome:
    """Send one receiver's due alerts in order: claim up to :data:`CLAIM` (or one digest) in
    one transaction, send them one channel call at a time, record the outcomes in one
    transaction (the alerts not reached are released)."""
    out = ReceiverOutcome(receiver.name)
    channel: Channel | None = None
    per_send = _batch(receiver)
    try:
        for _ in range(MAX_ROUNDS):
            now = clock()
            with write(engine) as conn:
                due_by = "9999" if retry_now else iso(now)
                rows = alertq.claim(conn, receiver.name, now=iso(now), due_by=due_by,
                                    until=iso(now + timedelta(seconds=LEASE_S)),
                                    limit=max(per_send, CLAIM))
                atts = alertq.attachments(conn, [r.alert_id for r in rows])
            if not rows:
                break
            sent: list[int] = []
            failed: list[tuple[list[int], str, str | None]] = []
            stop = False
            for i in range(0, len(rows), per_send):
                chunk = rows[i:i + per_send]
                ids = [r.alert_id for r in chunk]
                try:
                    channel = channel or channels(receiver)
                    channel.send([_message(r, atts) for r in chunk])
                except Exception as e:  # a channel bug must not lose the alert either
                    permanent = isinstance(e, DeliveryError) and e.permanent
                    reason = (e.message if isinstance(e, AlertError)
                              else f"{type(e).__name__}: {e}")
                    attempt = max(r.attempts for r in chunk) + 1
                    dead = permanent or attempt >= receiver.retry.attempts
                    failed.append((ids, reason, None if dead else iso(clock() + timedelta(
                        seconds=receiver.retry.delay(attempt)))))
                    out.errors.append(f"alert {ids[0]}: {reason}")
                    logger.warning("receiver %s: alert(s) %s failed (attempt %d): %s%s",
                                   receiver.name, ids, attempt, reason,
                                   " — dead-lettered" if dead else "")
                    if dead:
                        out.dead += len(ids)
                        continue  # the next alert may go: this one waits in the dead letters
                    out.retrying += len(ids)
                    stop = True
                    break  # keep the order: nothing overtakes an alert waiting for its retry
                sent += ids
            done = set(sent) | {i for ids, _r, _t in failed for i in ids}
            with write(engine) as conn:
                if sent:
                    alertq.mark_sent(conn, sent, now=iso(clock()))
                for ids, reason, retry_at in failed:
                    alertq.mark_failed(conn, ids, now=iso(clock()), error=reason,
                                       retry_at=retry_at)
                alertq.release(conn, [r.alert_id for r in rows if r.alert_id not in done])
            out.sent += len(sent)
            if stop:
                break
    finally:
        if channel is not None:
            channel.close()
    return out


def _batch(receiver: Receiver) -> int:
    return receiver.digest_max if receiver.kind == "email" else 1
