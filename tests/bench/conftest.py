from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def small_estate(tmp_path_factory):
    """A 300-host generated estate (seed 17: six listed hosts on Windows, Debian and macOS),
    shared by the bench tests; do not modify."""
    from kitvet.bench.writer import generate

    root = tmp_path_factory.mktemp("bench") / "estate"
    manifest = generate(root, 300, seed=17, batch_hosts=120)
    return root, manifest
