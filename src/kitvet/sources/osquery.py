"""osquery: ``osqueryi --json`` output and osqueryd result logs (snapshot, event, batched).

A result log is read line by line (never whole) and replayed per host (``hostIdentifier``):
a snapshot event replaces that query's rows, ``added``/``removed`` events (single or batched
in ``diffResults``) change them, and a new ``epoch`` or a counter back at 0 starts the query
over. Each query is mapped to its osquery table by its name (``programs``,
``pack_inventory_programs``) or else by its columns; only the final state is turned into
kitvet rows, so one malformed line costs that line only. Table columns follow osquery's
``specs/*.table``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from kitvet.errors import SourceError
from kitvet.identify.hardware import name_devices
from kitvet.model import Host, Snapshot
from kitvet.sources import osquery_tables as tables
from kitvet.sources.detect_util import (
    host_id_from_path,
    load_json_file,
    loads,
    platform_of,
    shown,
    text,
    with_institution,
)
from kitvet.sources.interface import Importer

try:
    from orjson import OPT_SORT_KEYS
    from orjson import dumps as _odumps

    def _row_key(row: dict[str, Any]) -> bytes:
        # copied: orjson's bytes keep their whole (~4 KiB) write buffer, 15x the JSON itself
        return bytes(memoryview(_odumps(row, option=OPT_SORT_KEYS)))
except ImportError:  # pragma: no cover
    def _row_key(row: dict[str, Any]) -> bytes:
        return json.dumps(row, sort_keys=True).encode()

logger = logging.getLogger(__name__)

#: Longest result-log line read; longer lines are skipped without being held in memory.
MAX_LINE_BYTES = 256 * 1024 * 1024


class OsqueryImporter(Importer):
    """Reads osqueryi JSON output and osqueryd result logs."""

    name = "osquery"
    description = "osquery: osqueryi --json output, osqueryd result logs (snapshot/differential)"

    def detect(self, path: Path, head: bytes) -> bool:
        if not path.is_file():
            return False
        body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        first = _first_json_value(body)
        if isinstance(first, dict):
            return _is_event(first)
        if isinstance(first, list) and first:
            item = first[0]
            return isinstance(item, dict) and (
                _is_event(item) or tables.table_for(None, item) is not None)
        return False

    def read(self, path: Path, *, institution: str | None = None) -> list[Snapshot]:
        try:
            with path.open("rb") as fh:
                start = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
        except OSError as e:
            raise SourceError(f"cannot read: {e.strerror or e}", file=shown(path)) from e
        if not start:
            raise SourceError("file is empty", file=shown(path))
        if start.startswith(b"["):
            snaps = _read_array(path)
        else:
            with path.open("rb") as fh:
                replay = _Replay(shown(path))
                for lineno, line in _lines(fh):
                    replay.feed(lineno, line)
                snaps = replay.snapshots()
        return with_institution(snaps, institution)


def _first_json_value(body: bytes) -> Any:
    """The first JSON value of a (possibly cut) head: a whole first line, or a list's 1st item."""
    try:
        if body.startswith(b"{"):
            return _lenient(body.split(b"\n", 1)[0])
        if body.startswith(b"["):
            dec = json.JSONDecoder()
            rest = body[1:].decode("utf-8", "replace").lstrip()
            if rest.startswith("]"):
                return None
            return [dec.raw_decode(rest)[0]]
    except (ValueError, RecursionError):
        return None
    return None


def _is_event(ev: dict[str, Any]) -> bool:
    return "name" in ev and ("columns" in ev or "snapshot" in ev or "diffResults" in ev)


def _lines(fh: IO[bytes]) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) with bounded memory; an over-long line yields ``None``."""
    lineno = 0
    while True:
        line = fh.readline(MAX_LINE_BYTES)
        if not line:
            return
        lineno += 1
        if len(line) >= MAX_LINE_BYTES and not line.endswith(b"\n"):
            while True:
                more = fh.readline(1 << 20)
                if not more or more.endswith(b"\n"):
                    break
            yield lineno, None
            continue
        yield lineno, line


def _lenient(line: bytes) -> Any:
    """A line that is JSON except for bytes that are not UTF-8 (names in a legacy code page)."""
    try:
        return loads(line.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        return None


class _HostState:
    """The replayed state of one host: per query, its current rows keyed by their content."""

    __slots__ = ("decorations", "ignored", "last_time", "marks", "queries", "skips")

    def __init__(self) -> None:
        self.queries: dict[str, dict[bytes, int]] = {}
        self.marks: dict[str, tuple[Any, Any]] = {}
        self.decorations: dict[str, Any] = {}
        self.last_time = 0
        self.ignored: dict[str, int] = {}
        self.skips: list[tuple[str, str]] = []  # (reason, location)


class _Replay:
    """Replays result-log events into the current state of each host."""

    def __init__(self, file: str, unit: str = "line") -> None:
        self.file = file
        self.unit = unit  # what the number in a location counts: "line" or array "item"
        self.hosts: dict[str, _HostState] = {}
        self.tables: dict[str, str | None] = {}
        self.bad_lines: list[tuple[str, str]] = []

    def feed(self, lineno: int, line: bytes | None) -> None:
        """Apply one log line."""
        if line is None:
            self.bad_lines.append(("line longer than the limit, skipped",
                                   f"{self.file}:{lineno}"))
            return
        try:
            ev = loads(line)
        except (ValueError, RecursionError) as e:
            ev = _lenient(line)
            if ev is None:
                if line.strip():
                    self.bad_lines.append((f"not valid JSON ({str(e)[:120]})",
                                           f"{self.file}:{lineno}"))
                return
        self.event(ev, lineno)

    def event(self, ev: Any, lineno: int) -> None:
        """Apply one decoded event."""
        if type(ev) is not dict or not _is_event(ev) or type(ev["name"]) is not str:
            self.bad_lines.append(("not an osquery result event", f"{self.file}:{lineno}"))
            return
        host = ev.get("hostIdentifier")
        hs = self.hosts.get(host) if type(host) is str else None  # the common, fast case
        deco = ev.get("decorations")
        if hs is None:
            deco = deco if type(deco) is dict else {}
            host = text(host) or text(ev.get("hostname")) or text(deco.get("host_uuid")) \
                or text(deco.get("hostname"))
            if host is None:
                self.bad_lines.append(("event without hostIdentifier", f"{self.file}:{lineno}"))
                return
            hs = self.hosts.get(host) or self.hosts.setdefault(host, _HostState())
        if deco and type(deco) is dict and deco != hs.decorations:
            hs.decorations.update(deco)
        t = ev.get("unixTime")
        if type(t) is int or (type(t) is str and t.isdigit()):
            t = int(t)
            if t > hs.last_time:
                hs.last_time = t
        name = ev["name"][:256]
        if "snapshot" in ev:
            rows = ev["snapshot"] if isinstance(ev["snapshot"], list) else []
            state = self._state(hs, name, rows[0] if rows else None, reset=True)
            if state is not None:
                self._apply(hs, state, name, lineno, rows, add=True)
            return
        self._mark(hs, name, ev)
        if "diffResults" in ev:
            diff = ev["diffResults"] if isinstance(ev["diffResults"], dict) else {}
            added: list[Any] = diff["added"] if isinstance(diff.get("added"), list) else []
            removed: list[Any] = diff["removed"] if isinstance(diff.get("removed"), list) else []
            sample = added[0] if added else (removed[0] if removed else None)
            state = self._state(hs, name, sample, reset=False)
            if state is not None:
                self._apply(hs, state, name, lineno, removed, add=False)
                self._apply(hs, state, name, lineno, added, add=True)
            return
        action = ev.get("action")
        cols = ev.get("columns")
        state = self._state(hs, name, cols, reset=False)
        if state is None:
            return
        if action not in ("added", "removed"):
            hs.skips.append((f"unknown action {str(action)[:40]!r}", f"{self.file}:{lineno}"))
            return
        self._apply(hs, state, name, lineno, [cols], add=action == "added")

    def _mark(self, hs: _HostState, name: str, ev: dict[str, Any]) -> None:
        """Start the query over when osquery did: a new epoch, or the counter back at 0."""
        epoch, counter = ev.get("epoch"), ev.get("counter")
        last = hs.marks.get(name)
        hs.marks[name] = (epoch, counter)
        if last is None or name not in hs.queries:
            return
        if epoch != last[0] or (str(counter) == "0" and str(last[1]) != "0"):
            hs.queries[name] = {}

    def _state(self, hs: _HostState, name: str, sample: Any, *, reset: bool
               ) -> dict[bytes, int] | None:
        if name not in self.tables:
            if sample is None:
                return hs.queries.get(name, None)
            self.tables[name] = tables.table_for(name, sample if isinstance(sample, dict) else {})
        if self.tables[name] is None:
            hs.ignored[name] = hs.ignored.get(name, 0) + 1
            return None
        if reset or name not in hs.queries:
            hs.queries[name] = {}
        return hs.queries[name]

    def _apply(self, hs: _HostState, state: dict[bytes, int], name: str,
               lineno: int, rows: list[Any], *, add: bool) -> None:
        # a row is kept as its canonical JSON only (it is decoded again, once per distinct
        # row, when the final state is converted): a tenth of the memory of the dicts
        key = _row_key
        for row in rows:
            if type(row) is not dict and not isinstance(row, dict):
                hs.skips.append((f"query {name!r}: a row is not an object",
                                 f"{self.file}:{lineno}"))
            elif add:
                state[key(row)] = lineno
            else:
                state.pop(key(row), None)

    def snapshots(self) -> list[Snapshot]:
        """The current state of every host as snapshots."""
        snaps: list[Snapshot] = []
        cache: dict[Any, Any] = {}  # rows seen on many hosts are converted once
        locs: dict[int, str] = {}  # one location string per line, shared by its rows
        for host_id, hs in self.hosts.items():
            collected = (datetime.fromtimestamp(hs.last_time, UTC)
                         .strftime("%Y-%m-%dT%H:%M:%SZ") if hs.last_time else None)
            rows: dict[str, list[tuple[str, Any]]] = {}
            for name, state in hs.queries.items():
                rows[name] = [(locs.get(ln) or locs.setdefault(ln, f"{self.file}:{ln}"), key)
                              for key, ln in state.items()]
            snap = build_snapshot(host_id, rows, self.tables, hs.decorations, collected,
                                  cache=cache)
            for reason, where in hs.skips:
                snap.skip("osquery", reason, where)
            for name, n in hs.ignored.items():
                snap.skip("osquery", f"query {name!r} is not an inventory table "
                          f"({n} events ignored)", self.file)
            snaps.append(snap)
        if self.bad_lines:
            if not snaps:  # not one line was a usable event: this is not an osquery log
                reason, where = self.bad_lines[0]
                raise SourceError(f"no osquery result event in the file ({reason}; "
                                  f"{len(self.bad_lines)} line(s) unusable)", file=self.file,
                                  place=f"{self.unit} {where.rsplit(':', 1)[-1]}")
            for reason, where in self.bad_lines:
                snaps[0].skip("osquery", reason, where)
        return snaps


def _read_array(path: Path) -> list[Snapshot]:
    """``osqueryi --json`` output (rows of one query), or a JSON array of result events."""
    data = load_json_file(path)
    if not isinstance(data, list):
        raise SourceError(f"expected a JSON array of rows, found {type(data).__name__}",
                          file=shown(path), place="$")
    first = next((r for r in data if isinstance(r, dict)), None)
    if first is not None and _is_event(first):
        replay = _Replay(shown(path), unit="item")
        for i, ev in enumerate(data):
            replay.event(ev, i)
        return replay.snapshots()
    table = tables.table_for(path.stem, first or {})
    host_id = host_id_from_path(path, generic=tables.TABLE_NAMES)
    if table is None:
        raise SourceError("osqueryi output of a table kitvet does not read "
                          f"(columns: {', '.join(sorted(first or {}))[:200]})", file=shown(path))
    rows: list[tuple[str, Any]] = [(f"{shown(path)}:$[{i}]", r) for i, r in enumerate(data)]
    return [build_snapshot(host_id, {table: rows}, {table: table}, {}, None, from_file=True)]


#: Tables only one platform has (osquery specs): the platform of a host without os_version.
_PLATFORM_TABLES = {"programs": "windows", "authenticode": "windows", "apps": "macos",
                    "signature": "macos", "deb_packages": "linux", "rpm_packages": "linux"}


def _platform(osv: dict[str, Any], by_table: dict[str, Any]) -> str:
    """From os_version, else from tables only one platform has (osqueryi exports of one table)."""
    named = platform_of(osv.get("platform"), osv.get("platform_like"), osv.get("name"))
    if named != "unknown":
        return named
    found = {_PLATFORM_TABLES[t] for t in by_table if by_table[t] and t in _PLATFORM_TABLES}
    return found.pop() if len(found) == 1 else "unknown"


def build_snapshot(host_id: str, rows: dict[str, list[tuple[str, Any]]],
                   table_of: dict[str, str | None], decorations: dict[str, Any],
                   collected_at: str | None, *, from_file: bool = False,
                   cache: dict[Any, Any] | None = None) -> Snapshot:
    """One host's snapshot from its rows per query (``table_of`` maps query -> table).

    A row is a decoded object or its canonical JSON (``bytes``, from a replayed log);
    software rows in JSON are converted once per distinct row and table through ``cache``.
    """
    by_table: dict[str, list[tuple[str, Any]]] = {}
    for name, rs in rows.items():
        t = table_of.get(name)
        if t:
            if t not in tables.SOFTWARE:  # few rows, read by several steps: decode them now
                rs = [(w, loads(r) if type(r) is bytes else r) for w, r in rs]
            by_table.setdefault(t, []).extend(rs)
    sysinfo = next((r for _, r in by_table.get("system_info", []) if isinstance(r, dict)), {})
    osv = next((r for _, r in by_table.get("os_version", []) if isinstance(r, dict)), {})
    hostname = text(sysinfo.get("hostname")) or text(decorations.get("hostname"))
    if from_file and (text(sysinfo.get("uuid")) or hostname):
        host_id = text(sysinfo.get("uuid")) or hostname or host_id
    host = Host(
        host_id=host_id,
        hostname=hostname or (None if from_file else host_id),
        platform=_platform(osv, by_table),
        os_name=text(osv.get("name")),
        os_version=text(osv.get("version")),
        machine_id=text(sysinfo.get("uuid")) or text(decorations.get("host_uuid")),
        collected_at=collected_at,
        sources=("osquery",),
    )
    snap = Snapshot(host=host)
    tables.add_rows(snap, by_table, osv, cache)
    name_devices(snap.devices)
    return snap
