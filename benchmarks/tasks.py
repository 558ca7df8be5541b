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
    from kitvet.policy import load_profile
    from kitvet.store.lake import Lake

    policy = load_profile("default")
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {threads}")
    t = time.perf_counter()
    lists = bundled() if big_list is None else load_lists(
        [big_list], trusted_keys=[keys] if keys else None, include_updated=False)
    names = Lake(estate / "lake").views(con, snapshot_ids=snapshot_ids)
    findings = match(con, lists, policy, snapshot_ids=snapshot_ids, files="files", **names)
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
                                     "ingest-estate", "list-load", "review-biglist"])
    ap.add_argument("--list", type=Path, help="a big signed list (list-load, review-biglist)")
    ap.add_argument("--keys", type=Path, help="the folder of the key that signed --list")
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
    elif a.task == "incremental":
        out = review(a.estate, a.threads, json.loads(a.snapshots.read_text()))
    elif a.task == "list-load":
        out = list_load(a.list, a.keys)
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
