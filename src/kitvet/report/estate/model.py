"""The estate report's model: what the estate hands the report formats.

The estate (:mod:`kitvet.estate.reporting`) reads its database and fills an
:class:`EstateReport`; the formats here only lay it out. Counts are always per finding class
(classes are never summed) and per status.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from kitvet.model.finding import FINDING_CLASSES
from kitvet.model.risk import STATUSES

#: Version of the estate report's JSON form (``kitvet_estate_report``).
ESTATE_REPORT_SCHEMA_VERSION = "1.0.0"

#: Classes in report order (findings recorded before classes existed are "unclassified").
CLASS_ORDER: tuple[str, ...] = (*FINDING_CLASSES, "unclassified")


@dataclass(frozen=True)
class InstitutionSummary:
    """Live findings of one institution, per class and status, and how many hosts report."""

    institution: str
    hosts: int
    hosts_reporting: int  # hosts whose latest inventory is fresher than the report's limit
    by_class: dict[str, dict[str, int]]  # class -> status -> live findings
    unresolved_by_class: dict[str, int] = field(default_factory=dict)  # open/in review/confirmed

    def count(self, cls: str, status: str) -> int:
        """Live findings of ``cls`` with ``status``."""
        return self.by_class.get(cls, {}).get(status, 0)


@dataclass(frozen=True)
class TrendPoint:
    """Findings present on one day (first seen on or before it, not yet removed), per class
    and status (their status now)."""

    day: str  # ISO date
    by_class: dict[str, dict[str, int]]


@dataclass(frozen=True)
class CampaignProgress:
    """A campaign's progress in one institution."""

    institution: str
    affected: int
    removed: int
    remaining: int
    overdue: int


@dataclass(frozen=True)
class BurndownStep:
    """Hosts affected and remaining at one review."""

    at: str
    affected: int
    remaining: int
    overdue: int


@dataclass(frozen=True)
class CampaignSummary:
    """A removal programme with its deadlines, progress and burndown."""

    campaign_id: int
    subject_id: str
    subject_name: str
    phase: str  # identify | plan | remove | overdue | closed
    started_at: str
    identify_due: str
    plan_due: str
    remove_due: str
    closed_at: str | None
    institutions: tuple[CampaignProgress, ...]
    burndown: tuple[BurndownStep, ...]

    @property
    def remaining(self) -> int:
        """Hosts that still have the subject."""
        return sum(p.remaining for p in self.institutions)

    @property
    def affected(self) -> int:
        """Hosts that had the subject."""
        return sum(p.affected for p in self.institutions)


@dataclass(frozen=True)
class ExceptionDue:
    """An exception that expires soon, or lapsed within the report's window."""

    exception_id: int
    subject_id: str
    scope: str
    reason: str
    approver: str
    expires: str  # ISO date, last day of validity
    days_left: int  # negative: lapsed that many days ago
    matched: int  # findings it covers now

    @property
    def lapsed(self) -> bool:
        """True once the last day of validity has passed."""
        return self.days_left < 0


@dataclass(frozen=True)
class SilentHost:
    """A host whose latest inventory is older than the report's limit."""

    host_id: str
    hostname: str | None
    institution: str
    last_collected: str
    days_silent: int


@dataclass(frozen=True)
class EstateReport:
    """Everything an estate report shows, for the institutions it covers."""

    title: str
    generated_at: str  # ISO timestamp
    today: str  # ISO date the day counts are taken from
    institutions: tuple[InstitutionSummary, ...]
    trend: tuple[TrendPoint, ...]
    campaigns: tuple[CampaignSummary, ...]
    exceptions: tuple[ExceptionDue, ...]
    silent_hosts: tuple[SilentHost, ...]
    scope: tuple[str, ...] | None = None  # institutions covered (None: the whole estate)
    since: str | None = None  # ISO date the trend starts from
    stale_days: int = 7  # a host is "not reporting" after this many days without inventory
    expiring_days: int = 30  # exceptions expiring within this many days are listed
    last_import: str | None = None
    last_review: str | None = None
    generator: str = ""

    @property
    def hosts(self) -> int:
        """Hosts of the covered institutions."""
        return sum(i.hosts for i in self.institutions)

    @property
    def classes(self) -> tuple[str, ...]:
        """The classes with live findings (or in the trend), in report order."""
        seen = {c for i in self.institutions for c, s in i.by_class.items() if any(s.values())}
        seen |= {c for p in self.trend for c, s in p.by_class.items() if any(s.values())}
        return tuple(c for c in CLASS_ORDER if c in seen)

    def by_class(self, cls: str) -> dict[str, int]:
        """Live findings of ``cls`` per status over the covered institutions."""
        return {s: sum(i.count(cls, s) for i in self.institutions) for s in STATUSES}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the body of the JSON format)."""
        out = asdict(self)
        out["hosts"] = self.hosts
        out["classes"] = list(self.classes)
        out["totals_by_class"] = {c: self.by_class(c) for c in self.classes}
        for c, src in zip(out["campaigns"], self.campaigns, strict=True):
            c["affected"], c["remaining"] = src.affected, src.remaining
        return out
