"""What users do through the server, with the role and scope checks in one place.

Each function checks the account's role and scope first, then calls the estate API (which
writes the audit entry in the same transaction as the change). A reviewer acts only on
findings, hosts and institutions of its own scope; decisions on subjects and campaigns affect
every institution, so they need an admin.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from kitvet.errors import KitvetError
from kitvet.server import queries
from kitvet.server.accounts import User
from kitvet.server.context import ServerContext
from kitvet.store.db import read

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
                 reason: str | None) -> Any:
    """Move a finding the user may see to ``state`` with a reason."""
    _acting(user)
    detail = queries.finding_detail(ctx.estate, user.scope, finding_id)
    return ctx.estate.set_state(detail.finding.finding_id, (state or "").strip(),
                                actor=user.actor, reason=_text(reason, "reason"))


def add_exception(ctx: ServerContext, user: User, *, subject_id: str, scope: str,
                  reason: str | None, expires: str) -> Any:
    """Add an exception; a reviewer only for a host or an institution of its scope."""
    from kitvet.review.exceptions import parse_scope

    _acting(user)
    kind, value = parse_scope((scope or "").strip())
    if not user.scope.everything:
        if kind == "estate":
            raise Forbidden("only an admin may add an estate-wide exception")
        if kind == "institution" and not user.scope.allows(value):
            raise queries.NotFound("no such institution")
        if kind == "host":
            with read(ctx.estate.engine) as conn:
                queries.host(conn, user.scope, value or "")
    return ctx.estate.add_exception(subject_id=_text(subject_id, "subject")[:300],
                                    scope=scope.strip(), reason=_text(reason, "reason"),
                                    approver=user.username, expires=(expires or "").strip(),
                                    actor=user.actor)


def revoke_exception(ctx: ServerContext, user: User, exception_id: int,
                     reason: str | None) -> Any:
    """Revoke an exception; a reviewer only one scoped to its host or institution."""
    _acting(user)
    found = [e for e in ctx.estate.exceptions() if e.exception_id == exception_id]
    if not found:
        raise queries.NotFound("no such exception")
    if not user.scope.everything:
        kind, _, value = found[0].scope.partition(":")
        if kind == "estate":
            raise Forbidden("only an admin may revoke an estate-wide exception")
        if kind == "institution" and not user.scope.allows(value):
            raise queries.NotFound("no such exception")
        if kind == "host":
            with read(ctx.estate.engine) as conn:
                try:
                    queries.host(conn, user.scope, value)
                except queries.NotFound as e:
                    raise queries.NotFound("no such exception") from e
    return ctx.estate.revoke_exception(exception_id, actor=user.actor,
                                       reason=_text(reason, "reason"))


def visible_exceptions(ctx: ServerContext, user: User) -> list[Any]:
    """Exceptions whose scope the user may see (estate-wide ones are visible to everyone)."""
    out = []
    with read(ctx.estate.engine) as conn:
        hosts = None
        for e in ctx.estate.exceptions():
            kind, _, value = e.scope.partition(":")
            if user.scope.everything or kind == "estate" or (kind == "institution" and user.scope.allows(value)):
                out.append(e)
            elif kind == "host":
                if hosts is None:
                    hosts = queries.host_ids(conn, user.scope)
                if value in hosts:
                    out.append(e)
    return out


def decide(ctx: ServerContext, user: User, *, subject_id: str, decision: str,
           rationale: str | None, evidence: Sequence[str] = ()) -> Any:
    """Record a decision on a subject (admin only)."""
    _admin(user)
    ev = [e.strip()[:500] for e in evidence if e and e.strip()][:20]
    subject_id = _text(subject_id, "subject")[:300]
    known = {s.id for rl in getattr(ctx.lists, "lists", ()) for s in rl.subjects}
    if subject_id not in known:
        known |= ctx.estate.known_subjects()
        if subject_id not in known:  # a typo would record a decision that never applies
            from kitvet.review.findings import unknown_subject_message

            raise queries.NotFound(unknown_subject_message(subject_id, known))
    return ctx.estate.decide(subject_id, (decision or "").strip(),
                             actor=user.actor, rationale=_text(rationale, "rationale"),
                             evidence=ev)


def start_campaign(ctx: ServerContext, user: User, *, subject_id: str,
                   deadlines: dict[str, int | None] | None = None) -> Any:
    """Start a removal campaign (admin only)."""
    _admin(user)
    days = {k: v for k, v in (deadlines or {}).items() if v is not None}
    return ctx.estate.start_campaign(_text(subject_id, "subject")[:300], actor=user.actor,
                                     deadlines=days, lists=ctx.lists, policy=ctx.policy)


def close_campaign(ctx: ServerContext, user: User, campaign_id: int, reason: str | None) -> Any:
    """Close a campaign (admin only; refused while hosts still have the subject)."""
    _admin(user)
    return ctx.estate.close_campaign(campaign_id, actor=user.actor,
                                     reason=_text(reason, "reason"))
