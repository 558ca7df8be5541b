"""The hardware data files kitvet reads: usb.ids/pci.ids and the IEEE registries' layouts.

Each class reads its file on first use and searches the raw bytes in place (``bytes.find``),
so a process that asks about a handful of devices never parses a whole registry; a registry
asked many times builds a full index once. Used through :mod:`kitvet.identify.hardware`.
"""

from __future__ import annotations

import logging
import lzma
import re
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

MAX_DATA_BYTES = 128 * 1024 * 1024
_INDEX_AFTER = 64  # lookups in one file before it builds a full index


def _load(path: Path) -> bytes:
    if path.suffix == ".xz":
        import lzma

        with lzma.open(path, "rb") as fh:
            return fh.read(MAX_DATA_BYTES)
    if path.suffix == ".gz":
        import gzip

        with gzip.open(path, "rb") as fh:
            return fh.read(MAX_DATA_BYTES)
    with path.open("rb") as fh:
        return fh.read(MAX_DATA_BYTES)


@dataclass
class _File:
    """One data file, read on first use, searched in place, indexed after many lookups."""

    path: Path
    label: str
    _data: bytes | None = None
    _lookups: int = 0
    _index: dict[str, str] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def data(self) -> bytes:
        """The file's bytes (read once, with a leading newline so every line starts after one)."""
        if self._data is None:
            with self._lock:
                if self._data is None:
                    try:
                        self._data = b"\n" + _load(self.path)
                    except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as e:  # truncated
                        logger.warning("cannot read %s: %s", self.path, e)
                        self._data = b"\n"
        return self._data


class IdsFile(_File):
    """usb.ids / pci.ids: ``vvvv  Vendor`` lines, then ``\\tpppp  Product`` lines."""

    def vendor(self, vid: str) -> str | None:
        """The name on the vendor line ``vid`` (4 lower-case hex digits), if any."""
        pos = self._vendor_pos(vid)
        if pos < 0:
            return None
        return _line_rest(self.data, pos + 1 + 4)

    def product(self, vid: str, pid: str) -> str | None:
        """The name of product ``pid`` within vendor ``vid``'s block only."""
        data = self.data
        pos = self._vendor_pos(vid)
        if pos < 0:
            return None
        end = _NEXT_TOP.search(data, pos + 5)
        stop = end.start() if end else len(data)
        at = data.find(b"\n\t" + pid.encode() + b"  ", pos, stop)
        if at < 0:
            return None
        return _line_rest(data, at + 2 + 4)

    def device_class(self, code: str) -> str | None:
        """pci.ids class name of a class code ("0x020000" -> "Ethernet controller").

        The subclass name when listed, else the class name (the ``C xx`` section).
        """
        digits = code.lower().removeprefix("0x").ljust(6, "0")  # CC, CCSS or CCSSPP
        data = self.data
        at = data.find(f"\nC {digits[:2]}  ".encode())
        if at < 0:
            return None
        name = _line_rest(data, at + 6)
        end = data.find(b"\nC ", at + 1)
        sub = data.find(f"\n\t{digits[2:4]}  ".encode(), at, end if end > 0 else len(data))
        return _line_rest(data, sub + 6) if sub >= 0 else name

    def _vendor_pos(self, vid: str) -> int:
        data = self.data
        key = b"\n" + vid.encode() + b"  "
        return data.find(key)


_NEXT_TOP = re.compile(rb"\n[^\t#\n]")


def _line_rest(data: bytes, pos: int) -> str:
    end = data.find(b"\n", pos)
    text = data[pos : end if end >= 0 else len(data)]
    return text.decode("utf-8", errors="replace").strip()


class IeeeCsv(_File):
    """An IEEE registry CSV: ``Registry,Assignment,Organization Name,Organization Address``."""

    registry: str = ""
    digits: int = 6
    date: str = ""  # publication (or fetch) date of this copy

    def org(self, hexmac: str) -> str | None:
        """The organisation of the block containing ``hexmac`` (12 upper-case hex digits)."""
        key = hexmac[: self.digits]
        if self._index is not None:
            return self._index.get(key)
        self._lookups += 1
        if self._lookups > _INDEX_AFTER:
            self._index = self._build()
            return self._index.get(key)
        data = self.data
        at = data.find(f"\n{self.registry},{key},".encode())
        if at < 0:
            return None
        end = data.find(b"\n", at + 1)
        return _csv_org(data[at + 1 : end if end >= 0 else len(data)])

    def _build(self) -> dict[str, str]:
        return dict(self.entries())

    def entries(self) -> Iterator[tuple[str, str]]:
        """Every (assignment hex digits, organisation) of the registry."""
        prefix = f"{self.registry},".encode()
        for line in self.data.split(b"\n"):
            if line.startswith(prefix):
                key = line[len(prefix) : len(prefix) + self.digits].decode("ascii", "replace")
                org = _csv_org(line)
                if org:
                    yield key, org


def _csv_org(line: bytes) -> str | None:
    import csv

    text = line.decode("utf-8", errors="replace").rstrip("\r")
    try:
        fields = next(csv.reader([text]))
    except (csv.Error, StopIteration):
        return None
    return fields[2].strip() if len(fields) > 2 and fields[2].strip() else None


class NetaddrOui(_File):
    """netaddr's ``oui.txt`` (IEEE MA-L in the registry's text layout).

    netaddr ships ``oui.idx`` beside it (decimal prefix, byte offset, length per entry): when
    present only the index (~0.7 MB) is searched and the one record read, not all 5.7 MB.
    """

    def org(self, hexmac: str) -> str | None:
        """The organisation of the block containing ``hexmac`` (12 upper-case hex digits)."""
        key = hexmac[:6]
        idx = self.path.with_suffix(".idx")
        if idx.is_file():
            return self._via_index(idx, key)
        at = self.data.find(f"\n{key}     (base 16)".encode())
        if at < 0:
            return None
        return _line_rest(self.data, at + 1 + 6 + len("     (base 16)")) or None

    _offsets: dict[int, tuple[int, int]] | None = None

    def entries(self) -> Iterator[tuple[str, str]]:
        """Every (MA-L hex digits, organisation) of the file."""
        for m in _OUI_LINE.finditer(self.data):
            yield m.group(1).decode(), m.group(2).decode("utf-8", "replace").strip()

    def _via_index(self, idx: Path, key: str) -> str | None:
        if self._index is None:
            self._index = {}  # answers already given (an importer asks for many MACs)
            try:
                self._idx_data = b"\n" + idx.read_bytes()
            except OSError:
                self._idx_data = b"\n"
        if key in self._index:
            return self._index[key] or None
        self._lookups += 1
        if self._offsets is None and self._lookups > _INDEX_AFTER:
            self._offsets = _parse_oui_idx(self._idx_data)
        entry = self._offsets.get(int(key, 16)) if self._offsets is not None else \
            _find_oui_idx(self._idx_data, key)
        org = self._read_record(*entry) if entry else None
        self._index[key] = org or ""
        return org

    def _read_record(self, offset: int, size: int) -> str | None:
        try:
            with self.path.open("rb") as fh:
                fh.seek(offset)
                record = fh.read(min(size, 65536))
        except OSError:
            return None
        marker = record.find(b"(base 16)")
        if marker < 0:
            return None
        return _line_rest(record, marker + len("(base 16)")) or None


def _find_oui_idx(idx_data: bytes, key: str) -> tuple[int, int] | None:
    """One entry of netaddr's oui.idx (``prefix,offset,size`` lines), searched in place."""
    at = idx_data.find(f"\n{int(key, 16)},".encode())
    if at < 0:
        return None
    end = idx_data.find(b"\n", at + 1)
    fields = idx_data[at + 1 : end if end > 0 else None].split(b",")
    try:
        return int(fields[1]), int(fields[2])
    except (ValueError, IndexError):
        return None


def _parse_oui_idx(idx_data: bytes) -> dict[int, tuple[int, int]]:
    """All of netaddr's oui.idx as a dict (built once an importer has asked many times)."""
    out: dict[int, tuple[int, int]] = {}
    for line in idx_data.split(b"\n"):
        fields = line.split(b",")
        if len(fields) == 3:
            try:
                out.setdefault(int(fields[0]), (int(fields[1]), int(fields[2])))
            except ValueError:
                continue
    return out


_OUI_LINE = re.compile(rb"^([0-9A-F]{6})\s+\(base 16\)[ \t]*([^\n]*\S)", re.MULTILINE)
_IAB = re.compile(
    rb"^([0-9A-F]{2})-([0-9A-F]{2})-([0-9A-F]{2})\s+\(hex\)[^\n]*\n([0-9A-F]{3})[0-9A-F]{3}-"
    rb"[0-9A-F]{6}\s+\(base 16\)\s*([^\n]*)", re.MULTILINE)


class NetaddrIab(_File):
    """netaddr's ``iab.txt`` (IEEE IAB: 36-bit blocks, the predecessor of MA-S)."""

    def org(self, hexmac: str) -> str | None:
        """The organisation of the block containing ``hexmac`` (12 upper-case hex digits)."""
        if self._index is None:
            self._lookups += 1
            if self._lookups <= _INDEX_AFTER:  # few look-ups (collect): search in place
                dashed = "-".join(hexmac[i : i + 2] for i in (0, 2, 4))
                if self.data.find(f"\n{dashed} ".encode()) < 0:
                    return None  # no IAB block under this MA-L: skip parsing the whole file
            self._index = dict(self.entries())
        return self._index.get(hexmac[:9])

    def entries(self) -> Iterator[tuple[str, str]]:
        """Every (36-bit block hex digits, organisation) of the file."""
        for m in _IAB.finditer(self.data):
            yield ((m.group(1) + m.group(2) + m.group(3) + m.group(4)).decode(),
                   m.group(5).decode("utf-8", "replace").strip())
