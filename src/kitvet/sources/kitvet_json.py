"""kitvet's own inventory JSON (what ``kitvet collect`` and ``kitvet import`` write)."""

from __future__ import annotations

from pathlib import Path

from kitvet.identify.hardware import name_devices
from kitvet.model import Snapshot
from kitvet.model.document import read_document
from kitvet.sources.detect_util import with_institution
from kitvet.sources.interface import Importer


class KitvetJsonImporter(Importer):
    """Reads kitvet inventory documents."""

    name = "kitvet"
    description = "kitvet inventory JSON (kitvet collect / kitvet import output)"

    def detect(self, path: Path, head: bytes) -> bool:
        return path.is_file() and b'"kitvet_inventory"' in head[:4096]

    def read(self, path: Path, *, institution: str | None = None) -> list[Snapshot]:
        snaps = read_document(path)
        for s in snaps:  # documents other agents wrote may lack the registry names
            name_devices(s.devices)
        return with_institution(snaps, institution)
