"""kitvet's own inventory JSON document: one or more snapshots, with a schema version.

```json
{"kitvet_inventory": "1.0.0",
 "generator": "kitvet 0.1.0",
 "snapshots": [{"host": {...}, "software": [{...}], "devices": [{...}], "skipped": [{...}]}]}
```
Reading is strict about the envelope (wrong schema version, wrong type, truncation: one
:class:`InventoryError` naming the file and the place) and lenient about rows (a bad row is
skipped with its reason; the good rows are kept).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from kitvet.errors import InventoryError
from kitvet.model.inventory import (
    DEVICE_FIELDS,
    FILE_FIELDS,
    HOST_FIELDS,
    INVENTORY_SCHEMA_VERSION,
    SOFTWARE_FIELDS,
    Host,
    Skipped,
    Snapshot,
)

#: Longest string kept in any inventory field; longer values are cut (hostile input).
MAX_FIELD_CHARS = 4096
#: Control characters dropped from host-supplied text (all but tab, and DEL).
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
_SUPPORTED_MAJOR = INVENTORY_SCHEMA_VERSION.split(".")[0]


def snapshot_to_dict(snap: Snapshot) -> dict[str, Any]:
    """A snapshot as the JSON-ready dict of the document format."""
    hid = snap.host.host_id
    host = snap.host.to_row()
    host["sources"] = list(snap.host.sources)
    out = {
        "host": {k: v for k, v in host.items() if v not in (None, "", [])},
        "software": [_clean_row(r, SOFTWARE_FIELDS, hid) for r in snap.software],
        "devices": [_clean_row(r, DEVICE_FIELDS, hid) for r in snap.devices],
        "skipped": [s.to_dict() for s in snap.skipped],
    }
    if snap.files:  # an addition to the format: documents without files stay as they were
        out["files"] = [_clean_row(r, FILE_FIELDS, hid) for r in snap.files]
    return out


def _clean_row(row: dict[str, Any], fields: tuple[str, ...], host_id: str) -> dict[str, Any]:
    return {f: row[f] for f in fields if f != "host_id" and row.get(f) not in (None, "")}


def dump_document(snapshots: Iterable[Snapshot]) -> dict[str, Any]:
    """The whole document for these snapshots."""
    from kitvet import __version__

    return {
        "kitvet_inventory": INVENTORY_SCHEMA_VERSION,
        "generator": f"kitvet {__version__}",
        "snapshots": [snapshot_to_dict(s) for s in snapshots],
    }


def write_document(snapshots: Iterable[Snapshot], out: str | os.PathLike[str] | IO[str]) -> None:
    """Write snapshots as a document, atomically when ``out`` is a path ("-" is stdout)."""
    doc = dump_document(snapshots)
    if hasattr(out, "write"):
        json.dump(doc, out, ensure_ascii=False)  # type: ignore[arg-type]
        out.write("\n")  # type: ignore[union-attr]
        return
    path = Path(out)
    if str(path) == "-":
        import sys

        json.dump(doc, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    if path.is_dir():
        raise InventoryError("is a folder; give the name of the file to write", file=str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise InventoryError(f"cannot write here: {e.strerror or e}", file=str(path)) from e
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, ensure_ascii=False)
            fh.write("\n")
        os.replace(tmp, path)
    except OSError as e:  # disk full, target turned into a folder...: name the target, not tmp
        Path(tmp).unlink(missing_ok=True)
        raise InventoryError(f"cannot write: {e.strerror or e}", file=str(path)) from e
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def is_document(data: Any) -> bool:
    """True if parsed JSON looks like a kitvet inventory document (for format detection)."""
    return isinstance(data, dict) and "kitvet_inventory" in data


def read_document(path: str | os.PathLike[str]) -> list[Snapshot]:
    """Read a kitvet inventory document from a file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise InventoryError("no such file", file=str(p)) from e
    except (OSError, UnicodeDecodeError) as e:
        raise InventoryError(f"cannot read: {e}", file=str(p)) from e
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InventoryError(
            f"not valid JSON ({e.msg})", file=str(p), place=f"line {e.lineno} column {e.colno}"
        ) from e
    except RecursionError as e:
        raise InventoryError("JSON nested too deeply", file=str(p)) from e
    return parse_document(data, file=str(p))


def parse_document(data: Any, *, file: str = "<inventory>") -> list[Snapshot]:
    """Parse an already-decoded document; envelope errors raise, bad rows are skipped."""
    if not isinstance(data, dict):
        raise InventoryError(
            f"expected a JSON object, found {type(data).__name__}", file=file, place="$"
        )
    version = data.get("kitvet_inventory")
    if not isinstance(version, str):
        raise InventoryError(
            "not a kitvet inventory (no \"kitvet_inventory\" schema version)", file=file, place="$"
        )
    if version.split(".")[0] != _SUPPORTED_MAJOR:
        raise InventoryError(
            f"unsupported inventory schema version {version!r} "
            f"(this kitvet reads {_SUPPORTED_MAJOR}.x)",
            file=file,
            place="$.kitvet_inventory",
        )
    snaps = data.get("snapshots")
    if not isinstance(snaps, list):
        raise InventoryError(
            f"\"snapshots\" must be a list, found {type(snaps).__name__}",
            file=file,
            place="$.snapshots",
        )
    return [_parse_snapshot(s, file=file, place=f"$.snapshots[{i}]") for i, s in enumerate(snaps)]


def _parse_snapshot(raw: Any, *, file: str, place: str) -> Snapshot:
    if not isinstance(raw, dict):
        raise InventoryError(f"a snapshot must be an object, found {type(raw).__name__}",
                             file=file, place=place)
    h = raw.get("host")
    if not isinstance(h, dict) or not isinstance(h.get("host_id"), str) or not h["host_id"]:
        raise InventoryError("a snapshot needs a host with a non-empty string \"host_id\"",
                             file=file, place=f"{place}.host")
    sources = h.get("sources") or ()
    if isinstance(sources, str):
        sources = tuple(s for s in sources.split(",") if s)
    host_kw: dict[str, Any] = {}
    for f in HOST_FIELDS:
        if f in ("sources",) or f not in h:
            continue
        v = h[f]
        if v is not None and not isinstance(v, (str, int, float)):
            raise InventoryError(f"host field {f!r} must be a string", file=file,
                                 place=f"{place}.host.{f}")
        host_kw[f] = _bound(str(v)) if v is not None else None
    host = Host(**host_kw, sources=tuple(str(s) for s in sources if isinstance(s, str)))
    snap = Snapshot(host=host)
    for key, fields, target in (
        ("software", SOFTWARE_FIELDS, snap.software),
        ("devices", DEVICE_FIELDS, snap.devices),
        ("files", FILE_FIELDS, snap.files),
    ):
        rows = raw.get(key, [])
        if not isinstance(rows, list):
            raise InventoryError(f"\"{key}\" must be a list", file=file, place=f"{place}.{key}")
        for i, r in enumerate(rows):
            row, why = _parse_row(r, fields)
            if row is None:
                snap.skip("inventory", why or "bad row", location=f"{file}:{place}.{key}[{i}]")
                continue
            row["host_id"] = host.host_id
            target.append(row)
    for s in raw.get("skipped", []) or []:
        if isinstance(s, dict) and isinstance(s.get("reason"), str):
            snap.skipped.append(Skipped(source=str(s.get("source") or "?"), reason=s["reason"],
                                        location=s.get("location")))
    return snap


def _parse_row(raw: Any, fields: tuple[str, ...]) -> tuple[dict[str, Any] | None, str | None]:
    if not isinstance(raw, dict):
        return None, f"row must be an object, found {type(raw).__name__}"
    row: dict[str, Any] = {}
    get = raw.get
    for f in fields:
        v = get(f)
        if v is None or f == "host_id":
            continue
        if type(v) is not str:
            if isinstance(v, bool) or not isinstance(v, (str, int, float)):
                return None, f"field {f!r} must be a string, found {type(v).__name__}"
            v = str(v)
        row[f] = _bound(v)
    if "path" in fields and "sha256" in fields and "publisher" not in fields:  # a file row
        if not row.get("path"):
            return None, "file row without a path"
        row.setdefault("name", _basename(row["path"]))
        return row, None
    if not row.get("name") and "name" in fields:
        return None, "software row without a name"
    return row, None


def _basename(path: str) -> str:
    """The last component of a Windows or POSIX path."""
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def _bound(value: str) -> str:
    """Cut hostile sizes and drop control characters (except tab) from host-supplied text."""
    if len(value) > MAX_FIELD_CHARS:
        value = value[:MAX_FIELD_CHARS]
    if _CONTROL.search(value) is not None:
        value = _CONTROL.sub("", value)
    return value
