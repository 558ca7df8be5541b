"""The ban dossier's model: the signed record of one decision on one subject.

The estate (:mod:`kitvet.estate.dossier`) fills a :class:`Dossier`; this package lays it out
(HTML, PDF) and signs it. Fairness is in the model: every assertion carries its *nature* — an
allegation (a listing, a warning, a resolution naming a maker), a legal measure (a law, an
order, a procurement ban), a confirmed malicious build, a vulnerability — and its side: the
exculpatory ones (no evidence found, cleared) stand beside the accusations, never below them,
and an allegation is never shown as a confirmation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from kitvet.report.estate.model import CampaignSummary

#: Version of the dossier's JSON form (``kitvet_dossier``).
DOSSIER_SCHEMA_VERSION = "1.0.0"

#: What each assertion kind is, in words a reader cannot mistake for another.
NATURE: dict[str, str] = {
    "high-risk-vendor": "allegation",
    "warning": "allegation",
    "named-in-resolution": "allegation",
    "prohibited-by-law": "legal measure",
    "removal-order": "legal measure",
    "procurement-ban": "legal measure",
    "confirmed-malicious-version": "confirmed malicious build",
    "known-exploited-vulnerability": "vulnerability",
    "vulnerable-version": "vulnerability",
    "end-of-life": "end of life",
    "no-evidence-found": "no evidence found",
    "cleared": "cleared",
}

#: Kinds that speak for the subject (shown beside the accusations).
FOR_KINDS = frozenset({"no-evidence-found", "cleared"})


def nature(kind: str) -> str:
    """The nature of an assertion kind; an unknown accusing kind is an allegation (never a
    confirmation)."""
    return NATURE.get(kind, "allegation")


@dataclass(frozen=True)
class DossierAssertion:
    """What one authority said of the subject, and what the policy made of it."""

    side: str  # against | for
    nature: str  # see NATURE
    kind: str
    authority: str
    instrument: str
    date: str | None
    scope: str | None
    reference_url: str | None
    source: str | None
    verified: bool
    jurisdiction: str | None
    outcome: str  # the status the policy gives it, "exculpatory" or "ignored"
    reason: str  # the policy's reasoning for this assertion
    deciding: bool  # one of the assertions that set the status


@dataclass(frozen=True)
class PolicyReading:
    """The policy's reasoning (``kitvet policy explain``)."""

    profile: str
    status: str
    rule: str
    deadlines: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class DecisionEntry:
    """A decision on the subject: who took it, when, why (superseded ones kept)."""

    decision_id: int
    decision: str
    status: str
    rationale: str
    evidence: tuple[str, ...]
    actor: str
    at: str
    superseded_at: str | None


@dataclass(frozen=True)
class Exposure:
    """The subject in one institution: hosts and findings by status and state."""

    institution: str
    hosts: int  # hosts with a live finding of the subject
    findings: int  # live findings
    by_status: dict[str, int]
    by_state: dict[str, int]
    removed: int  # findings removed (shown by a fresh inventory)


@dataclass(frozen=True)
class ExposedHost:
    """One host with the subject (a live finding)."""

    institution: str
    host_id: str
    hostname: str | None
    item: str  # name and version of what matched
    status: str
    state: str
    last_seen: str


@dataclass(frozen=True)
class ExceptionEntry:
    """An exception for the subject."""

    exception_id: int
    scope: str
    reason: str
    approver: str
    expires: str
    created_by: str
    created_at: str
    active: bool
    revoked_at: str | None
    matched: int


@dataclass(frozen=True)
class AuditHead:
    """The audit chain's head when the dossier was made, and whether the chain verified."""

    seq: int
    hash: str | None
    intact: bool
    problem: str | None = None


@dataclass(frozen=True)
class Dossier:
    """Everything the dossier of one decision records."""

    subject_id: str
    subject_name: str
    subject_kind: str
    list_name: str | None
    list_version: str | None
    finding_class: str | None
    assertions: tuple[DossierAssertion, ...]
    policy: PolicyReading | None
    decisions: tuple[DecisionEntry, ...]  # newest first, superseded ones included
    exposure: tuple[Exposure, ...]
    hosts: tuple[ExposedHost, ...]
    hosts_total: int  # hosts listed may be fewer (see hosts_limit)
    campaigns: tuple[CampaignSummary, ...]
    exceptions: tuple[ExceptionEntry, ...]
    audit: AuditHead
    generated_at: str
    generator: str
    issued_by: str  # the actor who had the dossier made

    @property
    def against(self) -> tuple[DossierAssertion, ...]:
        """Accusing assertions."""
        return tuple(a for a in self.assertions if a.side == "against")

    @property
    def for_subject(self) -> tuple[DossierAssertion, ...]:
        """Exculpatory assertions: no evidence found, cleared."""
        return tuple(a for a in self.assertions if a.side == "for")

    @property
    def decision(self) -> DecisionEntry | None:
        """The decision in force, if any."""
        return next((d for d in self.decisions if d.superseded_at is None), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what is signed)."""
        out = asdict(self)
        out["decision_in_force"] = asdict(self.decision) if self.decision else None
        for c, src in zip(out["campaigns"], self.campaigns, strict=True):
            c["affected"], c["remaining"] = src.affected, src.remaining
        return out
