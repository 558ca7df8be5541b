"""The interface every inventory importer implements.

An importer turns one file or folder another tool produced into :class:`Snapshot` objects.
It never raises on one bad record: the record becomes a :class:`~kitvet.model.Skipped` with its
location and reason. It raises :class:`~kitvet.errors.SourceError` (naming the file and place)
only when the input as a whole cannot be read.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

from kitvet.model import Snapshot


class Importer(ABC):
    """Reads one format of inventory produced by another tool."""

    #: Format name used by ``--format`` (e.g. "osquery", "cyclonedx").
    name: str = ""
    #: One line for ``kitvet import --help``.
    description: str = ""

    @abstractmethod
    def detect(self, path: Path, head: bytes) -> bool:
        """True if this importer reads ``path`` (``head``: its first 64 KiB; b"" for a folder)."""

    @abstractmethod
    def read(self, path: Path, *, institution: str | None = None) -> list[Snapshot]:
        """Read ``path`` into snapshots (one per host found)."""
