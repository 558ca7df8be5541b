"""The ingest queue's rows (``ingest_jobs``): claim, finish, read, recover.

An accepted upload is queued by its body alone (:mod:`kitvet.store.spool`: the job is written
at the start of the file): accepting takes no database transaction. A worker claims bodies in
one serialised write transaction that writes their rows as ``running`` under its spool owner
(a body that already has a row is another worker's), and finishes each job in the same
transaction that stores its snapshots. A job whose owner died while running it is queued
again at the next start (its row ``queued``, claimed like a body); one that took a worker down
:data:`MAX_ATTEMPTS` times is failed instead of being retried for ever.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from kitvet.errors import KitvetError
from kitvet.store import tables as t
from kitvet.store.db import read, write
from kitvet.store.records import JobRecord

#: A job that was running when its process died this many times is failed, not retried.
MAX_ATTEMPTS = 3
PENDING = ("queued", "running")
FINAL = ("done", "refused", "failed")
j = t.ingest_jobs


def claim(engine: Engine, owner: str, *, limit: int, now: str,
          max_bytes: int | None = None, bodies: Sequence[str] = (),
          job_of: Callable[[str], dict[str, Any]] | None = None
          ) -> list[tuple[JobRecord, str, dict[str, Any]]]:
    """Take up to ``limit`` jobs, oldest first (and, after the first, only while their bodies
    add up to at most ``max_bytes``): the queued rows (jobs queued again after a crash), then
    the spooled ``bodies`` that have no row yet, whose jobs ``job_of(name)`` reads (a body it
    cannot read is failed); (job, spool name, options) each."""
    with write(engine) as conn:
        rows = conn.execute(select(j).where(j.c.status == "queued")
                            .order_by(j.c.created_at, j.c.job_id).limit(limit)).all()
        taken: list[Any] = []
        total = 0

        def room(size: int) -> bool:
            return not taken or max_bytes is None or total + size <= max_bytes

        for r in rows:
            if not room(r.body_bytes):
                break
            total += r.body_bytes
            taken.append(r)
        out = [(_record(r, status="running", started_at=now, attempts=r.attempts + 1),
                r.spool_name, json.loads(r.options)) for r in taken]
        if taken:
            conn.execute(j.update().where(j.c.job_id.in_([r.job_id for r in taken])).values(
                status="running", owner=owner, started_at=now, attempts=j.c.attempts + 1))
        todo: list[str] = []
        if bodies and job_of is not None and len(out) < limit and room(0):
            have = _ids(conn, bodies)
            todo = [n for n in bodies if n.split(".", 1)[0] not in have]
        new: list[dict[str, Any]] = []
        for name in todo:
            row: dict[str, Any]
            try:
                job = job_of(name)  # type: ignore[misc]
                row = dict(job_id=name.split(".", 1)[0], status="running",
                           institution=job.get("institution"), actor=str(job["actor"])[:300],
                           token_id=job.get("token_id"), spool_name=name,
                           body_bytes=int(job["body_bytes"]),
                           options=json.dumps(job.get("options") or {}), owner=owner,
                           attempts=1, created_at=str(job["created_at"]), started_at=now)
            except (KitvetError, KeyError, TypeError, ValueError) as e:
                new.append(dict(job_id=name.split(".", 1)[0], status="failed", actor="?",
                                spool_name=name, body_bytes=0, options="{}", attempts=1,
                                created_at=now, finished_at=now, http_status=500,
                                reason=f"the spooled upload cannot be read: {str(e)[:300]}"))
                continue
            if not room(row["body_bytes"]):
                break
            total += row["body_bytes"]
            taken.append(row)
            new.append(row)
            out.append((_record(_Row(row)), name, json.loads(row["options"])))
            if len(out) >= limit:
                break
        if new:
            conn.execute(j.insert(), [dict(_BLANK, **r) for r in new])
    return out


_BLANK: dict[str, Any] = dict.fromkeys(("institution", "token_id", "owner", "http_status",
                                        "reason", "place", "result", "started_at",
                                        "finished_at"))


class _Row:
    """A row dict read as a row (attributes) by :func:`_record`."""

    def __init__(self, row: dict[str, Any]):
        self.__dict__.update(_BLANK, **row)


def _ids(conn: Connection, names: Sequence[str]) -> set[str]:
    """The job ids among these spool names that have a row."""
    ids = [n.split(".", 1)[0] for n in names]
    found: set[str] = set()
    for i in range(0, len(ids), 500):
        found.update(conn.execute(select(j.c.job_id).where(j.c.job_id.in_(ids[i:i + 500])))
                     .scalars())
    return found


def unclaimed(engine: Engine, names: Sequence[str]) -> int:
    """How many of these spooled bodies no worker has claimed (they have no row)."""
    if not names:
        return 0
    with read(engine) as conn:
        return len(names) - len(_ids(conn, names))


def finished_names(engine: Engine, names: Sequence[str]) -> set[str]:
    """The spool names among ``names`` whose jobs are finished."""
    out: set[str] = set()
    with read(engine) as conn:
        for i in range(0, len(names), 500):
            out.update(conn.execute(select(j.c.spool_name).where(
                j.c.spool_name.in_(list(names[i:i + 500])), j.c.status.in_(FINAL))).scalars())
    return out


def finish(conn: Connection, job_id: str, *, status: str, now: str, http_status: int,
           reason: str | None = None, place: str | None = None,
           result: dict[str, Any] | None = None) -> None:
    """Record a job's outcome (in the caller's write transaction)."""
    conn.execute(j.update().where(j.c.job_id == job_id).values(
        status=status, finished_at=now, http_status=http_status, owner=None,
        reason=reason[:2000] if reason else None, place=place[:500] if place else None,
        result=json.dumps(result) if result is not None else None))


def finish_many(engine: Engine, outcomes: Iterable[tuple[str, dict[str, Any]]], *,
                now: str) -> None:
    """Record several outcomes (``finish`` keywords per job) in one transaction."""
    with write(engine) as conn:
        for job_id, kw in outcomes:
            finish(conn, job_id, now=now, **kw)


def get(engine: Engine, job_id: str) -> JobRecord | None:
    """One job, or None."""
    with read(engine) as conn:
        r = conn.execute(select(j).where(j.c.job_id == job_id)).first()
    return _record(r) if r is not None else None


def counts(engine: Engine) -> dict[str, int]:
    """Jobs per status."""
    with read(engine) as conn:
        rows = conn.execute(select(j.c.status, func.count()).group_by(j.c.status)).all()
    return {s: int(n) for s, n in rows}


def recover(engine: Engine, alive: set[str], *, now: str) -> tuple[int, int]:
    """Queue again the running jobs of dead owners; fail those tried too often.
    Returns (queued again, failed)."""
    with write(engine) as conn:
        rows = conn.execute(select(j.c.job_id, j.c.owner, j.c.attempts)
                            .where(j.c.status == "running")).all()
        dead = [r for r in rows if r.owner not in alive]
        again = [r.job_id for r in dead if r.attempts < MAX_ATTEMPTS]
        failed = [r.job_id for r in dead if r.attempts >= MAX_ATTEMPTS]
        if again:
            conn.execute(j.update().where(j.c.job_id.in_(again))
                         .values(status="queued", owner=None))
        for job_id in failed:
            finish(conn, job_id, status="failed", now=now, http_status=500,
                   reason=f"the ingest worker stopped while processing this upload "
                   f"{MAX_ATTEMPTS} times; it is not tried again")
    return len(again), len(failed)


def _record(r: Any, **over: Any) -> JobRecord:
    result = json.loads(r.result) if getattr(r, "result", None) else None
    rec = JobRecord(job_id=r.job_id, status=r.status, institution=r.institution,
                    actor=r.actor, body_bytes=r.body_bytes, created_at=r.created_at,
                    started_at=r.started_at, finished_at=r.finished_at,
                    http_status=r.http_status, reason=r.reason, place=r.place, result=result,
                    attempts=r.attempts, token_id=r.token_id)
    if over:
        from dataclasses import replace

        rec = replace(rec, **over)
    return rec
