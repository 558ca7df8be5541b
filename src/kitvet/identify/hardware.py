"""Who made a device: USB/PCI ids (usb.ids, pci.ids) and MAC addresses (IEEE registries).

Each answer names the database it came from, so a finding can say e.g.
"USB vendor id 12d1 → Huawei Technologies Co., Ltd. (usb.ids (/usr/share/misc/usb.ids))".

Where the data comes from, first found wins (see docs/collect.md):

* usb.ids / pci.ids: the system's files (/usr/share/misc, /usr/share/hwdata,
  /var/lib/usbutils, ...), else what ``kitvet update-data`` fetched into the data dir
  (``$KITVET_DATA_DIR``, default ``~/.local/share/kitvet/data``), else the small subset
  kitvet carries in ``kitvet/identify/data/``.
* IEEE MA-L (24-bit), MA-M (28-bit), MA-S (36-bit) and IAB (the older 36-bit blocks): the
  newest of three copies, each with its publication date: the registries kitvet bundles
  (``identify/data/ieee/*.csv.xz``, all four, offline, dated in ``registries.json``), the
  data dir's CSVs fetched by ``kitvet update-data`` (dated by ``sources.json``), Debian's
  ieee-data CSVs (/usr/share/ieee-data, dated by ``.lastupdate``). netaddr's ``oui.txt`` /
  ``iab.txt`` are read only when none of these has a registry. :func:`oui_org` returns the
  longest match: MA-S/IAB, then MA-M, then MA-L; a MAC in a block the IEEE Registration
  Authority subdivided (MA-M, MA-S, IAB) is attributed to the block's registrant or, if that
  registry does not list it, to no one — never to the "IEEE Registration Authority".

Files are read only when first needed and searched in place (see
:mod:`kitvet.identify.hwfiles`); results are cached per process.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from kitvet.identify.hwfiles import IdsFile, IeeeCsv, NetaddrIab, NetaddrOui

logger = logging.getLogger(__name__)

Answer = tuple[str, str]  # (name, database)

PACKAGE_DATA = Path(__file__).parent / "data"
SYSTEM_IDS_DIRS = ("/usr/share/misc", "/usr/share/hwdata", "/var/lib/usbutils", "/usr/share")
SYSTEM_IEEE_DIR = "/usr/share/ieee-data"
BUNDLED_IEEE_DIR = PACKAGE_DATA / "ieee"
#: The MA-L registrant of blocks the IEEE subdivides into MA-M, MA-S and IAB assignments.
IEEE_RA = "IEEE Registration Authority"
#: (registry label, hex digits of the assignment, CSV file name), longest first.
IEEE_REGISTRIES = (("MA-S", 9, "oui36.csv"), ("IAB", 9, "iab.csv"), ("MA-M", 7, "mam.csv"),
                   ("MA-L", 6, "oui.csv"))
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
                 use_netaddr: bool = True, bundled: bool = True) -> None:
        ddir = data if data is not None else data_dir()
        self._usb = self._ids("usb.ids", system_dirs, ddir)
        self._pci = self._ids("pci.ids", system_dirs, ddir)
        self._ieee: list[tuple[str, object]] = []
        for registry, digits, fname in IEEE_REGISTRIES:
            src = self._ieee_source(registry, digits, fname, ieee_dir, ddir, use_netaddr,
                                    bundled)
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
                     use_netaddr: bool, bundled: bool = True) -> object | None:
        copies = [c for c in (_bundled_copy(registry, fname) if bundled else None,
                              _fetched_copy(fname, ddir),
                              _system_copy(fname, ieee_dir)) if c is not None]
        if copies:
            path, date, where = max(copies, key=lambda c: c[1])
            src = IeeeCsv(path, f"IEEE {registry} {date} ({where})")
            src.registry, src.digits, src.date = registry, digits, date
            return src
        if use_netaddr:
            nfile = {"MA-L": "oui.txt", "IAB": "iab.txt"}.get(registry)
            npath = _netaddr_file(nfile) if nfile else None
            if npath is not None:
                cls = NetaddrOui if registry == "MA-L" else NetaddrIab
                return cls(npath, f"IEEE {registry} (netaddr {npath.name}, undated)")
        return None

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

    def pci_class_name(self, code: str) -> Answer | None:
        """Name of a PCI class code ("0x020000" -> "Ethernet controller")."""
        ok = re.fullmatch(r"(?:0x)?[0-9a-fA-F]{2,6}", (code or "").strip())
        return _ask(self._pci, lambda f: f.device_class(code.strip()) if ok else None)

    def oui_org(self, mac: str) -> Answer | None:
        """Organisation of a MAC address (longest registered prefix) and its registry."""
        hexmac = _MAC_HEX.sub("", mac or "").upper()
        if len(hexmac) < 6:
            return None
        for _registry, src in self._ieee:
            org = src.org(hexmac)  # type: ignore[attr-defined]
            if org and org.strip() == IEEE_RA:
                return None  # a subdivided block whose assignment no registry here lists
            if org:
                return org, src.label  # type: ignore[attr-defined]
        return None

    def registry_entries(self) -> Iterator[tuple[str, str, str]]:
        """Every (registry, assignment hex digits, registrant) of the IEEE registries in use,
        the longest assignments first (the order :meth:`oui_org` asks them in)."""
        for registry, src in self._ieee:
            for hexdigits, org in src.entries():  # type: ignore[attr-defined]
                yield registry, hexdigits, org

    def ieee_registries(self) -> list[tuple[str, str]]:
        """(registry, database label with its date) of each IEEE registry in use."""
        return [(registry, src.label) for registry, src in self._ieee]  # type: ignore[attr-defined]

    def ieee_entries(self) -> Iterator[tuple[str, str, str]]:
        """Every (assignment hex digits, organisation, database label) of the IEEE registries in
        use — the reverse of :meth:`oui_org`, for exporters that block a vendor's prefixes."""
        for _registry, src in self._ieee:
            for hexdigits, org in src.entries():  # type: ignore[attr-defined]
                yield hexdigits, org, src.label  # type: ignore[attr-defined]

    def sources(self) -> dict[str, str | None]:
        """Which file each database is read from (for docs and ``kitvet update-data``)."""
        out: dict[str, str | None] = {"usb.ids": self._usb.label if self._usb else None,
                                      "pci.ids": self._pci.label if self._pci else None}
        for registry, src in self._ieee:
            out[registry] = src.label  # type: ignore[attr-defined]
        return out


def _bundled_copy(registry: str, fname: str) -> tuple[Path, str, str] | None:
    """The registry kitvet bundles: (file, publication date, where from)."""
    import json

    try:
        meta = json.loads((BUNDLED_IEEE_DIR / "registries.json").read_text("utf-8"))
        entry = meta["registries"][registry]
    except (OSError, ValueError, KeyError):
        return None
    path = BUNDLED_IEEE_DIR / entry["file"]
    if not path.is_file():
        return None
    return path, str(entry["published"]), f"kitvet bundled, {meta.get('via', 'IEEE')}"


def _fetched_copy(fname: str, ddir: Path) -> tuple[Path, str, str] | None:
    """A registry ``kitvet update-data`` fetched: (file, fetch date, path)."""
    import json

    path = ddir / fname
    if not path.is_file():
        return None
    try:
        entry = json.loads((ddir / "sources.json").read_text("utf-8"))[fname]
        date = str(entry["fetched_at"])[:10]
    except (OSError, ValueError, KeyError, TypeError):
        date = _mtime_date(path)
    return path, date, str(path)


def _system_copy(fname: str, ieee_dir: str | None) -> tuple[Path, str, str] | None:
    """Debian's ieee-data copy: (file, date of its last update, path)."""
    if not ieee_dir:
        return None
    path = Path(ieee_dir) / fname
    if not path.is_file():
        return None
    try:
        stamp = int((Path(ieee_dir) / ".lastupdate").read_text().strip())
        import time

        date = time.strftime("%Y-%m-%d", time.gmtime(stamp))
    except (OSError, ValueError):
        date = _mtime_date(path)
    return path, date, str(path)


def _mtime_date(path: Path) -> str:
    import time

    try:
        return time.strftime("%Y-%m-%d", time.gmtime(path.stat().st_mtime))
    except OSError:
        return "0000-00-00"


def _ask(f: IdsFile | None, fn: object) -> Answer | None:
    if f is None:
        return None
    name = fn(f)  # type: ignore[operator]
    return (name, f.label) if name else None


def _hex4(value: str) -> str:
    value = (value or "").strip().lower()
    value = value.removeprefix("0x")
    return value.zfill(4) if _HEX4.match(value) else ""


def _netaddr_file(name: str) -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("netaddr")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "eui" / name
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
    for fn in (usb_vendor_name, usb_product_name, pci_vendor_name, pci_device_name,
               pci_class_name, _oui_block):
        fn.cache_clear()
    software = sys.modules.get("kitvet.identify.software")  # its answers came from these
    if software is not None:
        software.clear_hardware_caches()
    engine = sys.modules.get("kitvet.match.engine")  # its registry prefilter came from these
    if engine is not None:
        engine.clear_registry_cache()


@lru_cache(maxsize=8192)
def usb_vendor_name(vid: str) -> Answer | None:
    """(name, database) of a USB vendor id: ("Huawei Technologies Co., Ltd.", "usb.ids (…)")."""
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


@lru_cache(maxsize=1024)
def pci_class_name(code: str) -> Answer | None:
    """(name, database) of a PCI class code, e.g. ("Ethernet controller", "pci.ids (...)")."""
    return default_db().pci_class_name(code)


def oui_org(mac: str) -> Answer | None:
    """(organisation, registry) of a MAC address: ("Hangzhou Hikvision …", "IEEE MA-L (…)").

    The answer depends only on the first 36 bits (MA-S is the longest assignment), so full
    MACs are cached per 36-bit block: a scan of a LAN asks the registry once per block.
    """
    hexmac = _MAC_HEX.sub("", mac or "").lower()
    if len(hexmac) != 12:
        return default_db().oui_org(mac)
    return _oui_block(hexmac[:9])


@lru_cache(maxsize=65536)
def _oui_block(prefix36: str) -> Answer | None:
    return default_db().oui_org(prefix36 + "000")


def name_devices(rows: Iterable[dict[str, Any]]) -> None:
    """Fill, in place, the names a source left out of device rows, from these databases.

    ``oui_org`` of a MAC (IEEE registries); ``vendor_name`` / ``product_name`` of a USB or PCI
    id (usb.ids / pci.ids), else a ``description`` such as "USB device ffff:0001" so no
    device goes unnamed; the ``vendor_name`` of a device known only by its MAC from its
    ``oui_org``. What the source reported is kept. Every importer and collector names its
    devices through this one function, so an inventory reads the same whatever its source;
    a broken database never loses a row.
    """
    for row in rows:
        try:
            _name_device(row)
        except Exception as e:
            logger.debug("cannot name device %s: %s", row.get("location"), e)


def _name_device(row: dict[str, Any]) -> None:
    bus = (row.get("bus") or "").lower()
    vid, pid = row.get("vendor_id"), row.get("product_id")
    if bus in ("usb", "pci") and vid:
        if not row.get("vendor_name"):
            got = usb_vendor_name(vid) if bus == "usb" else pci_vendor_name(vid)
            if got:
                row["vendor_name"] = got[0]
        if pid and not row.get("product_name"):
            got = usb_product_name(vid, pid) if bus == "usb" else pci_device_name(vid, pid)
            if got:
                row["product_name"] = got[0]
        if not (row.get("vendor_name") or row.get("product_name") or row.get("description")):
            row["description"] = f"{bus.upper()} device {vid}" + (f":{pid}" if pid else "")
    if row.get("mac"):
        if not row.get("oui_org"):
            got = oui_org(row["mac"])
            if got:
                row["oui_org"] = got[0]
        if not row.get("vendor_name") and row.get("oui_org"):
            row["vendor_name"] = row["oui_org"]
