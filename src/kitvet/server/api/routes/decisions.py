"""Decisions on subjects, and exceptions."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from kitvet.estate import DecisionRecord, ExceptionRecord
from kitvet.server import actions
from kitvet.server.api.schemas import DecisionCreate, ExceptionCreate, Revoke
from kitvet.server.deps import Ctx, CurrentUser, EstateDep, ExceptionId

router = APIRouter(tags=["decisions"])


@router.get("/decisions", response_model=list[DecisionRecord])
def list_decisions(estate: EstateDep, user: CurrentUser, subject: str | None = None,
                   include_superseded: bool = False) -> list[DecisionRecord]:
    """Decisions in force (or all), newest first."""
    return estate.decisions(subject=subject, include_superseded=include_superseded)


@router.post("/decisions", response_model=DecisionRecord, status_code=201)
async def create_decision(ctx: Ctx, user: CurrentUser, body: DecisionCreate) -> DecisionRecord:
    """Decide on a subject: confirmed-malicious, banned or cleared (admin)."""
    return await run_in_threadpool(lambda: actions.decide(
        ctx, user, subject_id=body.subject_id, decision=body.decision,
        rationale=body.rationale, evidence=body.evidence))


@router.get("/exceptions", response_model=list[ExceptionRecord], tags=["exceptions"])
def list_exceptions(estate: EstateDep, user: CurrentUser) -> list[ExceptionRecord]:
    """Exceptions whose scope this account may see."""
    return estate.exceptions(scope=user.scope)


@router.post("/exceptions", response_model=ExceptionRecord, status_code=201,
             tags=["exceptions"])
async def create_exception(ctx: Ctx, user: CurrentUser, body: ExceptionCreate
                           ) -> ExceptionRecord:
    """Add an exception (reviewers: for a host or institution of their scope)."""
    return await run_in_threadpool(lambda: actions.add_exception(
        ctx, user, subject_id=body.subject_id, scope=body.scope, reason=body.reason,
        expires=body.expires))


@router.post("/exceptions/{exception_id}/revoke", response_model=ExceptionRecord,
             tags=["exceptions"])
async def revoke_exception(ctx: Ctx, user: CurrentUser, exception_id: ExceptionId, body: Revoke
                           ) -> ExceptionRecord:
    """Revoke an exception; its findings re-open at once."""
    return await run_in_threadpool(actions.revoke_exception, ctx, user, exception_id,
                                   body.reason)
