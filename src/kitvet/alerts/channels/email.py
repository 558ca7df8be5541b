"""E-mail: a digest of the alerts waiting for a receiver, over SMTP with STARTTLS.

One message carries up to ``digest_max`` alerts (oldest first), as plain text and HTML, with
their attachments (a scheduled report). STARTTLS is required unless the receiver says
``starttls = false``; kitvet never falls back to plain text on a server that does not offer it.
The server's certificate is checked against the system's CAs, or ``cafile``. A 5xx answer to
the sender or the recipients is a refusal (dead letter at once); an authentication failure, a
4xx answer or no connection is retried.
"""

from __future__ import annotations

import html
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from kitvet import __version__
from kitvet.alerts.channels.interface import Channel, DeliveryError
from kitvet.alerts.config import resolve_secret
from kitvet.model.alert import Message


def subject(messages: Sequence[Message]) -> str:
    """The digest's subject line."""
    first = messages[0].title
    if len(messages) == 1:
        return f"[kitvet] {first}"[:200]
    return f"[kitvet] {len(messages)} alerts: {first}"[:200]


def _lines(m: Message) -> list[str]:
    facts = ", ".join(x for x in (m.kind, m.institution, m.status and f"status {m.status}") if x)
    out = [m.title, f"  {facts}"]
    if m.text:
        out.append(f"  {m.text}")
    if m.link:
        out.append(f"  {m.link}")
    if m.attachments:
        out.append(f"  attached: {', '.join(a.filename for a in m.attachments)}")
    return out


def compose(messages: Sequence[Message], *, sender: str, to: Sequence[str]) -> EmailMessage:
    """The digest as an e-mail message."""
    msg = EmailMessage()
    msg["Subject"] = subject(messages)
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg["X-Kitvet-Delivery"] = ",".join(str(m.alert_id) for m in messages)
    msg["Auto-Submitted"] = "auto-generated"
    text = []
    for i, m in enumerate(messages, 1):
        text += [f"{i}. " + _lines(m)[0], *_lines(m)[1:], ""]
    text.append(f"-- \nkitvet {__version__}: alerts {', '.join(str(m.alert_id) for m in messages)}")
    msg.set_content("\n".join(text))
    items = []
    for m in messages:
        link = (f'<br><a href="{html.escape(m.link)}">{html.escape(m.link)}</a>'
                if m.link and m.link.startswith(("https://", "http://")) else "")
        facts = html.escape(", ".join(x for x in (m.kind, m.institution, m.status) if x))
        items.append(f"<li><strong>{html.escape(m.title)}</strong><br><small>{facts}</small>"
                     f"<br>{html.escape(m.text)}{link}</li>")
    msg.add_alternative("<!doctype html><html><body><ol>" + "".join(items)
                        + "</ol></body></html>", subtype="html")
    for m in messages:
        for a in m.attachments:
            maintype, _, subtype = a.media_type.partition("/")
            msg.add_attachment(a.content, maintype=maintype or "application",
                               subtype=subtype or "octet-stream", filename=a.filename)
    return msg


class EmailChannel(Channel):
    """Send a digest of queued alerts by SMTP (STARTTLS)."""

    def __init__(self, receiver: Any):
        super().__init__(receiver)
        self.batch = receiver.digest_max

    def send(self, messages: Sequence[Message]) -> None:
        """Send one digest of ``messages``."""
        r = self.receiver
        password = resolve_secret(r.password, what=f"receiver {r.name}")
        msg = compose(messages, sender=r.sender or "", to=r.to)
        try:
            with smtplib.SMTP(r.smtp_host or "", r.smtp_port, timeout=r.timeout_s) as smtp:
                smtp.ehlo()
                if r.starttls:
                    if not smtp.has_extn("starttls"):
                        raise DeliveryError(f"{r.smtp_host} does not offer STARTTLS "
                                            "(kitvet does not send in clear text)")
                    ctx = ssl.create_default_context(cafile=r.cafile)
                    smtp.starttls(context=ctx)
                    smtp.ehlo()
                if r.username:
                    smtp.login(r.username, password or "")
                smtp.send_message(msg, from_addr=r.sender, to_addrs=list(r.to))
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
            raise DeliveryError(f"SMTP {e.smtp_code}: {_text(e.smtp_error)}",
                                permanent=500 <= e.smtp_code < 600) from e
        except smtplib.SMTPRecipientsRefused as e:
            codes = [c for c, _ in e.recipients.values()]
            raise DeliveryError(f"recipients refused: {', '.join(sorted(e.recipients))}",
                                permanent=all(500 <= c < 600 for c in codes)) from e
        except smtplib.SMTPAuthenticationError as e:
            raise DeliveryError(f"SMTP authentication failed ({e.smtp_code})") from e
        except (smtplib.SMTPException, OSError) as e:  # timeouts and TLS errors are OSErrors
            raise DeliveryError(f"{type(e).__name__}: {e}"[:300]) from e


def _text(value: bytes | str) -> str:
    return (value.decode("utf-8", "replace") if isinstance(value, bytes) else value)[:200]
