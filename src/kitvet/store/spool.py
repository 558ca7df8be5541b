"""The ingest spool: uploads written to disk under the estate folder before they are processed.

Layout under ``<estate>/spool/``::

    owners/<owner>.lock         one per process that spools or processes uploads, flock'ed for
                                the life of the process (the kernel releases it on kill -9)
    <job>.<owner>.part          an upload being received (renamed to .body once complete)
    <job>.<owner>.body          a queued upload: its job (:data:`HEADER_BYTES` of JSON: who
                                sent it, for which institution, with which options, when),
                                then the upload as sent (gzip stays compressed); fsync'ed, and
                                the folder too once it is renamed into place
    <job>.<owner>.work/         the files the importer reads while a batch runs (decompressed
                                uploads, large BOMs' rows), named as the upload's host

A ``.body`` is the queue's record of an upload: accepting one takes no database transaction.
The ``ingest_jobs`` row of a job is written when a worker claims it (see
:func:`kitvet.store.jobs.claim`); a job without a row is queued.

Every name carries the owner that wrote it, so :meth:`Spool.sweep` can tell the files of a live
process from those a crashed one left behind, whatever their age: a ``.part`` or ``.work`` of a
dead owner is removed, a ``.body`` is kept until its job is finished.

:class:`Inflater` undoes gzip in bounded steps and counts what it produces, so a size limit is
enforced while reading and a gzip bomb is refused after at most ``limit`` bytes of output,
without the output ever being held in memory.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import re
import shutil
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from kitvet.errors import KitvetError

logger = logging.getLogger(__name__)

_CHUNK = 1024 * 1024
_NAME = re.compile(r"^(?P<job>[A-Za-z0-9_-]{1,80})\.(?P<owner>[0-9a-f]{16,32})\."
                   r"(?P<ext>part|body|work)$")
GZIP_ENCODINGS = ("gzip", "x-gzip")
#: Bytes reserved at the start of a spooled body for its job (JSON, padded with spaces).
HEADER_BYTES = 4096
_MAGIC = b"kitvet-spool 1\n"


class IngestRefused(KitvetError):
    """An upload is refused (or cannot be spooled); ``status`` is the HTTP status it means."""

    def __init__(self, status: int, message: str, *, place: str | None = None):
        super().__init__(message, place=place)
        self.status = status


@dataclass(frozen=True)
class SweepResult:
    """What one sweep removed."""

    spool_files: int = 0
    owners: int = 0


class Inflater:
    """Feeds on body chunks; counts (and optionally yields) the inflated bytes, up to ``limit``.

    ``gzip``: True, False, or None to decide from the first bytes (the gzip magic).
    """

    def __init__(self, *, limit: int, gzip: bool | None = None, keep_head: int = 65536):
        self.limit = limit
        self.gzip = gzip
        self.size = 0
        self.head = b""
        self._keep = keep_head
        self._d: zlib._Decompress | None = None

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The inflated bytes of ``data``, in pieces of at most 1 MiB."""
        if self.gzip is None:
            self.gzip = data[:2] == b"\x1f\x8b"
        if not self.gzip:
            yield self._count(data)
            return
        if self._d is None:
            self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self._d.eof:
            return
        try:
            while data:
                out = self._d.decompress(data, _CHUNK)
                yield self._count(out)
                data = self._d.unconsumed_tail
        except zlib.error as e:
            raise IngestRefused(400, f"the gzip body is corrupt: {e}", place="body") from e

    def close(self) -> Iterator[bytes]:
        """The last inflated bytes; refuses a truncated gzip stream."""
        if not self.gzip or self._d is None:
            return
        try:
            yield self._count(self._d.flush())
        except zlib.error as e:
            raise IngestRefused(400, f"the gzip body is corrupt: {e}", place="body") from e
        if not self._d.eof:
            raise IngestRefused(400, "the gzip body is truncated", place="body")

    def _count(self, out: bytes) -> bytes:
        self.size += len(out)
        if self.size > self.limit:
            what = "once decompressed" if self.gzip else ""
            raise IngestRefused(413, f"inventory larger than {self.limit} bytes {what}".strip())
        if len(self.head) < self._keep:
            self.head += out[:self._keep - len(self.head)]
        return out


class SpoolFile:
    """One upload being written: :meth:`write` chunks, then :meth:`commit` or :meth:`discard`."""

    def __init__(self, spool: Spool, job_id: str):
        self.spool = spool
        self.job_id = job_id
        self.name = f"{job_id}.{spool.owner}.body"
        self.part = spool.path / f"{job_id}.{spool.owner}.part"
        self._fh: IO[bytes] | None = open(self.part, "xb")  # noqa: SIM115 (closed in commit)
        self._fh.write(b" " * HEADER_BYTES)  # the job's place, written at commit
        self.size = 0

    def write(self, chunk: bytes) -> None:
        """Append a chunk."""
        if self._fh is None:
            raise IngestRefused(500, "spool file already closed")
        self._fh.write(chunk)
        self.size += len(chunk)

    def commit(self, job: dict[str, object]) -> str:
        """Write the job (JSON) before the upload, flush to disk and rename into place: the
        upload is queued. Returns the spool name of the body."""
        if self._fh is None:
            raise IngestRefused(500, "spool file already closed")
        head = _MAGIC + json.dumps(job, separators=(",", ":")).encode()
        if len(head) >= HEADER_BYTES:
            raise IngestRefused(400, "the upload's description (names, options) is too long")
        fh, self._fh = self._fh, None
        try:
            fh.seek(0)
            fh.write(head.ljust(HEADER_BYTES - 1) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        finally:
            fh.close()
        os.replace(self.part, self.spool.path / self.name)
        self.spool.sync()
        return self.name

    def discard(self) -> None:
        """Forget the upload."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self.part.unlink(missing_ok=True)


class Spool:
    """The spool folder of one estate, owned by this process while it is open."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.owner = uuid.uuid4().hex[:16]
        self._lock: IO[str] | None = None

    def open(self) -> Spool:
        """Create the folder and take this process's owner lock (idempotent)."""
        if self._lock is None:
            (self.path / "owners").mkdir(parents=True, exist_ok=True)
            fh = open(self.path / "owners" / f"{self.owner}.lock", "a+")  # noqa: SIM115
            fcntl.flock(fh, fcntl.LOCK_EX)
            self._lock = fh
        return self

    def close(self) -> None:
        """Release the owner lock and remove its file."""
        if self._lock is not None:
            (self.path / "owners" / f"{self.owner}.lock").unlink(missing_ok=True)
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def create(self, job_id: str) -> SpoolFile:
        """A new upload file for ``job_id``."""
        self.open()
        return SpoolFile(self, job_id)

    def body(self, name: str) -> Path:
        """The path of a spooled body (checked to be a spool name); the upload starts at
        :data:`HEADER_BYTES`."""
        if not _NAME.match(name):
            raise IngestRefused(500, f"not a spool file name: {name[:100]!r}")
        return self.path / name

    def sync(self) -> None:
        """fsync the spool folder (a body renamed into place survives a power cut)."""
        fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def queued(self) -> list[str]:
        """Spool names of the complete bodies, oldest job first (their jobs may be queued,
        running, or finished a moment ago)."""
        try:
            names = [e.name for e in os.scandir(self.path) if e.name.endswith(".body")]
        except FileNotFoundError:
            return []
        return sorted(n for n in names if _NAME.match(n))

    def find(self, job_id: str) -> str | None:
        """The spool name of a job's body, if it is still in the spool."""
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,80}", job_id):
            return None
        for p in self.path.glob(f"{job_id}.*.body"):
            if _NAME.match(p.name):
                return p.name
        return None

    def offset(self, name: str) -> int:
        """Where the upload starts in a body: after its job, or at 0 in a body spooled by an
        older kitvet (its job is a row queued at accept time)."""
        with open(self.body(name), "rb") as fh:
            return HEADER_BYTES if fh.read(len(_MAGIC)) == _MAGIC else 0

    def job(self, name: str) -> dict[str, object]:
        """The job written at the start of a body (IngestRefused if it cannot be read)."""
        try:
            with open(self.body(name), "rb") as fh:
                head = fh.read(HEADER_BYTES)
            if not head.startswith(_MAGIC):
                raise ValueError("no spool header")
            job = json.loads(head[len(_MAGIC):])
            if not isinstance(job, dict):
                raise ValueError("spool header is not an object")
            return job
        except (OSError, ValueError) as e:
            raise IngestRefused(500, f"cannot read the spooled upload's job: {e}") from e

    def work_dir(self, job_id: str) -> Path:
        """A new, empty folder of this process for the file the importer of a job reads."""
        self.open()
        path = self.path / f"{job_id}.{self.owner}.work"
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir()
        return path

    def remove(self, name: str) -> None:
        """Delete a spooled body (its job is done)."""
        self.body(name).unlink(missing_ok=True)

    def live_owners(self) -> set[str]:
        """Owners whose process still holds its lock (this one included); the lock files of
        dead owners are removed on the way."""
        alive = {self.owner} if self._lock is not None else set()
        for lock in (self.path / "owners").glob("*.lock"):
            owner = lock.stem
            if owner == self.owner:
                continue
            try:
                with open(lock, "a+") as fh:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    lock.unlink(missing_ok=True)  # dead: we hold its lock now
            except OSError as e:
                if e.errno in (errno.EAGAIN, errno.EACCES):
                    alive.add(owner)
        return alive

    def sweep(self, finished: Callable[[list[str]], set[str]]) -> SweepResult:
        """Remove what dead owners left: partial uploads, work folders, and the bodies among
        them whose job is finished (``finished(names)`` tells which of these spool names are
        the bodies of finished jobs); the bodies of jobs still to be done are kept."""
        if not self.path.exists():
            return SweepResult()
        before = {p.stem for p in (self.path / "owners").glob("*.lock")}
        alive = self.live_owners()
        dead_bodies = [n for n in self.queued()
                       if (m := _NAME.match(n)) is not None and m["owner"] not in alive]
        done = finished(dead_bodies) if dead_bodies else set()
        removed = 0
        for p in self.path.iterdir():
            m = _NAME.match(p.name)
            if m is None:
                if p.is_file() and p.name.endswith(".tmp"):
                    p.unlink(missing_ok=True)
                    removed += 1
                continue
            if m["owner"] in alive or (m["ext"] == "body" and p.name not in done):
                continue
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            removed += 1
        if removed:
            logger.warning("swept %d spool file(s) left by crashed ingests", removed)
        return SweepResult(removed, len(before - alive - {self.owner}))


def inflate_to(src: Path, dest: Path, *, gzip: bool | None, limit: int,
               offset: int = 0) -> bytes:
    """Write ``src`` from ``offset`` on, inflated, to ``dest`` (refusing more than ``limit``
    bytes); its head. A body that is not gzip is copied as it is."""
    inf = Inflater(limit=limit, gzip=gzip)
    with open(src, "rb") as fh:
        fh.seek(offset)
        first = fh.read(65536)
    if not (gzip or (gzip is None and first[:2] == b"\x1f\x8b")):
        if src.stat().st_size - offset > limit:
            raise IngestRefused(413, f"inventory larger than {limit} bytes")
        if not offset:
            try:
                os.link(src, dest)
                return first
            except OSError:
                pass
        with open(src, "rb") as fin, open(dest, "wb") as fout:
            fin.seek(offset)
            shutil.copyfileobj(fin, fout, _CHUNK)
        return first
    with open(src, "rb") as fin, open(dest, "wb") as fout:
        fin.seek(offset)
        while chunk := fin.read(_CHUNK):
            for out in inf.feed(chunk):
                fout.write(out)
        for out in inf.close():
            fout.write(out)
    return inf.head
