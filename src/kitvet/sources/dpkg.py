"""dpkg's status database (``/var/lib/dpkg/status`` plus pending ``updates/``).

kitvet lists exactly the packages ``dpkg-query -W`` lists: every record whose current state
(third word of ``Status:``) is not ``not-installed`` — installed, config-files, unpacked,
half-installed, half-configured, triggers-awaited/pending. Like dpkg, records in
``updates/NNNN`` (journal entries dpkg has not folded into ``status`` yet) replace the
record of the same package and architecture.

The status file is host input and may be corrupt. A stanza that cannot be read (no
``Package:``, a malformed line, a bad ``Status:``, a name or version that is not UTF-8, no
``Version:`` for a listed state) is skipped with its line and reason; every other stanza is
kept. Free-text fields (Maintainer) that are not UTF-8 are kept with replacement characters,
as ``dpkg-query`` lists such packages too.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
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

SOURCE = "dpkg"
STATUS_PATH = "/var/lib/dpkg/status"
UPDATES_PATH = "/var/lib/dpkg/updates"
#: A status database larger than this is refused (a real one with 10,000 packages is ~30 MiB).
MAX_STATUS_BYTES = 512 * 1024 * 1024

WANTS = frozenset({"unknown", "install", "hold", "deinstall", "purge"})
EFLAGS = frozenset({"ok", "reinstreq", "hold", "hold-reinstreq"})
STATES = frozenset({
    "not-installed", "config-files", "half-installed", "unpacked", "half-configured",
    "triggers-awaited", "triggers-pending", "installed",
})
_FIELDS = {b"package", b"status", b"version", b"architecture", b"maintainer", b"multi-arch",
           b"source"}
_BLANK = re.compile(rb"\n\n+")  # only empty lines separate stanzas (as in dpkg and apk)
_NAME = re.compile(r"^[a-z0-9][a-z0-9+.\-]*$")
_VERSION = re.compile(r"^[\x21-\x7e]+$")


@dataclass(frozen=True)
class DebPackage:
    """One record of the dpkg database."""

    name: str
    version: str
    arch: str | None
    multiarch: str | None
    maintainer: str | None
    source_pkg: str | None
    status: str  # want eflag state, e.g. "install ok installed"
    file: str
    line: int  # line of the Package: field

    @property
    def state(self) -> str:
        """Current state, e.g. "installed" or "config-files"."""
        return self.status.split()[2]

    @property
    def listed(self) -> bool:
        """True if ``dpkg-query -W`` lists this record."""
        return self.state != "not-installed"

    def binary_package(self, native_arch: str | None) -> str:
        """``${binary:Package}``: the name, arch-qualified when dpkg would qualify it."""
        if not self.arch:
            return self.name
        if self.multiarch == "same" or self.arch not in ("all", native_arch):
            return f"{self.name}:{self.arch}"
        return self.name


@dataclass(frozen=True)
class BadStanza:
    """A stanza that could not be read."""

    file: str
    line: int
    reason: str


def parse_status(data: bytes, *, file: str) -> tuple[list[DebPackage], list[BadStanza]]:
    """Parse the bytes of a dpkg status-format file into records and bad stanzas."""
    packages: list[DebPackage] = []
    bad: list[BadStanza] = []
    pos, line = 0, 1
    for sep in _BLANK.finditer(data):
        _one(data[pos : sep.start()], file, line, packages, bad)
        line += data.count(b"\n", pos, sep.end())
        pos = sep.end()
    if pos < len(data):
        _one(data[pos:], file, line, packages, bad)
    return packages, bad


def _one(chunk: bytes, file: str, line: int, packages: list[DebPackage],
         bad: list[BadStanza]) -> None:
    # Leading blank lines at the start of the file belong to no stanza.
    while chunk.startswith(b"\n"):
        chunk, line = chunk[1:], line + 1
    if not chunk.strip():
        return
    result = _stanza(chunk, file, line)
    (packages if isinstance(result, DebPackage) else bad).append(result)  # type: ignore[arg-type]


def _stanza(chunk: bytes, file: str, first_line: int) -> DebPackage | BadStanza:
    fields: dict[bytes, bytes] = {}
    pkg_line = first_line
    for i, raw in enumerate(chunk.split(b"\n")):
        if not raw or raw[:1] in (b" ", b"\t"):
            if i == 0:
                return BadStanza(file, first_line, "stanza starts with a continuation line")
            continue
        key, colon, value = raw.partition(b":")
        if not colon or not key or key[:1] in b"#-" or b" " in key:
            return BadStanza(file, first_line + i, "malformed line (no 'Field: value')")
        lkey = key.lower()
        if lkey in _FIELDS:
            fields[lkey] = value.strip()
            if lkey == b"package":
                pkg_line = first_line + i
    try:
        return _record(fields, file, pkg_line)
    except ValueError as e:
        return BadStanza(file, pkg_line if b"package" in fields else first_line, str(e))


def _text(fields: dict[bytes, bytes], key: bytes, *, strict: bool) -> str | None:
    raw = fields.get(key)
    if raw is None or raw == b"":
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        if strict:
            raise ValueError(f"{key.decode().title()} is not UTF-8") from None
        return raw.decode("utf-8", errors="replace")


def _record(fields: dict[bytes, bytes], file: str, line: int) -> DebPackage:
    name = _text(fields, b"package", strict=True)
    if not name:
        raise ValueError("no Package field")
    name = name.lower()  # dpkg folds package names to lower case
    if not _NAME.match(name) or len(name) > 256:
        raise ValueError(f"invalid package name {name[:60]!r}")
    status = _text(fields, b"status", strict=True)
    words = status.split() if status else []
    if len(words) != 3 or words[0] not in WANTS or words[1] not in EFLAGS or words[2] not in STATES:
        raise ValueError(f"package {name}: bad or missing Status {(status or '')[:60]!r}")
    version = _text(fields, b"version", strict=True)
    if version is not None and (not _VERSION.match(version) or len(version) > 256):
        raise ValueError(f"package {name}: invalid Version {version[:60]!r}")
    if version is None and words[2] != "not-installed":
        raise ValueError(f"package {name}: no Version in state {words[2]}")
    arch = bounded(_text(fields, b"architecture", strict=True), 64)
    return DebPackage(
        name=name,
        version=version or "",
        arch=arch,
        multiarch=bounded(_text(fields, b"multi-arch", strict=False), 64),
        maintainer=bounded(_text(fields, b"maintainer", strict=False)),
        source_pkg=bounded(_text(fields, b"source", strict=False), 256),
        status=" ".join(words),
        file=file,
        line=line,
    )


def read_database(root: Path) -> tuple[list[DebPackage], list[BadStanza]]:
    """The records of ``root``'s dpkg database, with pending updates applied (as dpkg does)."""
    status_path = under(root, STATUS_PATH)
    data = _read(status_path)
    packages, bad = parse_status(data, file=str(status_path))
    updates = under(root, UPDATES_PATH)
    try:
        journal = sorted((p for p in updates.iterdir() if p.name.isdigit()), key=lambda p: p.name)
    except OSError:
        journal = []
    for path in journal:
        try:
            upd, upd_bad = parse_status(_read(path), file=str(path))
        except OSError as e:
            bad.append(BadStanza(str(path), 0, f"cannot read: {e.strerror or e}"))
            continue
        bad.extend(upd_bad)
        packages.extend(upd)
    return merge(packages), bad


def merge(packages: list[DebPackage]) -> list[DebPackage]:
    """One record per package name and architecture, the last one read winning (as in dpkg)."""
    by_key = {(p.name, p.arch or ""): p for p in packages}
    return list(by_key.values())


def _read(path: Path) -> bytes:
    data = read_regular(path, MAX_STATUS_BYTES)
    if len(data) > MAX_STATUS_BYTES:
        raise OSError(27, f"larger than {MAX_STATUS_BYTES} bytes", str(path))
    return data


def native_arch(packages: list[DebPackage]) -> str | None:
    """dpkg's native architecture: that of the ``dpkg`` package itself, else the commonest."""
    for p in packages:
        if p.name == "dpkg" and p.arch and p.arch != "all" and p.listed:
            return p.arch
    counts: dict[str, int] = {}
    for p in packages:
        if p.arch and p.arch != "all":
            counts[p.arch] = counts.get(p.arch, 0) + 1
    return max(counts, key=counts.__getitem__) if counts else None


def query_lines(packages: list[DebPackage], native: str | None = None) -> list[str]:
    """What ``dpkg-query -W`` prints for these records (``${binary:Package}\\t${Version}``).

    ``native``: dpkg's native architecture (default: inferred by :func:`native_arch`).
    """
    native = native or native_arch(packages)
    # Sorted by name and architecture only: two identical stanzas (a damaged status file) compare
    # equal there, and records themselves have no order.
    rows = sorted((p for p in packages if p.listed), key=lambda p: (p.name, p.arch or ""))
    return [f"{p.binary_package(native)}\t{p.version}" for p in rows]


def to_row(p: DebPackage, vendor: str | None) -> dict[str, Any]:
    """A software row for one record."""
    return {
        "source": SOURCE,
        "location": f"{p.file}:{p.line}",
        "name": p.name,
        "version": p.version,
        "publisher": p.maintainer,
        "package_type": "deb",
        "arch": p.arch,
        "purl": make_purl("deb", vendor, p.name, p.version, {"arch": p.arch}),
    }


def collect(snap: Snapshot, root: Path, *, vendor: str | None) -> bool:
    """Add the dpkg packages of ``root`` to ``snap``; False when there is no dpkg database."""
    path = under(root, STATUS_PATH)
    if not path.exists():
        return False
    try:
        packages, bad = read_database(root)
    except OSError as e:
        snap.skip(SOURCE, f"cannot read: {e.strerror or e}", location=str(path))
        return True
    for b in bad:
        snap.skip(SOURCE, b.reason, location=f"{b.file}:{b.line}")
    rows = [to_row(p, vendor) for p in packages if p.listed]
    rows.sort(key=lambda r: (r["name"], r["arch"] or ""))
    snap.software.extend(rows)
    logger.info("dpkg: %d packages, %d skipped stanzas", len(rows), len(bad))
    return True



class DpkgStatusImporter(Importer):
    """A dpkg status file copied from a host (``kitvet import status``)."""

    name = "dpkg-status"
    description = "dpkg status database (/var/lib/dpkg/status) copied from a Debian/Ubuntu host"

    def detect(self, path: Path, head: bytes) -> bool:
        """A file whose first stanza has Package: and Status: fields."""
        first = head.split(b"\n\n", 1)[0]
        return (path.is_file() and first.startswith(b"Package: ")
                and b"\nStatus: " in first)

    def read(self, path: Path, *, institution: str | None = None) -> list[Snapshot]:
        """The listed packages of the file as one snapshot (its system's host when the file
        sits at ``<root>/var/lib/dpkg/status`` of a copied tree)."""
        path = Path(path)
        try:
            data = _read(path)
        except OSError as e:
            raise SourceError(f"cannot read: {e.strerror or e}", file=str(path)) from e
        packages, bad = parse_status(data, file=str(path))
        host, namespace = database_host(SOURCE, path, institution, (("var", "lib", "dpkg"),))
        rows = [to_row(p, namespace) for p in packages if p.listed]
        return [package_file_snapshot(SOURCE, path, host, rows,
                                      [(b.line, b.reason) for b in bad], parsed=len(packages))]
