"""Hosts and their inventory (current snapshot), with search."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from kitvet.server import inventory, queries
from kitvet.server.deps import Ctx, CurrentUser
from kitvet.store.db import read

router = APIRouter(tags=["hosts"])
# Host ids come from inventory and may contain "/": the routes take the rest of the path, the
# inventory route first so that ".../inventory" is not read as part of a host id.


@router.get("/hosts")
def list_hosts(ctx: Ctx, user: CurrentUser, q: str | None = None,
               institution: str | None = None, limit: int = Query(50, ge=1, le=500),
               offset: int = Query(0, ge=0)) -> dict[str, Any]:
    """Hosts in scope (search by host id or hostname), with live finding counts."""
    with read(ctx.estate.engine) as conn:
        rows, total = queries.hosts_page(conn, user.scope, q=q, institution=institution,
                                         limit=limit, offset=offset)
    return {"total": total, "limit": limit, "offset": offset, "items": rows}


@router.get("/hosts/{host_id:path}/inventory")
def host_inventory(ctx: Ctx, user: CurrentUser, host_id: str, kind: str = "software",
                   q: str | None = None, limit: int = Query(200, ge=1, le=1000)
                   ) -> dict[str, Any]:
    """The host's current software or devices (``kind``), optionally searched."""
    with read(ctx.estate.engine) as conn:
        queries.host(conn, user.scope, host_id)
    rows, truncated = inventory.search(ctx.estate, user.scope, kind=kind, q=q,
                                       host_id=host_id, limit=limit)
    return {"host_id": host_id, "kind": kind, "truncated": truncated, "items": rows}


@router.get("/hosts/{host_id:path}")
def get_host(ctx: Ctx, user: CurrentUser, host_id: str) -> dict[str, Any]:
    """One host."""
    with read(ctx.estate.engine) as conn:
        return queries.host(conn, user.scope, host_id)


@router.get("/inventory")
def search_inventory(ctx: Ctx, user: CurrentUser, q: str, kind: str = "software",
                     limit: int = Query(200, ge=1, le=1000)) -> dict[str, Any]:
    """Search the current inventory of every host in scope."""
    rows, truncated = inventory.search(ctx.estate, user.scope, kind=kind, q=q, limit=limit)
    return {"kind": kind, "q": q, "truncated": truncated, "items": rows}
