"""The compiled list cache: a big list is parsed, validated and signature-checked once, then
loaded from a compact binary form.

A list of 100,000 subjects is ~100 MB of YAML or JSON: parsing, validating it against the
schema and checking its signature takes a minute on every run. After the first full load,
:func:`store` writes the list's model in ``marshal`` form (plain values: loading it runs no
code) — the subjects' own fields, then the identifiers and assertions of each subject, which
a loaded subject decodes when first asked (:class:`StoredSubject`; a 100,000-subject list
loads in about 0.3 CPU-seconds) — under the **SHA-256 of the signature file** (which
carries the digest of the signed document), with a header that records the SHA-256 of the list file, its size
and modification time, and the key that verified it. An unsigned list (accepted with
``--allow-unsigned``) is filed under the SHA-256 of its bytes.

:func:`lookup` uses an entry only when the list file is the one that was verified (same size
and time, else the same SHA-256 of its bytes) and the key that verified it is still trusted —
or, for a list accepted unsigned, when unsigned lists are accepted again. Anything else (an
edited list, a new signature, a key no longer trusted, a damaged entry, another Python) is a
miss: the full load runs and a new entry is written.

Lists smaller than :data:`MIN_BYTES` are not cached (parsing them costs less than the
cache). Location: ``$KITVET_CACHE_DIR/lists`` or ``$XDG_CACHE_HOME/kitvet/lists``
(``~/.cache/kitvet/lists``); ``KITVET_LIST_CACHE=off`` turns the cache off.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import marshal
import os
import sys
import tempfile
from array import array
from collections.abc import Iterable
from dataclasses import fields
from pathlib import Path
from typing import Any

from kitvet.model.risk import Assertion, Identifier, RiskList, Subject

logger = logging.getLogger(__name__)

#: Lists at least this large are cached.
MIN_BYTES = 1024 * 1024
FORMAT = 3
_MAGIC = b"KVLC"
_PY = f"{sys.version_info[0]}.{sys.version_info[1]}".encode()
_IDENT = tuple(f.name for f in fields(Identifier))
_ASSERT = tuple(f.name for f in fields(Assertion))
_SUBJ = tuple(f.name for f in fields(Subject) if f.name not in ("identifiers", "assertions"))
_LIST = ("name", "publisher", "version", "date", "description")


def cache_dir() -> Path | None:
    """Where entries are kept, None when the cache is off."""
    if os.environ.get("KITVET_LIST_CACHE", "").lower() in ("off", "0", "no", "false"):
        return None
    base = os.environ.get("KITVET_CACHE_DIR")
    if base:
        return Path(base) / "lists"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "kitvet" / "lists"


def _sig_bytes(path: Path) -> bytes | None:
    from kitvet.lists.signing import sig_path

    try:
        return sig_path(path).read_bytes()
    except OSError:
        return None


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def _entry(key: str) -> Path | None:
    d = cache_dir()
    return d / f"{key}.kvlc" if d is not None else None


def _key(sig: bytes | None, data: bytes | None, path: Path) -> tuple[str, str | None]:
    """(entry key, file digest if computed): a signed list is found by its signature (small
    to read; the entry records the list's own digest), an unsigned one by its content."""
    if sig is not None:
        return "s" + hashlib.sha256(sig).hexdigest(), None
    digest = hashlib.sha256(data if data is not None else path.read_bytes()).hexdigest()
    return "u" + digest, digest


def lookup(path: Path, *, allow_unsigned: bool,
           trusted_keys: Iterable[str | os.PathLike[str]] | None,
           vouched: bool = False) -> RiskList | None:
    """The list at ``path`` from its cache entry, or None (then load it in full)."""
    try:
        if path.stat().st_size < MIN_BYTES or cache_dir() is None:
            return None
        sig = _sig_bytes(path)
        key, digest = _key(sig, None, path)
        entry = _entry(key)
        if entry is None or not entry.exists():
            return None
        head, body = _split(entry.read_bytes())
        if head["stamp"] != _stamp(path):  # touched or changed: is it the same content?
            digest = digest or hashlib.sha256(path.read_bytes()).hexdigest()
            if digest != head["file"]:
                return None
    except (OSError, ValueError) as e:
        logger.warning("list cache unusable for %s (%s); loading it in full", path.name, e)
        return None
    signed_by = head["signed_by"] or None
    if signed_by is None:
        if not allow_unsigned or sig is not None:
            return None
        if not vouched:
            logger.warning("%s: unsigned list accepted (--allow-unsigned)", path.name)
    else:
        from kitvet.lists.signing import trusted_keys as keys_now

        if signed_by not in keys_now(trusted_keys):
            return None
    try:
        rl = _thaw(body, origin=str(path), signed_by=signed_by, cache_key=key)
    except (ValueError, TypeError, EOFError, IndexError) as e:
        logger.warning("list cache entry %s damaged (%s); loading %s in full", entry.name, e,
                       path.name)
        return None
    logger.debug("loaded list %s from cache entry %s", rl.name, entry.name)
    return rl


def _split(blob: bytes) -> tuple[dict[str, str], memoryview]:
    if not blob.startswith(_MAGIC):
        raise ValueError("not a list cache entry")
    nl = blob.index(b"\n")
    parts = blob[len(_MAGIC):nl].decode("ascii").split(" ")
    if len(parts) != 6 or parts[0] != str(FORMAT) or parts[1] != _PY.decode():
        raise ValueError("written by another kitvet or Python")
    body = memoryview(blob)[nl + 1:]  # no copy of 100 MB
    if hashlib.sha256(body).hexdigest() != parts[5]:
        raise ValueError("its content does not match its digest")
    return {"file": parts[2], "stamp": parts[3],
            "signed_by": "" if parts[4] == "-" else parts[4]}, body


def store(path: Path, data: bytes, rl: RiskList) -> str | None:
    """Write the cache entry of a list just loaded in full from ``data``; its key (None when
    the list is not cached: small, the cache off, or a list accepted unsigned although it has
    a signature file). Never fails a load."""
    if len(data) < MIN_BYTES or cache_dir() is None:
        return None
    sig = _sig_bytes(path)
    if sig is not None and rl.signed_by is None:
        return None
    key, _ = _key(sig, data, path)
    entry = _entry(key)
    if entry is None:
        return None
    body = _freeze(rl)
    try:
        head = b" ".join([str(FORMAT).encode(), _PY,
                          hashlib.sha256(data).hexdigest().encode(), _stamp(path).encode(),
                          (rl.signed_by or "-").encode(),
                          hashlib.sha256(body).hexdigest().encode()])
        entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(_MAGIC + head + b"\n" + body)
        os.replace(tmp, entry)
    except OSError as e:
        logger.warning("cannot write list cache entry for %s: %s", path.name, e)
        return None
    return key


def derived_path(cache_key: str, name: str) -> Path | None:
    """Where data derived from the cached list ``cache_key`` is kept (``<key>.<name>`` beside
    its entry; e.g. the review's compiled identifiers), None when the cache is off."""
    entry = _entry(cache_key)
    return entry.with_name(f"{cache_key}.{name}") if entry is not None else None


def _state(obj: Any, names: tuple[str, ...], defaults: dict[str, Any]) -> dict[str, Any]:
    """The fields of a dataclass instance that differ from their class defaults."""
    d = obj.__dict__
    return {n: d[n] for n in names if n not in defaults or d[n] != defaults[n]}


def _defaults(cls: type) -> dict[str, Any]:
    """Fields whose default the class itself holds (an instance without them reads it)."""
    from dataclasses import MISSING

    return {f.name: f.default for f in fields(cls) if f.default is not MISSING}


def _freeze(rl: RiskList) -> bytes:
    """The entry's body: the length of its head, the head (marshal: the field names, the list's
    fields, each subject's own fields), then the identifiers and assertions of every subject
    (marshal each) back to back, found by the offsets the head gives."""
    di, da, ds = _defaults(Identifier), _defaults(Assertion), _defaults(Subject)
    dumps = marshal.dumps
    blobs: list[bytes] = []
    offsets = array("q", [0])
    for s in rl.subjects:
        for blob in (dumps([_state(i, _IDENT, di) for i in s.identifiers]),
                     dumps([_state(a, _ASSERT, da) for a in s.assertions])):
            blobs.append(blob)
            offsets.append(offsets[-1] + len(blob))
    head = dumps((_IDENT, _ASSERT, _SUBJ, tuple(getattr(rl, n) for n in _LIST),
                  [{**_state(s, _SUBJ, ds), "_n": n} for n, s in enumerate(rl.subjects)],
                  offsets.tobytes()))
    return len(head).to_bytes(8, "little") + head + b"".join(blobs)


class _Blobs:
    """The identifiers and assertions of a cache entry's subjects, decoded one subject at a
    time (subject ``n``'s identifiers are blob ``2n``, its assertions ``2n + 1``)."""

    __slots__ = ("data", "offsets", "start")

    def __init__(self, data: memoryview, start: int, offsets: bytes) -> None:
        self.data, self.start = data, start
        self.offsets = array("q")
        self.offsets.frombytes(offsets)

    def get(self, cls: type, n: int) -> tuple[Any, ...]:
        a, b = self.offsets[n], self.offsets[n + 1]
        return _decode(cls, self.data[self.start + a:self.start + b])


def _decode(cls: type, blob: bytes | memoryview) -> tuple[Any, ...]:
    """Instances of a frozen dataclass from their stored fields (marshal): each gets them as
    its ``__dict__`` (the others read the class defaults), without running ``__init__``:
    they were the fields of an instance when stored."""
    new, setattr_ = object.__new__, object.__setattr__
    out = []
    for d in marshal.loads(blob):
        obj: Any = new(cls)
        setattr_(obj, "__dict__", d)
        out.append(obj)
    return tuple(out)


class StoredSubject(Subject):
    """A subject from the list cache: its identifiers and assertions are decoded when first
    read (a review reads the identifiers of no subject of a list whose compiled identifiers
    are kept, and the assertions of the subjects it matched).
    Equal to, and used like, the :class:`Subject` it was stored from. Each entry's subjects
    are of a subclass whose ``_src`` holds the entry's blobs; each subject is blob pair
    ``_n``."""

    _src: _Blobs

    @property  # type: ignore[override]
    def identifiers(self) -> tuple[Identifier, ...]:
        d = self.__dict__
        got = d.get("_identifiers")
        if got is None:
            got = d["_identifiers"] = self._src.get(Identifier, 2 * d["_n"])
        return got  # type: ignore[no-any-return]

    @identifiers.setter
    def identifiers(self, value: tuple[Identifier, ...]) -> None:
        self.__dict__["_identifiers"] = tuple(value)

    @property  # type: ignore[override]
    def assertions(self) -> tuple[Assertion, ...]:
        d = self.__dict__
        got = d.get("_assertions")
        if got is None:
            got = d["_assertions"] = self._src.get(Assertion, 2 * d["_n"] + 1)
        return got  # type: ignore[no-any-return]

    @assertions.setter
    def assertions(self, value: tuple[Assertion, ...]) -> None:
        self.__dict__["_assertions"] = tuple(value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Subject):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(Subject))

    __hash__ = Subject.__hash__


def _thaw(body: memoryview, *, origin: str, signed_by: str | None,
          cache_key: str | None = None) -> RiskList:
    """The list from an entry's body (:func:`_freeze`): subjects whose identifiers and
    assertions decode on first use (:class:`StoredSubject`)."""
    gc_was_on = gc.isenabled()
    gc.disable()  # 100,000 new dicts and objects, none of them garbage: no collections
    try:
        return _thaw_subjects(body, origin=origin, signed_by=signed_by, cache_key=cache_key)
    finally:
        if gc_was_on:
            gc.enable()


def _thaw_subjects(body: memoryview, *, origin: str, signed_by: str | None,
                   cache_key: str | None) -> RiskList:
    size = int.from_bytes(body[:8], "little")
    idents, asserts, subj, head, states, offsets = marshal.loads(body[8:8 + size])
    if (tuple(idents), tuple(asserts), tuple(subj)) != (_IDENT, _ASSERT, _SUBJ):
        raise ValueError("written for another model")
    src = _Blobs(body, 8 + size, offsets)
    if len(src.offsets) != 2 * len(states) + 1 or src.offsets[-1] != len(body) - 8 - size:
        raise ValueError("its subjects and their offsets disagree")
    cls = type("StoredSubject", (StoredSubject,), {"_src": src, "__module__": __name__})
    new, setattr_ = object.__new__, object.__setattr__
    out: list[Subject] = []
    append = out.append
    for s in states:
        obj: Any = new(cls)
        setattr_(obj, "__dict__", s)
        append(obj)
    return RiskList(**dict(zip(_LIST, head, strict=True)), subjects=tuple(out), origin=origin,
                    signed_by=signed_by, cache_key=cache_key)
