"""Chat: Slack and Microsoft Teams incoming webhooks.

Slack (an incoming-webhook URL of a Slack app) takes ``{"text", "blocks"}``: ``text`` is the
notification's fallback, the blocks a header, the alert's text, its context (kind,
institution, status) and a button to the finding. Teams (a *Workflows* "post to a channel when
a webhook request is received" URL, or a legacy connector) takes a ``message`` whose attachment
is an Adaptive Card 1.4 with the same parts. Neither can carry a file: an attachment is named
in the message. The URL is the secret of these channels; no signature is added.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx

from kitvet import __version__
from kitvet.alerts.channels.interface import Channel
from kitvet.alerts.channels.webhook import post
from kitvet.model.alert import Message

SLACK_HEADER_MAX = 150
SLACK_TEXT_MAX = 3000


def _facts(m: Message) -> list[tuple[str, str]]:
    facts = [("Event", m.kind)]
    if m.institution:
        facts.append(("Institution", m.institution))
    if m.status:
        facts.append(("Status", m.status))
    if m.attachments:
        facts.append(("Attached", ", ".join(a.filename for a in m.attachments)
                      + " (sent by e-mail or webhook receivers only)"))
    return facts


def _http_link(m: Message) -> str | None:
    return m.link if m.link and m.link.startswith(("https://", "http://")) else None


def slack_escape(text: str) -> str:
    """Slack's mrkdwn control characters (&, <, >) escaped: alert text cannot form links or
    mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(m: Message) -> dict[str, Any]:
    """The Slack incoming-webhook body of one alert."""
    title = m.title if len(m.title) <= SLACK_HEADER_MAX else m.title[:SLACK_HEADER_MAX - 1] + "…"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title, "emoji": False}}]
    if m.text:
        blocks.append({"type": "section", "text": {
            "type": "mrkdwn", "text": slack_escape(m.text)[:SLACK_TEXT_MAX]}})
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": slack_escape(f"*{k}:* {v}")[:SLACK_TEXT_MAX]}
        for k, v in _facts(m)]})
    link = _http_link(m)
    if link:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Open in kitvet"},
             "url": link, "action_id": f"kitvet-open-{m.alert_id}"}]})
    return {"text": slack_escape(m.title), "blocks": blocks, "unfurl_links": False}


def teams_payload(m: Message) -> dict[str, Any]:
    """The Teams webhook body of one alert: a message with one Adaptive Card."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": m.title, "weight": "Bolder", "size": "Medium",
         "wrap": True}]
    if m.text:
        body.append({"type": "TextBlock", "text": m.text, "wrap": True})
    body.append({"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in _facts(m)]})
    card: dict[str, Any] = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                            "type": "AdaptiveCard", "version": "1.4", "body": body}
    link = _http_link(m)
    if link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open in kitvet", "url": link}]
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
         "content": card}]}


class ChatChannel(Channel):
    """POST one Slack or Teams message per alert."""

    batch = 1

    def __init__(self, receiver: Any, *, client: httpx.Client | None = None):
        super().__init__(receiver)
        self._client = client or httpx.Client(timeout=receiver.timeout_s,
                                              follow_redirects=False)
        self._payload = slack_payload if receiver.kind == "slack" else teams_payload

    def send(self, messages: Sequence[Message]) -> None:
        """Deliver each message; the first failure raises."""
        for m in messages:
            body = json.dumps(self._payload(m), ensure_ascii=False).encode("utf-8")
            post(self._client, self.receiver.url or "", body,
                 {"Content-Type": "application/json", "User-Agent": f"kitvet/{__version__}"})

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()
