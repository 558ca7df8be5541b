"""Ingest under load: institutions upload 1,200-item inventories at a steady rate.

    flock /work/bench.lock python benchmarks/ingest_load.py --rate 20 --seconds 60

Starts ``kitvet serve`` on a new estate (loopback, SQLite unless ``--db``), then sends
``--rate`` uploads per second for ``--seconds`` (open loop: a slow answer does not slow the
sender), each a distinct host's gzipped kitvet inventory of ``--items`` software rows, from
``--senders`` threads. Measures the accept latency of each upload (request sent → ``202``),
how many were stored by the end of the window and when the last one was (the queue keeps up
when it drains within a few seconds of the window's end), the server's CPU seconds (so the
figure per core holds on a loaded, shared machine) and its peak RSS. Prints JSON.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from kitvet.server.testing import ServeProcess

INSTITUTIONS = ("Alpha Agency", "Beta Bureau", "Gamma Office", "Delta Court")


def inventory(i: int, items: int) -> bytes:
    """One host's inventory: ``items`` packages, most shared across hosts (as on a real
    estate), a few of its own."""
    inst = INSTITUTIONS[i % len(INSTITUTIONS)]
    software = [{"name": f"package-{k}", "version": f"{k % 7}.{(k + i) % 3}",
                 "publisher": f"Vendor {k % 40}", "package_type": "deb", "source": "dpkg"}
                for k in range(items - 5)]
    software += [{"name": f"local-tool-{i}-{k}", "version": "1", "publisher": "In-house"}
                 for k in range(5)]
    doc = {"kitvet_inventory": "1.0.0", "snapshots": [{
        "host": {"host_id": f"load-{i:06d}", "hostname": f"load-{i:06d}", "institution": inst,
                 "platform": "linux", "collected_at": "2026-12-01T09:00:00Z"},
        "software": software}]}
    return gzip.compress(json.dumps(doc).encode(), 6)


def run(workdir: Path, *, rate: float, seconds: float, items: int, senders: int,
        db: str | None = None, workers: int = 2, review: str = "background") -> dict[str, Any]:
    """The benchmark; a summary dict."""
    from kitvet.estate import init_estate

    root = workdir / "estate"
    est = init_estate(root, db_url=db, actor="bench")
    tokens = {inst: est.tokens.issue_token(name=f"{inst} agents", institution=inst,
                                           actor="bench")[0] for inst in INSTITUTIONS}
    est.close()
    n = int(rate * seconds)
    t_gen = time.monotonic()
    bodies = [inventory(i, items) for i in range(n)]
    gen_s = time.monotonic() - t_gen
    env = dict(os.environ, KITVET_SERVER_INGEST_WORKERS=str(workers))
    with open(workdir / "server.log", "wb") as log, ServeProcess(
            ["--estate", str(root), "--review", review], env=env, output=log) as srv:
        cpu0, _ = srv.stats()
        latencies: list[float] = [0.0] * n
        codes: list[int] = [0] * n
        job_ids: list[str | None] = [None] * n
        client = httpx.Client(base_url=srv.base, timeout=60,
                              limits=httpx.Limits(max_connections=senders * 2))
        start = time.monotonic()
        start_wall = time.time()

        def send(i: int) -> None:
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            inst = INSTITUTIONS[i % len(INSTITUTIONS)]
            t0 = time.monotonic()
            try:
                r = client.post("/api/v1/snapshots", content=bodies[i], headers={
                    "Authorization": f"Bearer {tokens[inst]}", "Content-Encoding": "gzip"})
                codes[i] = r.status_code
                if r.status_code == 202:
                    job_ids[i] = r.json()["job_id"]
            except httpx.HTTPError:
                codes[i] = -1
            latencies[i] = time.monotonic() - t0

        with ThreadPoolExecutor(senders) as pool:
            list(pool.map(send, range(n)))
        window = time.monotonic() - start
        admin = None
        done_at_window: int | None = None
        last_done = None
        tok = {inst: f"Bearer {t}" for inst, t in tokens.items()}

        finished: list[float] = []  # when the server finished each job (its clock = ours)

        def status(i: int) -> str:
            inst = INSTITUTIONS[i % len(INSTITUTIONS)]
            r = client.get(f"/api/v1/jobs/{job_ids[i]}", headers={"Authorization": tok[inst]})
            job = r.json()
            if job.get("finished_at"):
                finished.append(datetime.fromisoformat(
                    job["finished_at"].replace("Z", "+00:00")).timestamp() - start_wall)
            return str(job.get("status"))

        pending = [i for i in range(n) if job_ids[i]]
        finals: dict[str, int] = {}
        while pending and time.monotonic() - start < seconds + 600:
            # the oldest pending job first: when it is done, most of the queue is
            if status(pending[0]) in ("done", "refused", "failed"):
                still = []
                for i in pending:
                    s = status(i)
                    if s in ("done", "refused", "failed"):
                        finals[s] = finals.get(s, 0) + 1
                    else:
                        still.append(i)
                if done_at_window is None:
                    done_at_window = n - len(still)
                pending = still
                if not pending:
                    last_done = time.monotonic() - start
                    break
            time.sleep(0.2)
        cpu1, hwm = srv.stats()
        client.close()
    ok = sorted(lat for lat, c in zip(latencies, codes, strict=True) if c == 202)

    def pct(p: float) -> float | None:
        return round(ok[min(len(ok) - 1, int(p * len(ok)))], 3) if ok else None

    stored_s = last_done or None
    return {
        "uploads": n, "rate_target_per_s": rate, "items_per_upload": items,
        "send_window_s": round(window, 2),
        "accepted": len(ok), "refused_or_failed_answers": n - len(ok),
        "answers": {str(c): codes.count(c) for c in sorted(set(codes))},
        "accept_latency_s": {"p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99),
                             "max": round(ok[-1], 3) if ok else None,
                             "mean": round(statistics.fmean(ok), 3) if ok else None},
        "all_stored_after_s": round(stored_s, 2) if stored_s else None,
        "stored_per_s": round(len(ok) / stored_s, 2) if stored_s else None,
        # from the jobs' own finished_at (the polling above lags by its own requests)
        "last_stored_at_s": round(max(finished), 2) if finished else None,
        "stored_during_window": sum(1 for f in finished if f <= window),
        "stored_during_window_per_s": round(sum(1 for f in finished if f <= window) / window,
                                            2),
        "jobs": finals,
        "server_cpu_s": round(cpu1 - cpu0, 2),
        "uploads_per_server_cpu_s": round(len(ok) / (cpu1 - cpu0), 2) if cpu1 > cpu0 else None,
        "server_peak_rss_mib": round(hwm / 2**20, 1),
        "ingest_workers": workers, "review": review, "admin": admin,
        "generate_s": round(gen_s, 1), "load_average": os.getloadavg(),
        "cores": os.cpu_count(),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=float, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--items", type=int, default=1200)
    ap.add_argument("--senders", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--review", choices=["background", "off"], default="background")
    ap.add_argument("--db", help="review database URL (default: the estate's SQLite)")
    ap.add_argument("--workdir", type=Path)
    args = ap.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory(prefix="kitvet-load-") as tmp:
        out = run(args.workdir or Path(tmp), rate=args.rate, seconds=args.seconds,
                  items=args.items, senders=args.senders, db=args.db, workers=args.workers,
                  review=args.review)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
