"""A real OpenID Connect provider for the tests: ``oidc-provider-mock`` (Authlib's provider
server in Flask) on a free loopback port in a thread, with a registered confidential client,
and RFC 7636 (PKCE) enforced in front of it.

The mock provider accepts ``code_challenge`` but does not check the verifier, so
:class:`PkceCheck` (WSGI middleware) remembers the challenge of every code it issues and
answers the token request with ``400 invalid_grant`` unless ``BASE64URL(SHA256(code_verifier))``
equals it (S256 only). What it saw is kept for the tests to assert.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx


@dataclass
class PkceCheck:
    """WSGI middleware: refuse token requests whose PKCE verifier does not match."""

    app: Any
    challenges: dict[str, tuple[str, str]] = field(default_factory=dict)
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    refused: int = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == "/oauth2/authorize":
            q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
            if method == "GET":
                self.authorize_requests.append(q)
            return self._authorize(environ, start_response, q)
        if path == "/oauth2/token" and method == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(size)
            environ["wsgi.input"] = io.BytesIO(body)
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            self.token_requests.append(form)
            if form.get("grant_type") == "authorization_code" and not self._pkce_ok(form):
                self.refused += 1
                out = json.dumps({"error": "invalid_grant",
                                  "error_description": "PKCE verification failed"}).encode()
                start_response("400 Bad Request", [("Content-Type", "application/json"),
                                                   ("Content-Length", str(len(out)))])
                return [out]
        return self.app(environ, start_response)

    def _authorize(self, environ: dict[str, Any], start_response: Any, q: dict[str, str]) -> Any:
        def capture(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            location = {k.lower(): v for k, v in headers}.get("location", "")
            code = parse_qs(urlsplit(location).query).get("code", [""])[0]
            if code:
                self.challenges[code] = (q.get("code_challenge", ""),
                                         q.get("code_challenge_method", ""))
            return start_response(status, headers, *exc)

        return self.app(environ, capture)

    def _pkce_ok(self, form: dict[str, str]) -> bool:
        challenge, method = self.challenges.pop(form.get("code", ""), ("", ""))
        verifier = form.get("code_verifier", "")
        if not challenge or method != "S256" or not 43 <= len(verifier) <= 128:
            return False
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == challenge


@dataclass
class Provider:
    """A running provider: its issuer URL, the client registered for kitvet, the PKCE log."""

    issuer: str
    client_id: str
    client_secret: str
    pkce: PkceCheck

    def set_user(self, sub: str, claims: dict[str, Any]) -> None:
        """Give the account ``sub`` these claims (the provider's user API)."""
        r = httpx.put(f"{self.issuer}/users/{sub}", json=claims, timeout=10)
        assert r.status_code == 204, r.text


@contextmanager
def provider(redirect_uris: list[str]) -> Iterator[Provider]:
    """Start the provider on 127.0.0.1 with a client registered for ``redirect_uris``."""
    import oidc_provider_mock
    import werkzeug.serving

    pkce = PkceCheck(oidc_provider_mock.app(require_client_registration=True,
                                            require_nonce=True))
    server = werkzeug.serving.make_server("127.0.0.1", 0, pkce, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="oidc-provider", daemon=True)
    thread.start()
    # named "localhost" while kitvet is 127.0.0.1: another site for the browser, as in real life
    issuer = f"http://localhost:{server.server_port}"
    try:
        r = httpx.post(f"{issuer}/oauth2/clients", json={
            "redirect_uris": redirect_uris, "token_endpoint_auth_method": "client_secret_basic"},
            timeout=10)
        assert r.status_code == 201, r.text
        client = r.json()
        yield Provider(issuer, client["client_id"], client["client_secret"], pkce)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
