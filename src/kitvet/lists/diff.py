"""What changed between two versions of a risk list, so a reviewer can approve an update.

Subjects are matched by id; identifiers by (kind, value, package types, platforms);
assertions by (authority id or authority, kind, instrument). Anything else that differs on a
matched item is reported as a change, field by field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from kitvet.model.risk import Assertion, Identifier, RiskList, Subject


@dataclass(frozen=True)
class Change:
    """One difference: ``what`` is added | removed | changed."""

    what: str
    item: str  # "subject", "identifier", "assertion", "list"
    subject_id: str | None
    key: str  # human key of the item, e.g. "package_name xz-utils [deb]"
    fields: tuple[tuple[str, Any, Any], ...] = ()  # (field, old, new) for changes

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"change": self.what, "item": self.item, "subject": self.subject_id,
                "key": self.key,
                "fields": [{"field": f, "old": o, "new": n} for f, o, n in self.fields]}


@dataclass(frozen=True)
class ListDiff:
    """All differences between an old and a new list."""

    old: RiskList
    new: RiskList
    changes: tuple[Change, ...] = field(default_factory=tuple)

    def count(self, what: str, item: str | None = None) -> int:
        """How many changes of this kind (and item type)."""
        return sum(1 for c in self.changes if c.what == what and (item is None or c.item == item))

    @property
    def empty(self) -> bool:
        """True when the lists say the same thing."""
        return not self.changes


def _ident_key(i: Identifier) -> tuple[Any, ...]:
    return (i.kind, i.value.lower(), tuple(sorted(i.package_types)), tuple(sorted(i.platforms)))


def _ident_label(i: Identifier) -> str:
    where = ",".join(i.package_types + i.platforms)
    return f"{i.kind} {i.value}" + (f" [{where}]" if where else "")


def _assertion_key(a: Assertion) -> tuple[Any, ...]:
    return (a.authority_id or a.authority, a.kind, a.instrument)


def _assertion_label(a: Assertion) -> str:
    return f"{a.kind} by {a.authority_id or a.authority}: {a.citation or a.instrument}"


def _field_changes(old: Any, new: Any, skip: set[str]) -> tuple[tuple[str, Any, Any], ...]:
    out = []
    for f in fields(old):
        if f.name in skip:
            continue
        a, b = getattr(old, f.name), getattr(new, f.name)
        if a != b:
            out.append((f.name, list(a) if isinstance(a, tuple) else a,
                        list(b) if isinstance(b, tuple) else b))
    return tuple(out)


def _diff_items(sid: str, item: str, old: tuple, new: tuple, key: Callable[[Any], Any],
                label: Callable[[Any], str]) -> list[Change]:
    olds = {key(x): x for x in old}
    news = {key(x): x for x in new}
    out = [Change("removed", item, sid, label(x)) for k, x in olds.items() if k not in news]
    out += [Change("added", item, sid, label(x)) for k, x in news.items() if k not in olds]
    for k, x in olds.items():
        if k in news and x != news[k]:
            out.append(Change("changed", item, sid, label(x), _field_changes(x, news[k], set())))
    return out


def _diff_subject(old: Subject, new: Subject) -> list[Change]:
    out = []
    top = _field_changes(old, new, {"identifiers", "assertions"})
    if top:
        out.append(Change("changed", "subject", old.id, f"{old.id} ({old.name})", top))
    out += _diff_items(old.id, "identifier", old.identifiers, new.identifiers, _ident_key,
                       _ident_label)
    out += _diff_items(old.id, "assertion", old.assertions, new.assertions, _assertion_key,
                       _assertion_label)
    return out


def diff_lists(old: RiskList, new: RiskList) -> ListDiff:
    """The differences from ``old`` to ``new``."""
    changes: list[Change] = []
    meta = tuple((f, getattr(old, f), getattr(new, f))
                 for f in ("name", "publisher", "version", "date", "description")
                 if getattr(old, f) != getattr(new, f))
    if meta:
        changes.append(Change("changed", "list", None, old.name, meta))
    olds = {s.id: s for s in old.subjects}
    news = {s.id: s for s in new.subjects}
    for sid, s in olds.items():
        if sid not in news:
            changes.append(Change("removed", "subject", sid, f"{sid} ({s.name})"))
    for sid, s in news.items():
        if sid not in olds:
            changes.append(Change("added", "subject", sid, f"{sid} ({s.name})"))
            changes += [Change("added", "assertion", sid, _assertion_label(a))
                        for a in s.assertions]
        else:
            changes += _diff_subject(olds[sid], s)
    return ListDiff(old, new, tuple(changes))


def status_changes(old: RiskList, new: RiskList, policy: Any) -> list[tuple[str, str, str]]:
    """(subject id, old status, new status) of every subject whose status under ``policy``
    (anything with ``evaluate(subject).status``) differs; ``-`` where a list lacks the subject.
    What an update does to an organisation's bans and reviews, beside what it changes."""
    olds = {s.id: policy.evaluate(s).status for s in old.subjects}
    news = {s.id: policy.evaluate(s).status for s in new.subjects}
    ids = list(olds) + [sid for sid in news if sid not in olds]
    return [(sid, olds.get(sid, "-"), news.get(sid, "-")) for sid in ids
            if olds.get(sid, "-") != news.get(sid, "-")]
