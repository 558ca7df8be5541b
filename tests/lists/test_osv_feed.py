"""``kitvet lists update`` following an OSV feed (an ecosystem's all.zip) served by a real HTTP
server on 127.0.0.1: kept as a list in force, conditional requests, what each update added,
withdrew and changed, the last good copy kept when an update fails."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from kitvet.cli import main
from kitvet.errors import ListError
from kitvet.lists import load_lists
from kitvet.lists.cache import cached_lists
from kitvet.lists.osv_feed import OsvFeed, check_feed_url
from kitvet.lists.update import ListSource, read_config, update_lists

NPM = Path(__file__).parent / "fixtures" / "osv" / "npm"


def _record(rid: str) -> dict:
    return json.loads((NPM / f"{rid}.json").read_text())


def _publish(root: Path, records: list[dict]) -> None:
    """An all.zip as osv.dev publishes it: one ``<id>.json`` per record."""
    (root / "npm").mkdir(exist_ok=True)
    with zipfile.ZipFile(root / "npm" / "all.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for rec in records:
            zf.writestr(f"{rec['id']}.json", json.dumps(rec))


def _first_feed() -> list[dict]:
    return [_record(r) for r in ("MAL-2099-101", "MAL-2099-102", "MAL-2099-103",
                                 "MAL-2099-105")]


def _next_feed() -> list[dict]:
    """Upstream a day later: 101 withdrawn, 102 gains a version, 103 gone, 104 new."""
    first, second, _, withdrawn, = _first_feed()
    first["withdrawn"] = first["modified"] = "2024-06-01T00:00:00Z"
    second["modified"] = "2024-06-01T00:00:00Z"
    second["affected"][0]["versions"] = ["9.9.9"]
    return [first, second, _record("MAL-2099-104"), withdrawn]


def _bom(tmp_path: Path) -> Path:
    comps = [("kv-fsevents-demo", "1.2.10"), ("kv-fsevents-demo", "1.2.11"),
             ("kv-two-ranges", "2.0.1")]
    p = tmp_path / "bom.cdx.json"
    p.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
                             "components": [{"type": "library", "name": n, "version": v,
                                             "purl": f"pkg:npm/{n}@{v}"} for n, v in comps]}))
    return p


def test_feed_becomes_a_list_in_force_and_is_fetched_conditionally(server, store) -> None:
    base, root, log = server
    _publish(root, _first_feed())
    feed = OsvFeed(f"{base}/npm/all.zip")
    [r] = update_lists([feed], store=store)
    assert r.status == "updated", r.message
    assert "osv-malicious-npm 2024-03-05T12:00:00Z, 3 subjects" in r.message
    assert "3 added, 0 withdrawn, 0 changed, 0 removed" in r.message
    assert "4 records read: 3 imported" in r.message and "1 withdrawn" in r.message
    assert r.details == ("+ added: MAL-2099-101, MAL-2099-102, MAL-2099-103",)
    assert cached_lists(store) == [r.path] and r.path.suffix == ".json"
    # in force for every command, without --allow-unsigned (kitvet wrote it from the feed)
    [rl] = [x for x in load_lists([]).lists if x.name == "osv-malicious-npm"]
    assert rl.signed_by is None and {s.id for s in rl.subjects} == {
        "mal-2099-101", "mal-2099-102", "mal-2099-103"}
    # second run: a conditional request, 304, nothing re-imported
    [r2] = update_lists([feed], store=store)
    assert r2.status == "unchanged" and r2.path == r.path and r2.details == ()
    assert log[-1][2].get("If-None-Match") and "If-Modified-Since" in log[-1][2]


def test_update_names_added_withdrawn_changed_and_removed_records(server, store) -> None:
    base, root, _ = server
    _publish(root, _first_feed())
    feed = OsvFeed(f"{base}/npm/all.zip")
    [first] = update_lists([feed], store=store)
    _publish(root, _next_feed())
    [r] = update_lists([feed], store=store)
    assert r.status == "updated", r.message
    assert "1 added, 1 withdrawn, 1 changed, 1 removed" in r.message
    assert r.details == ("+ added: MAL-2099-104", "- withdrawn: MAL-2099-101",
                         "~ changed: MAL-2099-102", "- removed: MAL-2099-103")
    [rl] = [x for x in load_lists([]).lists if x.name == "osv-malicious-npm"]
    assert {s.id for s in rl.subjects} == {"mal-2099-102", "mal-2099-104"}
    assert cached_lists(store) == [r.path] and not first.path.exists()  # old copy pruned


def test_a_failed_update_keeps_the_last_good_copy(server, store) -> None:
    base, root, _ = server
    _publish(root, _next_feed())
    feed = OsvFeed(f"{base}/npm/all.zip")
    [good] = update_lists([feed], store=store)
    good_bytes = good.path.read_bytes()
    # a stale mirror serves the older feed: the withdrawn record would come back
    _publish(root, _first_feed())
    [old] = update_lists([feed], store=store)
    assert old.status == "failed" and "refused as a rollback" in old.message
    assert "keeping last good copy" in old.message
    # an error page instead of the zip
    (root / "npm" / "all.zip").write_text("<html>Service Unavailable</html>")
    [bad] = update_lists([feed], store=store)
    assert bad.status == "failed" and "no OSV record could be read" in bad.message
    assert "not JSON" in bad.message
    # gone
    (root / "npm" / "all.zip").unlink()
    [gone] = update_lists([feed], store=store)
    assert gone.status == "failed" and "404" in gone.message
    assert cached_lists(store) == [good.path] and good.path.read_bytes() == good_bytes
    assert not list(store.glob(".fetch-*"))


def test_feed_urls_and_configuration(tmp_path: Path) -> None:
    with pytest.raises(ListError, match="only https://"):
        check_feed_url("http://osv.example.org/npm/all.zip")  # unsigned over plain HTTP
    with pytest.raises(ListError, match="only https://"):
        check_feed_url("file:///tmp/all.zip")
    check_feed_url("https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip")
    check_feed_url("http://127.0.0.1:8080/npm/all.zip")  # a local mirror
    cfg = tmp_path / "lists.toml"
    cfg.write_text('[[list]]\nurl = "https://cert.example.org/l.yaml"\n\n'
                   '[[osv]]\nurl = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/'
                   'all.zip"\n\n[[osv]]\nurl = "https://mirror.example.org/maven.zip"\n'
                   'name = "maven-vulns"\nvulnerabilities = true\n')
    lst, pypi, maven = read_config(cfg)
    assert lst == ListSource("https://cert.example.org/l.yaml")
    assert pypi.list_name == "osv-malicious-pypi"
    assert maven == OsvFeed("https://mirror.example.org/maven.zip", name="maven-vulns",
                            vulnerabilities=True) and maven.list_name == "maven-vulns"
    assert OsvFeed("https://x.example.org/go.zip", vulnerabilities=True).list_name == \
        "osv-vulnerabilities-go"
    cfg.write_text('[[osv]]\nurl = "http://osv.example.org/all.zip"\n')
    with pytest.raises(ListError, match=r"osv\[0\]\.url: an OSV feed is unsigned"):
        read_config(cfg)
    cfg.write_text('[[osv]]\nurl = "https://osv.example.org/all.zip"\nname = "Bad Name"\n')
    with pytest.raises(ListError, match=r"osv\[0\]\.name"):
        read_config(cfg)


def test_cli_update_then_review_bans_and_a_withdrawal_clears(server, store, tmp_path) -> None:
    base, root, _ = server
    _publish(root, _first_feed())
    runner = CliRunner()

    def review() -> set[tuple[str, str, str]]:
        r = runner.invoke(main, ["review", str(_bom(tmp_path)), "--format", "json", "--no-eol"])
        assert r.exit_code in (0, 1), r.output
        doc = json.loads(r.stdout[r.stdout.index("{"):])
        return {(f["name"], f["version"], f["status"]) for f in doc["findings"]}

    r = runner.invoke(main, ["lists", "update", "--osv", f"{base}/npm/all.zip"])
    assert r.exit_code == 0, r.output
    assert "updated" in r.output and "+ added: MAL-2099-101, MAL-2099-102" in r.output
    assert review() == {("kv-fsevents-demo", "1.2.10", "ban")}  # 1.2.11 is fixed
    _publish(root, _next_feed())
    r = runner.invoke(main, ["lists", "update", "--osv", f"{base}/npm/all.zip"])
    assert r.exit_code == 0 and "- withdrawn: MAL-2099-101" in r.output, r.output
    assert review() == {("kv-two-ranges", "2.0.1", "ban")}
    r = runner.invoke(main, ["lists", "update", "--osv", "http://osv.example.org/all.zip"])
    assert r.exit_code == 2 and "only https://" in r.output


def test_a_malformed_record_is_named_and_the_others_import(server, store, caplog) -> None:
    base, root, _ = server
    bad = json.loads((NPM.parent / "bad" / "MAL-2099-901.json").read_text())
    _publish(root, [_record("MAL-2099-101"), bad])
    [r] = update_lists([OsvFeed(f"{base}/npm/all.zip")], store=store)
    assert r.status == "updated" and "1 imported, 1 malformed" in r.message, r.message
    assert "skipped all.zip:MAL-2099-901.json: affected[0].ranges[0].events[1]" in caplog.text
