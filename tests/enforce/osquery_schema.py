"""osquery's tables as its own specs define them, in SQLite: every generated query is run over
the tables of the platform it is meant for (a query naming a table or column that osquery does
not have on that platform fails here as it would on the host).

``data/osquery-columns.json`` holds the table and column names of osquery's ``specs/**/*.table``
(source commit and licence inside the file).
"""

from __future__ import annotations

import json
import sqlite3
from functools import lru_cache
from pathlib import Path
from typing import Any

COLUMNS = Path(__file__).parent / "data" / "osquery-columns.json"


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    return json.loads(COLUMNS.read_text(encoding="utf-8"))


def tables(platform: str) -> dict[str, list[str]]:
    """Table -> columns of osquery on ``platform`` (darwin, linux, windows)."""
    out = {}
    for name, t in spec()["tables"].items():
        if platform in t["platforms"]:
            out[name] = t["columns"] + t.get("extended", {}).get(platform, [])
    return out


def required(table: str) -> list[str]:
    """Columns osquery needs a constraint on (e.g. hash.path or hash.directory)."""
    return spec()["tables"][table].get("required", [])


def osquery_db(platform: str = "linux", **rows: list[dict[str, Any]]) -> sqlite3.Connection:
    """An in-memory database with osquery's tables of ``platform`` and the given rows."""
    con = sqlite3.connect(":memory:")
    cols = tables(platform)
    for table, names in cols.items():
        con.execute(f'CREATE TABLE "{table}" ({", ".join(f"{c!r}" for c in names)})')
    for table, items in rows.items():
        assert table in cols, f"osquery has no table {table} on {platform}"
        for r in items:
            unknown = set(r) - set(cols[table])
            assert not unknown, f"{table} on {platform} has no column {unknown}"
            keys = ", ".join(r)
            con.execute(f"INSERT INTO {table} ({keys}) VALUES ({', '.join('?' * len(r))})",
                        list(r.values()))
    return con
