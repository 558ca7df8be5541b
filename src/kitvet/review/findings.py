"""Findings: listing, detail with history, state changes by a reviewer, decisions on subjects."""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Connection, case, func, or_, select

from kitvet.errors import StoreError
from kitvet.model.finding import FINDING_CLASSES, expand_classes
from kitvet.model.risk import STATUSES
from kitvet.review import exceptions as exc
from kitvet.review.states import DECISIONS, check_transition
from kitvet.store import audit
from kitvet.store import tables as t
from kitvet.store.db import inserted_id
from kitvet.store.records import (
    DecisionRecord,
    FindingDetail,
    FindingEvent,
    FindingRecord,
    Page,
)

logger = logging.getLogger(__name__)

MAX_PAGE = 1000
#: The findings columns a :class:`FindingRecord` is built from (select these, then :func:`record`).
RECORD_COLUMNS = [t.findings.c[c] for c in FindingRecord.__dataclass_fields__]
#: Most severe first: ``order_by(SEVERITY)``.
SEVERITY = case({s: n for n, s in enumerate(STATUSES)}, value=t.findings.c.status,
                else_=len(STATUSES))
#: Class order of :data:`kitvet.model.FINDING_CLASSES`: ``order_by(CLASS_ORDER, SEVERITY)``
#: keeps each class together in a listing.
CLASS_ORDER = case({c: n for n, c in enumerate(FINDING_CLASSES)},
                   value=t.findings.c.finding_class, else_=len(FINDING_CLASSES))


def record(row: Any) -> FindingRecord:
    """A :class:`FindingRecord` from a row selected with :data:`RECORD_COLUMNS`."""
    m = row._mapping
    return FindingRecord(**{c: (bool(m[c]) if c == "live" else m[c])  # type: ignore[arg-type]
                            for c in FindingRecord.__dataclass_fields__})


#: Orders a listing can be sorted by (``sort=``); ties go by institution, host, finding id.
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


def like(col: Any, text: str) -> Any:
    """Case-insensitive substring match, portable and with LIKE wildcards escaped."""
    esc = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(col).like(f"%{esc}%", escape="\\")


def _many(val: Sequence[str] | str | None) -> list[str]:
    if not val:
        return []
    return [v for v in ([val] if isinstance(val, str) else list(val)) if v]


def listing(conn: Connection, *, institutions: Collection[str] | None = None,
            status: Sequence[str] | str | None = None,
            state: Sequence[str] | str | None = None, institution: str | None = None,
            subject: str | None = None, host: str | None = None, q: str | None = None,
            live: bool | None = True, reappeared: bool | None = None,
            finding_class: Sequence[str] | str | None = None, sort: str = "severity",
            descending: bool = False, limit: int = 100, offset: int = 0,
            max_page: int = MAX_PAGE) -> Page[FindingRecord]:
    """Findings matching every given filter, one page at a time: class by class (in the order
    of :data:`~kitvet.model.FINDING_CLASSES`), most severe first, or by ``sort``.

    ``institutions`` limits the listing to those institutions (None: all of them); ``q``
    searches names, publishers, hosts, subjects and finding ids; ``finding_class`` takes
    classes or their aliases (``eol``, ``vulnerable``), an unknown name is a
    :class:`StoreError`."""
    f = t.findings
    cond: list[Any] = class_condition(finding_class)
    if institutions is not None:
        cond.append(f.c.institution.in_(sorted(institutions)))
    for col, val in ((f.c.status, status), (f.c.state, state)):
        if _many(val):
            cond.append(col.in_(_many(val)))
    for col, val in ((f.c.institution, institution), (f.c.subject_id, subject),
                     (f.c.host_id, host)):
        if val:
            cond.append(col == val)
    if live is not None:
        cond.append(f.c.live.is_(bool(live)))
    if reappeared is not None:
        cond.append(f.c.reappeared > 0 if reappeared else f.c.reappeared == 0)
    if q and q.strip():
        text = q.strip()[:200]
        cond.append(or_(*(like(c, text) for c in (f.c.name, f.c.publisher, f.c.hostname,
                                                   f.c.host_id, f.c.subject_name,
                                                   f.c.subject_id, f.c.finding_id))))
    key = SORTS.get(sort, SEVERITY)
    order = [key.desc() if descending else key.asc(), f.c.institution, f.c.host_id,
             f.c.finding_id]
    if key is SEVERITY:  # a page sorted by severity keeps each class together
        order.insert(0, CLASS_ORDER)
    limit = max(1, min(int(limit), max_page))
    offset = max(0, int(offset))
    total = conn.execute(select(func.count()).select_from(f).where(*cond)).scalar_one()
    rows = conn.execute(select(*RECORD_COLUMNS).where(*cond).order_by(*order)
                        .limit(limit).offset(offset)).all()
    return Page(tuple(record(r) for r in rows), total, limit, offset)


def class_condition(finding_class: Sequence[str] | str | None) -> list[Any]:
    """The WHERE condition (as a list, empty for no filter) for classes or class aliases."""
    if not finding_class:
        return []
    names = [finding_class] if isinstance(finding_class, str) else list(finding_class)
    try:
        classes = expand_classes(n for name in names for n in name.split(",") if n.strip())
    except ValueError as e:
        raise StoreError(str(e)) from e
    return [t.findings.c.finding_class.in_(classes)] if classes else []


def detail(conn: Connection, finding_id: str) -> FindingDetail:
    """One finding with its evidence and history (a unique id prefix is accepted)."""
    f = t.findings
    row = _one(conn, finding_id)
    ev = conn.execute(select(t.finding_events).where(t.finding_events.c.finding_id ==
                                                     row.finding_id)
                      .order_by(t.finding_events.c.event_id)).all()
    evidence_text = conn.execute(select(f.c.evidence).where(f.c.finding_id == row.finding_id)
                                 ).scalar_one()
    try:
        evidence = json.loads(evidence_text or "{}")
    except ValueError:
        evidence = {"raw": evidence_text}
    events = tuple(FindingEvent(e.at, e.actor, e.kind, e.from_state, e.to_state, e.reason,
                                e.review_id) for e in ev)
    from kitvet.review import subjects

    return FindingDetail(record(row), evidence, events, subjects.get(conn, row.subject_id))


def _one(conn: Connection, finding_id: str) -> Any:
    f = t.findings
    cols = RECORD_COLUMNS
    row = conn.execute(select(*cols).where(f.c.finding_id == finding_id)).first()
    if row is not None:
        return row
    if len(finding_id) >= 6:
        rows = conn.execute(select(*cols).where(f.c.finding_id.like(
            finding_id.replace("%", "").replace("_", "") + "%")).limit(2)).all()
        if len(rows) == 1:
            return rows[0]
        if len(rows) > 1:
            raise StoreError(f"finding id prefix {finding_id!r} is ambiguous")
    elif finding_id:
        raise StoreError(f"no finding {finding_id!r} (an id prefix needs at least 6 "
                         "characters)")
    raise StoreError(f"no finding {finding_id!r}")


def set_state(conn: Connection, finding_id: str, state: str, *, actor: str, reason: str,
              now: str) -> FindingRecord:
    """Move a finding to ``state`` by hand (rules in :mod:`kitvet.review.states`)."""
    row = _one(conn, finding_id)
    check_transition(row.state, state, reason=reason)
    exception_id = None
    if state == "accepted":
        exception_id = exc.covering(conn, row, now[:10])
        if exception_id is None:
            raise StoreError("accepting a finding needs an active exception covering it "
                             "(kitvet exception add --subject ... --scope ...)")
    f = t.findings
    conn.execute(f.update().where(f.c.finding_id == row.finding_id).values(
        state=state, exception_id=exception_id, updated_at=now))
    conn.execute(t.finding_events.insert().values(
        finding_id=row.finding_id, at=now, actor=actor, kind="state", from_state=row.state,
        to_state=state, reason=reason))
    audit.append(conn, actor=actor, action="finding.state", obj=f"finding:{row.finding_id}",
                 at=now, details={"from": row.state, "to": state, "reason": reason,
                                  "exception_id": exception_id})
    return record(_one(conn, row.finding_id))


def decide(conn: Connection, subject_id: str, decision: str, *, actor: str, rationale: str,
           evidence: Sequence[str] = (), now: str) -> DecisionRecord:
    """Record a decision on a subject; it overrides the policy status of all its findings."""
    if decision not in DECISIONS:
        raise StoreError(f"unknown decision {decision!r} (one of: {', '.join(DECISIONS)})")
    if not subject_id.strip():
        raise StoreError("a decision needs a subject id")
    if not rationale or not rationale.strip():
        raise StoreError("a decision needs a rationale")
    d, f = t.decisions, t.findings
    status = DECISIONS[decision]
    conn.execute(d.update().where(d.c.subject_id == subject_id, d.c.superseded_at.is_(None))
                 .values(superseded_at=now))
    did = inserted_id(conn.execute(d.insert().values(
        subject_id=subject_id, decision=decision, status=status, rationale=rationale,
        evidence=json.dumps(list(evidence)), actor=actor, at=now)))
    affected = conn.execute(select(f.c.finding_id, f.c.state, f.c.status)
                            .where(f.c.subject_id == subject_id)).all()
    conn.execute(f.update().where(f.c.subject_id == subject_id).values(
        decision=decision, status=status, updated_at=now))
    if affected:
        conn.execute(t.finding_events.insert(), [
            dict(finding_id=a.finding_id, at=now, actor=actor, kind="decision",
                 from_state=a.state, to_state=a.state,
                 reason=f"decision {decision}: status {a.status} → {status} ({rationale})")
            for a in affected])
    audit.append(conn, actor=actor, action="decision", obj=f"subject:{subject_id}", at=now,
                 details={"decision": decision, "status": status, "rationale": rationale,
                          "evidence": list(evidence), "findings": len(affected),
                          "decision_id": int(did)})
    return DecisionRecord(int(did), subject_id, decision, status, rationale, tuple(evidence),
                          actor, now, None, len(affected))


def known_subjects(conn: Connection) -> set[str]:
    """Subject ids the estate knows: found by a review, recorded, or decided on before."""
    out: set[str] = set(conn.execute(select(t.subjects.c.subject_id)).scalars())
    out.update(conn.execute(select(t.findings.c.subject_id).distinct()).scalars())
    out.update(conn.execute(select(t.decisions.c.subject_id).distinct()).scalars())
    return out


def unknown_subject_message(subject_id: str, known: set[str]) -> str:
    """"no subject X" with the closest known ids, for a typo in a command."""
    import difflib

    close = difflib.get_close_matches(subject_id, sorted(known), n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    return f"no subject {subject_id!r} in the estate or the lists{hint}"


def in_force(conn: Connection) -> dict[str, tuple[str, str]]:
    """subject_id -> (decision, status) of the decisions not superseded."""
    d = t.decisions
    return {r.subject_id: (r.decision, r.status) for r in conn.execute(
        select(d.c.subject_id, d.c.decision, d.c.status).where(d.c.superseded_at.is_(None)))}


def decisions(conn: Connection, *, subject: str | None = None,
              include_superseded: bool = False) -> list[DecisionRecord]:
    """Decisions, newest first."""
    d = t.decisions
    q = select(d).order_by(d.c.decision_id.desc())
    if subject:
        q = q.where(d.c.subject_id == subject)
    if not include_superseded:
        q = q.where(d.c.superseded_at.is_(None))
    return [DecisionRecord(r.decision_id, r.subject_id, r.decision, r.status, r.rationale,
                           tuple(json.loads(r.evidence or "[]")), r.actor, r.at,
                           r.superseded_at) for r in conn.execute(q)]
