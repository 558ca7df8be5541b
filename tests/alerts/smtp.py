"""A real SMTP server on loopback (aiosmtpd) that requires STARTTLS and authentication, with a
certificate the test makes for 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import ssl
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from alerts.receivers import free_port

USER, PASSWORD = "kitvet", "mail-secret"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (also its own CA): (cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class Handler:
    """Keeps every message delivered, and whether the session was under TLS."""

    def __init__(self) -> None:
        self.messages: list[tuple[Message, dict[str, Any]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.original_content or envelope.content)
        self.messages.append((msg, {"tls": session.ssl is not None,
                                    "mail_from": envelope.mail_from,
                                    "rcpt_tos": list(envelope.rcpt_tos),
                                    "login": session.authenticated}))
        return "250 OK"


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                   auth_data: Any) -> AuthResult:
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
          and auth_data.password == PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


class SMTPServer:
    """aiosmtpd on 127.0.0.1 with STARTTLS and AUTH required."""

    def __init__(self, folder: Path, port: int | None = None):
        self.cert, self.key = make_certificate(folder)
        self.port = port or free_port()
        self.handler = Handler()
        self._controller: Controller | None = None

    def start(self) -> SMTPServer:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(str(self.cert), str(self.key))
        self._controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, tls_context=tls,
            require_starttls=True, auth_require_tls=True, authenticator=_authenticator,
            server_hostname="127.0.0.1")
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
