"""The compiled identifiers of a review, as a table: a list's own identifiers come from an
Arrow file derived once from the list and kept beside its cache entry, so a review with a
list of 300,000 identifiers neither decodes nor normalises them again.

:class:`IdentTable` is a sequence of :class:`~kitvet.match.probes.CompiledIdentifier` (the
engine and the Spark matcher index it by ``ident_id``), made of *parts*: the identifiers of
small lists and those the organisation graph adds, compiled in Python on every review, and
the identifiers of cached lists (:attr:`~kitvet.model.risk.RiskList.cache_key`), read from
``<cache key>.idents-<N>.arrow`` (memory-mapped). Only the identifiers a key matched become
Python objects; :meth:`IdentTable.forms` gives DuckDB every identifier's index form for the
join that finds them (:func:`kitvet.match.engine._joined_key_matches`).

The derived file is named after the digest of the code that normalises identifiers
(:data:`CODE_FILES`), so a kitvet that normalises differently derives it again; it is written
atomically and any file that cannot be read is derived again.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, overload

import pyarrow as pa

from kitvet.match.probes import CompiledIdentifier, normalise_identifier
from kitvet.model.risk import RiskList

logger = logging.getLogger(__name__)

#: Modules whose code decides identifiers' keys and index forms.
CODE_FILES = ("match/probes.py", "match/engine.py", "match/idtable.py", "lists/osv.py",
              "identify/orgs.py", "identify/releases.py")

_STR = pa.string()
_STRS = pa.list_(pa.string())
#: Columns of a derived file (one row per identifier of the list, in list order).
SCHEMA = pa.schema([
    ("subject_id", _STR), ("subject_name", _STR), ("kind", _STR), ("value", _STR),
    ("key", _STR), ("form", _STR), ("versions", _STRS), ("version_range", _STR),
    ("package_types", _STRS), ("platforms", _STRS), ("label", _STR)])


@functools.cache
def code_digest() -> str:
    """The first 16 hex digits of the SHA-256 of :data:`CODE_FILES`."""
    base = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for name in CODE_FILES:
        h.update(name.encode() + b"\0" + (base / name).read_bytes())
    return h.hexdigest()[:16]


#: Identifier kind -> how its index form is made from its key (the form a probe's index
#: files it under; kinds not here are never indexed: their probes ask every identifier).
#: Filled by :mod:`kitvet.match.engine`, which owns the probes' indexes.
INDEX_FORMS: dict[str, Callable[[str], str | None]] = {}


def index_form(kind: str, key: str) -> str | None:
    """The form an identifier's key is indexed under, None when it is asked about every key
    (a wildcard, a kind without an index)."""
    form = INDEX_FORMS.get(kind)
    return form(key) if form is not None else None


class IdentTable(Sequence[CompiledIdentifier]):
    """Every compiled identifier of a review, numbered from 0 (``ident_id``)."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._parts: list[tuple[str, Any]] = []  # ("py", [CompiledIdentifier]) | ("arrow", (list name, table))
        self._n = 0
        self._made: dict[int, CompiledIdentifier] = {}
        self._forms: pa.Table | None = None
        self._kinds: dict[str, int] | None = None

    # --- building ---------------------------------------------------------------------------

    def add_compiled(self, fields: Iterable[dict[str, Any]]) -> None:
        """Append identifiers compiled in Python (the fields of each but its ``ident_id``)."""
        items = [CompiledIdentifier(ident_id=self._n + n, **f) for n, f in enumerate(fields)]
        if items:
            self._starts.append(self._n)
            self._parts.append(("py", items))
            self._n += len(items)
            self._forms = self._kinds = None

    def add_table(self, list_name: str, table: pa.Table) -> None:
        """Append the identifiers of a list from its derived table (:data:`SCHEMA`)."""
        if table.num_rows:
            self._starts.append(self._n)
            self._parts.append(("arrow", (list_name, table)))
            self._n += table.num_rows
            self._forms = self._kinds = None

    # --- the sequence -----------------------------------------------------------------------

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> CompiledIdentifier: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[CompiledIdentifier]: ...

    def __getitem__(self, i: int | slice) -> CompiledIdentifier | Sequence[CompiledIdentifier]:
        if isinstance(i, slice):
            return [self[n] for n in range(*i.indices(self._n))]
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError(i)
        got = self._made.get(i)
        if got is None:
            self.prefetch([i])
            got = self._made[i]
        return got

    def __iter__(self) -> Iterator[CompiledIdentifier]:
        for start, (what, part) in zip(self._starts, self._parts, strict=True):
            if what == "py":
                yield from part
            else:
                self.prefetch(range(start, start + part[1].num_rows))
                for n in range(start, start + part[1].num_rows):
                    yield self._made.pop(n)

    def prefetch(self, ids: Iterable[int]) -> None:
        """Build the identifiers ``ids`` of table parts at once (one ``take`` per part)."""
        by_part: dict[int, list[int]] = {}
        for i in ids:
            if i in self._made:
                continue
            p = bisect.bisect_right(self._starts, i) - 1
            what, part = self._parts[p]
            if what == "py":
                self._made[i] = part[i - self._starts[p]]
            else:
                by_part.setdefault(p, []).append(i)
        for p, wanted in by_part.items():
            list_name, table = self._parts[p][1]
            rows = table.take(pa.array([i - self._starts[p] for i in wanted], pa.int64()))
            for i, r in zip(wanted, rows.to_pylist(), strict=True):
                self._made[i] = CompiledIdentifier(
                    ident_id=i, list_name=list_name, subject_id=r["subject_id"],
                    subject_name=r["subject_name"], kind=r["kind"], value=r["value"],
                    key=r["key"], versions=tuple(r["versions"] or ()),
                    version_range=r["version_range"],
                    package_types=tuple(r["package_types"] or ()),
                    platforms=tuple(r["platforms"] or ()), label=r["label"])

    # --- what the engine asks ---------------------------------------------------------------

    def forms(self) -> pa.Table:
        """(ident_id, kind, form) of every identifier: what the engine's join reads."""
        if self._forms is None:
            parts = []
            for start, (what, part) in zip(self._starts, self._parts, strict=True):
                if what == "py":
                    parts.append(pa.table({
                        "ident_id": pa.array([i.ident_id for i in part], pa.int32()),
                        "kind": pa.array([i.kind for i in part], _STR),
                        "form": pa.array([index_form(i.kind, i.key) for i in part], _STR)}))
                else:
                    t = part[1]
                    parts.append(pa.table({
                        "ident_id": pa.array(range(start, start + t.num_rows), pa.int32()),
                        "kind": t.column("kind"), "form": t.column("form")}))
            self._forms = pa.concat_tables(parts) if parts else pa.table({
                "ident_id": pa.array([], pa.int32()), "kind": pa.array([], _STR),
                "form": pa.array([], _STR)})
        return self._forms

    def count_kinds(self, kinds: Iterable[str]) -> int:
        """How many identifiers are of one of ``kinds`` (counted once per table: the engine
        asks for every probe)."""
        import pyarrow.compute as pc

        if self._kinds is None:
            self._kinds = {c["values"]: c["counts"]
                           for c in pc.value_counts(self.forms().column("kind")).to_pylist()}
        return sum(self._kinds.get(k, 0) for k in set(kinds))

    def of_kinds(self, kinds: Iterable[str], *, unindexed: bool = False
                 ) -> list[CompiledIdentifier]:
        """The identifiers of ``kinds`` in ``ident_id`` order (only those without an index
        form with ``unindexed``)."""
        import pyarrow.compute as pc

        f = self.forms()
        mask = pc.is_in(f.column("kind"), value_set=pa.array(list(kinds), _STR))
        if unindexed:
            mask = pc.and_(mask, pc.is_null(f.column("form")))
        ids = f.filter(mask).column("ident_id").to_pylist()
        self.prefetch(ids)
        return [self[i] for i in ids]


# --- derived files of cached lists ----------------------------------------------------------

def own_identifiers(rl: RiskList) -> pa.Table:
    """The list's own identifiers (not the graph's), keyed and formed, as :data:`SCHEMA`."""
    cols: dict[str, list[Any]] = {f.name: [] for f in SCHEMA}
    for subject in rl.subjects:
        for ident in subject.identifiers:
            key = normalise_identifier(ident.kind, ident.value)
            for name, v in (
                    ("subject_id", subject.id), ("subject_name", subject.name),
                    ("kind", ident.kind), ("value", ident.value), ("key", key),
                    ("form", index_form(ident.kind, key)), ("versions", list(ident.versions)),
                    ("version_range", ident.version_range),
                    ("package_types", [p.lower() for p in ident.package_types]),
                    ("platforms", [p.lower() for p in ident.platforms]),
                    ("label", ident.label)):
                cols[name].append(v)
    return pa.table(cols, schema=SCHEMA)


def derived_table(rl: RiskList) -> pa.Table | None:
    """The list's own identifiers from its derived file (made when missing); None when the
    list is not cached (then they are compiled in Python)."""
    if rl.cache_key is None:
        return None
    from kitvet.lists.compiled import derived_path

    path = derived_path(rl.cache_key, f"idents-{code_digest()}.arrow")
    if path is None:
        return None
    if path.exists():
        try:
            with pa.memory_map(str(path)) as src:
                table = pa.ipc.open_file(src).read_all()
            if table.schema.equals(SCHEMA):
                return table
            logger.warning("%s: another layout; deriving it again", path.name)
        except (OSError, pa.ArrowException) as e:
            logger.warning("%s unreadable (%s); deriving it again", path.name, e)
    table = own_identifiers(rl)
    _write(path, table)
    return table


def _write(path: Path, table: pa.Table) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh, pa.ipc.new_file(fh, table.schema) as w:
                w.write_table(table)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        logger.warning("cannot keep the compiled identifiers of a list (%s): %s", path.name, e)
