"""The lake's side files of distinct match keys (issues 13, 14).

Beside each software batch file of the lake, ``lake/keys/software/<batch>.<digest>.parquet``
keeps the batch's distinct (probe, k, package_type, version, name): ~250,000 rows for a batch of
2.4 million. A full review reads its keys, the versions its gate checks and the names that
narrow its row scan there (:func:`lake_keys`, :func:`side_names`) instead of scanning 120
million rows for them. Writers make them with their batch (:func:`make_side_keys`); a review
makes any that is missing (:meth:`kitvet.store.lake.Lake.key_files`). ``digest`` names the
probes' key expressions and the layout, so a kitvet that keys differently makes them again.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from kitvet.duck import query_arrow
from kitvet.duck import sql_list as _sql_keys
from kitvet.match import gate
from kitvet.match.probes import PROBES, Probe

if TYPE_CHECKING:
    from kitvet.store.lake import Lake

logger = logging.getLogger(__name__)


#: Tables whose distinct keys the lake keeps in side files (the 100 million rows of software;
#: the other tables are a fraction of it).
SIDE_TABLES = ("software",)


def _side_probes(table: str) -> tuple[list[Probe], str]:
    """The probes of ``table`` and the digest of their key expressions (a kitvet whose probes
    key differently makes its side files again)."""
    probes = [p for p in PROBES if p.table == table]
    text = "\0".join([_SIDE_LAYOUT, *gate.VERSION_COLS[table]] + [
        f"{p.name}\0{p.key_sql}\0{p.where_sql}" for p in probes])
    return probes, hashlib.sha256(text.encode()).hexdigest()[:16]


#: Columns of a side file (changing them changes the digest of :func:`_side_probes`).
_SIDE_LAYOUT = "probe,k,package_type,version,name"


#: Columns the probes of a side table, its package type and version read (and the name the
#: side file keeps): a batch's distinct combinations of them are what its side file is made of.
_SIDE_COLS = {"software": ("name", "version", "publisher", "package_type", "purl", "cpe", "path",
                           "sha256", "signer", "bundle_id")}


def side_keys(con: duckdb.DuckDBPyConnection, sql: str, table: str = "software") -> pa.Table:
    """The side-file rows of one batch (``sql``: the batch's rows): each probe's distinct
    (probe, k, package_type, version, name). The batch's distinct combinations of the
    columns probes read come first (~70,000 of 2.4 million rows in a batch of 2,000
    generated hosts), and the probes' key expressions run over those."""
    probes, _digest = _side_probes(table)
    pt, ver = gate.VERSION_COLS[table]
    con.execute(f"CREATE OR REPLACE TEMP TABLE _kv_batch AS "
                f"SELECT DISTINCT {', '.join(_SIDE_COLS[table])} FROM {sql}")
    parts = " UNION ALL ".join(
        f"SELECT '{p.name}' AS probe, {p.key_sql} AS k, CAST({pt} AS VARCHAR) AS package_type, "
        f"CAST({ver} AS VARCHAR) AS version, name FROM _kv_batch "
        f"WHERE ({p.where_sql}) AND nullif({p.key_sql}, '') IS NOT NULL" for p in probes)
    try:
        return query_arrow(con, f"SELECT DISTINCT * FROM ({parts}) ORDER BY ALL")
    finally:
        con.execute("DROP TABLE IF EXISTS _kv_batch")


def make_side_keys(lake: Lake, batch_ids: Iterable[str]) -> int:
    """Make the side files of batches just written (:func:`lake_keys` would make them at the
    first review); the number made. Best effort: a batch whose side file cannot be made is
    logged and left to the review."""
    con = duckdb.connect()
    made = 0
    try:
        for table in SIDE_TABLES:
            _probes, digest = _side_probes(table)
            for batch_id in batch_ids:
                try:
                    lake.key_file(table, batch_id, digest,
                                  functools.partial(side_keys, con, table=table))
                    made += 1
                except (OSError, pa.ArrowException, duckdb.Error) as e:
                    logger.info("side keys of batch %s not made now (%s)", batch_id, e)
    finally:
        con.close()
    return made


def lake_keys(con: duckdb.DuckDBPyConnection, lake: Lake) -> dict[str, str]:
    """Views ``_kv_side_<table>`` of the distinct (probe, key, package type, version, name)
    of the lake's current batches, from their side files (:func:`side_keys`; made when a
    batch is imported, or by the first review that reads it:
    :meth:`~kitvet.store.lake.Lake.key_files`), for ``match_batches(side=...)``: the
    distinct keys and the versions the gate checks (:mod:`kitvet.match.gate`) come from a
    few ten thousand rows per batch instead of two scans of its millions of rows, and the
    names of the rows to select (:func:`side_names`) from the same rows."""
    out = {}
    for table in SIDE_TABLES:
        _probes, digest = _side_probes(table)
        try:
            files = lake.key_files(table, digest, functools.partial(side_keys, con, table=table))
        except (OSError, pa.ArrowException, duckdb.Error) as e:
            logger.warning("no side keys of %s (%s): scanning the rows", table, e)
            files = None
        if files:
            con.execute(f"CREATE OR REPLACE TEMP VIEW _kv_side_{table} AS "
                        f"SELECT probe, k, package_type, version, name "
                        f"FROM read_parquet([{_sql_keys(str(f) for f in files)}])")
            out[table] = f"_kv_side_{table}"
    return out


#: At most this many names from the side files become the row selection's prefilter
#: (``name IN (...)``; measured at 100,000 hosts: 300 or 30,000 names cost about the same).
_NAME_PREFILTER = 50_000


def side_names(con: duckdb.DuckDBPyConnection, side: str | None, probes: list[Probe],
                gated: dict[str, tuple[list[str], list[str]]]) -> list[str] | None:
    """The names of every row that :func:`_select_rows` will keep, from the side files
    (``side``: their (probe, k, package_type, version, name) rows, a superset of the
    table's): those of the matched keys, and for a gated probe of the (key, package type,
    version) that passed the gate or of its keys selected by key alone. None when there are
    no side files, when a kept row may have no name, or past :data:`_NAME_PREFILTER` names."""
    if side is None:
        return None
    plain = [p.name for p in probes if p.name not in gated]
    parts = []
    if plain:
        parts.append(f"SELECT s.name FROM {side} s JOIN _kv_keys m ON m.probe = s.probe "
                     f"AND m.k = s.k WHERE s.probe IN ({_sql_keys(plain)})")
    for p in (p for p in probes if p.name in gated):
        by_key = gated[p.name][1]
        alone = f" OR s.k IN ({_sql_keys(by_key)})" if by_key else ""
        parts.append(
            f"SELECT s.name FROM {side} s WHERE s.probe = '{p.name}' AND (concat_ws(chr(1), "
            "s.k, coalesce(s.package_type, ''), coalesce(s.version, '')) IN (SELECT gk FROM "
            f"_kv_gate WHERE probe = '{p.name}'){alone})")
    if not parts:
        return None
    rows = con.execute(f"SELECT DISTINCT name FROM ({' UNION ALL '.join(parts)}) "
                       f"LIMIT {_NAME_PREFILTER + 1}").fetchall()
    names = [r[0] for r in rows]
    if len(names) > _NAME_PREFILTER or any(n is None for n in names):
        return None
    return names
