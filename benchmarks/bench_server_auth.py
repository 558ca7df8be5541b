"""Single sign-on and probe latency of the estate server (issue 19 parts 2 and 5).

    flock /work/bench.lock .venv/bin/python benchmarks/bench_server_auth.py [--db URL] [-n 50]

Starts the tests' OpenID Connect provider (tests/server/idp.py: oidc-provider-mock on loopback,
PKCE enforced) and ``kitvet serve`` over a new estate (SQLite, or ``--db postgresql://...``) in
this process, then measures, one request at a time over loopback HTTP:

* a whole single sign-on (``/login/sso`` → provider authorize form → callback: discovery is
  cached, so each sign-in is the PKCE code exchange, the ID token's checks, userinfo, the user
  update and the new session), wall time per sign-in;
* ``GET /healthz`` and ``GET /readyz`` (database round trip, schema check, lake check).

Prints p50 / p95 / max in milliseconds. Figures depend on the machine's load: say ``uptime``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE.parent / "tests" / "server"))


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _row(name: str, ms: list[float]) -> str:
    return (f"{name:<28} n={len(ms):<5} p50 {statistics.median(ms):8.1f} ms   "
            f"p95 {_pct(ms, 95):8.1f} ms   max {max(ms):8.1f} ms")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", help="review database URL (default: SQLite in a temporary estate)")
    ap.add_argument("-n", type=int, default=50, help="sign-ins to time [50]")
    ap.add_argument("--probes", type=int, default=500, help="probe requests to time [500]")
    args = ap.parse_args()

    import httpx
    import yaml
    from idp import provider
    from srvkit import make_server
    from test_sso import authorize, start

    from kitvet.server.testing import free_port, running

    with tempfile.TemporaryDirectory(prefix="kitvet-bench-auth-") as tmp:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with provider([f"{base}/login/sso/callback"]) as idp:
            idp.set_user("u-1", {"preferred_username": "bench", "groups": ["kitvet-admins"]})
            cfg = Path(tmp) / "sso.yaml"
            cfg.write_text(yaml.safe_dump({
                "issuer": idp.issuer, "client_id": idp.client_id,
                "client_secret": idp.client_secret, "public_url": base, "label": "Test IdP",
                "roles": [{"claim": "groups", "value": "kitvet-admins", "role": "admin"}]}))
            app, est, _u, _i = make_server(Path(tmp) / "estate", args.db, seed=False,
                                           review_mode="off", sso_config=cfg)
            with running(app, port=port):
                sign_ins: list[float] = []
                for i in range(args.n + 1):
                    with httpx.Client(timeout=30, follow_redirects=False) as b:
                        t0 = time.perf_counter()
                        r = b.get(authorize(b, start(b, base), "u-1"))
                        elapsed = (time.perf_counter() - t0) * 1000
                        assert r.status_code == 200 and b.get(f"{base}/api/v1/summary"
                                                              ).status_code == 200
                    if i:  # the first one also fetches discovery and keys
                        sign_ins.append(elapsed)
                probes: dict[str, list[float]] = {"/healthz": [], "/readyz": []}
                with httpx.Client(base_url=base, timeout=30) as c:
                    for path, times in probes.items():
                        for _ in range(args.probes):
                            t0 = time.perf_counter()
                            assert c.get(path).status_code == 200
                            times.append((time.perf_counter() - t0) * 1000)
            est.close()
    db = "PostgreSQL" if args.db else "SQLite"
    print(f"kitvet server on {db}, provider oidc-provider-mock, loopback, one request at a time")
    print(_row("single sign-on (whole flow)", sign_ins))
    for path, times in probes.items():
        print(_row(f"GET {path}", times))
    return 0


if __name__ == "__main__":
    sys.exit(main())
