"""A banned organisation's corporate family, for the targets that block what a registry assigns.

A subject that names its ``organisation`` in the organisation graph (:mod:`kitvet.identify.graph`)
is enforced on the IEEE MAC blocks (NAC) and USB vendor ids (USBGuard) of every organisation the
graph reaches from it, as the review finds them (:mod:`kitvet.match.reach`): brands always,
subsidiaries and affiliates only as far as the subject's assertions reach, and at each reach only
while the assertions that reach that far still give the selected status under the policy (an
affiliate is never more than the instruments say of it). A relation counts only if it held on
the export's date: a business sold before then is not blocked, one bought later not yet.

Each identifier the family adds carries the relation path and the instruments that reach it in
its ``source``; the exporters write that beside every rule it becomes.
"""

from __future__ import annotations

from collections.abc import Callable

from kitvet.enforce.interface import Gap
from kitvet.identify.graph import OrgGraph, Reached
from kitvet.match.reach import max_reach, reached_by
from kitvet.model.risk import Identifier, Subject

#: Graph registry -> the identifier kind an exporter reads.
REGISTRY_KINDS = {"ieee": "oui_org_name", "usb.ids": "usb_vendor_id", "pci.ids": "pci_vendor_id"}


def holds_on(reached: Reached, day: str) -> bool:
    """True if every relation of the path held on ``day`` (YYYY-MM-DD)."""
    return (reached.valid_from or "0000-01-01") <= day < (reached.valid_to or "9999-12-31")


def family_identifiers(subject: Subject, graph: OrgGraph, *, date: str,
                       keeps: Callable[[int], bool], include_unverified: bool = False
                       ) -> tuple[tuple[Identifier, ...], list[Gap]]:
    """The identifiers (of :data:`REGISTRY_KINDS`) of the organisations reached from the
    subject's, and the gaps of the unverified ones left out. ``keeps(level)`` says whether the
    subject's assertions that reach ``level`` (0 itself and its brands, 1 subsidiaries, 2
    affiliates and joint ventures) still give the selected status."""
    if not subject.organisation or graph.get(subject.organisation) is None:
        return (), []
    own = {(i.kind, i.value.strip().casefold()) for i in subject.identifiers}
    out: dict[tuple[str, str], Identifier] = {}
    gaps: list[Gap] = []
    for reached in graph.family(subject.organisation, max_reach(subject)):
        if not holds_on(reached, date) or not keeps(reached.level):
            continue
        source = _source(subject, graph, reached)
        for name in reached.org.names:
            kind = REGISTRY_KINDS.get(name.registry)
            key = (kind or "", name.value.strip().casefold())
            if kind is None or key in own or key in out:
                continue
            if not name.verified and not include_unverified:
                gaps.append(Gap(subject.name, f"unverified {name.registry} name {name.value} of "
                                              f"{reached.org.name} — left out (the "
                                              "include-unverified option uses it)"))
                continue
            out[key] = Identifier(kind=kind, value=name.value, source=source,
                                  label=name.label or reached.org.name, verified=name.verified)
    return tuple(out.values()), gaps


def _source(subject: Subject, graph: OrgGraph, reached: Reached) -> str:
    """'organisation graph: Huawei Device Co., Ltd. → a subsidiary of Huawei Technologies Co.,
    Ltd. (source: …) — reached by FCC Covered List (and its subsidiaries and affiliates)'."""
    path = graph.describe_path(reached)
    if not path:
        return f"organisation graph: {reached.org.name}"
    by = reached_by(subject, reached.level)
    return f"organisation graph: {path}" + (f" — {by}" if by else "")
