"""The engine hands findings out in record batches: the same findings, most severe first,
whatever the batch size (a review of millions never holds them in one piece)."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from kitvet.match.engine import match, match_batches
from kitvet.model.risk import status_rank
from kitvet.model.schema import device_table, host_table, software_table


def _con(snaps) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    sw = [{**r, "host_id": s.host.host_id} for s in snaps for r in s.software]
    con.register("software", software_table(sw))
    con.register("devices", device_table([]))
    con.register("hosts", host_table([s.host.to_row() for s in snaps]))
    return con


def test_batches_of_one_row_give_the_findings_of_one_table(lists, policy, snapshot) -> None:
    snaps = [snapshot(f"h{n}", software=[
        {"name": "xz-utils", "version": "5.6.1-1", "package_type": "deb"},
        {"name": "kesl", "version": "11", "publisher": "AO Kaspersky Lab", "package_type": "deb"},
        {"name": "bash", "version": "5.2", "package_type": "deb"}]) for n in range(4)]
    whole = match(_con(snaps), lists, policy)
    batches = list(match_batches(_con(snaps), lists, policy, batch_rows=1))
    assert whole.num_rows == 8
    assert len(batches) >= 4 and all(b.num_rows <= 2 for b in batches)
    assert pa.Table.from_batches(batches).equals(whole)
    ranks = [status_rank(s) for s in whole.column("status").to_pylist()]
    assert ranks == sorted(ranks, reverse=True)  # ban (xz) before review (Kaspersky)


def test_nothing_matched_is_no_batch(lists, policy, snapshot) -> None:
    con = _con([snapshot("h1", software=[{"name": "bash", "version": "5.2",
                                           "package_type": "deb"}])])
    assert list(match_batches(con, lists, policy)) == []
    assert match(con, lists, policy).num_rows == 0
