"""Generate a realistic estate straight into an inventory lake, columnar and in batches: the
plan of hosts and the rows of each (:func:`kitvet.bench.writer.generate` writes them).

Layout (the same as :mod:`kitvet.store`'s lake)::

    <estate>/lake/software/<batch_id>.parquet   snapshot_id + SOFTWARE_FIELDS
    <estate>/lake/devices/<batch_id>.parquet    snapshot_id + DEVICE_FIELDS
    <estate>/lake/hosts/<batch_id>.parquet      snapshot_id + HOST_FIELDS
    <estate>/lake/current.parquet               host_id, snapshot_id, batch_id
    <estate>/estate.json                        what was generated (hosts, seed, version, rows)

Hosts are drawn with numpy from a seeded generator per batch, so the same (hosts, seed,
:data:`GENERATOR_VERSION`) always gives the same rows, and memory is bounded by one batch.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kitvet.bench import hardware
from kitvet.bench.pool import CATALOGUES, Pool
from kitvet.errors import KitvetError
from kitvet.model.inventory import DEVICE_FIELDS

logger = logging.getLogger(__name__)

#: Bump when the generated rows change: cached estates are keyed by it.
GENERATOR_VERSION = "1"
#: Hosts written per batch (one Parquet file per table per batch).
BATCH_HOSTS = 2000
#: Share of hosts of each catalogue (platform flavour).
PLATFORM_SHARE = {"windows": 0.58, "deb": 0.17, "rpm": 0.10, "macos": 0.15}
LISTED_SHARE = 0.01
_OS = {
    "windows": ("windows", "Microsoft Windows 11 Enterprise", "10.0.22631"),
    "deb": ("linux", "Debian GNU/Linux", "12"),
    "rpm": ("linux", "Red Hat Enterprise Linux", "9.4"),
    "macos": ("macos", "macOS", "14.5"),
}
INSTITUTIONS = tuple(
    f"{kind} {place}" for kind in ("Secretariat", "Directorate", "Agency", "Office", "Campus",
                                   "Delegation")
    for place in ("Brussels", "Luxembourg", "Strasbourg", "Vienna", "Lisbon", "Warsaw",
                  "Tallinn", "Athens"))


class GenerateError(KitvetError):
    """An estate cannot be generated where asked."""


@dataclass(frozen=True)
class HostPlan:
    """Hosts of an estate as arrays (one entry per host)."""

    host_id: np.ndarray  # object (str)
    snapshot_id: np.ndarray  # object (str)
    catalogue: np.ndarray  # int8 index into CATALOGUES
    institution: np.ndarray  # int16 index into INSTITUTIONS
    listed: np.ndarray  # bool


def plan_hosts(n: int, seed: int) -> HostPlan:
    """Which hosts the estate has (deterministic in ``seed``)."""
    rng = np.random.default_rng([seed, 0xE57A7E])
    raw = rng.bytes(16 * n)
    ids = np.array([_uuid(raw[i * 16:(i + 1) * 16]) for i in range(n)], dtype=object)
    snaps = np.array([f"{h.replace('-', '')[:24]}00000000" for h in ids], dtype=object)
    cat = rng.choice(len(CATALOGUES), size=n, p=[PLATFORM_SHARE[c] for c in CATALOGUES])
    weights = 1.0 / (np.arange(len(INSTITUTIONS)) + 1.0)
    inst = rng.choice(len(INSTITUTIONS), size=n, p=weights / weights.sum())
    listed = rng.random(n) < LISTED_SHARE
    return HostPlan(ids, snaps, cat.astype(np.int8), inst.astype(np.int16), listed)


def _uuid(b: bytes) -> str:
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:32]}"


def software_rows(pool: Pool, cats: np.ndarray, listed: np.ndarray,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(host position, pool row) of every software item of these hosts, grouped by host."""
    pos_parts, row_parts = [], []
    for ci, name in enumerate(CATALOGUES):
        where = np.flatnonzero(cats == ci)
        if where.size == 0:
            continue
        cat = pool.catalogues[name]
        factor = rng.uniform(0.8, 1.2, size=where.size).astype(np.float32)
        thresholds = cat.prob.astype(np.float32)[None, :] * factor[:, None]
        hi, pi = np.nonzero(rng.random((where.size, cat.prob.size), dtype=np.float32) < thresholds)
        offs = (rng.random(pi.size) ** 2 * cat.n_versions[pi]).astype(np.int64)
        pos_parts.append(where[hi])
        row_parts.append(cat.first_row[pi] + offs)
        lw = where[listed[where]]
        if lw.size and cat.listed_rows.size:
            pick = rng.integers(0, cat.listed_rows.size, size=(lw.size, 2))
            both = rng.random(lw.size) < 0.3
            pos_parts += [lw, lw[both]]
            row_parts += [cat.listed_rows[pick[:, 0]], cat.listed_rows[pick[both, 1]]]
    pos = np.concatenate(pos_parts)
    rows = np.concatenate(row_parts)
    order = np.lexsort((rows, pos))
    pos, rows = pos[order], rows[order]
    keep = np.ones(pos.size, dtype=bool)  # a host lists the same item once
    keep[1:] = (pos[1:] != pos[:-1]) | (rows[1:] != rows[:-1])
    return pos[keep], rows[keep]


def device_table(cats: np.ndarray, listed: np.ndarray, models: list[list[int]],
                 rng: np.random.Generator) -> tuple[np.ndarray, pa.Table]:
    """(host position per row, device columns without host/snapshot) for these hosts."""
    pool = hardware.device_pool()
    n = cats.size
    model_of = rng.integers(0, len(models), size=n)
    m_len = np.array([len(m) for m in models])
    m_flat = np.concatenate([np.asarray(m) for m in models])
    m_start = np.concatenate([[0], np.cumsum(m_len)[:-1]])
    counts = m_len[model_of]
    pos_b = np.repeat(np.arange(n), counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    idx_b = m_flat[m_start[model_of][pos_b] + within]
    p0, p1 = hardware.peripheral_range()
    k = rng.integers(0, 5, size=n)
    choice = np.argsort(rng.random((n, p1 - p0)), axis=1)[:, :4] + p0
    sel = np.arange(4)[None, :] < k[:, None]
    pos_p, idx_p = np.nonzero(sel)[0], choice[sel]
    l0, l1 = hardware.listed_usb_range()
    lw = np.flatnonzero(listed & (rng.random(n) < 0.4))
    pos = np.concatenate([pos_b, pos_p, lw])
    idx = np.concatenate([idx_b, idx_p, rng.integers(l0, l1, size=lw.size)])
    fixed = {f: pa.array([r.get(f) for r in pool], pa.string()).take(pa.array(idx))
             for f in DEVICE_FIELDS if f != "host_id"}
    fixed_t = pa.table(fixed)
    net_pos, net_t = _neighbours(n, listed, rng)
    pos = np.concatenate([pos, net_pos])
    table = pa.concat_tables([fixed_t, net_t])
    order = np.argsort(pos, kind="stable")
    return pos[order], table.take(pa.array(order))


#: Text of every byte value, in hex and in decimal (MACs and IPs are built by lookup).
_BYTE_TEXT = (np.array([f"{i:02x}" for i in range(256)], dtype=object),
              np.array([str(i) for i in range(256)], dtype=object))


def _neighbours(n: int, listed: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, pa.Table]:
    k = rng.integers(2, 8, size=n)
    pos = np.repeat(np.arange(n), k)
    vend = rng.integers(0, len(hardware.NEIGHBOURS), size=pos.size)
    prefixes = [p for p, _ in hardware.NEIGHBOURS]
    orgs = [o for _, o in hardware.NEIGHBOURS]
    lw = np.flatnonzero(listed & (rng.random(n) < 0.5))
    lv = rng.integers(0, len(hardware.LISTED_NEIGHBOURS), size=lw.size)
    prefixes += [p for p, _ in hardware.LISTED_NEIGHBOURS]
    orgs += [o for _, o in hardware.LISTED_NEIGHBOURS]
    pos = np.concatenate([pos, lw])
    vend = np.concatenate([vend, lv + len(hardware.NEIGHBOURS)])
    suffix = rng.integers(0, 1 << 24, size=pos.size)
    hexb, decb = _BYTE_TEXT
    macs = pc.binary_join_element_wise(
        pa.array(np.asarray(prefixes, dtype=object)[vend], pa.string()),
        *(pa.array(hexb[(suffix >> shift) & 255], pa.string()) for shift in (16, 8, 0)), ":")
    ips = pc.binary_join_element_wise(
        "10", pa.array(decb[(pos >> 8) & 255], pa.string()),
        pa.array(decb[pos & 255], pa.string()),
        pa.array(decb[(suffix & 253) + 2], pa.string()), ".")
    m = pos.size
    t = pa.table({
        "source": pa.array(["osquery:arp_cache"] * m, pa.string()),
        "location": pa.array(["arp_cache"] * m, pa.string()),
        "bus": pa.array(["network"] * m, pa.string()),
        "vendor_id": pa.nulls(m, pa.string()), "product_id": pa.nulls(m, pa.string()),
        "vendor_name": pa.array(orgs, pa.string()).take(pa.array(vend)),
        "product_name": pa.nulls(m, pa.string()), "serial": pa.nulls(m, pa.string()),
        "mac": macs, "ip": ips,
        "oui_org": pa.array(orgs, pa.string()).take(pa.array(vend)),
        "description": pa.nulls(m, pa.string()),
    })
    return pos, t


def host_table(plan: HostPlan, sl: slice, collected_at: str) -> pa.Table:
    """Host rows (snapshot_id + HOST_FIELDS) of the hosts in ``sl``."""
    ids = plan.host_id[sl]
    cats = plan.catalogue[sl]
    cols: dict[str, list[str | None]] = {
        "snapshot_id": list(plan.snapshot_id[sl]), "host_id": list(ids),
        "hostname": [f"{CATALOGUES[c][:3]}-{h[:8]}" for c, h in zip(cats, ids, strict=False)],
        "institution": [INSTITUTIONS[i] for i in plan.institution[sl]],
        "platform": [_OS[CATALOGUES[c]][0] for c in cats],
        "os_name": [_OS[CATALOGUES[c]][1] for c in cats],
        "os_version": [_OS[CATALOGUES[c]][2] for c in cats],
        "machine_id": [h.replace("-", "") for h in ids],
        "collected_at": [collected_at] * len(ids),
        "sources": ["osquery"] * len(ids),
    }
    return pa.table({k: pa.array(v, pa.string()) for k, v in cols.items()})


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write ``table`` atomically (temp file + rename)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        pq.write_table(table, tmp, row_group_size=512 * 1024, compression="snappy")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


ProgressFn = Callable[[int], None]


def read_manifest(estate: Path) -> dict:
    """The manifest of a generated estate."""
    path = Path(estate) / "estate.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as e:
        raise GenerateError("not a generated estate (no estate.json)", file=str(estate)) from e
    except (OSError, json.JSONDecodeError) as e:
        raise GenerateError(f"cannot read manifest: {e}", file=str(path)) from e
