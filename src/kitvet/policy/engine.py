"""Evaluating a subject's assertions under a profile: the :class:`Verdict`."""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from kitvet.errors import PolicyError
from kitvet.model.risk import Assertion, Subject, status_rank
from kitvet.policy.profile import ProfileSpec, Rule, among, parse_profile

logger = logging.getLogger(__name__)

DEFAULT_PROFILE = "default"
_MAX_PROFILE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Outcome:
    """What a profile made of one assertion: the status it maps to, or why it was ignored."""

    assertion: Assertion
    status: str | None  # None when ignored or exculpatory
    reason: str  # e.g. "kind removal-order → review", "jurisdiction US not trusted"
    rule: str | None = None  # name of the profile rule that applied
    deadlines: dict[str, int] | None = None


@dataclass(frozen=True)
class Verdict:
    """The status a profile gives a subject, and everything behind it."""

    status: str  # ban | review | monitor | allow
    rule: str  # human: "default: removal-order (us-dhs, BOD 17-01, 2017-09-13) → review"
    deciding: tuple[Assertion, ...]  # assertion(s) that set the status
    considered: tuple[Assertion, ...]  # every trusted accusing assertion
    ignored: tuple[tuple[Assertion, str], ...]  # (assertion, why this profile ignored it)
    exculpatory: tuple[Assertion, ...]  # no-evidence-found / cleared: always shown beside
    deadlines: dict[str, int] = field(default_factory=dict)  # e.g. {"identify": 30, ...}
    outcomes: tuple[Outcome, ...] = ()  # one per assertion, in list order (for explain)
    profile: str = DEFAULT_PROFILE


def describe_assertion(a: Assertion) -> str:
    """Short human citation: ``removal-order (us-dhs, BOD 17-01, 2017-09-13)``."""
    who = a.authority_id or a.authority
    what = a.citation or (a.instrument if len(a.instrument) <= 60 else a.instrument[:57] + "...")
    when = a.date or "undated"
    return f"{a.kind} ({who}, {what}, {when})"


class Policy:
    """A loaded profile; :meth:`evaluate` turns a subject's assertions into a verdict."""

    def __init__(self, spec: ProfileSpec):
        self.spec = spec
        self.name = spec.name

    def __repr__(self) -> str:
        return f"Policy({self.name!r})"

    def _why_ignored(self, a: Assertion, today: str) -> str | None:
        s = self.spec
        if a.valid_until and a.valid_until < today:
            return f"expired on {a.valid_until}"
        for ig in s.ignore:
            if ig.match.applies(a, today):
                return ig.reason
        if not s.trust.applies(a):
            if not among(a.jurisdiction, s.trust.jurisdictions):
                return f"jurisdiction {a.jurisdiction or 'unknown'} is not trusted by {self.name}"
            return f"authority {a.authority_id or a.authority} is not trusted by {self.name}"
        return None

    def _rule_for(self, a: Assertion, today: str) -> Rule | None:
        return next((r for r in self.spec.rules if r.match.applies(a, today)), None)

    def assess(self, a: Assertion, today: str | None = None) -> Outcome:
        """The outcome of one assertion under this profile (``today``: ISO date, default UTC)."""
        if a.exculpatory:
            return Outcome(a, None, "exculpatory: shown beside, never lowers a status")
        day = today or _today()
        why = self._why_ignored(a, day)
        if why:
            return Outcome(a, None, f"ignored: {why}")
        rule = self._rule_for(a, day)
        status = self.spec.statuses[a.kind]
        reason = f"kind {a.kind} → {status}"
        if a.kind in self.spec.defaulted:
            reason += " (kitvet's default: the profile gives this kind no status)"
        if rule and rule.status:
            status = rule.status
            reason = f"rule '{rule.name}' ({rule.match.describe()}) → {status}"
        if rule and rule.at_most and status_rank(status) > status_rank(rule.at_most):
            status = rule.at_most
            reason += f", capped at {status} by rule '{rule.name}'"
        if rule and rule.reason:
            reason += f": {rule.reason}"
        cap = self.spec.unverified_max
        if not a.verified and not (rule and rule.allow_unverified) and (
            status_rank(status) > status_rank(cap)
        ):
            status = cap
            reason += f", capped at {cap} because the assertion is unverified"
        deadlines = dict(rule.deadlines) if rule and rule.deadlines is not None else None
        return Outcome(a, status, reason, rule.name if rule else None, deadlines)

    def evaluate(self, subject: Subject, *, today: str | None = None) -> Verdict:
        """The verdict of this profile on ``subject`` (no I/O).

        Assertions whose ``valid_until`` is before ``today`` (ISO date; default: today, UTC)
        are ignored as expired.
        """
        day = today or _today()
        outcomes = tuple(self.assess(a, day) for a in subject.assertions)
        counted = [o for o in outcomes if o.status is not None]
        ignored = tuple((o.assertion, o.reason.removeprefix("ignored: "))
                        for o in outcomes if o.status is None and not o.assertion.exculpatory)
        exculpatory = tuple(o.assertion for o in outcomes if o.assertion.exculpatory)
        if not counted:
            status = self.spec.default_status
            return Verdict(
                status=status,
                rule=f"{self.name}: no trusted accusing assertion → {status}",
                deciding=(), considered=(), ignored=ignored, exculpatory=exculpatory,
                deadlines=dict(self.spec.deadlines.get(status, {})),
                outcomes=outcomes, profile=self.name,
            )
        top = max(status_rank(o.status or "allow") for o in counted)
        deciding = sorted((o for o in counted if status_rank(o.status or "allow") == top),
                          key=_weight)
        status = deciding[0].status or "allow"
        first = deciding[0]
        more = f" (+{len(deciding) - 1} more)" if len(deciding) > 1 else ""
        rule_txt = f"{self.name}: {describe_assertion(first.assertion)} → {status}{more}"
        if first.rule:
            rule_txt += f" [rule '{first.rule}']"
        deadlines = next((dict(o.deadlines) for o in deciding if o.deadlines is not None),
                         dict(self.spec.deadlines.get(status, {})))
        return Verdict(
            status=status, rule=rule_txt,
            deciding=tuple(o.assertion for o in deciding),
            considered=tuple(o.assertion for o in counted),
            ignored=ignored, exculpatory=exculpatory, deadlines=deadlines,
            outcomes=outcomes, profile=self.name,
        )


def _today() -> str:
    from kitvet.util import today

    return today()


def _weight(o: Outcome) -> tuple[int, int, str]:
    """Order of deciding assertions: verified first, official sources first, then oldest."""
    a = o.assertion
    quality = {"official": 0, "secondary": 1}.get(a.source_quality or "", 2)
    return (0 if a.verified else 1, quality, a.date or "9999")


def _profiles_dir() -> Path:
    return Path(str(resources.files("kitvet.policy").joinpath("profiles")))


def profile_names() -> list[str]:
    """Names of the bundled profiles."""
    d = _profiles_dir()
    return sorted({p.stem for p in d.iterdir() if p.suffix in (".yaml", ".yml", ".toml")})


def _read(path: Path) -> Any:
    try:
        if path.stat().st_size > _MAX_PROFILE_BYTES:
            raise PolicyError("profile file is too large", file=str(path))
        data = path.read_bytes()
    except OSError as e:
        raise PolicyError(f"cannot read profile: {e.strerror or e}", file=str(path)) from e
    if path.suffix == ".toml":
        import tomllib

        try:
            return tomllib.loads(data.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise PolicyError(f"not valid TOML: {e}", file=path.name) from e
    from kitvet.errors import ListError
    from kitvet.lists.format import parse_text

    try:
        return parse_text(data, file=path.name)
    except ListError as e:
        raise PolicyError(e.message, file=path.name, place=e.place) from e


def load_profile(name_or_path: str | os.PathLike[str] | None = None) -> Policy:
    """A bundled profile by name (None -> ``default``) or a user profile by path."""
    name = str(name_or_path) if name_or_path is not None else DEFAULT_PROFILE
    path = Path(name)
    if not (path.suffix in (".yaml", ".yml", ".toml") or os.sep in name):
        for ext in (".yaml", ".yml", ".toml"):
            cand = _profiles_dir() / f"{name}{ext}"
            if cand.is_file():
                path = cand
                break
        else:
            raise PolicyError(
                f"unknown profile {name!r} (bundled: {', '.join(profile_names())}; "
                "or give the path of a .yaml/.toml profile)"
            )
    spec = parse_profile(_read(path), file=path.name)
    return Policy(dataclasses.replace(spec, origin_path=path))
