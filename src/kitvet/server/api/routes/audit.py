"""The audit log (entries in scope) and its verification."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from kitvet.server.actions import Forbidden
from kitvet.server.deps import CurrentUser, EstateDep, Offset

router = APIRouter(tags=["audit"])


@router.get("/audit")
def list_audit(estate: EstateDep, user: CurrentUser, action: str | None = None,
               object: str | None = None, limit: int = Query(100, ge=1, le=500),
               offset: Offset = 0) -> list[dict[str, Any]]:
    """Audit entries, newest first (a scoped account sees those about its institutions)."""
    return [e.to_dict() for e in estate.audit(limit=limit, offset=offset, action=action,
                                              obj=object, newest_first=True, scope=user.scope)]


@router.get("/audit/verify")
def verify_audit(estate: EstateDep, user: CurrentUser) -> dict[str, Any]:
    """Verify the whole hash chain (admins and estate-wide auditors)."""
    if not user.scope.everything:
        raise Forbidden("verifying the whole chain needs an estate-wide account")
    check = estate.verify_audit()
    return {"ok": check.ok, "entries": check.entries, "head_hash": check.head_hash,
            "first_bad_seq": check.first_bad_seq, "problem": check.problem}
