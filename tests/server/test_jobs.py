"""The ingest queue over the API: 202 with a job at once, ``GET /api/v1/jobs/{id}``, refusal
reasons, the item limit per snapshot, the bounds on uploads, the spool left clean."""

from __future__ import annotations

import json
import time

from srvkit import FIXTURES

URL = "/api/v1/snapshots"


def _doc(host: str, institution: str, items: int = 1) -> bytes:
    return json.dumps({"kitvet_inventory": "1.0.0", "snapshots": [{
        "host": {"host_id": host, "institution": institution,
                 "collected_at": "2026-11-20T09:00:00Z"},
        "software": [{"name": f"tool-{i}", "version": "1", "publisher": "Evil Build Corp"}
                     for i in range(items)]}]}).encode()


def _until_final(srv, job_id: str, headers: dict[str, str]) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r = srv.client.get(f"/api/v1/jobs/{job_id}", headers=headers)
        assert r.status_code == 200, r.text
        if r.json()["status"] in ("done", "refused", "failed"):
            return r.json()
        time.sleep(0.05)
    raise AssertionError("the job did not finish")


def _spool_files(srv) -> list[str]:
    """The spool's bodies once the worker is through with them: a body is removed just after
    the transaction that records its job as finished, so a client may see the job final a
    moment before its body is gone."""
    spool = srv.estate.root / "spool"
    deadline = time.monotonic() + 10
    while True:
        names = sorted(p.name for p in spool.iterdir()
                       if p.name not in ("owners", "last-sweep.json"))
        if not names or time.monotonic() > deadline:
            return names
        time.sleep(0.05)


def test_an_upload_is_answered_202_with_its_job_then_stored(srv):
    r = srv.client.post(URL, content=_doc("alpha-q-1", "Alpha Agency"),
                        headers=srv.ingest("Alpha Agency"))
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] in ("queued", "running", "done")
    assert job["location"] == f"/api/v1/jobs/{job['job_id']}"
    done = _until_final(srv, job["job_id"], srv.ingest("Alpha Agency"))
    assert done["status"] == "done" and done["http_status"] == 200
    assert done["became_current"] == ["alpha-q-1"] and done["format"] == "kitvet"
    assert done["batch_id"] and done["finished_at"]
    # readable by an account that sees Alpha Agency, not by Beta's token or reviewer
    assert srv.client.get(job["location"], headers=srv.as_("alice")).status_code == 200
    assert srv.client.get(job["location"], headers=srv.as_("admin")).status_code == 200
    assert srv.client.get(job["location"], headers=srv.ingest("Beta Bureau")).status_code == 404
    assert srv.client.get(job["location"], headers=srv.as_("bob")).status_code == 404
    assert srv.client.get("/api/v1/jobs/nope", headers=srv.as_("admin")).status_code == 404
    assert srv.client.get(job["location"]).status_code == 401
    assert _spool_files(srv) == []  # the body is gone once stored


def test_uploads_are_accepted_while_the_database_is_busy(srv):
    """Accepting an upload writes its spool file and nothing in the review database: while
    another writer holds the database (a long import or review), uploads are still answered
    202 and their jobs read as queued; they are stored once the database is free."""
    from kitvet.store.db import write

    headers = srv.ingest("Alpha Agency")
    with write(srv.estate.engine):
        answers = [srv.client.post(URL, content=_doc(f"busy-{i}", "Alpha Agency"),
                                   headers=headers) for i in range(3)]
        assert [r.status_code for r in answers] == [202] * 3
        queued = [srv.client.get(r.json()["location"], headers=headers).json()
                  for r in answers]
        assert [j["status"] for j in queued] == ["queued"] * 3
        assert srv.client.get(answers[0].json()["location"],
                              headers=srv.ingest("Beta Bureau")).status_code == 404
    done = [_until_final(srv, r.json()["job_id"], headers) for r in answers]
    assert [j["became_current"] for j in done] == [["busy-0"], ["busy-1"], ["busy-2"]]
    assert _spool_files(srv) == []


def test_a_refused_upload_says_why_in_its_job(srv):
    hosts = srv.estate.host_count()
    r = srv.client.post(URL, content=_doc("beta-x", "Beta Bureau"),
                        headers=srv.ingest("Alpha Agency"))
    assert r.status_code == 202, r.text
    job = _until_final(srv, r.json()["job_id"], srv.ingest("Alpha Agency"))
    assert job["status"] == "refused" and job["http_status"] == 403
    assert "Alpha Agency" in job["reason"] and job["place"] == "host beta-x"
    assert srv.estate.host_count() == hosts
    assert _spool_files(srv) == []


def test_the_item_limit_per_snapshot_refuses_with_413(srv):
    srv.app.state.kv.settings.max_snapshot_items = 5
    ok = srv.client.post(URL, params={"wait": 60}, content=_doc("alpha-5", "Alpha Agency", 5),
                         headers=srv.ingest("Alpha Agency"))
    assert ok.status_code == 202 and ok.json()["status"] == "done", ok.text
    r = srv.client.post(URL, params={"wait": 60}, content=_doc("alpha-6", "Alpha Agency", 6),
                        headers=srv.ingest("Alpha Agency"))
    assert r.status_code == 413, r.text
    assert "limit of 5 per snapshot" in r.json()["detail"]
    assert r.json()["place"] == "host alpha-6"


def test_uploads_past_the_bounds_are_turned_away_with_503(srv):
    kv = srv.app.state.kv
    kv.uploads.limit = 0
    r = srv.client.post(URL, content=_doc("alpha-b", "Alpha Agency"),
                        headers=srv.ingest("Alpha Agency"))
    assert r.status_code == 503 and r.headers["retry-after"]
    kv.uploads.limit = 10
    kv.settings.max_queued_uploads = 0
    r = srv.client.post(URL, content=_doc("alpha-b", "Alpha Agency"),
                        headers=srv.ingest("Alpha Agency"))
    assert r.status_code == 503 and "queue is full" in r.json()["detail"]
    assert _spool_files(srv) == []


def test_a_gzip_bomb_is_refused_while_it_is_read(srv):
    import gzip

    bomb = gzip.compress(b" " * (8 * 1024 * 1024))
    srv.app.state.kv.settings.max_inventory_bytes = 1024 * 1024
    r = srv.client.post(URL, content=bomb, headers=srv.ingest("Alpha Agency"))
    assert r.status_code == 413 and "decompressed" in r.json()["detail"]
    assert _spool_files(srv) == []


def test_status_tells_the_queue_and_the_last_sweep(sqlite_srv):
    r = sqlite_srv.client.get("/api/v1/summary", headers=sqlite_srv.as_("admin"))
    assert r.status_code == 200
    st = sqlite_srv.estate.status()
    assert st.ingest is not None and st.ingest["last_sweep"]["spool_files"] == 0
    body = (FIXTURES / "alpha.kitvet.json").read_bytes()
    sqlite_srv.client.post(URL, params={"wait": 60}, content=body,
                           headers=sqlite_srv.ingest("Alpha Agency"))
    assert sqlite_srv.estate.status().ingest["jobs"] == {"done": 1}


def test_a_large_bom_is_read_as_a_stream_and_lands_whole(sqlite_srv, monkeypatch):
    from kitvet.sources import cyclonedx_stream

    monkeypatch.setattr(cyclonedx_stream, "STREAM_BYTES", 0)  # every JSON BOM streams
    monkeypatch.setattr(cyclonedx_stream, "_ROWS", 16)
    bom = {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
           "metadata": {"component": {"type": "application", "name": "beta-build-1"}},
           "components": [{"type": "library", "name": f"comp-{i}", "version": "1",
                           "purl": f"pkg:npm/comp-{i}@1"} for i in range(50)]}
    srv = sqlite_srv
    r = srv.client.post(URL, params={"wait": 60}, content=json.dumps(bom),
                        headers=srv.ingest("Beta Bureau"))
    assert r.status_code == 202 and r.json()["became_current"] == ["beta-build-1"], r.text
    inv = srv.client.get("/api/v1/hosts/beta-build-1/inventory", params={"q": "comp-4"},
                         headers=srv.as_("admin"))
    assert sorted(x["name"] for x in inv.json()["items"]) == [
        "comp-4", "comp-40", "comp-41", "comp-42", "comp-43", "comp-44", "comp-45", "comp-46",
        "comp-47", "comp-48", "comp-49"]
    again = srv.client.post(URL, params={"wait": 60}, content=json.dumps(bom),
                            headers=srv.ingest("Beta Bureau"))
    assert again.json()["duplicates"] and again.json()["batch_id"] is None  # same id
    srv.app.state.kv.settings.max_snapshot_items = 20
    bom["metadata"]["component"]["name"] = "beta-build-2"
    r = srv.client.post(URL, params={"wait": 60}, content=json.dumps(bom),
                        headers=srv.ingest("Beta Bureau"))
    assert r.status_code == 413 and "limit of 20" in r.json()["detail"]
    assert _spool_files(srv) == []  # the rows spilled to disk went with their batch
