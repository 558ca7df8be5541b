"""The embedded matching engine: identifiers × inventory → findings, on DuckDB.

The engine reads three relations of a DuckDB connection — software, devices and hosts, with the
columns of :mod:`kitvet.model.inventory` (extra columns are ignored) — and returns the flat
findings table (:data:`~kitvet.model.finding.FINDING_FIELDS`) as Arrow.

How (DESIGN.md, "Engines and stores"):
1. one aggregation per table collects the *distinct* keys of every
   :class:`~kitvet.match.probes.Probe` (publisher, name, path, USB vendor id ...) in one scan
   (software's from the lake's side files of each batch's keys where a full review has them,
   :func:`kitvet.match.sidekeys.lake_keys`);
2. Python decides, once per distinct key, which identifiers it satisfies (normalisation,
   prefixes, registry look-ups) and why — tens of thousands of calls, not one per row;
3. a second scan keeps only the rows whose keys matched; those few rows are joined to the
   identifiers, filtered by package type and platform, and version-checked once per distinct
   (package type, version, identifier) with each package type's semantics;
4. rows of the same (host, item, subject) fold into one finding; the policy gives each subject
   its status once.

:class:`DuckDBMatcher` runs it over an estate's lake (:meth:`kitvet.store.lake.Lake.views` gives
the current snapshots, or only some of them for incremental review); ``docs/scale.md`` has the
measurements.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from kitvet.duck import arrow_reader
from kitvet.duck import sql_list as _sql_keys
from kitvet.errors import MatchError
from kitvet.identify.orgs import org_key
from kitvet.identify.releases import release_key
from kitvet.match import gate
from kitvet.match.idtable import INDEX_FORMS, IdentTable, derived_table
from kitvet.match.probes import (
    PROBES,
    CompiledIdentifier,
    Probe,
    _basename,
    name_form,
    normalise_identifier,
)
from kitvet.match.sidekeys import lake_keys, side_names
from kitvet.match.versions import version_matches
from kitvet.model.finding import FINDING_CLASSES, FINDING_FIELDS, finding_class
from kitvet.model.inventory import DEVICE_FIELDS, SOFTWARE_FIELDS
from kitvet.model.risk import ListSet, status_rank

if TYPE_CHECKING:
    from kitvet.policy import Policy
    from kitvet.store.lake import Lake

logger = logging.getLogger(__name__)

FINDING_SCHEMA = pa.schema([pa.field(f, pa.string()) for f in FINDING_FIELDS])

SOFTWARE_ITEM_KEY = (
    "concat_ws('|', lower(coalesce(package_type, '')), lower(name), lower(coalesce(path, '')))"
)
DEVICE_ITEM_KEY = (
    "concat_ws('|', lower(coalesce(bus, '')), lower(coalesce(vendor_id, '')), "
    "lower(coalesce(product_id, '')), lower(coalesce(mac, '')), coalesce(serial, ''))"
)


_DEFAULT_GRAPH: Any = object()


def compile_identifiers(lists: ListSet, graph: Any = _DEFAULT_GRAPH) -> IdentTable:
    """Every identifier of every subject, numbered and normalised, and those a subject gets
    from the organisation graph (``graph``: an :class:`~kitvet.identify.graph.OrgGraph`, None
    for none, default the process's) as far as its assertions reach
    (:mod:`kitvet.match.reach`). A cached list's own identifiers come from the table derived
    from it once (:func:`kitvet.match.idtable.derived_table`)."""
    from kitvet.match.reach import graph_identifiers

    if graph is _DEFAULT_GRAPH:
        graph = _default_graph()
    out = IdentTable()
    for rl in lists.lists:
        table = derived_table(rl)
        if table is not None:
            out.add_table(rl.name, table)
        fields: list[dict[str, Any]] = []
        for subject in rl.subjects:
            own = () if table is not None else subject.identifiers
            extra = [(i, 0, None, None, None) for i in own] + [
                (g.identifier, g.level, g.via, g.valid_from, g.valid_to)
                for g in graph_identifiers(subject, graph)]
            for ident, level, via, valid_from, valid_to in extra:
                fields.append({
                    "list_name": rl.name, "subject_id": subject.id,
                    "subject_name": subject.name, "kind": ident.kind, "value": ident.value,
                    "key": normalise_identifier(ident.kind, ident.value),
                    "versions": tuple(ident.versions), "version_range": ident.version_range,
                    "package_types": tuple(p.lower() for p in ident.package_types),
                    "platforms": tuple(p.lower() for p in ident.platforms),
                    "label": ident.label, "level": level, "via": via,
                    "valid_from": valid_from, "valid_to": valid_to})
        out.add_compiled(fields)
    return out


def _default_graph() -> Any:
    """The process's organisation graph; a broken graph file stops the review with its line."""
    from kitvet.identify import graph as og

    try:
        return og.default_graph()
    except og.OrgGraphError as e:
        raise MatchError(str(e)) from e


#: Findings rows per Arrow batch handed out by :func:`match_batches`.
BATCH_ROWS = 50_000


def match(
    con: duckdb.DuckDBPyConnection,
    lists: ListSet,
    policy: Policy,
    *,
    software: str = "software",
    devices: str = "devices",
    hosts: str = "hosts",
    files: str | None = None,
    snapshot_ids: Iterable[str] | None = None,
    side: dict[str, str] | None = None,
) -> pa.Table:
    """Match the inventory relations in ``con`` against ``lists``; findings as an Arrow table.

    With ``snapshot_ids`` only those snapshots are matched (incremental review after some hosts
    changed; the relations must then have a ``snapshot_id`` column). The lake is read twice —
    once for the distinct keys of every probe, once for the few rows whose keys matched — and
    never held in memory. The findings themselves are one table here: where there may be
    millions (a vulnerability feed over a large estate), :func:`match_batches` hands them out
    a batch at a time.
    """
    return pa.Table.from_batches(
        list(match_batches(con, lists, policy, software=software, devices=devices, hosts=hosts,
                           files=files, snapshot_ids=snapshot_ids, side=side)),
        schema=FINDING_SCHEMA)


def match_batches(
    con: duckdb.DuckDBPyConnection,
    lists: ListSet,
    policy: Policy,
    *,
    software: str = "software",
    devices: str = "devices",
    hosts: str = "hosts",
    files: str | None = None,
    snapshot_ids: Iterable[str] | None = None,
    batch_rows: int | None = None,
    side: dict[str, str] | None = None,
) -> Iterator[pa.RecordBatch]:
    """The findings of :func:`match` as Arrow record batches of about ``batch_rows`` rows
    (default :data:`BATCH_ROWS`),
    most severe first: DuckDB builds and orders them (spilling to disk past its memory limit)
    and Python holds one batch at a time. ``con`` is busy until the batches are consumed (or
    the generator is closed).

    ``side``: table -> a relation of (probe, k, package_type, version, name) holding at
    least every distinct one of that table's rows (the lake's side files,
    :func:`kitvet.match.sidekeys.lake_keys`), read instead of scanning the table for its keys
    and versions, and giving the names that narrow the scan selecting rows; ignored with
    ``snapshot_ids``."""
    idents = compile_identifiers(lists)
    if not idents:
        return
    tables = {"software": software, "devices": devices, "hosts": hosts}
    if files is not None:  # file rows (hashes) where the inventory has them
        tables["files"] = files
    temps = ["_kv_cand", "_kv_snaps", *(f"_kv_rows_{t}" for t in TABLES)]
    try:
        if snapshot_ids is not None:
            tables = _restrict(con, tables, snapshot_ids)
            side = None
        keys = _distinct_key_matches(con, idents, tables, side)
        _register(con, "_kv_keys", keys, ["probe", "k", "ident_id", "explanation"],
                  [pa.string(), pa.string(), pa.int32(), pa.string()])
        _register_idents(con, idents, sorted({ident_id for _p, _k, ident_id, _w in keys}))
        # the policy is asked only about subjects something matched, at the reach levels that
        # matched (a feed of 100,000 records mostly names packages the estate does not run)
        levels: dict[str, set[int]] = {}
        for _probe, _k, ident_id, _why in keys:
            levels.setdefault(idents[ident_id].subject_id, set()).add(idents[ident_id].level)
        _register_subjects(con, lists, policy, levels)
        # long versioned key sets (a vulnerability feed) select rows by version too
        # (kitvet.match.gate); versions are checked before rows meet their identifiers: a
        # feed names most packages of an estate many times over, mostly for versions long
        # replaced, and the rows x identifiers that do not pass would be tens of millions
        plan = []
        checks: gate.Checks = {}
        gate_rows: list[tuple[str, str]] = []
        for table in (t for t in TABLES if t in tables):
            matched = {p.name: sorted({r[1] for r in keys if r[0] == p.name}) for p in PROBES
                       if p.table == table}
            probes = [p for p in PROBES if matched.get(p.name)]
            if probes:
                gated = gate.gated_probes(probes, keys, idents)
                if gated:
                    gate_rows += gate.register_gate(con, tables[table], probes, gated, keys,
                                                    idents, checks, side=(side or {}).get(table))
                plan.append((table, probes, matched, gated))
        if not plan:
            return
        del keys, levels
        _register(con, "_kv_gate", gate_rows, ["probe", "gk"], [pa.string(), pa.string()])
        for table, probes, matched, gated in plan:
            names = side_names(con, (side or {}).get(table), probes, gated)
            _select_rows(con, table, tables[table], probes, matched, gated, names)
        selected = [(table, probes) for table, probes, _m, _g in plan]
        _register_version_checks(con, idents, selected, checks)
        parts = " UNION ALL ".join(_candidates_sql(table, f"_kv_rows_{table}", probes)
                                   for table, probes in selected)
        con.execute(_matches_sql(parts, tables["hosts"]))
        reader = arrow_reader(con, _findings_sql(), batch_rows or BATCH_ROWS)
        for batch in reader:
            yield pa.RecordBatch.from_arrays(
                [batch.column(f).cast(pa.string()) for f in FINDING_FIELDS],
                schema=FINDING_SCHEMA)
    except duckdb.Error as e:
        raise MatchError(f"matching failed: {e}") from e
    finally:
        for name in (f"_kv_{t}" for t in TABLES):
            con.execute(f"DROP VIEW IF EXISTS {name}")
        for name in temps:
            con.execute(f"DROP TABLE IF EXISTS {name}")


def _restrict(con: duckdb.DuckDBPyConnection, tables: dict[str, str],
              snapshot_ids: Iterable[str]) -> dict[str, str]:
    """Temporary views of the relations limited to these snapshots."""
    ids = pa.table({"snapshot_id": pa.array(sorted(set(snapshot_ids)), pa.string())})
    _temp_table(con, "_kv_snaps", ids)
    out = {}
    for kind, rel in tables.items():
        cols = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()}
        if "snapshot_id" not in cols:
            raise MatchError(f"cannot review by snapshot: relation {rel!r} has no snapshot_id")
        con.execute(f"CREATE OR REPLACE TEMP VIEW _kv_{kind} AS SELECT * FROM {rel} "
                    "WHERE snapshot_id IN (SELECT snapshot_id FROM _kv_snaps)")
        out[kind] = f"_kv_{kind}"
    return out


#: The inventory tables probes read (hosts: the operating system's release cycle; files: the
#: files a source hashed, for hash identifiers).
TABLES = ("software", "devices", "hosts", "files")
#: Columns the candidate rows keep (what findings show and what probes read).
_COLS = {
    "software": tuple(f for f in SOFTWARE_FIELDS if f not in ("arch", "uninstall")),
    "devices": tuple(f for f in DEVICE_FIELDS if f not in ("ip",)),
    "hosts": ("host_id", "platform", "os_name", "os_version", "sources"),
    "files": ("host_id", "source", "location", "path", "name", "sha256", "sha1", "md5"),
}
FILE_ITEM_KEY = ("concat_ws('|', 'file', lower(coalesce(path, name, '')), "
                 "lower(coalesce(sha256, sha1, md5, '')))")


#: Above this many matched keys a probe's rows are selected by a semi-join, not a literal list.
#: (At 10,000 hosts, 26 names and 78 package URLs as literals cost 6 CPU-seconds, as
#: semi-joins 2.4, as much as the 6 names of the bundled list alone.)
_LITERAL_KEYS = 20


def _select_rows(con: duckdb.DuckDBPyConnection, table: str, rel: str, probes: list[Probe],
                 matched: dict[str, list[str]],
                 gated: dict[str, tuple[list[str], list[str]]] | None = None,
                 names: list[str] | None = None) -> None:
    """One scan of ``rel`` keeping the rows whose probe keys matched (literal IN lists); for
    a gated probe, the rows whose (key, package type, version) passed and those of its keys
    selected by key alone.

    ``names`` (:func:`kitvet.match.sidekeys.side_names`): every kept row's name is one of these. The scan then
    filters on ``name IN (...)`` first, a condition on one column that DuckDB evaluates inside
    the Parquet reader, and decodes the other columns, and evaluates the probes' conditions,
    only for the rows that pass (at 100,000 hosts with a vulnerability feed: 21.7 s -> 4.6 s
    for the same 431,855 rows); without it every column of every row is read."""
    fields = ", ".join(_COLS[table])
    gated = gated or {}
    if names is not None and not names:  # no row can match
        con.execute(f"CREATE OR REPLACE TEMP TABLE _kv_rows_{table} AS "
                    f"SELECT {fields} FROM {rel} WHERE false")
        return

    def cond(p: Probe) -> str:
        if p.name in gated:
            by_key = gated[p.name][1]
            alone = f" OR {p.key_sql} IN ({_sql_keys(by_key)})" if by_key else ""
            return (f"(({p.where_sql}) AND (CASE WHEN {p.key_sql} IS NOT NULL THEN "
                    f"{gate.gate_sql(p)} END IN (SELECT gk FROM _kv_gate WHERE probe = "
                    f"'{p.name}'){alone}))")
        # literal IN lists: DuckDB looks them up by hash (a MAP literal is searched
        # linearly); a longer one (a feed matches dozens of package URLs, a vulnerability
        # feed thousands) is a semi-join on the matched keys instead: inside an OR, DuckDB
        # compares a literal list one by one
        if len(matched[p.name]) <= _LITERAL_KEYS:
            return f"(({p.where_sql}) AND {p.key_sql} IN ({_sql_keys(matched[p.name])}))"
        # the key only where the probe looks (a semi-join computes it for every row)
        return (f"(({p.where_sql}) AND CASE WHEN {p.where_sql} THEN {p.key_sql} END IN "
                f"(SELECT k FROM _kv_keys WHERE probe = '{p.name}'))")

    conds = " OR ".join(cond(p) for p in probes)
    if names is not None:
        conds = f"name IN ({_sql_keys(names)}) AND ({conds})"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _kv_rows_{table} AS "
                f"SELECT {fields} FROM {rel} WHERE {conds}")


def _distinct_key_matches(
    con: duckdb.DuckDBPyConnection, idents: IdentTable, tables: dict[str, str],
    side: dict[str, str] | None = None,
) -> list[tuple[str, str, int, str]]:
    """Distinct keys of every probe, one scan per table (or read from ``side``, see
    :func:`match_batches`); matched in Python once per key (a probe of many identifiers first
    finds each key's candidates by a join in DuckDB)."""
    rows: list[tuple[str, str, int, str]] = []
    side = side or {}
    for table in (t for t in TABLES if t in tables):
        probes = [(p, idents.count_kinds(p.kinds)) for p in PROBES if p.table == table]
        probes = [(p, n) for p, n in probes if n]
        if not probes:
            continue
        # the identifiers of probes matched in Python; joined probes never build them all
        mine = {p.name: idents.of_kinds(p.kinds) for p, n in probes if not _joined(p, n)}
        # CASE, not FILTER: DuckDB computes an aggregate's argument for every row before a
        # FILTER applies, and a CASE branch only for the rows its condition keeps (a key built
        # of several columns, over 100 million rows, costs seconds)
        aggs = ", ".join(
            f"list(DISTINCT CASE WHEN ({p.where_sql})"
            f"{_prefilter(p, mine[p.name]) if p.name in mine else ''} THEN "
            f"nullif({p.key_sql}, '') END)" for p, _n in probes
        )
        if table in side and not any(_prefilter(p, mine[p.name]) for p, _n in probes
                                     if p.name in mine):
            got = dict(con.execute(
                f"SELECT probe, list(DISTINCT k) FROM {side[table]} WHERE k IS NOT NULL "
                f"AND probe IN ({_sql_keys([p.name for p, _n in probes])}) GROUP BY probe"
            ).fetchall())
            keys = tuple(got.get(p.name) for p, _n in probes)
        else:
            keys = con.execute(f"SELECT {aggs} FROM {tables[table]}").fetchall()[0]
        for (probe, _n), found in zip(probes, keys, strict=False):
            found = [k for k in found or () if k is not None]
            if probe.name not in mine:
                rows.extend(_joined_key_matches(con, probe, found, idents))
                continue
            match_keys = _registry_matches if probe.name == "mac_registry" else _each_key
            rows.extend(match_keys(probe, found, mine[probe.name]))
    rows = [(p, k, i, f"{why} — {idents[i].via}" if idents[i].via else why)
            for p, k, i, why in rows]
    logger.debug("%d distinct-key matches", len(rows))
    return rows


#: A probe offered at least this many identifiers finds each key's candidates by a join in
#: DuckDB on their index forms (:func:`_joined_key_matches`) instead of an index in Python.
_JOIN_MIN = 2000


def _joined(probe: Probe, n: int) -> bool:
    return n >= _JOIN_MIN and (probe.name in _EXACT_FORMS or probe.name in _PREFIX_FORMS)


def _joined_key_matches(con: duckdb.DuckDBPyConnection, probe: Probe, keys: Iterable[str],
                        idents: IdentTable) -> list[tuple[str, str, int, str]]:
    """The index of :func:`_each_key`, as a join: each distinct key's lookup forms against
    every identifier's index form (:meth:`IdentTable.forms`); the matcher then decides over
    the candidates (and the identifiers no index form suits), exactly as with the index.
    Only the candidates become Python objects."""
    keys = list(keys)
    if probe.name in _PREFIX_FORMS:
        lookups = _PREFIX_FORMS[probe.name][0]
        pairs = [(k, f) for k in keys for f in lookups(k)]
    else:
        form = _EXACT_FORMS[probe.name]
        pairs = [(k, form(k)) for k in keys]
    look = pa.table({"k": pa.array([k for k, _ in pairs], pa.string()),
                     "form": pa.array([f for _, f in pairs], pa.string())})
    con.register("_kv_look", look)
    con.register("_kv_forms", idents.forms())
    try:
        cands = con.execute(
            "SELECT l.k, list(DISTINCT f.ident_id) FROM _kv_look l JOIN _kv_forms f "
            f"ON f.form = l.form AND f.kind IN ({_sql_keys(list(probe.kinds))}) GROUP BY l.k"
        ).fetchall()
    finally:
        con.unregister("_kv_look")
        con.unregister("_kv_forms")
    by_key = {k: sorted(ids) for k, ids in cands}
    idents.prefetch(i for ids in by_key.values() for i in ids)
    always = idents.of_kinds(probe.kinds, unindexed=True)
    out = []
    for k in keys if always else by_key:
        mine = [idents[i] for i in by_key.get(k, ())] + always
        out += [(probe.name, k, ident.ident_id, why) for ident, why in probe.matcher(k, mine)]
    return out


def _prefilter(probe: Probe, idents: list[CompiledIdentifier]) -> str:
    """A SQL condition every key the probe's matcher accepts satisfies (fewer keys to Python).

    For the MAC probes, whose distinct keys grow with the estate (one per network neighbour):
    the MAC-prefix probe compares the hex digits of the MAC with the listed prefixes; the
    registry probe can only accept a MAC in a block registered to a listed organisation name.
    """
    if probe.name == "mac_registry":
        return _registry_prefilter(frozenset(i.key for i in idents))
    if probe.name != "mac" or any(not re.fullmatch(r"[0-9a-f]+", i.key) for i in idents):
        return ""
    # "the hex digits of lower(mac) start with one of the prefixes", as one RE2 pass per row
    gap = "[^0-9a-f]*"
    alts = "|".join(gap.join(k) for k in sorted({i.key for i in idents}))
    return f" AND regexp_matches(lower(mac), '^{gap}(?:{alts})')"


@functools.lru_cache(maxsize=8)
def _registry_prefilter(keys: frozenset[str]) -> str:
    """'The MAC lies in a 24-bit (MA-L) block that is, or holds, an IEEE block registered to
    one of these organisation keys', as one hash look-up of its first 6 hex digits (an MA-M or
    MA-S/IAB block of a listed name lets through the MA-L block around it; the matcher, asked
    once per 36-bit prefix, decides); '' if the registries cannot be read (every MAC is then
    asked)."""
    try:
        from kitvet.identify import hardware

        blocks = sorted({digits[:6].lower()
                         for _registry, digits, registrant
                         in hardware.default_db().registry_entries()
                         if len(digits) >= 6 and org_key(registrant) in keys})
    except Exception as e:  # a broken registry never stops a review
        logger.debug("no registry prefilter: %s", e)
        return ""
    if not blocks:
        return " AND false"
    # a semi-join on the blocks as a VALUES table, which DuckDB hashes once: a literal IN list
    # inside the aggregate's CASE is compared one entry at a time, and an OR of semi-joins
    # (one per block length) costs each of them (100,000 hosts, 2.5 million device rows, the
    # 2,245 blocks of the bundled lists: the devices scan took 7.6-9 s with IN lists, about
    # 0.5 s with three semi-joins, 0.3 s with this one)
    hexmac = "replace(replace(replace(lower(mac), ':', ''), '-', ''), '.', '')"
    rows = ", ".join(f"({_sql_keys([b])})" for b in blocks)
    return f" AND substr({hexmac}, 1, 6) IN (SELECT * FROM (VALUES {rows}))"


def clear_registry_cache() -> None:
    """Forget the registry prefilters (kitvet.identify.hardware calls this when its databases
    change)."""
    _registry_prefilter.cache_clear()


#: For probes whose identifiers compare one normalised form of the key for equality: that
#: form. Each key is then offered only the identifiers indexed under it (plus any wildcard
#: ones), so matching stays linear in keys however long the lists are.
_EXACT_FORMS: dict[str, Any] = {
    "publisher": org_key,
    "oui_org": org_key,
    "name": name_form,
    "process": _basename,
    "sha256": lambda k: k.lower(),
    "file_sha256": lambda k: k.lower(),
    "file_sha1": lambda k: k.lower(),
    "file_md5": lambda k: k.lower(),
    "usb_vendor": lambda k: k.lower(),
    "usb_product": lambda k: k.lower(),
    "pci_vendor": lambda k: k.lower(),
    "release_os": release_key("os"),
    "release_package": release_key("package"),
}


#: The form an identifier's key is indexed under when it is not already the probe's form
#: (package names: folded as PEP 503 folds them; the matcher then compares exactly).
_IDENT_FORMS: dict[str, Any] = {"name": name_form}


def _coarse(text: str) -> str:
    """A package URL or CPE folded as far as any normaliser of them folds (case, percent
    escapes, the separators - _ . that PEP 503 folds): an index of candidates, never a match."""
    from urllib.parse import unquote

    return re.sub(r"[-_.]", "", unquote(text).lower())


def _purl_lookups(key: str) -> list[str]:
    """Coarse forms of a package URL without version, qualifiers and subpath, and of each of
    its namespace prefixes (``pkg:npm/@scope/name`` → also ``pkg:npm/@scope``, ``pkg:npm``)."""
    base = key.split("?", 1)[0].split("#", 1)[0]
    if "@" in base.split("/")[-1]:
        base = base.rsplit("@", 1)[0]
    parts = _coarse(base).rstrip("/").split("/")
    return ["/".join(parts[:n]) for n in range(len(parts), 0, -1)]


def _cpe_lookups(key: str) -> list[str]:
    """Coarse forms of every prefix of a CPE 2.3 name that ends with a colon."""
    low = _coarse(key)
    return [low[:n + 1] for n, ch in enumerate(low) if ch == ":"]


#: Probes whose identifiers are prefixes of the key: how a key and an identifier's key are
#: looked up in the index (the matcher then decides, exactly as without the index).
_PREFIX_FORMS: dict[str, tuple[Any, Any]] = {
    "purl": (_purl_lookups, lambda k: _coarse(k).rstrip("/")),
    "cpe": (_cpe_lookups, lambda k: _coarse(k) if k.endswith(":") else None),
}


def _each_prefixed_key(probe: Probe, keys: Iterable[str], idents: list[CompiledIdentifier]
                       ) -> list[tuple[str, str, int, str]]:
    """Prefix probes (package URLs, CPEs) over long lists: each key is offered only the
    identifiers indexed under one of its prefixes (and those no index form suits), so matching
    stays linear in keys however many identifiers a vulnerability feed brings."""
    lookups, ident_form = _PREFIX_FORMS[probe.name]
    index: dict[str, list[CompiledIdentifier]] = {}
    always = []
    for i in idents:
        f = ident_form(i.key)
        if f:
            index.setdefault(f, []).append(i)
        else:
            always.append(i)
    out = []
    for k in keys:
        mine = [i for form in lookups(k) for i in index.get(form, ())] + always
        if mine:
            out += [(probe.name, k, ident.ident_id, why) for ident, why in probe.matcher(k, mine)]
    return out


def _each_key(probe: Probe, keys: Iterable[str], idents: list[CompiledIdentifier]
              ) -> list[tuple[str, str, int, str]]:
    if probe.name in _PREFIX_FORMS and len(idents) >= 8:
        return _each_prefixed_key(probe, keys, idents)
    form = _EXACT_FORMS.get(probe.name)
    if form is None or len(idents) < 8:
        return [(probe.name, k, ident.ident_id, why) for k in keys
                for ident, why in probe.matcher(k, idents)]
    index: dict[str, list[CompiledIdentifier]] = {}
    always = []
    for i in idents:
        if _wildcard(i.key):  # product-name wildcards
            always.append(i)
        else:
            index.setdefault(_IDENT_FORMS.get(probe.name, str)(i.key), []).append(i)
    out = []
    for k in keys:
        mine = index.get(form(k), []) + always
        if mine:
            out += [(probe.name, k, ident.ident_id, why) for ident, why in probe.matcher(k, mine)]
    return out


def _wildcard(key: str) -> bool:
    return "*" in key or "?" in key or "[" in key


def _kind_forms() -> dict[str, Any]:
    """Identifier kind -> the form :func:`_each_key` indexes an identifier's key under (for
    the cached tables of :mod:`kitvet.match.idtable`); None: asked about every key. A kind
    that two probes read (sha256; release_cycle) gets the same form from both."""
    out: dict[str, Any] = {}
    for p in PROBES:
        if p.name in _PREFIX_FORMS:
            ident_form = _PREFIX_FORMS[p.name][1]
            form = functools.partial(lambda f, k: f(k) or None, ident_form)
        elif p.name in _EXACT_FORMS:
            ident_form = _IDENT_FORMS.get(p.name, str)
            form = functools.partial(lambda f, k: None if _wildcard(k) else f(k), ident_form)
        else:
            continue
        for kind in p.kinds:
            out.setdefault(kind, form)
    return out


INDEX_FORMS.update(_kind_forms())


def _registry_matches(probe: Probe, keys: Iterable[str], idents: list[CompiledIdentifier]
                      ) -> list[tuple[str, str, int, str]]:
    """The IEEE registry probe, asked once per 36-bit prefix (the longest assignment, MA-S):
    MACs sharing it share their registration, so a prefix that matches nothing is skipped
    for every MAC under it; MACs under a matching prefix are each asked (for their evidence)."""
    groups: dict[str, list[str]] = {}
    out = []
    for k in keys:
        hexmac = re.sub(r"[^0-9a-f]", "", k.lower())
        if len(hexmac) == 12:
            groups.setdefault(hexmac[:9], []).append(k)
        else:  # not a whole MAC: ask about it alone
            out += _each_key(probe, [k], idents)
    for members in groups.values():
        first = _each_key(probe, members[:1], idents)
        if first:
            out += first + _each_key(probe, members[1:], idents)
    return out


def _register(con: duckdb.DuckDBPyConnection, name: str, rows: list[tuple], cols: list[str],
              types: list[pa.DataType]) -> None:
    arrays = [pa.array([r[i] for r in rows], type=t) for i, t in enumerate(types)]
    _temp_table(con, name, pa.Table.from_arrays(arrays, names=cols))


def _temp_table(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    """Copy an Arrow table into the temporary table ``name`` (named explicitly, not found by
    DuckDB's scan of the caller's local variables)."""
    con.register("_kv_arrow_src", table)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _kv_arrow_src")
    finally:
        con.unregister("_kv_arrow_src")


def _register_idents(con: duckdb.DuckDBPyConnection, table: IdentTable,
                     ids: list[int]) -> None:
    """The identifiers ``ids`` (those a key matched: the only ones findings join)."""
    table.prefetch(ids)
    idents = [table[i] for i in ids]
    _temp_table(con, "_kv_idents", pa.table({
        "ident_id": pa.array([i.ident_id for i in idents], pa.int32()),
        "subject_id": [i.subject_id for i in idents],
        "list_name": [i.list_name for i in idents],
        "kind": [i.kind for i in idents],
        "value": [i.value for i in idents],
        "versioned": pa.array([i.versioned for i in idents], pa.bool_()),
        "package_types": pa.array([list(i.package_types) for i in idents], pa.list_(pa.string())),
        "platforms": pa.array([list(i.platforms) for i in idents], pa.list_(pa.string())),
        "level": pa.array([i.level for i in idents], pa.int32()),
        "via": pa.array([i.via for i in idents], pa.string()),
        "valid_from": pa.array([i.valid_from for i in idents], pa.string()),
        "valid_to": pa.array([i.valid_to for i in idents], pa.string()),
    }))


def _register_subjects(con: duckdb.DuckDBPyConnection, lists: ListSet, policy: Policy,
                       levels: dict[str, set[int]] | None = None) -> None:
    """Status and class of each subject at each reach level (only the subjects and levels in
    ``levels`` when given)."""
    rows = []
    for rl, subject in lists.subjects():
        if levels is not None and subject.id not in levels:
            continue
        # a finding reached through a relation gets the status (and class) of the assertions
        # that reach that far only: an affiliate is never more than the instruments say of it
        for level in (0, 1, 2) if levels is None else sorted(levels[subject.id]):
            reaching = subject.reaching(level)
            verdict = policy.evaluate(reaching)
            rows.append((rl.name, subject.id, subject.name, level,
                         finding_class(a.kind for a in reaching.assertions), verdict.status,
                         status_rank(verdict.status), verdict.rule))
    _register(con, "_kv_subjects", rows,
              ["list_name", "subject_id", "subject_name", "level", "finding_class", "status",
               "rank", "rule"],
              [pa.string(), pa.string(), pa.string(), pa.int32(), pa.string(), pa.string(),
               pa.int32(),
               pa.string()])


def _candidates_sql(table: str, rel: str, probes: list[Probe]) -> str:
    """Rows of ``rel`` (already only matched rows) joined to their identifiers."""
    if table == "software":
        cols = (f"host_id, 'software' AS item_type, {SOFTWARE_ITEM_KEY} AS item_key, name, version, publisher, "
                "package_type, path, NULL AS vendor_id, NULL AS product_id, NULL AS mac, "
                "source, location")
    elif table == "files":  # a file: its path (the name where the source gave no path)
        cols = (f"host_id, 'file' AS item_type, {FILE_ITEM_KEY} AS item_key, "
                "coalesce(name, path) AS name, NULL AS version, NULL AS publisher, "
                "NULL AS package_type, coalesce(path, name) AS path, NULL AS vendor_id, "
                "NULL AS product_id, NULL AS mac, source, location")
    elif table == "hosts":  # one operating system per host
        cols = ("host_id, 'os' AS item_type, 'os' AS item_key, os_name AS name, "
                "os_version AS version, NULL AS publisher, NULL AS package_type, NULL AS path, "
                "NULL AS vendor_id, NULL AS product_id, NULL AS mac, sources AS source, "
                "NULL AS location")
    else:
        cols = (f"host_id, 'device' AS item_type, {DEVICE_ITEM_KEY} AS item_key, "
                "coalesce(product_name, vendor_name, description, mac) AS name, "
                "NULL AS version, coalesce(vendor_name, oui_org) AS publisher, "
                "bus AS package_type, NULL AS path, vendor_id, product_id, mac, "
                "source, location")
    joins = " UNION ALL ".join(
        f"SELECT {cols}, m.ident_id, '{p.field}' AS field, m.k AS observed, m.explanation "
        f"FROM {rel} JOIN _kv_keys m ON m.probe = '{p.name}' AND ({p.where_sql}) "
        f"AND {p.key_sql} = m.k"
        for p in probes
    )
    return f"({joins})"


def _register_version_checks(
    con: duckdb.DuckDBPyConnection, idents: IdentTable,
    selected: list[tuple[str, list[Probe]]], checks: gate.Checks | None = None
) -> None:
    """Check each distinct (package type, version, identifier) of the selected rows once, in
    Python (the distinct (key, package type, version) of the rows first, then their
    identifiers)."""
    parts = []
    for table, probes in selected:
        pt, ver = gate.VERSION_COLS[table]
        parts += [
            f"SELECT m.ident_id, r.package_type, r.version FROM (SELECT DISTINCT {p.key_sql} "
            f"AS k, CAST({pt} AS VARCHAR) AS package_type, CAST({ver} AS VARCHAR) AS version "
            f"FROM _kv_rows_{table} WHERE {p.where_sql}) r "
            f"JOIN _kv_keys m ON m.probe = '{p.name}' AND m.k = r.k" for p in probes]
    todo = con.execute(
        f"SELECT DISTINCT c.package_type, c.version, c.ident_id FROM ({' UNION ALL '.join(parts)}"
        ") c JOIN _kv_idents i USING (ident_id) WHERE i.versioned"
    ).fetchall()
    rows = []
    checks = checks or {}
    for ptype, version, ident_id in todo:
        got = checks.get((ptype, version, ident_id))
        if got is None:
            ident = idents[ident_id]
            check = version_matches(ptype, version, ident.versions, ident.version_range)
            got = (check.matched, check.explanation)
        rows.append((ptype, version, ident_id, *got))
    _register(con, "_kv_vok", rows, ["package_type", "version", "ident_id", "ok", "why"],
              [pa.string(), pa.string(), pa.int32(), pa.bool_(), pa.string()])


def _matches_sql(parts: str, hosts: str) -> str:
    """The temporary table ``_kv_cand``: one row per candidate row (``parts``, the rows joined
    to their identifiers) whose identifier accepts it — its version, package type, platform
    and the day of its inventory — with what the findings show of it and of its host.

    Only the hosts with candidates are read; the identifiers and version checks are joined
    once, here, not again by :func:`_findings_sql`."""
    return f"""CREATE OR REPLACE TEMP TABLE _kv_cand AS
    WITH c AS (
        SELECT c.* REPLACE (
                   -- a match on a version (rc 1.3.9, rc 2.3.9) is a match on that item: two
                   -- versions on one host are two findings; a vendor match follows the item
                   -- through upgrades
                   CASE WHEN i.versioned THEN c.item_key || '|' || coalesce(c.version, '')
                        ELSE c.item_key END AS item_key),
               i.subject_id, i.kind, i.value, i.level, i.via, i.platforms, i.valid_from,
               i.valid_to,
               CASE WHEN i.versioned THEN c.explanation || '; ' || v.why
                    ELSE c.explanation END AS why
        FROM ({parts}) c JOIN _kv_idents i USING (ident_id)
        LEFT JOIN _kv_vok v ON i.versioned AND v.ident_id = c.ident_id
             AND v.package_type IS NOT DISTINCT FROM c.package_type
             AND v.version IS NOT DISTINCT FROM c.version
        WHERE (NOT i.versioned OR coalesce(v.ok, false))
          AND (len(i.package_types) = 0 OR list_contains(i.package_types, lower(c.package_type)))
    ),
    h AS (
        SELECT host_id, any_value(hostname) AS hostname, any_value(institution) AS institution,
               any_value(platform) AS platform,
               -- the day the inventory was taken: relations are attributed as of that day
               coalesce(substr(max(collected_at), 1, 10), CAST(current_date AS VARCHAR)) AS day
        FROM {hosts} WHERE host_id IN (SELECT host_id FROM c) GROUP BY host_id
    )
    SELECT c.host_id, c.item_type, c.item_key, c.subject_id, h.hostname, h.institution,
           h.platform, c.name, c.version, c.publisher, c.package_type, c.path, c.vendor_id,
           c.product_id, c.mac, c.source, c.location, c.level, c.kind, c.value, c.field,
           c.observed, c.via, c.why
    FROM c LEFT JOIN h USING (host_id)
    WHERE (len(c.platforms) = 0 OR list_contains(c.platforms, lower(h.platform)))
      AND (c.valid_from IS NULL OR coalesce(h.day, CAST(current_date AS VARCHAR)) >= c.valid_from)
      AND (c.valid_to IS NULL OR coalesce(h.day, CAST(current_date AS VARCHAR)) < c.valid_to)
    """


#: What a finding's ``matched`` lists of each of its rows.
_MATCHED = ("{'kind': kind, 'value': value, 'field': field, 'observed': observed, "
            "'level': level, 'via': via}")


def _findings_sql() -> str:
    """Rows of ``_kv_cand`` (:func:`_matches_sql`) of the same (host, item, subject) folded
    into one finding, most severe first. Most findings have one row: those are not
    aggregated (an aggregate of DISTINCT lists and strings per finding cost more than the
    rest of the query); the few of several rows are."""
    return f"""
    WITH s AS (
        SELECT subject_id, level, arg_max(subject_name, rank) AS subject_name,
               string_agg(DISTINCT list_name, ', ' ORDER BY list_name) AS list_name,
               min(finding_class) FILTER (WHERE class_rank = min_class_rank) AS finding_class,
               arg_max(status, rank) AS status, arg_max(rule, rank) AS rule, max(rank) AS rank
        FROM (SELECT *, min(class_rank) OVER (PARTITION BY subject_id, level)
                            AS min_class_rank
              FROM (SELECT *, {_class_rank_sql()} AS class_rank FROM _kv_subjects))
        GROUP BY subject_id, level
    ),
    w AS (
        SELECT *, count(*) OVER (PARTITION BY host_id, item_type, item_key, subject_id) AS n
        FROM _kv_cand
    ),
    f AS (
        SELECT host_id, item_type, item_key, subject_id, hostname, institution, platform,
               name, version, publisher, package_type, path, vendor_id, product_id, mac,
               source, location, level, to_json([{_MATCHED}]) AS matched, why AS explanation
        FROM w WHERE n = 1
        UNION ALL
        SELECT host_id, item_type, item_key, subject_id,
               any_value(hostname) AS hostname, any_value(institution) AS institution,
               any_value(platform) AS platform,
               -- version and location of one and the same row (the lowest version)
               min(name) AS name, min(version) AS version, min(publisher) AS publisher,
               min(package_type) AS package_type, min(path) AS path,
               min(vendor_id) AS vendor_id, min(product_id) AS product_id, min(mac) AS mac,
               string_agg(DISTINCT source, ', ' ORDER BY source) AS source,
               arg_min(location, coalesce(version, '') || chr(0) || coalesce(location, ''))
                   AS location,
               -- the closest relation that reached the item decides its status
               min(level) AS level,
               to_json(list(DISTINCT {_MATCHED} ORDER BY {_MATCHED})) AS matched,
               string_agg(DISTINCT why, '; ' ORDER BY why) AS explanation
        FROM w WHERE n > 1 GROUP BY host_id, item_type, item_key, subject_id
    )
    SELECT substr(sha256(concat_ws('|', f.host_id, f.item_type, f.item_key, f.subject_id)), 1, 20)
               AS finding_id,
           f.host_id, f.hostname, f.institution, f.platform, f.item_type, f.item_key,
           f.name, f.version, f.publisher, f.package_type, f.path, f.vendor_id, f.product_id,
           f.mac, f.source, f.location, f.subject_id, s.subject_name, s.list_name,
           s.finding_class, s.status,
           s.rule, CAST(f.matched AS VARCHAR) AS matched, f.explanation
    FROM f JOIN s USING (subject_id, level)
    ORDER BY s.rank DESC, f.institution, f.host_id, f.subject_id, f.item_key
    """


def _class_rank_sql() -> str:
    """Position of ``finding_class`` in FINDING_CLASSES (a subject in several lists takes the
    strongest class any of them gives it, as :func:`finding_class` does within one subject)."""
    whens = " ".join(f"WHEN '{c}' THEN {n}" for n, c in enumerate(FINDING_CLASSES))
    return f"CASE finding_class {whens} ELSE {len(FINDING_CLASSES)} END"


def empty_findings() -> pa.Table:
    """A findings table with no rows."""
    return FINDING_SCHEMA.empty_table()


def as_records(table: pa.Table) -> list[dict[str, Any]]:
    """Findings rows as dicts (small tables: reports, tests)."""
    return table.to_pylist()


class DuckDBMatcher:
    """The embedded engine as a :class:`~kitvet.match.interface.Matcher`: DuckDB over the
    lake's views (:meth:`kitvet.store.lake.Lake.views`), in a connection of its own."""

    def __init__(self, *, threads: int | None = None):
        self.threads = threads

    def match(self, lake: Lake, lists: ListSet, policy: Policy, *,
              snapshot_ids: Iterable[str] | None = None) -> pa.Table:
        """Findings of the lake's current snapshots (or of ``snapshot_ids`` only)."""
        return pa.Table.from_batches(list(self.match_batches(
            lake, lists, policy, snapshot_ids=snapshot_ids)), schema=FINDING_SCHEMA)

    def match_batches(self, lake: Lake, lists: ListSet, policy: Policy, *,
                      snapshot_ids: Iterable[str] | None = None) -> Iterator[pa.RecordBatch]:
        """The same findings a batch at a time (:func:`match_batches`); the connection lives
        until they are consumed."""
        ids = None if snapshot_ids is None else list(snapshot_ids)
        con = duckdb.connect()
        try:
            if self.threads:
                con.execute(f"SET threads = {int(self.threads)}")
            names = lake.views(con, snapshot_ids=ids)
            side = lake_keys(con, lake) if ids is None else None
            yield from match_batches(con, lists, policy, snapshot_ids=ids, files="files",
                                     software=names["software"], devices=names["devices"],
                                     hosts=names["hosts"], side=side)
        finally:
            con.close()
