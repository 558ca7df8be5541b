"""Single sign-on configuration: the identity provider, the client, and how the provider's
claims become kitvet roles and institutions.

One YAML file (``kitvet serve --sso-config FILE`` or ``KITVET_SERVER_SSO_CONFIG``)::

    issuer: https://login.example.org/realms/parliament   # OpenID Connect discovery from here
    client_id: kitvet
    client_secret_env: KITVET_SSO_CLIENT_SECRET   # or client_secret: ...; none: a public client
    public_url: https://kitvet.example.org        # redirect URI: public_url + /login/sso/callback
    label: Parliament sign-in                     # the login page's button
    scopes: [openid, profile, email]
    username_claim: preferred_username             # the kitvet user name, the first time
    local_login: true                              # keep the user name + password form
    logout_at_provider: true                       # logout also ends the provider's session
    roles:                                         # every rule that matches adds to the result
      - {claim: groups, value: kitvet-admins, role: admin}
      - {claim: groups, value: kitvet-auditors, role: auditor}
      - {claim: groups, value: alpha-reviewers, role: reviewer, institutions: [Alpha Agency]}
      - {claim: groups, value: reviewers, role: reviewer, institutions_claim: institution}

A rule matches when the claim (a string or a list of strings) equals or contains ``value`` (a
string or a list: any of them); without ``value`` it matches when the claim is present and not
empty. The strongest role that matched wins (admin, then reviewer, then auditor); the user's
institutions are those of the matching rules of that role (``institutions`` and the values of
``institutions_claim``). An admin sees every institution; an auditor with no institution too.
No rule matched: the sign-in is refused and the account's open sessions end.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from kitvet.errors import KitvetError

#: Roles from the strongest to the weakest.
ROLE_ORDER = ("admin", "reviewer", "auditor")
_KEYS = {"issuer", "client_id", "client_secret", "client_secret_env", "public_url", "label",
         "scopes", "username_claim", "local_login", "logout_at_provider", "roles", "ca_file",
         "timeout_s"}
_RULE_KEYS = {"claim", "value", "role", "institutions", "institutions_claim"}


class SsoConfigError(KitvetError):
    """The single sign-on configuration is not usable."""


@dataclass(frozen=True)
class RoleRule:
    """One mapping rule: when ``claim`` holds ``values`` (any), grant ``role`` for
    ``institutions`` plus the values of ``institutions_claim``."""

    claim: str
    role: str
    values: tuple[str, ...] = ()
    institutions: tuple[str, ...] = ()
    institutions_claim: str | None = None

    def matches(self, claims: Mapping[str, Any]) -> bool:
        """Whether the claims satisfy this rule."""
        held = _strings(claims.get(self.claim))
        return bool(held) if not self.values else any(v in held for v in self.values)

    def granted(self, claims: Mapping[str, Any]) -> tuple[str, ...]:
        """The institutions this rule grants for these claims."""
        extra = _strings(claims.get(self.institutions_claim)) if self.institutions_claim else ()
        return tuple(dict.fromkeys(self.institutions + extra))


@dataclass(frozen=True)
class Grant:
    """What the claims map to: a role and its institutions."""

    role: str
    institutions: tuple[str, ...]


@dataclass(frozen=True)
class SsoConfig:
    """A parsed single sign-on configuration (see the module's documentation)."""

    issuer: str
    client_id: str
    client_secret: str | None = None
    public_url: str | None = None
    label: str = "single sign-on"
    scopes: tuple[str, ...] = ("openid", "profile", "email")
    username_claim: str = "preferred_username"
    local_login: bool = True
    logout_at_provider: bool = True
    roles: tuple[RoleRule, ...] = field(default_factory=tuple)
    ca_file: str | None = None
    timeout_s: float = 10.0

    def grant(self, claims: Mapping[str, Any]) -> Grant | None:
        """The role and institutions the claims map to, or None when no rule matches."""
        matched = [r for r in self.roles if r.matches(claims)]
        for role in ROLE_ORDER:
            rules = [r for r in matched if r.role == role]
            if rules:
                insts = () if role == "admin" else tuple(dict.fromkeys(
                    i for r in rules for i in r.granted(claims)))
                return Grant(role, insts)
        return None

    def username(self, claims: Mapping[str, Any]) -> str:
        """The user name the claims propose (``username_claim``, else ``email``, else ``sub``)."""
        for name in (self.username_claim, "email", "sub"):
            value = claims.get(name)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return ""

    def redirect_uri(self, base_url: str) -> str:
        """The callback URL registered at the provider (``public_url`` or the request's base)."""
        return (self.public_url or base_url).rstrip("/") + "/login/sso/callback"


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if isinstance(v, str | int) and str(v))
    return ()


def _secure_url(url: str, what: str, place: str) -> str:
    """https, or http on a loopback address only (RFC 8252 §7.3; the tests' provider)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url.rstrip("/")
    loopback = parts.hostname == "localhost"
    with contextlib.suppress(ValueError):
        loopback = loopback or ipaddress.ip_address(parts.hostname or "").is_loopback
    if parts.scheme == "http" and loopback:
        return url.rstrip("/")
    raise SsoConfigError(f"the {what} must be an https:// URL (http only on loopback)",
                         place=place)


def _tuple(value: Any, place: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise SsoConfigError("expected a string or a list of strings", place=place)


def _rule(raw: Any, place: str) -> RoleRule:
    if not isinstance(raw, dict):
        raise SsoConfigError("a role rule is a mapping (claim, value, role, ...)", place=place)
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise SsoConfigError(f"unknown key {sorted(unknown)[0]!r}", place=place)
    role = raw.get("role")
    if role not in ROLE_ORDER:
        raise SsoConfigError(f"role must be one of {', '.join(ROLE_ORDER)}", place=f"{place}.role")
    claim = raw.get("claim")
    if not isinstance(claim, str) or not claim:
        raise SsoConfigError("every rule names a claim", place=f"{place}.claim")
    inst_claim = raw.get("institutions_claim")
    if inst_claim is not None and not isinstance(inst_claim, str):
        raise SsoConfigError("expected a claim name", place=f"{place}.institutions_claim")
    rule = RoleRule(claim, role, _tuple(raw.get("value"), f"{place}.value"),
                    _tuple(raw.get("institutions"), f"{place}.institutions"), inst_claim)
    if role == "reviewer" and not (rule.institutions or rule.institutions_claim):
        raise SsoConfigError("a reviewer rule needs institutions or institutions_claim",
                             place=place)
    return rule


def parse_config(raw: Any, *, file: str = "", environ: Mapping[str, str] | None = None
                 ) -> SsoConfig:
    """Check and parse a configuration mapping (errors name the key)."""
    env = os.environ if environ is None else environ
    if not isinstance(raw, dict):
        raise SsoConfigError("the single sign-on configuration is a YAML mapping", file=file)
    unknown = set(raw) - _KEYS
    if unknown:
        raise SsoConfigError(f"unknown key {sorted(unknown)[0]!r}", file=file)
    for key in ("issuer", "client_id"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise SsoConfigError(f"{key} is required", file=file, place=key)
    secret = raw.get("client_secret")
    if raw.get("client_secret_env"):
        secret = env.get(str(raw["client_secret_env"]))
        if not secret:
            raise SsoConfigError(f"${raw['client_secret_env']} is not set", file=file,
                                 place="client_secret_env")
    scopes = _tuple(raw.get("scopes", ["openid", "profile", "email"]), "scopes")
    if "openid" not in scopes:
        scopes = ("openid", *scopes)
    rules = raw.get("roles") or []
    if not isinstance(rules, list) or not rules:
        raise SsoConfigError("roles: at least one rule maps the provider's claims to a role",
                             file=file, place="roles")
    public = raw.get("public_url")
    return SsoConfig(
        issuer=_secure_url(raw["issuer"], "issuer", "issuer"),
        client_id=raw["client_id"],
        client_secret=str(secret) if secret else None,
        public_url=_secure_url(public, "public_url", "public_url") if public else None,
        label=str(raw.get("label") or "single sign-on")[:80],
        scopes=scopes,
        username_claim=str(raw.get("username_claim") or "preferred_username"),
        local_login=bool(raw.get("local_login", True)),
        logout_at_provider=bool(raw.get("logout_at_provider", True)),
        roles=tuple(_rule(r, f"roles[{i}]") for i, r in enumerate(rules)),
        ca_file=str(raw["ca_file"]) if raw.get("ca_file") else None,
        timeout_s=float(raw.get("timeout_s", 10.0)),
    )


def load_config(path: str | os.PathLike[str]) -> SsoConfig:
    """Read and check a configuration file."""
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise SsoConfigError(f"cannot read the single sign-on configuration: {e}",
                             file=str(p)) from e
    try:
        return parse_config(raw, file=str(p))
    except SsoConfigError as e:
        e.file = e.file or str(p)
        raise
