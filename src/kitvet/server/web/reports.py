"""The reports page: estate reports to download, of the account's institutions."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from kitvet.report.estate import ESTATE_FORMATS, estate_format
from kitvet.server import reports
from kitvet.server.deps import Ctx, SessionDep
from kitvet.server.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/reports")
def reports_page(request: Request, ctx: Ctx, session: SessionDep) -> Response:
    """Estate reports to download (HTML, PDF, XLSX, CSV, JSON), whole scope or one
    institution of it."""
    formats = [estate_format(name) for name in ESTATE_FORMATS]
    return render(request, "reports.html", session, formats=formats,
                  institutions=ctx.estate.institutions(scope=session.user.scope))


@router.get("/reports/estate.{fmt}")
def estate_report(ctx: Ctx, session: SessionDep, fmt: str,
                  institution: str | None = Query(default=None, max_length=300),
                  since: str | None = Query(default=None, pattern=reports.DAY),
                  stale_days: int = Query(default=7, ge=1, le=3650),
                  expiring_days: int = Query(default=30, ge=0, le=3650)) -> Response:
    """The estate report in ``fmt``, as a download."""
    return reports.estate_report(ctx.estate, session.user, fmt, institution=institution or None,
                                 since=since or None, stale_days=stale_days,
                                 expiring_days=expiring_days)
