"""Atomic writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import os
import stat

import pytest

from kitvet.util import atomic_path, atomic_write_bytes


def test_atomic_write_replaces_the_file_as_an_ordinary_file(tmp_path):
    target = tmp_path / "out" / "report.html"
    atomic_write_bytes(target, b"old")
    old = os.umask(0o022)
    try:
        atomic_write_bytes(target, b"new")
    finally:
        os.umask(old)
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # not mkstemp's 0600
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "batch.parquet"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["batch.parquet"]
    with atomic_path(target) as tmp:  # private unless told otherwise, as the lake's files are
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o600
