"""Estate report downloads, scoped to what the signed-in account may see (the dashboard's
``/reports`` page and the API's ``/api/v1/reports``)."""

from __future__ import annotations

import re
from datetime import date

from fastapi import Response

from kitvet.errors import KitvetError
from kitvet.estate import Estate, NotFound, Scope, User
from kitvet.report.estate import ESTATE_FORMATS, estate_format

DAY = r"^(\d{4}-\d{2}-\d{2})?$"  # empty: not given (a form's empty date field)


def report_scope(estate: Estate, user: User, institution: str | None) -> Scope:
    """The user's scope, narrowed to ``institution`` (one it may see, else NotFound)."""
    if not institution:
        return user.scope
    if institution not in estate.institutions(scope=user.scope):
        raise NotFound("no such institution")
    return Scope(institutions=frozenset({institution}), actor=user.scope.actor)


def filename(fmt_suffix: str, today: str, institution: str | None) -> str:
    """An ASCII file name for the download."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", institution or "").strip("-")[:60].lower()
    return f"kitvet-estate-report-{today}{'-' + slug if slug else ''}{fmt_suffix}"


def estate_report(estate: Estate, user: User, fmt: str, *, institution: str | None = None,
                  since: str | None = None, stale_days: int = 7, expiring_days: int = 30
                  ) -> Response:
    """The estate report in ``fmt`` as a download of what ``user`` may see."""
    if fmt not in ESTATE_FORMATS:
        raise NotFound("no such report format")
    if since:
        try:
            since = date.fromisoformat(since).isoformat()
        except ValueError as e:
            raise KitvetError(f"{since!r} is not a date (YYYY-MM-DD)") from e
    scope = report_scope(estate, user, institution)
    data = estate.report(scope=scope, since=since, stale_days=stale_days,
                         expiring_days=expiring_days)
    form = estate_format(fmt)
    body = form.render(data)
    name = filename(form.suffix, data.today, institution)
    return Response(body, media_type=form.media_type, headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
