"""Registry of importers, loaded lazily, and format detection.

To add a source: write ``kitvet/sources/<name>.py`` with an :class:`Importer` subclass and add
one line to :data:`IMPORTERS` (another package adds its own through the ``kitvet.sources``
entry point group, see :mod:`kitvet.plugins`). Detection tries importers in this order (most
specific first), plug-ins last.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from kitvet.errors import KitvetError, SourceError
from kitvet.model import Snapshot
from kitvet.plugins import Registry
from kitvet.sources.interface import Importer

#: format name -> "module:Class"
IMPORTERS: Registry[Importer] = Registry("kitvet.sources", {
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
}, kind=Importer, what="format", error=SourceError)

HEAD_BYTES = 65536

logger = logging.getLogger(__name__)


def importer(name: str) -> Importer:
    """The importer registered under ``name``."""
    return IMPORTERS.create(name)


def detect(path: Path) -> Importer:
    """The importer that reads ``path``, judged from its content."""
    found = _detect(path)
    if found is None:
        raise SourceError("format not recognised (give --format)", file=str(path))
    return found


def _detect(path: Path) -> Importer | None:
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
    return None


def expand(paths: Iterable[Path]) -> list[tuple[Path, bool]]:
    """Files to read: (path, named by the user?). Folders are walked, hidden entries skipped."""
    out: list[tuple[Path, bool]] = []
    for p in paths:
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and not any(
                part.startswith(".") for part in f.relative_to(p).parts))
            out.extend((f, False) for f in found)
        elif p.exists():
            out.append((p, True))
        else:
            raise SourceError("no such file or folder", file=str(p))
    return out


def read_paths(
    paths: list[Path], *, fmt: str | None = None, institution: str | None = None
) -> list[Snapshot]:
    """Read every path with the given or detected format.

    A folder that one format reads whole (a folder of macOS ``.app`` bundles) is read as one;
    any other folder is walked as ``kitvet import`` walks it: files of no known format are
    ignored, and a file that cannot be read is logged as a warning while the others are read.
    """
    snaps: list[Snapshot] = []
    for p in paths:
        whole = importer(fmt) if fmt else _detect(p)
        if not p.is_dir() or (whole is not None and whole.detect(p, b"")):
            snaps.extend((whole or detect(p)).read(p, institution=institution))
            continue
        for f, _ in expand([p]):
            try:
                imp = importer(fmt) if fmt else _detect(f)
                if imp is not None:
                    snaps.extend(imp.read(f, institution=institution))
            except KitvetError as e:
                logger.warning("%s (skipped; the folder's other files are read)", e)
    return snaps
