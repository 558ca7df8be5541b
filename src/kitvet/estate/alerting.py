"""The estate's alerts: ``Estate.alerts`` — receivers, the queue, sending, dead letters.

Reviews and imports raise events in their own transaction (nothing is lost if the process
stops right after); :meth:`EstateAlerts.drain` routes them to the receivers of ``alerts.toml``
and sends. Another part of kitvet (scheduled reports) queues a message with attachments for a
receiver with :meth:`EstateAlerts.enqueue`; it is sent by the same drain, in order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from kitvet.alerts import config as alert_config
from kitvet.alerts import dispatch, events
from kitvet.alerts.config import AlertConfig, Receiver
from kitvet.alerts.dispatch import DrainResult
from kitvet.errors import AlertError
from kitvet.model.alert import AlertRecord, Attachment, Event
from kitvet.store import alertq
from kitvet.store import audit as audit_log
from kitvet.store.db import read, utcnow, write

logger = logging.getLogger(__name__)


class EstateAlerts:
    """Alerts of one estate (``Estate.alerts``)."""

    def __init__(self, engine: Engine, root: Any):
        self.engine = engine
        self.root = root

    # -- configuration -------------------------------------------------------------------------
    @property
    def config_file(self) -> Any:
        """The configuration file in force (``$KITVET_ALERTS`` or ``alerts.toml``)."""
        return alert_config.config_path(self.root)

    def config(self) -> AlertConfig:
        """The configuration, read now (edits take effect without a restart)."""
        return alert_config.load(self.config_file)

    def receivers(self) -> list[Receiver]:
        """The configured receivers."""
        return list(self.config().receivers)

    # -- raising events ------------------------------------------------------------------------
    def record(self, conn: Connection, found: Sequence[Event], *, now: str, actor: str) -> int:
        """Store events in the caller's transaction and route them if the configuration reads;
        returns how many were new. A broken configuration leaves them in the outbox."""
        new = alertq.record_events(conn, found, now=now)
        if new:
            try:
                cfg = self.config()
            except AlertError as e:
                logger.error("alerts: %s (events wait in the outbox)", e)
                return len(new)
            dispatch.route(conn, cfg, now=now, actor=actor)
        return len(new)

    def scan_in(self, conn: Connection, *, now: str, actor: str) -> int:
        """Raise the calendar's events (deadlines, expiries, silent inventory) in ``conn``."""
        try:
            cfg = self.config()
            warn, silent = cfg.warn_days, cfg.silent_after_days
        except AlertError:
            warn, silent = 7, 7
        return self.record(conn, events.scan(conn, now=now, warn_days=warn,
                                             silent_after_days=silent), now=now, actor=actor)

    def scan(self, *, actor: str = "kitvet", now: str | None = None) -> int:
        """Raise the calendar's events now; returns how many were new."""
        now = now or utcnow()
        with write(self.engine) as conn:
            return self.scan_in(conn, now=now, actor=actor)

    # -- queueing and sending ------------------------------------------------------------------
    def enqueue(self, receiver: str, *, title: str, text: str = "",
                attachments: Sequence[Attachment] = (), data: dict[str, Any] | None = None,
                link: str | None = None, institution: str | None = None,
                kind: str = "message", actor: str) -> int:
        """Queue one message for ``receiver`` (which must be configured); returns its alert id.

        This is how a scheduled report reaches its readers: ``attachments`` travel as e-mail
        attachments, base64 in a webhook's JSON, and are named in a chat message."""
        cfg = self.config()
        cfg.receiver(receiver)
        with write(self.engine) as conn:
            return alertq.enqueue(conn, receiver=receiver, kind=kind, title=title, text=text,
                                  institution=institution, link=cfg.link(link), data=data,
                                  attachments=attachments, actor=actor, now=utcnow())

    def drain(self, *, receivers: Sequence[str] | None = None, retry_now: bool = False,
              actor: str = "kitvet", clock: Callable[[], datetime] | None = None
              ) -> DrainResult:
        """Route waiting events and send what is due (``retry_now``: skip back-off waits)."""
        return dispatch.drain(self.engine, self.config(), receivers=receivers,
                              retry_now=retry_now, actor=actor, clock=clock)

    def test(self, receiver: str, *, actor: str) -> tuple[int, DrainResult]:
        """Queue a test alert for ``receiver`` and send its queue now."""
        aid = self.enqueue(receiver, kind="test", title="kitvet test alert",
                           text=f"A test alert from kitvet, asked by {actor} at "
                                f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC.", actor=actor,
                           link="/")
        return aid, self.drain(receivers=[receiver], actor=actor)

    # -- the queue and the dead letters --------------------------------------------------------
    def listing(self, *, receiver: str | None = None, state: str | None = None,
                limit: int = 100, newest_first: bool = True) -> list[AlertRecord]:
        """Queued, sent or dead alerts."""
        with read(self.engine) as conn:
            return alertq.listing(conn, receiver=receiver, state=state, limit=limit,
                                  newest_first=newest_first)

    def dead_letters(self, *, receiver: str | None = None, limit: int = 100
                     ) -> list[AlertRecord]:
        """Alerts that failed for good, with the last error."""
        return self.listing(receiver=receiver, state="dead", limit=limit)

    def replay(self, *, actor: str, alert_ids: Sequence[int] = (),
               receiver: str | None = None) -> list[int]:
        """Put dead alerts back in their queues (audited); returns their ids."""
        if not alert_ids and not receiver:
            raise AlertError("name the alerts to replay, or a receiver (all its dead letters)")
        now = utcnow()
        with write(self.engine) as conn:
            ids = alertq.replay(conn, now=now, alert_ids=alert_ids, receiver=receiver)
            if ids:
                audit_log.append(conn, actor=actor, action="alerts.replay",
                                 obj=f"receiver:{receiver}" if receiver else "alerts",
                                 details={"alert_ids": ids[:1000], "count": len(ids)}, at=now)
        return ids

    def depth(self) -> dict[tuple[str, str], int]:
        """Alerts per (receiver, state); ``("(outbox)", "unrouted")`` counts waiting events."""
        with read(self.engine) as conn:
            out = alertq.depth(conn)
            waiting = alertq.unrouted_count(conn)
        if waiting:
            out[("(outbox)", "unrouted")] = waiting
        return out
