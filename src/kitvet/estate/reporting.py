"""The estate report's data: read from the review database, handed to :mod:`kitvet.report`.

Everything is read in one read transaction and limited to a :class:`Scope` (the command
line's ``--institution``, the signed-in account's institutions on the server). The report
formats never read the estate themselves.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, case, func, select

from kitvet import __version__
from kitvet.estate import queries
from kitvet.estate.scope import Scope
from kitvet.estate.status import estate_status
from kitvet.report.estate.model import (
    BurndownStep,
    CampaignProgress,
    CampaignSummary,
    EstateReport,
    ExceptionDue,
    InstitutionSummary,
    SilentHost,
    TrendPoint,
)
from kitvet.review import campaigns, exceptions
from kitvet.store import tables as t
from kitvet.store.records import CampaignStatus, ExceptionRecord

#: Most points a trend shows (days are thinned evenly beyond this; the last day is kept).
MAX_TREND_POINTS = 60


def build_report(conn: Connection, scope: Scope, *, now: str, today: str,
                 since: str | None = None, stale_days: int = 7, expiring_days: int = 30,
                 title: str = "Estate report") -> EstateReport:
    """The estate report of the institutions ``scope`` allows (one read transaction)."""
    status = queries.scoped_status(estate_status(conn, root="", database="", now=now),
                                   scope, conn)
    stale_before = (date.fromisoformat(today) - timedelta(days=stale_days)).isoformat()
    silent = _silent_hosts(conn, scope, stale_before, today)
    silent_per: dict[str, int] = defaultdict(int)
    for h in silent:
        silent_per[h.institution] += 1
    insts = tuple(InstitutionSummary(i.institution, i.hosts, i.hosts - silent_per[i.institution],
                                     i.findings_by_class, i.unresolved_by_class)
                  for i in status.institutions)
    camps = [queries.scoped_campaign(c, scope, conn)
             for c in campaigns.listing(conn, now=now)]
    return EstateReport(
        title=title, generated_at=now[:19] + "Z", today=today, institutions=insts,
        trend=_trend(conn, scope, since=since, today=today),
        campaigns=tuple(campaign_summary(c) for c in camps
                        if c.institutions and (c.campaign.closed_at is None or since is None
                                               or c.campaign.closed_at[:10] >= since)),
        exceptions=_exceptions_due(conn, scope, now=now, today=today, since=since,
                                   expiring_days=expiring_days),
        silent_hosts=tuple(silent),
        scope=None if scope.everything else tuple(sorted(scope.institutions or ())),
        since=since, stale_days=stale_days, expiring_days=expiring_days,
        last_import=status.last_import, last_review=status.last_review,
        generator=f"kitvet {__version__}",
    )


def _trend(conn: Connection, scope: Scope, *, since: str | None, today: str
           ) -> tuple[TrendPoint, ...]:
    """Findings present on each day a count changed (first seen, resolved), per class and
    status: a finding is present from the day its snapshot first showed it until the day a
    snapshot no longer did (or it stopped matching)."""
    f = t.findings
    end = case((f.c.resolved_at.is_not(None), f.c.resolved_at),
               (f.c.live.is_(False), f.c.updated_at), else_=None)
    start_day, end_day = func.substr(f.c.first_seen, 1, 10), func.substr(end, 1, 10)
    rows = conn.execute(
        select(f.c.finding_class, f.c.status, start_day, end_day, func.count())
        .where(*queries.in_scope(f.c.institution, scope))
        .group_by(f.c.finding_class, f.c.status, start_day, end_day)).all()
    if not rows:
        return ()
    days = {d for r in rows for d in (r[2], r[3]) if d} | {today}
    days = {d for d in days if d <= today and (since is None or d >= since)}
    if since:
        days.add(since)
    ordered = sorted(days)
    if len(ordered) > MAX_TREND_POINTS:
        step = (len(ordered) - 1) / (MAX_TREND_POINTS - 1)
        ordered = sorted({ordered[round(i * step)] for i in range(MAX_TREND_POINTS)})
    out = []
    for day in ordered:
        per: dict[str, dict[str, int]] = defaultdict(dict)
        for cls, st, first, last, n in rows:
            if first <= day and (last is None or last > day):
                counts = per[cls or "unclassified"]
                counts[st] = counts.get(st, 0) + int(n)
        out.append(TrendPoint(day, dict(per)))
    return tuple(out)


def _silent_hosts(conn: Connection, scope: Scope, stale_before: str, today: str
                  ) -> list[SilentHost]:
    h = t.hosts
    rows = conn.execute(select(h.c.host_id, h.c.hostname, h.c.institution,
                               h.c.current_collected_at)
                        .where(h.c.current_collected_at < stale_before,
                               *queries.in_scope(h.c.institution, scope))
                        .order_by(h.c.current_collected_at, h.c.host_id)).all()
    day = date.fromisoformat(today)
    return [SilentHost(r[0], r[1], r[2], r[3],
                       (day - date.fromisoformat(r[3][:10])).days) for r in rows]


def _exceptions_due(conn: Connection, scope: Scope, *, now: str, today: str,
                    since: str | None, expiring_days: int) -> tuple[ExceptionDue, ...]:
    """Active exceptions ending within ``expiring_days``, and those that lapsed since
    ``since`` (default: within the last ``expiring_days``)."""
    day = date.fromisoformat(today)
    horizon = (day + timedelta(days=expiring_days)).isoformat()
    lapsed_from = since or (day - timedelta(days=expiring_days)).isoformat()
    visible = visible_exceptions(conn, scope, exceptions.listing(conn, now=now))
    out = []
    for e in visible:
        if e.revoked_at:
            continue
        if (e.active and e.expires <= horizon) or (not e.active and e.expires >= lapsed_from):
            out.append(ExceptionDue(e.exception_id, e.subject_id, e.scope, e.reason, e.approver,
                                    e.expires, (date.fromisoformat(e.expires) - day).days,
                                    e.matched))
    return tuple(sorted(out, key=lambda x: (x.expires, x.exception_id)))


def visible_exceptions(conn: Connection, scope: Scope, items: list[ExceptionRecord]
                       ) -> list[ExceptionRecord]:
    """The exceptions a scoped caller sees: those of its hosts and institutions, and the
    estate-wide ones."""
    if scope.everything:
        return items
    hosts = queries.host_ids(conn, scope)
    out = []
    for e in items:
        kind, _, value = e.scope.partition(":")
        if (kind == "estate" or (kind == "institution" and scope.allows(value))
                or (kind == "host" and value in hosts)):
            out.append(e)
    return out


def campaign_summary(c: CampaignStatus) -> CampaignSummary:
    """A campaign's status as the reports show it."""
    r = c.campaign
    return CampaignSummary(
        r.campaign_id, r.subject_id, r.subject_name or r.subject_id, c.phase, r.started_at,
        r.identify_due, r.plan_due, r.remove_due, r.closed_at,
        tuple(CampaignProgress(p.institution, p.affected, p.removed, p.remaining, p.overdue)
              for p in c.institutions),
        tuple(BurndownStep(p.at, p.affected, p.remaining, p.overdue) for p in c.burndown))


def report_dict(report: EstateReport) -> dict[str, Any]:
    """The report as plain data (what the server's JSON download returns)."""
    return report.to_dict()
