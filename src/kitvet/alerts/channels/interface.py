"""The channel interface: send a batch of messages to one receiver, or raise."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from kitvet.alerts.config import Receiver
from kitvet.errors import AlertError
from kitvet.model.alert import Message


class DeliveryError(AlertError):
    """A delivery failed. ``permanent``: retrying the same message cannot succeed (the receiver
    refused it), so it goes to the dead letters at once."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class Channel(ABC):
    """Sends messages to one receiver."""

    #: how many queued messages one delivery may carry (an e-mail digest carries many)
    batch: int = 1

    def __init__(self, receiver: Receiver):
        self.receiver = receiver

    @abstractmethod
    def send(self, messages: Sequence[Message]) -> None:
        """Deliver ``messages`` (at most :attr:`batch`) or raise :class:`DeliveryError`."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


def http_failure(status: int, body: str) -> DeliveryError:
    """The error for an HTTP answer outside 2xx: 4xx (but 408 and 429) is permanent."""
    permanent = 400 <= status < 500 and status not in (408, 409, 425, 429)
    text = " ".join(body.split())[:200]
    return DeliveryError(f"HTTP {status}{': ' + text if text else ''}", permanent=permanent)
