"""What users do through the server, with the role and scope checks in one place.

Each function checks the account's role and scope first, then calls the estate API (which
writes the audit entry in the same transaction as the change). A reviewer acts only on
findings, hosts and institutions of its own scope; decisions on subjects and campaigns affect
every institution, so they need an admin.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from kitvet.errors import KitvetError
from kitvet.estate import (
    CampaignRecord,
    DecisionRecord,
    ExceptionRecord,
    FindingRecord,
    NotFound,
    User,
    parse_scope,
)
from kitvet.server.context import ServerContext

logger = logging.getLogger(__name__)

MAX_TEXT = 2000


class Forbidden(KitvetError):
    """The account's role does not allow this."""


def _text(value: str | None, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise KitvetError(f"a {what} is required")
    if len(value) > MAX_TEXT:
        raise KitvetError(f"the {what} is longer than {MAX_TEXT} characters")
    return value


def _acting(user: User) -> None:
    if not user.can_act:
        raise Forbidden(f"the {user.role} role is read-only")


def _admin(user: User) -> None:
    if not user.is_admin:
        raise Forbidden("only an admin may do this (it affects every institution)")


def change_state(ctx: ServerContext, user: User, finding_id: str, state: str,
                 reason: str | None) -> FindingRecord:
    """Move a finding the user may see to ``state`` with a reason."""
    _acting(user)
    detail = ctx.estate.finding(finding_id, scope=user.scope, prefix=False)
    return ctx.estate.set_state(detail.finding.finding_id, (state or "").strip(),
                                actor=user.actor, reason=_text(reason, "reason"))


def add_exception(ctx: ServerContext, user: User, *, subject_id: str, scope: str,
                  reason: str | None, expires: str) -> ExceptionRecord:
    """Add an exception; a reviewer only for a host or an institution of its scope."""
    _acting(user)
    kind, value = parse_scope((scope or "").strip())
    if not user.scope.everything:
        if kind == "estate":
            raise Forbidden("only an admin may add an estate-wide exception")
        if kind == "institution" and not user.scope.allows(value):
            raise NotFound("no such institution")
        if kind == "host":
            ctx.estate.host(value or "", scope=user.scope)
    return ctx.estate.add_exception(subject_id=_text(subject_id, "subject")[:300],
                                    scope=scope.strip(), reason=_text(reason, "reason"),
                                    approver=user.username, expires=(expires or "").strip(),
                                    actor=user.actor)


def revoke_exception(ctx: ServerContext, user: User, exception_id: int,
                     reason: str | None) -> ExceptionRecord:
    """Revoke an exception; a reviewer only one scoped to its host or institution."""
    _acting(user)
    found = [e for e in ctx.estate.exceptions(scope=user.scope)
             if e.exception_id == exception_id]
    if not found:
        raise NotFound("no such exception")
    if not user.scope.everything and found[0].scope == "estate":
        raise Forbidden("only an admin may revoke an estate-wide exception")
    return ctx.estate.revoke_exception(exception_id, actor=user.actor,
                                       reason=_text(reason, "reason"))


def decide(ctx: ServerContext, user: User, *, subject_id: str, decision: str,
           rationale: str | None, evidence: Sequence[str] = ()) -> DecisionRecord:
    """Record a decision on a subject (admin only)."""
    _admin(user)
    ev = [e.strip()[:500] for e in evidence if e and e.strip()][:20]
    subject_id = _text(subject_id, "subject")[:300]
    unknown = ctx.estate.unknown_subject(subject_id, ctx.lists)
    if unknown:  # a typo would record a decision that never applies
        raise NotFound(unknown)
    return ctx.estate.decide(subject_id, (decision or "").strip(),
                             actor=user.actor, rationale=_text(rationale, "rationale"),
                             evidence=ev)


def start_campaign(ctx: ServerContext, user: User, *, subject_id: str,
                   deadlines: dict[str, int | None] | None = None) -> CampaignRecord:
    """Start a removal campaign (admin only)."""
    _admin(user)
    days = {k: v for k, v in (deadlines or {}).items() if v is not None}
    return ctx.estate.start_campaign(_text(subject_id, "subject")[:300], actor=user.actor,
                                     deadlines=days, lists=ctx.lists, policy=ctx.policy)


def close_campaign(ctx: ServerContext, user: User, campaign_id: int, reason: str | None
                   ) -> CampaignRecord:
    """Close a campaign (admin only; refused while hosts still have the subject)."""
    _admin(user)
    return ctx.estate.close_campaign(campaign_id, actor=user.actor,
                                     reason=_text(reason, "reason"))
