"""Who made a device: USB/PCI ids (usb.ids, pci.ids) and MAC addresses (IEEE registries).

Each answer names the database it came from, so a finding can say e.g.
"USB vendor id 12d1 → Huawei Technologies Co., Ltd. (usb.ids (/usr/share/misc/usb.ids))".

Where the data comes from, first found wins (see docs/collect.md):

* usb.ids / pci.ids: the system's files (/usr/share/misc, /usr/share/hwdata,
  /var/lib/usbutils, ...), else what ``kitvet update-data`` fetched into the data dir
  (``$KITVET_DATA_DIR``, default ``~/.local/share/kitvet/data``), else the small subset
  kitvet carries in ``kitvet/identify/data/``.
* IEEE MA-L (24-bit), MA-M (28-bit), MA-S (36-bit): Debian's ieee-data CSVs
  (/usr/share/ieee-data/{oui,mam,oui36}.csv), else the data dir's fetched CSVs, else the
  registry netaddr ships (MA-L ``oui.txt`` and the older 36-bit ``iab.txt``), else the
  bundled subset. The older 36-bit IAB blocks come from ieee-data's ``iab.csv`` or netaddr's
  ``iab.txt``. :func:`oui_org` returns the longest match: MA-S/IAB, then MA-M, then MA-L.

Files are read only when first needed and searched in place (a few ``bytes.find`` per
lookup); a registry that is asked many times builds a full index once. Results are cached.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

logger = logging.getLogger(__name__)

Answer = tuple[str, str]  # (name, database)

PACKAGE_DATA = Path(__file__).parent / "data"
SYSTEM_IDS_DIRS = ("/usr/share/misc", "/usr/share/hwdata", "/var/lib/usbutils", "/usr/share")
SYSTEM_IEEE_DIR = "/usr/share/ieee-data"
#: (registry label, hex digits of the assignment, CSV file name), longest first.
IEEE_REGISTRIES = (("MA-S", 9, "oui36.csv"), ("IAB", 9, "iab.csv"), ("MA-M", 7, "mam.csv"),
                   ("MA-L", 6, "oui.csv"))
MAX_DATA_BYTES = 128 * 1024 * 1024
_INDEX_AFTER = 64  # lookups in one file before it builds a full index
_HEX4 = re.compile(r"^[0-9a-fA-F]{1,4}$")
_MAC_HEX = re.compile(r"[^0-9a-fA-F]")


def data_dir() -> Path:
    """kitvet's data dir: $KITVET_DATA_DIR, else $XDG_DATA_HOME/kitvet/data, else ~/.local/..."""
    env = os.environ.get("KITVET_DATA_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "kitvet" / "data"


def _load(path: Path) -> bytes:
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
        if self._data is None:
            with self._lock:
                if self._data is None:
                    try:
                        self._data = b"\n" + _load(self.path)
                    except OSError as e:
                        logger.warning("cannot read %s: %s", self.path, e)
                        self._data = b"\n"
        return self._data


class IdsFile(_File):
    """usb.ids / pci.ids: ``vvvv  Vendor`` lines, then ``\\tpppp  Product`` lines."""

    def vendor(self, vid: str) -> str | None:
        pos = self._vendor_pos(vid)
        if pos < 0:
            return None
        return _line_rest(self.data, pos + 1 + 4)

    def product(self, vid: str, pid: str) -> str | None:
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

    def org(self, hexmac: str) -> str | None:
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
        index: dict[str, str] = {}
        prefix = f"{self.registry},".encode()
        for line in self.data.split(b"\n"):
            if line.startswith(prefix):
                key = line[len(prefix) : len(prefix) + self.digits].decode("ascii", "replace")
                org = _csv_org(line)
                if org:
                    index[key] = org
        return index


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
        key = hexmac[:6]
        idx = self.path.with_suffix(".idx")
        if idx.is_file():
            return self._via_index(idx, key)
        at = self.data.find(f"\n{key}     (base 16)".encode())
        if at < 0:
            return None
        return _line_rest(self.data, at + 1 + 6 + len("     (base 16)")) or None

    def _via_index(self, idx: Path, key: str) -> str | None:
        if self._index is None:
            self._index = {}
            try:
                self._idx_data = b"\n" + idx.read_bytes()
            except OSError:
                self._idx_data = b"\n"
        at = self._idx_data.find(f"\n{int(key, 16)},".encode())
        if at < 0:
            return None
        end = self._idx_data.find(b"\n", at + 1)
        fields = self._idx_data[at + 1 : end if end > 0 else None].split(b",")
        try:
            offset, size = int(fields[1]), min(int(fields[2]), 65536)
            with self.path.open("rb") as fh:
                fh.seek(offset)
                record = fh.read(size)
        except (OSError, ValueError, IndexError):
            return None
        marker = record.find(b"(base 16)")
        if marker < 0:
            return None
        return _line_rest(record, marker + len("(base 16)")) or None


_IAB = re.compile(
    rb"^([0-9A-F]{2})-([0-9A-F]{2})-([0-9A-F]{2})\s+\(hex\)[^\n]*\n([0-9A-F]{3})[0-9A-F]{3}-"
    rb"[0-9A-F]{6}\s+\(base 16\)\s*([^\n]*)", re.M)


class NetaddrIab(_File):
    """netaddr's ``iab.txt`` (IEEE IAB: 36-bit blocks, the predecessor of MA-S)."""

    def org(self, hexmac: str) -> str | None:
        if self._index is None:
            dashed = "-".join(hexmac[i : i + 2] for i in (0, 2, 4))
            if self.data.find(f"\n{dashed} ".encode()) < 0:
                return None  # no IAB block under this MA-L: skip parsing the whole file
            self._index = {
                (m.group(1) + m.group(2) + m.group(3) + m.group(4)).decode(): m.group(5)
                .decode("utf-8", "replace").strip()
                for m in _IAB.finditer(self.data)
            }
        return self._index.get(hexmac[:9])


def _first(candidates: list[Path]) -> Path | None:
    for p in candidates:
        try:
            if p.is_file():
                return p
        except OSError:
            continue
    return None


def _ids_candidates(name: str, system_dirs: tuple[str, ...], ddir: Path) -> list[Path]:
    paths = []
    for d in system_dirs:
        paths += [Path(d) / name, Path(d) / f"{name}.gz"]
    paths += [ddir / name, PACKAGE_DATA / f"{name}.subset.gz"]
    return paths


class HardwareDB:
    """The hardware databases found on this system (see the module docstring for the order)."""

    def __init__(self, *, system_dirs: tuple[str, ...] = SYSTEM_IDS_DIRS,
                 ieee_dir: str | None = SYSTEM_IEEE_DIR, data: Path | None = None,
                 use_netaddr: bool = True) -> None:
        ddir = data if data is not None else data_dir()
        self._usb = self._ids("usb.ids", system_dirs, ddir)
        self._pci = self._ids("pci.ids", system_dirs, ddir)
        self._ieee: list[tuple[str, object]] = []
        for registry, digits, fname in IEEE_REGISTRIES:
            src = self._ieee_source(registry, digits, fname, ieee_dir, ddir, use_netaddr)
            if src is not None:
                self._ieee.append((registry, src))

    @staticmethod
    def _ids(name: str, system_dirs: tuple[str, ...], ddir: Path) -> IdsFile | None:
        path = _first(_ids_candidates(name, system_dirs, ddir))
        if path is None:
            return None
        label = "kitvet bundled subset" if path.parent == PACKAGE_DATA else str(path)
        return IdsFile(path, f"{name} ({label})")

    @staticmethod
    def _ieee_source(registry: str, digits: int, fname: str, ieee_dir: str | None, ddir: Path,
                     use_netaddr: bool) -> object | None:
        cands = ([Path(ieee_dir) / fname] if ieee_dir else []) + [ddir / fname]
        path = _first(cands)
        if path is None and use_netaddr:
            nfile = {"MA-L": "oui.txt", "IAB": "iab.txt"}.get(registry)
            npath = _netaddr_file(nfile) if nfile else None
            if npath is not None:
                cls = NetaddrOui if registry == "MA-L" else NetaddrIab
                what = "IEEE MA-L" if registry == "MA-L" else "IEEE IAB"
                return cls(npath, f"{what} (netaddr {npath.name})")
        if path is None:
            path = _first([PACKAGE_DATA / f"{fname}.subset.gz"])
            if path is None:
                return None
            src = IeeeCsv(path, f"IEEE {registry} (kitvet bundled subset)")
        else:
            src = IeeeCsv(path, f"IEEE {registry} ({path})")
        src.registry, src.digits = registry, digits
        return src

    def usb_vendor_name(self, vid: str) -> Answer | None:
        """Name of a USB vendor id ("12d1") and the database that named it."""
        return _ask(self._usb, lambda f: f.vendor(_hex4(vid)) if _hex4(vid) else None)

    def usb_product_name(self, vid: str, pid: str) -> Answer | None:
        """Name of a USB product (vendor id, product id)."""
        return _ask(self._usb, lambda f: f.product(_hex4(vid), _hex4(pid))
                    if _hex4(vid) and _hex4(pid) else None)

    def pci_vendor_name(self, vid: str) -> Answer | None:
        """Name of a PCI vendor id ("8086")."""
        return _ask(self._pci, lambda f: f.vendor(_hex4(vid)) if _hex4(vid) else None)

    def pci_device_name(self, vid: str, did: str) -> Answer | None:
        """Name of a PCI device (vendor id, device id)."""
        return _ask(self._pci, lambda f: f.product(_hex4(vid), _hex4(did))
                    if _hex4(vid) and _hex4(did) else None)

    def oui_org(self, mac: str) -> Answer | None:
        """Organisation of a MAC address (longest registered prefix) and its registry."""
        hexmac = _MAC_HEX.sub("", mac or "").upper()
        if len(hexmac) < 6:
            return None
        for registry, src in self._ieee:
            org = src.org(hexmac)  # type: ignore[attr-defined]
            if org:
                return org, src.label  # type: ignore[attr-defined]
        return None

    def sources(self) -> dict[str, str | None]:
        """Which file each database is read from (for docs and ``kitvet update-data``)."""
        out: dict[str, str | None] = {"usb.ids": self._usb.label if self._usb else None,
                                      "pci.ids": self._pci.label if self._pci else None}
        for registry, src in self._ieee:
            out[registry] = src.label  # type: ignore[attr-defined]
        return out


def _ask(f: IdsFile | None, fn: object) -> Answer | None:
    if f is None:
        return None
    name = fn(f)  # type: ignore[operator]
    return (name, f.label) if name else None


def _hex4(value: str) -> str:
    value = (value or "").strip().lower()
    if value.startswith("0x"):
        value = value[2:]
    return value.zfill(4) if _HEX4.match(value) else ""


def _netaddr_file(name: str) -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("netaddr")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "eui" / name
    return path if path.is_file() else None


_default: HardwareDB | None = None
_default_lock = threading.Lock()


def default_db() -> HardwareDB:
    """The process-wide :class:`HardwareDB` (built on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = HardwareDB()
        return _default


def configure(db: HardwareDB) -> None:
    """Use ``db`` for the module-level lookups (e.g. databases given on the command line)."""
    global _default
    reset()
    with _default_lock:
        _default = db


def reset() -> None:
    """Forget the process-wide databases and cached answers (after ``update-data``, in tests)."""
    global _default
    with _default_lock:
        _default = None
    for fn in (usb_vendor_name, usb_product_name, pci_vendor_name, pci_device_name, oui_org):
        fn.cache_clear()


@lru_cache(maxsize=8192)
def usb_vendor_name(vid: str) -> Answer | None:
    """(name, database) of a USB vendor id, e.g. ("Huawei Technologies Co., Ltd.", "usb.ids (...)")."""
    return default_db().usb_vendor_name(vid)


@lru_cache(maxsize=8192)
def usb_product_name(vid: str, pid: str) -> Answer | None:
    """(name, database) of a USB product."""
    return default_db().usb_product_name(vid, pid)


@lru_cache(maxsize=8192)
def pci_vendor_name(vid: str) -> Answer | None:
    """(name, database) of a PCI vendor id."""
    return default_db().pci_vendor_name(vid)


@lru_cache(maxsize=8192)
def pci_device_name(vid: str, did: str) -> Answer | None:
    """(name, database) of a PCI device."""
    return default_db().pci_device_name(vid, did)


@lru_cache(maxsize=65536)
def oui_org(mac: str) -> Answer | None:
    """(organisation, registry) of a MAC address, e.g. ("Hangzhou Hikvision ...", "IEEE MA-L (...)")."""
    return default_db().oui_org(mac)
