"""Hosts and their inventory (current snapshot), with search."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from kitvet.server.deps import CurrentUser, EstateDep, Offset

router = APIRouter(tags=["hosts"])
# Host ids come from inventory and may contain "/": the routes take the rest of the path, the
# inventory route first so that ".../inventory" is not read as part of a host id.


@router.get("/hosts")
def list_hosts(estate: EstateDep, user: CurrentUser, q: str | None = None,
               institution: str | None = None, limit: int = Query(50, ge=1, le=500),
               offset: Offset = 0) -> dict[str, Any]:
    """Hosts in scope (search by host id or hostname), with live finding counts."""
    rows, total = estate.hosts(scope=user.scope, q=q, institution=institution, limit=limit,
                               offset=offset)
    return {"total": total, "limit": limit, "offset": offset, "items": rows}


@router.get("/hosts/{host_id:path}/inventory")
def host_inventory(estate: EstateDep, user: CurrentUser, host_id: str, kind: str = "software",
                   q: str | None = None, limit: int = Query(200, ge=1, le=1000)
                   ) -> dict[str, Any]:
    """The host's current software or devices (``kind``), optionally searched."""
    estate.host(host_id, scope=user.scope)
    rows, truncated = estate.inventory(scope=user.scope, kind=kind, q=q, host_id=host_id,
                                       limit=limit)
    return {"host_id": host_id, "kind": kind, "truncated": truncated, "items": rows}


@router.get("/hosts/{host_id:path}")
def get_host(estate: EstateDep, user: CurrentUser, host_id: str) -> dict[str, Any]:
    """One host."""
    return estate.host(host_id, scope=user.scope)


@router.get("/inventory")
def search_inventory(estate: EstateDep, user: CurrentUser, q: str, kind: str = "software",
                     limit: int = Query(200, ge=1, le=1000)) -> dict[str, Any]:
    """Search the current inventory of every host in scope."""
    rows, truncated = estate.inventory(scope=user.scope, kind=kind, q=q, limit=limit)
    return {"kind": kind, "q": q, "truncated": truncated, "items": rows}
