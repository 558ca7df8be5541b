"""``/metrics``: Prometheus text behind a bearer token — findings by status, institution and
class, hosts by freshness, ingest counts, bytes and latency, review durations, alert queues."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families
from srvkit import FIXTURES, Srv, make_server

TOKEN = "metrics-token-0123456789"


@pytest.fixture
def msrv(tmp_path):
    from fastapi.testclient import TestClient

    app, est, ut, it = make_server(tmp_path / "estate", None, metrics_token=TOKEN)
    try:
        with TestClient(app) as client:
            yield Srv(app, est, client, ut, it)
    finally:
        est.close()


def scrape(srv: Srv) -> dict[str, list]:
    r = srv.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=")
    out: dict[str, list] = {}
    for fam in text_string_to_metric_families(r.text):
        for s in fam.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def value(samples: list, **labels: str) -> float:
    return sum(v for lb, v in samples if all(lb.get(k) == x for k, x in labels.items()))


def test_metrics_need_the_token(msrv):
    assert msrv.client.get("/metrics").status_code == 401
    r = msrv.client.get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    # a user's API token is not the metrics token
    assert msrv.client.get("/metrics", headers=msrv.as_("admin")).status_code == 401


def test_metrics_are_off_without_a_token(sqlite_srv):
    assert sqlite_srv.client.get("/metrics").status_code == 404


def test_findings_hosts_ingest_reviews_alerts(msrv):
    m = scrape(msrv)
    assert value(m["kitvet_estate_up"]) == 1
    assert value(m["kitvet_findings"], status="ban", institution="Alpha Agency",
                 finding_class="confirmed-malicious") >= 1
    assert value(m["kitvet_findings"]) == msrv.estate.findings(limit=1).total
    assert value(m["kitvet_hosts"], freshness="older") == 3  # the fixtures are from 2026-11

    doc = json.loads((FIXTURES / "alpha.kitvet.json").read_bytes())
    doc["snapshots"][0]["host"]["collected_at"] = datetime.now(UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    body = json.dumps(doc).encode()
    r = msrv.client.post("/api/v1/snapshots", content=body, headers=msrv.ingest("Alpha Agency"),
                         params={"wait": 60})  # stored, then reviewed in the background
    assert r.status_code == 202
    bad = msrv.client.post("/api/v1/snapshots", content=b"{", headers=msrv.ingest("Beta Bureau"))
    assert bad.status_code == 415  # not a format kitvet reads
    msrv.wait_review()
    (msrv.estate.root / "alerts.toml").write_text(
        '[[receivers]]\nname = "soc"\nkind = "webhook"\nurl = "http://127.0.0.1:9/x"\n')
    msrv.estate.alerts.enqueue("soc", title="x", actor="tests")

    m = scrape(msrv)
    assert value(m["kitvet_ingest_requests_total"], institution="Alpha Agency",
                 outcome="accepted") == 1
    assert value(m["kitvet_ingest_requests_total"], institution="Beta Bureau",
                 outcome="415") == 1
    assert value(m["kitvet_ingest_bytes_total"], institution="Alpha Agency") == len(body)
    assert value(m["kitvet_ingest_duration_seconds_count"]) == 2
    assert value(m["kitvet_review_duration_seconds_count"]) >= 1
    assert value(m["kitvet_hosts"], institution="Alpha Agency", freshness="1d") == 1
    assert value(m["kitvet_alerts"], receiver="soc", state="pending") >= 1
    assert value(m["kitvet_last_review_timestamp_seconds"]) > 1.7e9


def test_several_workers_add_up_their_counters(tmp_path):
    """``kitvet serve --workers 2``: whichever worker answers a scrape, the ingest counters
    are those of both workers (prometheus-client's multiprocess folder)."""
    import os

    import httpx

    from kitvet.estate import init_estate
    from kitvet.server.testing import ServeProcess

    est = init_estate(tmp_path / "estate", actor="tests")
    token = est.tokens.issue_token(name="agents", institution="Alpha Agency", actor="tests")[0]
    est.close()
    env = dict(os.environ, KITVET_SERVER_METRICS_TOKEN=TOKEN)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with ServeProcess(["--estate", str(tmp_path / "estate"), "--workers", "2", "--review", "off",
                       "--alerts", "off"], env=env, timeout=90) as srv:
        for _ in range(6):  # new connections: the kernel hands them to either worker
            r = httpx.post(f"{srv.base}/api/v1/snapshots", content=b"{",
                           headers={"Authorization": f"Bearer {token}"}, timeout=10)
            assert r.status_code == 415
        seen = set()
        for _ in range(6):
            text = httpx.get(f"{srv.base}/metrics", timeout=10,
                             headers={"Authorization": f"Bearer {TOKEN}"}).text
            total = 0.0
            for fam in text_string_to_metric_families(text):
                for s in fam.samples:
                    if s.name == "kitvet_ingest_requests_total" and s.labels.get(
                            "outcome") == "415":
                        total += s.value
            seen.add(total)
        assert seen == {6.0}
