"""Ransomware triage: which family, is there a free decryptor, which hosts.

Public API::

    load_all(paths=(), *, allow_unsigned=False) -> list[FamilyList]   # lists in force
    merged(lists) -> list[Family]
    build_index(families) -> Index
    identify_file(path, index) / identify_name(name, index) -> Identification
    find_family(families, "LockBit") -> Family     # id, name or synonym, any case/spacing

See ``docs/ransom.md``.
"""

from __future__ import annotations

from collections.abc import Iterable

from kitvet.errors import ListError
from kitvet.model.ransom import Family
from kitvet.ransom.features import compact
from kitvet.ransom.identify import build_index, identify_file, identify_name
from kitvet.ransom.listfile import load_all, merged

__all__ = ["build_index", "find_families", "find_family", "identify_file", "identify_name", "load_all",
           "merged"]


def find_families(families: Iterable[Family], query: str) -> list[Family]:
    """Every family ``query`` names (see :func:`find_family`); an exact id gives one."""
    fams = list(families)
    q = query.strip()
    exact = [f for f in fams if f.id == q.lower()]
    if exact:
        return exact
    key = compact(q)
    hits = [f for f in fams if key and key in {compact(n) for n in (f.name, *f.synonyms)}]
    if hits:
        return hits
    near = [f.id for f in fams if key and (key in f.id.replace("-", "") or key in compact(f.name))]
    hint = f"; did you mean {', '.join(near[:6])}?" if near else ""
    raise ListError(f"no family {query!r} in the family lists in force{hint}")


def find_family(families: Iterable[Family], query: str) -> Family:
    """The family ``query`` names: its id, name or a synonym, compared without case, spaces
    and punctuation ('Black Suit' = 'blacksuit'). Exact ids win; more than one family with
    that name is refused with the candidates."""
    hits = find_families(families, query)
    if len(hits) == 1:
        return hits[0]
    names = ", ".join(f"{f.id} ({f.name})" for f in hits[:8])
    raise ListError(f"{query!r} names {len(hits)} families: {names}; give the id")
