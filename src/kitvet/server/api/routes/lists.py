"""Risk lists and their subjects (with every assertion, exculpatory ones included)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from kitvet.estate import NotFound
from kitvet.server import evidence
from kitvet.server.deps import Ctx, CurrentUser

router = APIRouter(tags=["lists"])


@router.get("/lists")
def list_lists(ctx: Ctx, user: CurrentUser) -> list[dict[str, Any]]:
    """The risk lists the server reviews with."""
    return [{"name": rl.name, "publisher": rl.publisher, "version": rl.version, "date": rl.date,
             "signed_by": rl.signed_by, "subjects": len(rl.subjects),
             "description": rl.description} for rl in ctx.lists.lists]


@router.get("/subjects")
def list_subjects(ctx: Ctx, user: CurrentUser) -> list[dict[str, Any]]:
    """Every subject with its live findings in scope by status."""
    counts = ctx.estate.subject_counts(scope=user.scope)
    return [dict(evidence.subject_dict(rl, s), findings=counts.get(s.id, {}))
            for rl, s in ctx.lists.subjects()]


@router.get("/subjects/{subject_id}")
def get_subject(ctx: Ctx, user: CurrentUser, subject_id: str) -> dict[str, Any]:
    """One subject: identifiers, assertions (accusing and exculpatory), decisions."""
    found = ctx.subject(subject_id)
    if found is None:
        raise NotFound("no such subject")
    out = evidence.subject_dict(*found)
    out["decisions"] = [d.to_dict() for d in ctx.estate.decisions(subject=subject_id,
                                                                  include_superseded=True)]
    return out
