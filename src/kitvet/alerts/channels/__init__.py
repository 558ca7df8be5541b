"""Channels: how an alert reaches a receiver (webhook, e-mail, Slack, Teams)."""

from __future__ import annotations

from kitvet.alerts.channels.interface import Channel, DeliveryError
from kitvet.alerts.config import Receiver


def channel_for(receiver: Receiver) -> Channel:
    """The channel of a receiver's kind."""
    if receiver.kind == "webhook":
        from kitvet.alerts.channels.webhook import WebhookChannel

        return WebhookChannel(receiver)
    if receiver.kind in ("slack", "teams"):
        from kitvet.alerts.channels.chat import ChatChannel

        return ChatChannel(receiver)
    if receiver.kind == "email":
        from kitvet.alerts.channels.email import EmailChannel

        return EmailChannel(receiver)
    raise DeliveryError(f"no channel for kind {receiver.kind!r}", permanent=True)


__all__ = ["Channel", "DeliveryError", "channel_for"]
