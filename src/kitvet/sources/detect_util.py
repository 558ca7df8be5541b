"""Helpers shared by the importers: bounded JSON loading, text cleaning, host naming, merging.

Everything a host or another tool wrote is hostile: values are bounded to
:data:`kitvet.model.document.MAX_FIELD_CHARS` and stripped of control characters, whole-file
formats are refused above :data:`MAX_DOCUMENT_BYTES`, and JSON nesting is limited by the parser.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from orjson import loads as _loads  # several times faster than the standard library

from kitvet.errors import SourceError
from kitvet.model import Host, Snapshot
from kitvet.model.document import MAX_FIELD_CHARS, _bound

logger = logging.getLogger(__name__)

#: Largest whole-document file (CycloneDX, SPDX, osqueryi JSON) read into memory.
MAX_DOCUMENT_BYTES = 512 * 1024 * 1024
#: JSON nesting deeper than this is refused (the standard-library fallback recurses).
MAX_JSON_DEPTH = 512

_NON_ID = re.compile(r"[^\w.@:-]+", re.UNICODE)
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


def shown(path: Path | str) -> str:
    """A path as text safe to write anywhere (undecodable bytes of a file name become U+FFFD)."""
    name = str(path)
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def loads(data: bytes | str) -> Any:
    """Decode JSON (orjson when installed); raises ``json.JSONDecodeError`` or ``ValueError``."""
    return _loads(data)


def read_bytes(path: Path, *, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """The whole file, refusing files larger than ``limit`` with a clear :class:`SourceError`."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise SourceError(
                f"file is {size // (1024 * 1024)} MiB, larger than the {limit // (1024 * 1024)}"
                " MiB this format is read whole up to", file=shown(path))
        return path.read_bytes()
    except FileNotFoundError as e:
        raise SourceError("no such file", file=shown(path)) from e
    except IsADirectoryError as e:
        raise SourceError("is a folder, not a file", file=shown(path)) from e
    except OSError as e:
        raise SourceError(f"cannot read: {e.strerror or e}", file=shown(path)) from e


def load_json_file(path: Path) -> Any:
    """Decode a whole JSON file; any failure is one :class:`SourceError` naming the place."""
    data = read_bytes(path)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise SourceError("file is empty", file=shown(path))
    try:
        return loads(data)
    except json.JSONDecodeError as e:
        if "UTF-8" in str(e) or "utf-8" in str(e):
            try:  # names in a legacy code page: keep the document, mark the bad bytes
                value = loads(data.decode("utf-8", "replace"))
                logger.warning("%s: bytes that are not UTF-8 replaced by U+FFFD", shown(path))
                return value
            except (ValueError, RecursionError):
                pass
        raise SourceError(f"not valid JSON ({e.msg})", file=shown(path),
                          place=f"line {e.lineno} column {e.colno}") from e
    except (ValueError, RecursionError) as e:
        raise SourceError(f"not valid JSON ({e})", file=shown(path)) from e


def text(value: Any) -> str | None:
    """A host-supplied scalar as bounded clean text; None for null, empty or non-scalars."""
    if type(value) is str and len(value) <= MAX_FIELD_CHARS and (
            value.isprintable() or _CONTROL.search(value) is None):
        return value.strip() or None  # the common case, without a per-character loop
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    if not isinstance(value, str):
        if not isinstance(value, (int, float)):
            return None
        value = str(value)
    if len(value) <= MAX_FIELD_CHARS and _CONTROL.search(value) is None:
        return value.strip() or None  # the common case, without a per-character loop
    if "\n" in value or "\r" in value:
        value = " ".join(value.split())
    value = _bound(value).strip()
    return value or None


def hex_id(value: Any) -> str | None:
    """A USB/PCI vendor or product id as 4 lower-case hex digits ("0x8086", "8086" -> "8086")."""
    t = text(value)
    if t is None:
        return None
    t = t.lower()
    if t.startswith("0x"):
        t = t[2:]
    if not t or len(t) > 4 or any(c not in "0123456789abcdef" for c in t):
        return None
    return t.rjust(4, "0")


def mac_address(value: Any) -> str | None:
    """A MAC address as aa:bb:cc:dd:ee:ff, or None when it is not one."""
    t = text(value)
    if t is None:
        return None
    digits = re.sub(r"[^0-9a-fA-F]", "", t)
    if len(digits) != 12 or len(re.sub(r"[0-9a-fA-F:.\-\s]", "", t)) != 0:
        return None
    digits = digits.lower()
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2))


def platform_of(*names: Any) -> str:
    """Guess kitvet's platform (linux, windows, macos, unknown) from OS names or ids."""
    joined = " ".join(t for t in (text(n) for n in names) if t).lower()
    if not joined:
        return "unknown"
    if "windows" in joined:
        return "windows"
    if any(w in joined for w in ("darwin", "macos", "mac os", "os x")):
        return "macos"
    if any(w in joined for w in ("linux", "ubuntu", "debian", "rhel", "centos", "fedora", "suse",
                                 "alpine", "arch", "amzn", "rocky", "alma", "mariner", "oracle")):
        return "linux"
    return "unknown"


def host_id_from_path(path: Path, *, generic: Iterable[str] = ()) -> str:
    """A host id derived from a file name: its stem, or its folder when the stem is generic."""
    stem = path.name.split(".")[0] or path.name
    if stem.lower() in {g.lower() for g in generic} and path.parent.name:
        stem = path.resolve().parent.name
    return _NON_ID.sub("_", stem)[:200] or "unknown-host"


def with_institution(snaps: list[Snapshot], institution: str | None) -> list[Snapshot]:
    """Fill ``institution`` on hosts that have none."""
    if institution:
        for s in snaps:
            if not s.host.institution:
                s.host = dataclasses.replace(s.host, institution=institution)
    return snaps


def merge_snapshots(snaps: Iterable[Snapshot]) -> list[Snapshot]:
    """Join snapshots of the same ``host_id`` (several files about one host) into one.

    Host facts already known win; missing ones are filled from later snapshots; rows and
    skipped records are concatenated; ``sources`` are united in order.
    """
    by_id: dict[str, Snapshot] = {}
    for s in snaps:
        have = by_id.get(s.host.host_id)
        if have is None:
            by_id[s.host.host_id] = s
            continue
        have.host = _merge_hosts(have.host, s.host)
        have.software.extend(s.software)
        have.devices.extend(s.devices)
        have.files.extend(s.files)
        have.skipped.extend(s.skipped)
    return list(by_id.values())


def _merge_hosts(a: Host, b: Host) -> Host:
    kw: dict[str, Any] = {}
    for f in dataclasses.fields(Host):
        if f.name == "sources":
            continue
        va, vb = getattr(a, f.name), getattr(b, f.name)
        if f.name == "platform":
            kw[f.name] = va if va != "unknown" else vb
        elif f.name == "collected_at":
            kw[f.name] = max((v for v in (va, vb) if v), default=None)
        else:
            kw[f.name] = va if va else vb
    kw["sources"] = tuple(dict.fromkeys(a.sources + b.sources))
    return Host(**kw)
