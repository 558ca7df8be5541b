"""Matching: inventory × risk lists × policy → findings.

:func:`review_snapshots` is the one-shot review (``kitvet review``): snapshots in memory become
Arrow tables, DuckDB matches them (:mod:`kitvet.match.engine`). The estate store runs the same
engine over its Parquet lake; the Spark engine (:mod:`kitvet.match.spark`) gives identical
findings for estates beyond one machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from kitvet.model import Skipped, Snapshot
    from kitvet.model.risk import ListSet
    from kitvet.policy import Policy


@dataclass
class MatchResult:
    """What matching snapshots found: findings (Arrow, FINDING_FIELDS), the hosts, what was
    skipped (the one-shot ``kitvet review``; an estate review's counts are
    :class:`kitvet.estate.ReviewResult`)."""

    findings: pa.Table
    hosts: pa.Table
    software_count: int
    device_count: int
    skipped: list[tuple[str, Skipped]] = field(default_factory=list)  # (host_id, skipped)
    lists: ListSet | None = None
    policy_name: str = "default"


def review_snapshots(snapshots: list[Snapshot], lists: ListSet, policy: Policy) -> MatchResult:
    """Review in-memory snapshots against the lists under the policy."""
    import duckdb

    from kitvet.match.engine import match
    from kitvet.model.schema import device_table, file_table, host_table, software_table

    sw_rows: list[dict[str, Any]] = []
    dev_rows: list[dict[str, Any]] = []
    host_rows: list[dict[str, Any]] = []
    file_rows: list[dict[str, Any]] = []
    skipped: list[tuple[str, Any]] = []
    for snap in snapshots:
        hid = snap.host.host_id
        host_rows.append(snap.host.to_row())
        for r in snap.software:
            sw_rows.append({**r, "host_id": hid})
        for r in snap.devices:
            dev_rows.append({**r, "host_id": hid})
        for r in snap.files:
            file_rows.append({**r, "host_id": hid})
        skipped.extend((hid, s) for s in snap.skipped)
    software = software_table(sw_rows)
    devices = device_table(dev_rows)
    hosts = host_table(host_rows)
    con = duckdb.connect()
    try:
        con.register("software", software)
        con.register("devices", devices)
        con.register("hosts", hosts)
        con.register("files", file_table(file_rows))
        findings = match(con, lists, policy, files="files")
    finally:
        con.close()
    return MatchResult(
        findings=findings,
        hosts=hosts,
        software_count=software.num_rows,
        device_count=devices.num_rows,
        skipped=skipped,
        lists=lists,
        policy_name=getattr(policy, "name", "default"),
    )
