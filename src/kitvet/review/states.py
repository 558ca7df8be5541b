"""Finding states and the transitions a reviewer may make by hand.

``open → in_review → confirmed | false_positive | accepted``; ``removed`` is set only by a
review that sees a fresh snapshot without the item, never by hand; a removed finding whose item
comes back is re-opened by the review and flagged as reappeared. ``accepted`` needs an active
exception that covers the finding.
"""

from __future__ import annotations

from kitvet.errors import StoreError
from kitvet.model import DECISIONS, STATES

#: state -> states a reviewer may move it to
MANUAL: dict[str, frozenset[str]] = {
    "open": frozenset({"in_review", "confirmed", "false_positive", "accepted"}),
    "in_review": frozenset({"open", "confirmed", "false_positive", "accepted"}),
    "confirmed": frozenset({"in_review", "accepted"}),
    "false_positive": frozenset({"open", "in_review"}),
    "accepted": frozenset({"open", "in_review"}),
    "removed": frozenset(),
}

#: States in which an exception turns a finding into ``accepted``.
ACCEPTABLE: frozenset[str] = frozenset({"open", "in_review", "confirmed"})


def check_transition(current: str, new: str, *, reason: str) -> None:
    """Raise :class:`StoreError` unless a reviewer may move ``current`` to ``new``."""
    if new not in STATES:
        raise StoreError(f"unknown state {new!r} (states: {', '.join(STATES)})")
    if not reason or not reason.strip():
        raise StoreError("a reason is required for every state change")
    if new == "removed":
        raise StoreError("a finding becomes removed only when a fresh snapshot of its host no "
                         "longer has the item (import it and run `kitvet estate review`)")
    if current == "removed":
        raise StoreError("a removed finding cannot be changed by hand; it re-opens by itself "
                         "if a later snapshot shows the item again")
    if new == current:
        raise StoreError(f"the finding is already {current}")
    if new not in MANUAL[current]:
        allowed = ", ".join(sorted(MANUAL[current])) or "none"
        raise StoreError(f"cannot go from {current} to {new} (allowed: {allowed})")


__all__ = ["ACCEPTABLE", "DECISIONS", "MANUAL", "STATES", "check_transition"]
