"""Policy profiles: an organisation's rules that turn assertions into a status.

A profile is a YAML or TOML file (format in ``docs/policy.md``)::

    kitvet_profile: "1.0"
    name: eu-institutions
    statuses: {confirmed-malicious-version: ban, warning: monitor, ...}  # kind -> status
    unverified_max: monitor          # most severe status an unverified assertion can give
    trust: {jurisdictions: ["*"], authorities: ["*"]}   # who is listened to at all
    ignore: [{authorities: [us-fcc], reason: "..."}]     # listened to, then set aside
    rules:                           # first match wins; may set or cap the status
      - {name: us-informs, match: {jurisdictions: [US]}, at_most: monitor, reason: "..."}
    deadlines: {ban: {identify: 30, plan: 60, remove: 90}}  # days, per status

Exculpatory assertions (``no-evidence-found``, ``cleared``) never lower a status; they are
always returned beside the accusations in :attr:`Verdict.exculpatory`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kitvet.errors import PolicyError
from kitvet.model.risk import ASSERTION_KINDS, EXCULPATORY_KINDS, STATUSES

logger = logging.getLogger(__name__)

PROFILE_FORMAT_VERSION = "1.0"
_ACCUSING = tuple(k for k in ASSERTION_KINDS if k not in EXCULPATORY_KINDS)
#: Kinds kitvet learnt after profiles existed: a profile that gives them no status gets this
#: one (and ``policy explain`` says so) instead of being refused.
DEFAULT_KIND_STATUS: dict[str, str] = {
    "vulnerable-version": "monitor",
    "end-of-life": "monitor",
}
_MATCH_KEYS = {"kinds", "jurisdictions", "authorities", "verified", "days_since"}
_RULE_KEYS = {"name", "match", "status", "at_most", "deadlines", "reason", "allow_unverified"}
_TOP_KEYS = {
    "kitvet_profile", "name", "description", "statuses", "unverified_max", "default_status",
    "trust", "ignore", "rules", "deadlines",
}


@dataclass(frozen=True)
class Match:
    """Which assertions a rule or ignore entry applies to (empty = any; ``*`` = any)."""

    kinds: tuple[str, ...] = ()
    jurisdictions: tuple[str, ...] = ()
    authorities: tuple[str, ...] = ()
    verified: bool | None = None
    days_since: int | None = None  # at least this many days after the assertion's date

    def applies(self, a: Any, today: str | None = None) -> bool:
        """True if assertion ``a`` matches every given criterion (``today``: ISO date for
        ``days_since``; an undated assertion has been in force for ever)."""
        return (
            among(a.kind, self.kinds)
            and among(a.jurisdiction, self.jurisdictions)
            and among(a.authority_id, self.authorities)
            and (self.verified is None or a.verified == self.verified)
            and (self.days_since is None or _days_since(a.date, today) >= self.days_since)
        )

    def describe(self) -> str:
        """Human summary, e.g. ``jurisdiction US, kind removal-order``."""
        parts = []
        for label, vals in (("kind", self.kinds), ("jurisdiction", self.jurisdictions),
                            ("authority", self.authorities)):
            if vals and "*" not in vals:
                shown = "/".join(vals[:5]) + (f"/... ({len(vals)} in all)" if len(vals) > 5 else "")
                parts.append(f"{label} {shown}")
        if self.verified is not None:
            parts.append("verified" if self.verified else "unverified")
        if self.days_since is not None:
            parts.append(f"{self.days_since}+ days after its date")
        return ", ".join(parts) or "any assertion"


def _days_since(date: str | None, today: str | None) -> float:
    """Days from an assertion's date to ``today`` (infinite for an undated assertion)."""
    import datetime as dt

    if not date:
        return float("inf")
    from kitvet.util import today as current

    now = dt.date.fromisoformat(today or current())
    try:
        return float((now - dt.date.fromisoformat(date[:10])).days)
    except ValueError:
        return float("inf")


def among(value: str | None, allowed: tuple[str, ...]) -> bool:
    """Whether ``value`` is one of ``allowed`` (any case); empty or ``*`` allows anything."""
    if not allowed or "*" in allowed:
        return True
    return value is not None and value.lower() in {x.lower() for x in allowed}


@dataclass(frozen=True)
class Rule:
    """An ordered rule: for matching assertions, set (``status``) and/or cap (``at_most``)."""

    name: str
    match: Match
    status: str | None = None
    at_most: str | None = None
    deadlines: Mapping[str, int] | None = None
    reason: str | None = None
    allow_unverified: bool = False


@dataclass(frozen=True)
class Ignore:
    """Assertions a profile sets aside, with the reason shown to reviewers."""

    match: Match
    reason: str


@dataclass(frozen=True)
class ProfileSpec:
    """A parsed, validated profile file."""

    name: str
    description: str | None
    statuses: Mapping[str, str]
    unverified_max: str
    default_status: str
    trust: Match
    ignore: tuple[Ignore, ...]
    rules: tuple[Rule, ...]
    deadlines: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    defaulted: tuple[str, ...] = ()  # kinds whose status came from DEFAULT_KIND_STATUS
    origin: str | None = None
    origin_path: Path | None = None


def _err(msg: str, file: str, place: str) -> PolicyError:
    return PolicyError(msg, file=file, place=place)


def _status(v: Any, file: str, place: str) -> str:
    if v not in STATUSES:
        raise _err(f"{v!r} is not a status ({', '.join(STATUSES)})", file, place)
    return str(v)


def _strs(v: Any, file: str, place: str) -> tuple[str, ...]:
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise _err("must be a list of strings", file, place)
    return tuple(v)


def _match(d: Any, file: str, place: str) -> Match:
    if d is None:
        return Match()
    if not isinstance(d, dict):
        raise _err("must be a mapping (kinds, jurisdictions, authorities, verified)", file, place)
    unknown = set(d) - _MATCH_KEYS
    if unknown:
        raise _err(f"unknown field {min(unknown)!r}", file, place)
    kinds = _strs(d.get("kinds", []), file, f"{place}.kinds")
    for i, k in enumerate(kinds):
        if k != "*" and k not in ASSERTION_KINDS:
            raise _err(f"{k!r} is not an assertion kind", file, f"{place}.kinds[{i}]")
    verified = d.get("verified")
    if verified is not None and not isinstance(verified, bool):
        raise _err("must be true or false", file, f"{place}.verified")
    days = d.get("days_since")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool) or days < 0):
        raise _err(f"{days!r} is not a number of days", file, f"{place}.days_since")
    return Match(
        days_since=days,
        kinds=kinds,
        jurisdictions=_strs(d.get("jurisdictions", []), file, f"{place}.jurisdictions"),
        authorities=_strs(d.get("authorities", []), file, f"{place}.authorities"),
        verified=verified,
    )


def _deadlines(d: Any, file: str, place: str) -> dict[str, int]:
    if not isinstance(d, dict):
        raise _err("must be a mapping of step -> days", file, place)
    for k, v in d.items():
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise _err(f"{v!r} is not a number of days", file, f"{place}.{k}")
    return {str(k): int(v) for k, v in d.items()}


def _rule(d: Any, i: int, file: str) -> Rule:
    place = f"rules[{i}]"
    if not isinstance(d, dict):
        raise _err("must be a mapping", file, place)
    unknown = set(d) - _RULE_KEYS
    if unknown:
        raise _err(f"unknown field {min(unknown)!r}", file, place)
    if "status" not in d and "at_most" not in d:
        raise _err("a rule needs 'status' or 'at_most'", file, place)
    return Rule(
        name=str(d.get("name") or f"rule {i + 1}"),
        match=_match(d.get("match"), file, f"{place}.match"),
        status=_status(d["status"], file, f"{place}.status") if "status" in d else None,
        at_most=_status(d["at_most"], file, f"{place}.at_most") if "at_most" in d else None,
        deadlines=_deadlines(d["deadlines"], file, f"{place}.deadlines") if "deadlines" in d else None,
        reason=d.get("reason"),
        allow_unverified=bool(d.get("allow_unverified", False)),
    )


def parse_profile(doc: Any, *, file: str) -> ProfileSpec:
    """Validate a parsed profile document; errors name the file and place."""
    if not isinstance(doc, dict):
        raise _err("a profile must be a mapping", file, "(top)")
    unknown = set(doc) - _TOP_KEYS
    if unknown:
        raise _err(f"unknown field {min(unknown)!r} (allowed: {', '.join(sorted(_TOP_KEYS))})",
                   file, min(unknown))
    if not isinstance(doc.get("name"), str) or not doc["name"]:
        raise _err("a profile needs a name", file, "name")
    raw = doc.get("statuses") or {}
    if not isinstance(raw, dict):
        raise _err("must be a mapping of assertion kind -> status", file, "statuses")
    statuses = {}
    for k, v in raw.items():
        if k not in _ACCUSING:
            raise _err(f"{k!r} is not an accusing assertion kind ({', '.join(_ACCUSING)})",
                       file, f"statuses.{k}")
        statuses[k] = _status(v, file, f"statuses.{k}")
    defaulted = {k: v for k, v in DEFAULT_KIND_STATUS.items() if k not in statuses}
    statuses.update(defaulted)
    missing = [k for k in _ACCUSING if k not in statuses]
    if missing:
        raise _err(f"no status for {', '.join(missing)}", file, "statuses")
    ignores = []
    for i, d in enumerate(doc.get("ignore") or []):
        if not isinstance(d, dict) or not d.get("reason"):
            raise _err("an ignore entry needs a reason", file, f"ignore[{i}]")
        m = _match({k: v for k, v in d.items() if k != "reason"}, file, f"ignore[{i}]")
        ignores.append(Ignore(m, str(d["reason"])))
    return ProfileSpec(
        name=doc["name"],
        description=doc.get("description"),
        statuses=statuses,
        defaulted=tuple(sorted(defaulted)),
        unverified_max=_status(doc.get("unverified_max", "monitor"), file, "unverified_max"),
        default_status=_status(doc.get("default_status", "allow"), file, "default_status"),
        trust=_match(doc.get("trust"), file, "trust"),
        ignore=tuple(ignores),
        rules=tuple(_rule(d, i, file) for i, d in enumerate(doc.get("rules") or [])),
        deadlines={
            _status(k, file, f"deadlines.{k}"): _deadlines(v, file, f"deadlines.{k}")
            for k, v in (doc.get("deadlines") or {}).items()
        },
        origin=file,
    )
