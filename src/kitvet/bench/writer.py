"""Generate an estate: write its hosts into the lake batch by batch (:func:`generate`), and
change some hosts afterwards (:func:`apply_change`)."""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa

from kitvet.bench import hardware
from kitvet.bench.estate import (
    BATCH_HOSTS,
    GENERATOR_VERSION,
    GenerateError,
    HostPlan,
    ProgressFn,
    device_table,
    host_table,
    plan_hosts,
    read_manifest,
    software_rows,
    write_parquet,
)
from kitvet.bench.pool import Pool, build_pool
from kitvet.match.sidekeys import make_side_keys
from kitvet.model.inventory import DEVICE_FIELDS, SOFTWARE_FIELDS
from kitvet.store.lake import Lake

logger = logging.getLogger(__name__)

COLLECTED_AT = "2026-11-02T08:00:00Z"
CHANGED_AT = "2026-11-09T08:00:00Z"


def lake_dirs(root: Path) -> dict[str, Path]:
    """The lake's table folders under an estate root (created)."""
    dirs = {t: root / "lake" / t for t in ("software", "devices", "hosts")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    return dirs


def write_batches(root: Path, hosts: int, seed: int, batch_hosts: int,
                  progress: ProgressFn | None, workers: int = 1) -> dict:
    """Generate every batch of the estate under ``root``; the manifest.

    Batches are independent (each has its own seeded generator), so ``workers`` processes
    can write them in parallel with the same result as one.
    """
    plan = plan_hosts(hosts, seed)
    lake_dirs(root)
    starts = list(range(0, hosts, batch_hosts))
    jobs = [(str(root), hosts, seed, batch_hosts, b) for b in range(len(starts))]
    counts: dict[int, tuple[int, int]] = {}
    if workers > 1 and len(jobs) > 1:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        ctx = mp.get_context("spawn")  # no fork of a process holding DuckDB/Arrow threads
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
            futs = {ex.submit(_batch_job, *j): j[-1] for j in jobs}
            for fut in as_completed(futs):
                b = futs[fut]
                counts[b] = fut.result()
                if progress:
                    progress(min(batch_hosts, hosts - starts[b]))
    else:
        for j in jobs:
            counts[j[-1]] = _batch_job(*j)
            if progress:
                progress(min(batch_hosts, hosts - starts[j[-1]]))
    batches = [_batch_id(seed, b) for b in range(len(starts))]
    cur_batch = [_batch_id(seed, i // batch_hosts) for i in range(hosts)]
    write_parquet(pa.table({"host_id": pa.array(list(plan.host_id), pa.string()),
                            "snapshot_id": pa.array(list(plan.snapshot_id), pa.string()),
                            "batch_id": pa.array(cur_batch, pa.string())}),
                  root / "lake" / "current.parquet")
    return {"generator": "kitvet bench generate", "generator_version": GENERATOR_VERSION,
            "hosts": hosts, "seed": seed, "batches": batches,
            "software_rows": sum(c[0] for c in counts.values()),
            "device_rows": sum(c[1] for c in counts.values()),
            "listed_hosts": int(plan.listed.sum()),
            "distinct_software_items": _pool(seed).table.num_rows, "changes": []}


def generate(out: Path, hosts: int, seed: int = 1, *, batch_hosts: int = BATCH_HOSTS,
             progress: ProgressFn | None = None, workers: int = 1) -> dict:
    """Generate an estate of ``hosts`` hosts into ``out`` (which must not hold an estate).

    Written to a temporary folder beside ``out`` and renamed into place when complete;
    ``workers`` processes write batches in parallel (same bytes as one process).
    Returns the manifest (also written to ``out/estate.json``).
    """
    if hosts < 1:
        raise GenerateError("--hosts must be at least 1")
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise GenerateError("folder exists and is not empty", file=str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    try:
        manifest = write_batches(tmp, hosts, seed, batch_hosts, progress, workers)
        (tmp / "estate.json").write_text(json.dumps(manifest, indent=2) + "\n")
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _batch_id(seed: int, b: int) -> str:
    return f"gen{seed}-{b:05d}"


_CACHE: dict[tuple[str, int, int], object] = {}


def _pool(seed: int) -> Pool:
    key = ("pool", seed, 0)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = build_pool(seed)
    return _CACHE[key]  # type: ignore[return-value]


def _plan(hosts: int, seed: int) -> HostPlan:
    key = ("plan", seed, hosts)
    if key not in _CACHE:
        _CACHE[key] = plan_hosts(hosts, seed)
    return _CACHE[key]  # type: ignore[return-value]


def _batch_job(root: str, hosts: int, seed: int, batch_hosts: int, b: int) -> tuple[int, int]:
    """Write batch ``b`` (also run in worker processes); (software rows, device rows)."""
    pool, plan = _pool(seed), _plan(hosts, seed)
    models = hardware.hardware_models(random.Random(f"kitvet-models-{seed}"))
    start = b * batch_hosts
    sl = slice(start, min(start + batch_hosts, hosts))
    rng = np.random.default_rng([seed, b, 1])
    return _write_batch(lake_dirs(Path(root)), _batch_id(seed, b), plan, sl, pool, models, rng,
                        COLLECTED_AT)


def _write_batch(dirs: dict[str, Path], batch_id: str, plan: HostPlan, sl: slice, pool: Pool,
                 models: list[list[int]], rng: np.random.Generator,
                 collected_at: str) -> tuple[int, int]:
    cats, listed = plan.catalogue[sl], plan.listed[sl]
    ids = pa.array(list(plan.host_id[sl]), pa.string())
    snaps = pa.array(list(plan.snapshot_id[sl]), pa.string())
    pos, rows = software_rows(pool, cats, listed, rng)
    sw = pool.table.take(pa.array(rows))
    sw = _with_ids(sw, pos, ids, snaps, batch_id, SOFTWARE_FIELDS)
    write_parquet(sw, dirs["software"] / f"{batch_id}.parquet")
    # its side file of match keys, as an import makes it (kitvet.match.sidekeys.make_side_keys)
    make_side_keys(Lake(dirs["software"].parent), [batch_id])
    dpos, dev = device_table(cats, listed, models, rng)
    dev = _with_ids(dev, dpos, ids, snaps, batch_id, DEVICE_FIELDS)
    write_parquet(dev, dirs["devices"] / f"{batch_id}.parquet")
    hosts = host_table(plan, sl, collected_at)
    hosts = hosts.add_column(1, "batch_id", _constant(batch_id, hosts.num_rows))
    write_parquet(hosts, dirs["hosts"] / f"{batch_id}.parquet")
    return sw.num_rows, dev.num_rows


def _constant(value: str, n: int) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)),
                                          pa.array([value])).cast(pa.string())


def _with_ids(t: pa.Table, pos: np.ndarray, ids: pa.Array, snaps: pa.Array, batch_id: str,
              fields: tuple[str, ...]) -> pa.Table:
    """The lake layout: snapshot_id, batch_id, then the table's fields."""
    p = pa.array(pos)
    cols = {"snapshot_id": snaps.take(p), "host_id": ids.take(p)}
    return pa.table({"snapshot_id": cols["snapshot_id"],
                     "batch_id": _constant(batch_id, t.num_rows),
                     **{f: cols[f] if f in cols else t.column(f) for f in fields}})


def apply_change(root: Path, fraction: float = 0.01, generation: int = 1) -> dict:
    """Give ``fraction`` of the hosts a new snapshot (a new batch); the change record.

    Idempotent per ``generation``: applying the same generation twice returns the first record.
    The lake's ``current.parquet`` is rewritten to point the changed hosts at their new
    snapshots, as the store does after an ingest.
    """
    import pyarrow.parquet as pq

    root = Path(root)
    manifest = read_manifest(root)
    for ch in manifest.get("changes", []):
        if ch["generation"] == generation:
            return ch
    seed, hosts = manifest["seed"], manifest["hosts"]
    plan = plan_hosts(hosts, seed)
    rng = np.random.default_rng([seed, generation, 7])
    n = max(1, round(hosts * fraction))
    chosen = np.sort(rng.choice(hosts, size=n, replace=False))
    snaps = np.array([s[:24] + f"{generation:08x}" for s in plan.snapshot_id[chosen]], dtype=object)
    sub = HostPlan(plan.host_id[chosen], snaps, plan.catalogue[chosen],
                   plan.institution[chosen], plan.listed[chosen])
    batch_id = f"chg{seed}-{generation:05d}"
    models = hardware.hardware_models(random.Random(f"kitvet-models-{seed}"))
    s, d = _write_batch(lake_dirs(root), batch_id, sub, slice(0, n), _pool(seed), models,
                        rng, CHANGED_AT)
    cur = pq.read_table(root / "lake" / "current.parquet").to_pydict()
    where = {h: i for i, h in enumerate(cur["host_id"])}
    for h, sid in zip(sub.host_id, snaps, strict=False):
        cur["snapshot_id"][where[h]] = sid
        cur["batch_id"][where[h]] = batch_id
    write_parquet(pa.table(cur), root / "lake" / "current.parquet")
    record = {"generation": generation, "batch_id": batch_id, "hosts": n,
              "snapshot_ids": list(snaps), "software_rows": s, "device_rows": d}
    manifest.setdefault("changes", []).append(record)
    tmp = root / ".estate.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    tmp.replace(root / "estate.json")
    return record
