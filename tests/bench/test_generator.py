"""The estate generator: deterministic, realistic in shape, written in the lake layout."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import netaddr
import numpy as np
import pyarrow.parquet as pq
import pytest

from kitvet.bench import hardware
from kitvet.bench.estate import GenerateError, plan_hosts
from kitvet.bench.writer import generate
from kitvet.model.inventory import DEVICE_FIELDS, HOST_FIELDS, SOFTWARE_FIELDS


def _one(con, sql: str):
    return con.execute(sql).fetchall()[0][0]


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / "lake").rglob("*.parquet"))}


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not(tmp_path):
    a = generate(tmp_path / "a", 40, seed=5, batch_hosts=16)
    b = generate(tmp_path / "b", 40, seed=5, batch_hosts=16)
    c = generate(tmp_path / "c", 40, seed=6, batch_hosts=16)
    assert a == b and a != c
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")
    assert len(a["batches"]) == 3


def test_lake_layout_and_schemas(small_estate):
    root, manifest = small_estate
    lake = root / "lake"
    for kind, fields in (("software", SOFTWARE_FIELDS), ("devices", DEVICE_FIELDS),
                         ("hosts", HOST_FIELDS)):
        files = sorted((lake / kind).glob("*.parquet"))
        assert [f.stem for f in files] == manifest["batches"]
        schema = pq.read_schema(files[0])
        assert schema.names == ["snapshot_id", "batch_id", *fields]
        assert all(str(t) == "string" for t in schema.types)
    cur = pq.read_table(lake / "current.parquet").to_pydict()
    assert len(cur["host_id"]) == len(set(cur["host_id"])) == 300
    assert set(cur["batch_id"]) == set(manifest["batches"])


def test_shape_is_realistic(small_estate):
    root, manifest = small_estate
    con = duckdb.connect()
    sw = f"read_parquet('{root}/lake/software/*.parquet')"
    per_host = _one(con, f"SELECT count(*) / count(DISTINCT host_id) FROM {sw}")
    assert 1000 <= per_host <= 1400
    assert manifest["software_rows"] == _one(con, f"SELECT count(*) FROM {sw}")
    dev = _one(con, f"SELECT count(*) / count(DISTINCT host_id) FROM "
                  f"read_parquet('{root}/lake/devices/*.parquet')")
    assert 18 <= dev <= 32
    platforms = dict(con.execute(f"SELECT platform, count(*) FROM "
                                 f"read_parquet('{root}/lake/hosts/*.parquet') GROUP BY 1"
                                 ).fetchall())
    assert set(platforms) == {"windows", "linux", "macos"}
    assert platforms["windows"] > platforms["linux"] > 0
    institutions = _one(con, f"SELECT count(DISTINCT institution) FROM "
                             f"read_parquet('{root}/lake/hosts/*.parquet')")
    assert institutions >= 20
    # a long tail from a large pool: tens of thousands of distinct triples even in 300 hosts
    distinct = _one(con, f"SELECT count(DISTINCT (name, version, publisher)) FROM {sw}")
    assert distinct > 20_000
    # the Debian revert is common, the backdoored build is not in the popular pool
    revert = _one(con, f"SELECT count(*) FROM {sw} WHERE name = 'xz-utils' "
                     "AND version = '5.6.1+really5.4.5-1'")
    assert revert > 0


def test_about_one_percent_of_hosts_are_listed():
    plan = plan_hosts(20_000, seed=3)
    assert 0.007 <= plan.listed.mean() <= 0.013
    assert len(set(plan.host_id)) == 20_000
    shares = np.bincount(plan.catalogue, minlength=4) / 20_000
    assert abs(shares.sum() - 1) < 1e-9 and shares.min() > 0.05


def test_network_neighbours_use_real_oui_registrations():
    for prefix, org in hardware.NEIGHBOURS + hardware.LISTED_NEIGHBOURS:
        reg = netaddr.OUI(prefix.replace(":", "-")).registration().org
        assert reg == org, prefix


def test_refuses_a_non_empty_folder_and_leaves_nothing_half_written(tmp_path):
    out = tmp_path / "estate"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(GenerateError, match="not empty"):
        generate(out, 5, seed=1)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    with pytest.raises(GenerateError):
        generate(tmp_path / "zero", 0)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
