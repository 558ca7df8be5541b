"""Small DuckDB helpers shared by the engine, the store and the benchmarks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyarrow as pa


def query_arrow(con: Any, sql: str, params: list | None = None) -> pa.Table:
    """Run ``sql`` on a DuckDB connection and return an Arrow table, across DuckDB versions
    (relation ``to_arrow_table`` in 2.x without the DB-API copy; ``fetch_arrow_table`` in 1.x)."""
    if params is None and hasattr(con, "sql"):
        rel = con.sql(sql)
        for name in ("to_arrow_table", "fetch_arrow_table", "arrow"):
            fn = getattr(rel, name, None)
            if fn is not None:
                table = fn()
                return table.read_all() if isinstance(table, pa.RecordBatchReader) else table
    result = con.execute(sql, params or [])
    for name in ("to_arrow_table", "fetch_arrow_table", "arrow"):
        fn = getattr(result, name, None)
        if fn is not None:
            table = fn()
            return table.read_all() if isinstance(table, pa.RecordBatchReader) else table
    raise TypeError(f"cannot fetch Arrow from {type(result).__name__}")


def arrow_reader(con: Any, sql: str, batch_rows: int) -> pa.RecordBatchReader:
    """Stream the rows of ``sql`` as Arrow record batches of about ``batch_rows`` rows
    (relation ``to_arrow_reader`` in 2.x; ``fetch_record_batch`` in 1.x)."""
    if hasattr(con, "sql"):
        rel = con.sql(sql)
        fn = getattr(rel, "to_arrow_reader", None)
        if fn is not None:
            reader: pa.RecordBatchReader = fn(batch_rows)
            return reader
    out: pa.RecordBatchReader = con.execute(sql).fetch_record_batch(batch_rows)
    return out


def sql_str(value: str) -> str:
    """A string as an SQL string literal (``'b''s'``)."""
    return "'" + value.replace("'", "''") + "'"


def sql_list(values: Iterable[str]) -> str:
    """Strings as a comma-separated list of SQL string literals (``'a', 'b''s'``)."""
    return ", ".join(sql_str(v) for v in values)
