"""The Spark engine: the same review as :mod:`kitvet.match.engine`, over the same Parquet lake.

For estates beyond one machine. Spark does the part that grows with the estate — scanning every
inventory row — and the embedded engine does the rest, so the findings are identical by
construction rather than by a second implementation:

1. Spark reads the batch files of ``<estate>/lake`` that :meth:`kitvet.store.lake.Lake.scan`
   names (current snapshots only: partly current batches semi-joined with the current
   (snapshot_id, batch_id) pairs) and collects, in one aggregation per
   table, the *distinct* key of every probe (publisher, name, path, USB vendor id ...) to
   the driver — tens of thousands of strings, however many hosts;
2. the probes' own Python matchers decide which distinct keys satisfy an identifier (the
   same code the DuckDB engine runs);
3. Spark keeps only the rows whose keys matched (a filter on those few keys) and the host rows
   of those hosts, and returns them to the driver as Arrow;
4. :func:`kitvet.match.engine.match` runs on that small remainder in DuckDB: identifiers,
   package-type and platform limits, version checks once per distinct version, folding and
   policy — exactly as for the whole lake, because every finding comes from a matched row.

Run against a cluster with ``master="spark://host:7077"`` (or ``yarn``, ``k8s://...``); the
lake path must then be readable by the executors (shared filesystem, HDFS or S3 URL).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from kitvet.errors import MatchError
from kitvet.match.probes import PROBES, Probe
from kitvet.model.inventory import DEVICE_FIELDS, FILE_FIELDS, HOST_FIELDS, SOFTWARE_FIELDS
from kitvet.model.risk import ListSet

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from kitvet.policy import Policy
    from kitvet.store.lake import Lake

logger = logging.getLogger(__name__)

_FIELDS = {"software": SOFTWARE_FIELDS, "devices": DEVICE_FIELDS, "hosts": HOST_FIELDS,
           "files": FILE_FIELDS}


def spark_session(master: str = "local[2]", app_name: str = "kitvet review") -> SparkSession:
    """A Spark session for reviews (quiet console, few shuffle partitions in local mode)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as e:
        raise MatchError("the Spark engine needs pyspark (pip install 'kitvet[spark]')") from e
    builder = (SparkSession.builder.master(master).appName(app_name)
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.session.timeZone", "UTC"))
    if master.startswith("local"):
        builder = (builder.config("spark.ui.enabled", "false")
                   .config("spark.sql.shuffle.partitions", "8")
                   .config("spark.driver.memory", os.environ.get("KITVET_SPARK_DRIVER_MEMORY",
                                                                 "2g")))
    try:
        spark = builder.getOrCreate()
    except Exception as e:  # no Java, bad master URL ...
        raise MatchError(f"cannot start Spark ({master}): {e}") from e
    spark.sparkContext.setLogLevel("ERROR")
    return spark


class SparkMatcher:
    """The Spark engine as a :class:`~kitvet.match.interface.Matcher`.

    ``spark`` reuses a session; without one, a session already running in this process (a
    notebook's, a test session's) is used and left running, else a session is started on
    ``master`` for each :meth:`match` and stopped afterwards.
    """

    def __init__(self, master: str = "local[2]", *, spark: SparkSession | None = None):
        self.master = master
        self.spark = spark

    def match(self, lake: Lake, lists: ListSet, policy: Policy, *,
              snapshot_ids: Iterable[str] | None = None) -> pa.Table:
        """Review the lake on Spark; the findings table (FINDING_FIELDS) as Arrow."""
        from kitvet.match.engine import compile_identifiers

        if not lake.current_file.exists():
            raise MatchError("no inventory lake here (no current.parquet)", file=str(lake.path))
        idents = list(compile_identifiers(lists))  # Spark matches over them all in Python
        own = self.spark is None and _running_session() is None
        session = self.spark or spark_session(self.master)
        try:
            ids = None if snapshot_ids is None else sorted(set(snapshot_ids))
            frames = _current_frames(session, lake, ids)
            small: dict[str, pa.Table] = {}
            for table in ("software", "devices", "files"):
                probes = [(p, [i for i in idents if i.kind in p.kinds]) for p in PROBES
                          if p.table == table]
                probes = [(p, mine) for p, mine in probes if mine]
                matched = _matched_keys(frames[table], probes)
                small[table] = _matched_rows(frames[table], table, probes, matched)
            host_ids = sorted(set(small["software"].column("host_id").to_pylist())
                              | set(small["devices"].column("host_id").to_pylist())
                              | set(small["files"].column("host_id").to_pylist())
                              | _os_matched_hosts(frames["hosts"], idents))
            small["hosts"] = _host_rows(frames["hosts"], host_ids)
        except MatchError:
            raise
        except Exception as e:  # Spark/Py4J errors carry long Java traces: keep the first line
            raise MatchError(f"Spark review failed: {str(e).strip().splitlines()[0][:500]}"
                             ) from e
        finally:
            if own:
                session.stop()
        return _finish(small, lists, policy)

    def match_batches(self, lake: Lake, lists: ListSet, policy: Policy, *,
                      snapshot_ids: Iterable[str] | None = None) -> Iterator[pa.RecordBatch]:
        """:meth:`match` as record batches (Spark's remainder is small: one table)."""
        yield from self.match(lake, lists, policy, snapshot_ids=snapshot_ids).to_batches()


def _running_session() -> SparkSession | None:
    """The Spark session already active in this process, if any (never starts one)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return None
    return SparkSession.getActiveSession()


def run_spark(
    estate_dir: str | os.PathLike[str],
    lists: ListSet,
    policy: Policy,
    master: str = "local[2]",
    *,
    snapshot_ids: Iterable[str] | None = None,
    spark: SparkSession | None = None,
) -> pa.Table:
    """Review the lake of ``estate_dir`` (or the lake folder itself) on Spark.

    A shortcut for ``SparkMatcher(master, spark=spark).match(Lake(...), lists, policy)``.
    """
    return SparkMatcher(master, spark=spark).match(_lake(Path(estate_dir)), lists, policy,
                                                   snapshot_ids=snapshot_ids)


def _lake(path: Path) -> Lake:
    from kitvet.store.lake import Lake

    lake = Lake(path / "lake" if (path / "lake").is_dir() else path)
    if not lake.current_file.exists():
        raise MatchError("no inventory lake here (no current.parquet)", file=str(path))
    return lake


def _current_frames(spark: SparkSession, lake: Lake, snapshot_ids: list[str] | None
                    ) -> dict[str, DataFrame]:
    """software/devices/hosts DataFrames of the current snapshots (or of ``snapshot_ids``),
    read from the batch files that :meth:`Lake.scan` names."""
    from pyspark.sql import functions as F

    scan = lake.scan(snapshot_ids)
    cur = spark.read.parquet(str(lake.current_file)).select("snapshot_id", "batch_id")
    if snapshot_ids is not None:
        cur = cur.where(F.col("snapshot_id").isin(snapshot_ids))
    out = {}
    for kind, fields in _FIELDS.items():
        whole, partial = scan.files[kind]
        frames = []
        for files, join in ((whole, False), (partial, True)):
            if not files:
                continue
            df = spark.read.option("mergeSchema", "true").parquet(*(str(f) for f in files))
            for c in ("snapshot_id", "batch_id", *fields):
                if c not in df.columns:
                    df = df.withColumn(c, F.lit(None).cast("string"))
            df = df.select("snapshot_id", "batch_id", *fields)
            frames.append(df.join(F.broadcast(cur), ["snapshot_id", "batch_id"], "left_semi")
                          if join else df)
        if not frames:
            schema = ", ".join(f"`{c}` STRING" for c in ("snapshot_id", "batch_id", *fields))
            out[kind] = spark.createDataFrame([], schema)
            continue
        out[kind] = frames[0] if len(frames) == 1 else frames[0].unionByName(frames[1])
    return out


def _matched_keys(df: DataFrame, probes: list[tuple[Probe, list[Any]]]) -> dict[str, list[str]]:
    """Distinct keys of every probe (one Spark aggregation), matched in Python per key."""
    from pyspark.sql import functions as F

    if not probes:
        return {}
    aggs = [F.collect_set(F.when(F.expr(f"({p.where_sql}) AND ({p.key_sql}) IS NOT NULL "
                                        f"AND ({p.key_sql}) <> ''"), F.expr(p.key_sql)))
            .alias(f"k{n}") for n, (p, _) in enumerate(probes)]
    row = df.agg(*aggs).collect()[0]
    matched: dict[str, list[str]] = {}
    for n, (probe, mine) in enumerate(probes):
        keys = [k for k in (row[f"k{n}"] or []) if probe.matcher(k, mine)]
        if keys:
            matched[probe.name] = sorted(keys)
    logger.debug("spark: matched keys %s", {k: len(v) for k, v in matched.items()})
    return matched


def _matched_rows(df: DataFrame, table: str, probes: list[tuple[Probe, list[Any]]],
                  matched: dict[str, list[str]]) -> pa.Table:
    """Rows whose probe keys matched, to the driver as Arrow (inventory columns only)."""
    from pyspark.sql import functions as F

    from kitvet.model.schema import DEVICE_SCHEMA, FILE_SCHEMA, SOFTWARE_SCHEMA

    schema = {"software": SOFTWARE_SCHEMA, "files": FILE_SCHEMA}.get(table, DEVICE_SCHEMA)
    conds = [F.expr(p.where_sql) & F.expr(p.key_sql).isin(matched[p.name])
             for p, _ in probes if p.name in matched]
    if not conds:
        return schema.empty_table()
    cond = conds[0]
    for c in conds[1:]:
        cond = cond | c
    got = df.where(cond).select(*schema.names).toArrow()
    return got.cast(schema)


def _os_matched_hosts(df: DataFrame, idents: list[Any]) -> set[str]:
    """Hosts whose operating system a hosts-table probe matched (end-of-life releases)."""
    from pyspark.sql import functions as F

    probes = [(p, [i for i in idents if i.kind in p.kinds]) for p in PROBES
              if p.table == "hosts"]
    probes = [(p, mine) for p, mine in probes if mine]
    matched = _matched_keys(df, probes)
    conds = [F.expr(p.where_sql) & F.expr(p.key_sql).isin(matched[p.name])
             for p, _ in probes if p.name in matched]
    if not conds:
        return set()
    cond = conds[0]
    for c in conds[1:]:
        cond = cond | c
    return {r["host_id"] for r in df.where(cond).select("host_id").distinct().collect()}


def _host_rows(df: DataFrame, host_ids: list[str]) -> pa.Table:
    from pyspark.sql import functions as F

    from kitvet.model.schema import HOST_SCHEMA

    if not host_ids:
        return HOST_SCHEMA.empty_table()
    return df.where(F.col("host_id").isin(host_ids)).select(*HOST_SCHEMA.names).toArrow() \
        .cast(HOST_SCHEMA)


def _finish(small: dict[str, pa.Table], lists: ListSet, policy: Policy) -> pa.Table:
    """The embedded engine over the matched rows: identical findings to a full DuckDB review."""
    import duckdb

    from kitvet.match.engine import match

    con = duckdb.connect()
    try:
        for name, table in small.items():
            con.register(name, table)
        return match(con, lists, policy, files="files" if "files" in small else None)
    finally:
        con.close()
