"""``POST /api/v1/snapshots`` and ``GET /api/v1/jobs/{id}``: hosts and tools send inventory
with their institution's token; the upload is spooled and answered at once, then stored by the
ingest workers."""

from __future__ import annotations

import logging
import time
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from kitvet.estate import JobRecord, TokenInfo
from kitvet.server import ingest
from kitvet.server.api.schemas import JobOut, Problem
from kitvet.server.context import ServerContext
from kitvet.server.deps import Ctx, IngestToken, api_user

logger = logging.getLogger(__name__)
router = APIRouter(tags=["snapshots"])
API = "/api/v1"


@router.post("/snapshots", status_code=202, response_model=JobOut,
             responses={400: {"model": Problem}, 401: {"model": Problem},
                        403: {"model": Problem}, 413: {"model": Problem},
                        415: {"model": Problem}, 503: {"model": Problem}})
async def post_snapshots(request: Request, ctx: Ctx, token: IngestToken,
                         format: str | None = None, host: str | None = None,
                         wait: Annotated[float, Query(ge=0, le=120)] = 0) -> JobOut:
    """Send one inventory document: kitvet JSON, an osquery result log or a CycloneDX BOM.

    The body may be gzip-compressed. ``format`` forces the format (else it is detected);
    ``host`` names the host when the document does not (an osquery table dump, a BOM without
    a component). The upload is written to the estate's spool and answered ``202`` with its
    job: ``GET /api/v1/jobs/{job_id}`` tells when it is stored (the snapshots land
    atomically, then a review is queued) or why it was refused. Size limits, gzip and the
    format are checked while the body is read (413, 400, 415 at once); the rest once stored.
    ``wait`` (seconds) holds the answer until the job is finished: a refused upload then
    answers with its own status (400, 403, 413).
    """
    started, nbytes, outcome = time.perf_counter(), 0, "error"
    try:
        queue, uploads = _queue(ctx)
        job = await ingest.accept(request, queue, uploads,
                                  actor=f"token:{token.token_id}:{token.name}",
                                  institution=token.institution or "",
                                  token_id=token.token_id, fmt=format, host=host)
        nbytes = job.body_bytes
        if wait > 0:
            job = (await run_in_threadpool(queue.wait, [job.job_id], wait))[0]
            if job.status in ("refused", "failed"):
                raise ingest.IngestRefused(job.http_status or 500, job.reason or job.status,
                                           place=job.place)
        outcome = "accepted"
        return job_out(ctx, job)
    except ingest.IngestRefused as e:
        outcome = str(e.status)
        raise
    finally:
        if ctx.metrics is not None:
            ctx.metrics.observe_ingest(token.institution or "", outcome, nbytes,
                                       time.perf_counter() - started)


@router.get("/jobs/{job_id}", response_model=JobOut,
            responses={401: {"model": Problem}, 404: {"model": Problem}})
def get_job(job_id: str, request: Request, ctx: Ctx) -> JobOut:
    """An upload's job: its status, what it stored, or why it was refused. Readable with the
    ingest token of the job's institution, or by an account that sees that institution."""
    queue, _ = _queue(ctx)
    job = queue.job(job_id)
    if job is None or not _may_read(request, ctx, job):
        raise HTTPException(404, "no such job")
    return job_out(ctx, job)


def _may_read(request: Request, ctx: ServerContext, job: JobRecord) -> bool:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        info: TokenInfo | None = ctx.estate.tokens.lookup(value.strip())
        if info is not None and info.kind == "ingest":
            return bool(info.institution) and info.institution == job.institution
    user = api_user(request, ctx.estate)
    return user.scope.allows(job.institution)


def _queue(ctx: ServerContext) -> tuple[ingest.IngestQueue, ingest.Uploads]:
    if ctx.ingest is None or ctx.uploads is None:
        raise HTTPException(503, "ingest is not running")
    return ctx.ingest, ctx.uploads


def job_out(ctx: ServerContext, job: JobRecord) -> JobOut:
    """The API's view of a job."""
    res = job.result or {}
    review = None
    if job.status == "done":
        review = ("not needed" if not res.get("batch_id") else
                  "queued" if ctx.settings.review_mode == "background" else "off")
    return JobOut(job_id=job.job_id, status=job.status, location=f"{API}/jobs/{job.job_id}",
                  institution=job.institution, created_at=job.created_at,
                  started_at=job.started_at, finished_at=job.finished_at,
                  http_status=job.http_status, reason=job.reason, place=job.place,
                  format=res.get("format"), batch_id=res.get("batch_id"),
                  added=res.get("added"), duplicates=res.get("duplicates"),
                  became_current=res.get("became_current"), historical=res.get("historical"),
                  rejected=res.get("rejected"), review=review)
