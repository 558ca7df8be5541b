"""Health and readiness probes for load balancers, systemd and container orchestrators.

- ``GET /healthz``: the process answers (no database, no credentials); 200 always.
- ``GET /readyz``: the estate can be served: the database answers a round trip within
  ``readiness_timeout_s``, its schema is the newest and the inventory lake is writable; 200 when
  ready, 503 otherwise, with each check's result and duration (never a URL or a password).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from kitvet import __version__
from kitvet.estate.health import Check, Readiness, readiness
from kitvet.server.deps import Ctx

router = APIRouter(tags=["probes"])

_READY_EXAMPLE = {"status": "ready", "checks": {"database": {"ok": True, "ms": 1.2}}}


@router.get("/healthz", summary="Liveness: the process answers")
def healthz(ctx: Ctx) -> dict[str, Any]:
    """Liveness without credentials or database: ``{"status": "ok", "version"}``."""
    return {"status": "ok", "version": __version__}


@router.get("/readyz", summary="Readiness: database, schema and lake",
            responses={200: {"content": {"application/json": {"example": _READY_EXAMPLE}}},
                       503: {"description": "not ready: the failing checks say why"}})
async def readyz(ctx: Ctx) -> JSONResponse:
    """Ready to serve: database round trip, schema at the newest revision, lake writable."""
    timeout = ctx.settings.readiness_timeout_s
    t0 = time.perf_counter()
    try:
        result = await asyncio.wait_for(run_in_threadpool(readiness, ctx.estate), timeout)
    except TimeoutError:
        ms = (time.perf_counter() - t0) * 1000
        result = Readiness((Check("database", False, ms, f"no answer within {timeout:g} s"),))
    body = result.to_dict()
    body["version"] = __version__
    return JSONResponse(body, status_code=200 if result.ready else 503)
