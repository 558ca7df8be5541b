"""A generated lake reviews as expected: findings on listed hosts only, decoys clear,
incremental review equal to the full one for the changed hosts, exports that import."""

from __future__ import annotations

import shutil

import duckdb
import pyarrow.parquet as pq
import pytest

from kitvet.bench.estate import plan_hosts
from kitvet.lists import bundled
from kitvet.match.engine import lake_views, match
from kitvet.policy import load_profile


@pytest.fixture(scope="module")
def lists_policy():
    return bundled(), load_profile("default")


def _review(lake, lists_policy, **kw):
    con = duckdb.connect()
    names = lake_views(con, lake, **kw)
    return match(con, *lists_policy, snapshot_ids=kw.get("snapshot_ids"), **names)


def test_findings_fall_on_listed_hosts_and_never_on_decoys(small_estate, lists_policy):
    root, manifest = small_estate
    findings = _review(root / "lake", lists_policy)
    plan = plan_hosts(manifest["hosts"], manifest["seed"])
    listed = {h for h, f in zip(plan.host_id, plan.listed) if f}
    hosts = set(findings.column("host_id").to_pylist())
    assert hosts and hosts <= listed
    # every listed host carries at least one listed software item, so each has a finding
    assert hosts == listed
    versions = set(findings.column("version").to_pylist())
    assert "5.6.1+really5.4.5-1" not in versions
    xz = [r for r in findings.to_pylist() if r["subject_id"].startswith("xz")]
    assert all(r["status"] == "ban" for r in xz)


def test_lake_views_agree_with_the_store_views(small_estate, lists_policy, tmp_path):
    lake_mod = pytest.importorskip("kitvet.store.lake", reason="estate store not available")
    from kitvet.bench.writer import apply_change

    root = tmp_path / "estate"
    shutil.copytree(small_estate[0], root)
    apply_change(root, fraction=0.1)  # now some batches are only partly current
    ours = _review(root / "lake", lists_policy)
    con = duckdb.connect()
    lake_mod.Lake(root / "lake").current_views(con)
    theirs = match(con, *lists_policy)
    assert ours.equals(theirs)


def test_incremental_review_equals_the_full_review_of_changed_hosts(small_estate,
                                                                    lists_policy, tmp_path):
    from kitvet.bench.writer import apply_change

    root = tmp_path / "estate"
    shutil.copytree(small_estate[0], root)
    change = apply_change(root, fraction=0.2)
    full = _review(root / "lake", lists_policy).to_pylist()
    part = _review(root / "lake", lists_policy, snapshot_ids=change["snapshot_ids"])
    cur = pq.read_table(root / "lake" / "current.parquet").to_pydict()
    changed_hosts = {h for h, s in zip(cur["host_id"], cur["snapshot_id"])
                     if s in set(change["snapshot_ids"])}
    assert len(changed_hosts) == change["hosts"] == 60
    expected = [r for r in full if r["host_id"] in changed_hosts]
    assert part.to_pylist() == expected
    # applying the same change generation again is a no-op
    assert apply_change(root, fraction=0.2) == change


def test_review_by_snapshot_needs_snapshot_ids_in_the_relations(lists_policy):
    import pyarrow as pa

    from kitvet.errors import MatchError
    from kitvet.model.schema import DEVICE_SCHEMA, HOST_SCHEMA, SOFTWARE_SCHEMA

    con = duckdb.connect()
    for name, schema in (("software", SOFTWARE_SCHEMA), ("devices", DEVICE_SCHEMA),
                         ("hosts", HOST_SCHEMA)):
        con.register(name, pa.Table.from_pylist([], schema=schema))
    with pytest.raises(MatchError, match="no snapshot_id"):
        match(con, *lists_policy, snapshot_ids=["x"])


def test_keys_with_quotes_match(lists_policy):
    from kitvet.match import review_snapshots
    from kitvet.model import Host, Identifier, RiskList, Snapshot, Subject
    from kitvet.model.risk import ListSet

    subj = Subject(id="o-reilly", name="O'Reilly", identifiers=(
        Identifier("publisher", "O'Reilly Media"), Identifier("package_name", "it's-a-pkg")))
    lists = ListSet((RiskList("t", "t", "1", "2024-01-01", subjects=(subj,)),))
    snap = Snapshot(host=Host(host_id="h1", platform="linux"))
    snap.add_software(name="it's-a-pkg", version="1", publisher="O'Reilly Media, Inc.",
                      package_type="deb")
    rows = review_snapshots([snap], lists, lists_policy[1]).findings.to_pylist()
    assert [r["subject_id"] for r in rows] == ["o-reilly"]
