"""The API's routers, one per resource, mounted under ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter

from kitvet.server.api.routes import (
    audit,
    campaigns,
    decisions,
    estate,
    findings,
    hosts,
    lists,
    reports,
    snapshots,
)

api_router = APIRouter()
for _m in (snapshots, estate, hosts, findings, decisions, campaigns, lists, audit,
           reports):
    api_router.include_router(_m.router)
