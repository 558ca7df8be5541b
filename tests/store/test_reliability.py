"""An import killed mid-way leaves the estate as it was; concurrent imports both land."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import select

from kitvet.store import tables as t
from store.helpers import EVIL, review, snap

IMPORT_SCRIPT = """
import logging, sys
logging.basicConfig(level=logging.WARNING)
from kitvet.estate import open_estate
est = open_estate(sys.argv[1])
res = est.import_paths(sys.argv[2:], actor="proc")
print("ADDED", len(res.added), flush=True)
"""


def write_inventory(path: Path, host_id: str, institution: str, collected_at: str,
                    names: list[str]) -> Path:
    doc = {"kitvet_inventory": "1.0.0", "snapshots": [{
        "host": {"host_id": host_id, "institution": institution, "collected_at": collected_at},
        "software": [{"name": n, "version": "1", "publisher": EVIL} for n in names]}]}
    path.write_text(json.dumps(doc))
    return path


def fingerprint(est) -> dict:
    """Every row of every table, plus the current snapshot pointer file."""
    out = {}
    with est.engine.connect() as conn:
        for table in t.metadata.sorted_tables:
            pk = list(table.primary_key.columns)
            out[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*pk))]
    out["current.parquet"] = est.lake.current_file.read_bytes()
    return out


def start_import(est, *files: Path, pause: str | None = None, seconds: float = 60
                 ) -> subprocess.Popen:
    env = dict(os.environ)
    env.pop("KITVET_PAUSE_AT", None)
    if pause:
        env["KITVET_PAUSE_AT"] = f"{pause}:{seconds}"
    return subprocess.Popen([sys.executable, "-c", IMPORT_SCRIPT, str(est.root),
                             *map(str, files)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for_pause(proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if "pausing" in line:
            return
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"import never reached its pause point: {proc.stderr.read()}")


@pytest.mark.parametrize("point", ["after-lake", "in-transaction"])
def test_killed_import_leaves_estate_unchanged_and_rerun_succeeds(estate, tmp_path, point):
    estate.import_snapshots([snap("h1", "Parliament", "2026-11-01T00:00:00Z",
                                  [("evil-old", "1", EVIL)])], actor="a")
    review(estate)
    before = fingerprint(estate)
    inv = write_inventory(tmp_path / "new.json", "h1", "Parliament", "2026-11-05T00:00:00Z",
                          ["evil-new"])
    proc = start_import(estate, inv, pause=point)
    wait_for_pause(proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    time.sleep(0.2)  # PostgreSQL notices the dropped connection and aborts its transaction

    assert fingerprint(estate) == before
    con = duckdb.connect()
    estate.lake.views(con)
    assert con.execute("SELECT name FROM software").fetchall() == [("evil-old",)]
    assert estate.verify_audit().ok

    rerun = start_import(estate, inv)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert "ADDED 1" in out
    estate.lake.views(con)
    assert con.execute("SELECT name FROM software").fetchall() == [("evil-new",)]
    assert estate.verify_audit().ok


def test_two_imports_at_once_both_land(estate, tmp_path):
    a = [write_inventory(tmp_path / f"a{i}.json", f"a-{i}", "Parliament",
                         "2026-11-01T00:00:00Z", ["evil"]) for i in range(3)]
    b = [write_inventory(tmp_path / f"b{i}.json", f"b-{i}", "Agency",
                         "2026-11-01T00:00:00Z", ["evil"]) for i in range(3)]
    # the first holds its write transaction open for 2 s; the second arrives meanwhile
    p1 = start_import(estate, *a, pause="in-transaction", seconds=2)
    wait_for_pause(p1)
    p2 = start_import(estate, *b)
    for p in (p1, p2):
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert "ADDED 3" in out
    assert estate.host_count() == 6
    assert sorted(estate.institutions()) == ["Agency", "Parliament"]
    con = duckdb.connect()
    estate.lake.views(con)
    assert con.execute("SELECT count(DISTINCT host_id) FROM software").fetchone() == (6,)
    assert estate.verify_audit().ok
    res = review(estate)
    assert res.new == 6


def test_review_while_an_import_holds_the_write_lock(estate, tmp_path):
    estate.import_snapshots([snap("h1", "Parliament", "2026-11-01T00:00:00Z",
                                  [("evil-old", "1", EVIL)])], actor="a")
    inv = write_inventory(tmp_path / "b.json", "h2", "Agency", "2026-11-02T00:00:00Z", ["evil"])
    proc = start_import(estate, inv, pause="in-transaction", seconds=2)
    wait_for_pause(proc)
    first = review(estate)  # waits for the import's transaction, then records its own
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert first.new == 1  # matched the inventory current when the review started
    second = review(estate)
    assert (second.new, second.findings) == (1, 2)
    assert estate.verify_audit().ok
