"""kitvet's own inventory JSON (what ``kitvet collect`` and ``kitvet import`` write)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from kitvet.model import Snapshot
from kitvet.model.document import read_document
from kitvet.sources.interface import Importer


class KitvetJsonImporter(Importer):
    """Reads kitvet inventory documents."""

    name = "kitvet"
    description = "kitvet inventory JSON (kitvet collect / kitvet import output)"

    def detect(self, path: Path, head: bytes) -> bool:
        return path.is_file() and b'"kitvet_inventory"' in head[:4096]

    def read(self, path: Path, *, institution: str | None = None) -> list[Snapshot]:
        snaps = read_document(path)
        if institution:
            for s in snaps:
                if not s.host.institution:
                    s.host = dataclasses.replace(s.host, institution=institution)
        return snaps
