"""Bulk loading of Arrow columns into a temporary table of the review database.

A review records hundreds of thousands of findings; binding them one row at a time through
SQLAlchemy (compiling each row's parameters) costs far more than the database's own work. A
:class:`Stage` is a temporary table of the write transaction's connection, loaded a batch at a
time by the driver's own bulk path (``executemany`` of plain tuples on SQLite, ``COPY`` on
PostgreSQL), so that set-based statements (INSERT ... SELECT, UPDATE ... FROM) compare it with
the stored rows and apply it inside the database, in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
from sqlalchemy import Column, Connection, MetaData, Table

logger = logging.getLogger(__name__)


class Stage:
    """A temporary table of ``conn``'s transaction with ``columns``: :meth:`load` replaces its
    rows, :attr:`table` is what statements select from, :meth:`drop` removes it. A transaction
    that rolls back takes the table with it (its creation is part of the transaction)."""

    def __init__(self, conn: Connection, name: str, columns: Sequence[Column]):
        self.conn = conn
        self.table = Table(name, MetaData(), *columns, prefixes=["TEMPORARY"],
                           postgresql_on_commit="DROP")
        self.names = [c.name for c in self.table.columns]
        self.table.drop(conn, checkfirst=True)
        self.table.create(conn)

    def load(self, columns: Mapping[str, pa.Array | pa.ChunkedArray | Sequence[object]],
             *, replace: bool = True) -> int:
        """Put these columns (all of one length; a column of the table not given is null) in
        the table, in place of its rows (``replace``) or beside them; returns the number of
        rows."""
        if replace:
            self.conn.execute(self.table.delete())
        names = [n for n in self.names if n in columns]
        data = [columns[n] for n in names]
        lists = [c.to_pylist() if isinstance(c, pa.Array | pa.ChunkedArray) else list(c)
                 for c in data]
        n = len(lists[0]) if lists else 0
        if not n:
            return 0
        rows = zip(*lists, strict=True)
        name = self.table.name
        cols = ", ".join(names)
        dialect = self.conn.dialect.name
        raw: Any = self.conn.connection.dbapi_connection
        if dialect == "sqlite" and raw is not None:
            cur = raw.cursor()
            try:
                cur.executemany(f"INSERT INTO {name} ({cols}) VALUES "
                                f"({', '.join('?' * len(names))})", rows)
            finally:
                cur.close()
        elif dialect == "postgresql" and raw is not None and hasattr(raw, "cursor"):
            with raw.cursor() as cur:
                with cur.copy(f"COPY {name} ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                cur.execute(f"ANALYZE {name}")
        else:  # another database: through SQLAlchemy
            self.conn.execute(self.table.insert(), [dict(zip(names, r, strict=True))
                                                    for r in rows])
        return n

    def drop(self) -> None:
        """Remove the table (before the transaction commits)."""
        self.table.drop(self.conn, checkfirst=True)
