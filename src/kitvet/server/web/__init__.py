"""The dashboard's pages (server-rendered Jinja2, plain HTML forms, no JavaScript)."""

from __future__ import annotations

from fastapi import APIRouter

from kitvet.server.web import auth, findings, pages, reports

web_router = APIRouter(include_in_schema=False)
for _m in (auth, pages, findings, reports):
    web_router.include_router(_m.router)
