"""Partial coverage: a subject that names several makers (``Foreign-produced uncrewed aircraft
systems (DJI, Autel Robotics)``) but whose identifiers for a target recognise only some of them.

The makers of a subject are its aliases and, for a hardware vendor, the comma-separated names in
the parentheses that end its name. A maker is covered by a target when one identifier the target
expresses names it (its value, label or source contains every word of the maker's normalised
name). An uncovered maker is a gap in the export's header — never "Not expressible: nothing"
when half the subject is missing. (When the organisation graph gives subjects their
organisations, it replaces this reading of names.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from kitvet.enforce.interface import BannedSubject, Gap
from kitvet.identify.orgs import normalize_org
from kitvet.model.risk import Identifier, Subject

_TRAILING_LIST = re.compile(r"\(([^()]+)\)\s*$")


def makers(subject: Subject) -> list[str]:
    """The makers a subject names (empty when it names one or none)."""
    names = list(subject.aliases)
    m = _TRAILING_LIST.search(subject.name)
    if subject.kind == "hardware-vendor" and m and "," in m.group(1):
        names.extend(p.strip() for p in m.group(1).split(","))
    out: list[str] = []
    for n in names:
        if normalize_org(n) and n not in out:
            out.append(n)
    return out if len(out) > 1 else []


def _words(text: str) -> set[str]:
    return set(normalize_org(text).split())


def covers(ident: Identifier, maker: str) -> bool:
    """True when ``ident`` names ``maker``."""
    want = _words(maker)
    text = " ".join(x for x in (ident.value, ident.label or "", ident.source or "") if x)
    return bool(want) and want <= _words(text)


def uncovered(b: BannedSubject, used: Iterable[Identifier], what: str) -> list[Gap]:
    """Gaps for the makers of ``b`` that none of the identifiers ``used`` by a target names."""
    used = list(used)
    ms = makers(b.subject)
    if not ms or not used:
        return []
    done = [m for m in ms if any(covers(i, m) for i in used)]
    if not done:
        return []
    return [Gap(b.name, f"{m}: no {what} in the lists — these rules cover "
                        f"{', '.join(done)} only (partial coverage)")
            for m in ms if m not in done]
