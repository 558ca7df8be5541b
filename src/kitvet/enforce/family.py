"""A banned organisation's corporate family, for every target.

A subject that names its ``organisation`` in the organisation graph (:mod:`kitvet.identify.graph`)
is enforced on the registry names and ids of every organisation the graph reaches from it, as
the review finds them (:mod:`kitvet.match.reach`): brands always, subsidiaries and affiliates only
as far as the subject's assertions reach, and at each reach only while the assertions that reach
that far still give the selected status under the policy (an affiliate is never more than the
instruments say of it). A relation counts only if it held on the export's date: a business sold
before then is not blocked, one bought later not yet.

What each registry gives (:data:`REGISTRY_KINDS`): IEEE registrant names (NAC), USB and PCI
vendor ids (USBGuard, Fleet), Apple Team IDs and signing ids (Santa), code-signing subjects and
organisation names as publishers (WDAC/AppLocker gaps or rules, Fleet), package and process
names (Fleet, WDAC). Each identifier the family adds carries the relation path and the
instruments that reach it in its ``source``; the exporters write that beside every rule it
becomes, and :func:`family_gaps` names each related organisation a target has nothing for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from kitvet.enforce.interface import BannedSubject, Gap, Relative
from kitvet.identify.graph import RELATION_WORDS, OrgGraph, Reached
from kitvet.match.probes import normalise_identifier
from kitvet.match.reach import max_reach, reached_by
from kitvet.model.risk import Identifier, Subject

#: Graph registry -> the identifier kind an exporter reads (organisation names of the
#: registries in :data:`PUBLISHER_REGISTRIES` are publishers as well, as in the review).
REGISTRY_KINDS = {"ieee": "oui_org_name", "usb.ids": "usb_vendor_id", "pci.ids": "pci_vendor_id",
                  "apple-team-id": "team_id", "signer": "signer",
                  "package-name": "package_name", "process-name": "process_name",
                  "bundle-id-prefix": "bundle_id_prefix", "package-namespace": "purl",
                  "cpe": "cpe"}
#: Registries whose names a program's publisher and code signer are compared with (the
#: review's organisation names: :data:`kitvet.identify.graph.NAME_REGISTRIES`), and the
#: canonical name.
PUBLISHER_REGISTRIES = ("publisher", "signer", "alias", "ieee")


def holds_on(reached: Reached, day: str) -> bool:
    """True if every relation of the path held on ``day`` (YYYY-MM-DD)."""
    return (reached.valid_from or "0000-01-01") <= day < (reached.valid_to or "9999-12-31")


def family_identifiers(subject: Subject, graph: OrgGraph, *, date: str,
                       keeps: Callable[[int], bool], include_unverified: bool = False
                       ) -> tuple[tuple[Identifier, ...], list[Gap], tuple[Relative, ...]]:
    """The identifiers the organisations reached from the subject's give (registry kinds of
    :data:`REGISTRY_KINDS`, organisation names as ``publisher``), the gaps of the unverified
    ones left out, and the organisations reached through a relation. ``keeps(level)`` says
    whether the subject's assertions that reach ``level`` (0 itself and its brands, 1
    subsidiaries, 2 affiliates and joint ventures) still give the selected status."""
    if not subject.organisation or graph.get(subject.organisation) is None:
        return (), [], ()
    own = {(i.kind, normalise_identifier(i.kind, i.value)) for i in subject.identifiers}
    out: dict[tuple[str, str], Identifier] = {}
    gaps: list[Gap] = []
    withheld: set[tuple[str, str]] = set()
    relatives: list[Relative] = []
    for reached in graph.family(subject.organisation, max_reach(subject)):
        if not holds_on(reached, date) or not keeps(reached.level):
            continue
        source = _source(subject, graph, reached)
        if reached.path:
            relatives.append(Relative(reached.org.id, reached.org.name, reached.level,
                                      short_path(graph, reached), source))
        for kind, name, value, label, verified, where in _values(reached):
            key = (kind, normalise_identifier(kind, value))
            if key in own or key in out or key in withheld:
                continue
            if not verified and not include_unverified:
                withheld.add(key)
                gap = Gap(subject.name, f"unverified {name} {value} of {reached.org.name} — "
                                        "left out (the include-unverified option uses it)")
                if gap not in gaps:
                    gaps.append(gap)
                continue
            # the subject's own organisation: where the graph read the name
            src = source if reached.path or not where else f"{source} ({name}: {where})"
            out[key] = Identifier(kind=kind, value=value, source=src,
                                  label=label or reached.org.name, verified=verified)
    return tuple(out.values()), gaps, tuple(dict.fromkeys(relatives))


def _values(reached: Reached) -> list[tuple[str, str, str, str | None, bool, str]]:
    """(kind, registry, value, label, verified, source) of each name of the organisation: its
    registry's kind, and a publisher for each organisation name (the canonical name last, and
    unverified when it is only an unverified registry name written again)."""
    org = reached.org
    out: list[tuple[str, str, str, str | None, bool, str]] = []
    for n in org.names:
        kind = REGISTRY_KINDS.get(n.registry)
        if kind is not None:
            out.append((kind, f"{n.registry} name", n.value, n.label, n.verified, n.source))
    key = normalise_identifier("publisher", org.name)
    doubtful = any(not n.verified and normalise_identifier("publisher", n.value) == key
                   for n in org.names if n.registry in PUBLISHER_REGISTRIES)
    names = [(f"{n.registry} name", n.value, n.verified, n.source) for n in org.names
             if n.registry in PUBLISHER_REGISTRIES
             and "=" not in n.value]  # a certificate subject (O=…, C=…) is not a name
    names.append(("organisation name", org.name, not doubtful, ""))
    # an organisation name is compared with a program's publisher and its code signer
    return out + [(kind, *n[:2], None, *n[2:]) for kind in ("publisher", "signer") for n in names]


def short_path(graph: OrgGraph, reached: Reached) -> str:
    """'Huawei Device Co., Ltd. → a subsidiary of Huawei Technologies Co., Ltd.' (no sources,
    for a gap line)."""
    return "; ".join(f"{graph.organisations[r.from_id].name} → {RELATION_WORDS[r.type]} "
                     f"{graph.organisations[r.to_id].name}" for r in reached.path)


def _source(subject: Subject, graph: OrgGraph, reached: Reached) -> str:
    """'organisation graph: Huawei Device Co., Ltd. → a subsidiary of Huawei Technologies Co.,
    Ltd. (source: …) — reached by FCC Covered List (and its subsidiaries and affiliates)'."""
    path = graph.describe_path(reached)
    if not path:
        return f"organisation graph: {reached.org.name}"
    by = reached_by(subject, reached.level)
    return f"organisation graph: {path}" + (f" — {by}" if by else "")


def relative_of(b: BannedSubject, ident: Identifier) -> Relative | None:
    """The related organisation an identifier of the family comes from (None: the subject's
    own, or its own organisation's in the graph)."""
    if ident not in b.family:
        return None
    return next((r for r in b.relatives if r.source == ident.source), None)


def family_gaps(b: BannedSubject, used: Iterable[Identifier], what: str,
                why: str = "") -> list[Gap]:
    """One gap per organisation of the subject's corporate family none of whose identifiers a
    target ``used``: 'corporate family: Huawei Device Co., Ltd. → a subsidiary of Huawei
    Technologies Co., Ltd.: no Apple Team ID or signing ID in the organisation graph — not in
    this export' (``why`` follows the graph, e.g. what the target would need)."""
    done = {i.source for i in used if i in b.family}
    return [Gap(b.name, f"corporate family: {r.path}: no {what} in the organisation "
                        f"graph{why} — not in this export")
            for r in b.relatives if r.source not in done]
