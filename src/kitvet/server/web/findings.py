"""Pages: the findings list (filters, search, sort, pages) and one finding with its evidence,
history and actions (change state with a reason, add an exception)."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from kitvet.errors import KitvetError
from kitvet.estate import MANUAL, SORTS, STATES, NotFound
from kitvet.model import STATUSES
from kitvet.model.finding import CLASS_LABELS, FINDING_CLASSES
from kitvet.server import actions, evidence
from kitvet.server.deps import Ctx, FindingClasses, Offset, SessionDep
from kitvet.server.web.forms import CheckedForm, field
from kitvet.server.web.render import render

router = APIRouter(include_in_schema=False)
PAGE = 50


@router.get("/findings")
def findings_list(request: Request, ctx: Ctx, session: SessionDep,
                  status: list[str] = Query(default=[]), state: list[str] = Query(default=[]),
                  institution: str | None = None, subject: str | None = None,
                  host: str | None = None, q: str | None = None, resolved: bool = False,
                  sort: str = "severity", desc: bool = False, offset: Offset = 0,
                  finding_class: FindingClasses = ()) -> Response:
    """The findings in scope, filtered and searched."""
    scope = session.user.scope
    classes = list(finding_class)
    page = ctx.estate.findings(scope=scope, status=status, state=state,
                               institution=institution, subject=subject, host=host, q=q,
                               live=None if resolved else True, sort=sort, descending=desc,
                               limit=PAGE, offset=offset, finding_class=classes)
    insts = ctx.estate.institutions(scope=scope)
    params = {"status": status, "state": state, "class": classes, "institution": institution,
              "subject": subject, "host": host, "q": q, "resolved": "true" if resolved else None,
              "sort": sort if sort != "severity" else None, "desc": "true" if desc else None}
    return render(request, "findings.html", session, page=page, params=params,
                  institutions=insts, statuses=STATUSES, states=STATES,
                  classes=FINDING_CLASSES, class_labels=CLASS_LABELS,
                  sorts=list(SORTS), f=dict(status=status, state=state,
                                                    finding_class=classes,
                                                    institution=institution or "",
                                                    subject=subject or "", host=host or "",
                                                    q=q or "", resolved=resolved, sort=sort,
                                                    desc=desc))


def _finding_page(request: Request, ctx: Ctx, session: SessionDep, finding_id: str, *,
                  status: int = 200, error: str | None = None) -> Response:
    d = ctx.estate.finding(finding_id, scope=session.user.scope, prefix=False)
    accusing, exculpatory = evidence.assertions_of(ctx, d)
    found = ctx.subject(d.finding.subject_id)
    f = d.finding
    scopes = [f"host:{f.host_id}"] + ([f"institution:{f.institution}"] if f.institution else [])
    if session.user.is_admin:
        scopes.append("estate")
    return render(request, "finding.html", session, status=status, d=d, f=f,
                  ev=d.evidence, matched=d.evidence.get("matched") or [],
                  accusing=accusing, exculpatory=exculpatory,
                  subject=found[1] if found else None,
                  next_states=[s for s in STATES if s in MANUAL[f.state]],
                  scopes=scopes, error=error,
                  default_expiry=(date.today() + timedelta(days=90)).isoformat())


@router.get("/findings/{finding_id}")
def finding_page(request: Request, ctx: Ctx, session: SessionDep, finding_id: str
                 ) -> Response:
    """One finding (404 if it does not exist or belongs to another institution)."""
    return _finding_page(request, ctx, session, finding_id)


@router.post("/findings/{finding_id}/state")
async def finding_state(request: Request, ctx: Ctx, checked: CheckedForm, finding_id: str
                        ) -> Response:
    """Change the finding's state with a reason."""
    session, form = checked
    try:
        await run_in_threadpool(actions.change_state, ctx, session.user, finding_id,
                                field(form, "state", 40), field(form, "reason"))
    except (NotFound, actions.Forbidden):
        raise
    except KitvetError as e:
        return _finding_page(request, ctx, session, finding_id, status=409, error=e.message)
    return RedirectResponse(f"/findings/{finding_id}", status_code=303)


@router.post("/findings/{finding_id}/exception")
async def finding_exception(request: Request, ctx: Ctx, checked: CheckedForm, finding_id: str
                            ) -> Response:
    """Add an exception for this finding's subject (host, institution or estate)."""
    session, form = checked
    d = ctx.estate.finding(finding_id, scope=session.user.scope, prefix=False)
    try:
        await run_in_threadpool(lambda: actions.add_exception(
            ctx, session.user, subject_id=d.finding.subject_id, scope=field(form, "scope", 400),
            reason=field(form, "reason"), expires=field(form, "expires", 20)))
    except (NotFound, actions.Forbidden):
        raise
    except KitvetError as e:
        return _finding_page(request, ctx, session, finding_id, status=409, error=e.message)
    return RedirectResponse(f"/findings/{finding_id}", status_code=303)
