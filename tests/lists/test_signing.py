"""Signatures: unsigned and tampered lists are refused unless explicitly allowed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kitvet.lists import SignatureError, load_list
from kitvet.lists.signing import sig_path


def test_signed_list_verifies_with_its_key(signed_small: Path, keypair) -> None:
    _, keys = keypair
    rl = load_list(signed_small, trusted_keys=[keys])
    assert rl.signed_by == next(keys.glob("*.pub")).stem


def test_unsigned_list_refused_unless_allowed(tmp_path: Path) -> None:
    p = tmp_path / "u.yaml"
    p.write_bytes((Path(__file__).parent / "fixtures" / "small.yaml").read_bytes())
    with pytest.raises(SignatureError, match=r"u\.yaml: list is unsigned .*--allow-unsigned"):
        load_list(p)
    assert load_list(p, allow_unsigned=True).signed_by is None


def test_untrusted_key_is_refused(signed_small: Path, tmp_path: Path) -> None:
    with pytest.raises(SignatureError, match="not trusted"):
        load_list(signed_small, trusted_keys=[tmp_path / "nowhere"])


def test_signature_over_different_bytes_is_refused(signed_small: Path, keypair) -> None:
    _, keys = keypair
    text = signed_small.read_text().replace("Example warning 1/2024", "Example warning 1/2025")
    signed_small.write_text(text)
    with pytest.raises(SignatureError, match=r"small\.yaml: signature by key \w+ does not verify"):
        load_list(signed_small, trusted_keys=[keys])
    # an explicit --allow-unsigned accepts it, but it no longer counts as signed
    rl = load_list(signed_small, trusted_keys=[keys], allow_unsigned=True)
    assert rl.signed_by is None


def test_comments_and_layout_are_not_signed(signed_small: Path, keypair) -> None:
    _, keys = keypair
    signed_small.write_text("# a new comment\n" + signed_small.read_text())
    assert load_list(signed_small, trusted_keys=[keys]).signed_by


def test_corrupt_signature_file_names_the_field(signed_small: Path, keypair) -> None:
    _, keys = keypair
    sp = sig_path(signed_small)
    sig = json.loads(sp.read_text())
    sig["signature"] = "***"
    sp.write_text(json.dumps(sig))
    with pytest.raises(SignatureError, match=r"small\.yaml\.sig: signature: .*base64"):
        load_list(signed_small, trusted_keys=[keys])
    sp.write_text("not json")
    with pytest.raises(SignatureError, match="not a JSON signature file"):
        load_list(signed_small, trusted_keys=[keys])


def test_trusted_keys_from_environment(signed_small: Path, keypair, monkeypatch) -> None:
    _, keys = keypair
    monkeypatch.setenv("KITVET_TRUSTED_KEYS", str(keys))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(signed_small.parent / "cfg"))
    assert load_list(signed_small).signed_by
    monkeypatch.setenv("KITVET_TRUSTED_KEYS", "")
    with pytest.raises(SignatureError, match="not trusted"):
        load_list(signed_small)
