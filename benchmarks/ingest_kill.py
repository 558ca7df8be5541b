"""kill -9 the server at random points while institutions upload, then count.

    python benchmarks/ingest_kill.py --kills 20 --uploads 200 [--seed N] [--items 200]

Starts ``kitvet serve`` on a new estate (loopback), sends ``--uploads`` distinct inventories
(one host each) from 4 threads as agents do — an upload whose answer was lost is sent again,
as an agent would — and kills the server with SIGKILL after a random 0–1.5 s, ``--kills``
times, restarting it each time. Then it restarts the server once more, sends whatever was
never accepted, waits for every job and counts: every host stored exactly once with all its
items, every job done, no spool file and no unreferenced lake batch file left, the audit
chain intact. Prints a JSON summary; exits 1 if anything is lost or duplicated.

``tests/server/test_ingest_kill.py`` runs the same harness with a few kills.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from kitvet.server.testing import ServeProcess

INSTITUTION = "Alpha Agency"


def _doc(i: int, items: int) -> bytes:
    return json.dumps({"kitvet_inventory": "1.0.0", "snapshots": [{
        "host": {"host_id": f"kill-{i:05d}", "institution": INSTITUTION,
                 "collected_at": "2026-11-20T09:00:00Z"},
        "software": [{"name": f"pkg-{i}-{k}", "version": "1.0", "publisher": "Vendor"}
                     for k in range(items)]}]}).encode()


def _server(root: Path, log: Path) -> ServeProcess:
    """``kitvet serve`` over the estate (review off), its output appended to ``log``."""
    env = dict(os.environ, KITVET_SERVER_INGEST_WORKERS="2")
    env.pop("KITVET_PAUSE_AT", None)
    with open(log, "ab") as fh:
        return ServeProcess(["--estate", str(root), "--review", "off"], env=env, output=fh)


def _send_all(base: str, token: str, todo: list[int], accepted: dict[int, str], items: int,
              stop: threading.Event) -> None:
    lock = threading.Lock()

    def send(i: int) -> None:
        if stop.is_set():
            return
        try:
            r = httpx.post(f"{base}/api/v1/snapshots", content=_doc(i, items), timeout=30,
                           headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError:
            stop.set()  # the server is gone: what was not answered is sent again later
            return
        if r.status_code == 202:
            with lock:
                accepted.setdefault(i, r.json()["job_id"])

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(send, todo))


def run(workdir: Path, *, kills: int, uploads: int, items: int = 50, seed: int | None = None
        ) -> dict[str, Any]:
    """The kill test; a summary with ``ok`` and the counts."""
    from sqlalchemy import func, select

    from kitvet.estate import init_estate, open_estate

    seed = seed if seed is not None else random.SystemRandom().randrange(1 << 30)
    rng = random.Random(seed)
    root = workdir / "estate"
    est = init_estate(root, actor="kill-test")
    token = est.tokens.issue_token(name="agents", institution=INSTITUTION, actor="kill-test")[0]
    est.close()
    log = workdir / "server.log"
    accepted: dict[int, str] = {}
    t0 = time.monotonic()
    delays = []
    for _ in range(kills):
        srv = _server(root, log)
        stop = threading.Event()
        todo = [i for i in range(uploads) if i not in accepted]
        sender = threading.Thread(target=_send_all, args=(srv.base, token, todo, accepted,
                                                          items, stop))
        sender.start()
        delay = rng.uniform(0.0, 1.5)
        delays.append(round(delay, 3))
        time.sleep(delay)
        srv.kill()
        stop.set()
        sender.join()
    srv = _server(root, log)
    try:
        while len(accepted) < uploads:
            todo = [i for i in range(uploads) if i not in accepted]
            _send_all(srv.base, token, todo, accepted, items, threading.Event())
        deadline = time.monotonic() + 300
        statuses: dict[str, str] = {}
        with httpx.Client(base_url=srv.base, timeout=30,
                          headers={"Authorization": f"Bearer {token}"}) as c:
            while time.monotonic() < deadline:
                statuses = {j: c.get(f"/api/v1/jobs/{j}").json().get("status", "?")
                            for j in accepted.values()}
                if all(s in ("done", "refused", "failed") for s in statuses.values()):
                    break
                time.sleep(0.2)
    finally:
        srv.stop()
    est = open_estate(root)
    try:
        from kitvet.store import tables as t  # the harness counts rows itself

        with est.engine.connect() as conn:
            hosts = conn.execute(select(func.count()).select_from(t.hosts)).scalar_one()
            snaps = conn.execute(select(func.count()).select_from(t.snapshots)).scalar_one()
            per_host = set(conn.execute(select(t.snapshots.c.software_count)).scalars())
            batches = set(conn.execute(select(t.batches.c.batch_id)).scalars())
        spool = sorted(p.name for p in (root / "spool").iterdir()
                       if p.name not in ("owners", "last-sweep.json"))
        orphans = sorted(est.lake.batch_ids() - batches)
        audit_ok = est.verify_audit().ok
    finally:
        est.close()
    not_done = sorted(j for j, s in statuses.items() if s != "done")
    ok = (hosts == uploads and snaps == uploads and per_host == {items} and not spool
          and not orphans and not not_done and audit_ok)
    return {"ok": ok, "seed": seed, "kills": kills, "uploads": uploads, "items": items,
            "hosts": hosts, "snapshots": snaps, "jobs_not_done": not_done[:10],
            "spool_files_left": spool[:10], "orphan_lake_batches": orphans[:10],
            "audit_intact": audit_ok, "kill_delays_s": delays,
            "seconds": round(time.monotonic() - t0, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--uploads", type=int, default=200)
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--workdir", type=Path)
    args = ap.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory(prefix="kitvet-kill-") as tmp:
        out = run(args.workdir or Path(tmp), kills=args.kills, uploads=args.uploads,
                  items=args.items, seed=args.seed)
    print(json.dumps(out, indent=2))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
