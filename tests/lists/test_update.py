"""``kitvet lists update`` against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kitvet.errors import ListError
from kitvet.lists import load_lists, signing
from kitvet.lists.cache import cached_lists
from kitvet.lists.format import read_document
from kitvet.lists.update import ListSource, read_config, update_lists

FIXTURES = Path(__file__).parent / "fixtures"


def _publish(root: Path, priv: Path, text: str) -> None:
    p = root / "small.yaml"
    p.write_text(text)
    signing.write_signature(p, signing.sign_document(read_document(p),
                                                     signing.load_private_key(priv)))


def test_update_fetches_verifies_and_uses_conditional_requests(server, store, keypair) -> None:
    base, root, log = server
    priv, keys = keypair
    _publish(root, priv, (FIXTURES / "small.yaml").read_text())
    src = ListSource(f"{base}/small.yaml")
    [r] = update_lists([src], store=store, trusted_keys=[keys])
    assert r.status == "updated" and r.path and r.path.is_file(), r.message
    assert cached_lists(store) == [r.path]
    # second run: conditional request, 304, nothing re-downloaded
    [r2] = update_lists([src], store=store, trusted_keys=[keys])
    assert r2.status == "unchanged" and r2.path == r.path
    assert log[-1][2].get("If-None-Match") and "If-Modified-Since" in log[-1][2]
    # the fetched list is in force beside the bundled ones
    names = [rl.name for rl in load_lists([], trusted_keys=[keys, *signing.default_key_locations()[:1]]).lists]
    assert names == ["kitvet-core", "test-small"]


def test_half_failed_update_keeps_last_good_copy(server, store, keypair) -> None:
    base, root, _ = server
    priv, keys = keypair
    text = (FIXTURES / "small.yaml").read_text()
    _publish(root, priv, text)
    src = ListSource(f"{base}/small.yaml")
    [good] = update_lists([src], store=store, trusted_keys=[keys])
    good_bytes = good.path.read_bytes()
    # the server now serves a changed list with the OLD signature (tampered or half-published)
    (root / "small.yaml").write_text(text.replace('version: "1"', 'version: "2"'))
    [bad] = update_lists([src], store=store, trusted_keys=[keys])
    assert bad.status == "failed" and "does not verify" in bad.message
    assert "keeping last good copy" in bad.message
    assert cached_lists(store) == [good.path] and good.path.read_bytes() == good_bytes
    assert not list(store.glob(".fetch-*"))  # no half-written leftovers
    # signature missing entirely: also refused, old copy kept
    (root / "small.yaml.sig").unlink()
    [bad2] = update_lists([src], store=store, trusted_keys=[keys])
    assert bad2.status == "failed" and "HTTP 404" in bad2.message
    assert cached_lists(store) == [good.path]
    # a properly re-signed new version replaces it
    _publish(root, priv, text.replace('version: "1"', 'version: "2"'))
    [new] = update_lists([src], store=store, trusted_keys=[keys])
    assert new.status == "updated" and new.path != good.path and not good.path.exists()


def test_offline_uses_last_good_copy(server, store, keypair) -> None:
    base, root, _ = server
    priv, keys = keypair
    _publish(root, priv, (FIXTURES / "small.yaml").read_text())
    [good] = update_lists([ListSource(f"{base}/small.yaml")], store=store, trusted_keys=[keys])
    shutil.rmtree(root)  # server has nothing now; a dead port is the same for the client
    [r] = update_lists([ListSource("http://127.0.0.1:9/small.yaml")], store=store,
                       trusted_keys=[keys], timeout=2)
    assert r.status == "failed" and "no copy yet" in r.message
    assert cached_lists(store) == [good.path]


def test_unsigned_list_needs_allow_unsigned(server, store, keypair) -> None:
    base, root, _ = server
    _, keys = keypair
    shutil.copy(FIXTURES / "small.yaml", root / "small.yaml")
    src = ListSource(f"{base}/small.yaml")
    [r] = update_lists([src], store=store, trusted_keys=[keys])
    assert r.status == "failed" and cached_lists(store) == []
    [r] = update_lists([src], store=store, trusted_keys=[keys], allow_unsigned=True)
    assert r.status == "updated" and "UNSIGNED" in r.message


def test_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "lists.toml"
    cfg.write_text('[[list]]\nurl = "https://cert.example.org/l.yaml"\n')
    assert read_config(cfg) == [ListSource("https://cert.example.org/l.yaml")]
    cfg.write_text('[[list]]\nurl = "file:///etc/passwd"\n')
    with pytest.raises(ListError, match=r"lists\.toml: list\[0\]\.url: only https"):
        read_config(cfg)
    assert read_config(tmp_path / "missing.toml") == []


def test_cli_update(server, store, keypair, monkeypatch, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kitvet.cli import main

    base, root, _ = server
    priv, keys = keypair
    _publish(root, priv, (FIXTURES / "small.yaml").read_text())
    monkeypatch.setenv("KITVET_TRUSTED_KEYS", str(keys))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("KITVET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr("kitvet.lists.compiled.MIN_BYTES", 0)  # cached however small
    runner = CliRunner()
    r = runner.invoke(main, ["lists", "update", "--url", f"{base}/small.yaml"])
    assert r.exit_code == 0 and "updated" in r.output, r.output
    # compiled for review with the update, not by the first review after it
    assert list((tmp_path / "cache" / "lists").glob("*.idents-*.arrow"))
    cfg = tmp_path / "cfg" / "kitvet" / "lists.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(f'[[list]]\nurl = "{base}/small.yaml"\n\n[[list]]\nurl = "{base}/gone.yaml"\n')
    r = runner.invoke(main, ["lists", "update"])
    assert r.exit_code == 2
    assert "unchanged" in r.output and "failed" in r.output and "404" in r.output


def test_export_uses_a_fetched_kitvet_core_over_the_bundled_one(server, store, keypair,
                                                                 monkeypatch) -> None:
    from click.testing import CliRunner

    from kitvet.cli import main

    base, root, _ = server
    priv, keys = keypair
    newer = (FIXTURES / "small.yaml").read_text().replace(
        "name: test-small", "name: kitvet-core").replace("\ndate: 2024-04-01", "\ndate: 2099-01-01")
    assert "name: kitvet-core" in newer and "2099-01-01" in newer
    _publish(root, priv, newer)
    update_lists([ListSource(f"{base}/small.yaml")], store=store, trusted_keys=[keys])
    monkeypatch.setenv("KITVET_TRUSTED_KEYS", str(keys))
    r = CliRunner().invoke(main, ["lists", "export", "--format", "stix", "-o", "-"])
    assert r.exit_code == 0, r.output
    import json

    ids = {o["x_kitvet_subject"]["id"] for o in json.loads(r.stdout)["objects"]
           if o["type"] == "indicator"}
    assert "example-vendor" in ids and "kaspersky-lab" not in ids  # the fetched list


def test_an_older_signed_list_is_refused_as_a_rollback(server, store, keypair) -> None:
    base, root, _ = server
    priv, keys = keypair
    text = (FIXTURES / "small.yaml").read_text()
    _publish(root, priv, text.replace('version: "1"', 'version: "2"'))
    src = ListSource(f"{base}/small.yaml")
    [good] = update_lists([src], store=store, trusted_keys=[keys])
    # a mirror replays an older release, validly signed by the same key
    _publish(root, priv, text.replace("\ndate: 2024-04-01", "\ndate: 2024-01-01"))
    [old] = update_lists([src], store=store, trusted_keys=[keys])
    assert old.status == "failed" and "refused as a rollback" in old.message
    assert "2024-01-01" in old.message and "keeping last good copy" in old.message
    assert cached_lists(store) == [good.path]


def test_a_stale_fetched_kitvet_core_does_not_replace_a_newer_bundled_one(
        server, store, keypair, caplog) -> None:
    base, root, _ = server
    priv, keys = keypair
    stale = (FIXTURES / "small.yaml").read_text().replace("name: test-small", "name: kitvet-core")
    _publish(root, priv, stale)  # dated 2024-04-01, before the bundled kitvet-core
    update_lists([ListSource(f"{base}/small.yaml")], store=store, trusted_keys=[keys])
    ls = load_lists([], trusted_keys=[keys, *signing.default_key_locations()[:1]])
    [core] = ls.lists
    assert core.subject("kaspersky-lab") is not None  # the bundled list stays in force
    assert "older than the bundled" in caplog.text
