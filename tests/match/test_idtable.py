"""Compiled identifiers of big lists: derived once beside the list's cache entry, matched by a
join in DuckDB; the findings are those of the plain path, key for key."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from kitvet.lists import compiled, load_list
from kitvet.lists.format import write_list
from kitvet.lists.osv_import import import_osv
from kitvet.match import engine, review_snapshots
from kitvet.match.probes import PROBES
from kitvet.model import Host, Identifier, RiskList, Snapshot, Subject
from kitvet.model.risk import ListSet

from .conftest import KindPolicy

OSV = Path(__file__).parents[1] / "lists" / "fixtures" / "osv"


def _spec() -> list[tuple[str, str]]:
    return [
        ("publisher", "AO Kaspersky Lab"), ("publisher", "Kaspersky Lab ZAO"),
        ("publisher", "Ｋａｓｐｅｒｓｋｙ Ｌａｂ"), ("package_name", "xz-utils"), ("package_name", "XZ"),
        ("package_name", "Kv_Stealer.Lib"), ("product_name", "3CX Desktop*"),
        ("product_name", "[Tt]eam Viewer"), ("process_name", "avp.exe"),
        ("usb_vendor_id", "0x19d2"), ("usb_product_id", "12d1:1446"),
        ("oui_org_name", "HUAWEI TECHNOLOGIES CO.,LTD"), ("sha256", "AB" * 32),
        ("sha1", "CD" * 20), ("md5", "ef" * 16),
        ("purl", "pkg:npm/%40kv-scope/connect-kit"), ("purl", "pkg:pypi/Kv_Stealer.Lib"),
        ("purl", "pkg:maven/org.kvexample/"), ("purl", "pkg:golang/github.com/kvb/x"),
        ("cpe", "cpe:2.3:a:kvvendor:kvproduct:"), ("cpe", "cpe:2.3:a:kvvendor:"),
        ("cpe", "cpe:2.3:a:kvother:thing:1.0:*:*:*:*:*:*:*"),
    ] + [("package_name", f"pkg-{n}") for n in range(40)] + [
        ("purl", f"pkg:npm/kvbench-{n}") for n in range(40)]


KEYS = {
    "publisher": ["AO Kaspersky Lab", "KASPERSKY LAB.", "kaspersky lab zao", "Other Co"],
    "oui_org": ["Huawei Technologies Co., Ltd.", "ZTE"],
    "name": [" xz-utils ", "XZ", "kv-stealer-lib", "3CX Desktop App", "team viewer", "pkg-7",
             "PKG-39", "pkg-40"],
    "process": [r"C:\\KES\\avp.exe", "avp.exe.bak"],
    "sha256": ["ab" * 32, "ab" * 31], "file_sha256": ["AB" * 32],
    "file_sha1": ["cd" * 20], "file_md5": ["EF" * 16, "ef" * 15],
    "usb_vendor": ["19d2", "0x19d2"], "usb_product": ["12d1:1446", "12d1:1001"],
    "purl": ["pkg:npm/@kv-scope/connect-kit@1.1.7", "pkg:npm/%40KV-scope/connect-kit@1.1.4",
             "pkg:pypi/kv-stealer-lib@0.0.1", "pkg:maven/org.kvexample/kv-logger@2.0.2",
             "pkg:golang/github.com/kvb/x@v1.0.0", "pkg:npm/kvbench-7@1.0.0",
             "pkg:npm/kvbench-77@1.0.0", "pkg:npm/other@1"],
    "cpe": ["cpe:2.3:a:kvvendor:kvproduct:2.0:*:*:*:*:*:*:*", "cpe:2.3:a:kvvendor:x:1:*:*:*:*:*:*:*",
            "cpe:2.3:a:kvother:thing:1.0:*:*:*:*:*:*:*", "cpe:2.3:a:nobody:x:1:*:*:*:*:*:*:*"],
}


def test_joined_matching_finds_what_asking_every_identifier_finds() -> None:
    subjects = tuple(Subject(id=f"s{n}", name=f"S{n}", identifiers=(Identifier(k, v),))
                     for n, (k, v) in enumerate(_spec()))
    idents = engine.compile_identifiers(ListSet((RiskList("t", "t", "1", "2024", subjects),)))
    con = duckdb.connect()
    joined = [p for p in PROBES if p.name in engine._EXACT_FORMS or p.name in engine._PREFIX_FORMS]
    assert {p.name for p in joined} >= set(KEYS)
    for probe in joined:
        keys = KEYS.get(probe.name, [])
        mine = [i for i in idents if i.kind in probe.kinds]
        got = sorted(engine._joined_key_matches(con, probe, keys, idents))
        want = sorted((probe.name, k, i.ident_id, why) for k in keys
                      for i, why in probe.matcher(k, mine))
        assert got == want, probe.name
        if probe.name in ("name", "purl", "cpe", "publisher", "file_md5"):
            assert want, probe.name  # the comparison is not between two empty lists


def _snapshots() -> list[Snapshot]:
    snap = Snapshot(host=Host(host_id="h1", platform="linux"))
    for name, version, purl in [
            ("kv-fsevents-demo", "1.2.10", "pkg:npm/kv-fsevents-demo@1.2.10"),
            ("kv-fsevents-demo", "1.2.11", "pkg:npm/kv-fsevents-demo@1.2.11"),
            ("connect-kit", "1.1.7", "pkg:npm/%40kv-scope/connect-kit@1.1.7"),
            ("kv-logger", "2.0.2", "pkg:maven/org.kvexample/kv-logger@2.0.2"),
            ("Kv_Stealer.Lib", "0.0.1", "pkg:pypi/kv-stealer.lib@0.0.1")]:
        snap.add_software(name=name, version=version, purl=purl,
                          package_type=purl[4:].split("/")[0])
    other = Snapshot(host=Host(host_id="h2", platform="linux"))
    other.add_software(name="kv-every", version="9.9.9", package_type="npm")
    return [snap, other]


@pytest.fixture
def osv_list(tmp_path: Path, monkeypatch) -> Path:
    """The OSV fixtures as a JSON list, and a list cache in tmp_path that caches any list."""
    monkeypatch.setenv("KITVET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(compiled, "MIN_BYTES", 0)
    doc, _ = import_osv(OSV)
    return write_list(doc, tmp_path / "osv.json")


def _rows(lists: ListSet) -> list[tuple]:
    got = review_snapshots(_snapshots(), lists, KindPolicy()).findings.to_pylist()
    return sorted((r["host_id"], r["name"], r["version"], r["subject_id"], r["status"],
                   r["matched"], r["explanation"]) for r in got)


def test_a_cached_list_reviews_as_the_list_itself(osv_list: Path, monkeypatch, caplog) -> None:
    monkeypatch.setenv("KITVET_LIST_CACHE", "off")
    plain = load_list(osv_list, allow_unsigned=True)
    assert plain.cache_key is None
    want = _rows(ListSet((plain,)))
    assert {(r[1], r[2]) for r in want} == {("kv-fsevents-demo", "1.2.10"),
                                             ("connect-kit", "1.1.7"), ("kv-logger", "2.0.2"),
                                             ("Kv_Stealer.Lib", "0.0.1"), ("kv-every", "9.9.9")}
    monkeypatch.delenv("KITVET_LIST_CACHE")
    monkeypatch.setattr(engine, "_JOIN_MIN", 1)  # every indexed probe joins in DuckDB
    load_list(osv_list, allow_unsigned=True)  # full load: the cache entry is written
    cached = load_list(osv_list, allow_unsigned=True)
    assert cached.cache_key and cached == plain
    assert _rows(ListSet((cached,))) == want
    [derived] = (Path(compiled.cache_dir()) / f"{cached.cache_key}.idents-x").parent.glob(
        f"{cached.cache_key}.idents-*.arrow")
    # the second review reads the derived identifiers; a damaged file is derived again
    assert _rows(ListSet((cached,))) == want
    derived.write_bytes(derived.read_bytes()[:100])
    assert _rows(ListSet((cached,))) == want
    assert "deriving it again" in caplog.text
    assert len(derived.read_bytes()) > 100


def test_compiled_identifiers_of_a_cached_list_are_those_of_the_list(osv_list: Path) -> None:
    load_list(osv_list, allow_unsigned=True)
    cached = load_list(osv_list, allow_unsigned=True)
    plain = RiskList(cached.name, cached.publisher, cached.version, cached.date,
                     subjects=tuple(Subject(**{f: getattr(s, f) for f in (
                         "id", "name", "kind", "aliases", "identifiers", "assertions")})
                         for s in cached.subjects))
    fast = engine.compile_identifiers(ListSet((cached,)), graph=None)
    slow = engine.compile_identifiers(ListSet((plain,)), graph=None)
    assert list(fast) == list(slow) and len(fast) == len(slow) == 20
    assert fast[-1] == slow[-1] and fast[3:5] == slow[3:5]
