"""The tables of the alert queue (Alembic revision ``alerts0001``, branch ``alerts``).

``alert_events`` is the outbox: every estate event once, under a unique key, written in the
same transaction as the change that raised it; ``routed_at`` is set once it was turned into
alerts for the receivers configured then (an event raised while the configuration was broken
waits). ``alert_queue`` holds one row per (receiver, message): pending, sent or dead (the
dead-letter log, replayable). ``alert_attachments`` holds the files of a message.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, LargeBinary, MetaData, String, Table, Text

metadata = MetaData()

T = String(40)  # ISO 8601 UTC timestamps, as in kitvet.store.tables
NAME = String(300)

alert_events = Table(
    "alert_events", metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("event_key", String(400), nullable=False, unique=True),
    Column("kind", String(40), nullable=False),
    Column("at", T, nullable=False),
    Column("institution", NAME),
    Column("status", String(20)),
    Column("subject_id", NAME),
    Column("finding_id", String(64)),
    Column("title", Text, nullable=False),
    Column("payload", Text, nullable=False),  # JSON: text, link, data
    Column("routed_at", T),
)
Index("ix_alert_events_unrouted", alert_events.c.routed_at)

alert_queue = Table(
    "alert_queue", metadata,
    Column("alert_id", Integer, primary_key=True, autoincrement=True),
    Column("receiver", NAME, nullable=False),
    Column("event_id", Integer),  # None for a message queued directly
    Column("kind", String(40), nullable=False),
    Column("title", Text, nullable=False),
    Column("institution", NAME),
    Column("status", String(20)),
    Column("message", Text, nullable=False),  # JSON: text, link, data, event_key
    Column("created_at", T, nullable=False),
    Column("created_by", NAME, nullable=False),
    Column("state", String(10), nullable=False),  # pending | sent | dead
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", T),
    Column("claimed_until", T),  # a sender holds the alert until then
    Column("last_error", Text),
    Column("sent_at", T),
    Column("dead_at", T),
)
Index("ix_alert_queue_receiver_state", alert_queue.c.receiver, alert_queue.c.state,
      alert_queue.c.alert_id)

alert_attachments = Table(
    "alert_attachments", metadata,
    Column("attachment_id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, nullable=False),
    Column("filename", String(255), nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("content", LargeBinary, nullable=False),
)
Index("ix_alert_attachments_alert", alert_attachments.c.alert_id)
