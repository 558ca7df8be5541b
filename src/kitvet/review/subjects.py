"""Subjects as a review saw them: the assertions behind a finding, with the policy's reading.

The findings table carries no assertions (they live in the lists); each review stores, for
every subject it found, what the lists in force said of it and what the policy made of each
assertion — so ``kitvet findings show`` can cite authority, instrument, date and reference
even after the lists change.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from kitvet.model.finding import finding_class
from kitvet.store import tables as t

logger = logging.getLogger(__name__)


def _assertion(a: Any, outcome: str | None = None) -> dict[str, Any]:
    d = dataclasses.asdict(a) if dataclasses.is_dataclass(a) else dict(a)  # type: ignore[arg-type]
    if outcome:
        d["outcome"] = outcome
    return {k: v for k, v in d.items() if v not in (None, "")}


def record(conn: Connection, subject_ids: Iterable[str], *, lists: Any, policy: Any,
           profile: str | None, review_id: int, now: str) -> int:
    """Store the lists' and policy's view of these subjects (replacing older views)."""
    wanted = set(subject_ids)
    if not wanted or lists is None or policy is None:
        return 0
    rows = []
    for rl, subject in lists.subjects():
        if subject.id not in wanted:
            continue
        wanted.discard(subject.id)
        try:
            verdict = policy.evaluate(subject)
        except Exception as e:
            logger.warning("policy could not evaluate %s: %s", subject.id, e)
            continue
        reasons = {id(o.assertion): o.reason for o in getattr(verdict, "outcomes", ())}
        rows.append({
            "subject_id": subject.id, "name": subject.name[:300], "kind": subject.kind[:40],
            "finding_class": finding_class(a.kind for a in subject.assertions),
            "list_name": rl.name[:300], "list_version": str(rl.version)[:100],
            "profile": profile, "status": verdict.status, "rule": verdict.rule,
            "assertions": json.dumps([_assertion(a, reasons.get(id(a)))
                                      for a in subject.assertions if not a.exculpatory],
                                     ensure_ascii=False, default=str),
            "exculpatory": json.dumps([_assertion(a) for a in verdict.exculpatory],
                                      ensure_ascii=False, default=str),
            "review_id": review_id, "updated_at": now})
    if rows:
        conn.execute(t.subjects.delete().where(
            t.subjects.c.subject_id.in_([r["subject_id"] for r in rows])))
        conn.execute(t.subjects.insert(), rows)
    return len(rows)


def get(conn: Connection, subject_id: str) -> dict[str, Any] | None:
    """The stored view of one subject, or None."""
    row = conn.execute(select(t.subjects).where(t.subjects.c.subject_id == subject_id)).first()
    if row is None:
        return None
    d = dict(row._mapping)
    for k in ("assertions", "exculpatory"):
        try:
            d[k] = json.loads(d[k] or "[]")
        except ValueError:
            d[k] = []
    return d
