"""Pages: overview, subjects, decisions, exceptions, campaigns, hosts, audit log, API docs."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from kitvet.errors import KitvetError
from kitvet.estate import DECISIONS, NotFound
from kitvet.estate.inventory import KINDS
from kitvet.model.finding import CLASS_LABELS, FINDING_CLASSES
from kitvet.report import charts
from kitvet.server import actions, evidence
from kitvet.server.deps import CampaignId, Ctx, ExceptionId, Offset, SessionDep
from kitvet.server.web.forms import CheckedForm, field
from kitvet.server.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def overview(request: Request, ctx: Ctx, session: SessionDep) -> Response:
    """The estate at a glance: one section per finding class (its own counts and chart)."""
    status = ctx.estate.status(scope=session.user.scope)
    sections = []
    for cls in (*FINDING_CLASSES, "unclassified"):
        per = [(i.institution, i.findings_by_class.get(cls, {})) for i in status.institutions]
        if not any(c for _i, c in per):
            continue
        by_status: Counter[str] = Counter()
        for _i, c in per:
            by_status.update(c)
        label = CLASS_LABELS.get(cls, cls)
        sections.append({
            "cls": cls, "label": label, "by_status": by_status,
            "total": sum(by_status.values()),
            "unresolved": sum(i.unresolved_by_class.get(cls, 0) for i in status.institutions),
            "chart": charts.status_bars([(n, c) for n, c in per if c],
                                        title=f"{label}: live findings by institution and "
                                              "status")})
    return render(request, "overview.html", session, est=status, sections=sections,
                  class_labels=CLASS_LABELS, worker=ctx.worker)


@router.get("/subjects")
def subjects(request: Request, ctx: Ctx, session: SessionDep, q: str | None = None
             ) -> Response:
    """Subjects of the risk lists, with their assertions and findings in scope."""
    counts = ctx.estate.subject_counts(scope=session.user.scope)
    rows: list[dict[str, Any]] = []
    needle = (q or "").strip().lower()[:200]
    for rl, s in ctx.lists.subjects():
        if needle and needle not in f"{s.id} {s.name} {' '.join(s.aliases)}".lower():
            continue
        kinds = Counter(a.kind for a in s.assertions)
        rows.append({"s": s, "list": rl, "kinds": kinds, "counts": counts.get(s.id, {}),
                     "exculpatory": sum(n for k, n in kinds.items()
                                        if k in evidence.EXCULPATORY)})
    rows.sort(key=lambda r: (-sum(r["counts"].values()), r["s"].name.lower()))
    return render(request, "subjects.html", session, rows=rows, q=q or "", lists=ctx.lists)


@router.get("/subjects/{subject_id}")
def subject(request: Request, ctx: Ctx, session: SessionDep, subject_id: str) -> Response:
    """One subject: identifiers, assertions on both sides, decisions, findings in scope."""
    found = ctx.subject(subject_id)
    if found is None:
        raise NotFound("no such subject")
    accusing, exculpatory = evidence.assertions_for(ctx, subject_id)
    counts = ctx.estate.subject_counts(scope=session.user.scope).get(subject_id, {})
    return render(request, "subject.html", session, rl=found[0], s=found[1],
                  accusing=accusing, exculpatory=exculpatory, counts=counts,
                  decisions=ctx.estate.decisions(subject=subject_id, include_superseded=True),
                  decision_kinds=list(DECISIONS))


@router.get("/decisions")
def decisions(request: Request, ctx: Ctx, session: SessionDep, all: bool = False,
              error: str | None = None) -> Response:
    """Decisions on subjects (admins record new ones here or on a subject's page)."""
    return render(request, "decisions.html", session,
                  decisions=ctx.estate.decisions(include_superseded=all), show_all=all,
                  decision_kinds=list(DECISIONS), subjects=ctx.lists.subjects())


@router.post("/decisions")
async def decide(request: Request, ctx: Ctx, checked: CheckedForm) -> Response:
    """Record a decision (admin)."""
    session, form = checked
    sid = field(form, "subject_id", 300)
    try:
        await run_in_threadpool(lambda: actions.decide(
            ctx, session.user, subject_id=sid, decision=field(form, "decision", 40),
            rationale=field(form, "rationale"),
            evidence=field(form, "evidence").splitlines()))
    except actions.Forbidden:
        raise
    except KitvetError as e:
        return render(request, "error.html", session, status=409, status_code=409,
                      message=e.message)
    return RedirectResponse(f"/subjects/{sid}" if ctx.subject(sid) else "/decisions",
                            status_code=303)


@router.get("/exceptions")
def exceptions(request: Request, ctx: Ctx, session: SessionDep) -> Response:
    """Exceptions whose scope this account may see."""
    return render(request, "exceptions.html", session,
                  exceptions=ctx.estate.exceptions(scope=session.user.scope))


@router.post("/exceptions/{exception_id}/revoke")
async def revoke(request: Request, ctx: Ctx, checked: CheckedForm, exception_id: ExceptionId
                 ) -> Response:
    """Revoke an exception with a reason."""
    session, form = checked
    await run_in_threadpool(actions.revoke_exception, ctx, session.user, exception_id,
                            field(form, "reason"))
    return RedirectResponse("/exceptions", status_code=303)


@router.get("/campaigns")
def campaigns(request: Request, ctx: Ctx, session: SessionDep) -> Response:
    """Campaigns with progress in the institutions in scope."""
    rows = ctx.estate.campaigns(scope=session.user.scope)
    banned = ctx.estate.campaign_candidates() if session.user.is_admin else []
    return render(request, "campaigns.html", session, campaigns=rows, subjects=banned)


@router.post("/campaigns")
async def start_campaign(request: Request, ctx: Ctx, checked: CheckedForm) -> Response:
    """Start a removal campaign (admin)."""
    session, form = checked
    try:
        rec = await run_in_threadpool(lambda: actions.start_campaign(
            ctx, session.user, subject_id=field(form, "subject_id", 300)))
    except actions.Forbidden:
        raise
    except KitvetError as e:
        return render(request, "error.html", session, status=409, status_code=409,
                      message=e.message)
    return RedirectResponse(f"/campaigns/{rec.campaign_id}", status_code=303)


@router.get("/campaigns/{campaign_id}")
def campaign(request: Request, ctx: Ctx, session: SessionDep, campaign_id: CampaignId) -> Response:
    """One campaign: deadlines, burndown chart, progress per institution."""
    try:
        c = ctx.estate.campaign(campaign_id, scope=session.user.scope)
    except KitvetError as e:
        raise NotFound("no such campaign") from e
    chart = charts.burndown([(b.at, b.affected, b.remaining) for b in c.burndown],
                            title=f"Burndown of campaign {campaign_id}",
                            due=c.campaign.remove_due)
    return render(request, "campaign.html", session, c=c, chart=chart)


@router.post("/campaigns/{campaign_id}/close")
async def close_campaign(request: Request, ctx: Ctx, checked: CheckedForm, campaign_id: CampaignId
                         ) -> Response:
    """Close a campaign (admin; refused while hosts still have the subject)."""
    session, form = checked
    try:
        await run_in_threadpool(actions.close_campaign, ctx, session.user, campaign_id,
                                field(form, "reason") or "removed everywhere")
    except actions.Forbidden:
        raise
    except KitvetError as e:
        return render(request, "error.html", session, status=409, status_code=409,
                      message=e.message)
    return RedirectResponse(f"/campaigns/{campaign_id}", status_code=303)


@router.get("/hosts")
def hosts(request: Request, ctx: Ctx, session: SessionDep, q: str | None = None,
          institution: str | None = None, software: str | None = None,
          offset: Offset = 0) -> Response:
    """Hosts in scope, and a search of their current software."""
    scope = session.user.scope
    rows, total = ctx.estate.hosts(scope=scope, q=q, institution=institution, limit=100,
                                   offset=offset)
    insts = ctx.estate.institutions(scope=scope)
    found: list[dict[str, Any]] = []
    truncated = False
    if software and software.strip():
        found, truncated = ctx.estate.inventory(scope=scope, q=software, limit=200)
    params = {"q": q, "institution": institution, "software": software}
    return render(request, "hosts.html", session, rows=rows, total=total, offset=offset,
                  institutions=insts, params=params, found=found, truncated=truncated)


@router.get("/hosts/{host_id:path}")  # host ids may contain "/"
def host(request: Request, ctx: Ctx, session: SessionDep, host_id: str,
         q: str | None = None, kind: str = "software") -> Response:
    """One host: its findings and its current inventory (searchable)."""
    scope = session.user.scope
    h = ctx.estate.host(host_id, scope=scope)
    page = ctx.estate.findings(scope=scope, host=host_id, live=None, limit=200)
    kind = kind if kind in KINDS else "software"
    items, truncated = ctx.estate.inventory(scope=scope, kind=kind, q=q, host_id=host_id,
                                            limit=500)
    return render(request, "host.html", session, h=h, page=page, items=items,
                  truncated=truncated, q=q or "", kind=kind,
                  columns=KINDS[kind][0][1:])


@router.get("/audit")
def audit_log(request: Request, ctx: Ctx, session: SessionDep, action: str | None = None,
              object: str | None = None, offset: Offset = 0) -> Response:
    """The audit log, newest first (scoped accounts see entries about their institutions)."""
    entries = ctx.estate.audit(limit=100, offset=offset, action=action, obj=object,
                               newest_first=True, scope=session.user.scope)
    check = (ctx.estate.verify_audit(lake=False) if session.user.scope.everything
             else None)
    return render(request, "audit.html", session, entries=entries, check=check,
                  params={"action": action, "object": object}, offset=offset)


@router.get("/api/v1/docs")
def api_docs(request: Request) -> Response:
    """A local reference of the API, built from the OpenAPI document (no CDN assets)."""
    spec = request.app.openapi()
    ops = [(path, method.upper(), op) for path, item in spec.get("paths", {}).items()
           for method, op in item.items()]
    return render(request, "api_docs.html", None, ops=ops, spec=spec)
