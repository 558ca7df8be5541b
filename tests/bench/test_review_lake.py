"""A generated lake reviews as expected: findings on listed hosts only, decoys clear,
incremental review equal to the full one for the changed hosts, exports that import."""

from __future__ import annotations

import shutil

import duckdb
import pyarrow.parquet as pq
import pytest

from kitvet.bench.estate import plan_hosts
from kitvet.lists import bundled
from kitvet.match.engine import match
from kitvet.policy import load_profile
from kitvet.store.lake import Lake


@pytest.fixture(scope="module")
def lists_policy():
    return bundled(), load_profile("default")


def _review(lake, lists_policy, **kw):
    con = duckdb.connect()
    names = Lake(lake).views(con, **kw)
    return match(con, *lists_policy, snapshot_ids=kw.get("snapshot_ids"), **names)


def test_findings_fall_on_listed_hosts_and_never_on_decoys(small_estate, lists_policy):
    root, manifest = small_estate
    findings = _review(root / "lake", lists_policy)
    plan = plan_hosts(manifest["hosts"], manifest["seed"])
    listed = {h for h, f in zip(plan.host_id, plan.listed, strict=False) if f}
    hosts = set(findings.column("host_id").to_pylist())
    assert hosts and hosts <= listed
    # every listed host carries at least one listed software item, so each has a finding
    assert hosts == listed
    versions = set(findings.column("version").to_pylist())
    assert "5.6.1+really5.4.5-1" not in versions
    xz = [r for r in findings.to_pylist() if r["subject_id"].startswith("xz")]
    assert all(r["status"] == "ban" for r in xz)


def test_lake_views_hold_exactly_the_current_snapshots(small_estate, lists_policy, tmp_path):
    from kitvet.bench.writer import apply_change

    root = tmp_path / "estate"
    shutil.copytree(small_estate[0], root)
    apply_change(root, fraction=0.1)  # now some batches are only partly current
    con = duckdb.connect()
    names = Lake(root / "lake").views(con)
    lake = root / "lake"
    for kind in ("software", "devices", "hosts"):  # the plain semi-join of every batch file
        naive = con.execute(
            f"SELECT count(*), count(DISTINCT snapshot_id) FROM read_parquet('{lake}/{kind}/*.parquet', "
            f"union_by_name=true) t SEMI JOIN read_parquet('{lake}/current.parquet') c "
            "ON t.snapshot_id = c.snapshot_id AND t.batch_id = c.batch_id").fetchall()
        ours = con.execute(f"SELECT count(*), count(DISTINCT snapshot_id) FROM {names[kind]}"
                           ).fetchall()
        assert ours == naive and naive[0][0] > 0, kind
    hosts = con.execute(f"SELECT count(*) FROM {names['hosts']}").fetchall()[0][0]
    assert hosts == small_estate[1]["hosts"]


def test_incremental_review_equals_the_full_review_of_changed_hosts(small_estate,
                                                                    lists_policy, tmp_path):
    from kitvet.bench.writer import apply_change

    root = tmp_path / "estate"
    shutil.copytree(small_estate[0], root)
    change = apply_change(root, fraction=0.2)
    full = _review(root / "lake", lists_policy).to_pylist()
    part = _review(root / "lake", lists_policy, snapshot_ids=change["snapshot_ids"])
    cur = pq.read_table(root / "lake" / "current.parquet").to_pydict()
    changed_hosts = {h for h, s in zip(cur["host_id"], cur["snapshot_id"], strict=False)
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


def test_mac_shortcuts_find_what_asking_every_key_finds(lists_policy):
    """The MAC-prefix SQL prefilter and the per-prefix registry look-up lose no match."""
    import random

    import pyarrow as pa

    from kitvet.match import engine
    from kitvet.match.probes import PROBES
    from kitvet.model.schema import DEVICE_SCHEMA, SOFTWARE_SCHEMA

    idents = engine.compile_identifiers(lists_policy[0])
    prefixes = [i.key for i in idents if i.kind == "mac_prefix"]
    assert prefixes
    rng = random.Random(4)
    macs = []
    for n in range(3000):
        base = rng.choice(prefixes) if n % 10 == 0 else f"{rng.getrandbits(24):06x}"
        full = (base + f"{rng.getrandbits(48):012x}")[:12]
        mac = ":".join(full[i:i + 2] for i in range(0, 12, 2))
        macs.append(mac.upper() if n % 3 == 0 else mac)
    macs += ["44-19-B6-00-00-01", "bc5e.3300.0001", "not a mac", "44:19:b6"]
    rows = [{"host_id": "h", "bus": "network", "mac": m} for m in macs]
    con = duckdb.connect()
    con.register("devices", pa.Table.from_pylist(rows, schema=DEVICE_SCHEMA))
    con.register("software", SOFTWARE_SCHEMA.empty_table())
    got = set(engine._distinct_key_matches(con, idents, {"software": "software",
                                                                  "devices": "devices"}))
    want = set()
    for p in PROBES:
        if p.table != "devices":
            continue
        mine = [i for i in idents if i.kind in p.kinds]
        keys = con.execute(f"SELECT DISTINCT {p.key_sql} FROM devices WHERE {p.where_sql} "
                           f"AND {p.key_sql} IS NOT NULL AND {p.key_sql} <> ''").fetchall()
        want |= {(p.name, k, i.ident_id, why) for (k,) in keys for i, why in p.matcher(k, mine)}
    assert got == want
    assert any(r[0] == "mac" for r in got)



def test_indexed_key_matching_equals_asking_every_identifier():
    """Long lists: offering each key only its indexed identifiers loses no match."""
    from kitvet.match import engine
    from kitvet.match.probes import PROBES
    from kitvet.model import Identifier, RiskList, Subject
    from kitvet.model.risk import ListSet

    idents_spec = [
        ("publisher", "AO Kaspersky Lab"), ("publisher", "Kaspersky Lab ZAO"),
        ("publisher", "O'Reilly Media, Inc."), ("publisher", "Ｋａｓｐｅｒｓｋｙ Ｌａｂ"),
        ("package_name", "xz-utils"), ("package_name", "XZ"), ("product_name", "3CX Desktop*"),
        ("product_name", "Foo?Bar"), ("product_name", "[Tt]eam Viewer"),
        ("process_name", "avp.exe"), ("process_name", "AVPUI.EXE"),
        ("usb_vendor_id", "12D1"), ("usb_vendor_id", "0x19d2"), ("pci_vendor_id", "19e5"),
        ("usb_product_id", "12d1:1446"), ("oui_org_name", "HUAWEI TECHNOLOGIES CO.,LTD"),
        ("sha256", "AB" * 32),
    ] + [("package_name", f"pkg-{n}") for n in range(40)] + \
        [("publisher", f"Vendor {n} GmbH") for n in range(40)]
    subjects = tuple(Subject(id=f"s{n}", name=f"S{n}", identifiers=(Identifier(k, v),))
                     for n, (k, v) in enumerate(idents_spec))
    idents = engine.compile_identifiers(ListSet((RiskList("t", "t", "1", "2024", subjects),)))
    keys = {
        "publisher": ["AO Kaspersky Lab", "KASPERSKY LAB.", "kaspersky lab zao", "Vendor 3 Ltd",
                      "O'Reilly Media", "Kaspersky Lab", "", "Other Co"],
        "oui_org": ["Huawei Technologies Co., Ltd.", "HUAWEI TECHNOLOGIES CO.,LTD", "ZTE"],
        "name": [" xz-utils ", "XZ-UTILS", "xz", "3CX Desktop App", "3cx desktop app 18",
                 "FooXBar", "team viewer", "Team Viewer", "pkg-7", "PKG-39", "pkg-40"],
        "process": [r"C:\\KES\\avp.exe", "/opt/avpui.exe", "avp.exe.bak", r"C:\\x\\AVP.EXE"],
        "sha256": ["ab" * 32, "AB" * 32, "ab" * 31],
        "usb_vendor": ["12d1", "19d2", "0x19d2"], "pci_vendor": ["19e5", "12d1"],
        "usb_product": ["12d1:1446", "12d1:1001"],
    }
    for probe in PROBES:
        if probe.name not in keys:
            continue
        mine = [i for i in idents if i.kind in probe.kinds]
        fast = sorted(engine._each_key(probe, keys[probe.name], mine))
        slow = sorted((probe.name, k, i.ident_id, why) for k in keys[probe.name]
                      for i, why in probe.matcher(k, mine))
        assert fast == slow, probe.name
        if probe.name in ("publisher", "name"):
            assert len(mine) >= 8 and slow


def test_lake_views_of_an_empty_lake_are_empty(tmp_path, lists_policy):
    con = duckdb.connect()
    names = Lake(tmp_path / "lake").views(con)
    assert con.execute(f"SELECT count(*) FROM {names['software']}").fetchall() == [(0,)]
    assert match(con, *lists_policy, **names).num_rows == 0


def test_lake_views_never_open_batches_nothing_points_at(small_estate, tmp_path, lists_policy):
    root = tmp_path / "estate"
    shutil.copytree(small_estate[0], root)
    orphan = root / "lake" / "software" / "orphan-batch.parquet"
    orphan.write_bytes(b"not parquet: an import killed half-way")
    con = duckdb.connect()
    names = Lake(root / "lake").views(con)
    rows = con.execute(f"SELECT count(*) FROM {names['software']}").fetchall()[0][0]
    assert rows == small_estate[1]["software_rows"]
