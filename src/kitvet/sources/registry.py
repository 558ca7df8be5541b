"""Registry of importers, loaded lazily, and format detection.

To add a source: write ``kitvet/sources/<name>.py`` with an :class:`Importer` subclass and add
one line to :data:`IMPORTERS`. Detection tries importers in this order (most specific first).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from kitvet.errors import SourceError
from kitvet.model import Snapshot
from kitvet.sources.interface import Importer

#: format name -> "module:Class"
IMPORTERS: dict[str, str] = {
    "kitvet": "kitvet.sources.kitvet_json:KitvetJsonImporter",
    "nmap": "kitvet.sources.nmap:NmapImporter",
    "registry": "kitvet.sources.registry_hive:RegistryHiveImporter",
    "macos-apps": "kitvet.sources.macos_apps:MacosAppsImporter",
    "rpmdb": "kitvet.sources.rpmdb_ndb:RpmdbImporter",
    "dpkg-status": "kitvet.sources.dpkg:DpkgStatusImporter",
    "apk-installed": "kitvet.sources.apk:ApkInstalledImporter",
    "cyclonedx": "kitvet.sources.cyclonedx:CycloneDxImporter",
    "spdx": "kitvet.sources.spdx:SpdxImporter",
    "osquery": "kitvet.sources.osquery:OsqueryImporter",
    "csv": "kitvet.sources.csv_mapping:CsvImporter",
}

HEAD_BYTES = 65536


def importer(name: str) -> Importer:
    """The importer registered under ``name``."""
    target = IMPORTERS.get(name)
    if target is None:
        raise SourceError(f"unknown format {name!r} (known: {', '.join(sorted(IMPORTERS))})")
    module_name, cls = target.split(":")
    return getattr(importlib.import_module(module_name), cls)()


def detect(path: Path) -> Importer:
    """The importer that reads ``path``, judged from its content."""
    head = b""
    if path.is_file():
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
    elif not path.exists():
        raise SourceError("no such file or folder", file=str(path))
    for name in IMPORTERS:
        imp = importer(name)
        if imp.detect(path, head):
            return imp
    raise SourceError("format not recognised (give --format)", file=str(path))


def read_paths(
    paths: list[Path], *, fmt: str | None = None, institution: str | None = None
) -> list[Snapshot]:
    """Read every path with the given or detected format."""
    snaps: list[Snapshot] = []
    for p in paths:
        imp = importer(fmt) if fmt else detect(p)
        snaps.extend(imp.read(p, institution=institution))
    return snaps
