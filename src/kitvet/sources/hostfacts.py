"""Host facts of a Linux root: hostname, os-release, machine id, and purl helpers.

Everything is read from files under ``root`` so the same code serves the live system ("/")
and a mounted image. Nothing here raises on a missing or odd file: a fact that cannot be read
is ``None``.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import socket
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from kitvet.errors import SourceError
from kitvet.model import Host, Snapshot

logger = logging.getLogger(__name__)

#: Longest file kept when reading small fact files (os-release, machine-id, hostname).
MAX_FACT_BYTES = 64 * 1024
_MACHINE_ID = re.compile(r"^[0-9a-f]{32}$")
_OS_RELEASE_LINE = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")
_MAX_SYMLINKS = 40
#: Longest free-text value kept from a host (a maintainer, a vendor, an OS name).
MAX_TEXT = 4096
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@dataclass(frozen=True)
class HostFacts:
    """What kitvet knows about a host before reading its packages."""

    hostname: str | None
    machine_id: str | None
    os_id: str | None  # os-release ID, e.g. "debian"; the purl namespace of its packages
    os_name: str | None  # os-release NAME
    os_version: str | None  # os-release VERSION_ID (else VERSION)
    os_pretty: str | None

    @property
    def host_id(self) -> str:
        """The machine id, else a stable hash of the hostname."""
        if self.machine_id:
            return self.machine_id
        return host_id_from_name(self.hostname or "unknown")


def bounded(value: str | None, limit: int = MAX_TEXT) -> str | None:
    """Host-supplied text cut to ``limit`` characters, control characters (but tab) removed
    (as the inventory document does); None when nothing is left."""
    if value is None:
        return None
    if len(value) > limit:
        value = value[:limit]
    if _CONTROL.search(value):
        value = _CONTROL.sub("", value)
    value = value.strip()
    return value or None


def host_id_from_name(hostname: str) -> str:
    """A stable 32-hex-digit host id derived from a hostname (case-insensitive)."""
    return hashlib.sha256(hostname.strip().lower().encode("utf-8")).hexdigest()[:32]


def database_host(kind: str, path: Path, institution: str | None,
                  db_dirs: tuple[tuple[str, ...], ...], *, source: str | None = None
                  ) -> tuple[Host, str | None]:
    """The host of a package database imported as a file, and its purl namespace.

    When the file sits where its package manager keeps it inside a copied system tree
    (``<root>/var/lib/dpkg/status`` for ``db_dirs`` ``(("var", "lib", "dpkg"),)``), the host is
    that system's (machine id, hostname, os-release) and the namespace its os-release ID;
    otherwise a host id derived from the file's path (``<kind>-…``) and no namespace.
    """
    source = source or kind
    parent = path.resolve().parent
    for rel in db_dirs:
        if parent.parts[-len(rel):] == rel and len(parent.parts) > len(rel):
            facts = host_facts(parent.parents[len(rel) - 1])
            if facts.machine_id or facts.hostname or facts.os_name:
                return Host(host_id=facts.host_id, hostname=facts.hostname,
                            institution=institution, platform="linux",
                            os_name=facts.os_pretty or facts.os_name,
                            os_version=facts.os_version, machine_id=facts.machine_id,
                            sources=(source,)), facts.os_id
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    return Host(host_id=f"{kind}-{digest}", institution=institution, platform="linux",
                sources=(source,)), None


def package_file_snapshot(kind: str, path: Path, host: Host, rows: list[dict[str, Any]],
                          bad: list[tuple[int, str]], *, parsed: int) -> Snapshot:
    """One snapshot of a package database copied from a host (dpkg status, apk installed).

    ``bad`` records (line, reason) are skipped with their line. A file in which not one record
    parsed (``parsed`` 0) but something was malformed is not such a database at all: one
    :class:`SourceError` naming its first bad line, rather than an empty host.
    """
    if not parsed and bad:
        line, reason = bad[0]
        raise SourceError(f"no readable {kind} package record: {reason} "
                          f"({len(bad)} bad record(s))",
                          file=str(path), place=f"line {line}")
    snap = Snapshot(host=host)
    for line, reason in bad:
        snap.skip(kind, reason, location=f"{path}:{line}")
    for row in rows:
        row["host_id"] = snap.host.host_id
    snap.software.extend(rows)
    return snap


def under(root: Path, path: str) -> Path:
    """``path`` (absolute, as on the host) inside ``root``, resolved as if ``root`` were "/".

    A mounted image's symlinks are the image's: ``etc/os-release -> /usr/lib/os-release``
    means the image's /usr/lib, never the machine running kitvet. Absolute targets restart at
    ``root``, ``..`` never climbs above it, and a symlink loop stops after 40 hops (the path
    returned then does not exist). On the live root the path is returned as is.
    """
    if _is_root(root):
        return Path("/") / path.lstrip("/")
    current, pending, hops = root, [p for p in path.split("/") if p], 0
    while pending:
        part = pending.pop(0)
        if part == ".":
            continue
        if part == "..":
            current = current.parent if current != root else root
            continue
        candidate = current / part
        if candidate.is_symlink():
            hops += 1
            try:
                if hops > _MAX_SYMLINKS:
                    raise OSError(errno.ELOOP, "too many symlinks")
                target = os.readlink(candidate)
            except OSError:
                # Never hand the OS a symlink to follow: a name that cannot exist in the root.
                return root / ".kitvet-unresolvable-symlink" / path.lstrip("/")
            if target.startswith("/"):
                current = root
            pending[:0] = [p for p in target.split("/") if p]
            continue
        current = candidate
    return current


def _is_root(root: Path) -> bool:
    try:
        return root.resolve() == Path("/").resolve()
    except OSError:
        return False


def read_regular(path: Path, limit: int) -> bytes:
    """Up to ``limit`` + 1 bytes of a *regular* file (a FIFO or device from a hostile image
    would block or never end: OSError instead)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(limit + 1)
    finally:
        os.close(fd)


def read_small(path: Path) -> str | None:
    """A small text file's content (bounded, undecodable bytes replaced), or None."""
    try:
        raw = read_regular(path, MAX_FACT_BYTES)[:MAX_FACT_BYTES]
    except OSError as e:
        logger.debug("cannot read %s: %s", path, e)
        return None
    return raw.decode("utf-8", errors="replace")


def parse_os_release(text: str) -> dict[str, str]:
    """Parse os-release(5): KEY=value lines, values optionally shell-quoted."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = _OS_RELEASE_LINE.match(line.strip())
        if m:
            out[m.group(1)] = _unquote(m.group(2).strip())
    return out


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        inner = value[1:-1]
        if value[0] == '"':
            inner = re.sub(r"\\([\\$\"`])", r"\1", inner)
        return inner
    return value


def os_release(root: Path) -> dict[str, str]:
    """The os-release of ``root`` (/etc/os-release, else /usr/lib/os-release)."""
    for rel in ("/etc/os-release", "/usr/lib/os-release"):
        text = read_small(under(root, rel))
        if text is not None:
            return parse_os_release(text)
    return {}


def machine_id(root: Path) -> str | None:
    """/etc/machine-id (else /var/lib/dbus/machine-id) when it is 32 lower-case hex digits."""
    for rel in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        text = read_small(under(root, rel))
        if text is not None and _MACHINE_ID.match(text.strip()):
            return text.strip()
    return None


def hostname(root: Path) -> str | None:
    """The live hostname for "/", else the root's /etc/hostname."""
    if _is_root(root):
        name = bounded(socket.gethostname(), 255)
        if name:
            return name
    text = read_small(under(root, "/etc/hostname"))
    if text:
        first = text.strip().splitlines()[0].strip() if text.strip() else ""
        return bounded(first, 255)
    return None


def host_facts(root: Path) -> HostFacts:
    """All host facts of ``root``."""
    rel = os_release(root)
    return HostFacts(
        hostname=hostname(root),
        machine_id=machine_id(root),
        os_id=bounded(rel.get("ID"), 64),
        os_name=bounded(rel.get("NAME"), 256),
        os_version=bounded(rel.get("VERSION_ID") or rel.get("VERSION"), 256),
        os_pretty=bounded(rel.get("PRETTY_NAME"), 256),
    )


def make_purl(ptype: str, namespace: str | None, name: str, version: str | None,
              qualifiers: dict[str, str | None] | None = None) -> str:
    """A package URL encoded the way packageurl-python encodes it (without importing it)."""
    text = f"pkg:{ptype}/"
    if namespace:
        text += quote(namespace.lower(), safe="") + "/"
    text += quote(name, safe="")
    if version:
        text += "@" + quote(version, safe=":")
    quals = {k: v for k, v in (qualifiers or {}).items() if v}
    if quals:
        text += "?" + "&".join(f"{k}={quote(str(v), safe=':/')}" for k, v in sorted(quals.items()))
    return text
