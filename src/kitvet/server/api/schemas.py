"""Request and response bodies of the API (pydantic; the records are the estate's dataclasses)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from kitvet.estate import (
    CampaignStatus,
    DecisionRecord,
    ExceptionRecord,
    FindingEvent,
    FindingRecord,
)


class StateChange(BaseModel):
    """Move a finding to a new state."""

    state: str = Field(examples=["in_review"])
    reason: str = Field(min_length=1, max_length=2000)


class DecisionCreate(BaseModel):
    """Decide on a subject (admin)."""

    subject_id: str = Field(max_length=300)
    decision: str = Field(examples=["confirmed-malicious", "banned", "cleared"])
    rationale: str = Field(min_length=1, max_length=2000)
    evidence: list[str] = Field(default_factory=list, max_length=20)


class ExceptionCreate(BaseModel):
    """Waive a subject for a host, an institution or the estate until a date."""

    subject_id: str = Field(max_length=300)
    scope: str = Field(examples=["host:ws-042", "institution:Secretariat", "estate"])
    reason: str = Field(min_length=1, max_length=2000)
    expires: str = Field(examples=["2027-03-31"])


class Revoke(BaseModel):
    """Revoke an exception or close a campaign, with a reason."""

    reason: str = Field(min_length=1, max_length=2000)


class CampaignCreate(BaseModel):
    """Start a removal campaign for a banned subject (admin)."""

    subject_id: str = Field(max_length=300)
    identify_days: int | None = Field(default=None, ge=0, le=3650)
    plan_days: int | None = Field(default=None, ge=0, le=3650)
    remove_days: int | None = Field(default=None, ge=0, le=3650)


class FindingPage(BaseModel):
    """One page of findings."""

    total: int
    limit: int
    offset: int
    items: list[FindingRecord]


class FindingOut(BaseModel):
    """A finding with its evidence, the assertions behind it and its history."""

    finding: FindingRecord
    evidence: dict[str, Any]
    assertions: list[dict[str, Any]]
    exculpatory: list[dict[str, Any]]
    events: list[FindingEvent]


class IngestResult(BaseModel):
    """What an ingest did."""

    format: str
    institution: str
    batch_id: str | None
    added: list[str]
    duplicates: list[str]
    became_current: list[str]
    historical: list[str]
    rejected: list[dict[str, Any]]
    review: str


class JobOut(BaseModel):
    """An upload in the ingest queue: ``queued``, ``running``, ``done``, ``refused`` (the upload
    is at fault: ``http_status`` and ``reason`` say why) or ``failed`` (the server is). Once
    done, what the upload stored (``format`` ... ``rejected``)."""

    job_id: str
    status: str
    location: str
    institution: str | None = None
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    http_status: int | None = None
    reason: str | None = None
    place: str | None = None
    format: str | None = None
    batch_id: str | None = None
    added: list[str] | None = None
    duplicates: list[str] | None = None
    became_current: list[str] | None = None
    historical: list[str] | None = None
    rejected: list[dict[str, Any]] | None = None
    review: str | None = None


class Problem(BaseModel):
    """An error: what went wrong and where."""

    detail: str
    place: str | None = None


__all__ = ["CampaignCreate", "CampaignStatus", "DecisionCreate", "DecisionRecord",
           "ExceptionCreate", "ExceptionRecord", "FindingOut", "FindingPage", "IngestResult", "JobOut",
           "Problem", "Revoke", "StateChange"]
