"""The compiled list cache: a list loads from it only while it is the list that was verified,
signed by a key still trusted."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from kitvet.bench.biglist import generate_list
from kitvet.lists import compiled as cache
from kitvet.lists import load_list, signing
from kitvet.lists.format import read_document
from kitvet.lists.signing import SignatureError


@pytest.fixture()
def cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keypair: tuple[Path, Path]):
    """(signed list of 300 subjects, public key folder, private key); every list is cached."""
    monkeypatch.setenv("KITVET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(cache, "MIN_BYTES", 0)
    priv, keys = keypair
    p = tmp_path / "big.json"
    generate_list(p, subjects=300)
    _sign(p, priv)
    return p, keys, priv


def _sign(p: Path, priv: Path) -> None:
    signing.write_signature(p, signing.sign_document(read_document(p),
                                                     signing.load_private_key(priv)))


def _entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "lists").glob("*.kvlc"))


def test_second_load_comes_from_the_cache_and_is_the_same_list(cached, tmp_path, monkeypatch):
    p, keys, _ = cached
    first = load_list(p, trusted_keys=[keys])
    [entry] = _entries(tmp_path)
    assert first.signed_by and oct(entry.stat().st_mode)[-3:] == "600"

    def no_full_load(*a, **k):
        raise AssertionError("parsed again")

    monkeypatch.setattr("kitvet.lists.loader.parse_text", no_full_load)
    again = load_list(p, trusted_keys=[keys])
    assert again == first and again.signed_by == first.signed_by
    s = again.subjects[7]
    assert s == first.subjects[7] and hash(s) == hash(first.subjects[7])
    assert s.identifiers[0].platforms == () and s.identifiers[0].verified is True  # defaults
    assert s.assertions[0].verified is False
    import dataclasses

    assert dataclasses.replace(s, name="x").identifiers == first.subjects[7].identifiers
    assert s.reaching(1).assertions == ()  # an entity-reach assertion reaches no affiliate
    assert "kvbench" in repr(s)


def test_touched_but_same_content_still_hits(cached, tmp_path, monkeypatch) -> None:
    p, keys, _ = cached
    first = load_list(p, trusted_keys=[keys])
    os.utime(p, (1, 1))
    monkeypatch.setattr("kitvet.lists.loader.parse_text", lambda *a, **k: 1 / 0)
    assert load_list(p, trusted_keys=[keys]) == first


def test_edited_list_is_loaded_in_full_and_refused(cached) -> None:
    p, keys, _ = cached
    load_list(p, trusted_keys=[keys])
    doc = json.loads(p.read_text())
    doc["subjects"][0]["name"] = "tampered"
    p.write_text(json.dumps(doc))
    with pytest.raises(SignatureError, match="does not verify"):
        load_list(p, trusted_keys=[keys])


def test_re_signed_list_gets_its_own_entry(cached, tmp_path) -> None:
    p, keys, priv = cached
    load_list(p, trusted_keys=[keys])
    doc = json.loads(p.read_text())
    doc["subjects"][0]["name"] = "renamed and re-signed"
    p.write_text(json.dumps(doc))
    _sign(p, priv)
    assert load_list(p, trusted_keys=[keys]).subjects[0].name == "renamed and re-signed"
    assert len(_entries(tmp_path)) == 2


def test_key_no_longer_trusted_is_refused_despite_the_cache(cached, tmp_path) -> None:
    p, keys, _ = cached
    load_list(p, trusted_keys=[keys])
    other = tmp_path / "other-keys"
    signing.generate_keypair(tmp_path / "other.pem", other)
    with pytest.raises(SignatureError, match="not trusted"):
        load_list(p, trusted_keys=[other])


def test_unsigned_list_is_cached_only_for_unsigned_loads(cached, tmp_path) -> None:
    p, keys, _ = cached
    signing.sig_path(p).unlink()
    assert load_list(p, allow_unsigned=True).signed_by is None
    assert len(_entries(tmp_path)) == 1
    with pytest.raises(SignatureError, match="unsigned"):
        load_list(p, trusted_keys=[keys])


def test_damaged_entry_is_said_and_the_list_loaded_in_full(cached, tmp_path, caplog) -> None:
    p, keys, _ = cached
    first = load_list(p, trusted_keys=[keys])
    [entry] = _entries(tmp_path)
    blob = bytearray(entry.read_bytes())
    blob[-10] ^= 0xFF
    entry.write_bytes(bytes(blob))
    with caplog.at_level(logging.WARNING):
        assert load_list(p, trusted_keys=[keys]) == first
    assert "does not match its digest" in caplog.text


def test_cache_can_be_turned_off(cached, tmp_path, monkeypatch) -> None:
    p, keys, _ = cached
    monkeypatch.setenv("KITVET_LIST_CACHE", "off")
    load_list(p, trusted_keys=[keys])
    assert _entries(tmp_path) == []
