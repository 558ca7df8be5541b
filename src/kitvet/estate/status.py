"""The estate at a glance: counts per institution, status and state; freshness; campaigns."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, func, select

from kitvet.review import campaigns
from kitvet.store import audit
from kitvet.store import tables as t
from kitvet.store.records import EstateStatus, InstitutionStatus

#: States of a finding still to be handled (the rest: accepted, false positive, removed).
UNRESOLVED_STATES = ("open", "in_review", "confirmed")


def estate_status(conn: Connection, *, root: str, database: str, now: str) -> EstateStatus:
    """Build an :class:`EstateStatus` in one read transaction."""
    f, h = t.findings, t.hosts
    hosts_per: dict[str, int] = dict(conn.execute(  # type: ignore[arg-type]
        select(h.c.institution, func.count()).group_by(h.c.institution)).all())
    by_status: dict[str, dict[str, int]] = defaultdict(dict)
    by_state: dict[str, dict[str, int]] = defaultdict(dict)
    live = f.c.live.is_(True)
    for inst, status, n in conn.execute(select(f.c.institution, f.c.status, func.count())
                                        .where(live).group_by(f.c.institution, f.c.status)):
        by_status[inst or ""][status] = n
    by_class: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    unresolved: dict[str, dict[str, int]] = defaultdict(dict)
    for inst, cls, status, state, n in conn.execute(
            select(f.c.institution, f.c.finding_class, f.c.status, f.c.state, func.count())
            .where(live).group_by(f.c.institution, f.c.finding_class, f.c.status, f.c.state)):
        key, name = inst or "", cls or "unclassified"
        counts = by_class[key].setdefault(name, {})
        counts[status] = counts.get(status, 0) + n
        if state in UNRESOLVED_STATES:
            unresolved[key][name] = unresolved[key].get(name, 0) + n
    for inst, state, n in conn.execute(select(f.c.institution, f.c.state, func.count())
                                       .where(live).group_by(f.c.institution, f.c.state)):
        by_state[inst or ""][state] = n
    names = sorted(set(conn.execute(select(t.institutions.c.name)).scalars()) | set(by_status))
    insts = tuple(InstitutionStatus(n, hosts_per.get(n, 0), by_status.get(n, {}),
                                    by_state.get(n, {}), by_class.get(n, {}),
                                    unresolved.get(n, {})) for n in names)
    last_import = conn.execute(select(func.max(t.batches.c.imported_at))).scalar()
    last_review = conn.execute(select(func.max(t.reviews.c.finished_at))).scalar()
    return EstateStatus(
        path=root, database=database, institutions=insts,
        hosts=sum(hosts_per.values()),
        snapshots=conn.execute(select(func.count()).select_from(t.snapshots)).scalar_one(),
        last_import=last_import, last_review=last_review,
        review_is_stale=bool(last_import and (not last_review or last_review < last_import)),
        open_campaigns=tuple(campaigns.listing(conn, open_only=True, now=now)),
        audit_entries=audit.count(conn),
    )
