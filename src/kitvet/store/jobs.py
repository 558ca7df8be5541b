"""The ingest queue's rows (``ingest_jobs``): add, claim, finish, read, recover.

A job is added after its upload is on disk (:mod:`kitvet.store.spool`), claimed by one worker
at a time (a serialised write transaction moves it from ``queued`` to ``running`` under the
worker's spool owner) and finished in the same transaction that stores its snapshots. A job
whose owner died while running it is queued again at the next start; one that took a worker
down :data:`MAX_ATTEMPTS` times is failed instead of being retried for ever.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from kitvet.store import tables as t
from kitvet.store.db import read, write
from kitvet.store.records import JobRecord

#: A job that was running when its process died this many times is failed, not retried.
MAX_ATTEMPTS = 3
PENDING = ("queued", "running")
FINAL = ("done", "refused", "failed")
j = t.ingest_jobs


def add(conn: Connection, *, job_id: str, spool_name: str, body_bytes: int, actor: str,
        institution: str | None, token_id: int | None, options: dict[str, Any],
        now: str) -> None:
    """Queue a spooled upload."""
    conn.execute(j.insert().values(
        job_id=job_id, status="queued", institution=institution, actor=actor[:300],
        token_id=token_id, spool_name=spool_name, body_bytes=body_bytes,
        options=json.dumps(options), attempts=0, created_at=now))


def claim(engine: Engine, owner: str, *, limit: int, now: str,
          max_bytes: int | None = None) -> list[tuple[JobRecord, str, dict[str, Any]]]:
    """Take up to ``limit`` queued jobs, oldest first (and, after the first, only while their
    bodies add up to at most ``max_bytes``); (job, spool name, options) each."""
    with write(engine) as conn:
        rows = conn.execute(select(j).where(j.c.status == "queued")
                            .order_by(j.c.created_at, j.c.job_id).limit(limit)).all()
        taken: list[Any] = []
        total = 0
        for r in rows:
            if taken and max_bytes is not None and total + r.body_bytes > max_bytes:
                break
            total += r.body_bytes
            taken.append(r)
        if not taken:
            return []
        ids = [r.job_id for r in taken]
        conn.execute(j.update().where(j.c.job_id.in_(ids)).values(
            status="running", owner=owner, started_at=now, attempts=j.c.attempts + 1))
    return [(_record(r, status="running", started_at=now, attempts=r.attempts + 1),
             r.spool_name, json.loads(r.options)) for r in taken]


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


def pending_names(engine: Engine) -> set[str]:
    """Spool names of the jobs still to be done."""
    with read(engine) as conn:
        return set(conn.execute(select(j.c.spool_name).where(j.c.status.in_(PENDING)))
                   .scalars())


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
