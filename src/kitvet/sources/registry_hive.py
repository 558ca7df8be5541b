"""Windows registry hives (regf files), read offline through regipy.

What is read, wherever it exists in the hive given (keys are matched case-insensitively):

- SOFTWARE hive: ``Microsoft\\Windows\\CurrentVersion\\Uninstall`` (64-bit view) and
  ``WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall`` (32-bit view);
- NTUSER.DAT: ``Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall`` (and its
  WOW6432Node twin);
- Amcache.hve: ``Root\\InventoryApplication`` (installed programs) and
  ``Root\\InventoryApplicationFile`` (executables Windows saw: path, product, publisher).

Each Uninstall entry with a DisplayName becomes a software row (name, version, publisher,
install location, uninstall command, package type ``windows``) located as
``NTUSER.DAT:/Software/Microsoft/Windows/CurrentVersion/Uninstall/ZoomUMX``. One unreadable
entry is skipped with its reason; a file that is not a hive is one :class:`SourceError`.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kitvet.errors import SourceError
from kitvet.model import Host, Snapshot
from kitvet.sources.detect_util import shown
from kitvet.sources.hostfacts import bounded
from kitvet.sources.interface import Importer

logger = logging.getLogger(__name__)
# regipy warns once per undecodable value, without naming the file; kitvet reports what it
# could not read itself (skipped records), so only regipy's errors are let through.
logging.getLogger("regipy").setLevel(logging.ERROR)

MAGIC = b"regf"
#: Biggest hive read (regipy holds the hive in memory). Real SOFTWARE hives are ~100 MB.
MAX_HIVE_BYTES = 1 << 30
#: Most entries read under one key (a crafted subkey list cannot make the import endless).
MAX_ENTRIES = 200_000
#: Most values read from one entry (real Uninstall entries have a few dozen).
MAX_VALUES = 1024
MAX_TEXT = 4096

_UNINSTALL = ("Microsoft", "Windows", "CurrentVersion", "Uninstall")
#: (key path from the hive root, source name, arch) of every list of programs read.
LOCATIONS: tuple[tuple[tuple[str, ...], str, str | None], ...] = (
    (_UNINSTALL, "registry:uninstall", None),
    (("WOW6432Node", *_UNINSTALL), "registry:uninstall", "x86"),
    (("Software", *_UNINSTALL), "registry:uninstall-user", None),
    (("Software", "WOW6432Node", *_UNINSTALL), "registry:uninstall-user", "x86"),
    (("Root", "InventoryApplication"), "registry:amcache", None),
    (("Root", "InventoryApplicationFile"), "registry:amcache-file", None),
)
#: Uninstall value -> software field.
UNINSTALL_VALUES = {
    "displayname": "name",
    "displayversion": "version",
    "publisher": "publisher",
    "installlocation": "path",
    "uninstallstring": "uninstall",
}
#: Amcache InventoryApplication value -> software field.
AMCACHE_VALUES = {
    "name": "name",
    "version": "version",
    "publisher": "publisher",
    "rootdirpath": "path",
}
#: Amcache InventoryApplicationFile value -> software field (first present wins).
AMCACHE_FILE_VALUES = {
    "productname": "name",
    "name": "name",
    "productversion": "version",
    "binproductversion": "version",
    "version": "version",
    "publisher": "publisher",
    "lowercaselongpath": "path",
}
FIELDS_BY_SOURCE = {"registry:amcache": AMCACHE_VALUES,
                    "registry:amcache-file": AMCACHE_FILE_VALUES}


#: (key path, {value name: host fact}) read from a SOFTWARE hive.
_HOST_FACTS: tuple[tuple[tuple[str, ...], dict[str, str]], ...] = (
    (("Microsoft", "Cryptography"), {"machineguid": "machine_id"}),
    (("Microsoft", "Windows NT", "CurrentVersion"),
     {"productname": "os_name", "displayversion": "display_version",
      "releaseid": "display_version", "currentbuild": "build"}),
)


def clip(value: Any) -> str | None:
    """Hive text bounded in size and stripped of control characters (None if empty)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value)
    return bounded(str(value), MAX_TEXT)


class RegistryHiveImporter(Importer):
    """Reads programs from Windows registry hives (SOFTWARE, NTUSER.DAT, Amcache.hve)."""

    name = "registry"
    description = "Windows registry hive (SOFTWARE, NTUSER.DAT, Amcache.hve): Uninstall keys"

    def detect(self, path: Path, head: bytes) -> bool:
        return path.is_file() and head[:4] == MAGIC

    def read(self, path: Path, *, institution: str | None = None) -> list[Snapshot]:
        return [read_hive(path, institution=institution)]


def _open(path: Path) -> tuple[Any, bytes, str | None]:
    """The parsed hive (transaction logs applied when it is dirty and they are beside it),
    its base block, and a note for the user when its content may be incomplete."""
    from regipy.registry import RegistryHive

    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as e:
        raise SourceError(f"cannot read: {e.strerror or e}", file=str(path)) from e
    if head[:4] != MAGIC:
        raise SourceError("not a registry hive (no 'regf' signature)", file=str(path),
                          place="offset 0")
    if size > MAX_HIVE_BYTES:
        raise SourceError(f"hive of {size} bytes is larger than the {MAX_HIVE_BYTES} read",
                          file=str(path))
    hive, note = None, None
    seq1, seq2 = struct.unpack_from("<II", head.ljust(12, b"\0"), 4)
    if seq1 != seq2:
        hive, note = _recover(path, seq1, seq2)
    try:
        return hive or RegistryHive(str(path), hive_type="ntuser"), head, note
    except Exception as e:  # regipy/construct raise many types on corrupt hives
        raise SourceError(f"corrupt hive: {type(e).__name__}: {e}", file=str(path),
                          place="base block / root key") from e


def transaction_logs(path: Path) -> list[Path]:
    """The hive's transaction logs beside it (NTUSER.DAT.LOG1, .LOG2; any case)."""
    try:
        siblings = {p.name.casefold(): p for p in path.parent.iterdir()}
    except OSError:
        return []
    return [siblings[n] for n in (f"{path.name}.log1".casefold(), f"{path.name}.log2".casefold())
            if n in siblings]


def _recover(path: Path, seq1: int, seq2: int) -> tuple[Any, str | None]:
    """Apply the transaction logs of a hive that was not cleanly closed (regipy.recovery)."""
    import tempfile

    from regipy.recovery import apply_transaction_logs
    from regipy.registry import RegistryHive

    dirty = f"hive was not cleanly closed (sequence numbers {seq1}/{seq2})"
    logs = transaction_logs(path)
    if not logs:
        return None, f"{dirty} and no transaction logs (.LOG1/.LOG2) are beside it: " \
                     "changes after its last flush may be missing"
    with tempfile.TemporaryDirectory(prefix="kitvet-hive-") as tmp:
        restored = Path(tmp) / "restored"
        try:
            _, pages = apply_transaction_logs(str(path), str(logs[0]),
                                              str(logs[1]) if len(logs) > 1 else None,
                                              restored_hive_path=str(restored))
            hive = RegistryHive(str(restored), hive_type="ntuser")  # read into memory here
        except Exception as e:
            return None, f"{dirty}; its transaction logs could not be applied " \
                         f"({type(e).__name__}: {clip(e) or ''}): recent changes may be missing"
    names = " and ".join(p.name for p in logs)
    logger.info("%s: %s; applied %d dirty pages from %s", path, dirty, pages, names)
    return hive, None


def read_hive(path: Path, *, institution: str | None = None) -> Snapshot:
    """The programs a hive lists, as one Windows snapshot."""
    path = Path(path)
    hive, head, note = _open(path)
    snap = Snapshot(host=_host(hive, head, path, institution))
    if note:
        snap.skip("registry", note, f"{shown(path)}:base block")
    found = 0
    for keypath, source, arch in LOCATIONS:
        key = _find(hive.root, keypath, snap, shown(path))
        if key is None:
            continue
        found += 1
        fields = FIELDS_BY_SOURCE.get(source, UNINSTALL_VALUES)
        for place, sub in _subkeys(key, keypath, snap, shown(path)):
            _entry(snap, sub, place, source, arch, fields)
    if not found:
        snap.skip("registry", "no Uninstall or Amcache inventory key in this hive",
                  f"{shown(path)}:/")
    logger.info("%s: %d programs, %d skipped", path, len(snap.software), len(snap.skipped))
    return snap


def _host(hive: Any, head: bytes, path: Path, institution: str | None) -> Host:
    """Host facts a SOFTWARE hive holds (MachineGuid, Windows edition and build), if any."""
    facts: dict[str, Any] = {}
    scratch = Snapshot(host=Host(host_id="?"))
    for keypath, names in _HOST_FACTS:
        key = _find(hive.root, keypath, scratch, shown(path))
        if key is None:
            continue
        try:
            values = {str(v.name).casefold(): v.value
                      for v in itertools.islice(key.iter_values(trim_values=False), MAX_VALUES)}
        except Exception:
            continue
        for vname, field in names.items():
            if clip(values.get(vname)) and field not in facts:
                facts[field] = clip(values[vname])
    guid = (facts.pop("machine_id", None) or "").strip("{}").lower() or None
    host_id = (f"windows-{guid}" if guid else
               "hive-" + hashlib.sha256(head[:512] + path.name.encode()).hexdigest()[:16])
    version = " ".join(x for x in (facts.get("display_version"), facts.get("build")) if x)
    return Host(host_id=host_id, institution=institution, platform="windows",
                os_name=facts.get("os_name") or "Windows", os_version=version or None,
                machine_id=guid, sources=("registry",))


def _find(root: Any, keypath: tuple[str, ...], snap: Snapshot, fname: str) -> Any:
    """The key at ``keypath`` (names compared case-insensitively), None when absent."""
    key = root
    for part in keypath:
        want = part.upper()
        try:
            key = next((k for k in itertools.islice(key.iter_subkeys() or (), MAX_ENTRIES)
                        if str(k.name).upper() == want), None)
        except Exception as e:  # corrupt subkey list
            snap.skip("registry", f"unreadable key: {type(e).__name__}: {clip(e) or ''}",
                      f"{fname}:/{'/'.join(keypath)}")
            return None
        if key is None:
            return None
    return key


def _subkeys(key: Any, keypath: tuple[str, ...], snap: Snapshot,
             fname: str) -> Iterator[tuple[str, Any]]:
    base = f"{fname}:/{'/'.join(keypath)}"
    it = key.iter_subkeys()
    for n in range(MAX_ENTRIES + 1):
        try:
            sub = next(it)
        except StopIteration:
            return
        except Exception as e:  # a corrupt list entry ends the list: keep what was read
            snap.skip("registry", f"subkey list unreadable after {n} entries: "
                      f"{type(e).__name__}: {clip(e) or ''}", base)
            return
        if n == MAX_ENTRIES:
            snap.skip("registry", f"more than {MAX_ENTRIES} entries; the rest not read", base)
            return
        yield f"{base}/{clip(sub.name) or '?'}", sub


def _amcache_file(snap: Snapshot, values: dict[str, Any], place: str) -> None:
    """A file row for an Amcache file entry: its path and SHA-1 (``FileId`` is ``0000``
    followed by the SHA-1 of the file's first 31.4 MB, the whole file for most programs)."""
    fid = clip(values.get("fileid"))
    path = clip(values.get("lowercaselongpath"))
    sha1 = fid[4:].lower() if fid and len(fid) == 44 and fid.startswith("0000") else None
    if not path and not sha1:
        return
    if sha1 is not None and not all(c in "0123456789abcdef" for c in sha1):
        sha1 = None
    name = path.replace("\\", "/").rsplit("/", 1)[-1] if path else None
    size = clip(values.get("size"))
    snap.add_file(source="registry:amcache-file", location=place, path=path, name=name,
                  sha1=sha1, size=size)


def _entry(snap: Snapshot, sub: Any, place: str, source: str, arch: str | None,
           fields: dict[str, str]) -> None:
    try:
        values = {str(v.name).casefold(): v.value
                  for v in itertools.islice(sub.iter_values(trim_values=False), MAX_VALUES)}
    except Exception as e:
        snap.skip(source, f"unreadable values: {type(e).__name__}: {clip(e) or ''}", place)
        return
    row: dict[str, Any] = {}
    for vname, field in fields.items():
        val = values.get(vname)
        if isinstance(val, bytes):
            val = val.decode("utf-16-le", "replace").rstrip("\0")
        if row.get(field) is None:
            row[field] = clip(val)
    if source == "registry:amcache-file":
        _amcache_file(snap, values, place)
    if not row.get("uninstall") and "quietuninstallstring" in values and "uninstall" in row:
        row["uninstall"] = clip(values["quietuninstallstring"])
    if not row.get("name"):
        logger.debug("%s: no display name (hidden component), not a listed program", place)
        return
    snap.add_software(source=source, location=place, package_type="windows", arch=arch,
                      **{k: v for k, v in row.items() if v is not None})
