"""The server's data access layer: every read is filtered by the signed-in account's scope.

A reviewer of one institution never sees another's hosts, findings, campaign progress or audit
entries: each function here takes a :class:`~kitvet.server.accounts.Scope` and adds the
institution filter to its SQL. Rows outside the scope are reported as "not found" (404), the
same as rows that do not exist. Writes go through :class:`kitvet.estate.Estate` after the scope
check (see :mod:`kitvet.server.actions`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, func, literal, or_, select

from kitvet.errors import KitvetError, StoreError
from kitvet.review.findings import (
    CLASS_ORDER,
    RECORD_COLUMNS,
    SEVERITY,
    class_condition,
    record,
)
from kitvet.server.accounts import Scope, User
from kitvet.store import audit
from kitvet.store import tables as t
from kitvet.store.db import read
from kitvet.store.records import (
    BurndownPoint,
    CampaignStatus,
    EstateStatus,
    FindingDetail,
    FindingRecord,
    Page,
)

logger = logging.getLogger(__name__)

SORTS: dict[str, Any] = {
    "severity": SEVERITY,
    "first_seen": t.findings.c.first_seen,
    "last_seen": t.findings.c.last_seen,
    "institution": t.findings.c.institution,
    "host": t.findings.c.host_id,
    "subject": t.findings.c.subject_id,
    "state": t.findings.c.state,
    "name": t.findings.c.name,
}


class NotFound(KitvetError):
    """The thing does not exist, or the account may not see it (never said which)."""


def _in_scope(col: Any, scope: Scope) -> list[Any]:
    if scope.everything:
        return []
    return [col.in_(sorted(scope.institutions or ()))]


def like(col: Any, text: str) -> Any:
    """Case-insensitive substring match, portable and with LIKE wildcards escaped."""
    esc = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(col).like(f"%{esc}%", escape="\\")


def _many(val: Sequence[str] | str | None) -> list[str]:
    if not val:
        return []
    return [v for v in ([val] if isinstance(val, str) else list(val)) if v]


def findings_page(conn: Connection, scope: Scope, *, status: Sequence[str] | str | None = None,
                  state: Sequence[str] | str | None = None, institution: str | None = None,
                  subject: str | None = None, host: str | None = None, q: str | None = None,
                  live: bool | None = True, sort: str = "severity", descending: bool = False,
                  limit: int = 50, offset: int = 0, max_page: int = 500,
                  finding_class: Sequence[str] | str | None = None) -> Page[FindingRecord]:
    """One page of the findings the scope allows, filtered, searched and sorted.

    ``finding_class``: classes or aliases (``eol``, ``vulnerable``); sorted by severity, the
    page keeps each class together (class order, then severity)."""
    f = t.findings
    try:
        cond = _in_scope(f.c.institution, scope) + class_condition(_many(finding_class))
    except StoreError as e:  # an unknown class name: a bad request, not a conflict
        raise KitvetError(e.message, place="class") from e
    for col, val in ((f.c.status, status), (f.c.state, state)):
        if _many(val):
            cond.append(col.in_(_many(val)))
    for col, val in ((f.c.institution, institution), (f.c.subject_id, subject),
                     (f.c.host_id, host)):
        if val:
            cond.append(col == val)
    if live is not None:
        cond.append(f.c.live.is_(bool(live)))
    if q and q.strip():
        text = q.strip()[:200]
        cond.append(or_(*(like(c, text) for c in (f.c.name, f.c.publisher, f.c.hostname,
                                                   f.c.host_id, f.c.subject_name,
                                                   f.c.subject_id, f.c.finding_id))))
    key = SORTS.get(sort, SORTS["severity"])
    order = [key.desc() if descending else key.asc()]
    if key is SEVERITY:
        order.insert(0, CLASS_ORDER)
    order += [f.c.institution, f.c.host_id, f.c.finding_id]
    limit = max(1, min(int(limit), max_page))
    offset = max(0, int(offset))
    total = conn.execute(select(func.count()).select_from(f).where(*cond)).scalar_one()
    rows = conn.execute(select(*RECORD_COLUMNS).where(*cond).order_by(*order)
                        .limit(limit).offset(offset)).all()
    return Page(tuple(record(r) for r in rows), total, limit, offset)


def finding_detail(estate: Any, scope: Scope, finding_id: str) -> FindingDetail:
    """A finding with evidence and history, if the scope allows it (else :class:`NotFound`)."""
    if not finding_id or len(finding_id) > 64:
        raise NotFound("no such finding")
    try:
        detail: FindingDetail = estate.finding(finding_id)
    except StoreError as e:
        raise NotFound("no such finding") from e
    if detail.finding.finding_id != finding_id or not scope.allows(detail.finding.institution):
        raise NotFound("no such finding")
    return detail


def institutions(conn: Connection, scope: Scope) -> list[str]:
    """Names of the institutions the scope allows (that exist in the estate)."""
    i = t.institutions
    return list(conn.execute(select(i.c.name).where(*_in_scope(i.c.name, scope))
                             .order_by(i.c.name)).scalars())


def scoped_status(status: EstateStatus, user: User, conn: Connection) -> EstateStatus:
    """The estate status as ``user`` may see it: only the institutions (and campaign rows) of
    the scope, and snapshot, import and audit counts of those institutions only."""
    scope = user.scope
    if scope.everything:
        return status
    insts = tuple(i for i in status.institutions if scope.allows(i.institution))
    camps = tuple(scoped_campaign(c, scope) for c in status.open_campaigns)
    s = t.snapshots
    snapshots, last_import = conn.execute(
        select(func.count(), func.max(s.c.imported_at))
        .where(*_in_scope(s.c.institution, scope))).one()
    visible = conn.execute(select(func.count()).select_from(t.audit_log)
                           .where(*_audit_scope(user))).scalar_one()
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
                                   *_in_scope(cp.c.institution, scope))
                            .group_by(cp.c.at, cp.c.review_id).order_by(cp.c.at)).all()
        burndown = tuple(BurndownPoint(r[0], r[1], int(r[2]), int(r[3]), int(r[4]))
                         for r in rows)
    return replace(c, institutions=insts, burndown=burndown)


def hosts_page(conn: Connection, scope: Scope, *, q: str | None = None,
               institution: str | None = None, limit: int = 50, offset: int = 0
               ) -> tuple[list[dict[str, Any]], int]:
    """Hosts the scope allows, with their live finding counts; (rows, total)."""
    h, f = t.hosts, t.findings
    cond = _in_scope(h.c.institution, scope)
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
                                       *_in_scope(h.c.institution, scope))).first()
    if row is None:
        raise NotFound("no such host")
    return dict(row._mapping)


def host_ids(conn: Connection, scope: Scope) -> set[str]:
    """Ids of every host the scope allows."""
    h = t.hosts
    return set(conn.execute(select(h.c.host_id).where(*_in_scope(h.c.institution, scope)))
               .scalars())


def subject_counts(conn: Connection, scope: Scope) -> dict[str, dict[str, int]]:
    """subject_id -> {status: live findings} within the scope."""
    f = t.findings
    out: dict[str, dict[str, int]] = {}
    for sid, status, n in conn.execute(
            select(f.c.subject_id, f.c.status, func.count())
            .where(f.c.live.is_(True), *_in_scope(f.c.institution, scope))
            .group_by(f.c.subject_id, f.c.status)):
        out.setdefault(sid, {})[status] = n
    return out


def campaign_candidates(conn: Connection) -> list[str]:
    """Subjects a campaign may start for: banned by a decision in force, or with live findings
    of status ban and no contrary decision; none that already has an open campaign."""
    from kitvet.review.findings import in_force

    decided = in_force(conn)
    f, c = t.findings, t.campaigns
    found = set(conn.execute(select(f.c.subject_id).distinct()
                             .where(f.c.live.is_(True), f.c.status == "ban")).scalars())
    banned = {s for s, (_d, status) in decided.items() if status == "ban"}
    banned |= {s for s in found if decided.get(s, ("", "ban"))[1] == "ban"}
    running = set(conn.execute(select(c.c.subject_id).where(c.c.closed_at.is_(None))).scalars())
    return sorted(banned - running)


def audit_entries(conn: Connection, user: User, *, limit: int = 100, offset: int = 0,
                  action: str | None = None, obj: str | None = None
                  ) -> list[audit.AuditEntry]:
    """Audit entries, newest first. A scoped account sees entries about its institutions'
    findings and hosts, and its own actions; admins and estate-wide auditors see all."""
    a = t.audit_log
    q = select(a).order_by(a.c.seq.desc())
    if action:
        q = q.where(a.c.action.like(action.replace("%", "").replace("_", "\\_") + "%",
                                    escape="\\"))
    if obj:
        q = q.where(a.c.object == obj)
    q = q.where(*_audit_scope(user)).limit(max(1, min(limit, 500))).offset(max(0, offset))
    return [audit._row_entry(r) for r in conn.execute(q)]


def _audit_scope(user: User) -> list[Any]:
    """The audit entries a scoped account sees: about its institutions' findings, hosts and
    the institutions themselves, and its own actions (no condition for estate-wide accounts)."""
    if user.scope.everything:
        return []
    a, f, h = t.audit_log, t.findings, t.hosts
    insts = sorted(user.scope.institutions or ())
    mine = select(literal("finding:") + f.c.finding_id).where(f.c.institution.in_(insts))
    hosts = select(literal("host:") + h.c.host_id).where(h.c.institution.in_(insts))
    return [or_(a.c.actor == user.actor, a.c.object.in_(mine), a.c.object.in_(hosts),
                a.c.object.in_([f"institution:{i}" for i in insts]))]


def with_read(estate: Any):  # type: ignore[no-untyped-def]
    """A read transaction on the estate database (context manager)."""
    return read(estate.engine)
