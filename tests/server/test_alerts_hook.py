"""The server's hook: an ingest is reviewed in the background, its new ban finding raises an
alert, and the server's alert sender delivers it to a real webhook receiver on loopback."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from srvkit import FIXTURES, Srv, make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from alerts.receivers import WebhookReceiver


def test_ingest_review_alert_delivered(tmp_path):
    from fastapi.testclient import TestClient

    receiver = WebhookReceiver(secret="hook-key").start()
    app, est, ut, it = make_server(tmp_path / "estate", None, alerts_interval_s=0.2)
    try:
        with TestClient(app) as client:
            srv = Srv(app, est, client, ut, it)
            (est.root / "alerts.toml").write_text(
                f'base_url = "https://kitvet.test"\n[[receivers]]\nname = "alpha-soc"\n'
                f'kind = "webhook"\nurl = "{receiver.url}"\nsecret = "hook-key"\n'
                f'institutions = ["Alpha Agency"]\nevents = ["finding.ban"]\n')
            doc = json.loads((FIXTURES / "alpha.kitvet.json").read_bytes())
            doc["snapshots"][0]["host"]["collected_at"] = datetime.now(UTC).strftime(
                "%Y-%m-%dT%H:%M:%SZ")
            doc["snapshots"][0]["software"].append({"name": "Evil Helper", "version": "9",
                                                    "publisher": "Evil Build Corp"})
            r = client.post("/api/v1/snapshots", content=json.dumps(doc),
                            headers=srv.ingest("Alpha Agency"))
            assert r.status_code == 202, r.text
            srv.wait_review()
            deadline = time.monotonic() + 30
            while not receiver.received and time.monotonic() < deadline:
                time.sleep(0.1)
            bodies = receiver.bodies()
            assert [b["finding"]["name"] for b in bodies] == ["Evil Helper"]
            assert bodies[0]["link"].startswith("https://kitvet.test/findings/")
            assert bodies[0]["event"]["institution"] == "Alpha Agency"
    finally:
        receiver.stop()
        est.close()
