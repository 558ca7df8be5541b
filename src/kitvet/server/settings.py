"""Server settings: one pydantic-settings class, overridable by ``KITVET_SERVER_*`` variables."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class ServerSettings(BaseSettings):
    """Everything ``kitvet serve`` can be told (flags override environment variables)."""

    model_config = SettingsConfigDict(env_prefix="KITVET_SERVER_", extra="ignore")

    #: Estate folder (None: ``$KITVET_ESTATE`` or the XDG default, see kitvet.store.location).
    estate: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    #: Largest request body accepted by the ingest API, compressed (bytes).
    max_body_bytes: int = 64 * MIB
    #: Largest inventory accepted after gzip decompression (bytes): refuses gzip bombs.
    max_inventory_bytes: int = 256 * MIB
    #: Most software, device and file rows one snapshot may hold (413 past it).
    max_snapshot_items: int = 1_000_000
    #: Worker threads storing uploads: the bound on concurrent ingests.
    ingest_workers: int = 2
    #: Most uploads a worker stores as one batch (one lake batch, one transaction).
    ingest_batch_jobs: int = 64
    #: Most uploads waiting in the spool, and being received at once (503 past either).
    max_queued_uploads: int = 5000
    max_concurrent_uploads: int = 64
    #: Session lifetime (seconds); a session ends then, or at logout.
    session_ttl_s: int = 12 * 3600
    #: Login throttle (see kitvet.estate.logins): failures per (account, client address) and
    #: per account (from addresses that have not signed in to it lately) within the window.
    login_max_failures: int = 5
    login_account_max_failures: int = 50
    login_window_s: int = 15 * 60
    #: Password checks (argon2id, ~64 MiB each) running at once; a login waits at most
    #: ``login_queue_timeout_s`` for a turn, then is answered 503 with Retry-After.
    login_max_concurrent: int = 2
    login_queue_timeout_s: float = 10.0
    #: The header a reverse proxy puts the client's address in (``X-Forwarded-For``,
    #: ``X-Real-IP``), honoured only from ``trusted_proxies`` (addresses or networks).
    forwarded_header: str | None = None
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    #: Send cookies with the Secure flag (set when the server is behind HTTPS).
    secure_cookies: bool = False
    #: Strict-Transport-Security max-age in seconds (0: no header). Set it only when every
    #: client reaches the server over HTTPS (uvicorn's own TLS, or a TLS reverse proxy).
    hsts_max_age_s: int = 0
    #: Review the estate in a worker thread after each ingest ("background") or never ("off").
    review_mode: str = "background"
    #: Policy profile and extra risk lists the server's reviews run under.
    profile: str = "default"
    lists: tuple[str, ...] = ()
    allow_unsigned: bool = False
    #: Send queued alerts from a thread of the server ("background") or leave them to
    #: `kitvet alerts send` from cron ("off"); how often the thread looks (seconds).
    alerts_mode: str = "background"
    alerts_interval_s: float = 30.0
    #: Bearer token of ``GET /metrics`` (Prometheus); unset: the endpoint is off (404).
    metrics_token: str | None = None
    #: Largest page of any listing.
    max_page: int = 500
    #: Worker processes (``kitvet serve --workers``); each opens the estate itself.
    workers: int = 1
    #: Serve HTTPS directly (uvicorn's own TLS): certificate chain and private key (PEM).
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None
    #: Single sign-on (OpenID Connect): the YAML file of kitvet.server.sso.config; None: off.
    sso_config: Path | None = None
    #: How long ``/readyz`` waits for the database before answering 503 (seconds).
    readiness_timeout_s: float = 3.0
