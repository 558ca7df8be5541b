"""Webhook: one signed JSON document per alert, POSTed to the receiver's URL.

The body (``kitvet_alert: "1.0"``) carries the event, the finding and its evidence, a link to
the finding on the server and any attachments (base64). Headers:

- ``X-Kitvet-Delivery``: the alert id (the same on a retry: receivers de-duplicate by it, since
  delivery is at least once);
- ``X-Kitvet-Event``: the event kind;
- ``X-Kitvet-Timestamp``: Unix seconds when this attempt was signed;
- ``X-Kitvet-Signature``: ``sha256=`` + hex HMAC-SHA256 over ``TIMESTAMP + "." + body`` with
  the receiver's secret (absent when no secret is configured).

:func:`verify` is the check a receiver runs (the tests' receiver runs it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Sequence
from typing import Any

import httpx

from kitvet import __version__
from kitvet.alerts.channels.interface import Channel, DeliveryError, http_failure
from kitvet.alerts.config import resolve_secret
from kitvet.model.alert import Message

logger = logging.getLogger(__name__)

SCHEMA_VERSION = "1.0"
SIGNATURE_HEADER = "X-Kitvet-Signature"
TIMESTAMP_HEADER = "X-Kitvet-Timestamp"
#: how far a receiver should accept a timestamp from its own clock (seconds)
TOLERANCE_S = 300


def document(message: Message) -> dict[str, Any]:
    """The JSON document of one alert."""
    data = dict(message.data)
    return {
        "kitvet_alert": SCHEMA_VERSION,
        "delivery": message.alert_id,
        "event": {"kind": message.kind, "key": message.event_key,
                  "created_at": message.created_at, "institution": message.institution,
                  "status": message.status},
        "title": message.title,
        "text": message.text,
        "link": message.link,
        "finding": data.pop("finding", None),
        "evidence": data.pop("evidence", None),
        "data": data,
        "attachments": [{"filename": a.filename, "media_type": a.media_type,
                         "size": len(a.content),
                         "content_base64": base64.b64encode(a.content).decode("ascii")}
                        for a in message.attachments],
    }


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body,
                   hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str | None, body: bytes, signature: str | None, *,
           now: float | None = None, tolerance_s: int = TOLERANCE_S) -> bool:
    """A receiver's check: the signature matches and the timestamp is recent."""
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    if abs((now if now is not None else time.time()) - int(timestamp)) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookChannel(Channel):
    """POST one signed JSON document per alert."""

    batch = 1

    def __init__(self, receiver: Any, *, client: httpx.Client | None = None):
        super().__init__(receiver)
        self._client = client or httpx.Client(timeout=receiver.timeout_s,
                                              follow_redirects=False)

    def send(self, messages: Sequence[Message]) -> None:
        """Deliver each message; the first failure raises."""
        secret = resolve_secret(self.receiver.secret, what=f"receiver {self.receiver.name}")
        for m in messages:
            body = json.dumps(document(m), ensure_ascii=False, default=str).encode("utf-8")
            ts = str(int(time.time()))
            headers = {"Content-Type": "application/json", "User-Agent": f"kitvet/{__version__}",
                       "X-Kitvet-Delivery": str(m.alert_id), "X-Kitvet-Event": m.kind,
                       TIMESTAMP_HEADER: ts}
            if secret:
                headers[SIGNATURE_HEADER] = sign(secret, ts, body)
            post(self._client, self.receiver.url or "", body, headers)

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()


def post(client: httpx.Client, url: str, body: bytes, headers: dict[str, str]) -> None:
    """POST ``body``; any answer outside 2xx or a network failure raises DeliveryError."""
    try:
        resp = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as e:
        raise DeliveryError(f"{type(e).__name__}: {e}"[:300]) from e
    if not 200 <= resp.status_code < 300:
        raise http_failure(resp.status_code, resp.text)
