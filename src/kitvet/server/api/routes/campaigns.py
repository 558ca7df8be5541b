"""Removal campaigns with per-institution progress and burndown."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from kitvet.server import actions, queries
from kitvet.server.api.schemas import CampaignCreate, Revoke
from kitvet.server.deps import Ctx, CurrentUser
from kitvet.store.db import read
from kitvet.store.records import CampaignRecord, CampaignStatus

router = APIRouter(tags=["campaigns"])


@router.get("/campaigns", response_model=list[CampaignStatus])
def list_campaigns(ctx: Ctx, user: CurrentUser, open_only: bool = False
                   ) -> list[CampaignStatus]:
    """Campaigns, with progress limited to the institutions in scope."""
    with read(ctx.estate.engine) as conn:
        return [queries.scoped_campaign(c, user.scope, conn)
                for c in ctx.estate.campaigns(open_only=open_only)]


@router.get("/campaigns/{campaign_id}", response_model=CampaignStatus)
def get_campaign(ctx: Ctx, user: CurrentUser, campaign_id: int) -> CampaignStatus:
    """One campaign."""
    try:
        c = ctx.estate.campaign(campaign_id)
    except Exception as e:
        raise queries.NotFound("no such campaign") from e
    with read(ctx.estate.engine) as conn:
        return queries.scoped_campaign(c, user.scope, conn)


@router.post("/campaigns", response_model=CampaignRecord, status_code=201)
async def create_campaign(ctx: Ctx, user: CurrentUser, body: CampaignCreate) -> CampaignRecord:
    """Start a removal campaign for a banned subject (admin)."""
    days = {"identify": body.identify_days, "plan": body.plan_days, "remove": body.remove_days}
    return await run_in_threadpool(lambda: actions.start_campaign(
        ctx, user, subject_id=body.subject_id, deadlines=days))


@router.post("/campaigns/{campaign_id}/close", response_model=CampaignRecord)
async def close_campaign(ctx: Ctx, user: CurrentUser, campaign_id: int, body: Revoke
                         ) -> CampaignRecord:
    """Close a campaign once fresh inventory shows the subject nowhere (admin)."""
    return await run_in_threadpool(actions.close_campaign, ctx, user, campaign_id, body.reason)
