"""Shared helpers of the list tests: a throw-away signing key and a signed copy of a fixture."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kitvet.lists import signing
from kitvet.lists.format import read_document

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture()
def keypair(tmp_path: Path) -> tuple[Path, Path]:
    """(private key path, directory holding the matching public key)."""
    keys = tmp_path / "keys"
    priv = tmp_path / "private.pem"
    signing.generate_keypair(priv, keys)
    return priv, keys


@pytest.fixture()
def signed_small(tmp_path: Path, keypair: tuple[Path, Path]) -> Path:
    """A signed copy of fixtures/small.yaml in tmp_path."""
    priv, _ = keypair
    dst = tmp_path / "small.yaml"
    shutil.copy(FIXTURES / "small.yaml", dst)
    sig = signing.sign_document(read_document(dst), signing.load_private_key(priv))
    signing.write_signature(dst, sig)
    return dst
