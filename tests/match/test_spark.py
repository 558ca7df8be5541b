"""The Spark engine gives the DuckDB engine's findings on the same generated lake."""

from __future__ import annotations

import shutil

import duckdb
import pytest

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed")

pytestmark = [
    pytest.mark.spark,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="no Java runtime for Spark"),
]


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    from kitvet.bench.writer import apply_change, generate

    root = tmp_path_factory.mktemp("spark") / "estate"
    # seed 7 gives listed items of every kind (operating system, software, device) and a ban
    # in 40 hosts (checked below); Spark's cost here is its per-query overhead, not the rows
    generate(root, 40, seed=7, batch_hosts=16)
    apply_change(root, fraction=0.3)  # 12 hosts, some with findings (checked below)
    return root


def _lists(lists):
    """The bundled lists and the end-of-life list of a pinned day."""
    from kitvet.identify.eol import eol_list
    from kitvet.model.risk import ListSet

    return ListSet((*lists.lists, eol_list(today="2026-12-02")))


def test_spark_findings_equal_duckdb_findings(estate, spark):
    from kitvet.lists import bundled
    from kitvet.match.engine import DuckDBMatcher
    from kitvet.match.spark import SparkMatcher
    from kitvet.policy import load_profile
    from kitvet.store.lake import Lake

    lists, policy = _lists(bundled()), load_profile("default")
    lake = Lake(estate / "lake")
    expected = DuckDBMatcher().match(lake, lists, policy)
    got = SparkMatcher(spark=spark).match(lake, lists, policy)
    assert expected.num_rows > 0, "the estate must carry listed items for this test to mean much"
    assert {"ban", "review"} <= set(expected.column("status").to_pylist())
    assert {"os", "software", "device"} <= set(expected.column("item_type").to_pylist())
    # operating systems (hosts table) and runtimes past their end of life, on both engines
    assert {"os", "software"} <= {t for t, c in zip(expected.column("item_type").to_pylist(),
                                                    expected.column("finding_class").to_pylist(),
                                                    strict=False) if c == "end-of-life"}
    key = lambda t: sorted(zip(t.column("finding_id").to_pylist(),  # noqa: E731
                               t.column("status").to_pylist(),
                               t.column("explanation").to_pylist(), strict=False))
    assert key(got) == key(expected)
    assert got.equals(expected)


def test_spark_incremental_review_equals_duckdb(estate, spark):
    import json

    from kitvet.lists import bundled
    from kitvet.match.engine import match
    from kitvet.match.spark import run_spark
    from kitvet.policy import load_profile
    from kitvet.store.lake import Lake

    changed = json.loads((estate / "estate.json").read_text())["changes"][0]["snapshot_ids"]
    lists, policy = _lists(bundled()), load_profile("default")
    con = duckdb.connect()
    names = Lake(estate / "lake").views(con, snapshot_ids=changed)
    expected = match(con, lists, policy, snapshot_ids=changed, **names)
    got = run_spark(estate, lists, policy, snapshot_ids=changed, spark=spark)
    assert expected.num_rows > 0
    assert got.equals(expected)
    assert set(got.column("host_id").to_pylist()) <= {
        h for h, s in zip(*_current(estate), strict=False) if s in set(changed)}


def _current(estate):
    import pyarrow.parquet as pq

    cur = pq.read_table(estate / "lake" / "current.parquet")
    return cur.column("host_id").to_pylist(), cur.column("snapshot_id").to_pylist()


def test_spark_reports_a_missing_lake_clearly(tmp_path):
    from kitvet.errors import MatchError
    from kitvet.lists import bundled
    from kitvet.match.spark import run_spark
    from kitvet.policy import load_profile

    with pytest.raises(MatchError, match="no inventory lake"):
        run_spark(tmp_path, bundled(), load_profile("default"))


def test_spark_review_command(estate, spark, tmp_path):
    """The command reviews on the Spark session already running in the process (the test
    session's) and leaves it running."""
    import json

    import pyarrow.parquet as pq
    from click.testing import CliRunner

    from kitvet.cli import main

    out = tmp_path / "findings.parquet"
    res = CliRunner().invoke(main, ["bench", "spark-review", "--estate", str(estate),
                                    "-o", str(out)])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output.strip().splitlines()[-1])
    table = pq.read_table(out)
    assert summary["findings"] == table.num_rows > 0
    assert sum(summary["by_status"].values()) == table.num_rows
    assert spark.range(3).count() == 3  # not stopped by the command
