"""Webhook alerts to a real HTTP receiver on loopback that checks the HMAC signature: at least
once, in order per receiver, nothing lost while the receiver is down, dead letters replayed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from store.helpers import EVIL, review, snap

from alerts.receivers import WebhookReceiver, free_port
from kitvet.model.alert import Attachment

NOW = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def configure(estate, text: str) -> None:
    (estate.root / "alerts.toml").write_text(text, encoding="utf-8")


def webhook(url: str, secret: str = "s3cret", extra: str = "") -> str:
    return (f'base_url = "https://kitvet.example.org"\n\n[[receivers]]\nname = "soc"\n'
            f'kind = "webhook"\nurl = "{url}"\nsecret = "{secret}"\n'
            f'retry = {{attempts = 4, base_s = 30, max_s = 600}}\n{extra}')


@pytest.fixture
def receiver():
    r = WebhookReceiver().start()
    yield r
    r.stop()


def test_new_ban_finding_reaches_the_receiver_signed_with_evidence_and_link(estate, receiver):
    configure(estate, webhook(receiver.url))
    estate.import_snapshots([snap("h1", "Parliament", NOW, [("Evil App", "1", EVIL)])],
                            actor="a")
    review(estate)
    result = estate.alerts.drain()
    assert (result.sent, result.failed) == (1, 0)
    [got] = receiver.received
    body = got["body"]
    assert got["headers"]["X-Kitvet-Event"] == "finding.ban"
    assert got["headers"]["X-Kitvet-Signature"].startswith("sha256=")
    assert body["kitvet_alert"] == "1.0" and body["event"]["institution"] == "Parliament"
    assert body["finding"]["subject_id"] == "evil-build" and body["finding"]["status"] == "ban"
    assert body["finding"]["hostname"] == "h1"
    assert body["evidence"]["assertions"][0]["kind"] == "confirmed-malicious-version"
    assert body["evidence"]["matched"]  # the identifier that matched
    fid = body["finding"]["finding_id"]
    assert body["link"] == f"https://kitvet.example.org/findings/{fid}"
    # sent once: a second drain and a second review send nothing new
    review(estate)
    assert estate.alerts.drain().sent == 0 and len(receiver.received) == 1


def test_a_wrong_secret_is_refused_by_the_receiver_and_dead_lettered(estate, receiver):
    configure(estate, webhook(receiver.url, secret="not-the-secret"))
    aid = estate.alerts.enqueue("soc", title="hello", actor="a")
    result = estate.alerts.drain()
    assert result.receivers[0].dead == 1 and receiver.received == []
    assert receiver.refused and receiver.refused[0].startswith("sha256=")
    [dead] = estate.alerts.dead_letters()
    assert dead.alert_id == aid and "HTTP 401" in (dead.last_error or "")
    # fixed configuration, replayed: delivered
    configure(estate, webhook(receiver.url))
    assert estate.alerts.replay(actor="ops", alert_ids=[aid]) == [aid]
    assert estate.alerts.drain().sent == 1
    assert receiver.bodies()[0]["title"] == "hello"
    assert estate.audit(action="alerts.replay")[0].details["alert_ids"] == [aid]


def test_a_receiver_down_then_up_loses_nothing_and_keeps_the_order(estate):
    port = free_port()
    configure(estate, webhook(f"http://127.0.0.1:{port}/hook"))
    ids = [estate.alerts.enqueue("soc", title=f"alert {i}", actor="a") for i in range(5)]
    t0 = datetime.now(UTC)
    first = estate.alerts.drain(clock=lambda: t0)  # nobody listens on the port
    assert (first.sent, first.receivers[0].retrying) == (0, 1)
    assert "ConnectError" in first.receivers[0].errors[0]
    pending = estate.alerts.listing(state="pending", newest_first=False)
    assert [a.alert_id for a in pending] == ids
    assert pending[0].attempts == 1 and pending[1].attempts == 0  # nothing overtook it
    # before the back-off (30 s) nothing is tried again
    assert estate.alerts.drain(clock=lambda: t0 + timedelta(seconds=10)).failed == 0
    # a second failure doubles the wait
    estate.alerts.drain(clock=lambda: t0 + timedelta(seconds=31))
    head = estate.alerts.listing(state="pending", newest_first=False)[0]
    assert head.attempts == 2 and head.next_attempt_at > (t0 + timedelta(seconds=90)).isoformat()
    receiver = WebhookReceiver(port=port).start()
    try:
        done = estate.alerts.drain(clock=lambda: t0 + timedelta(seconds=200))
        assert (done.sent, done.failed) == (5, 0)
        assert [b["title"] for b in receiver.bodies()] == [f"alert {i}" for i in range(5)]
        assert [b["delivery"] for b in receiver.bodies()] == ids
        assert estate.alerts.listing(state="pending") == []
    finally:
        receiver.stop()


def test_after_the_last_attempt_an_alert_is_dead_lettered_and_the_next_one_goes(estate,
                                                                              receiver):
    configure(estate, webhook(receiver.url))
    receiver.status = 503
    a1 = estate.alerts.enqueue("soc", title="first", actor="a")
    t0 = datetime.now(UTC)
    for minutes in range(4):  # attempts = 4
        estate.alerts.drain(clock=lambda m=minutes: t0 + timedelta(minutes=15 * m))
    [dead] = estate.alerts.dead_letters()
    assert dead.alert_id == a1 and dead.attempts == 4 and "HTTP 503" in dead.last_error
    receiver.status = 200
    a2 = estate.alerts.enqueue("soc", title="second", actor="a")
    assert estate.alerts.drain().sent == 1
    assert [b["delivery"] for b in receiver.bodies()] == [a2]
    estate.alerts.replay(actor="ops", receiver="soc")
    assert estate.alerts.drain().sent == 1
    assert [b["delivery"] for b in receiver.bodies()] == [a2, a1]


def test_a_message_with_an_attachment(estate, receiver):
    configure(estate, webhook(receiver.url))
    pdf = b"%PDF-1.7\n" + bytes(range(256))
    estate.alerts.enqueue("soc", title="Estate report", text="Weekly report",
                          attachments=[Attachment("estate.pdf", "application/pdf", pdf)],
                          actor="scheduler")
    [listed] = estate.alerts.listing()
    assert listed.attachments == ("estate.pdf",)
    estate.alerts.drain()
    [att] = receiver.bodies()[0]["attachments"]
    import base64

    assert (att["filename"], att["size"]) == ("estate.pdf", len(pdf))
    assert base64.b64decode(att["content_base64"]) == pdf


def test_retry_now_skips_the_back_off(estate):
    port = free_port()
    configure(estate, webhook(f"http://127.0.0.1:{port}/hook"))
    estate.alerts.enqueue("soc", title="x", actor="a")
    assert estate.alerts.drain().receivers[0].retrying == 1
    receiver = WebhookReceiver(port=port).start()
    try:
        assert estate.alerts.drain().sent == 0  # still waiting for its back-off
        assert estate.alerts.drain(retry_now=True).sent == 1
    finally:
        receiver.stop()


def test_verify_rejects_a_changed_body_and_an_old_timestamp():
    from kitvet.alerts.channels.webhook import sign, verify

    sig = sign("k", "1700000000", b'{"a":1}')
    assert verify("k", "1700000000", b'{"a":1}', sig, now=1700000100)
    assert not verify("k", "1700000000", b'{"a":2}', sig, now=1700000100)
    assert not verify("k", "1700000000", b'{"a":1}', sig, now=1700009999)
    assert not verify("other", "1700000000", b'{"a":1}', sig, now=1700000100)
