"""What an account may see of the estate: its :class:`Scope`.

A reviewer of one institution never sees another's hosts, findings, campaign progress or audit
entries: every read of the estate takes a scope and filters by it. Rows outside the scope are
reported as :class:`NotFound`, the same as rows that do not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from kitvet.errors import KitvetError


class NotFound(KitvetError):
    """The thing does not exist, or the account may not see it (never said which)."""


@dataclass(frozen=True)
class Scope:
    """The institutions an account may see (``None``: every institution), and the actor whose
    own entries of the audit log it sees besides those about its institutions."""

    institutions: frozenset[str] | None = None
    actor: str | None = None

    def allows(self, institution: str | None) -> bool:
        """True if a row of ``institution`` is visible."""
        return self.institutions is None or (institution or "") in self.institutions

    @property
    def everything(self) -> bool:
        """True for an estate-wide scope."""
        return self.institutions is None


#: The whole estate (the command line, admins, estate-wide auditors).
EVERYTHING = Scope()
