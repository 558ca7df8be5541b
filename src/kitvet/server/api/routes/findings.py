"""Findings: list (filters, search, sort, pages), one with evidence and history, state changes."""

from __future__ import annotations

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from kitvet.estate import FindingRecord
from kitvet.server import actions, evidence
from kitvet.server.api.schemas import FindingOut, FindingPage, StateChange
from kitvet.server.deps import Ctx, CurrentUser, FindingClasses, Offset

router = APIRouter(tags=["findings"])


@router.get("/findings", response_model=FindingPage)
def list_findings(ctx: Ctx, user: CurrentUser,
                  status: list[str] = Query(default=[]), state: list[str] = Query(default=[]),
                  institution: str | None = None, subject: str | None = None,
                  host: str | None = None, q: str | None = None,
                  live: bool | None = True, sort: str = "severity", desc: bool = False,
                  limit: int = Query(50, ge=1, le=500), offset: Offset = 0,
                  finding_class: FindingClasses = ()) -> FindingPage:
    """Findings in scope. ``sort``: severity, first_seen, last_seen, institution, host,
    subject, state, name; ``q`` searches names, publishers, hosts and subjects; ``class``:
    confirmed-malicious, incident, high-risk-vendor, vulnerability, end-of-life (or eol,
    vulnerable, malicious, vendor), repeatable."""
    page = ctx.estate.findings(scope=user.scope, status=status, state=state,
                               institution=institution, subject=subject, host=host, q=q,
                               live=live, sort=sort, descending=desc, limit=limit,
                               offset=offset, max_page=ctx.settings.max_page,
                               finding_class=finding_class)
    return FindingPage(total=page.total, limit=page.limit, offset=page.offset,
                       items=list(page.items))


@router.get("/findings/{finding_id}", response_model=FindingOut)
def get_finding(ctx: Ctx, user: CurrentUser, finding_id: str) -> FindingOut:
    """A finding with its evidence, the authorities' assertions (both sides) and history."""
    d = ctx.estate.finding(finding_id, scope=user.scope, prefix=False)
    accusing, exculpatory = evidence.assertions_of(ctx, d)
    return FindingOut(finding=d.finding, evidence=d.evidence, assertions=accusing,
                      exculpatory=exculpatory, events=list(d.events))


@router.post("/findings/{finding_id}/state", response_model=FindingRecord)
async def set_state(ctx: Ctx, user: CurrentUser, finding_id: str, body: StateChange
                    ) -> FindingRecord:
    """Move a finding to a new state, with a reason (reviewer of its institution, or admin)."""
    return await run_in_threadpool(actions.change_state, ctx, user, finding_id, body.state,
                                   body.reason)
