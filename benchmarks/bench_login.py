"""Parallel wrong-password logins against a real ``kitvet serve`` (issue 20, items 1 and 2).

    flock /work/bench.lock .venv/bin/python benchmarks/bench_login.py [-n 20] [--db URL]
        [--src DIR] [--set login_max_concurrent=2 ...] [--json]

Makes a new estate with one admin account (``kitvet estate init``, ``kitvet serve user add``),
starts ``kitvet serve`` on a free loopback port in a child process, gives each of ``n``
clients the login form's CSRF cookie and token, then has all of them post a wrong password for
the admin at the same moment (a barrier). Prints the status codes of the ``n`` answers, the
wall time until the last one, and the server process's CPU seconds spent on them and its peak
RSS (``VmHWM``) before and after. A last login with the right password shows whether the
account is locked.

Each password check is argon2id (~64 MiB of memory); before issue 20 every login hashed at
once and none was refused (20 × 401). With the throttle checked and recorded before hashing and
at most ``login_max_concurrent`` checks at a time, the expectation is 5 × 401 (the account's
failure limit) and the rest 429 (locked) or 503 (no turn within ``login_queue_timeout_s``).

``--src DIR`` serves another checkout's ``src`` (e.g. a git worktree of the commit before the
fix) with this interpreter: the estate is made by that checkout's CLI too, so its database
revisions are its own. ``--set KEY=VALUE`` passes server settings (``KITVET_SERVER_KEY``).
Figures depend on the machine's load: say ``uptime`` with them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

PASSWORD = "bench password 0123456789"
WRONG = "not the password!"


def _kitvet(env: dict[str, str], *args: str, stdin: str | None = None) -> None:
    r = subprocess.run([sys.executable, "-m", "kitvet", *args], env=env, input=stdin,
                       text=True, capture_output=True, check=False)
    if r.returncode != 0:
        raise SystemExit(f"kitvet {' '.join(args)} failed ({r.returncode}): "
                         f"{(r.stderr or r.stdout)[-2000:]}")


def _rss(pid: int) -> int:
    """VmRSS of a process (bytes)."""
    with open(f"/proc/{pid}/status") as fh:
        return next((int(line.split()[1]) * 1024 for line in fh if line.startswith("VmRSS:")),
                    0)


def _attack(base: str, n: int) -> tuple[list[int], float]:
    """``n`` clients with the login form's CSRF cookie and token post a wrong password for
    the admin at the same moment; (their status codes, seconds until the last answer)."""
    import httpx

    clients = []
    for _ in range(n):
        c = httpx.Client(base_url=base, timeout=300)
        page = c.get("/login")
        m = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        if page.status_code != 200 or m is None:
            raise SystemExit(f"GET /login: {page.status_code}, no CSRF token in the form")
        clients.append((c, m.group(1)))
    barrier = threading.Barrier(n + 1)

    def post(i: int) -> int:
        c, token = clients[i]
        barrier.wait()
        return c.post("/login", data={"username": "admin", "password": WRONG,
                                      "csrf_token": token}).status_code

    try:
        with ThreadPoolExecutor(n) as pool:
            futures = [pool.submit(post, i) for i in range(n)]
            barrier.wait()
            t0 = time.perf_counter()
            codes = [f.result() for f in futures]
            return codes, time.perf_counter() - t0
    finally:
        for c, _ in clients:
            c.close()


def _right_password(base: str) -> int:
    import httpx

    with httpx.Client(base_url=base, timeout=300) as c:
        m = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
        token = m.group(1) if m else ""
        return c.post("/login", data={"username": "admin", "password": PASSWORD,
                                      "csrf_token": token}).status_code


def measure(n: int, src: Path | None, db: str | None, settings: dict[str, str]
            ) -> dict[str, Any]:
    """Set up, serve, attack; the figures."""
    from kitvet.server.testing import ServeProcess

    env = dict(os.environ, KITVET_ESTATE="", KITVET_SERVER_REVIEW_MODE="off",
               **{f"KITVET_SERVER_{k.upper()}": v for k, v in settings.items()})
    if src is not None:
        env["PYTHONPATH"] = str(src.resolve()) + os.pathsep + env.get("PYTHONPATH", "")
    served = subprocess.run([sys.executable, "-c", "import kitvet; print(kitvet.__file__)"],
                            env=env, text=True, capture_output=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="kitvet-bench-login-") as tmp:
        root = str(Path(tmp) / "estate")
        _kitvet(env, "estate", "init", "--estate", root, *(["--db", db] if db else []))
        _kitvet(env, "serve", "--estate", root, "user", "add", "admin", "--role", "admin",
                "--password-stdin", stdin=PASSWORD + "\n")
        with ServeProcess(["--estate", root], env=env, ready="/login") as server:
            time.sleep(1.0)  # let start-up work (sweeps, threads) settle
            rss0 = _rss(server.proc.pid)
            cpu0, peak0 = server.stats()
            codes, wall = _attack(server.base, n)
            cpu1, peak1 = server.stats()
            right = _right_password(server.base)
    return {"n": n, "codes": dict(sorted(Counter(codes).items())), "wall_s": round(wall, 2),
            "cpu_s": round(cpu1 - cpu0, 2),
            "rss_before_mib": round(rss0 / 2**20, 1),
            "peak_rss_before_mib": round(peak0 / 2**20, 1),
            "peak_rss_after_mib": round(peak1 / 2**20, 1),
            "right_password_after": right, "db": "PostgreSQL" if db else "SQLite",
            "served": str(Path(served).parent), "settings": settings,
            "load": os.getloadavg()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=20, help="parallel wrong-password logins [20]")
    ap.add_argument("--db", help="review database URL (default: SQLite in a temporary estate)")
    ap.add_argument("--src", type=Path, help="serve this checkout's src/ instead of this one's")
    ap.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                    help="a server setting, e.g. login_max_concurrent=2")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    a = ap.parse_args()
    settings = dict(s.split("=", 1) for s in a.settings)
    r = measure(a.n, a.src, a.db, settings)
    if a.json:
        print(json.dumps(r, indent=2))
        return 0
    codes = ", ".join(f"{n} × {code}" for code, n in r["codes"].items())
    print(f"kitvet serve ({r['served']}, {r['db']}), {r['n']} parallel wrong-password POST /login "
          f"for one account; load average {r['load'][0]:.2f}")
    print(f"  answers            {codes}  (last after {r['wall_s']} s)")
    print(f"  server CPU         {r['cpu_s']} s")
    print(f"  server RSS         {r['rss_before_mib']} MiB before, peak "
          f"{r['peak_rss_after_mib']} MiB after (peak before: {r['peak_rss_before_mib']} MiB)")
    print(f"  right password     {r['right_password_after']} afterwards")
    return 0


if __name__ == "__main__":
    sys.exit(main())
