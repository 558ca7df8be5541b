"""CSV exports of asset tools (GLPI, Lansweeper, Intune, spreadsheets), through a column mapping.

A mapping names, for kitvet fields, the CSV column that holds them::

    --map "name=Software,version=Version,publisher=Publisher,host=Computer Name,institution=Entity"

or a small YAML/TOML file (``--mapping FILE``) with a ``columns:`` table (see docs/import.md).
Rows become software when ``name`` is mapped, devices when only device fields are (vendor_id,
mac, ...), of the hosts named by the ``host`` column (or one host named after the file). The
file's encoding (UTF-8 with or without BOM, UTF-16 with BOM, else Windows-1252) and delimiter
(``,`` ``;`` tab ``|``, by csv.Sniffer) are detected; quoted and multi-line fields are read.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import logging
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

from kitvet.errors import SourceError
from kitvet.identify.hardware import name_devices
from kitvet.model import DEVICE_FIELDS, FILE_FIELDS, SOFTWARE_FIELDS, Host, Snapshot
from kitvet.sources.detect_util import (
    hex_id,
    host_id_from_path,
    mac_address,
    platform_of,
    shown,
    text,
    with_institution,
)
from kitvet.sources.interface import Importer

logger = logging.getLogger(__name__)

HOST_TARGETS = ("host", "institution", "platform", "os_name", "os_version", "machine_id")
_ROW_TARGETS = tuple(dict.fromkeys(
    f for f in SOFTWARE_FIELDS + DEVICE_FIELDS + FILE_FIELDS
    if f not in ("host_id", "source", "location")))
TARGETS: tuple[str, ...] = HOST_TARGETS + _ROW_TARGETS
_DEVICE_ONLY = {"vendor_id", "product_id", "vendor_name", "product_name", "mac", "ip", "bus",
                "serial", "oui_org"}
#: Longest physical line read; a longer one is skipped without being held in memory.
MAX_LINE_CHARS = 1024 * 1024
_OVERLONG = "\x00kitvet-overlong-line\x00"


@dataclass(frozen=True)
class CsvMapping:
    """kitvet field -> CSV column header; ``kind`` is software, device, or None (decide)."""

    columns: dict[str, str] = field(default_factory=dict)
    kind: str | None = None
    name: str = "custom"

    @property
    def row_kind(self) -> str:
        """Whether rows become software, device or file rows (a file listing maps ``path``
        and no software ``name``)."""
        if self.kind:
            return self.kind
        if "name" in self.columns:
            return "software"
        if _DEVICE_ONLY & set(self.columns):
            return "device"
        return "file" if "path" in self.columns else "software"


#: Built-in mappings for exports whose column names are documented.
#: intune: Microsoft Intune "Discovered apps" raw-data export (report AppInvRawData /
#: AppInvByDevice of the Graph exportJobs API; columns from Microsoft's Intune documentation
#: "Intune reports and properties available using Graph API").
PRESETS: dict[str, CsvMapping] = {
    "intune": CsvMapping(name="intune", kind="software", columns={
        "name": "ApplicationName", "version": "ApplicationVersion",
        "publisher": "ApplicationPublisher", "host": "DeviceName", "machine_id": "DeviceId",
        "platform": "Platform", "os_name": "OSDescription", "os_version": "OSVersion"}),
}
_PRESET_REQUIRES = {"intune": ("ApplicationName", "DeviceName")}


def parse_map(spec: str) -> CsvMapping:
    """Parse ``--map "name=Software,version=Version,host=Computer Name"``."""
    cols: dict[str, str] = {}
    for part in (p for p in spec.split(",") if p.strip()):
        key, sep, column = part.partition("=")
        if not sep or not column.strip():
            raise SourceError(f"--map entry {part.strip()!r} is not FIELD=COLUMN")
        cols[key.strip()] = column.strip()
    return _checked(cols, None, where="--map")


def load_mapping(path: Path) -> CsvMapping:
    """A mapping file: YAML or TOML with ``columns`` (and optional ``kind``, ``preset``)."""
    try:
        raw_text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise SourceError(f"cannot read mapping: {e}", file=shown(path)) from e
    try:
        data = tomllib.loads(raw_text) if path.suffix.lower() == ".toml" \
            else yaml.safe_load(raw_text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as e:
        raise SourceError(f"mapping is not valid {'TOML' if path.suffix == '.toml' else 'YAML'}"
                          f" ({str(e)[:200]})", file=shown(path)) from e
    if not isinstance(data, dict):
        raise SourceError("a mapping file must be a table with \"columns\"", file=shown(path))
    base = PRESETS.get(str(data.get("preset"))) if data.get("preset") else None
    if data.get("preset") and base is None:
        raise SourceError(f"unknown preset {data['preset']!r} (known: {', '.join(PRESETS)})",
                          file=shown(path), place="preset")
    cols = dict(base.columns) if base else {}
    given = data.get("columns", {})
    if not isinstance(given, dict) or not all(isinstance(v, str) for v in given.values()):
        raise SourceError("\"columns\" must map kitvet fields to column names",
                          file=shown(path), place="columns")
    cols.update({str(k): v for k, v in given.items()})
    kind = data.get("kind") or (base.kind if base else None)
    return _checked(cols, kind, where=shown(path))


def _checked(cols: dict[str, str], kind: Any, *, where: str) -> CsvMapping:
    unknown = sorted(set(cols) - set(TARGETS))
    if unknown:
        raise SourceError(f"unknown field(s) {', '.join(unknown)} in mapping "
                          f"(known: {', '.join(TARGETS)})", file=where)
    if kind not in (None, "software", "device", "file"):
        raise SourceError(f"kind must be software, device or file, not {kind!r}", file=where)
    if not cols:
        raise SourceError("the mapping names no columns", file=where)
    return CsvMapping(columns=cols, kind=kind)


class CsvImporter(Importer):
    """Reads CSV exports through a column mapping (``--map``/``--mapping``) or a preset."""

    name = "csv"
    description = "CSV export of an asset tool, via --map/--mapping or a preset (intune)"

    def __init__(self, mapping: CsvMapping | None = None) -> None:
        self.mapping = mapping

    def detect(self, path: Path, head: bytes) -> bool:
        utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        if not path.is_file() or (b"\x00" in head[:4096] and not utf16):
            return False
        if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[", b"<"):
            return False
        header = _decode_head(head).split("\n", 1)[0]
        if self.mapping is not None:
            return any(d in header for d in ",;\t|")
        return _preset_for(_split_header(header)) is not None

    def read(self, path: Path, *, institution: str | None = None) -> list[Snapshot]:
        with _open_text(path) as fh:
            lines = _bounded_lines(fh)
            first = next(lines, None)
            if first is None or not first.strip():
                raise SourceError("file is empty", file=shown(path))
            dialect = _sniff(first)
            reader = csv.reader(_chain(first, lines), dialect)
            try:
                header = [h.strip() for h in next(reader)]
            except csv.Error as e:
                raise SourceError(f"unreadable CSV header ({e})", file=shown(path),
                                  place="line 1") from e
            mapping = self.mapping or _preset_for(header)
            if mapping is None:
                raise SourceError("no column mapping: give --map or --mapping (columns are: "
                                  f"{_columns(header)})", file=shown(path), place="line 1")
            index = _resolve(mapping, header, path)
            snaps = _rows(reader, mapping, index, path)
        return with_institution(snaps, institution)


def _columns(header: list[str]) -> str:
    """A header's column names for an error message: bounded, without control characters."""
    return ", ".join(t for t in (text(h) for h in header[:50]) if t)[:300]


def _decode_head(head: bytes) -> str:
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                     (codecs.BOM_UTF16_BE, "utf-16")):
        if head.startswith(bom):
            return head.decode(enc, "replace")
    return head.decode("utf-8", "replace")


def _open_text(path: Path) -> IO[str]:
    """The file as text: UTF-8 (BOM optional), UTF-16 with BOM, else Windows-1252."""
    try:
        with path.open("rb") as fh:
            start = fh.read(4)
        if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return path.open(encoding="utf-16", errors="replace", newline="")
        enc = "utf-8-sig"
        with path.open("rb") as fh:
            decoder = codecs.getincrementaldecoder("utf-8-sig")()
            try:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                logger.warning("%s is not UTF-8; reading it as Windows-1252", path)
                enc = "cp1252"
        return path.open(encoding=enc, errors="replace", newline="")
    except OSError as e:
        raise SourceError(f"cannot read: {e.strerror or e}", file=shown(path)) from e


def _bounded_lines(fh: IO[str]) -> Iterator[str]:
    while True:
        line = fh.readline(MAX_LINE_CHARS)
        if not line:
            return
        if len(line) >= MAX_LINE_CHARS and not line.endswith("\n"):
            while True:
                more = fh.readline(MAX_LINE_CHARS)
                if not more or more.endswith("\n"):
                    break
            yield _OVERLONG + "\n"
            continue
        yield line


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


#: csv.Sniffer is worse than quadratic in the line's length (a 64 KiB header took 90 s): it
#: sees only the header's start, which names the delimiter as well as the whole.
SNIFF_CHARS = 2048


def _sniff(header_line: str) -> type[csv.Dialect]:
    """Excel's CSV rules with the header's delimiter (csv.Sniffer, else the commonest)."""
    sample = header_line[:SNIFF_CHARS]
    try:
        delim = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: sample.count(d) for d in ",;\t|"}
        delim = max(counts, key=lambda d: counts[d])
    return type("Sniffed", (csv.excel,), {"delimiter": delim})


def _split_header(line: str) -> list[str]:
    try:
        return [h.strip() for h in next(csv.reader([line], _sniff(line)))]
    except (csv.Error, StopIteration):
        return []


def _preset_for(header: list[str]) -> CsvMapping | None:
    have = {h.casefold() for h in header}
    for name, required in _PRESET_REQUIRES.items():
        if all(r.casefold() in have for r in required):
            return PRESETS[name]
    return None


def _resolve(mapping: CsvMapping, header: list[str], path: Path) -> dict[str, int]:
    """kitvet field -> column index; a mapped column missing from the header is an error."""
    pos = {h.casefold(): i for i, h in reversed(list(enumerate(header)))}
    index: dict[str, int] = {}
    for target, column in mapping.columns.items():
        i = pos.get(column.strip().casefold())
        if i is None:
            if mapping.name != "custom" and target not in ("name", "host"):
                continue  # presets: optional columns may have been left out of the export
            raise SourceError(f"column {column!r} (for {target}) is not in the header; "
                              f"columns are: {_columns(header)}", file=shown(path),
                              place="line 1")
        index[target] = i
    return index


def _rows(reader: Any, mapping: CsvMapping, index: dict[str, int], path: Path
          ) -> list[Snapshot]:
    kind = mapping.row_kind
    hosts: dict[str, Snapshot] = {}
    default_host = host_id_from_path(path, generic=("export", "software", "inventory"))
    source = f"csv:{mapping.name}"
    orphans: list[tuple[str, str]] = []
    errors = 0
    while True:
        start = reader.line_num + 1  # a quoted field may span lines: name the first
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            orphans.append((f"unreadable CSV row ({e})", f"{shown(path)}:{reader.line_num}"))
            errors += 1
            if errors > 1000:
                break
            continue
        where = f"{shown(path)}:{start}"
        if not cells or all(not c.strip() for c in cells):
            continue
        if cells[0].startswith(_OVERLONG):
            orphans.append((f"line longer than {MAX_LINE_CHARS} characters", where))
            continue
        values = {t: text(cells[i]) if i < len(cells) else None for t, i in index.items()}
        host_name = values.pop("host", None) if "host" in index else default_host
        if not host_name:
            orphans.append(("row without a host name", where))
            continue
        snap = hosts.get(host_name) or hosts.setdefault(host_name, _new_host(host_name, source))
        _fill_host(snap, values)
        _add_row(snap, kind, values, source, where)
    snaps = list(hosts.values())
    if orphans:
        if not snaps:
            snaps.append(_new_host(default_host, source))
        for reason, where in orphans:
            snaps[0].skip(source, reason, where)
    for snap in snaps:
        name_devices(snap.devices)
    return snaps


def _new_host(name: str, source: str) -> Snapshot:
    return Snapshot(host=Host(host_id=name, hostname=name, sources=(source,)))


def _fill_host(snap: Snapshot, values: dict[str, Any]) -> None:
    h = snap.host
    updates = {f: values[f] for f in ("institution", "os_name", "os_version", "machine_id")
               if values.get(f) and not getattr(h, f)}
    if values.get("platform") and h.platform == "unknown":
        updates["platform"] = platform_of(values["platform"])
    for f in HOST_TARGETS:
        values.pop(f, None)
    if updates:
        snap.host = dataclasses.replace(h, **updates)


def _add_row(snap: Snapshot, kind: str, values: dict[str, Any], source: str, where: str
             ) -> None:
    if kind == "software":
        row = {k: v for k, v in values.items() if v and k in SOFTWARE_FIELDS}
        if not row.get("name"):
            snap.skip(source, "row without a software name", where)
            return
        snap.add_software(source=source, location=where, **row)
        return
    if kind == "file":
        row = {k: v for k, v in values.items() if v and k in FILE_FIELDS}
        if not row.get("path"):
            snap.skip(source, "row without a file path", where)
            return
        row.setdefault("name", row["path"].replace("\\", "/").rstrip("/").rsplit("/", 1)[-1])
        for h in ("sha256", "sha1", "md5"):
            if h in row:
                row[h] = row[h].lower()
        snap.add_file(source=source, location=where, **row)
        return
    row = {k: v for k, v in values.items() if v and k in DEVICE_FIELDS}
    for k in ("vendor_id", "product_id"):
        if k in row:
            row[k] = hex_id(row[k]) or row[k].lower()
    if "mac" in row:
        mac = mac_address(row["mac"])
        if mac is None:
            snap.skip(source, f"not a MAC address: {row['mac'][:40]!r}", where)
            return
        row["mac"] = mac
    if not row:
        snap.skip(source, "device row with no mapped values", where)
        return
    snap.add_device(source=source, location=where, **row)


def read_csv_text(data: str, *, mapping: CsvMapping, name: str = "<csv>") -> list[Snapshot]:
    """Read CSV from a string (tests, stdin): same rules as files."""
    reader = csv.reader(io.StringIO(data), _sniff(data.split("\n", 1)[0]))
    header = [h.strip() for h in next(reader, [])]
    return _rows(reader, mapping, _resolve(mapping, header, Path(name)), Path(name))
