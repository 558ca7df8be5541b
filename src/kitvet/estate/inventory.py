"""Inventory search over the estate's Parquet lake (DuckDB), limited to the hosts in scope.

The lake holds every current snapshot's software and device rows; the server reads them in
columns and returns at most ``limit`` rows per query. The list of hosts an account may see is
handed to DuckDB as an Arrow table and semi-joined, so a reviewer's search never touches
another institution's rows.
"""

from __future__ import annotations

import logging
from typing import Any

import pyarrow as pa
from sqlalchemy import Engine, select

from kitvet.errors import StoreError
from kitvet.estate.scope import Scope
from kitvet.store import tables as t
from kitvet.store.db import read
from kitvet.store.lake import Lake

logger = logging.getLogger(__name__)

SOFTWARE_COLS = ("host_id", "name", "version", "publisher", "package_type", "path", "source")
DEVICE_COLS = ("host_id", "bus", "vendor_id", "product_id", "vendor_name", "product_name", "mac",
               "oui_org", "source")
KINDS = {"software": (SOFTWARE_COLS, ("name", "publisher", "version", "path", "package_type")),
         "devices": (DEVICE_COLS, ("vendor_name", "product_name", "vendor_id", "product_id",
                                   "mac", "oui_org"))}


def _allowed_hosts(engine: Engine, scope: Scope, host_id: str | None) -> pa.Table:
    h = t.hosts
    q = select(h.c.host_id, h.c.hostname, h.c.institution)
    if not scope.everything:
        q = q.where(h.c.institution.in_(sorted(scope.institutions or ())))
    if host_id:
        q = q.where(h.c.host_id == host_id)
    with read(engine) as conn:
        rows = conn.execute(q).all()
    return pa.table({"host_id": [r[0] for r in rows], "hostname": [r[1] for r in rows],
                     "institution": [r[2] for r in rows]},
                    schema=pa.schema([("host_id", pa.string()), ("hostname", pa.string()),
                                      ("institution", pa.string())]))


def search(engine: Engine, lake: Lake, scope: Scope, *, kind: str = "software",
           q: str | None = None, host_id: str | None = None, limit: int = 200
           ) -> tuple[list[dict[str, Any]], bool]:
    """Inventory rows of current snapshots matching ``q`` (substring, case-insensitive).

    Returns (rows, truncated). ``host_id`` limits the search to one host (still in scope).
    """
    import duckdb

    if kind not in KINDS:
        raise StoreError(f"unknown inventory kind {kind!r} (software or devices)")
    cols, searched = KINDS[kind]
    allowed = _allowed_hosts(engine, scope, host_id)
    if allowed.num_rows == 0:
        return [], False
    limit = max(1, min(int(limit), 1000))
    con = duckdb.connect()
    try:
        lake.views(con)
        con.register("_kv_allowed", allowed)
        where, params = "", []
        if q and q.strip():
            where = "WHERE " + " OR ".join(f"lower(coalesce(s.{c}, '')) LIKE ? ESCAPE '\\'"
                                           for c in searched)
            esc = q.strip()[:200].lower().replace("\\", "\\\\").replace("%", "\\%")
            params = [f"%{esc.replace('_', chr(92) + '_')}%"] * len(searched)
        sql = (f"SELECT a.hostname, a.institution, {', '.join('s.' + c for c in cols)} "
               f"FROM {kind} s JOIN _kv_allowed a ON s.host_id = a.host_id {where} "
               f"ORDER BY a.institution, s.host_id, {', '.join('s.' + c for c in cols[1:3])} "
               f"LIMIT {limit + 1}")
        cur = con.execute(sql, params)
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=False)) for r in cur.fetchall()]
    except duckdb.Error as e:
        raise StoreError(f"cannot read the inventory lake: {e}") from e
    finally:
        con.close()
    return rows[:limit], len(rows) > limit
