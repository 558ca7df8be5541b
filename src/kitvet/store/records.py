"""Small result records of the estate API (frozen dataclasses with ``to_dict``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Generic, TypeVar

from kitvet.model import Skipped

R = TypeVar("R")


class _Dict:
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True)
class ImportResult(_Dict):
    """What one import did. ``batch_id`` is None when nothing new was stored."""

    batch_id: str | None
    added: tuple[str, ...] = ()  # snapshot ids stored
    became_current: tuple[str, ...] = ()  # host ids whose current snapshot changed
    historical: tuple[str, ...] = ()  # snapshot ids stored as history (older than current)
    duplicates: tuple[str, ...] = ()  # snapshot ids already in the estate
    institutions_created: tuple[str, ...] = ()
    rejected: tuple[Skipped, ...] = ()  # snapshots refused, with the reason


@dataclass(frozen=True)
class ReviewResult(_Dict):
    """What one review did."""

    review_id: int
    findings: int  # live findings after the review
    new: int
    seen: int
    removed: int
    reappeared: int
    reopened: int  # findings re-opened because their exception expired or was revoked
    by_status: dict[str, int] = field(default_factory=dict)
    unused_exceptions: tuple[int, ...] = ()  # active exceptions that matched nothing
    by_class: dict[str, dict[str, int]] = field(default_factory=dict)  # class -> status -> n


@dataclass(frozen=True)
class FindingRecord(_Dict):
    """One finding as the review database holds it."""

    finding_id: str
    host_id: str
    hostname: str | None
    institution: str | None
    item_type: str
    name: str | None
    version: str | None
    publisher: str | None
    subject_id: str
    subject_name: str | None
    list_name: str | None
    finding_class: str | None  # kitvet.model.FINDING_CLASSES (None: recorded before 0003)
    policy_status: str
    status: str
    decision: str | None
    rule: str | None
    state: str
    live: bool
    first_seen: str
    last_seen: str
    resolved_at: str | None  # collected_at of the snapshot that no longer had the item
    removed_at: str | None  # when the review recorded that
    reappeared: int
    reappeared_at: str | None
    exception_id: int | None
    snapshot_id: str | None


@dataclass(frozen=True)
class FindingEvent(_Dict):
    """One step in a finding's history."""

    at: str
    actor: str
    kind: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    review_id: int | None


@dataclass(frozen=True)
class FindingDetail(_Dict):
    """A finding with its evidence (the engine's row), its history and its assertions."""

    finding: FindingRecord
    evidence: dict[str, Any]
    events: tuple[FindingEvent, ...]
    #: what the lists and policy said of the subject at its latest review: name, list_name,
    #: list_version, profile, status, rule, assertions (each with the policy's "outcome"),
    #: exculpatory; None if no review stored it
    subject: dict[str, Any] | None = None


@dataclass(frozen=True)
class Page(Generic[R]):
    """One page of a listing."""

    items: tuple[R, ...]
    total: int
    limit: int
    offset: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"total": self.total, "limit": self.limit, "offset": self.offset,
                "items": [i.to_dict() for i in self.items]}  # type: ignore[attr-defined]


@dataclass(frozen=True)
class DecisionRecord(_Dict):
    """The organisation's ruling on a subject."""

    decision_id: int
    subject_id: str
    decision: str
    status: str
    rationale: str
    evidence: tuple[str, ...]
    actor: str
    at: str
    superseded_at: str | None
    findings_affected: int = 0


@dataclass(frozen=True)
class ExceptionRecord(_Dict):
    """A waiver for a subject on a host, an institution or the whole estate."""

    exception_id: int
    subject_id: str
    scope: str  # host:H | institution:I | estate
    reason: str
    approver: str
    expires: str
    created_at: str
    created_by: str
    revoked_at: str | None
    active: bool
    matched: int  # findings it covers now


@dataclass(frozen=True)
class InstitutionProgress(_Dict):
    """A campaign's progress in one institution."""

    institution: str
    affected: int
    removed: int
    remaining: int
    overdue: int
    excepted: int = 0  # hosts whose findings are all removed or accepted under an exception


@dataclass(frozen=True)
class BurndownPoint(_Dict):
    """Hosts remaining at one review (summed over institutions)."""

    at: str
    review_id: int | None
    affected: int
    remaining: int
    overdue: int


@dataclass(frozen=True)
class CampaignRecord(_Dict):
    """A removal programme for a banned subject."""

    campaign_id: int
    subject_id: str
    subject_name: str | None
    started_at: str
    started_by: str
    identify_due: str
    plan_due: str
    remove_due: str
    closed_at: str | None
    closed_by: str | None
    close_reason: str | None


@dataclass(frozen=True)
class CampaignStatus(_Dict):
    """A campaign with its progress per institution and its burndown."""

    campaign: CampaignRecord
    phase: str  # identify | plan | remove | overdue | closed
    institutions: tuple[InstitutionProgress, ...]
    burndown: tuple[BurndownPoint, ...]

    @property
    def remaining(self) -> int:
        """Hosts that still have the subject."""
        return sum(i.remaining for i in self.institutions)


@dataclass(frozen=True)
class InstitutionStatus(_Dict):
    """Counts for one institution."""

    institution: str
    hosts: int
    findings_by_status: dict[str, int]
    findings_by_state: dict[str, int]
    findings_by_class: dict[str, dict[str, int]] = field(default_factory=dict)  # class->status
    unresolved_by_class: dict[str, int] = field(default_factory=dict)  # open/in review/confirmed


@dataclass(frozen=True)
class EstateStatus(_Dict):
    """The estate at a glance."""

    path: str
    database: str
    institutions: tuple[InstitutionStatus, ...]
    hosts: int
    snapshots: int
    last_import: str | None
    last_review: str | None
    review_is_stale: bool  # an import happened after the last review
    open_campaigns: tuple[CampaignStatus, ...]
    audit_entries: int
    #: The ingest queue (uploads per job status) and what the last start-up sweep removed of
    #: crashed ingests (spool files, lake batch files); None in a scoped status.
    ingest: dict[str, Any] | None = None


@dataclass(frozen=True)
class JobRecord(_Dict):
    """One upload in the ingest queue: queued, running, done, refused (the upload is at
    fault: ``http_status`` 4xx and ``reason``) or failed (the server is: 500)."""

    job_id: str
    status: str
    institution: str | None
    actor: str
    body_bytes: int
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    http_status: int | None = None
    reason: str | None = None
    place: str | None = None
    result: dict[str, Any] | None = None
    attempts: int = 0
    token_id: int | None = None
