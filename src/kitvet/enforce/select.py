"""Choosing what to enforce: subjects at a status under a policy, or named explicitly."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterable
from typing import Any

from kitvet.enforce.family import family_identifiers
from kitvet.enforce.interface import BannedSubject, BanSet, Gap
from kitvet.errors import EnforceError
from kitvet.lists.loader import subject_matches
from kitvet.model.finding import finding_class
from kitvet.model.risk import STATUSES, ListSet, Subject

#: Finding classes that are dangerous, not malicious: a ban export never blocks them unless
#: the profile's verdict on the subject is ``ban`` (naming them with --subject is not enough).
NOT_BANNED_UNLESS_PROFILE = frozenset({"vulnerability", "end-of-life"})

logger = logging.getLogger(__name__)

_PROCESS_GRAPH: Any = object()


def select_bans(
    lists: ListSet,
    *,
    policy: Any | None = None,
    status: str | None = "ban",
    subject_ids: Iterable[str] = (),
    date: str | None = None,
    include_unverified: bool = False,
    graph: Any = _PROCESS_GRAPH,
) -> BanSet:
    """The BanSet of ``lists``: subjects named in ``subject_ids`` (id, name or alias, any
    case), else those whose status under ``policy`` (anything with
    ``evaluate(subject) -> verdict.status/.rule`` and ``name``) is ``status``. A subject carried
    by several lists is taken once, from the first list.
    Identifiers marked unverified are left out (and named in every export's header) unless
    ``include_unverified``: a block rule should stand on a verified identifier.
    Each subject that names its organisation gets the identifiers of its corporate family
    (:mod:`kitvet.enforce.family`) from ``graph`` (an :class:`~kitvet.identify.graph.OrgGraph`;
    default the process's, None for none)."""
    wanted = [s for s in subject_ids if s]
    if date is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        raise EnforceError(f"--date must be an ISO date (YYYY-MM-DD), not {date!r}")
    if status is not None and status not in STATUSES:
        raise EnforceError(f"unknown status {status!r} (one of {', '.join(STATUSES)})")
    if not wanted and policy is None:
        raise EnforceError("selecting by status needs a policy profile (--profile), "
                           "or name subjects with --subject")
    chosen: dict[str, BannedSubject] = {}
    kept_out: dict[str, tuple[Subject, Gap]] = {}
    for rl, subject in lists.subjects():
        if subject.id in chosen or subject.id in kept_out:
            continue
        verdict = policy.evaluate(subject) if policy is not None else None
        v_status = getattr(verdict, "status", None) if verdict is not None else None
        v_rule = getattr(verdict, "rule", None) if verdict is not None else None
        deciding = tuple(dict.fromkeys(a.authority for a in getattr(verdict, "deciding", ())))
        picked = (any(subject_matches(subject, w) for w in wanted) if wanted
                  else v_status == status)
        if not picked:
            continue
        cls = finding_class(a.kind for a in subject.assertions)
        if cls in NOT_BANNED_UNLESS_PROFILE and v_status != "ban":
            kept_out[subject.id] = (subject, Gap(subject.name, (
                f"{cls.replace('-', ' ')}, not banned by "
                f"{getattr(policy, 'name', None) or 'any profile'} (status "
                f"{v_status or 'none'}): update or upgrade it; only a profile that bans "
                "it puts it in a ban export")))
            continue
        chosen[subject.id] = BannedSubject(subject, rl, str(v_status or "selected"), v_rule,
                                           deciding)
    if wanted:
        known = [b.subject for b in chosen.values()] + [s for s, _g in kept_out.values()]
        missing = [w for w in wanted if not any(subject_matches(s, w) for s in known)]
        if missing:
            raise EnforceError(f"no such subject in the lists: {', '.join(sorted(missing))} "
                               "(give a subject's id, name or alias; see 'kitvet lists show')")
    withheld = [] if include_unverified else _withhold_unverified(chosen)
    withheld += [g for _s, g in kept_out.values()]
    used = tuple(sorted(chosen.values(), key=lambda b: b.id))
    list_names = {b.risk_list.name for b in used}
    lists_used = tuple(sorted((rl for rl in lists.lists if rl.name in list_names or not used),
                              key=lambda rl: (rl.name, rl.version)))
    # the lists whose subjects are enforced date the export (the end-of-life list, rebuilt
    # every day, dates nothing it does not ban)
    date = date or _lists_date(ListSet(lists_used))
    if graph is _PROCESS_GRAPH:
        graph = _process_graph() if any(b.subject.organisation for b in used) else None
    if graph is not None:
        used = tuple(_with_family(b, graph, policy=None if wanted else policy, status=status,
                                  date=date, include_unverified=include_unverified,
                                  withheld=withheld) for b in used)
    return BanSet(
        subjects=used,
        lists=lists_used,
        policy=getattr(policy, "name", None) or ("explicit selection" if wanted else "default"),
        date=date,
        status=None if wanted else status,
        withheld=tuple(withheld),
    )


def _with_family(b: BannedSubject, graph: Any, *, policy: Any | None, status: str | None,
                 date: str, include_unverified: bool, withheld: list[Gap]) -> BannedSubject:
    """``b`` with its corporate family's identifiers: chosen by status, as far as the
    assertions that reach each level keep that status under the policy; chosen by name, as far
    as its assertions reach."""

    def keeps(level: int) -> bool:
        if policy is None or level == 0:
            return True
        return getattr(policy.evaluate(b.subject.reaching(level)), "status", None) == status

    family, gaps, relatives = family_identifiers(b.subject, graph, date=date, keeps=keeps,
                                                 include_unverified=include_unverified)
    withheld.extend(gaps)
    return dataclasses.replace(b, family=family, relatives=relatives) if family or relatives \
        else b


def _process_graph() -> Any:
    """The process's organisation graph; a broken graph file stops the export with its line."""
    from kitvet.identify import graph as og

    try:
        return og.default_graph()
    except og.OrgGraphError as e:
        raise EnforceError(str(e)) from e


def _withhold_unverified(chosen: dict[str, BannedSubject]) -> list[Gap]:
    """Drop unverified identifiers from the chosen subjects (in place); what was dropped."""
    withheld: list[Gap] = []
    for sid, b in list(chosen.items()):
        out = [i for i in b.subject.identifiers if not i.verified]
        if out:
            withheld.extend(
                Gap(b.name, f"unverified identifier {i.kind} {i.value} — left out "
                            "(the include-unverified option uses it)") for i in out)
            subj = dataclasses.replace(b.subject, identifiers=tuple(
                i for i in b.subject.identifiers if i.verified))
            chosen[sid] = dataclasses.replace(b, subject=subj)
    return withheld


def _lists_date(lists: ListSet) -> str:
    """The newest date of the lists (deterministic; an export never uses the clock)."""
    dates = sorted(rl.date for rl in lists.lists if rl.date)
    if not dates:
        raise EnforceError("the lists carry no date; give --date")
    return str(dates[-1])
