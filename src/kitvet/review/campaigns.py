"""Campaigns: removal programmes for banned subjects, with deadlines, progress and burndown;
remediation programmes (upgrade or remove) for vulnerable and end-of-life subjects, whose
remove deadline is the authority's date (a KEV due date, the end of life).

Deadlines count from the start: identify, plan, remove (days; defaults from the policy's verdict
for the subject, else 30/60/90 as in the US removal order for Kaspersky products). Progress is
counted in hosts per institution: affected (had the subject when the campaign started or since;
removals recorded before the start do not count), removed (every finding of the subject on the
host is ``removed``), excepted (the rest accepted under an exception), remaining, overdue
(remaining after the remove deadline). Each review stores one point per institution: the
burndown.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, func, or_, select

from kitvet.errors import StoreError
from kitvet.store import audit
from kitvet.store import tables as t
from kitvet.store.db import inserted_id
from kitvet.store.records import (
    BurndownPoint,
    CampaignRecord,
    CampaignStatus,
    InstitutionProgress,
)

logger = logging.getLogger(__name__)

DEFAULT_DEADLINES: dict[str, int] = {"identify": 30, "plan": 60, "remove": 90}


def _record(r: Any) -> CampaignRecord:
    return CampaignRecord(r.campaign_id, r.subject_id, r.subject_name, r.started_at, r.started_by,
                          r.identify_due, r.plan_due, r.remove_due, r.closed_at, r.closed_by,
                          r.close_reason)


def _get(conn: Connection, campaign_id: int) -> Any:
    row = conn.execute(select(t.campaigns).where(t.campaigns.c.campaign_id == campaign_id)).first()
    if row is None:
        raise StoreError(f"no campaign {campaign_id}")
    return row


#: Finding classes whose subjects can be remediated (upgrade or remove) without a ban: a
#: campaign for them takes its deadline from the authority's due date (KEV, end of life).
REMEDIATION_CLASSES = ("vulnerability", "end-of-life")


def start(conn: Connection, subject_id: str, *, actor: str, now: str,
          deadlines: Mapping[str, int] | None = None, subject_name: str | None = None,
          remove_by: tuple[str, str] | None = None) -> CampaignRecord:
    """Start a removal campaign for a banned subject, or a remediation campaign for a
    vulnerable or end-of-life one (live findings of those classes not allowed).

    ``remove_by`` — (ISO date, why) — sets the remove deadline to an authority's date (a KEV
    due date, an end of life) unless ``deadlines`` names ``remove``; the identify and plan
    deadlines then fall no later than it. A date already past makes the campaign overdue from
    its start, as it is."""
    f, c, d = t.findings, t.campaigns, t.decisions
    if conn.execute(select(c.c.campaign_id).where(c.c.subject_id == subject_id,
                                                  c.c.closed_at.is_(None))).first():
        raise StoreError(f"a campaign for {subject_id!r} is already open")
    decided = conn.execute(select(d.c.status).where(d.c.subject_id == subject_id,
                                                    d.c.superseded_at.is_(None))).scalar()
    banned_by_policy = conn.execute(select(f.c.finding_id).where(
        f.c.subject_id == subject_id, f.c.status == "ban").limit(1)).first()
    to_remediate = conn.execute(select(f.c.finding_id).where(
        f.c.subject_id == subject_id, f.c.finding_class.in_(REMEDIATION_CLASSES),
        f.c.status != "allow").limit(1)).first()
    if decided != "ban" and not (decided is None and (banned_by_policy or to_remediate)):
        raise StoreError(f"{subject_id!r} is not banned (no ban decision and no finding with "
                         f"status ban) nor a vulnerable or end-of-life finding; run "
                         f"`kitvet decide {subject_id} --decision banned` first")
    days = dict(DEFAULT_DEADLINES)
    given = {k: int(v) for k, v in (deadlines or {}).items() if k in days and v is not None}
    days.update(given)
    if not days["identify"] <= days["plan"] <= days["remove"]:
        raise StoreError(f"deadlines must not decrease: {days}")
    if subject_name is None:
        subject_name = conn.execute(select(f.c.subject_name).where(
            f.c.subject_id == subject_id).limit(1)).scalar()
    day0 = date.fromisoformat(now[:10])
    due = {k: (day0 + timedelta(days=v)).isoformat() for k, v in days.items()}
    details: dict[str, Any] = {"subject_id": subject_id, "deadlines_days": days}
    if remove_by is not None and "remove" not in given:
        due["remove"] = date.fromisoformat(remove_by[0]).isoformat()
        due["identify"] = min(due["identify"], due["remove"])
        due["plan"] = min(due["plan"], due["remove"])
        details["remove_due_from"] = remove_by[1]
    details["due"] = due
    cid = inserted_id(conn.execute(c.insert().values(
        subject_id=subject_id, subject_name=subject_name, started_at=now, started_by=actor,
        identify_due=due["identify"], plan_due=due["plan"], remove_due=due["remove"])))
    audit.append(conn, actor=actor, action="campaign.start", obj=f"campaign:{cid}", at=now,
                 details=details)
    record_points(conn, now=now, review_id=None, only=int(cid))
    return _record(_get(conn, int(cid)))


def progress(conn: Connection, camp: Any, now: str) -> list[InstitutionProgress]:
    """Hosts affected / removed / remaining / overdue / excepted per institution.

    A host is removed when all its findings of the subject are removed; excepted when the rest
    are all accepted under an exception (waived, so not remaining, but shown).
    """
    f = t.findings
    rows = conn.execute(select(f.c.institution, f.c.host_id, f.c.state).where(
        f.c.subject_id == camp.subject_id,
        or_(f.c.state != "removed", f.c.removed_at >= camp.started_at))).all()
    hosts: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in rows:
        hosts[(r.institution or "", r.host_id)].add(r.state)
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for (inst, _host), states in hosts.items():
        per[inst][0] += 1
        if states == {"removed"}:
            per[inst][1] += 1
        elif states <= {"removed", "accepted"}:
            per[inst][2] += 1
    late = now[:10] > camp.remove_due and camp.closed_at is None
    out = []
    for inst, (affected, removed, excepted) in sorted(per.items()):
        remaining = affected - removed - excepted
        out.append(InstitutionProgress(inst, affected, removed, remaining,
                                       remaining if late else 0, excepted))
    return out


def record_points(conn: Connection, *, now: str, review_id: int | None,
                  only: int | None = None) -> int:
    """Store one burndown point per institution for each open campaign."""
    c = t.campaigns
    q = select(c).where(c.c.closed_at.is_(None))
    if only is not None:
        q = q.where(c.c.campaign_id == only)
    points = []
    for camp in conn.execute(q).all():
        for p in progress(conn, camp, now):
            points.append(dict(campaign_id=camp.campaign_id, review_id=review_id, at=now,
                               institution=p.institution, affected=p.affected,
                               removed=p.removed, remaining=p.remaining, overdue=p.overdue))
    if points:
        conn.execute(t.campaign_progress.insert(), points)
    return len(points)


def phase(camp: Any, now: str) -> str:
    """identify | plan | remove | overdue | closed."""
    if camp.closed_at:
        return "closed"
    day = now[:10]
    if day <= camp.identify_due:
        return "identify"
    if day <= camp.plan_due:
        return "plan"
    return "remove" if day <= camp.remove_due else "overdue"


def status(conn: Connection, campaign_id: int, *, now: str) -> CampaignStatus:
    """A campaign with progress per institution and its burndown series."""
    camp = _get(conn, campaign_id)
    cp = t.campaign_progress
    series = conn.execute(select(cp.c.at, cp.c.review_id, func.sum(cp.c.affected),
                                 func.sum(cp.c.remaining), func.sum(cp.c.overdue))
                          .where(cp.c.campaign_id == campaign_id)
                          .group_by(cp.c.at, cp.c.review_id).order_by(cp.c.at)).all()
    burndown = tuple(BurndownPoint(r[0], r[1], int(r[2]), int(r[3]), int(r[4])) for r in series)
    return CampaignStatus(_record(camp), phase(camp, now), tuple(progress(conn, camp, now)),
                          burndown)


def listing(conn: Connection, *, open_only: bool = False, now: str) -> list[CampaignStatus]:
    """Every campaign (or the open ones) with its status."""
    c = t.campaigns
    q = select(c.c.campaign_id).order_by(c.c.campaign_id)
    if open_only:
        q = q.where(c.c.closed_at.is_(None))
    return [status(conn, cid, now=now) for cid in conn.execute(q).scalars().all()]


def close(conn: Connection, campaign_id: int, *, actor: str, reason: str, now: str
          ) -> CampaignRecord:
    """Close a campaign; refused unless fresh inventory shows the subject on no host."""
    camp = _get(conn, campaign_id)
    if camp.closed_at:
        raise StoreError(f"campaign {campaign_id} was already closed on {camp.closed_at}")
    last_import = conn.execute(select(func.max(t.batches.c.imported_at))).scalar()
    last_review = conn.execute(select(func.max(t.reviews.c.finished_at))).scalar()
    if last_import and (not last_review or last_review < last_import):
        raise StoreError("inventory was imported after the last review: run "
                         "`kitvet estate review` before closing the campaign")
    remaining = [p for p in progress(conn, camp, now) if p.remaining]
    if remaining:
        where = ", ".join(f"{p.institution}: {p.remaining}" for p in remaining[:5])
        total = sum(p.remaining for p in remaining)
        raise StoreError(f"cannot close campaign {campaign_id}: {total} host(s) still have "
                         f"{camp.subject_id} ({where})")
    conn.execute(t.campaigns.update().where(t.campaigns.c.campaign_id == campaign_id).values(
        closed_at=now, closed_by=actor, close_reason=reason))
    audit.append(conn, actor=actor, action="campaign.close", obj=f"campaign:{campaign_id}",
                 at=now, details={"subject_id": camp.subject_id, "reason": reason})
    return _record(_get(conn, campaign_id))

