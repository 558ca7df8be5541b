"""Exceptions: waivers for a subject on one host, one institution or the whole estate.

An active exception (not revoked, ``expires`` today or later, UTC) turns the findings it covers
from open / in review / confirmed into ``accepted``. When it expires or is revoked, its accepted
findings re-open (at the next review for expiry, at once for a revocation), unless another
active exception covers them. Active exceptions that cover nothing are reported.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, or_, select

from kitvet.errors import StoreError
from kitvet.review.states import ACCEPTABLE
from kitvet.store import audit
from kitvet.store import tables as t
from kitvet.store.db import inserted_id
from kitvet.store.records import ExceptionRecord

logger = logging.getLogger(__name__)


def today() -> str:
    """Today's date (UTC) as ISO text."""
    return datetime.now(UTC).date().isoformat()


def parse_scope(scope: str) -> tuple[str, str | None]:
    """``host:H`` / ``institution:I`` / ``estate`` → (kind, value)."""
    kind, _, value = scope.partition(":")
    kind = kind.strip().lower()
    if kind == "estate" and not value:
        return "estate", None
    if kind in ("host", "institution") and value.strip():
        return kind, value.strip()
    raise StoreError(f"bad scope {scope!r}: use host:HOST_ID, institution:NAME or estate")


def parse_expiry(value: str | date) -> str:
    """An expiry date (ISO ``YYYY-MM-DD``), which must not be in the past."""
    try:
        d = value if isinstance(value, date) else date.fromisoformat(str(value).strip())
    except ValueError as e:
        raise StoreError(f"bad expiry date {value!r}: use YYYY-MM-DD") from e
    if d.isoformat() < today():
        raise StoreError(f"expiry {d.isoformat()} is already past")
    return d.isoformat()


def _covers(ex: Any) -> Any:
    """SQL condition: live, non-removed findings this exception covers."""
    f = t.findings
    cond = [f.c.subject_id == ex.subject_id, f.c.live.is_(True), f.c.state != "removed"]
    if ex.scope_kind == "host":
        cond.append(f.c.host_id == ex.scope_value)
    elif ex.scope_kind == "institution":
        cond.append(f.c.institution == ex.scope_value)
    return and_(*cond)


def _active(now_day: str) -> Any:
    e = t.exceptions
    return and_(e.c.revoked_at.is_(None), e.c.expires >= now_day)


def add(conn: Connection, *, subject_id: str, scope: str, reason: str, approver: str,
        expires: str | date, actor: str, now: str) -> int:
    """Record an exception (with its audit entry); returns its id."""
    kind, value = parse_scope(scope)
    if not reason.strip() or not approver.strip():
        raise StoreError("an exception needs a reason and an approver")
    if kind == "host" and conn.execute(select(t.hosts.c.host_id).where(
            t.hosts.c.host_id == value)).first() is None:
        named = list(conn.execute(select(t.hosts.c.host_id).where(t.hosts.c.hostname == value)
                                  .order_by(t.hosts.c.host_id).limit(3)).scalars())
        hint = (f" ({value!r} is the hostname of host id {', '.join(map(repr, named))}: "
                "give the host id)") if named else ""
        raise StoreError(f"no host {value!r} in the estate{hint}")
    if kind == "institution" and conn.execute(select(t.institutions.c.name).where(
            t.institutions.c.name == value)).first() is None:
        raise StoreError(f"no institution {value!r} in the estate")
    exp = parse_expiry(expires)
    eid = inserted_id(conn.execute(t.exceptions.insert().values(
        subject_id=subject_id, scope_kind=kind, scope_value=value, reason=reason,
        approver=approver, expires=exp, created_at=now, created_by=actor)))
    audit.append(conn, actor=actor, action="exception.add", obj=f"exception:{eid}", at=now,
                 details={"subject_id": subject_id, "scope": scope, "reason": reason,
                          "approver": approver, "expires": exp})
    return int(eid)


def revoke(conn: Connection, exception_id: int, *, actor: str, reason: str, now: str) -> None:
    """Revoke an exception (its accepted findings re-open at once)."""
    e = t.exceptions
    row = conn.execute(select(e).where(e.c.exception_id == exception_id)).first()
    if row is None:
        raise StoreError(f"no exception {exception_id}")
    if row.revoked_at:
        raise StoreError(f"exception {exception_id} was already revoked on {row.revoked_at}")
    if not reason.strip():
        raise StoreError("a reason is required to revoke an exception")
    conn.execute(e.update().where(e.c.exception_id == exception_id).values(
        revoked_at=now, revoked_by=actor, revoke_reason=reason))
    audit.append(conn, actor=actor, action="exception.revoke", obj=f"exception:{exception_id}",
                 at=now, details={"reason": reason})


def apply(conn: Connection, *, actor: str, now: str, review_id: int | None = None
          ) -> tuple[int, int, list[int]]:
    """Accept what active exceptions cover, re-open what lapsed ones held.

    Returns (accepted, reopened, ids of active exceptions that cover nothing).
    """
    f, e = t.findings, t.exceptions
    active = conn.execute(select(e).where(_active(now[:10])).order_by(e.c.exception_id)).all()
    active_ids = {ex.exception_id for ex in active}
    moves: list[dict[str, Any]] = []  # finding updates (b_id, state, exception_id)
    events: list[dict[str, Any]] = []
    unused, held = [], set()
    for ex in active:
        covered = conn.execute(select(f.c.finding_id, f.c.state, f.c.exception_id)
                               .where(_covers(ex))).all()
        if not covered:
            unused.append(ex.exception_id)
        for c in covered:
            if c.finding_id in held:
                continue  # an earlier exception holds it
            held.add(c.finding_id)
            if c.state in ACCEPTABLE:
                moves.append({"b_id": c.finding_id, "state": "accepted",
                              "exception_id": ex.exception_id, "updated_at": now})
                events.append(_event(c.finding_id, c.state, "accepted", actor, now,
                                     f"exception {ex.exception_id} ({ex.reason})", review_id))
            elif c.state == "accepted" and c.exception_id not in active_ids:
                moves.append({"b_id": c.finding_id, "state": "accepted",
                              "exception_id": ex.exception_id, "updated_at": now})
    accepted = len(events)
    for lapsed in conn.execute(select(f.c.finding_id, f.c.exception_id).where(
            f.c.state == "accepted", f.c.exception_id.is_not(None))).all():
        if lapsed.finding_id not in held:
            moves.append({"b_id": lapsed.finding_id, "state": "open", "exception_id": None,
                          "updated_at": now})
            events.append(_event(lapsed.finding_id, "accepted", "open", actor, now,
                                 f"exception {lapsed.exception_id} expired or was revoked",
                                 review_id))
    reopened = len(events) - accepted
    if moves:
        conn.execute(f.update().where(f.c.finding_id == bindparam("b_id")), moves)
    if events:
        conn.execute(t.finding_events.insert(), events)
    if accepted or reopened:
        audit.append(conn, actor=actor, action="exception.apply", obj="estate", at=now,
                     details={"accepted": accepted, "reopened": reopened,
                              "review_id": review_id})
    return accepted, reopened, unused


def _event(fid: str, frm: str, to: str, actor: str, now: str, reason: str,
           review_id: int | None) -> dict[str, Any]:
    return {"finding_id": fid, "at": now, "actor": actor, "kind": "exception",
            "from_state": frm, "to_state": to, "reason": reason, "review_id": review_id}


def covering(conn: Connection, finding: Any, day: str) -> int | None:
    """Id of an active exception covering this finding, or None."""
    e = t.exceptions
    row = conn.execute(select(e.c.exception_id).where(
        _active(day), e.c.subject_id == finding.subject_id,
        or_(e.c.scope_kind == "estate",
            and_(e.c.scope_kind == "host", e.c.scope_value == finding.host_id),
            and_(e.c.scope_kind == "institution", e.c.scope_value == finding.institution)))
        .order_by(e.c.exception_id)).first()
    return row.exception_id if row else None


def listing(conn: Connection, *, active_only: bool = False, now: str) -> list[ExceptionRecord]:
    """Exceptions with how many findings each covers now."""
    e = t.exceptions
    q = select(e).order_by(e.c.exception_id)
    if active_only:
        q = q.where(_active(now[:10]))
    out = []
    for ex in conn.execute(q):
        active = ex.revoked_at is None and ex.expires >= now[:10]
        n = conn.execute(select(func.count()).select_from(t.findings).where(_covers(ex))
                         ).scalar_one() if active else 0
        scope = ex.scope_kind if ex.scope_kind == "estate" else f"{ex.scope_kind}:{ex.scope_value}"
        out.append(ExceptionRecord(ex.exception_id, ex.subject_id, scope, ex.reason, ex.approver,
                                   ex.expires, ex.created_at, ex.created_by, ex.revoked_at,
                                   active, n))
    return out
