#!/usr/bin/env python3
"""Benchmark ``kitvet collect`` on this machine (hyperfine-like), with ``dpkg-query -W`` beside it.

    .venv/bin/python benchmarks/bench_collect.py [--runs 20] [--warmup 3] [--json FILE]

Each command is run as a fresh process (what a user or a cron job pays), after warm-up runs;
wall-clock times give mean ± standard deviation, min, median and max; "cpu" is the mean
user+system CPU time per run (less disturbed than wall time on a shared machine). Target (issue 2): a
collect well under 0.5 s (Debian's fusioninventory-agent needs ~1.3 s for the same packages).
The script also checks that the dpkg packages collected are exactly those ``dpkg-query -W``
lists. Prints "met" / "not met"; exits 1 when the target or the count check fails.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 0.5


def measure(cmd: list[str], runs: int, warmup: int) -> dict[str, float]:
    """Wall-clock statistics of running ``cmd`` ``runs`` times (after ``warmup`` runs)."""
    for _ in range(warmup):
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    times = []
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t0)
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime) / runs
    return {
        "cpu": cpu,
        "runs": runs,
        "mean": statistics.fmean(times),
        "stdev": statistics.stdev(times) if len(times) > 1 else 0.0,
        "min": min(times),
        "median": statistics.median(times),
        "max": max(times),
    }


def _line(name: str, s: dict[str, float]) -> str:
    return (f"{name:<28} {s['mean'] * 1000:8.1f} ms ± {s['stdev'] * 1000:5.1f}   "
            f"min {s['min'] * 1000:7.1f}   median {s['median'] * 1000:7.1f}   "
            f"max {s['max'] * 1000:7.1f}   cpu {s['cpu'] * 1000:6.1f}   ({s['runs']} runs)")


def count_check(out: Path) -> tuple[bool, str]:
    """Do the collected dpkg rows equal ``dpkg-query -W``'s list (names, archs, versions)?"""
    doc = json.loads(out.read_text(encoding="utf-8"))
    rows = [r for r in doc["snapshots"][0]["software"] if r.get("package_type") == "deb"]
    fmt = "${Package}\t${Architecture}\t${Version}\n"
    real = subprocess.run(["dpkg-query", "-W", "-f", fmt], capture_output=True, text=True,
                          check=True).stdout.splitlines()
    ours = [f"{r['name']}\t{r.get('arch', '')}\t{r['version']}" for r in rows]
    plain = subprocess.run(["dpkg-query", "-W"], capture_output=True, text=True,
                           check=True).stdout.splitlines()
    ok = sorted(ours) == sorted(real)
    detail = (f"kitvet collect: {len(ours)} deb packages; dpkg-query -W: {len(plain)} lines; "
              f"identical name/arch/version lists: {'yes' if ok else 'NO'}")
    if not ok:
        missing = sorted(set(real) - set(ours))[:5]
        extra = sorted(set(ours) - set(real))[:5]
        detail += f"\n  missing {missing}\n  extra {extra}"
    return ok, detail


def main() -> int:
    """Run the benchmark; 0 when the target is met and the package lists agree."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()

    exe = Path(sys.executable).parent / "kitvet"
    kitvet = [str(exe)] if exe.exists() else [sys.executable, "-m", "kitvet"]
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "h.json"
        results["kitvet collect"] = measure([*kitvet, "collect", "-o", str(out)], args.runs,
                                            args.warmup)
        if shutil.which("dpkg-query"):
            results["dpkg-query -W"] = measure(["dpkg-query", "-W"], args.runs, args.warmup)
            ok_count, detail = count_check(out)
        else:
            ok_count, detail = True, "dpkg-query not installed: count check not run"
        if shutil.which("fusioninventory-agent"):
            results["fusioninventory-agent"] = measure(
                ["fusioninventory-agent", "--local", tmp, "--no-category", "printer"],
                max(3, args.runs // 5), 1)
        software = len(json.loads(out.read_text())["snapshots"][0]["software"])
    uname = subprocess.run(["uname", "-srm"], capture_output=True, text=True, check=False)
    print(f"machine: {uname.stdout.strip()}")
    for name, stats in results.items():
        print(_line(name, stats))  # type: ignore[arg-type]
    mean = results["kitvet collect"]["mean"]  # type: ignore[index]
    met = mean < TARGET_S
    print(f"kitvet collect wrote {software} software rows")
    print(detail)
    print(f"target: kitvet collect mean < {TARGET_S:.1f} s: {'met' if met else 'not met'} "
          f"({mean * 1000:.0f} ms)")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "target_s": TARGET_S, "met": met,
                                         "count_check": ok_count, "detail": detail}, indent=2))
    return 0 if met and ok_count else 1


if __name__ == "__main__":
    sys.exit(main())
