"""Small helpers shared across layers."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def today() -> str:
    """Today's date (UTC, ISO) as policies and the end-of-life list read it; ``$KITVET_TODAY``
    (YYYY-MM-DD) pins it, for reproducible reports and tests."""
    import datetime as dt
    import re

    pinned = os.environ.get("KITVET_TODAY", "").strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", pinned):
        return dt.date.fromisoformat(pinned).isoformat()
    return dt.datetime.now(dt.UTC).date().isoformat()


@contextmanager
def atomic_path(path: Path, *, mode: int | None = None) -> Iterator[Path]:
    """A new temporary file beside ``path`` for the block to write; when the block ends it is
    flushed to disk and renamed over ``path``, so that readers see the old file or the new one,
    never half; on an error it is removed. ``mode``: its permissions (else mkstemp's 0600)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        os.close(fd)
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    with atomic_path(path, mode=0o666 & ~_umask()) as tmp:  # a report is an ordinary file
        tmp.write_bytes(data)


def atomic_write_text(path: Path, text: str) -> None:
    """Atomic :func:`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
