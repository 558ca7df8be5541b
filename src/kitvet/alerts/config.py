"""Alert configuration: receivers, their channel, their routing, their retries.

Read from ``alerts.toml`` in the estate folder (or the file ``$KITVET_ALERTS`` names)::

    base_url = "https://kitvet.example.org"   # links in alerts point here
    warn_days = 7                             # deadlines and expiries announced this early
    silent_after_days = 7                     # a host without inventory this long is silent

    [[receivers]]
    name = "soc"
    kind = "webhook"                          # webhook | email | slack | teams
    url = "https://soc.example.org/hooks/kitvet"
    secret = "env:KITVET_SOC_SECRET"          # HMAC-SHA256 key (env:NAME, file:PATH or text)
    events = ["finding.ban", "finding.reappeared"]   # default: every event
    institutions = ["Parliament"]             # default: every institution
    statuses = ["ban"]                        # default: every status

A secret is resolved when an alert is sent, so a missing variable stops that receiver only.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kitvet.errors import AlertError
from kitvet.model.alert import EVENT_KINDS

logger = logging.getLogger(__name__)

CONFIG_NAME = "alerts.toml"
KINDS = ("webhook", "email", "slack", "teams")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class Retry:
    """Retries with exponential back-off: ``base_s`` × 2^(attempt-1), at most ``max_s``;
    after ``attempts`` failures the alert is dead-lettered."""

    attempts: int = 10
    base_s: float = 30.0
    max_s: float = 3600.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return min(self.base_s * (2 ** max(attempt - 1, 0)), self.max_s)


@dataclass(frozen=True)
class Receiver:
    """One receiver: where alerts go, which ones, how they are retried."""

    name: str
    kind: str
    url: str | None = None
    secret: str | None = None  # raw: env:NAME, file:PATH or the text
    events: tuple[str, ...] | None = None
    institutions: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    retry: Retry = field(default_factory=Retry)
    timeout_s: float = 10.0
    # e-mail
    smtp_host: str | None = None
    smtp_port: int = 587
    starttls: bool = True
    username: str | None = None
    password: str | None = None  # raw, like secret
    sender: str | None = None
    to: tuple[str, ...] = ()
    digest_max: int = 50
    cafile: str | None = None  # trust this CA for STARTTLS (else the system's)

    def wants(self, kind: str, institution: str | None, status: str | None) -> bool:
        """Does this receiver take an event of this kind, institution and status?"""
        if kind == "test":
            return True
        if self.events is not None and kind not in self.events:
            return False
        if self.institutions is not None and institution is not None \
                and institution not in self.institutions:
            return False
        return not (self.statuses is not None and status is not None
                    and status not in self.statuses)

    def describe(self) -> dict[str, Any]:
        """What `kitvet alerts receivers` shows (never a secret)."""
        where = self.url or (f"smtp://{self.smtp_host}:{self.smtp_port} → {', '.join(self.to)}"
                             if self.smtp_host else None)
        return {"name": self.name, "kind": self.kind, "to": _redact(where),
                "events": list(self.events) if self.events is not None else "all",
                "institutions": (list(self.institutions) if self.institutions is not None
                                 else "all"),
                "statuses": list(self.statuses) if self.statuses is not None else "all",
                "signed": bool(self.secret)}


@dataclass(frozen=True)
class AlertConfig:
    """The whole configuration (no receivers: alerts are recorded, nothing is sent)."""

    receivers: tuple[Receiver, ...] = ()
    base_url: str | None = None
    warn_days: int = 7
    silent_after_days: int = 7
    source: str | None = None  # the file read

    def receiver(self, name: str) -> Receiver:
        """The receiver called ``name``."""
        for r in self.receivers:
            if r.name == name:
                return r
        known = ", ".join(r.name for r in self.receivers) or "none configured"
        raise AlertError(f"no receiver {name!r} ({known})")

    def link(self, path: str | None) -> str | None:
        """An absolute link for a server path, when a base URL is configured."""
        if not path:
            return None
        return f"{self.base_url.rstrip('/')}{path}" if self.base_url else path


def resolve_secret(raw: str | None, *, what: str) -> str | None:
    """``env:NAME`` → the variable, ``file:PATH`` → the file's first line, else the text."""
    if raw is None:
        return None
    if raw.startswith("env:"):
        value = os.environ.get(raw[4:])
        if not value:
            raise AlertError(f"{what}: the environment variable {raw[4:]} is not set")
        return value
    if raw.startswith("file:"):
        try:
            return Path(raw[5:]).expanduser().read_text(encoding="utf-8").strip()
        except OSError as e:
            raise AlertError(f"{what}: cannot read {raw[5:]}: {e.strerror}") from e
    return raw


def config_path(root: Path) -> Path:
    """``$KITVET_ALERTS`` or the estate's ``alerts.toml``."""
    env = os.environ.get("KITVET_ALERTS")
    return Path(env).expanduser() if env else root / CONFIG_NAME


def load(path: Path) -> AlertConfig:
    """Read a configuration file; a missing file is an empty configuration."""
    import tomllib

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return AlertConfig()
    except OSError as e:
        raise AlertError(f"cannot read: {e.strerror}", file=str(path)) from e
    try:
        data = tomllib.loads(text)
    except ValueError as e:
        raise AlertError(f"invalid TOML: {e}", file=str(path)) from e
    try:
        return parse(data, source=str(path))
    except AlertError as e:
        raise AlertError(e.message, file=str(path), place=e.place) from e


def parse(data: Mapping[str, Any], *, source: str | None = None) -> AlertConfig:
    """A configuration from its TOML form (see the module docstring)."""
    unknown = set(data) - {"base_url", "warn_days", "silent_after_days", "receivers"}
    if unknown:
        raise AlertError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    receivers = []
    for i, raw in enumerate(data.get("receivers") or []):
        receivers.append(_receiver(raw, place=f"receivers[{i}]"))
    names = [r.name for r in receivers]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise AlertError(f"receiver names must be unique: {', '.join(sorted(dup))}")
    base = data.get("base_url")
    if base is not None and not re.match(r"^https?://", str(base)):
        raise AlertError("base_url must start with http:// or https://", place="base_url")
    return AlertConfig(tuple(receivers), base, _int(data, "warn_days", 7),
                       _int(data, "silent_after_days", 7), source)


_FIELDS = {"name", "kind", "url", "secret", "events", "institutions", "statuses", "retry",
           "timeout_s", "smtp", "starttls", "username", "password", "from", "to", "digest_max",
           "cafile"}


def _receiver(raw: Any, *, place: str) -> Receiver:
    if not isinstance(raw, Mapping):
        raise AlertError("a receiver is a table", place=place)
    unknown = set(raw) - _FIELDS
    if unknown:
        raise AlertError(f"unknown field(s): {', '.join(sorted(unknown))}", place=place)
    name, kind = str(raw.get("name", "")), str(raw.get("kind", ""))
    if not NAME_RE.match(name):
        raise AlertError("name: letters, digits and ._- (100 at most)", place=place)
    place = f"receiver {name}"
    if kind not in KINDS:
        raise AlertError(f"kind must be one of {', '.join(KINDS)}", place=place)
    events = _names(raw, "events", place)
    if events is not None and (bad := set(events) - set(EVENT_KINDS)):
        raise AlertError(f"unknown event kind(s) {', '.join(sorted(bad))} "
                         f"(known: {', '.join(EVENT_KINDS)})", place=place)
    retry_raw = raw.get("retry") or {}
    if not isinstance(retry_raw, Mapping) or set(retry_raw) - {"attempts", "base_s", "max_s"}:
        raise AlertError("retry = {attempts = N, base_s = S, max_s = S}", place=place)
    retry = Retry(int(retry_raw.get("attempts", 10)), float(retry_raw.get("base_s", 30.0)),
                  float(retry_raw.get("max_s", 3600.0)))
    if retry.attempts < 1 or retry.base_s < 0 or retry.max_s < retry.base_s:
        raise AlertError("retry: attempts ≥ 1 and 0 ≤ base_s ≤ max_s", place=place)
    common = dict(name=name, kind=kind, events=events, institutions=_names(raw, "institutions",
                  place), statuses=_names(raw, "statuses", place), retry=retry,
                  timeout_s=float(raw.get("timeout_s", 10.0)))
    if kind == "email":
        smtp = str(raw.get("smtp") or "")
        host, _, port = smtp.rpartition(":") if ":" in smtp else (smtp, "", "587")
        if not host or not port.isdigit():
            raise AlertError('smtp = "HOST:PORT" is required for e-mail', place=place)
        to = _names(raw, "to", place) or ()
        if not to or not raw.get("from"):
            raise AlertError("e-mail needs from and to", place=place)
        return Receiver(**common, smtp_host=host, smtp_port=int(port),  # type: ignore[arg-type]
                        starttls=bool(raw.get("starttls", True)), username=raw.get("username"),
                        password=raw.get("password"), sender=str(raw["from"]), to=to,
                        digest_max=max(1, int(raw.get("digest_max", 50))),
                        cafile=raw.get("cafile"))
    url = str(raw.get("url") or "")
    if not re.match(r"^https?://", url):
        raise AlertError("url must start with http:// or https://", place=place)
    return Receiver(**common, url=url, secret=raw.get("secret"))  # type: ignore[arg-type]


def _names(raw: Mapping[str, Any], key: str, place: str) -> tuple[str, ...] | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AlertError(f"{key} is a list of strings", place=place)
    return tuple(value)


def _int(data: Mapping[str, Any], key: str, default: int) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or value < 0:
        raise AlertError(f"{key} is a whole number of days", place=key)
    return value


def _redact(url: str | None) -> str | None:
    """A URL without its query string or credentials (Slack/Teams URLs carry the secret in
    their path: only the host is shown)."""
    if not url:
        return url
    m = re.match(r"^(https?://)(?:[^@/]*@)?([^/?#]+)(/[^?#]*)?", url)
    if not m:
        return url
    path = m.group(3) or ""
    return f"{m.group(1)}{m.group(2)}{path if len(path) <= 24 else path[:12] + '…'}"
