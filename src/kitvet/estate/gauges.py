"""What the estate's monitoring gauges read (``/metrics``): counts as they stand now.

One read transaction: live findings by status, institution and class; hosts by the age of
their latest inventory; alerts by receiver and state; the last review.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select

from kitvet.store import alertq
from kitvet.store import tables as t

#: freshness classes of a host's latest inventory: (label, at most this many days old)
FRESHNESS: tuple[tuple[str, float], ...] = (("1d", 1), ("7d", 7), ("30d", 30),
                                            ("older", float("inf")))


@dataclass(frozen=True)
class Gauges:
    """The counts ``/metrics`` exposes (each a list of (labels..., value))."""

    findings: list[tuple[str, str, str, int]] = field(default_factory=list)
    hosts: list[tuple[str, str, int]] = field(default_factory=list)
    alerts: list[tuple[str, str, int]] = field(default_factory=list)
    unrouted_events: int = 0
    reviews: int = 0
    last_review_finished: float | None = None  # Unix seconds
    last_review_recording_s: float | None = None  # recording findings, from the database


def _ts(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def read_gauges(conn: Connection, *, now: str) -> Gauges:
    """The gauges at ``now`` (ISO UTC)."""
    f, h, r = t.findings, t.hosts, t.reviews
    findings = [(status, inst or "", cls or "unclassified", int(n))
                for status, inst, cls, n in conn.execute(
                    select(f.c.status, f.c.institution, f.c.finding_class, func.count())
                    .where(f.c.live.is_(True))
                    .group_by(f.c.status, f.c.institution, f.c.finding_class))]
    moment = datetime.fromisoformat(now.replace("Z", "+00:00"))
    edges = [(label, (moment - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
              if days != float("inf") else "") for label, days in FRESHNESS]
    hosts: dict[tuple[str, str], int] = {}
    for inst, collected, n in conn.execute(
            select(h.c.institution, h.c.current_collected_at, func.count())
            .group_by(h.c.institution, h.c.current_collected_at)):
        label = next(lb for lb, edge in edges if collected >= edge)
        hosts[(inst, label)] = hosts.get((inst, label), 0) + int(n)
    last = conn.execute(select(r.c.started_at, r.c.finished_at).where(
        r.c.finished_at.is_not(None)).order_by(r.c.review_id.desc()).limit(1)).first()
    count = int(conn.execute(select(func.count()).select_from(r)).scalar_one())
    start, end = (_ts(last.started_at), _ts(last.finished_at)) if last else (None, None)
    return Gauges(
        findings=sorted(findings),
        hosts=sorted((i, lb, n) for (i, lb), n in hosts.items()),
        alerts=sorted((rcv, state, n) for (rcv, state), n in alertq.depth(conn).items()),
        unrouted_events=alertq.unrouted_count(conn), reviews=count,
        last_review_finished=end,
        last_review_recording_s=(end - start) if start is not None and end is not None
        else None)
