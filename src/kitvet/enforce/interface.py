"""The interface every ban exporter implements, and the shapes they share.

An exporter turns a :class:`BanSet` (the subjects selected for enforcement, with the lists and
policy they came from) into the rules file of one enforcement tool. What a target cannot express
(a vendor with no USB id cannot become a USBGuard rule) becomes a :class:`Gap` — data printed in
the export's header, never silently dropped. Output is deterministic: the same BanSet and
options give the same bytes (no clocks, no random ids, sorted input).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kitvet.model.risk import Identifier, RiskList, Subject

if TYPE_CHECKING:
    from kitvet.model import Snapshot


@dataclass(frozen=True)
class Relative:
    """An organisation of a banned subject's corporate family, reached through a relation."""

    org_id: str
    name: str
    level: int  # 0 a brand, 1 a subsidiary, 2 an affiliate or joint venture
    path: str  # 'Huawei Device Co., Ltd. → a subsidiary of Huawei Technologies Co., Ltd.'
    source: str  # the relation path with its sources and the instruments that reach it


@dataclass(frozen=True)
class BannedSubject:
    """One subject selected for enforcement, with the list that carries it and why."""

    subject: Subject
    risk_list: RiskList
    status: str  # status under the policy (ban, review, ...) or "selected" when chosen by id
    rule: str | None = None  # the policy rule that set the status
    deciding: tuple[str, ...] = ()  # authorities of the assertions that set the status
    #: identifiers of the organisations the graph reaches from the subject's, within the reach
    #: that keeps the status and valid on the export date (:mod:`kitvet.enforce.family`)
    family: tuple[Identifier, ...] = ()
    #: the organisations the graph reaches through a relation (same conditions), so that a
    #: target can say which of them it has nothing for
    relatives: tuple[Relative, ...] = ()

    @property
    def id(self) -> str:
        """The subject's id."""
        return self.subject.id

    @property
    def name(self) -> str:
        """The subject's name."""
        return self.subject.name

    def identifiers(self, *kinds: str) -> list[Identifier]:
        """The subject's identifiers of these kinds, sorted by (kind, value) for stable output."""
        return _sorted(i for i in self.subject.identifiers if not kinds or i.kind in kinds)

    def family_identifiers(self, *kinds: str) -> list[Identifier]:
        """The identifiers of these kinds that the subject's corporate family adds (each
        ``source`` names the relation path), sorted as :meth:`identifiers`."""
        return _sorted(i for i in self.family if not kinds or i.kind in kinds)


def _sorted(idents: Iterable[Identifier]) -> list[Identifier]:
    return sorted(idents, key=lambda i: (i.kind, i.value.casefold(), i.value))


@dataclass(frozen=True)
class BanSet:
    """What an export enforces: selected subjects (sorted by id), lists, policy and date."""

    subjects: tuple[BannedSubject, ...]
    lists: tuple[RiskList, ...]
    policy: str  # profile name, or "explicit selection"
    date: str  # ISO date written into the export (the lists' date or --date; never "now")
    status: str | None = "ban"  # the status selected, None for an explicit selection
    withheld: tuple[Gap, ...] = ()  # identifiers left out at selection (e.g. unverified)

    def subject_ids(self) -> set[str]:
        """Ids of the selected subjects."""
        return {b.id for b in self.subjects}


@dataclass(frozen=True)
class Gap:
    """Something of a selected subject that this target cannot express, and why."""

    subject: str  # subject name
    reason: str  # e.g. "no USB vendor id — not expressible as a USBGuard rule"


@dataclass(frozen=True)
class Export:
    """One produced export: its text, how many rules it holds, and what it could not express."""

    target: str
    text: str
    rules: int
    gaps: tuple[Gap, ...] = ()
    media_type: str = "text/plain"
    extra: Mapping[str, Any] = field(default_factory=dict)


class Exporter(ABC):
    """Compiles a BanSet into the rules of one enforcement tool."""

    #: Target name used by ``--target``.
    name: str = ""
    #: One line for ``kitvet enforce export --help`` and the docs.
    description: str = ""
    #: Output formats this target offers; the first is the default.
    formats: tuple[str, ...] = ("default",)
    #: Whether the target needs inventory (``--inventory``), e.g. the removal plan.
    needs_inventory: bool = False

    @abstractmethod
    def export(
        self,
        bans: BanSet,
        *,
        fmt: str | None = None,
        options: Mapping[str, Any] | None = None,
        inventory: list[Snapshot] | None = None,
    ) -> Export:
        """The export of ``bans`` for this target (``fmt`` one of :attr:`formats`)."""
