"""Large CycloneDX JSON BOMs read as a stream: a million components in bounded memory.

:func:`read_json_stream` reads the same snapshot as :mod:`kitvet.sources.cyclonedx` does, but
never holds the document: ijson (its C parser) yields one top-level component at a time, and
the software rows go into Arrow columns 16,384 rows at a time (the snapshot's
``software_table``), so memory stays near the size of the Arrow rows. Hashes become file rows
as the whole reader makes them (a ``file`` component's MD5, SHA-1 and SHA-256; another
component's MD5 and SHA-1), so hash indicators match them. Host facts come from a
first pass over ``metadata`` and the top-level scalars.

A *plain* component — one that holds only fields kitvet reads (type, name, version, group,
publisher, author, purl, cpe, description, bom-ref, hashes) and those it does not read
(licenses, properties, external references, scope...), each of the expected JSON type — is
mapped directly, which is ~100 times faster than cyclonedx-python-lib's deserialiser; any other
component goes through the library exactly as the whole-document reader does, and is kept or
skipped with the same reason. A test checks that both readers give the same snapshot.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kitvet.errors import SourceError
from kitvet.model import SOFTWARE_FIELDS, RowsFile, Snapshot
from kitvet.sources import cyclonedx as cdx
from kitvet.sources.detect_util import shown, text, with_institution

logger = logging.getLogger(__name__)

#: The ingest queue reads CycloneDX JSON files at least this large with this reader.
STREAM_BYTES = 16 * 1024 * 1024
_ROWS = 16384
_TYPES = frozenset({"application", "framework", "library", "container", "platform",
                    "operating-system", "device", "device-driver", "firmware", "file",
                    "machine-learning-model", "data", "cryptographic-asset"})
_READ = frozenset({"type", "name", "version", "group", "publisher", "author", "purl", "cpe",
                   "description", "bom-ref", "hashes"})
_IGNORED = {"licenses": list, "properties": list, "externalReferences": list, "scope": str,
            "mime-type": str, "copyright": str, "modified": bool, "tags": list,
            "omniborId": list, "swhid": list}
_HEX = frozenset("0123456789abcdefABCDEF")
_ALGS = frozenset({"MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512", "SHA3-256", "SHA3-384",
                   "SHA3-512", "BLAKE2b-256", "BLAKE2b-384", "BLAKE2b-512", "BLAKE3"})
_SW = tuple(f for f in SOFTWARE_FIELDS if f != "host_id")
#: Hex digits of the digests that become file rows (MD5, SHA-1) or software.sha256.
_HEX_LENGTHS = {"MD5": 32, "SHA-1": 40, "SHA-256": 64}


class TooManyItems(SourceError):
    """The BOM holds more components than the caller's limit (reading stopped there)."""


def read_json_stream(path: Path, *, institution: str | None = None,
                     max_items: int | None = None, shown_as: str | None = None,
                     spill: Path | None = None) -> list[Snapshot]:
    """The snapshot of a CycloneDX JSON BOM, its software rows as an Arrow table; reading
    stops with :class:`TooManyItems` once more than ``max_items`` rows are read. Rows say
    where they were found in ``shown_as`` (default: the path). With ``spill``, the rows are
    written to that Parquet file as they are read (a :class:`~kitvet.model.RowsFile`), so
    memory stays bounded however many components the BOM holds."""
    import ijson
    import pyarrow as pa

    head = _header(path)
    where = shown_as or shown(path)
    mcomp = head["metadata"].get("component") if isinstance(head["metadata"], dict) else None
    cols: dict[str, list[Any]] = {f: [] for f in _SW}
    schema = pa.schema([(f, pa.string()) for f in _SW])
    sink = _Sink(schema, spill)
    oses: list[dict[str, Any]] = []
    probe = Snapshot(host=cdx.Host(host_id="-"))  # collects devices and skips
    try:
        with open(path, "rb") as fh:
            top = 0
            for top, raw in enumerate(ijson.items(fh, "components.item", use_float=True)):
                if isinstance(raw, dict) and raw.get("type") == "operating-system" \
                        and text(raw.get("name")):
                    oses.append(raw)
                for place, comp in cdx._walk_json([raw], "$.components"):
                    _one(probe, comp, f"{where}:{_renumber(place, top)}", cols)
                if len(cols["name"]) >= _ROWS:
                    sink.add(_flush(cols))
                # file rows (a BOM of files and their hashes) count as much as software rows
                if max_items is not None and sink.rows + len(cols["name"]) + len(
                        probe.devices) + len(probe.files) > max_items:
                    raise TooManyItems(f"more than {max_items} inventory items",
                                       file=where, place=f"$.components[{top}]")
        if cols["name"]:
            sink.add(_flush(cols))
    except ijson.JSONError as e:
        sink.discard()
        raise SourceError(f"not valid JSON: {e}", file=where, place="$.components") from e
    except BaseException:
        sink.discard()
        raise
    table = sink.close()
    host = cdx._host(path, mcomp, head["serialNumber"], head["metadata"].get("timestamp")
                     if isinstance(head["metadata"], dict) else None, oses)
    snap = Snapshot(host=host, software_table=table)
    cdx._machine(snap, mcomp, f"{where}:$.metadata.component")
    snap.devices.extend(probe.devices)
    snap.files.extend(probe.files)
    snap.skipped.extend(probe.skipped)
    return with_institution([snap], institution)


def _header(path: Path) -> dict[str, Any]:
    """bomFormat, specVersion, serialNumber and metadata, checked as the whole reader does."""
    import ijson

    out: dict[str, Any] = {"bomFormat": None, "specVersion": None, "serialNumber": None,
                           "metadata": {}}
    try:
        with open(path, "rb") as fh:
            depth = 0
            for prefix, event, value in ijson.parse(fh, use_float=True):
                if event in ("start_map", "start_array"):
                    depth += 1
                elif event in ("end_map", "end_array"):
                    depth -= 1
                if depth == 1 and prefix in ("bomFormat", "specVersion", "serialNumber"):
                    out[prefix] = value
                if all(out[k] is not None for k in ("bomFormat", "specVersion", "serialNumber")):
                    break
        with open(path, "rb") as fh:
            out["metadata"] = next(ijson.items(fh, "metadata", use_float=True), {})
    except ijson.JSONError as e:
        raise SourceError(f"not valid JSON: {e}", file=shown(path)) from e
    if out["bomFormat"] != "CycloneDX":
        raise SourceError('not a CycloneDX BOM (no "bomFormat": "CycloneDX")', file=shown(path),
                          place="$")
    if not isinstance(out["specVersion"], str):
        raise SourceError('"specVersion" missing or not a string', file=shown(path),
                          place="$.specVersion")
    cdx._check_spec(out["specVersion"], path)
    return out


def _renumber(place: str, top: int) -> str:
    """``$.components[0]...`` of a one-item walk → the component's real index."""
    return f"$.components[{top}]" + place[len("$.components[0]"):]


def _one(probe: Snapshot, raw: Any, where: str, cols: dict[str, list[Any]]) -> None:
    """One component: a software row into ``cols``, or a device or skip on ``probe``."""
    if raw is cdx._TOO_DEEP:
        probe.skip("cyclonedx", "components nested too deeply", where)
        return
    if not isinstance(raw, dict):
        probe.skip("cyclonedx", f"component must be an object, found {type(raw).__name__}",
                   where)
        return
    row = plain_row(raw)
    if row is None:  # the library reads it, exactly as the whole-document reader does
        before = len(probe.software)
        bad = next((f for f in cdx._STRING_FIELDS if f in raw and not isinstance(raw[f], str)),
                   None)
        if bad:
            probe.skip("cyclonedx", f"component field {bad!r} must be a string", where)
            return
        flat = {k: v for k, v in raw.items() if k != "components"}
        try:
            comp = cdx.Component.from_json(flat)  # type: ignore[attr-defined]
        except Exception as e:  # the library raises many kinds for bad input
            probe.skip("cyclonedx", f"component refused by cyclonedx-python-lib: "
                       f"{str(e)[:200]}", where)
            return
        cdx._add(probe, comp, where)
        for r in probe.software[before:]:
            for f in _SW:
                cols[f].append(r.get(f))
        del probe.software[before:]
        return
    kind, fields = row
    if kind == "skip":
        probe.skip("cyclonedx", fields["reason"], where)
    elif kind == "device":
        probe.add_device(source="cyclonedx", location=where, **fields)
    elif kind == "file":  # a file, not a package: a file row with its hashes
        _file_row(probe, raw, fields["name"], where, ("sha256", "sha1", "md5"))
    else:
        fields = dict(fields, source="cyclonedx", location=where)
        for f in _SW:
            cols[f].append(fields.get(f))
        _file_row(probe, raw, fields["name"], where, ("sha1", "md5"))  # SHA-256: the row's


def _file_row(probe: Snapshot, raw: dict[str, Any], name: str, where: str,
              columns: tuple[str, ...]) -> None:
    """A file row for the hashes of these ``columns`` a component carries, as the whole
    reader makes it (:func:`kitvet.sources.cyclonedx._hashed_file`): hash indicators match
    file rows."""
    hashes: dict[str, str] = {}
    for h in raw.get("hashes") or ():
        col = cdx._HASH_COLUMNS.get(h["alg"])
        if col in columns and col not in hashes:
            hashes[col] = h["content"].lower()
    if hashes:
        probe.add_file(source="cyclonedx", location=where, path=name,
                       name=name.replace("\\", "/").rsplit("/", 1)[-1], **hashes)


def plain_row(raw: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """("software" | "device" | "skip", fields) of a plain component; None for any other
    (the caller hands it to cyclonedx-python-lib)."""
    for k, v in raw.items():
        if k in _READ:
            if k == "hashes":
                if not _hashes_ok(v):
                    return None
            elif type(v) is not str:
                return None
        elif k == "components":
            continue
        elif k not in _IGNORED or not isinstance(v, _IGNORED[k]):
            return None
    ctype = raw.get("type")
    if ctype not in _TYPES:
        return None
    name = text(raw.get("name"))
    if not name:
        return None  # the library's message for it
    if ctype in cdx._NOT_INVENTORY:
        return "skip", {"reason": f"component of type {ctype!r} is neither software nor a "
                                  "device"}
    publisher = text(raw.get("publisher")) or text(raw.get("author"))
    if ctype == "device":
        return "device", {k: v for k, v in {"vendor_name": publisher, "product_name": name,
                                            "description": text(raw.get("description"))
                                            }.items() if v}
    purl_s = raw.get("purl")
    purl = None
    if purl_s is not None:
        purl = _purl(purl_s)
        if purl is None:
            return None
    if ctype == "file":
        return "file", {"name": name}
    ptype = purl[0] if purl is not None else {
        "operating-system": "os", "firmware": "firmware", "platform": "platform"}.get(ctype)
    group = text(raw.get("group"))
    if group and ptype in cdx._JOINED_GROUP_TYPES:
        name = f"{group}/{name}"
    sha256 = next((h["content"].lower() for h in raw.get("hashes") or ()
                   if h.get("alg") == "SHA-256"), None)
    row = {"name": name, "version": text(raw.get("version")), "publisher": publisher,
           "package_type": ptype, "purl": text(purl[1]) if purl is not None else None,
           "cpe": text(raw.get("cpe")), "sha256": text(sha256)}
    return "software", {k: v for k, v in row.items() if v}


#: A purl already in packageurl-python's canonical form for these types when it matches (no
#: qualifiers, subpath, percent-escapes or upper case in type, namespace and name).
_PURL = re.compile(r"^pkg:(npm|pypi|maven|golang|cargo|gem|nuget|deb|rpm|apk|generic|composer|"
                   r"conan|hex|swift|cocoapods|pub|conda)/((?:[a-z0-9][a-z0-9.\-]*/)*)"
                   r"([a-z0-9][a-z0-9.\-]*)@([A-Za-z0-9][A-Za-z0-9.\-~]*)$")
_CHECKED: dict[str, bool] = {}  # type -> the fast form agreed with packageurl-python


def _purl(s: str) -> tuple[str, str] | None:
    """(type, canonical text) of a purl; None when packageurl-python refuses it."""
    m = _PURL.match(s)
    if m is not None and _CHECKED.get(m[1], True):
        if m[1] not in _CHECKED:  # the first of its type: check the shortcut once
            _CHECKED[m[1]] = _slow_purl(s) == (m[1], s)
        if _CHECKED[m[1]]:
            return m[1], s
    return _slow_purl(s)


@functools.lru_cache(maxsize=65536)
def _slow_purl(s: str) -> tuple[str, str] | None:
    from packageurl import PackageURL

    try:
        p = PackageURL.from_string(s)
    except ValueError:
        return None
    return p.type, p.to_string()


def _hashes_ok(v: Any) -> bool:
    if not isinstance(v, list):
        return False
    for h in v:
        if not (isinstance(h, dict) and set(h) == {"alg", "content"}
                and isinstance(h["alg"], str) and isinstance(h["content"], str)):
            return False
        if h["alg"] not in _ALGS or len(h["content"]) not in (32, 40, 64, 96, 128) \
                or not set(h["content"]) <= _HEX:
            return False
        if len(h["content"]) != _HEX_LENGTHS.get(h["alg"], len(h["content"])):
            return False  # the library says what it makes of an MD5 of 64 digits
    return True


class _Sink:
    """Where the software rows go: Arrow tables kept in memory, or a Parquet file."""

    def __init__(self, schema: Any, spill: Path | None):
        self.schema = schema
        self.spill = spill
        self.rows = 0
        self.tables: list[Any] = []
        self._writer: Any = None
        if spill is not None:
            import pyarrow.parquet as pq

            self._writer = pq.ParquetWriter(spill, schema, compression="snappy")

    def add(self, table: Any) -> None:
        self.rows += table.num_rows
        if self._writer is not None:
            self._writer.write_table(table)
        else:
            self.tables.append(table)

    def close(self) -> Any:
        """The rows: a single-chunk Arrow table, or the :class:`RowsFile` written."""
        if self._writer is None or self.spill is None:
            return _one_chunk(self.tables, self.schema)
        self._writer.close()
        return RowsFile(self.spill, self.rows)

    def discard(self) -> None:
        if self._writer is not None and self.spill is not None:
            self._writer.close()
            self.spill.unlink(missing_ok=True)


def _one_chunk(tables: list[Any], schema: Any) -> Any:
    """The slices as one table of single-chunk columns, joined a column at a time (sorting
    a chunked table would copy it whole; this copies one column at a time)."""
    import pyarrow as pa

    if not tables:
        return schema.empty_table()
    arrays = []
    for f in schema.names:
        arrays.append(pa.concat_arrays([c for t in tables for c in t.column(f).chunks]))
        tables[:] = [t.drop_columns([f]) for t in tables]  # the caller's list too
    return pa.table(arrays, schema=schema)


def _flush(cols: dict[str, list[Any]]) -> Any:
    import pyarrow as pa

    table = pa.table({f: pa.array(cols[f], pa.string()) for f in _SW})
    for f in _SW:
        cols[f].clear()
    return table


def iter_components(path: Path) -> Iterator[Any]:
    """The top-level components of a JSON BOM, one at a time (for tools and tests)."""
    import ijson

    with open(path, "rb") as fh:
        yield from ijson.items(fh, "components.item", use_float=True)
