"""macOS application bundles: a folder of ``.app`` bundles (e.g. a copy of /Applications).

Each bundle's ``Contents/Info.plist`` (XML or binary, read with :mod:`plistlib`) gives a
software row: name (CFBundleDisplayName, else CFBundleName, else the bundle's folder name),
version (CFBundleShortVersionString, else CFBundleVersion), bundle id (CFBundleIdentifier),
publisher (the holder named in NSHumanReadableCopyright, when there is one), path, package
type ``macos``. Folders are searched a few levels deep (``Utilities/``) but never inside a
bundle. A bundle whose plist is missing, corrupt or hostile is skipped with its reason.
"""

from __future__ import annotations

import hashlib
import logging
import plistlib
import re
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kitvet.errors import SourceError
from kitvet.model import Host, Snapshot
from kitvet.sources.hostfacts import bounded
from kitvet.sources.interface import Importer

logger = logging.getLogger(__name__)

SOURCE = "macos-apps"
#: Largest Info.plist read (real ones are a few KiB).
MAX_PLIST_BYTES = 4 << 20
#: How deep below the given folder bundles are looked for.
MAX_DEPTH = 3
MAX_BUNDLES = 100_000
MAX_TEXT = 4096
_COPYRIGHT_NOISE = re.compile(
    r"(copyright|\(c\)|©|all rights reserved\.?|\b(19|20)\d\d\b(\s*[-–,]\s*(19|20)?\d\d\b)*)",
    re.IGNORECASE)


def clip(value: Any) -> str | None:
    """Plist text bounded in size and stripped of control characters (None if empty)."""
    if value is None or isinstance(value, (dict, list, bytes, bool)):
        return None
    text = str(value)[:MAX_TEXT]
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")  # non-UTF-8 paths
    return bounded(text, MAX_TEXT)


def copyright_holder(text: str | None) -> str | None:
    """The organisation a copyright line names: '© 2023 AO Kaspersky Lab.' -> 'AO Kaspersky Lab'."""
    if not text:
        return None
    holder = _COPYRIGHT_NOISE.sub(" ", text)
    holder = re.sub(r"\s+", " ", holder).strip(" .,;:-–")
    if not holder or len(holder) > 120 or not re.search(r"[^\W\d_]", holder):
        return None
    return holder


class MacosAppsImporter(Importer):
    """Reads a folder of macOS .app bundles."""

    name = "macos-apps"
    description = "folder of macOS .app bundles (copy of /Applications): Info.plist"

    def detect(self, path: Path, head: bytes) -> bool:
        if path.is_file():  # a folder walked file by file: each bundle's Info.plist
            return bundle_of(path) is not None
        if path.suffix == ".app" and path.is_dir():
            return True
        if not path.is_dir():
            return False
        try:
            first = zip(range(500), path.iterdir(), strict=False)
            return any(p.suffix == ".app" and p.is_dir() for _, p in first)
        except OSError:
            return False

    def read(self, path: Path, *, institution: str | None = None) -> list[Snapshot]:
        bundle = bundle_of(path) if path.is_file() else None
        if bundle is not None:
            root = collection_root(bundle)
            snap = _snapshot(root, institution)
            _bundle(snap, bundle, clip(bundle.relative_to(root.parent).as_posix()) or "?")
            return [snap]
        return [read_apps(path, institution=institution)]


def bundle_of(path: Path) -> Path | None:
    """The top-level bundle whose ``Contents/Info.plist`` ``path`` is (None for nested ones)."""
    if path.name != "Info.plist" or path.parent.name != "Contents":
        return None
    bundle = path.parent.parent
    if bundle.suffix != ".app" or any(p.suffix == ".app" for p in bundle.parents):
        return None
    return bundle


def collection_root(bundle: Path) -> Path:
    """The folder a bundle was collected from: the nearest 'Applications', else its parent."""
    for p in bundle.parents:
        if p.name.lower() == "applications":
            return p
    return bundle.parent


def _snapshot(root: Path, institution: str | None) -> Snapshot:
    """The snapshot of one collection of bundles; its host id is stable per folder."""
    digest = hashlib.sha256(str(root.resolve()).encode("utf-8", "surrogateescape")).hexdigest()
    return Snapshot(host=Host(host_id=f"macos-{digest[:16]}", institution=institution,
                              platform="macos", os_name="macOS", sources=(SOURCE,)))


def _bundles(root: Path, depth: int = 0) -> Iterator[Path]:
    if root.suffix == ".app":
        yield root
        return
    if depth > MAX_DEPTH:
        return
    try:
        entries = sorted(root.iterdir())
    except OSError as e:
        logger.warning("%s: cannot list: %s", root, e.strerror or e)
        return
    for p in entries:
        if p.is_symlink() or not p.is_dir():
            continue
        yield from _bundles(p, depth + 1)


def read_apps(path: Path, *, institution: str | None = None) -> Snapshot:
    """Every bundle under ``path`` (a folder of bundles, or one bundle) as one macOS snapshot."""
    path = Path(path)
    if not path.is_dir():
        raise SourceError("not a folder of .app bundles", file=str(path))
    root = collection_root(path) if path.suffix == ".app" else path
    snap = _snapshot(root, institution)
    base = root.parent
    for n, bundle in enumerate(_bundles(path)):
        if n >= MAX_BUNDLES:
            snap.skip(SOURCE, f"more than {MAX_BUNDLES} bundles; the rest not read", str(path))
            break
        _bundle(snap, bundle, clip(bundle.relative_to(base).as_posix()) or "?")
    return snap


def _load_plist(plist: Path) -> dict[str, Any]:
    size = plist.stat().st_size
    if size > MAX_PLIST_BYTES:
        raise ValueError(f"Info.plist of {size} bytes is larger than the {MAX_PLIST_BYTES} read")
    with plist.open("rb") as fh:
        data = plistlib.load(fh)
    if not isinstance(data, dict):
        raise ValueError(f"Info.plist holds a {type(data).__name__}, not a dictionary")
    return data


def _bundle(snap: Snapshot, bundle: Path, rel: str) -> None:
    plist = bundle / "Contents" / "Info.plist"
    location = f"{rel}/Contents/Info.plist"
    if not plist.is_file():
        snap.skip(SOURCE, "bundle without Contents/Info.plist", rel)
        return
    try:
        info = _load_plist(plist)
    except Exception as e:
        snap.skip(SOURCE, f"unreadable Info.plist: {type(e).__name__}: {clip(e) or ''}",
                  location)
        return
    name = clip(info.get("CFBundleDisplayName")) or clip(info.get("CFBundleName")) \
        or clip(bundle.stem)
    snap.add_software(
        source=SOURCE, location=location, name=name,
        version=clip(info.get("CFBundleShortVersionString")) or clip(info.get("CFBundleVersion")),
        bundle_id=clip(info.get("CFBundleIdentifier")),
        publisher=copyright_holder(clip(info.get("NSHumanReadableCopyright"))),
        path=clip(str(bundle)), package_type="macos",
        signer=_signer(bundle, info),
    )


def _signer(bundle: Path, info: dict[str, Any]) -> str | None:
    """The signing identity embedded in the bundle's main executable, if it is signed."""
    exe = clip(info.get("CFBundleExecutable"))
    if not exe or "/" in exe or exe in (".", ".."):
        return None
    try:
        return clip(signing_identity(bundle / "Contents" / "MacOS" / exe))
    except Exception as e:
        logger.debug("%s: no signer read: %s", bundle, e)
        return None


# --- Code signatures of Mach-O executables (Apple "Code Signing" SuperBlob; <mach-o/loader.h>,
# <kern/cs_blobs.h>). The identity is read from the embedded CMS certificates, not verified.

_FAT = {b"\xca\xfe\xba\xbe": False, b"\xca\xfe\xba\xbf": True}  # big-endian, 64-bit offsets
_THIN = {b"\xce\xfa\xed\xfe": 28, b"\xcf\xfa\xed\xfe": 32}  # little-endian 32/64-bit
LC_CODE_SIGNATURE = 0x1D
CSMAGIC_EMBEDDED_SIGNATURE = 0xFADE0CC0
CSMAGIC_BLOBWRAPPER = 0xFADE0B01
CSSLOT_SIGNATURESLOT = 0x10000
MAX_SIGNATURE = 1 << 20
_APPLE_IDENTITY = ("Developer ID Application", "Apple Development", "Apple Distribution",
                   "Mac Developer", "3rd Party Mac Developer", "Software Signing")


def signing_identity(exe: Path) -> str | None:
    """The signing certificate's common name of a Mach-O executable (first slice of a fat
    binary), e.g. 'Developer ID Application: Example Corp (ABCDE12345)'; None if unsigned."""
    with exe.open("rb") as fh:
        head = fh.read(8)
        base = 0
        if head[:4] in _FAT:
            wide = _FAT[head[:4]]
            count = struct.unpack(">I", head[4:8])[0]
            if count == 0:
                return None
            entry = fh.read(32 if wide else 20)
            base = (struct.unpack_from(">Q", entry, 8)[0] if wide
                    else struct.unpack_from(">I", entry, 8)[0])
            fh.seek(base)
            head = fh.read(8)
        hsize = _THIN.get(head[:4])
        if hsize is None:
            return None
        fh.seek(base)
        header = fh.read(hsize)
        ncmds, sizeofcmds = struct.unpack_from("<II", header, 16)
        cmds = fh.read(min(sizeofcmds, 1 << 20))
        blob = _signature_blob(fh, base, cmds, ncmds)
    return _identity(blob) if blob else None


def _signature_blob(fh: Any, base: int, cmds: bytes, ncmds: int) -> bytes | None:
    off = 0
    for _ in range(min(ncmds, 4096)):
        if off + 8 > len(cmds):
            return None
        cmd, size = struct.unpack_from("<II", cmds, off)
        if cmd == LC_CODE_SIGNATURE and off + 16 <= len(cmds):
            dataoff, datasize = struct.unpack_from("<II", cmds, off + 8)
            fh.seek(base + dataoff)
            sig = fh.read(min(datasize, MAX_SIGNATURE))
            return _cms_from_superblob(sig)
        if size < 8:
            return None
        off += size
    return None


def _cms_from_superblob(sig: bytes) -> bytes | None:
    if len(sig) < 12:
        return None
    magic, _length, count = struct.unpack_from(">III", sig, 0)
    if magic != CSMAGIC_EMBEDDED_SIGNATURE:
        return None
    for i in range(min(count, 64)):
        if 12 + 8 * i + 8 > len(sig):
            return None
        stype, soff = struct.unpack_from(">II", sig, 12 + 8 * i)
        if stype == CSSLOT_SIGNATURESLOT and soff + 8 <= len(sig):
            bmagic, blen = struct.unpack_from(">II", sig, soff)
            if bmagic == CSMAGIC_BLOBWRAPPER and 8 < blen <= len(sig) - soff:
                return sig[soff + 8:soff + blen]
    return None


def _identity(cms: bytes) -> str | None:
    from cryptography.hazmat.primitives.serialization import pkcs7
    from cryptography.x509.oid import NameOID

    certs = pkcs7.load_der_pkcs7_certificates(cms)
    issuers = {c.issuer.rfc4514_string() for c in certs}
    names = []
    for c in certs:
        cn = [a.value for a in c.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        if cn:
            names.append((str(cn[0]), c.subject.rfc4514_string() not in issuers))
    for name, _leaf in names:
        if name.startswith(_APPLE_IDENTITY):
            return name
    leaves = [n for n, leaf in names if leaf]
    return leaves[0] if leaves else None
