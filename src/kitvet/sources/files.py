"""File rows from a folder walk (``kitvet collect --files DIR``): names only by default.

The walk never follows symbolic links, never opens a file unless hashes were asked for (and
then reads at most ``hash_max_bytes`` of each), and stops after ``max_files`` entries with a
:class:`~kitvet.model.Skipped` saying so. A folder it cannot list is skipped with the reason;
the others are walked. Paths are recorded as the host writes them, bounded in length.

This module is on the path of ``kitvet collect``: standard library only.
"""

from __future__ import annotations

import hashlib
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

from kitvet.model import Snapshot

SOURCE = "files"
#: Most entries one walk records (a bounded inventory, whatever the folder holds).
MAX_FILES = 1_000_000
#: Most bytes read of a file to hash it (larger files are recorded without hashes).
HASH_MAX_BYTES = 64 * 1024 * 1024
MAX_PATH_CHARS = 4096


def collect(snap: Snapshot, folder: Path, *, max_files: int = MAX_FILES, hashes: bool = False,
            hash_max_bytes: int = HASH_MAX_BYTES) -> int:
    """Add a file row per regular file under ``folder``; returns how many were added."""
    added = 0
    stack = [str(folder)]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            snap.skip(SOURCE, f"cannot list folder: {e.strerror or e}", location=current)
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                    continue
                if not entry.is_file(follow_symlinks=False):
                    continue  # symbolic links, sockets, devices: not followed, not opened
                st = entry.stat(follow_symlinks=False)
            except OSError as e:
                snap.skip(SOURCE, f"cannot read entry: {e.strerror or e}", location=entry.path)
                continue
            if added >= max_files:
                snap.skip(SOURCE, f"stopped after {max_files} files (--files-max)",
                          location=str(folder))
                return added
            row = {"source": SOURCE, "path": _text(entry.path), "name": _text(entry.name),
                   "location": _text(entry.path), "size": str(st.st_size),
                   "mtime": datetime.fromtimestamp(st.st_mtime, UTC).strftime(
                       "%Y-%m-%dT%H:%M:%SZ")}
            if hashes and stat.S_ISREG(st.st_mode) and st.st_size <= hash_max_bytes:
                row.update(_hashes(entry.path, snap))
            snap.add_file(**row)
            added += 1
        stack.sort(reverse=True)  # walk in name order, depth first
    return added


def _text(value: str) -> str:
    """A path as text: undecodable bytes escaped, control characters dropped, bounded."""
    value = value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    value = "".join(c for c in value if ord(c) >= 32 and c != "\x7f")
    return value[:MAX_PATH_CHARS]


def _hashes(path: str, snap: Snapshot) -> dict[str, str]:
    digests = {"sha256": hashlib.sha256(), "sha1": hashlib.sha1(), "md5": hashlib.md5()}
    try:
        with open(path, "rb", buffering=0) as fh:
            while chunk := fh.read(1024 * 1024):
                for d in digests.values():
                    d.update(chunk)
    except OSError as e:
        snap.skip(SOURCE, f"cannot hash: {e.strerror or e}", location=path)
        return {}
    return {k: d.hexdigest() for k, d in digests.items()}
