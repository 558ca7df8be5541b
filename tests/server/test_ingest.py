"""The ingest API: formats, gzip, limits, bad input, tokens — on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import hashlib
import json

from sqlalchemy import select
from srvkit import FIXTURES

URL = "/api/v1/snapshots?wait=60"  # answered once stored (the 202 at once: test_jobs.py)


def test_kitvet_json_lands_and_is_reviewed_in_the_background(srv):
    body = (FIXTURES / "alpha.kitvet.json").read_bytes()
    doc = json.loads(body)
    doc["snapshots"][0]["host"]["collected_at"] = "2026-11-20T09:00:00Z"
    doc["snapshots"][0]["software"].append({"name": "Evil Helper", "version": "9",
                                            "publisher": "Evil Build Corp"})
    r = srv.client.post(URL, content=json.dumps(doc), headers=srv.ingest("Alpha Agency"))
    assert r.status_code == 202, r.text
    out = r.json()
    assert out["format"] == "kitvet" and out["institution"] == "Alpha Agency"
    assert out["batch_id"] and out["review"] == "queued"
    assert out["became_current"] == ["alpha-ws-1"]
    srv.wait_review()
    names = {f["name"] for f in srv.findings(host="alpha-ws-1")}
    assert "Evil Helper" in names


def test_same_snapshot_twice_changes_nothing(srv):
    body = (FIXTURES / "alpha.kitvet.json").read_bytes()
    r = srv.client.post(URL, content=body, headers=srv.ingest("Alpha Agency"))
    assert r.status_code == 202
    assert r.json()["batch_id"] is None and len(r.json()["duplicates"]) == 2
    assert r.json()["review"] == "not needed"


def test_gzip_by_header_and_by_magic(srv):
    raw = (FIXTURES / "beta-ws-2.osquery.log").read_bytes()
    r = srv.client.post(URL, content=gzip.compress(raw),
                        headers={**srv.ingest("Beta Bureau"), "Content-Encoding": "gzip"})
    assert r.status_code == 202, r.text
    assert r.json()["format"] == "osquery" and r.json()["added"]
    cdx = (FIXTURES / "beta-srv-3.cdx.json").read_bytes()
    r = srv.client.post(URL, content=gzip.compress(cdx), headers=srv.ingest("Beta Bureau"))
    assert r.status_code == 202, r.text
    assert r.json()["format"] == "cyclonedx"
    srv.wait_review()
    hosts = {f["host_id"] for f in srv.findings(institution="Beta Bureau")}
    assert {"beta-ws-2", "beta-srv-3"} <= hosts


def test_gzip_bomb_is_refused_without_expanding_it(srv):
    bomb = gzip.compress(b" " * (8 * 1024 * 1024))  # 8 MiB of spaces, ~8 KiB compressed
    assert len(bomb) < 256 * 1024
    r = srv.client.post(URL, content=bomb, headers={**srv.ingest("Alpha Agency"),
                                                    "Content-Encoding": "gzip"})
    assert r.status_code == 413
    assert "decompressed" in r.json()["detail"]


def test_body_over_the_limit_is_413(srv):
    r = srv.client.post(URL, content=b"{" + b" " * (300 * 1024) + b"}",
                        headers=srv.ingest("Alpha Agency"))
    assert r.status_code == 413


def test_malformed_json_is_400_naming_the_place(srv):
    r = srv.client.post(URL, content=b'{"kitvet_inventory": "1.0.0", "snapshots": [{"host": 5}]}',
                        headers=srv.ingest("Alpha Agency"))
    assert r.status_code == 400, r.text
    assert r.json()["place"]


def test_truncated_gzip_is_400(srv):
    data = gzip.compress((FIXTURES / "alpha.kitvet.json").read_bytes())[:-30]
    r = srv.client.post(URL, content=data, headers=srv.ingest("Alpha Agency"))
    assert r.status_code == 400


def test_unknown_format_is_415_and_empty_body_400(srv):
    r = srv.client.post(URL, content=b"hello, this is not inventory",
                        headers=srv.ingest("Alpha Agency"))
    assert r.status_code == 415
    r = srv.client.post(URL, content=b"{}", headers=srv.ingest("Alpha Agency"),
                        params={"format": "spdx"})
    assert r.status_code == 415
    r = srv.client.post(URL, content=b"  ", headers=srv.ingest("Alpha Agency"))
    assert r.status_code == 400


def test_tokens_401_and_403(srv):
    body = (FIXTURES / "alpha.kitvet.json").read_bytes()
    assert srv.client.post(URL, content=body).status_code == 401
    bad = {"Authorization": "Bearer kvt_not-a-real-token"}
    assert srv.client.post(URL, content=body, headers=bad).status_code == 401
    # a user's token cannot ingest
    assert srv.client.post(URL, content=body, headers=srv.as_("admin")).status_code == 403
    # Beta's token cannot send Alpha's hosts
    r = srv.client.post(URL, content=body, headers=srv.ingest("Beta Bureau"))
    assert r.status_code == 403
    assert "Alpha Agency" in r.json()["detail"]


def test_revoked_token_stops_working(srv):
    info = srv.estate.tokens.lookup(srv.ingest_tokens["Alpha Agency"])
    srv.estate.tokens.revoke_token(info.token_id, actor="tests")
    body = (FIXTURES / "alpha.kitvet.json").read_bytes()
    assert srv.client.post(URL, content=body, headers=srv.ingest("Alpha Agency")).status_code == 401


def test_only_the_token_hash_is_stored(srv):
    from kitvet.store import account_tables as st

    token = srv.ingest_tokens["Alpha Agency"]
    with srv.estate.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(select(st.api_tokens)).all()]
    flat = " ".join(str(v) for r in rows for v in r)
    assert token not in flat
    assert hashlib.sha256(token.encode()).hexdigest() in flat


def test_cyclonedx_without_host_uses_the_host_parameter(srv):
    bom = {"bomFormat": "CycloneDX", "specVersion": "1.4", "version": 1,
           "components": [{"type": "application", "name": "Evil Tool", "version": "1",
                           "publisher": "Evil Build Corp"}]}
    r = srv.client.post(URL, content=json.dumps(bom), params={"host": "beta-kiosk-9", "wait": 60},
                        headers={**srv.ingest("Beta Bureau"),
                                 "Content-Type": "application/vnd.cyclonedx+json"})
    assert r.status_code == 202, r.text
    assert r.json()["became_current"] == ["beta-kiosk-9"]
    r = srv.client.post(URL, content=json.dumps(bom), params={"host": "../../etc"},
                        headers=srv.ingest("Beta Bureau"))
    assert r.status_code == 400 and r.json()["place"] == "host"


def test_a_large_inventory_within_the_limits_lands(sqlite_srv):
    settings = sqlite_srv.app.state.kv.settings
    settings.max_body_bytes = settings.max_inventory_bytes = 64 * 1024 * 1024
    software = [{"name": f"package-{i}", "version": f"1.{i}", "publisher": "Some Vendor",
                 "package_type": "deb"} for i in range(20000)]
    doc = {"kitvet_inventory": "1.0.0", "snapshots": [
        {"host": {"host_id": "alpha-big", "institution": "Alpha Agency",
                  "collected_at": "2026-11-02T09:00:00Z"}, "software": software}]}
    raw = json.dumps(doc).encode()
    assert len(raw) > 1024 * 1024
    r = sqlite_srv.client.post(URL, content=gzip.compress(raw),
                               headers=sqlite_srv.ingest("Alpha Agency"))
    assert r.status_code == 202, r.text
    assert r.json()["became_current"] == ["alpha-big"]
    inv = sqlite_srv.client.get("/api/v1/hosts/alpha-big/inventory",
                                params={"q": "package-19999"}, headers=sqlite_srv.as_("alice"))
    assert [x["name"] for x in inv.json()["items"]] == ["package-19999"]


def test_concurrent_ingests_over_real_http_all_land(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    import httpx
    from srvkit import make_server

    from kitvet.server.testing import running

    app, est, _ut, it = make_server(tmp_path / "estate", None, seed=False)

    def doc(inst: str, i: int) -> bytes:
        return json.dumps({"kitvet_inventory": "1.0.0", "snapshots": [{
            "host": {"host_id": f"{inst[:4].lower()}-{i}", "institution": inst,
                     "collected_at": "2026-11-03T09:00:00Z"},
            "software": [{"name": "Evil Tool", "version": str(i),
                          "publisher": "Evil Build Corp"}]}]}).encode()

    jobs = [(inst, i) for inst in ("Alpha Agency", "Beta Bureau") for i in range(6)]
    with running(app) as base, httpx.Client(base_url=base, timeout=60) as c:
        def send(job: tuple[str, int]) -> int:
            inst, i = job
            return c.post(URL, content=doc(inst, i),
                          headers={"Authorization": f"Bearer {it[inst]}"}).status_code

        with ThreadPoolExecutor(4) as pool:
            assert list(pool.map(send, jobs)) == [202] * len(jobs)
        assert app.state.kv.worker.wait_idle(60)
    assert est.host_count() == 12
    assert est.findings(limit=100).total == 12
    assert est.verify_audit().ok
    est.close()


def test_a_host_id_collision_does_not_name_the_other_institution(srv, caplog):
    """Alpha's token sending Beta's host id learns only that the id is taken (issue 20,
    item 4); the server's log keeps who holds it."""
    doc = {"kitvet_inventory": "1.0.0", "snapshots": [
        {"host": {"host_id": "beta-ws-1", "institution": "Alpha Agency",
                  "collected_at": "2026-11-05T09:00:00Z"},
         "software": [{"name": "Probe", "version": "1"}]}]}
    with caplog.at_level("WARNING", logger="kitvet.store.ingest"):
        r = srv.client.post(URL, content=json.dumps(doc), headers=srv.ingest("Alpha Agency"))
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["added"] == [] and len(body["rejected"]) == 1
    assert "Beta" not in r.text and "institution" not in body["rejected"][0]["reason"]
    assert "already used by another machine" in body["rejected"][0]["reason"]
    assert "'Beta Bureau'" in caplog.text  # the detail stays in the server's log
