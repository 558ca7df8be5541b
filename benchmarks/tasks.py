"""One measurement per child process, so each peak RSS is its own.

Run as ``python benchmarks/tasks.py TASK --estate DIR [...]``; prints one JSON line:
``{"task", "seconds", "peak_rss_mb", ...}``. ``seconds`` times the work only (not the
interpreter start or imports); peak RSS is the child's own high-water mark (VmHWM).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any


def _peak_rss_mb() -> float:
    """This process's peak RSS: VmHWM (reset by exec, unlike getrusage's ru_maxrss, which a
    child inherits from the parent that forked it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux


def floor(estate: Path, threads: int | None) -> dict:
    """The plain DuckDB scan the review is compared with (same lake, same machine)."""
    import duckdb

    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {threads}")
    t = time.perf_counter()
    (n,) = con.execute(
        "SELECT count(DISTINCT (publisher, name, version)) FROM "
        f"read_parquet('{estate}/lake/software/*.parquet')").fetchall()[0]
    secs = time.perf_counter() - t
    (rows,) = con.execute(f"SELECT count(*) FROM read_parquet('{estate}/lake/software/*.parquet')"
                          ).fetchall()[0]
    return {"seconds": secs, "distinct_triples": n, "rows": rows}


def review(estate: Path, threads: int | None, snapshot_ids: list[str] | None = None,
           big_list: Path | None = None, keys: Path | None = None) -> dict:
    """Full (or incremental) review: lake views + the DuckDB engine, findings to Arrow. With
    ``big_list`` the timed work includes loading it (signed by a key in ``keys``; from the
    list cache once it was loaded once) besides the bundled lists."""
    import duckdb

    from kitvet.lists import bundled, load_lists
    from kitvet.match.engine import match
    from kitvet.match.sidekeys import lake_keys
    from kitvet.policy import load_profile
    from kitvet.store.lake import Lake

    policy = load_profile("default")
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {threads}")
    t = time.perf_counter()
    lists = bundled() if big_list is None else load_lists(
        [big_list], trusted_keys=[keys] if keys else None, include_updated=False)
    lake = Lake(estate / "lake")
    names = lake.views(con, snapshot_ids=snapshot_ids)
    side = lake_keys(con, lake) if snapshot_ids is None else None
    findings = match(con, lists, policy, snapshot_ids=snapshot_ids, files="files", side=side,
                     **names)
    secs = time.perf_counter() - t
    statuses: dict[str, int] = {}
    for s in findings.column("status").to_pylist():
        statuses[s] = statuses.get(s, 0) + 1
    rows = con.execute(f"SELECT (SELECT count(*) FROM {names['software']}) + "
                       f"(SELECT count(*) FROM {names['devices']})").fetchall()[0][0]
    return {"seconds": secs, "findings": findings.num_rows, "by_status": statuses, "rows": rows}


def list_load(big_list: Path, keys: Path) -> dict:
    """Load a signed list (parse, validate, verify and cache it; or from the cache)."""
    from kitvet.lists import compiled as cache
    from kitvet.lists import load_list

    d = cache.cache_dir()
    warm = d is not None and any(d.glob("*.kvlc"))
    t = time.perf_counter()
    rl = load_list(big_list, trusted_keys=[keys])
    secs = time.perf_counter() - t
    return {"seconds": secs, "cached": warm, "subjects": len(rl.subjects),
            "identifiers": sum(len(s.identifiers) for s in rl.subjects),
            "bytes": big_list.stat().st_size, "signed_by": rl.signed_by}


def _vuln_lists(feed: Path, kev: Path) -> tuple[Any, dict]:
    """The bundled lists, the end-of-life list and the feed joined to the KEV catalogue."""
    from kitvet.bench.vulnfeed import count_ranges
    from kitvet.identify.eol import with_eol
    from kitvet.lists import bundled
    from kitvet.lists.format import document_to_list
    from kitvet.lists.kev import read_kev, with_kev
    from kitvet.model.risk import ListSet

    t = time.perf_counter()
    doc = json.loads(feed.read_text())
    ranges = count_ranges(doc)
    lists = with_eol(ListSet((*bundled().lists, document_to_list(doc, origin=str(feed)))))
    del doc
    lists, joined = with_kev(lists, read_kev(kev.read_bytes(), file=kev.name))
    return lists, {"load_join_s": round(time.perf_counter() - t, 3), "feed_ranges": ranges,
                   "kev_joined_subjects": joined.subjects}


def _tally(batch: Any, by_class: dict, by_status: dict, vuln_hosts: set, linux: set) -> None:
    import pyarrow.compute as pc

    for col, out in (("finding_class", by_class), ("status", by_status)):
        for v in pc.value_counts(batch.column(col)).to_pylist():
            out[v["values"]] = out.get(v["values"], 0) + v["counts"]
    vuln = pc.equal(batch.column("finding_class"), "vulnerability")
    hosts = batch.column("host_id").filter(vuln)
    vuln_hosts.update(pc.unique(hosts).to_pylist())
    linux.update(pc.unique(hosts.filter(pc.invert(pc.equal(
        batch.column("platform").filter(vuln), "windows")))).to_pylist())


def review_vuln(estate: Path, threads: int | None, feed: Path, kev: Path) -> dict:
    """Full review with a vulnerability feed (bench.vulnfeed) joined to a KEV catalogue: the
    feed is read and joined first (timed apart: list loading is not matching), then the same
    review as :func:`review` over the bundled lists, the end-of-life list and the feed, its
    findings handed out in record batches (``match_batches``) and counted, never held whole."""
    import duckdb

    from kitvet.match.engine import match_batches
    from kitvet.match.sidekeys import lake_keys
    from kitvet.policy import load_profile
    from kitvet.store.lake import Lake

    lists, info = _vuln_lists(feed, kev)
    policy = load_profile("default")
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {threads}")
    t = time.perf_counter()
    lake = Lake(estate / "lake")
    names = lake.views(con)
    side = lake_keys(con, lake)  # the batches' distinct keys, as DuckDBMatcher reads them
    by_class: dict[str, int] = {}
    by_status: dict[str, int] = {}
    vuln_hosts: set[str] = set()
    linux: set[str] = set()
    n = 0
    for batch in match_batches(con, lists, policy, files="files", side=side, **names):
        n += batch.num_rows
        _tally(batch, by_class, by_status, vuln_hosts, linux)
    secs = time.perf_counter() - t
    rows, hosts = con.execute(
        f"SELECT (SELECT count(*) FROM {names['software']}) + "
        f"(SELECT count(*) FROM {names['devices']}), "
        f"(SELECT count(DISTINCT host_id) FROM {names['hosts']})").fetchall()[0]
    return {"seconds": secs, **info, "findings": n, "by_class": by_class,
            "by_status": by_status, "rows": rows, "hosts": hosts,
            "hosts_with_vulnerable_versions": len(vuln_hosts)}


def prepare_estate(estate: Path, workdir: Path) -> dict:
    """A fresh estate over a hard-linked copy of ``estate``'s lake, its batches recorded in a
    new review database (as ``kitvet bench generate`` does), for the store measurement."""
    import shutil
    import subprocess

    from kitvet.bench.estate import read_manifest
    from kitvet.estate import init_estate

    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    subprocess.run(["cp", "-al", str(estate / "lake"), str(workdir / "lake")], check=True)
    m = read_manifest(estate)
    batches = list(m["batches"]) + [c["batch_id"] for c in m.get("changes", [])]
    t = time.perf_counter()
    with init_estate(workdir, actor="benchmark") as est:
        est.record_lake_batches(batches, actor="benchmark")
    return {"seconds": time.perf_counter() - t, "batches": len(batches)}


def review_vuln_estate(workdir: Path, feed: Path, kev: Path) -> dict:
    """``Estate.review`` with the feed (what ``kitvet estate review`` runs): the engine's
    batches recorded in the review database as they come. The estate is the one
    :func:`prepare_estate` made; its first review inserts every finding."""
    from kitvet.estate import open_estate
    from kitvet.policy import load_profile

    lists, info = _vuln_lists(feed, kev)
    policy = load_profile("default")
    with open_estate(workdir) as est:
        t = time.perf_counter()
        res = est.review(actor="benchmark", lists=lists, policy=policy)
        secs = time.perf_counter() - t
    db = workdir / "estate.db"
    return {"seconds": secs, **info, "findings": res.findings, "new": res.new,
            "by_class": res.by_class, "db_mb": round(db.stat().st_size / 1e6, 1)}


def list_compile(big_list: Path, keys: Path) -> dict:
    """The identifiers of a cached list compiled for review the first time: normalised,
    indexed and kept beside its cache entry (kitvet.match.idtable); later reviews read them."""
    from kitvet.lists import load_list
    from kitvet.match.engine import compile_identifiers
    from kitvet.model.risk import ListSet

    rl = load_list(big_list, trusted_keys=[keys])
    t = time.perf_counter()
    idents = compile_identifiers(ListSet((rl,)), graph=None)
    secs = time.perf_counter() - t
    return {"seconds": secs, "subjects": len(rl.subjects), "identifiers": len(idents),
            "cached": rl.cache_key is not None}


def ingest_parse(files: list[Path]) -> dict:
    """osquery result logs parsed by kitvet's osquery importer (into snapshots)."""
    from kitvet.sources.osquery import OsqueryImporter

    imp = OsqueryImporter()
    size = sum(f.stat().st_size for f in files)
    t = time.perf_counter()
    hosts = rows = 0
    for f in files:
        snaps = imp.read(f)
        hosts += len(snaps)
        rows += sum(len(s.software) + len(s.devices) for s in snaps)
    secs = time.perf_counter() - t
    return {"seconds": secs, "bytes": size, "hosts": hosts, "rows": rows}


def ingest_estate(files: list[Path], workdir: Path) -> dict:
    """osquery result logs imported into a fresh estate (parse + lake + review database)."""
    import shutil

    from kitvet.sources.osquery import OsqueryImporter
    from kitvet.store.db import make_engine, migrate
    from kitvet.store.ingest import import_snapshots
    from kitvet.store.lake import Lake

    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    engine = make_engine(f"sqlite:///{workdir / 'estate.db'}")
    migrate(engine)
    lake = Lake(workdir / "lake")
    size = sum(f.stat().st_size for f in files)
    t = time.perf_counter()
    hosts = 0
    for f in files:
        res = import_snapshots(engine, lake, OsqueryImporter().read(f), actor="benchmark",
                               institution="Benchmark")
        hosts += len(res.added)
    secs = time.perf_counter() - t
    shutil.rmtree(workdir, ignore_errors=True)
    return {"seconds": secs, "bytes": size, "hosts": hosts}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("task", choices=["floor", "review", "incremental", "ingest-parse",
                                     "ingest-estate", "list-load", "list-compile",
                                     "review-biglist", "review-vuln", "prepare-estate",
                                     "review-vuln-estate"])
    ap.add_argument("--list", type=Path, help="a big signed list (list-load, review-biglist)")
    ap.add_argument("--keys", type=Path, help="the folder of the key that signed --list")
    ap.add_argument("--feed", type=Path, help="review-vuln: the feed (bench.vulnfeed JSON)")
    ap.add_argument("--kev", type=Path, help="review-vuln: the KEV catalogue over the feed")
    ap.add_argument("--estate", type=Path)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--snapshots", type=Path, help="JSON file: list of snapshot ids")
    ap.add_argument("--files", type=Path, nargs="*", default=[])
    ap.add_argument("--workdir", type=Path)
    a = ap.parse_args(argv)
    if a.task == "floor":
        out = floor(a.estate, a.threads)
    elif a.task == "review":
        out = review(a.estate, a.threads)
    elif a.task == "review-vuln":
        out = review_vuln(a.estate, a.threads, a.feed, a.kev)
    elif a.task == "prepare-estate":
        out = prepare_estate(a.estate, a.workdir)
    elif a.task == "review-vuln-estate":
        out = review_vuln_estate(a.workdir, a.feed, a.kev)
    elif a.task == "incremental":
        out = review(a.estate, a.threads, json.loads(a.snapshots.read_text()))
    elif a.task == "list-load":
        out = list_load(a.list, a.keys)
    elif a.task == "list-compile":
        out = list_compile(a.list, a.keys)
    elif a.task == "review-biglist":
        out = review(a.estate, a.threads, big_list=a.list, keys=a.keys)
    elif a.task == "ingest-parse":
        out = ingest_parse(a.files)
    else:
        out = ingest_estate(a.files, a.workdir)
    out.update(task=a.task, peak_rss_mb=round(_peak_rss_mb(), 1))
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
