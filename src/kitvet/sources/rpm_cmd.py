"""Installed rpm packages from the ``rpm`` program (live system, any rpm database backend).

Used when no sqlite rpmdb is found (older Berkeley DB or ndb systems) and ``rpm`` is installed:
``rpm -qa --qf`` prints one record per package with fields separated by ASCII unit separators.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from typing import Any

from kitvet.errors import SourceError
from kitvet.sources.rpmheader import header_to_row

logger = logging.getLogger(__name__)

SOURCE = "rpm"
_FIELDS = ("name", "epoch", "version", "release", "arch", "vendor", "packager")
_US, _RS = "\x1f", "\x1e"
#: rpm query format: "(none)" stands for a missing tag; the epoch is printed only when set.
QUERY_FORMAT = _US.join(
    ["%{NAME}", "%|EPOCH?{%{EPOCH}}:{}|", "%{VERSION}", "%{RELEASE}", "%{ARCH}", "%{VENDOR}",
     "%{PACKAGER}"]
) + _RS
TIMEOUT_S = 120


def available() -> bool:
    """True if an ``rpm`` program is on PATH."""
    return shutil.which("rpm") is not None


def query(dbpath: str | None = None) -> str:
    """Raw ``rpm -qa`` output in :data:`QUERY_FORMAT`."""
    exe = shutil.which("rpm")
    if exe is None:
        raise SourceError("the rpm program is not installed")
    cmd = [exe, "-qa", "--qf", QUERY_FORMAT]
    if dbpath:
        cmd[1:1] = ["--dbpath", dbpath]
    env = dict(os.environ, LC_ALL="C")
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_S, env=env, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SourceError(f"rpm -qa failed: {e}") from e
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SourceError(f"rpm -qa exited {proc.returncode}: {err[-1] if err else ''}")
    return proc.stdout.decode("utf-8", errors="replace")


def parse(
    output: str, *, vendor_namespace: str | None = None
) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
    """Software rows from :func:`query` output, and (record number, reason) of bad records."""
    rows: list[dict[str, Any]] = []
    bad: list[tuple[int, str]] = []
    for i, rec in enumerate(r for r in output.split(_RS) if r.strip()):
        values = rec.strip("\n").split(_US)
        if len(values) != len(_FIELDS):
            bad.append((i + 1, f"expected {len(_FIELDS)} fields, found {len(values)}"))
            continue
        hdr = {k: (None if v in ("", "(none)") else v) for k, v in zip(_FIELDS, values, strict=False)}
        if not hdr["name"]:
            bad.append((i + 1, "record without a name"))
            continue
        if hdr["name"] == "gpg-pubkey":
            continue  # an imported signing key, not installed software
        rows.append(header_to_row(hdr, source=SOURCE, location=f"rpm -qa:{i + 1}",
                                  vendor_namespace=vendor_namespace))
    return rows, bad
