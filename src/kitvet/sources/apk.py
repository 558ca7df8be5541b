"""Alpine's installed-package database (``/lib/apk/db/installed``).

The file is a series of stanzas separated by blank lines; each line is one letter, a colon and
a value (apk's "v2 index" format): ``P:`` name, ``V:`` version, ``A:`` architecture, ``m:``
maintainer, ``o:`` origin (source package), ``T:`` description, ``U:`` URL, ``L:`` license,
then ``F:``/``R:``/``Z:`` lines for folders, files and checksums. A stanza without a name or
version, with a malformed line or non-UTF-8 name is skipped with its line and reason.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from kitvet.errors import SourceError
from kitvet.model import Snapshot
from kitvet.sources.hostfacts import (
    bounded,
    database_host,
    make_purl,
    package_file_snapshot,
    read_regular,
    under,
)
from kitvet.sources.interface import Importer

logger = logging.getLogger(__name__)

SOURCE = "apk"
INSTALLED_PATH = "/lib/apk/db/installed"
MAX_BYTES = 512 * 1024 * 1024
_BLANK = re.compile(rb"\n\n+")  # only empty lines separate stanzas (as in dpkg and apk)
_WANTED = {b"P", b"V", b"A", b"m", b"o", b"U", b"L"}
_NAME = re.compile(r"^[\x21-\x7e]+$")


def parse_installed(
    data: bytes, *, file: str
) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
    """Parse the installed database: (records with their line, [(line, reason)] skipped)."""
    records: list[dict[str, Any]] = []
    bad: list[tuple[int, str]] = []
    pos, line = 0, 1
    spans = [(m.start(), m.end()) for m in _BLANK.finditer(data)] + [(len(data), len(data))]
    for start, end in spans:
        chunk = data[pos:start]
        stripped = chunk.lstrip(b"\n")
        first = line + (len(chunk) - len(stripped))
        if stripped.strip():
            rec = _stanza(stripped, first)
            if isinstance(rec, dict):
                records.append(rec)
            else:
                bad.append(rec)
        line += data.count(b"\n", pos, end)
        pos = end
    return records, bad


def _stanza(chunk: bytes, first_line: int) -> dict[str, Any] | tuple[int, str]:
    fields: dict[bytes, bytes] = {}
    line = first_line
    for i, raw in enumerate(chunk.split(b"\n")):
        if not raw:
            continue
        if len(raw) < 2 or raw[1:2] != b":" or not raw[:1].isalpha():
            return (first_line + i, "malformed line (expected 'X:value')")
        key = raw[:1]
        if key in _WANTED and key not in fields:
            if key == b"P":
                line = first_line + i
            fields[key] = raw[2:]
    name = _decode(fields.get(b"P"))
    version = _decode(fields.get(b"V"))
    if not name or not _NAME.match(name) or len(name) > 256:
        return (line, "no valid package name (P:)")
    if not version or not _NAME.match(version) or len(version) > 256:
        return (line, f"package {name}: no valid version (V:)")
    out: dict[str, Any] = {"line": line, "name": name, "version": version}
    for key, field in ((b"A", "arch"), (b"m", "maintainer"), (b"o", "origin"),
                       (b"U", "url"), (b"L", "license")):
        if key in fields:
            out[field] = bounded(fields[key].decode("utf-8", errors="replace"))
    return out


def _decode(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None


def to_row(rec: dict[str, Any], file: str, vendor: str | None) -> dict[str, Any]:
    """A software row for one apk record."""
    return {
        "source": SOURCE,
        "location": f"{file}:{rec['line']}",
        "name": rec["name"],
        "version": rec["version"],
        "publisher": rec.get("maintainer"),
        "package_type": "apk",
        "arch": rec.get("arch"),
        "purl": make_purl("apk", vendor or "alpine", rec["name"], rec["version"],
                          {"arch": rec.get("arch")}),
    }


def collect(snap: Snapshot, root: Path, *, vendor: str | None) -> bool:
    """Add the apk packages of ``root`` to ``snap``; False when there is no apk database."""
    path = under(root, INSTALLED_PATH)
    if not path.exists():
        return False
    try:
        data = read_regular(path, MAX_BYTES)
    except OSError as e:
        snap.skip(SOURCE, f"cannot read: {e.strerror or e}", location=str(path))
        return True
    if len(data) > MAX_BYTES:
        snap.skip(SOURCE, f"larger than {MAX_BYTES} bytes", location=str(path))
        return True
    records, bad = parse_installed(data, file=str(path))
    for line, reason in bad:
        snap.skip(SOURCE, reason, location=f"{path}:{line}")
    snap.software.extend(to_row(r, str(path), vendor) for r in records)
    logger.info("apk: %d packages, %d skipped", len(records), len(bad))
    return True


class ApkInstalledImporter(Importer):
    """An apk installed database copied from an Alpine host (``kitvet import installed``)."""

    name = "apk-installed"
    description = "Alpine apk installed database (/lib/apk/db/installed)"

    def detect(self, path: Path, head: bytes) -> bool:
        """A file of ``X:value`` stanzas with P: and V: lines."""
        first = head.split(b"\n\n", 1)[0]
        lines = first.split(b"\n")
        return (path.is_file() and any(ln.startswith(b"P:") for ln in lines)
                and any(ln.startswith(b"V:") for ln in lines)
                and all(len(ln) >= 2 and ln[1:2] == b":" for ln in lines if ln))

    def read(self, path: Path, *, institution: str | None = None) -> list[Snapshot]:
        """The packages of the file as one snapshot."""
        path = Path(path)
        try:
            data = read_regular(path, MAX_BYTES)
        except OSError as e:
            raise SourceError(f"cannot read: {e.strerror or e}", file=str(path)) from e
        if len(data) > MAX_BYTES:
            raise SourceError(f"larger than {MAX_BYTES} bytes", file=str(path))
        records, bad = parse_installed(data, file=str(path))
        host, namespace = database_host(SOURCE, path, institution, (("lib", "apk", "db"),))
        rows = [to_row(r, str(path), namespace) for r in records]
        return [package_file_snapshot(SOURCE, path, host, rows, bad, parsed=len(records))]
