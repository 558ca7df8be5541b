"""Removal campaigns with per-institution progress and burndown."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from kitvet.errors import KitvetError
from kitvet.estate import CampaignRecord, CampaignStatus, NotFound
from kitvet.server import actions
from kitvet.server.api.schemas import CampaignCreate, Revoke
from kitvet.server.deps import CampaignId, Ctx, CurrentUser, EstateDep

router = APIRouter(tags=["campaigns"])


@router.get("/campaigns", response_model=list[CampaignStatus])
def list_campaigns(estate: EstateDep, user: CurrentUser, open_only: bool = False
                   ) -> list[CampaignStatus]:
    """Campaigns, with progress limited to the institutions in scope."""
    return estate.campaigns(open_only=open_only, scope=user.scope)


@router.get("/campaigns/{campaign_id}", response_model=CampaignStatus)
def get_campaign(estate: EstateDep, user: CurrentUser, campaign_id: CampaignId) -> CampaignStatus:
    """One campaign."""
    try:
        return estate.campaign(campaign_id, scope=user.scope)
    except KitvetError as e:
        raise NotFound("no such campaign") from e


@router.post("/campaigns", response_model=CampaignRecord, status_code=201)
async def create_campaign(ctx: Ctx, user: CurrentUser, body: CampaignCreate) -> CampaignRecord:
    """Start a removal campaign for a banned subject (admin)."""
    days = {"identify": body.identify_days, "plan": body.plan_days, "remove": body.remove_days}
    return await run_in_threadpool(lambda: actions.start_campaign(
        ctx, user, subject_id=body.subject_id, deadlines=days))


@router.post("/campaigns/{campaign_id}/close", response_model=CampaignRecord)
async def close_campaign(ctx: Ctx, user: CurrentUser, campaign_id: CampaignId, body: Revoke
                         ) -> CampaignRecord:
    """Close a campaign once fresh inventory shows the subject nowhere (admin)."""
    return await run_in_threadpool(actions.close_campaign, ctx, user, campaign_id, body.reason)
