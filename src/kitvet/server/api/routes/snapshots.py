"""``POST /api/v1/snapshots``: hosts and tools send inventory with their institution's token."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from kitvet.estate import TokenInfo
from kitvet.server import ingest
from kitvet.server.api.schemas import IngestResult, Problem
from kitvet.server.context import ServerContext
from kitvet.server.deps import Ctx, IngestToken

logger = logging.getLogger(__name__)
router = APIRouter(tags=["snapshots"])


@router.post("/snapshots", status_code=202, response_model=IngestResult,
             responses={400: {"model": Problem}, 401: {"model": Problem},
                        403: {"model": Problem}, 413: {"model": Problem},
                        415: {"model": Problem}})
async def post_snapshots(request: Request, ctx: Ctx, token: IngestToken,
                         format: str | None = None, host: str | None = None) -> IngestResult:
    """Ingest one inventory document: kitvet JSON, an osquery result log or a CycloneDX BOM.

    The body may be gzip-compressed. ``format`` forces the format (else it is detected);
    ``host`` names the host when the document does not (an osquery table dump, a BOM without
    a component). The snapshots land atomically, then a review is queued.
    """
    limit = ctx.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ingest.IngestRefused(413, f"request body larger than {limit} bytes")
    body = await ingest.read_body(request.stream(), limit=limit)
    result = await run_in_threadpool(_ingest, ctx, token, body,
                                     request.headers.get("content-encoding"),
                                     request.headers.get("content-type"), format, host)
    return result


def _ingest(ctx: ServerContext, token: TokenInfo, body: bytes, encoding: str | None,
            ctype: str | None, fmt: str | None, host: str | None) -> IngestResult:
    institution = token.institution or ""  # an ingest token always names one
    raw = ingest.decompress(body, encoding=encoding, limit=ctx.settings.max_inventory_bytes)
    name, snaps = ingest.parse(raw, fmt=fmt, content_type=ctype, host=host,
                               institution=institution)
    res = ctx.estate.import_snapshots(snaps, actor=f"token:{token.token_id}:{token.name}",
                                      institution=institution)
    ctx.estate.tokens.touch(token.token_id)
    review = "not needed"
    if res.batch_id is not None:
        if ctx.settings.review_mode == "background" and ctx.worker is not None:
            ctx.worker.request()
            review = "queued"
        else:
            review = "off"
    logger.info("ingest from %s: %d snapshot(s), %d new", token.name, len(snaps),
                len(res.added))
    return IngestResult(format=name, institution=institution, batch_id=res.batch_id,
                        added=list(res.added), duplicates=list(res.duplicates),
                        became_current=list(res.became_current),
                        historical=list(res.historical),
                        rejected=[s.to_dict() for s in res.rejected], review=review)
