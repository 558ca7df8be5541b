"""Real receivers on loopback: an HTTP webhook receiver that checks kitvet's signature."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from kitvet.alerts.channels.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class WebhookReceiver:
    """Accepts POSTs whose signature verifies with ``secret`` (401 otherwise); records each
    delivery; answers ``status`` (200 unless a test says otherwise). Chat receivers (no
    secret) accept any body."""

    def __init__(self, secret: str | None = "s3cret", port: int | None = None):
        self.secret = secret
        self.port = port or free_port()
        self.status = 200
        self.received: list[dict[str, Any]] = []
        self.refused: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> WebhookReceiver:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if outer.secret is not None and not verify(
                        outer.secret, self.headers.get(TIMESTAMP_HEADER), body,
                        self.headers.get(SIGNATURE_HEADER)):
                    outer.refused.append(self.headers.get(SIGNATURE_HEADER) or "(none)")
                    self.send_response(401)
                    self.end_headers()
                    self.wfile.write(b"bad signature")
                    return
                if outer.status == 200:
                    outer.received.append({"headers": dict(self.headers),
                                           "body": json.loads(body)})
                self.send_response(outer.status)
                self.end_headers()
                self.wfile.write(b"ok" if outer.status == 200 else b"nope")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def bodies(self) -> list[dict[str, Any]]:
        return [r["body"] for r in self.received]
