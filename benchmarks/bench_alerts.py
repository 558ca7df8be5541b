#!/usr/bin/env python3
"""Benchmark the alert queue: enqueue, webhook and e-mail delivery, a receiver down then up,
and the gauges ``/metrics`` reads — on a throwaway SQLite estate (or ``--db postgresql://...``).

    .venv/bin/python benchmarks/bench_alerts.py [--alerts 2000] [--hosts 2000] [--db URL]

The webhook receiver is a real HTTP server on loopback that checks every HMAC signature; the
mail server is aiosmtpd with STARTTLS (the test suite's own). Prints one JSON document:
alerts per second for each step, lost and duplicated deliveries (both must be 0), and the
seconds of one read of the gauges. Run it under ``flock /work/bench.lock`` on a shared machine
and say the load (``uptime``) with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--alerts", type=int, default=2000)
    ap.add_argument("--hosts", type=int, default=2000, help="hosts (each with one ban finding)")
    ap.add_argument("--db", help="postgresql://... (default: SQLite in the estate folder)")
    args = ap.parse_args()

    from alerts.receivers import WebhookReceiver, free_port
    from alerts.smtp import PASSWORD, USER, SMTPServer
    from store.helpers import EVIL, review, snap

    from kitvet.estate import init_estate

    out: dict = {"alerts": args.alerts, "hosts": args.hosts,
                 "database": "postgresql" if args.db else "sqlite",
                 "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="kitvet-bench-alerts-") as tmp:
        root = Path(tmp)
        est = init_estate(root / "estate", db_url=args.db, actor="bench")
        hook_port = free_port()
        smtp = SMTPServer(root)
        os.environ["BENCH_SMTP_PASSWORD"] = PASSWORD
        (est.root / "alerts.toml").write_text(
            f'[[receivers]]\nname = "hook"\nkind = "webhook"\n'
            f'url = "http://127.0.0.1:{hook_port}/h"\nsecret = "s3cret"\n'
            f'[[receivers]]\nname = "mail"\nkind = "email"\nsmtp = "127.0.0.1:{smtp.port}"\n'
            f'username = "{USER}"\npassword = "env:BENCH_SMTP_PASSWORD"\n'
            f'from = "kitvet@example.org"\nto = ["ciso@example.org"]\ncafile = "{smtp.cert}"\n'
            f'events = ["message"]\n', encoding="utf-8")

        t = time.perf_counter()
        ids = [est.alerts.enqueue("hook", title=f"alert {i}", text="x" * 200, actor="bench")
               for i in range(args.alerts)]
        out["enqueue_per_s"] = round(args.alerts / (time.perf_counter() - t), 1)

        t0 = datetime.now(UTC)  # the receiver is down: the head waits, nothing overtakes it
        down = est.alerts.drain(receivers=["hook"], clock=lambda: t0)
        out["down"] = {"sent": down.sent, "retrying": down.failed}
        receiver = WebhookReceiver(secret="s3cret", port=hook_port).start()
        try:
            t = time.perf_counter()
            up = est.alerts.drain(receivers=["hook"],
                                  clock=lambda: datetime.now(UTC) + timedelta(minutes=5))
            secs = time.perf_counter() - t
        finally:
            receiver.stop()
        got = [b["delivery"] for b in receiver.bodies()]
        out["webhook"] = {"sent": up.sent, "seconds": round(secs, 2),
                          "per_s": round(up.sent / secs, 1), "refused_signatures":
                          len(receiver.refused), "lost": len(set(ids) - set(got)),
                          "duplicates": len(got) - len(set(got)), "in_order": got == ids}

        smtp.start()
        try:
            for i in range(args.alerts):
                est.alerts.enqueue("mail", title=f"mail {i}", actor="bench")
            t = time.perf_counter()
            mailed = est.alerts.drain(receivers=["mail"])
            secs = time.perf_counter() - t
        finally:
            smtp.stop()
        out["email"] = {"sent": mailed.sent, "messages": len(smtp.handler.messages),
                        "seconds": round(secs, 2), "alerts_per_s": round(mailed.sent / secs, 1)}

        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        est.import_snapshots([snap(f"h{i}", f"Institution {i % 48}", now,
                                   [("Evil App", "1", EVIL), ("ok", "1", "Good")])
                              for i in range(args.hosts)], actor="bench")
        t = time.perf_counter()
        result = review(est)
        out["review"] = {"seconds": round(time.perf_counter() - t, 2), "new": result.new,
                         "events": est.alerts.depth().get(("hook", "pending"), 0)}
        t = time.perf_counter()
        gauges = est.gauges()
        out["gauges"] = {"seconds": round(time.perf_counter() - t, 3),
                         "finding_series": len(gauges.findings),
                         "host_series": len(gauges.hosts)}
        est.close()
    out["load_after"] = os.getloadavg()
    print(json.dumps(out, indent=2))
    ok = out["webhook"]["lost"] == 0 and out["webhook"]["duplicates"] == 0
    return 0 if ok and out["webhook"]["in_order"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
