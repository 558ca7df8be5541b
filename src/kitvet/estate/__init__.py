"""The estate: the one door the CLI and the server use (see ``docs/estate.md``).

Public API::

    from kitvet.estate import init_estate, open_estate, estate_dir
    est = open_estate("/srv/estate")          # or init_estate(path, db_url=..., actor=...)
    est.import_paths(["inv.json"], actor="alice", institution="Parliament")
    est.review(actor="alice", lists=lists, policy=policy, matcher=DuckDBMatcher())
    est.findings(status="ban", institution="Parliament", limit=50)
    est.findings(scope=user.scope, q="kaspersky")   # what one account may see
    est.accounts.authenticate(...); est.tokens.lookup(token)

The records it returns (``FindingRecord``, ``CampaignStatus`` ...) are frozen dataclasses with
``to_dict()``; the vocabulary of finding states and decisions comes with them.
"""

from kitvet.estate.accounts import AccountError, User
from kitvet.estate.estate import REVIEW_STEPS, Estate, init_estate, open_estate
from kitvet.estate.ingest import IngestLimits, IngestQueue, IngestRefused, SweepSummary
from kitvet.estate.logins import LoginLimits, RateLimited
from kitvet.estate.scope import EVERYTHING, NotFound, Scope
from kitvet.estate.tokens import TokenInfo
from kitvet.review.exceptions import parse_scope
from kitvet.review.findings import SORTS
from kitvet.review.states import DECISIONS, MANUAL, STATES
from kitvet.store.audit import AuditCheck, AuditEntry
from kitvet.store.location import estate_dir
from kitvet.store.records import (
    BurndownPoint,
    CampaignRecord,
    CampaignStatus,
    DecisionRecord,
    EstateStatus,
    ExceptionRecord,
    FindingDetail,
    FindingEvent,
    FindingRecord,
    ImportResult,
    InstitutionProgress,
    InstitutionStatus,
    JobRecord,
    Page,
    ReviewResult,
)

__all__ = [
    "DECISIONS", "EVERYTHING", "MANUAL", "REVIEW_STEPS", "SORTS", "STATES", "AccountError",
    "AuditCheck", "AuditEntry", "BurndownPoint", "CampaignRecord", "CampaignStatus",
    "DecisionRecord", "Estate", "EstateStatus", "ExceptionRecord", "FindingDetail",
    "FindingEvent", "FindingRecord", "ImportResult", "IngestLimits", "IngestQueue",
    "IngestRefused", "InstitutionProgress", "InstitutionStatus", "JobRecord", "LoginLimits",
    "NotFound", "Page", "RateLimited", "ReviewResult", "Scope", "SweepSummary", "TokenInfo",
    "User",
    "estate_dir", "init_estate", "open_estate", "parse_scope",
]
