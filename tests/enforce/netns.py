"""Network namespaces the nftables tests create (and delete): the real kernel, nothing shared
with the machine. ``ip netns add`` needs root; where namespaces cannot be created the tests
skip, except in CI (``CI=true``), where that is a failure."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

IP = shutil.which("ip")
NFT = shutil.which("nft")
_seq = itertools.count()


def run(*args: str, ns: str | None = None, check: bool = True,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [IP, "netns", "exec", ns, *args] if ns else list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, input=stdin, timeout=60,
                       check=False)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)}: {r.stderr or r.stdout}")
    return r


def _unavailable(why: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"network namespaces are needed in CI: {why}")
    pytest.skip(why)


@contextmanager
def netns(count: int = 1) -> Iterator[list[str]]:
    """``count`` fresh network namespaces, deleted afterwards."""
    if IP is None or NFT is None:
        _unavailable("ip (iproute2) or nft (nftables) not installed")
    names = [f"kitvet-t{os.getpid()}-{next(_seq)}" for _ in range(count)]
    made: list[str] = []
    try:
        for n in names:
            r = subprocess.run([IP, "netns", "add", n], capture_output=True, text=True,
                               timeout=30, check=False)
            if r.returncode != 0:
                _unavailable(f"cannot create a network namespace: {r.stderr.strip()}")
            made.append(n)
        yield names
    finally:
        for n in made:
            subprocess.run([IP, "netns", "del", n], capture_output=True, timeout=30,
                           check=False)
