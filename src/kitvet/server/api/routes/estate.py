"""Estate summary and institutions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from kitvet.server.deps import Ctx, CurrentUser, EstateDep

router = APIRouter(tags=["estate"])


@router.get("/health")
def health(ctx: Ctx) -> dict[str, Any]:
    """Liveness, without credentials: the version and whether background reviews succeed."""
    from kitvet import __version__

    error = getattr(ctx.worker, "last_error", None)
    return {"status": "degraded" if error else "ok", "version": __version__}


@router.get("/summary")
def summary(ctx: Ctx, user: CurrentUser) -> dict[str, Any]:
    """Hosts and live findings per institution, by status and state; freshness; campaigns."""
    out = ctx.estate.status(scope=user.scope).to_dict()
    out["user"] = {"username": user.username, "role": user.role,
                   "institutions": list(user.institutions)}
    out["review_worker"] = {"reviews": getattr(ctx.worker, "reviews", 0),
                            "last_error": getattr(ctx.worker, "last_error", None)}
    return out


@router.get("/institutions")
def institutions(estate: EstateDep, user: CurrentUser) -> list[str]:
    """The institutions this account may see."""
    return estate.institutions(scope=user.scope)
