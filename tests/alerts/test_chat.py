"""Slack and Microsoft Teams messages, posted to a real HTTP receiver on loopback."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from store.helpers import EVIL, review, snap

from alerts.receivers import WebhookReceiver
from kitvet.model.alert import Attachment

NOW = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def chat():
    r = WebhookReceiver(secret=None).start()
    yield r
    r.stop()


def configure(estate, url: str) -> None:
    (estate.root / "alerts.toml").write_text(
        f'base_url = "https://kitvet.example.org"\n'
        f'[[receivers]]\nname = "slack"\nkind = "slack"\nurl = "{url}?to=slack"\n'
        f'[[receivers]]\nname = "teams"\nkind = "teams"\nurl = "{url}?to=teams"\n',
        encoding="utf-8")


def test_slack_and_teams_formats(estate, chat):
    configure(estate, chat.url)
    estate.import_snapshots([snap("p1", "Parliament", NOW,
                                  [("Evil <App> & co", "1", EVIL)])], actor="a")
    review(estate)
    assert estate.alerts.drain().sent == 2
    by_shape = {("blocks" in b): b for b in chat.bodies()}
    slack, teams = by_shape[True], by_shape[False]

    # Slack: fallback text, header ≤ 150 characters, escaped mrkdwn, a button to the finding
    assert slack["text"].startswith("New ban finding: Evil Build")
    kinds = [b["type"] for b in slack["blocks"]]
    assert kinds == ["header", "section", "context", "actions"]
    assert len(slack["blocks"][0]["text"]["text"]) <= 150
    assert "Evil &lt;App&gt; &amp; co" in slack["blocks"][1]["text"]["text"]
    assert "<App>" not in slack["blocks"][1]["text"]["text"]
    button = slack["blocks"][3]["elements"][0]
    assert button["url"].startswith("https://kitvet.example.org/findings/")

    # Teams: a message whose attachment is an Adaptive Card 1.4
    [att] = teams["attachments"]
    assert teams["type"] == "message"
    assert att["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = att["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert card["body"][0]["type"] == "TextBlock" and "Evil Build" in card["body"][0]["text"]
    facts = {f["title"]: f["value"] for f in card["body"][-1]["facts"]}
    assert facts == {"Event": "finding.ban", "Institution": "Parliament", "Status": "ban"}
    assert card["actions"][0]["type"] == "Action.OpenUrl"
    assert card["actions"][0]["url"] == button["url"]


def test_a_long_title_and_an_attachment_named(estate, chat):
    configure(estate, chat.url)
    estate.alerts.enqueue("slack", title="R" * 400, text="see mail",
                          attachments=[Attachment("r.pdf", "application/pdf", b"%PDF")],
                          actor="a")
    estate.alerts.drain()
    [slack] = chat.bodies()
    assert len(slack["blocks"][0]["text"]["text"]) == 150
    assert "r.pdf" in slack["blocks"][2]["elements"][-1]["text"]


def test_a_chat_endpoint_that_refuses_the_message_is_dead_lettered(estate, chat):
    configure(estate, chat.url)
    chat.status = 400  # Slack answers 400 invalid_payload
    estate.alerts.enqueue("teams", title="x", actor="a")
    assert estate.alerts.drain().receivers[1].dead == 1
    assert "HTTP 400" in estate.alerts.dead_letters()[0].last_error
