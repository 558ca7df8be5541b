"""Reads of the estate as one account may see them: every function takes a
:class:`~kitvet.estate.scope.Scope` and adds its institution filter to the SQL.

Rows outside the scope are reported as :class:`~kitvet.estate.scope.NotFound`, the same as
rows that do not exist. :class:`~kitvet.estate.Estate` calls these inside its read
transactions; writes go through the estate's own methods after the caller's checks.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, and_, func, literal, or_, select

from kitvet.estate.scope import NotFound, Scope
from kitvet.review.findings import like
from kitvet.store import tables as t
from kitvet.store.records import BurndownPoint, CampaignStatus, EstateStatus

logger = logging.getLogger(__name__)


def in_scope(col: Any, scope: Scope) -> list[Any]:
    """The condition that limits ``col`` (an institution column) to the scope (none for an
    estate-wide scope)."""
    if scope.everything:
        return []
    return [col.in_(sorted(scope.institutions or ()))]


def institutions(conn: Connection, scope: Scope) -> list[str]:
    """Names of the institutions the scope allows (that exist in the estate)."""
    i = t.institutions
    return list(conn.execute(select(i.c.name).where(*in_scope(i.c.name, scope))
                             .order_by(i.c.name)).scalars())


def scoped_status(status: EstateStatus, scope: Scope, conn: Connection) -> EstateStatus:
    """The estate status as ``scope`` may see it: only the institutions (and campaign rows) of
    the scope, and snapshot, import and audit counts of those institutions only."""
    if scope.everything:
        return status
    insts = tuple(i for i in status.institutions if scope.allows(i.institution))
    camps = tuple(scoped_campaign(c, scope) for c in status.open_campaigns)
    s = t.snapshots
    snapshots, last_import = conn.execute(
        select(func.count(), func.max(s.c.imported_at))
        .where(*in_scope(s.c.institution, scope))).one()
    visible = conn.execute(select(func.count()).select_from(t.audit_log)
                           .where(*audit_scope(scope))).scalar_one()
    return replace(status, institutions=insts, hosts=sum(i.hosts for i in insts),
                   snapshots=int(snapshots), last_import=last_import, audit_entries=int(visible),
                   open_campaigns=camps, path="", database="")


def scoped_campaign(c: CampaignStatus, scope: Scope, conn: Connection | None = None
                    ) -> CampaignStatus:
    """A campaign with only the allowed institutions' progress (and their burndown)."""
    if scope.everything:
        return c
    insts = tuple(p for p in c.institutions if scope.allows(p.institution))
    burndown: tuple[BurndownPoint, ...] = ()
    if conn is not None:
        cp = t.campaign_progress
        rows = conn.execute(select(cp.c.at, cp.c.review_id, func.sum(cp.c.affected),
                                   func.sum(cp.c.remaining), func.sum(cp.c.overdue))
                            .where(cp.c.campaign_id == c.campaign.campaign_id,
                                   *in_scope(cp.c.institution, scope))
                            .group_by(cp.c.at, cp.c.review_id).order_by(cp.c.at)).all()
        burndown = tuple(BurndownPoint(r[0], r[1], int(r[2]), int(r[3]), int(r[4]))
                         for r in rows)
    return replace(c, institutions=insts, burndown=burndown)


def hosts_page(conn: Connection, scope: Scope, *, q: str | None = None,
               institution: str | None = None, limit: int = 50, offset: int = 0
               ) -> tuple[list[dict[str, Any]], int]:
    """Hosts the scope allows, with their live finding counts; (rows, total)."""
    h, f = t.hosts, t.findings
    cond = in_scope(h.c.institution, scope)
    if institution:
        cond.append(h.c.institution == institution)
    if q and q.strip():
        cond.append(or_(like(h.c.host_id, q.strip()[:200]), like(h.c.hostname, q.strip()[:200])))
    total = conn.execute(select(func.count()).select_from(h).where(*cond)).scalar_one()
    n = (select(func.count()).select_from(f).where(f.c.host_id == h.c.host_id, f.c.live.is_(True))
         .scalar_subquery())
    rows = conn.execute(select(h, n.label("findings")).where(*cond)
                        .order_by(h.c.institution, h.c.host_id)
                        .limit(max(1, min(limit, 500))).offset(max(0, offset))).all()
    return [dict(r._mapping) for r in rows], total


def host(conn: Connection, scope: Scope, host_id: str) -> dict[str, Any]:
    """One host the scope allows (else :class:`NotFound`)."""
    h = t.hosts
    row = conn.execute(select(h).where(h.c.host_id == host_id,
                                       *in_scope(h.c.institution, scope))).first()
    if row is None:
        raise NotFound("no such host")
    return dict(row._mapping)


def host_ids(conn: Connection, scope: Scope) -> set[str]:
    """Ids of every host the scope allows."""
    h = t.hosts
    return set(conn.execute(select(h.c.host_id).where(*in_scope(h.c.institution, scope)))
               .scalars())


def subject_counts(conn: Connection, scope: Scope) -> dict[str, dict[str, int]]:
    """subject_id -> {status: live findings} within the scope."""
    f = t.findings
    out: dict[str, dict[str, int]] = {}
    for sid, status, n in conn.execute(
            select(f.c.subject_id, f.c.status, func.count())
            .where(f.c.live.is_(True), *in_scope(f.c.institution, scope))
            .group_by(f.c.subject_id, f.c.status)):
        out.setdefault(sid, {})[status] = n
    return out


def campaign_candidates(conn: Connection) -> list[str]:
    """Subjects a campaign may start for: banned by a decision in force, or with live findings
    of status ban — or vulnerable or end-of-life ones not allowed (a remediation campaign) —
    and no contrary decision; none that already has an open campaign."""
    from kitvet.review.campaigns import REMEDIATION_CLASSES
    from kitvet.review.findings import in_force

    decided = in_force(conn)
    f, c = t.findings, t.campaigns
    found = set(conn.execute(select(f.c.subject_id).distinct().where(
        f.c.live.is_(True), or_(f.c.status == "ban", and_(
            f.c.finding_class.in_(REMEDIATION_CLASSES), f.c.status != "allow")))).scalars())
    banned = {s for s, (_d, status) in decided.items() if status == "ban"}
    banned |= {s for s in found if decided.get(s, ("", "ban"))[1] == "ban"}
    running = set(conn.execute(select(c.c.subject_id).where(c.c.closed_at.is_(None))).scalars())
    return sorted(banned - running)


def audit_scope(scope: Scope) -> list[Any]:
    """The audit entries a scoped account sees: about its institutions' findings, hosts and
    the institutions themselves, and its own actions (no condition for estate-wide accounts)."""
    if scope.everything:
        return []
    a, f, h = t.audit_log, t.findings, t.hosts
    insts = sorted(scope.institutions or ())
    mine = select(literal("finding:") + f.c.finding_id).where(f.c.institution.in_(insts))
    hosts = select(literal("host:") + h.c.host_id).where(h.c.institution.in_(insts))
    own = [a.c.actor == scope.actor] if scope.actor else []
    return [or_(*own, a.c.object.in_(mine), a.c.object.in_(hosts),
                a.c.object.in_([f"institution:{i}" for i in insts]))]
