"""Small helpers shared across layers."""

from __future__ import annotations

import os
import tempfile
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


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; a report is an ordinary file
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Atomic :func:`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
