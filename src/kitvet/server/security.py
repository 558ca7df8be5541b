"""HTTP hardening: security headers on every response, CSRF checks, client address."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import secrets
from typing import TYPE_CHECKING

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response

if TYPE_CHECKING:
    from kitvet.server.settings import ServerSettings

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), usb=()",
}
SESSION_COOKIE = "kitvet_session"
LOGIN_CSRF_COOKIE = "kitvet_login_csrf"


class SecurityHeaders(BaseHTTPMiddleware):
    """Adds :data:`HEADERS` to every response (and ``Strict-Transport-Security`` when
    ``hsts_max_age_s`` is set); pages and API answers are never cached."""

    def __init__(self, app, hsts_max_age_s: int = 0):  # type: ignore[no-untyped-def]
        super().__init__(app)
        self.headers = dict(HEADERS)
        if hsts_max_age_s > 0:
            self.headers["Strict-Transport-Security"] = (
                f"max-age={int(hsts_max_age_s)}; includeSubDomains")

    async def dispatch(self, request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        for k, v in self.headers.items():
            response.headers.setdefault(k, v)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def same_token(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two CSRF tokens (False if either is missing)."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def new_token() -> str:
    """A fresh random token."""
    return secrets.token_urlsafe(32)


def client_address(request: Request, settings: ServerSettings | None = None) -> str:
    """The client's address: the peer's, or — when the peer is a trusted proxy and a
    forwarding header is configured — the last address in that header the trusted proxies
    did not add themselves (``X-Forwarded-For: client, proxy1`` → ``client``)."""
    peer = request.client.host if request.client else "unknown"
    header = settings.forwarded_header if settings else None
    if header and _trusted(peer, settings.trusted_proxies if settings else ()):
        hops = [h.strip() for h in request.headers.get(header, "").split(",") if h.strip()]
        while hops:
            hop = hops.pop()
            if not _trusted(hop, settings.trusted_proxies if settings else ()):
                return hop[:64] if _is_ip(hop) else peer[:64]
    return peer[:64]


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _trusted(address: str, proxies: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for net in proxies:
        try:
            if ip in ipaddress.ip_network(net, strict=False):
                return True
        except ValueError:
            continue
    return False


class LoginGate:
    """Bounds how many password checks run at once (each argon2id check takes ~64 MiB and a
    core): a login waits at most ``timeout_s`` for a turn, else it is refused (503)."""

    def __init__(self, size: int, timeout_s: float):
        self.size = max(1, size)
        self.timeout_s = max(0.0, timeout_s)
        self._sem: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._sem is None or self._loop is not loop:  # one per event loop
            self._sem, self._loop = asyncio.Semaphore(self.size), loop
        return self._sem

    async def acquire(self) -> bool:
        """Wait for a turn; False when none came within the timeout."""
        try:
            await asyncio.wait_for(self._semaphore().acquire(), self.timeout_s)
        except TimeoutError:
            return False
        return True

    def release(self) -> None:
        """End a turn."""
        self._semaphore().release()
