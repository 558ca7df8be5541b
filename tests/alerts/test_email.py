"""E-mail digests over SMTP with STARTTLS and AUTH, to a real aiosmtpd server on loopback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from store.helpers import EVIL, review, snap

from alerts.receivers import free_port
from alerts.smtp import PASSWORD, USER, SMTPServer
from kitvet.model.alert import Attachment

NOW = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def configure(estate, port: int, cafile, extra: str = "") -> None:
    (estate.root / "alerts.toml").write_text(
        f'base_url = "https://kitvet.example.org"\n[[receivers]]\nname = "ciso-mail"\n'
        f'kind = "email"\nsmtp = "127.0.0.1:{port}"\nusername = "{USER}"\n'
        f'password = "env:KITVET_TEST_SMTP_PASSWORD"\nfrom = "kitvet@example.org"\n'
        f'to = ["ciso@example.org", "it@example.org"]\ncafile = "{cafile}"\n{extra}',
        encoding="utf-8")


@pytest.fixture
def mail(tmp_path, monkeypatch):
    monkeypatch.setenv("KITVET_TEST_SMTP_PASSWORD", PASSWORD)
    server = SMTPServer(tmp_path).start()
    yield server
    server.stop()


def test_a_digest_of_alerts_with_a_report_attached(estate, mail):
    configure(estate, mail.port, mail.cert)
    estate.import_snapshots([snap("p1", "Parliament", NOW, [("Evil App", "1", EVIL)]),
                             snap("p2", "Parliament", NOW, [("Evil App", "2", EVIL)])],
                            actor="a")
    review(estate)
    pdf = b"%PDF-1.7 report"
    estate.alerts.enqueue("ciso-mail", title="Estate report, week 49", text="Attached.",
                          attachments=[Attachment("estate-w49.pdf", "application/pdf", pdf)],
                          actor="scheduler")
    result = estate.alerts.drain()
    assert (result.sent, result.failed) == (3, 0)
    [(msg, env)] = mail.handler.messages  # one digest for three alerts
    assert env["tls"] and env["login"]  # STARTTLS and AUTH happened
    assert env["mail_from"] == "kitvet@example.org"
    assert env["rcpt_tos"] == ["ciso@example.org", "it@example.org"]
    assert msg["Subject"].startswith("[kitvet] 3 alerts: New ban finding")
    assert msg["X-Kitvet-Delivery"].count(",") == 2
    text = next(p for p in msg.walk() if p.get_content_type() == "text/plain")
    body = text.get_payload(decode=True).decode()
    assert body.count("New ban finding") == 2 and "Estate report, week 49" in body
    assert "https://kitvet.example.org/findings/" in body
    assert any(p.get_content_type() == "text/html" for p in msg.walk())
    [att] = [p for p in msg.walk() if p.get_filename()]
    assert att.get_filename() == "estate-w49.pdf" and att.get_payload(decode=True) == pdf


def test_mail_server_down_then_up_loses_nothing(estate, tmp_path, monkeypatch):
    monkeypatch.setenv("KITVET_TEST_SMTP_PASSWORD", PASSWORD)
    port = free_port()
    server = SMTPServer(tmp_path, port=port)
    configure(estate, port, server.cert)
    for i in range(3):
        estate.alerts.enqueue("ciso-mail", title=f"alert {i}", actor="a")
    t0 = datetime.now(UTC)
    first = estate.alerts.drain(clock=lambda: t0)
    assert first.receivers[0].retrying == 3 and first.sent == 0
    server.start()
    try:
        done = estate.alerts.drain(clock=lambda: t0 + timedelta(minutes=1))
        assert done.sent == 3
        [(msg, _env)] = server.handler.messages
        body = next(p for p in msg.walk() if p.get_content_type() == "text/plain")
        text = body.get_payload(decode=True).decode()
        assert text.index("alert 0") < text.index("alert 1") < text.index("alert 2")
    finally:
        server.stop()


def test_wrong_password_is_retried_and_an_untrusted_certificate_refused(estate, mail,
                                                                        monkeypatch, tmp_path):
    monkeypatch.setenv("KITVET_TEST_SMTP_PASSWORD", "wrong")
    configure(estate, mail.port, mail.cert)
    estate.alerts.enqueue("ciso-mail", title="x", actor="a")
    out = estate.alerts.drain().receivers[0]
    assert out.retrying == 1 and "authentication failed" in out.errors[0]
    # the system's CAs do not know the test certificate: TLS fails, nothing is sent in clear
    other = tmp_path / "other"
    other.mkdir()
    from alerts.smtp import make_certificate

    configure(estate, mail.port, make_certificate(other)[0])
    monkeypatch.setenv("KITVET_TEST_SMTP_PASSWORD", PASSWORD)
    out = estate.alerts.drain(retry_now=True).receivers[0]
    assert out.retrying == 1 and "CERTIFICATE_VERIFY_FAILED" in out.errors[0]
    assert mail.handler.messages == []
