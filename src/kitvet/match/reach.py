"""Identifiers a subject gets from the organisation graph, as far as its assertions reach.

A subject that names its ``organisation`` is recognised by every name that organisation has in
any registry (IEEE registrant names, usb.ids / pci.ids ids, publishers, signers, Apple Team IDs,
package namespaces ...), and by those of related organisations as far as one of its accusing
assertions reaches (``Assertion.reach``): brands always, subsidiaries from ``subsidiaries``,
affiliates and joint ventures only at ``subsidiaries-and-affiliates``.

An identifier reached through a relation carries the path (``via``), the reach level it needs
and the dates the path held: the engine attributes it only to snapshots taken while every
relation of the path held, gives the finding the status of the assertions that reach that far,
and writes the path into the finding's explanation::

    MAC 00:9a:cd:… → Huawei Device Co., Ltd. (IEEE MA-L 2024-07-22 …) → Huawei Technologies
    Company — via Huawei Device Co., Ltd. → a subsidiary of Huawei Technologies Co., Ltd.
    (source: …) — reached by FCC Covered List, DA 21-309; NDAA FY2019 Sec. 889
    (subsidiaries and affiliates)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kitvet.model.risk import Identifier, Subject

logger = logging.getLogger(__name__)

#: Identifier kinds each registry of the graph gives (organisation names are matched wherever an
#: organisation name is read: publisher, code signer, IEEE registrant).
_NAME_KINDS = ("publisher", "signer", "oui_org_name")
_ID_KINDS = {"usb.ids": "usb_vendor_id", "pci.ids": "pci_vendor_id", "apple-team-id": "team_id",
             "package-namespace": "purl", "bundle-id-prefix": "bundle_id_prefix", "cpe": "cpe",
             "package-name": "package_name", "process-name": "process_name"}
#: How each reach reads in an explanation.
REACH_WORDS = {0: "the entity", 1: "and its subsidiaries", 2: "and its subsidiaries and affiliates"}


@dataclass(frozen=True)
class GraphIdentifier:
    """An identifier a subject gets from the organisation graph."""

    identifier: Identifier
    level: int  # reach level it needs (0: the subject's own organisation or its brands)
    via: str | None  # the relation path, for the explanation
    valid_from: str | None  # first day the path held (YYYY-MM-DD)
    valid_to: str | None  # first day it no longer held


def max_reach(subject: Subject) -> int:
    """The furthest any accusing assertion of the subject reaches (0 if none says)."""
    return max((a.reach_level for a in subject.assertions if not a.exculpatory), default=0)


def reached_by(subject: Subject, level: int) -> str:
    """'reached by FCC Covered List, DA 21-309; NDAA FY2019 Sec. 889 (… and its subsidiaries
    and affiliates)': the instruments whose reach covers ``level``."""
    names = [f"{a.citation or a.instrument} ({REACH_WORDS[a.reach_level]})"
             for a in subject.assertions if not a.exculpatory and a.reach_level >= level]
    names = list(dict.fromkeys(names))
    return f"reached by {'; '.join(names)}" if names else ""


def graph_identifiers(subject: Subject, graph: object | None) -> list[GraphIdentifier]:
    """Every identifier ``subject`` gets from ``graph`` (a :class:`kitvet.identify.graph.
    OrgGraph`), without those the subject already lists."""
    if not subject.organisation or graph is None:
        return []
    from kitvet.identify.graph import NAME_REGISTRIES, OrgGraph

    assert isinstance(graph, OrgGraph)
    if graph.get(subject.organisation) is None:
        logger.warning("subject %s names organisation %r, which is not in the organisation "
                       "graph", subject.id, subject.organisation)
        return []
    from kitvet.match.probes import normalise_identifier

    own = {(i.kind, normalise_identifier(i.kind, i.value)) for i in subject.identifiers}
    out: list[GraphIdentifier] = []
    for reached in graph.family(subject.organisation, max_reach(subject)):
        via = graph.describe_path(reached) or None
        if via:
            via = f"via {via}"
            by = reached_by(subject, reached.level)
            if by:
                via += f" — {by}"
        org = reached.org
        values: list[tuple[str, str, str | None]] = []
        for name in org.all_names():
            values += [(kind, name, None) for kind in _NAME_KINDS]
        for n in org.names:
            if n.registry not in NAME_REGISTRIES and n.registry in _ID_KINDS:
                values.append((_ID_KINDS[n.registry], n.value, n.label))
        seen: set[tuple[str, str]] = set()
        for kind, value, label in values:
            key = (kind, normalise_identifier(kind, value))
            if key in seen or (reached.level == 0 and key in own):
                continue  # one identifier per comparison key: spellings fold into one
            seen.add(key)
            label = label or f"{org.name} (organisation graph)"
            ident = Identifier(kind=kind, value=value, source="organisation graph",
                               label=label)
            out.append(GraphIdentifier(ident, reached.level, via, reached.valid_from,
                                       reached.valid_to))
    return out
