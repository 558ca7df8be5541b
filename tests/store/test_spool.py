"""The ingest spool and queue without a server: a crashed process's leftovers are swept at the
next start (and counted in ``estate status``), its running jobs queued again; several uploads
stored as one batch each get their own result."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kitvet.estate import IngestLimits
from store.helpers import EVIL

CRASH = """
import os, sys
from kitvet.estate import open_estate
est = open_estate(sys.argv[1])
q = est.ingest_queue()
q.spool.open()
part = q.receive()                       # an upload half received
part.write(b'{"kitvet_inventory": "1.0.0", "snaps')
work = q.spool.work_dir("20261202T000000-deadbeefdeadbeef")  # a decompressed copy
(work / "upload.json").write_bytes(b"x" * 1000)
from kitvet.model import Host, Snapshot
est.lake.write_batch([("sid-orphan", Snapshot(host=Host(host_id="orphan", institution="P")))],
                     "20261202T000000000000Z-orphan000000")   # a batch never committed
os._exit(9)                              # as kill -9: no clean-up of any kind
"""


def _spool_files(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "spool").iterdir()
                  if p.name not in ("owners", "last-sweep.json"))


def test_a_crashed_ingest_leaves_nothing_after_the_next_start(estate):
    proc = subprocess.run([sys.executable, "-c", CRASH, str(estate.root)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr
    assert len(_spool_files(estate.root)) == 2  # the .part and the .work folder
    assert "20261202T000000000000Z-orphan000000" in estate.lake.batch_ids()
    queue = estate.ingest_queue()
    summary = queue.start(threads=False)
    try:
        assert summary.spool_files == 2 and summary.lake_files >= 1
        assert _spool_files(estate.root) == []
        assert "20261202T000000000000Z-orphan000000" not in estate.lake.batch_ids()
        st = estate.status()
        assert st.ingest["last_sweep"]["spool_files"] == 2
    finally:
        queue.stop()


def test_a_live_process_keeps_its_files(estate):
    other = estate.ingest_queue()
    other.spool.open()
    part = other.receive()
    part.write(b"{}")
    mine = estate.ingest_queue()
    try:
        assert mine.start(threads=False).spool_files == 0
        assert part.part.exists()
    finally:
        mine.stop()
        part.discard()
        other.stop()


def test_uploads_stored_in_one_batch_get_their_own_results(estate, tmp_path: Path):
    def inv(name: str, hosts: list[str]) -> Path:
        doc = {"kitvet_inventory": "1.0.0", "snapshots": [{
            "host": {"host_id": h, "institution": "Parliament",
                     "collected_at": "2026-11-01T00:00:00Z"},
            "software": [{"name": "evil", "version": "1", "publisher": EVIL}]} for h in hosts]}
        (tmp_path / name).write_text(json.dumps(doc))
        return tmp_path / name

    queue = estate.ingest_queue(IngestLimits(max_snapshot_items=10))
    queue.start(threads=False)
    try:
        ids = [queue.submit_path(inv("a.json", ["h1", "h2"]), actor="a").job_id,
               queue.submit_path(inv("b.json", ["h2", "h3"]), actor="b").job_id,
               queue.submit_path(inv("c.json", ["h4"]), actor="c",
                                 create_institutions=False).job_id]
        assert queue.work_once() == 3  # one claim, one batch
        a, b, c = queue.run_until_done(ids)
    finally:
        queue.stop()
    assert a.result["became_current"] == ["h1", "h2"] and len(a.result["duplicates"]) == 0
    assert b.result["became_current"] == ["h3"] and len(b.result["duplicates"]) == 1
    assert c.status == "done" and c.result["became_current"] == ["h4"]  # Parliament exists
    assert a.result["batch_id"] == b.result["batch_id"]
    actors = {e.actor for e in estate.audit(limit=100) if e.action == "estate.import"}
    assert {"a", "b", "c"} <= actors
    assert estate.host_count() == 4
    assert _spool_files(estate.root) == []


def test_a_body_queued_by_an_older_kitvet_is_still_stored(estate, tmp_path: Path):
    """An upgrade with uploads still queued: their bodies carry no job header (their jobs are
    rows queued at accept time) and are read from their first byte."""
    from kitvet.store import jobs
    from kitvet.store.db import utcnow, write
    from kitvet.store.tables import ingest_jobs

    queue = estate.ingest_queue()
    queue.start(threads=False)
    try:
        doc = {"kitvet_inventory": "1.0.0", "snapshots": [{
            "host": {"host_id": "old-1", "institution": "Parliament",
                     "collected_at": "2026-11-01T00:00:00Z"},
            "software": [{"name": "evil", "version": "1", "publisher": EVIL}]}]}
        name = f"20261101T000000-legacy0000000000.{queue.spool.owner}.body"
        (queue.spool.path / name).write_bytes(json.dumps(doc).encode())
        with write(estate.engine) as conn:
            conn.execute(ingest_jobs.insert().values(
                job_id="20261101T000000-legacy0000000000", status="queued", actor="old",
                institution="Parliament", spool_name=name, body_bytes=100,
                options=json.dumps({"format": "kitvet"}), attempts=0, created_at=utcnow()))
        (job,) = queue.run_until_done(["20261101T000000-legacy0000000000"])
    finally:
        queue.stop()
    assert job.status == "done" and job.result["became_current"] == ["old-1"], job
    assert jobs.get(estate.engine, job.job_id).status == "done"
    assert _spool_files(estate.root) == []
