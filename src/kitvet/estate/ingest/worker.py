"""Storing a claimed batch of uploads: each parsed on its own, all stored as one lake batch and
one database transaction in which each job is marked done with its own result."""

from __future__ import annotations

import logging
import shutil
from typing import TYPE_CHECKING, Any

from kitvet.errors import StoreError
from kitvet.estate.ingest.limits import IngestLimits
from kitvet.estate.ingest.reading import read_job
from kitvet.match.sidekeys import make_side_keys
from kitvet.store import jobs
from kitvet.store.db import utcnow
from kitvet.store.ingest import Group, import_groups
from kitvet.store.records import ImportResult, JobRecord
from kitvet.store.spool import IngestRefused, Spool

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from kitvet.store.lake import Lake

logger = logging.getLogger(__name__)

#: A claimed job: the job, its spool name, its options.
Claimed = tuple[JobRecord, str, dict[str, Any]]
_Meta = tuple[JobRecord, str, str, dict[str, Any]]  # job, spool name, format, options
#: Suffix of the Parquet file a large BOM's rows are read into (kept until the batch is stored).
ROWS = ".rows.parquet"


def work_batch(engine: Engine, lake: Lake, spool: Spool, limits: IngestLimits,
               claimed: list[Claimed]) -> tuple[bool, set[int]]:
    """Parse and store claimed jobs, finish each, remove their bodies; (whether anything new
    was stored, the tokens that sent stored uploads)."""
    groups: list[Group] = []
    meta: list[_Meta] = []
    ended: list[tuple[str, dict[str, Any]]] = []
    work = spool.work_dir(claimed[0][0].job_id)  # one folder for the batch, emptied per job
    for job, name, opts in claimed:
        try:
            fmt, snaps = read_job(spool, name, opts, work, institution=job.institution,
                                  max_inventory_bytes=limits.max_inventory_bytes,
                                  max_items=limits.max_snapshot_items,
                                  spill=work / f"{job.job_id}{ROWS}")
            groups.append(Group(snaps, job.actor, job.institution,
                                bool(opts.get("create_institutions", True))))
            meta.append((job, name, fmt, opts))
        except IngestRefused as e:
            ended.append((job.job_id, dict(status="refused", http_status=e.status,
                                           reason=e.message, place=e.place)))
        except Exception as e:
            logger.exception("ingest job %s failed", job.job_id)
            ended.append((job.job_id, dict(status="failed", http_status=500,
                                           reason=f"the upload could not be processed: "
                                           f"{str(e)[:300]}")))
        finally:
            for f in work.iterdir():  # the upload's file; its spilled rows wait for _store
                if not f.name.endswith(ROWS):
                    f.unlink(missing_ok=True)
    if ended:
        jobs.finish_many(engine, ended, now=utcnow())
    try:
        stored = _store(engine, lake, groups, meta) if groups else False
    finally:
        del groups
        shutil.rmtree(work, ignore_errors=True)
    names = {j.job_id: n for j, n, _ in claimed}
    for job_id, _ in ended:
        spool.remove(names[job_id])
    for _job, name, _fmt, _opts in meta:
        spool.remove(name)
    return stored, {j.token_id for j, _n, _f, _o in meta if j.token_id is not None}


def _store(engine: Engine, lake: Lake, groups: list[Group], meta: list[_Meta]) -> bool:
    """Store the parsed uploads as one batch (one by one if the batch fails)."""
    def on_commit(conn: Connection, results: list[ImportResult]) -> None:
        now = utcnow()
        for (job, _name, fmt, _o), res in zip(meta, results, strict=True):
            jobs.finish(conn, job.job_id, status="done", http_status=200, now=now,
                        result=_result(fmt, job, res))

    try:
        results = import_groups(engine, lake, groups, on_commit=on_commit)
        batches = sorted({r.batch_id for r in results if r.batch_id})
        # the batch's side file of match keys now, not at the next full review
        make_side_keys(lake, batches)
        return bool(batches)
    except StoreError as e:
        if len(groups) == 1:
            jobs.finish_many(engine, [(meta[0][0].job_id, dict(
                status="failed", http_status=500, reason=e.message))], now=utcnow())
            return False
    stored = False
    for g, m in zip(groups, meta, strict=True):  # one bad upload must not hold back others
        stored = _store(engine, lake, [g], [m]) or stored
    return stored


def _result(fmt: str, job: JobRecord, res: ImportResult) -> dict[str, Any]:
    return {"format": fmt, "institution": job.institution, "batch_id": res.batch_id,
            "added": list(res.added), "duplicates": list(res.duplicates),
            "became_current": list(res.became_current), "historical": list(res.historical),
            "institutions_created": list(res.institutions_created),
            "rejected": [s.to_dict() for s in res.rejected]}
