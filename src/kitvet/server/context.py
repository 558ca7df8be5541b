"""What every request handler shares: the estate, settings, lists, policy, review worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kitvet.server.settings import ServerSettings


@dataclass
class ServerContext:
    """The server's long-lived objects (one per app)."""

    estate: Any  # kitvet.estate.Estate
    settings: ServerSettings
    lists: Any  # kitvet.model.risk.ListSet
    policy: Any  # kitvet.policy.Policy
    worker: Any  # kitvet.server.worker.ReviewWorker

    def subject(self, subject_id: str) -> tuple[Any, Any] | None:
        """(risk list, subject) for an id, or None."""
        for rl, s in self.lists.subjects():
            if s.id == subject_id:
                return rl, s
        return None
