"""The bundled family list: built from the MISP galaxy, signed, and carrying its source."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kitvet.lists import SignatureError
from kitvet.lists.signing import default_key_locations
from kitvet.ransom.listfile import bundled, bundled_path, load


def test_bundled_list_is_signed_and_sourced() -> None:
    fl = bundled()
    assert fl.signed_by in {p.stem for p in default_key_locations()[0].glob("*.pub")}
    assert len(fl.families) == 2135 and fl.version == "172"
    [src] = fl.sources
    assert "CC0-1.0 OR BSD-2-Clause" in (src.licence or "")
    assert "041c6d0f3da384626c07b9220c1f6cef640ddf1a" in (src.url or "")


def test_one_byte_change_is_refused(tmp_path: Path) -> None:
    src = bundled_path()
    dst = tmp_path / src.name
    dst.write_bytes(src.read_bytes().replace(b'".lockbit"', b'".lockbot"', 1))
    shutil.copy(src.with_name(src.name + ".sig"), tmp_path)
    with pytest.raises(SignatureError, match="does not verify"):
        load(dst, trusted_keys=default_key_locations()[:1])
