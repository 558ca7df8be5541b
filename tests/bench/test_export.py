"""Exports of a generated estate read back through kitvet's own importers."""

from __future__ import annotations

from collections import Counter

import duckdb

from kitvet.bench.export import export_kitvet, export_osquery
from kitvet.model.document import read_document
from kitvet.sources.osquery import OsqueryImporter
from kitvet.sources.registry import detect


def _lake_counts(root, sources=None):
    where = f"WHERE source IN ({', '.join(repr(s) for s in sources)})" if sources else ""
    rows = duckdb.connect().execute(
        f"SELECT host_id, count(*) FROM read_parquet('{root}/lake/software/*.parquet') "
        f"{where} GROUP BY 1").fetchall()
    return dict(rows)


def test_kitvet_json_export_round_trips(small_estate, tmp_path):
    root, _ = small_estate
    files = export_kitvet(root, tmp_path / "kv", max_hosts=30)
    snaps = [s for f in files for s in read_document(f)]
    assert len(snaps) == 30
    assert not [s for s in snaps if s.skipped]
    lake = _lake_counts(root)
    for s in snaps:
        assert len(s.software) == lake[s.host.host_id]
        assert 15 <= len(s.devices) <= 40


def test_osquery_export_is_a_result_log_kitvet_reads(small_estate, tmp_path):
    root, _ = small_estate
    files = export_osquery(root, tmp_path / "osq", max_hosts=25)
    assert detect(files[0]).name == "osquery"
    snaps = [s for f in files for s in OsqueryImporter().read(f)]
    assert len(snaps) == 25
    # the log carries the tables osquery's importer maps (not patches/homebrew)
    lake = _lake_counts(root, ["osquery:programs", "osquery:deb_packages",
                               "osquery:rpm_packages", "osquery:apps"])
    for s in snaps:
        assert len(s.software) == lake.get(s.host.host_id, 0)
        assert Counter(d["bus"] for d in s.devices)["pci"] >= 10
        assert s.host.platform in ("windows", "linux", "macos")
