"""Banned items in inventory: the matching engine run over snapshots for a BanSet's subjects.

The engine (:func:`kitvet.match.review_snapshots`) is given only the BanSet's lists and a
policy that gives each selected subject the BanSet's status, so the findings are exactly the
selected subjects' items, whatever the organisation's profile says of other subjects.

The subjects are matched on exactly what the exports enforce: their own identifiers as selected
(unverified ones left out) and their corporate family's (:mod:`kitvet.enforce.family`: as far as
the instruments reach and the status holds, relations held on the export's date), not on the
whole organisation graph again — an item of an affiliate that only a warning reaches, or of a
business sold before the export's date, is not something to remove under the ban.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kitvet.enforce.family import relative_of
from kitvet.enforce.interface import BanSet
from kitvet.model.risk import ListSet, Subject

if TYPE_CHECKING:
    import pyarrow as pa

    from kitvet.model import Snapshot

#: Separator of the per-snapshot host id used while matching several snapshots of one host.
_SEP = "\x1fkitvet-snapshot-"


@dataclass(frozen=True)
class _Verdict:
    status: str
    rule: str | None


@dataclass(frozen=True)
class SelectionPolicy:
    """A policy that gives the BanSet's subjects their status and every other subject 'allow'."""

    bans: BanSet
    name: str = "selection"

    def evaluate(self, subject: Subject) -> _Verdict:
        """The verdict of the BanSet for this subject."""
        for b in self.bans.subjects:
            if b.id == subject.id:
                return _Verdict(b.status if b.status != "selected" else "ban", b.rule)
        return _Verdict("allow", None)


def banned_findings(snapshots: list[Snapshot], bans: BanSet) -> pa.Table:
    """Findings (FINDING_FIELDS) of the BanSet's subjects in these snapshots."""
    import pyarrow.compute as pc

    from kitvet.match import review_snapshots

    lists = ListSet(tuple(_only_selected(bans)))
    policy: Any = SelectionPolicy(bans)  # duck-typed: evaluate(subject) -> status, rule
    result = review_snapshots(snapshots, lists, policy)
    table = result.findings
    if table.num_rows == 0:
        return table
    keep = pc.is_in(table.column("subject_id"), value_set=_pa_strings(bans.subject_ids()))
    return _with_paths(table.filter(keep), bans)


def _with_paths(table: pa.Table, bans: BanSet) -> pa.Table:
    """Findings reached through the corporate family say so as the review's do: the matched
    entry's ``level`` and ``via``, and the path (sources, instruments) in the explanation."""
    import json

    import pyarrow as pa

    rels = {(b.id, i.kind, i.value): rel for b in bans.subjects for i in b.family
            if (rel := relative_of(b, i)) is not None}
    if not rels or table.num_rows == 0:
        return table
    matched, explained = [], []
    for sid, m_json, expl in zip(table.column("subject_id").to_pylist(),
                                 table.column("matched").to_pylist(),
                                 table.column("explanation").to_pylist(), strict=True):
        entries = json.loads(m_json or "[]")
        for m in entries:
            rel = rels.get((sid, m.get("kind"), m.get("value")))
            if rel is not None:
                m["level"] = rel.level
                m["via"] = "via " + rel.source.removeprefix("organisation graph: ")
                if expl is not None and m["via"] not in expl:
                    expl = f"{expl} — {m['via']}"
        matched.append(json.dumps(entries, ensure_ascii=False, separators=(",", ":"))
                       if m_json is not None else None)
        explained.append(expl)
    for name, values in (("matched", matched), ("explanation", explained)):
        i = table.schema.get_field_index(name)
        table = table.set_column(i, table.schema.field(i), pa.array(values, pa.string()))
    return table


def findings_per_snapshot(snapshots: list[Snapshot], bans: BanSet) -> tuple[pa.Table, list]:
    """Findings of every snapshot separately (in one engine run), with a ``snapshot`` column
    (index into ``snapshots``) and ``host_id`` restored; and the snapshots' collected_at list."""
    import pyarrow as pa

    tagged = []
    for i, s in enumerate(snapshots):
        hid = f"{s.host.host_id}{_SEP}{i}"
        # rows take their host_id from the snapshot's host (kitvet.match.review_snapshots)
        tagged.append(dataclasses.replace(s, host=dataclasses.replace(s.host, host_id=hid)))
    table = banned_findings(tagged, bans)
    ids = table.column("host_id").to_pylist()
    snap_idx = [int(h.rsplit(_SEP, 1)[1]) for h in ids]
    orig = [h.rsplit(_SEP, 1)[0] for h in ids]
    table = table.set_column(table.schema.get_field_index("host_id"), "host_id",
                             pa.array(orig, pa.string()))
    table = table.append_column("snapshot", pa.array(snap_idx, pa.int32()))
    return table, [s.host.collected_at for s in snapshots]


def _only_selected(bans: BanSet) -> list:
    """The BanSet's lists holding only its subjects, as selected (unverified ids left out),
    each with its corporate family's identifiers and no organisation to expand again."""
    out = []
    for rl in bans.lists:
        subs = tuple(dataclasses.replace(b.subject, organisation=None,
                                         identifiers=b.subject.identifiers + b.family)
                     for b in bans.subjects if b.risk_list.name == rl.name)
        if subs:
            # not the cached list's derived identifiers: they are the whole list's, as loaded
            out.append(dataclasses.replace(rl, subjects=subs, cache_key=None))
    return out


def _pa_strings(values: set[str]) -> pa.Array:
    import pyarrow as pa

    return pa.array(sorted(values), pa.string())
