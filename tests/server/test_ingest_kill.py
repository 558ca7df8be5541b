"""kill -9 of the server at random points while uploads arrive: nothing lost, nothing stored
twice, no spool file or orphan lake batch left (the harness is benchmarks/ingest_kill.py,
which runs 20 kills; here a few, to keep the suite fast)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[2] / "benchmarks" / "ingest_kill.py"


def _harness():
    spec = importlib.util.spec_from_file_location("ingest_kill", HARNESS)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_uploads_survive_kill_9_at_random_points(tmp_path: Path):
    kills = int(os.environ.get("KITVET_KILL_ROUNDS", "2"))
    out = _harness().run(tmp_path, kills=kills, uploads=30, items=20)
    assert out["ok"], out
    assert out["hosts"] == out["snapshots"] == 30
