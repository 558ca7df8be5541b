"""kitvet's benchmark: one command (``make bench`` = ``python benchmarks/run.py``).

For each estate size it generates (or reuses from ``benchmarks/.cache``) a realistic estate,
gives 1% of its hosts a new snapshot, and times — each in its own child process, so each peak
RSS is its own —

* the plain DuckDB scan ``SELECT count(DISTINCT (publisher, name, version))`` of the same lake
  (the floor the review is compared with),
* the full review (the lake's views, ``kitvet.store.lake.Lake.views``, and the DuckDB engine,
  findings returned as Arrow: what ``kitvet estate review`` runs),
* the incremental review of the changed 1% of hosts,
* the full review with a vulnerability feed of 200,000 affected ranges joined to a KEV
  catalogue (``kitvet.bench.vulnfeed``; the feed's reading and join are timed apart),
* once, the ingest of osquery result logs (parse, and parse + store into a fresh estate),
* a signed list of 100,000 subjects and 300,000 identifiers (``kitvet.bench.biglist``, the
  shape of the OSV malicious-packages feed imported): its first load (parse, validate, verify,
  write the list cache), a cached load, the first compilation of its identifiers for review
  (kept beside the cache entry, ``kitvet.match.idtable``), then the full review of each
  estate with it.

It prints rows/s, wall time, peak RSS and each target as met / not met, and writes the results
as JSON to ``benchmarks/results/``. Targets (issue 6): 100,000 hosts reviewed in ≤ 30 s with
peak RSS ≤ 4 GB; review ≤ 3 × the plain scan; incremental ≤ 10% of full; ingest ≥ 50 MB/s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from rich.console import Console  # noqa: E402
from rich.progress import (  # noqa: E402
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table  # noqa: E402

from kitvet.bench.estate import GENERATOR_VERSION, read_manifest  # noqa: E402
from kitvet.bench.export import export_osquery  # noqa: E402
from kitvet.bench.writer import apply_change, generate  # noqa: E402

console = Console()
TARGETS = {"review_100k_s": 30.0, "review_100k_rss_mb": 4096.0, "review_over_floor": 3.0,
           "incremental_over_full": 0.10, "ingest_mb_s": 50.0, "list_load_s": 1.0}
BIGLIST_VERSION = 1


def estate_for(cache: Path, hosts: int, seed: int, workers: int) -> tuple[Path, float | None]:
    """The cached estate for (hosts, seed, generator version); generated if missing."""
    path = cache / f"estate-h{hosts}-s{seed}-v{GENERATOR_VERSION}"
    if (path / "estate.json").exists():
        return path, None
    cache.mkdir(parents=True, exist_ok=True)
    with Progress(TextColumn(f"generate {hosts:,} hosts"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as prog:
        task = prog.add_task("gen", total=hosts)
        t = time.perf_counter()
        generate(path, hosts, seed, workers=workers, progress=lambda n: prog.advance(task, n))
        return path, time.perf_counter() - t


def child(task: str, *args: str) -> dict:
    """Run one measurement in a fresh interpreter; its JSON result."""
    cmd = [sys.executable, str(HERE / "tasks.py"), task, *args]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ,
                                                                     "PYTHONPATH": str(HERE.parent / "src")})
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"benchmark task {task} failed:\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_wall_s"] = round(wall, 3)
    return out


def measure_size(estate: Path, threads: int | None, repeat: int, prog: Progress,
                 feed: tuple[Path, Path] | None = None) -> dict:
    """Floor, full review, incremental review and (with ``feed``) the full review with a
    vulnerability feed joined to KEV, of one estate (best of ``repeat``)."""
    change = apply_change(estate, 0.01)
    snaps = estate / "changed-snapshots.json"
    snaps.write_text(json.dumps(change["snapshot_ids"]))
    targs = ["--estate", str(estate)] + (["--threads", str(threads)] if threads else [])
    res: dict[str, dict] = {}
    steps = [("floor", targs), ("review", targs), ("incremental", [*targs, "--snapshots", str(snaps)])]
    if feed is not None:
        steps.append(("review-vuln", [*targs, "--feed", str(feed[0]), "--kev", str(feed[1])]))
    task = prog.add_task(f"measure {estate.name}", total=len(steps) * repeat)
    for name, a in steps:
        runs = []
        for _ in range(repeat):
            runs.append(child(name, *a))
            prog.advance(task)
        best = min(runs, key=lambda r: r["seconds"])
        best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
        best["runs_s"] = [round(r["seconds"], 3) for r in runs]
        res[name] = best
    if feed is not None:  # the same review recorded in a review database (a fresh copy)
        work = estate.parent / f"{estate.name}-review-work"
        child("prepare-estate", "--estate", str(estate), "--workdir", str(work))
        res["review-vuln-estate"] = child("review-vuln-estate", "--workdir", str(work),
                                          "--feed", str(feed[0]), "--kev", str(feed[1]))
        shutil.rmtree(work, ignore_errors=True)
    res["changed_hosts"] = change["hosts"]
    return res


def measure_ingest(estate: Path, hosts: int, prog: Progress) -> dict:
    """osquery result logs of ``hosts`` hosts of ``estate``: parse, and parse + store."""
    logs = estate.parent / f"{estate.name}-osquery-{hosts}"
    if not (logs / ".complete").exists():
        task = prog.add_task(f"export {hosts} hosts as osquery logs", total=hosts)
        export_osquery(estate, logs, max_hosts=hosts, progress=lambda n: prog.advance(task, n))
        (logs / ".complete").write_text("")
    files = [str(p) for p in sorted(logs.glob("*.log"))]
    task = prog.add_task("ingest osquery logs", total=2)
    parse = child("ingest-parse", "--files", *files)
    prog.advance(task)
    store = child("ingest-estate", "--workdir", str(logs.parent / "ingest-work"), "--files", *files)
    prog.advance(task)
    for r in (parse, store):
        r["mb_s"] = round(r["bytes"] / 1e6 / r["seconds"], 2)
    return {"parse": parse, "estate": store}


def big_list_for(cache: Path, subjects: int, seed: int, estate: Path) -> tuple[Path, Path]:
    """The cached signed big list (and the folder of its public key); made if missing."""
    from kitvet.bench.biglist import generate_list
    from kitvet.lists import signing
    from kitvet.lists.format import read_document

    path = cache / f"biglist-s{seed}-n{subjects}-v{BIGLIST_VERSION}.json"
    keys, priv = cache / "biglist-keys", cache / "biglist-key.pem"
    if not priv.exists():
        signing.generate_keypair(priv, keys)
    if not signing.sig_path(path).exists():
        with console.status(f"generate and sign a list of {subjects:,} subjects"):
            generate_list(path, subjects=subjects, seed=seed, estate=estate)
            sig = signing.sign_document(read_document(path), signing.load_private_key(priv))
            signing.write_signature(path, sig)
    return path, keys


def measure_big_list(big: Path, keys: Path, estates: dict[int, Path], threads: int | None,
                     prog: Progress) -> dict:
    """First and cached load of the big list, its identifiers' first compilation (kept for
    later reviews), then the review of each estate with it."""
    import shutil

    cache_dir = Path(os.environ["KITVET_CACHE_DIR"]) / "lists"
    shutil.rmtree(cache_dir, ignore_errors=True)
    task = prog.add_task("big list: load, cached load, compile, reviews", total=3 + len(estates))
    out: dict = {"first_load": child("list-load", "--list", str(big), "--keys", str(keys))}
    prog.advance(task)
    out["cached_load"] = child("list-load", "--list", str(big), "--keys", str(keys))
    prog.advance(task)
    out["first_compile"] = child("list-compile", "--list", str(big), "--keys", str(keys))
    prog.advance(task)
    out["reviews"] = {}
    for n, estate in estates.items():
        targs = ["--estate", str(estate), "--list", str(big), "--keys", str(keys)]
        out["reviews"][str(n)] = child("review-biglist", *targs,
                                       *(["--threads", str(threads)] if threads else []))
        prog.advance(task)
    return out


def verdicts(results: dict) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for every target that this run measured."""
    out: list[tuple[str, str, bool | None]] = []
    sizes = results["sizes"]
    if "100000" in sizes:
        r = sizes["100000"]["review"]
        out.append(("100k hosts: review ≤ 30 s wall", f"{r['seconds']:.1f} s",
                    r["seconds"] <= TARGETS["review_100k_s"]))
        out.append(("100k hosts: peak RSS ≤ 4 GB", f"{r['peak_rss_mb'] / 1024:.2f} GB",
                    r["peak_rss_mb"] <= TARGETS["review_100k_rss_mb"]))
    for n, s in sizes.items():
        ratio = s["review"]["seconds"] / s["floor"]["seconds"]
        out.append((f"{int(n):,} hosts: review ≤ 3 × plain scan", f"{ratio:.2f} ×",
                    ratio <= TARGETS["review_over_floor"]))
        inc = s["incremental"]["seconds"] / s["review"]["seconds"]
        out.append((f"{int(n):,} hosts: incremental (1%) ≤ 10% of full", f"{inc * 100:.1f} %",
                    inc <= TARGETS["incremental_over_full"]))
        v = s.get("review-vuln")
        if v:
            what = f"{int(n):,} hosts + {v['feed_ranges']:,}-range feed"
            ratio = v["seconds"] / s["floor"]["seconds"]
            out.append((f"{what}: review ≤ 3 × plain scan", f"{ratio:.2f} ×",
                        ratio <= TARGETS["review_over_floor"]))
            if int(n) == 100000:
                out.append((f"{what}: review ≤ 30 s wall", f"{v['seconds']:.1f} s",
                            v["seconds"] <= TARGETS["review_100k_s"]))
                out.append((f"{what}: peak RSS ≤ 4 GB", f"{v['peak_rss_mb'] / 1024:.2f} GB",
                            v["peak_rss_mb"] <= TARGETS["review_100k_rss_mb"]))
        e = s.get("review-vuln-estate")
        if e and int(n) == 100000:
            out.append((f"{int(n):,} hosts + feed, findings recorded: peak RSS ≤ 4 GB",
                        f"{e['peak_rss_mb'] / 1024:.2f} GB",
                        e["peak_rss_mb"] <= TARGETS["review_100k_rss_mb"]))
    big = results.get("big_list")
    if big:
        r = big["cached_load"]
        out.append((f"list of {r['subjects']:,} subjects / {r['identifiers']:,} identifiers "
                    "loads ≤ 1 s (cached)", f"{r['seconds']:.2f} s",
                    r["seconds"] <= TARGETS["list_load_s"]))
        for n, rv in big["reviews"].items():
            floor_s = sizes[n]["floor"]["seconds"]
            if n == "100000":
                out.append(("100k hosts + big list: review ≤ 30 s wall", f"{rv['seconds']:.1f} s",
                            rv["seconds"] <= TARGETS["review_100k_s"]))
                out.append(("100k hosts + big list: peak RSS ≤ 4 GB",
                            f"{rv['peak_rss_mb'] / 1024:.2f} GB",
                            rv["peak_rss_mb"] <= TARGETS["review_100k_rss_mb"]))
            out.append((f"{int(n):,} hosts + big list: review ≤ 3 × plain scan",
                        f"{rv['seconds'] / floor_s:.2f} ×",
                        rv["seconds"] / floor_s <= TARGETS["review_over_floor"]))
    if results.get("ingest"):
        for kind in ("parse", "estate"):
            r = results["ingest"][kind]
            out.append((f"osquery ingest ({kind}) ≥ 50 MB/s", f"{r['mb_s']:.1f} MB/s",
                        r["mb_s"] >= TARGETS["ingest_mb_s"]))
    return out


def report(results: dict) -> None:
    t = Table(title="kitvet benchmark")
    for col in ("hosts", "step", "rows", "wall s", "rows/s", "peak RSS MB"):
        t.add_column(col, justify="right" if col != "step" else "left")
    for n, s in results["sizes"].items():
        for step in ("floor", "review", "incremental", "review-vuln", "review-vuln-estate"):
            if step not in s:
                continue
            r = s[step]
            rows = r.get("rows", s["review"].get("rows", 0))
            t.add_row(f"{int(n):,}", step, f"{rows:,}", f"{r['seconds']:.2f}",
                      f"{rows / r['seconds']:,.0f}", f"{r['peak_rss_mb']:.0f}")
        big = results.get("big_list", {}).get("reviews", {}).get(n)
        if big:
            t.add_row(f"{int(n):,}", "review + big list", f"{big['rows']:,}",
                      f"{big['seconds']:.2f}", f"{big['rows'] / big['seconds']:,.0f}",
                      f"{big['peak_rss_mb']:.0f}")
    for step in ("first_load", "cached_load", "first_compile"):
        r = results.get("big_list", {}).get(step)
        if r:
            t.add_row("-", f"big list: {step.replace('_', ' ')}", f"{r['identifiers']:,}",
                      f"{r['seconds']:.2f}", f"{r['identifiers'] / r['seconds']:,.0f}",
                      f"{r['peak_rss_mb']:.0f}")
    console.print(t)
    for n, s in results["sizes"].items():
        r = s.get("review-vuln")
        if r:
            console.print(f"{int(n):,} hosts + {r['feed_ranges']:,}-range feed: "
                          f"{r['findings']:,} findings {r['by_class']}, "
                          f"{r['hosts_with_vulnerable_versions']:,} hosts with vulnerable "
                          f"versions; feed read and joined to KEV in {r['load_join_s']:.1f} s")
    v = Table(title="targets")
    for col in ("target", "measured", "result"):
        v.add_column(col)
    for name, got, met in verdicts(results):
        v.add_row(name, got, "[green]met[/]" if met else "[red]NOT met[/]")
    console.print(v)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000,100000",
                    help="comma-separated host counts (default: 1000,10000,100000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cache", type=Path, default=HERE / ".cache")
    ap.add_argument("--repeat", type=int, default=1, help="runs per measurement (best kept)")
    ap.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all)")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                    help="processes generating an estate")
    ap.add_argument("--ingest-hosts", type=int, default=200,
                    help="hosts exported as osquery logs for the ingest measurement (0: skip)")
    ap.add_argument("--vuln-ranges", type=int, default=200_000,
                    help="affected ranges of the vulnerability feed reviewed with each estate "
                         "(kitvet.bench.vulnfeed; 0: skip)")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--big-list", type=int, default=100_000,
                    help="subjects of the big-list scenario (0: skip)")
    a = ap.parse_args(argv)
    sizes = [int(s) for s in a.sizes.split(",") if s.strip()]
    results: dict = {"started": datetime.now(UTC).isoformat(timespec="seconds"),
                     "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "platform": platform.platform()},
                     "seed": a.seed, "generator_version": GENERATOR_VERSION, "sizes": {}}
    estates: dict[int, Path] = {}
    feed = None
    if a.vuln_ranges:
        from kitvet.bench.vulnfeed import cached_feed

        with console.status(f"vulnerability feed of {a.vuln_ranges:,} ranges"):
            feed = cached_feed(a.cache, a.seed, a.vuln_ranges)
    for n in sizes:
        estate, gen_s = estate_for(a.cache, n, a.seed, a.workers)
        estates[n] = estate
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                      MofNCompleteColumn(), TimeElapsedColumn(), console=console) as prog:
            r = measure_size(estate, a.threads, a.repeat, prog, feed)
            if a.ingest_hosts and "ingest" not in results:
                results["ingest"] = measure_ingest(estate, min(a.ingest_hosts, n), prog)
        m = read_manifest(estate)
        r.update(generate_s=gen_s, software_rows=m["software_rows"], device_rows=m["device_rows"],
                 load_average=[round(x, 2) for x in os.getloadavg()])
        results["sizes"][str(n)] = r
    if a.big_list and estates:
        os.environ.setdefault("KITVET_CACHE_DIR", str(a.cache / "kitvet-cache"))
        big, keys = big_list_for(a.cache, a.big_list, a.seed, next(iter(estates.values())))
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                      MofNCompleteColumn(), TimeElapsedColumn(), console=console) as prog:
            results["big_list"] = measure_big_list(big, keys, estates, a.threads, prog)
        results["big_list"]["load_average"] = [round(x, 2) for x in os.getloadavg()]
    results["targets"] = [{"target": t, "measured": g, "met": ok} for t, g, ok in verdicts(results)]
    report(results)
    load = max(s["load_average"][0] for s in results["sizes"].values())
    if load > (os.cpu_count() or 1):
        console.print(f"[yellow]note: load average reached {load:.1f} on {os.cpu_count()} CPUs; "
                      "other processes competed for the CPUs, timings are pessimistic[/]")
    a.out.mkdir(parents=True, exist_ok=True)
    dest = a.out / f"bench-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    dest.write_text(json.dumps(results, indent=2) + "\n")
    console.print(f"results: {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
