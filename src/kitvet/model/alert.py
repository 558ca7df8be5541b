"""Alerts: messages about estate events to receivers (webhook, e-mail, chat).

An **event** is something the estate knows happened (a new ``ban`` finding, a campaign deadline
missed ...), recorded once under a key; an **alert** is one message of it queued for one
receiver and sent at least once, in order per receiver. A message may also be queued directly
(a scheduled report) with attachments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Event kinds, as receivers filter them (``events = [...]`` in ``alerts.toml``).
EVENT_KINDS: tuple[str, ...] = (
    "finding.ban",                  # a new finding with status ban
    "finding.reappeared",           # a removed finding is back in a newer snapshot
    "finding.status-changed",       # a risk-list or policy update changed findings' statuses
    "campaign.deadline-soon",       # a campaign deadline is N days away (default 7)
    "campaign.deadline-missed",     # a deadline passed with hosts remaining
    "exception.expiring",           # an exception ends within N days
    "exception.lapsed",             # an exception ended (not revoked)
    "inventory.host-silent",        # a host sent no inventory for N days
    "inventory.institution-silent",  # no host of an institution did
    "message",                      # a message queued directly (a scheduled report)
    "test",                         # `kitvet alerts test`
)

#: Alert states in the queue.
ALERT_STATES: tuple[str, ...] = ("pending", "sent", "dead")


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message (a report): name, media type, bytes."""

    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class Event:
    """Something the estate knows happened; ``key`` makes it happen once."""

    kind: str
    key: str
    title: str
    text: str = ""
    institution: str | None = None
    status: str | None = None
    subject_id: str | None = None
    finding_id: str | None = None
    link: str | None = None  # path below the server's base URL, e.g. /findings/ID
    data: dict[str, Any] = field(default_factory=dict)  # finding, evidence, campaign ...


@dataclass(frozen=True)
class Message:
    """One queued alert as a channel sends it."""

    alert_id: int
    receiver: str
    kind: str
    title: str
    text: str
    created_at: str
    institution: str | None = None
    status: str | None = None
    link: str | None = None  # absolute URL when the configuration gives a base URL
    data: dict[str, Any] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()
    event_key: str | None = None


@dataclass(frozen=True)
class AlertRecord:
    """An alert in the queue (without its attachments' bytes)."""

    alert_id: int
    receiver: str
    kind: str
    title: str
    state: str
    created_at: str
    attempts: int
    next_attempt_at: str | None
    last_error: str | None
    sent_at: str | None
    dead_at: str | None
    institution: str | None = None
    status: str | None = None
    attachments: tuple[str, ...] = ()  # file names

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        from dataclasses import asdict

        return asdict(self)
