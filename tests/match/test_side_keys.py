"""The lake's side files of distinct match keys (issues 13, 14): a review that reads the keys
from them gives the findings of the review that scans the rows for them."""

from __future__ import annotations

import os
import shutil

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    from kitvet.bench.writer import apply_change, generate

    root = tmp_path_factory.mktemp("side") / "estate"
    # three batches, then a change of 12 hosts: batches only partly current
    generate(root, 40, seed=7, batch_hosts=16)
    apply_change(root, fraction=0.3)
    return root


@pytest.fixture
def estate(generated, tmp_path):
    """The generated estate without the side files its writer made (the review makes them)."""
    dest = tmp_path / "estate"
    shutil.copytree(generated, dest)
    shutil.rmtree(dest / "lake" / "keys")
    return dest


@pytest.fixture(scope="module")
def review_lists():
    from kitvet.identify.eol import eol_list
    from kitvet.lists import bundled
    from kitvet.model.risk import ListSet

    return ListSet((*bundled().lists, eol_list(today="2026-12-02")))


def _rows(table: pa.Table) -> list[dict]:
    return sorted(table.to_pylist(), key=lambda r: r["finding_id"])


def _scanned(estate, lists, policy) -> pa.Table:
    """Findings with the keys found by scanning the rows (no side files)."""
    from kitvet.match.engine import match
    from kitvet.store.lake import Lake

    con = duckdb.connect()
    names = Lake(estate / "lake").views(con)
    return match(con, lists, policy, files="files", **names)


def _side_files(estate):
    return sorted((estate / "lake" / "keys" / "software").glob("*.parquet"))


def test_side_keys_give_the_findings_of_the_scan(estate, review_lists):
    from kitvet.match.engine import DuckDBMatcher
    from kitvet.policy import load_profile
    from kitvet.store.lake import Lake

    policy = load_profile("default")
    expected = _scanned(estate, review_lists, policy)
    assert not _side_files(estate)
    got = DuckDBMatcher().match(Lake(estate / "lake"), review_lists, policy)  # makes them
    sides = _side_files(estate)
    batches = {p.stem for p in (estate / "lake" / "software").glob("*.parquet")}
    assert {p.name.split(".")[0] for p in sides} == batches  # every batch is current here
    assert expected.num_rows > 0
    assert {"ban", "review"} <= set(expected.column("status").to_pylist())
    assert _rows(got) == _rows(expected)
    again = DuckDBMatcher().match(Lake(estate / "lake"), review_lists, policy)  # reads them
    assert _side_files(estate) == sides
    assert _rows(again) == _rows(expected)


def test_the_review_reads_the_keys_from_the_side_files(estate, review_lists):
    """A side file emptied of its keys (and newer than its batch) hides that batch's software
    from the review: the keys come from the side files, not from a scan of the rows."""
    from kitvet.match.engine import DuckDBMatcher
    from kitvet.policy import load_profile
    from kitvet.store.lake import Lake

    policy = load_profile("default")
    lake = Lake(estate / "lake")
    DuckDBMatcher().match(lake, review_lists, policy)
    for p in _side_files(estate):
        pq.write_table(pq.read_table(p).slice(0, 0), p)
    got = DuckDBMatcher().match(lake, review_lists, policy)
    assert "software" not in set(got.column("item_type").to_pylist())
    assert "os" in set(got.column("item_type").to_pylist())  # hosts are still scanned


def test_a_side_file_older_than_its_batch_or_of_other_probes_is_made_again(estate,
                                                                            review_lists):
    from kitvet.match.engine import DuckDBMatcher
    from kitvet.policy import load_profile
    from kitvet.store.lake import Lake

    policy = load_profile("default")
    lake = Lake(estate / "lake")
    expected = _scanned(estate, review_lists, policy)
    DuckDBMatcher().match(lake, review_lists, policy)
    first = _side_files(estate)
    for p in first:  # emptied and older than the batch: stale
        pq.write_table(pq.read_table(p).slice(0, 0), p)
        os.utime(p, (1, 1))
    # a side file of other key expressions (another kitvet) is never read
    stray = first[0].with_name(first[0].name.split(".")[0] + ".0000000000000000.parquet")
    pq.write_table(pa.table({"probe": pa.array([], pa.string()),
                             "k": pa.array([], pa.string())}), stray)
    got = DuckDBMatcher().match(lake, review_lists, policy)
    assert _rows(got) == _rows(expected)
    assert all(pq.read_metadata(p).num_rows for p in first)
    assert not stray.exists()  # replaced by the side file of this kitvet's expressions


def test_a_lake_that_cannot_keep_side_files_is_scanned(estate, review_lists, monkeypatch):
    from kitvet.match.engine import DuckDBMatcher
    from kitvet.policy import load_profile
    from kitvet.store.lake import Lake

    policy = load_profile("default")
    expected = _scanned(estate, review_lists, policy)

    def refuse(self, table, dest):
        raise PermissionError(13, "read-only lake", str(dest))

    monkeypatch.setattr(Lake, "_write", refuse)
    got = DuckDBMatcher().match(Lake(estate / "lake"), review_lists, policy)
    assert not _side_files(estate)
    assert _rows(got) == _rows(expected)


def test_incremental_review_does_not_need_side_files(estate, review_lists):
    import json

    from kitvet.match.engine import DuckDBMatcher, match
    from kitvet.policy import load_profile
    from kitvet.store.lake import Lake

    policy = load_profile("default")
    changed = json.loads((estate / "estate.json").read_text())["changes"][0]["snapshot_ids"]
    con = duckdb.connect()
    names = Lake(estate / "lake").views(con, snapshot_ids=changed)
    expected = match(con, review_lists, policy, snapshot_ids=changed, files="files", **names)
    got = DuckDBMatcher().match(Lake(estate / "lake"), review_lists, policy,
                                snapshot_ids=changed)
    assert not _side_files(estate)
    assert _rows(got) == _rows(expected)


def test_side_files_go_with_their_batch(estate, review_lists):
    from kitvet.match.engine import DuckDBMatcher
    from kitvet.policy import load_profile
    from kitvet.store.lake import Lake

    lake = Lake(estate / "lake")
    DuckDBMatcher().match(lake, review_lists, load_profile("default"))
    sides = _side_files(estate)
    gone = sides[0].name.split(".")[0]
    lake.remove_batch(gone)
    assert _side_files(estate) == sides[1:]
    keep = {p.name.split(".")[0] for p in sides[2:]}
    lake.clean(keep, grace_s=0)
    assert _side_files(estate) == sides[2:]


def test_gated_versions_from_side_files_give_the_findings_of_the_scan(estate, review_lists,
                                                                      monkeypatch):
    """Every probe gated (:mod:`kitvet.match.gate`): the distinct versions it checks come from
    the side files, and the findings are those of the scan."""
    from kitvet.match import gate
    from kitvet.match.engine import DuckDBMatcher
    from kitvet.policy import load_profile
    from kitvet.store.lake import Lake

    monkeypatch.setattr(gate, "GATE_KEYS", 0)
    policy = load_profile("default")
    expected = _scanned(estate, review_lists, policy)
    seen = []
    real = gate.register_gate

    def spy(*args, **kwargs):
        got = real(*args, **kwargs)
        seen.append((kwargs.get("side"), len(got)))
        return got

    monkeypatch.setattr(gate, "register_gate", spy)
    got = DuckDBMatcher().match(Lake(estate / "lake"), review_lists, policy)
    assert any(side and n for side, n in seen), seen  # a gate read the side files and passed rows
    assert _rows(got) == _rows(expected)
    assert "software" in set(got.column("item_type").to_pylist())


def test_a_row_without_a_name_is_still_selected(tmp_path):
    """The row selection is narrowed to the names the side files give for the matched keys;
    a matched row with no name (a source that gave only a publisher) is never lost to it."""
    from kitvet.lists import bundled
    from kitvet.match.engine import DuckDBMatcher, match
    from kitvet.model import Host, Snapshot
    from kitvet.policy import load_profile
    from kitvet.store.lake import Lake

    s = Snapshot(host=Host(host_id="h1", hostname="h1", institution="P", platform="windows",
                           collected_at="2026-11-01T00:00:00Z", sources=("test",)))
    for i, (name, publisher) in enumerate([("Kaspersky Endpoint Security", "AO Kaspersky Lab"),
                                           (None, "AO Kaspersky Lab"),
                                           ("Notepad++", "Notepad++ Team")]):
        s.add_software(host_id="h1", source="test", location=f"test:{i}", name=name,
                       version="1.0", publisher=publisher, package_type="windows")
    lake = Lake(tmp_path / "lake")
    batch = lake.write_batch([("s1", s)])
    lake.write_current([{"host_id": "h1", "snapshot_id": "s1", "batch_id": batch}])
    lists, policy = bundled(), load_profile("default")
    con = duckdb.connect()
    expected = match(con, lists, policy, **Lake(tmp_path / "lake").views(con))
    assert sorted(expected.column("location").to_pylist()) == ["test:0", "test:1"]
    for _ in range(2):  # makes the side files, then reads them
        got = DuckDBMatcher().match(lake, lists, policy)
        assert _rows(got) == _rows(expected)
    assert _side_files(tmp_path)


def test_writers_make_the_side_files_of_their_batches(generated, tmp_path, review_lists):
    """The estate generator and an import make each batch's side file as they write it, the
    same file the first review would make, so that review does not pay for them."""
    from kitvet.estate import init_estate
    from kitvet.match.engine import DuckDBMatcher
    from kitvet.model import Host, Snapshot
    from kitvet.policy import load_profile
    from kitvet.store.lake import Lake

    made = {p.name: pq.read_table(p) for p in _side_files(generated)}
    batches = {p.stem for p in (generated / "lake" / "software").glob("*.parquet")}
    assert {n.split(".")[0] for n in made} == batches
    dest = tmp_path / "estate"
    shutil.copytree(generated, dest)
    shutil.rmtree(dest / "lake" / "keys")
    DuckDBMatcher().match(Lake(dest / "lake"), review_lists, load_profile("default"))
    assert {p.name: pq.read_table(p) for p in _side_files(dest)} == made

    s = Snapshot(host=Host(host_id="h1", hostname="h1", institution="P", platform="windows",
                           collected_at="2026-11-01T00:00:00Z", sources=("test",)))
    s.add_software(host_id="h1", source="test", location="test:0",
                   name="Kaspersky Endpoint Security", version="12.3",
                   publisher="AO Kaspersky Lab", package_type="windows")
    with init_estate(tmp_path / "imported", actor="test") as est:
        result = est.import_snapshots([s], actor="test")
    sides = _side_files(tmp_path / "imported")
    assert [p.name.split(".")[0] for p in sides] == [result.batch_id]
    assert ("publisher", "AO Kaspersky Lab") in {
        (r["probe"], r["k"]) for r in pq.read_table(sides[0]).to_pylist()}
