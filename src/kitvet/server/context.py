"""What every request handler shares: the estate, settings, lists, policy, review worker,
the ingest queue."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kitvet.estate import Estate, IngestQueue
from kitvet.model.risk import ListSet, RiskList, Subject
from kitvet.policy import Policy
from kitvet.server.ingest import Uploads
from kitvet.server.security import LoginGate
from kitvet.server.settings import ServerSettings
from kitvet.server.worker import ReviewWorker

if TYPE_CHECKING:
    from kitvet.server.metrics import ServerMetrics


@dataclass
class ServerContext:
    """The server's long-lived objects (one per app)."""

    estate: Estate
    settings: ServerSettings
    lists: ListSet
    policy: Policy
    worker: ReviewWorker
    ingest: IngestQueue | None = None
    uploads: Uploads | None = None
    metrics: ServerMetrics | None = None
    login_gate: LoginGate = field(init=False)

    def __post_init__(self) -> None:
        self.login_gate = LoginGate(self.settings.login_max_concurrent,
                                    self.settings.login_queue_timeout_s)

    def subject(self, subject_id: str) -> tuple[RiskList, Subject] | None:
        """(risk list, subject) for an id, or None."""
        for rl, s in self.lists.subjects():
            if s.id == subject_id:
                return rl, s
        return None
