"""Estate reports of what the account may see."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import Response

from kitvet.server import reports
from kitvet.server.deps import CurrentUser, EstateDep

router = APIRouter(tags=["reports"])


@router.get("/reports/estate.{fmt}")
def estate_report(estate: EstateDep, user: CurrentUser, fmt: str,
                  institution: str | None = Query(default=None, max_length=300),
                  since: str | None = Query(default=None, pattern=reports.DAY),
                  stale_days: int = Query(default=7, ge=1, le=3650),
                  expiring_days: int = Query(default=30, ge=0, le=3650)) -> Response:
    """The estate report (``fmt``: html, pdf, xlsx, csv, json) of the account's institutions,
    or of one of them."""
    return reports.estate_report(estate, user, fmt, institution=institution or None,
                                 since=since or None, stale_days=stale_days,
                                 expiring_days=expiring_days)
