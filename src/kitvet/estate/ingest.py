"""The ingest queue: uploads are spooled to disk, answered at once, and stored by workers.

The server and ``kitvet estate import`` take the same path:

1. :meth:`IngestQueue.receive` gives a spool file under ``<estate>/spool/``; the caller writes
   the upload into it as it arrives (size limits checked while reading, gzip counted through
   an :class:`~kitvet.store.spool.Inflater` so a bomb is refused after ``max_inventory_bytes``
   of output); :meth:`IngestQueue.submit` fsyncs it and queues a job (``ingest_jobs``). The
   server answers ``202`` with the job id here.
2. Worker threads claim the oldest queued jobs (up to ``batch_jobs`` uploads and
   ``batch_bytes`` of bodies at a time), parse each with the importers of ``kitvet import``,
   and store all of them as one lake batch and one database transaction, in which each job is
   also marked done. A job whose upload cannot be stored is *refused* with the HTTP status
   and reason the client would have got (400, 403, 413, 415); one that fails for another
   reason is *failed* (500).
3. Killing the process at any point loses nothing and stores nothing twice: a body is on disk
   before its job exists, a job is done in the same commit as its snapshots, snapshots are
   content-addressed (a re-run finds them present), and at the next start
   :meth:`IngestQueue.sweep` queues the jobs of dead workers again and removes what they left
   (partial uploads, decompressed copies, unreferenced lake batch files).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select

from kitvet.errors import KitvetError, StoreError
from kitvet.model import Snapshot
from kitvet.store import jobs
from kitvet.store import tables as t
from kitvet.store.db import read, utcnow
from kitvet.store.ingest import Group, import_groups
from kitvet.store.records import ImportResult, JobRecord
from kitvet.store.spool import Inflater, IngestRefused, Spool, SpoolFile, inflate_to

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from kitvet.estate.tokens import Tokens
    from kitvet.store.lake import Lake


class Estate(Protocol):
    """What the queue uses of :class:`~kitvet.estate.Estate` (which imports this module)."""

    root: Path
    engine: Engine
    lake: Lake

    @property
    def tokens(self) -> Tokens:
        """The estate's API tokens."""

logger = logging.getLogger(__name__)

FORMATS: tuple[str, ...] = ("kitvet", "osquery", "cyclonedx")
CONTENT_TYPES = {
    "application/vnd.cyclonedx+json": "cyclonedx",
    "application/vnd.cyclonedx+xml": "cyclonedx",
}
HOST_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$")
MIB = 1024 * 1024


@dataclass(frozen=True)
class IngestLimits:
    """How much an upload may hold and how much work the queue does at once."""

    #: Largest upload as sent (compressed), bytes.
    max_body_bytes: int = 64 * MIB
    #: Largest upload once decompressed, bytes (a gzip bomb stops here).
    max_inventory_bytes: int = 256 * MIB
    #: Most software, device and file rows one snapshot may hold.
    max_snapshot_items: int = 1_000_000
    #: Worker threads storing uploads (the bound on concurrent ingests).
    workers: int = 2
    #: Most uploads one worker stores as one batch, and most bytes of their bodies.
    batch_jobs: int = 64
    batch_bytes: int = 32 * MIB
    #: Most uploads waiting in the queue before new ones are turned away (503).
    max_queued: int = 5000


@dataclass(frozen=True)
class SweepSummary:
    """What the start-up sweep found of crashed ingests."""

    at: str
    spool_files: int = 0
    lake_files: int = 0
    jobs_requeued: int = 0
    jobs_failed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dataclasses.asdict(self)


def sniff(path: Path, head: bytes, fmt: str | None, content_type: str | None) -> str:
    """The format of an upload: ``fmt`` if given, else by content type, else detected."""
    from kitvet.sources.registry import importer

    if fmt:
        if fmt not in FORMATS:
            raise IngestRefused(415, f"unsupported format {fmt[:40]!r} "
                                f"(one of: {', '.join(FORMATS)})")
        return fmt
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype in CONTENT_TYPES:
        return CONTENT_TYPES[ctype]
    for name in FORMATS:
        if importer(name).detect(path, head):
            return name
    raise IngestRefused(415, "not a kitvet inventory, osquery result log or CycloneDX BOM "
                        "(give ?format=kitvet|osquery|cyclonedx)")


def check_host(host: str | None) -> None:
    """Refuse a bad ``host`` parameter (it becomes a file name)."""
    if host is not None and not HOST_RE.match(host):
        raise IngestRefused(400, "bad host id (letters, digits and ._:- only, 200 at most)",
                            place="host")


def read_file(path: Path, *, fmt: str, institution: str | None, check_institution: bool,
              max_items: int, origin: str = "") -> list[Snapshot]:
    """Read one upload's file into snapshots, refusing what cannot be stored. A large
    CycloneDX JSON BOM is read as a stream (:mod:`kitvet.sources.cyclonedx_stream`). Rows
    say they were found in ``origin`` + the file's name (the CLI: the file's own folder)."""
    from kitvet.sources import cyclonedx_stream as stream
    from kitvet.sources.registry import importer

    try:
        if fmt == "cyclonedx" and path.stat().st_size >= stream.STREAM_BYTES \
                and _first_byte(path) == b"{":
            snaps = stream.read_json_stream(path, institution=institution, max_items=max_items,
                                            shown_as=origin + path.name)
        else:
            snaps = importer(fmt).read(path, institution=institution)
            _relative_locations(snaps, f"{path.parent}/", origin)
    except stream.TooManyItems as e:
        raise IngestRefused(413, f"the snapshot holds more than the limit of {max_items} "
                            "inventory items per snapshot (max_snapshot_items)",
                            place=e.place) from e
    except KitvetError as e:
        raise IngestRefused(400, e.message, place=e.place or "body") from e
    except (ValueError, UnicodeError, RecursionError) as e:
        raise IngestRefused(400, f"cannot read the {fmt} document: {e}", place="body") from e
    if not snaps:
        raise IngestRefused(400, f"the {fmt} document holds no host inventory", place="body")
    for s in snaps:
        where = f"host {s.host.host_id[:100]}"
        if check_institution and s.host.institution != institution:
            raise IngestRefused(403, f"this token sends inventory for {institution!r}, not "
                                f"{(s.host.institution or '')[:100]!r}", place=where)
        items = s.software_count + len(s.devices) + len(s.files)
        if items > max_items:
            raise IngestRefused(413, f"the snapshot holds {items} inventory items, more than "
                                f"the limit of {max_items} per snapshot (max_snapshot_items)",
                                place=where)
    return snaps


def _relative_locations(snaps: list[Snapshot], prefix: str, origin: str) -> None:
    """Rows say where they were found in ``origin`` instead of the spool's work folder
    (``upload.json:…``), so the same upload sent twice gives the same snapshot (the id hashes
    locations) and the CLI's rows name the file it was given."""
    n = len(prefix)
    for s in snaps:
        for rows in (s.software, s.devices, s.files):
            for r in rows:
                loc = r.get("location")
                if isinstance(loc, str) and loc.startswith(prefix):
                    r["location"] = origin + loc[n:]
        s.skipped[:] = [dataclasses.replace(k, location=origin + k.location[n:])
                        if k.location and k.location.startswith(prefix) else k
                        for k in s.skipped]


def _first_byte(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")[:1]


class IngestQueue:
    """The spool, the queue and the workers of one estate (see the module docstring)."""

    def __init__(self, estate: Estate,
                 limits: IngestLimits | Callable[[], IngestLimits] | None = None,
                 on_stored: Callable[[], None] | None = None):
        self.estate = estate
        self._limits = limits or IngestLimits()
        self.on_stored = on_stored
        self.spool = Spool(estate.root / "spool")
        self._wake = threading.Condition()
        self._done = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._inflight: set[str] = set()  # claimed here, not yet through work_once's end
        self._room = (-1e9, 0)  # (when, uploads queued) as check_room last read it
        self.last_sweep: SweepSummary | None = None

    @property
    def limits(self) -> IngestLimits:
        """The limits in force (read anew each time when given as a function)."""
        return self._limits() if callable(self._limits) else self._limits

    # -- life ------------------------------------------------------------------------------
    def start(self, *, threads: bool = True) -> SweepSummary:
        """Open the spool, sweep what crashed ingests left, start the workers."""
        self.spool.open()
        summary = self.sweep()
        if threads:
            self._stop.clear()
            for i in range(max(1, self.limits.workers)):
                th = threading.Thread(target=self._run, name=f"kitvet-ingest-{i}", daemon=True)
                th.start()
                self._threads.append(th)
        return summary

    def stop(self, timeout: float = 30.0) -> None:
        """Let the workers finish their batch, then stop; release the spool."""
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        for th in self._threads:
            th.join(timeout)
        self._threads.clear()
        self.spool.close()

    def sweep(self) -> SweepSummary:
        """Queue again the jobs of dead workers; remove their spool files and the lake batch
        files no snapshot references (when no import is under way). Recorded in
        ``spool/last-sweep.json`` for ``estate status``."""
        engine = self.estate.engine
        now = utcnow()
        alive = self.spool.live_owners()
        again, failed = jobs.recover(engine, alive, now=now)
        swept = self.spool.sweep(lambda: jobs.pending_names(engine))

        def referenced() -> set[str]:
            with read(engine) as conn:
                return set(conn.execute(select(t.batches.c.batch_id)).scalars())

        lake = self.estate.lake.sweep(referenced) or []
        summary = SweepSummary(now, swept.spool_files, len(lake), again, failed)
        self.last_sweep = summary
        if swept.spool_files or lake or again or failed:
            logger.warning("start-up sweep: %d spool file(s) and %d lake file(s) of crashed "
                           "ingests removed, %d job(s) queued again, %d failed",
                           swept.spool_files, len(lake), again, failed)
        try:
            (self.spool.path / "last-sweep.json").write_text(json.dumps(summary.to_dict()))
        except OSError as e:
            logger.warning("cannot record the sweep: %s", e)
        return summary

    # -- accepting ---------------------------------------------------------------------------
    def check_room(self) -> None:
        """Refuse (503) a new upload while the queue is full (the count is read from the
        database at most once a second, and counted up by this process's uploads between)."""
        now = time.monotonic()
        if now - self._room[0] > 1.0:
            self._room = (now, jobs.counts(self.estate.engine).get("queued", 0))
        waiting = self._room[1]
        if waiting >= self.limits.max_queued:
            raise IngestRefused(503, f"the ingest queue is full ({waiting} uploads waiting); "
                                "send again later")

    def receive(self) -> SpoolFile:
        """A new spool file to write an upload into (then :meth:`submit` or discard it)."""
        return self.spool.create(new_job_id())

    def submit(self, spooled: SpoolFile, *, actor: str, institution: str | None,
               token_id: int | None = None, options: dict[str, Any] | None = None
               ) -> JobRecord:
        """Make a received upload durable and queue it; the job as queued."""
        name = spooled.commit()
        now = utcnow()
        try:
            from kitvet.store.db import write

            with write(self.estate.engine) as conn:
                jobs.add(conn, job_id=spooled.job_id, spool_name=name, body_bytes=spooled.size,
                         actor=actor, institution=institution, token_id=token_id,
                         options=options or {}, now=now)
        except BaseException:
            self.spool.remove(name)
            raise
        self._room = (self._room[0], self._room[1] + 1)
        with self._wake:
            self._wake.notify()
        return JobRecord(job_id=spooled.job_id, status="queued", institution=institution,
                         actor=actor, body_bytes=spooled.size, created_at=now)

    def submit_path(self, path: Path, *, actor: str, institution: str | None = None,
                    fmt: str | None = None, create_institutions: bool = True) -> JobRecord:
        """Queue an inventory file (the CLI's import): copied into the spool as it is."""
        limit = self.limits.max_body_bytes
        spooled = self.receive()
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(MIB):
                    if spooled.size + len(chunk) > limit:
                        raise IngestRefused(413, f"{path.name}: larger than {limit} bytes "
                                            "(max_body_bytes)")
                    spooled.write(chunk)
        except BaseException:
            spooled.discard()
            raise
        opts = {"format": fmt, "file": path.name, "create_institutions": create_institutions,
                "check_institution": False, "any_format": True,
                "origin": f"{path.parent}/" if str(path.parent) != "." else ""}
        return self.submit(spooled, actor=actor, institution=institution, options=opts)

    # -- reading -----------------------------------------------------------------------------
    def job(self, job_id: str) -> JobRecord | None:
        """One job, or None."""
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,80}", job_id):
            return None
        return jobs.get(self.estate.engine, job_id)

    def wait(self, job_ids: Iterable[str], timeout: float) -> list[JobRecord]:
        """The jobs, once all are finished or ``timeout`` seconds have passed."""
        ids = list(job_ids)
        deadline = time.monotonic() + timeout
        while True:
            recs = [r for i in ids if (r := self.job(i)) is not None]
            left = deadline - time.monotonic()
            if all(r.status in jobs.FINAL and r.job_id not in self._inflight
                   for r in recs) or left <= 0:
                return recs
            with self._done:
                self._done.wait(min(left, 0.25))

    def run_until_done(self, job_ids: Iterable[str]) -> list[JobRecord]:
        """Work the queue in this thread until these jobs are finished (the workers of a
        server on the same estate may take some of them); the finished jobs."""
        ids = list(job_ids)
        while True:
            recs = [r for i in ids if (r := self.job(i)) is not None]
            if len(recs) == len(ids) and all(r.status in jobs.FINAL for r in recs):
                return recs
            if not self.work_once():
                time.sleep(0.1)

    # -- working -----------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.work_once()
            except Exception as e:  # never let a worker die: the next round tries again
                logger.error("ingest worker: %s", e)
                worked = 0
                time.sleep(1.0)
            if not worked:
                with self._wake:
                    if not self._stop.is_set():
                        self._wake.wait(1.0)  # other processes queue jobs too: look again

    def work_once(self) -> int:
        """Claim one batch of queued jobs and store it; the number of jobs handled."""
        lim = self.limits
        claimed = jobs.claim(self.estate.engine, self.spool.open().owner, limit=lim.batch_jobs,
                             max_bytes=lim.batch_bytes, now=utcnow())
        if not claimed:
            return 0
        ids = {job.job_id for job, _n, _o in claimed}
        self._inflight.update(ids)
        try:
            self._work(claimed)
        finally:
            self._inflight.difference_update(ids)
            with self._done:
                self._done.notify_all()
        return len(claimed)

    def _work(self, claimed: list[tuple[JobRecord, str, dict[str, Any]]]) -> None:
        groups: list[Group] = []
        meta: list[tuple[JobRecord, str, str, dict[str, Any]]] = []
        ended: list[tuple[str, dict[str, Any]]] = []
        for job, name, opts in claimed:
            work = self.spool.work_dir(job.job_id)
            try:
                fmt, snaps = self._parse(job, name, opts, work)
                groups.append(Group(snaps, job.actor, job.institution,
                                    bool(opts.get("create_institutions", True))))
                meta.append((job, name, fmt, opts))
            except IngestRefused as e:
                ended.append((job.job_id, dict(status="refused", http_status=e.status,
                                               reason=e.message, place=e.place)))
            except Exception as e:
                logger.exception("ingest job %s failed", job.job_id)
                ended.append((job.job_id, dict(status="failed", http_status=500,
                                               reason=f"the upload could not be processed: "
                                               f"{str(e)[:300]}")))
            finally:
                shutil.rmtree(work, ignore_errors=True)
        if ended:
            jobs.finish_many(self.estate.engine, ended, now=utcnow())
        stored = self._store(groups, meta) if groups else False
        names = {j.job_id: n for j, n, _ in claimed}
        for job_id, _ in ended:
            self.spool.remove(names[job_id])
        for _job, name, _fmt, _opts in meta:
            self.spool.remove(name)
        tokens = {j.token_id for j, _n, _f, _o in meta if j.token_id is not None}
        for token_id in tokens:
            self.estate.tokens.touch(token_id)
        if stored and self.on_stored is not None:
            self.on_stored()

    def _parse(self, job: JobRecord, name: str, opts: dict[str, Any], work: Path
               ) -> tuple[str, list[Snapshot]]:
        """Inflate a job's body into ``work`` (named as the upload's host or file) and read it."""
        body = self.spool.body(name)
        if not body.exists():
            raise IngestRefused(500, "the spooled upload is missing")
        gz = True if opts.get("encoding") in ("gzip", "x-gzip") else None
        tmp = work / ".inflating"
        head = inflate_to(body, tmp, gzip=gz, limit=self.limits.max_inventory_bytes)
        if not head.strip():
            raise IngestRefused(400, "the request body is empty", place="body")
        if opts.get("file"):  # the CLI: the file's own name (importers read suffixes)
            final = work / Path(str(opts["file"])).name.removesuffix(".gz")
        else:
            final = work / (f"{opts.get('host') or 'upload'}"
                            f"{'.xml' if head.lstrip()[:1] == b'<' else '.json'}")
        tmp.rename(final)
        fmt = opts.get("format")
        if opts.get("any_format"):
            from kitvet.sources.registry import detect, importer

            try:
                fmt = importer(fmt).name if fmt else detect(final).name
            except KitvetError as e:
                raise IngestRefused(415, e.message, place=opts.get("file")) from e
        else:
            fmt = sniff(final, head, fmt, opts.get("content_type"))
        origin = str(opts.get("origin") or "")
        snaps = read_file(final, fmt=fmt, institution=job.institution,
                          check_institution=bool(opts.get("check_institution", True)),
                          max_items=self.limits.max_snapshot_items, origin=origin)
        return fmt, snaps

    def _store(self, groups: list[Group], meta: list[tuple[JobRecord, str, str, dict[str, Any]]]
               ) -> bool:
        """Store the parsed uploads as one batch (one by one if the batch fails)."""
        def on_commit(conn: Any, results: list[ImportResult]) -> None:
            now = utcnow()
            for (job, _name, fmt, _o), res in zip(metas, results, strict=True):
                jobs.finish(conn, job.job_id, status="done", http_status=200, now=now,
                            result=_result(fmt, job, res))

        metas = meta
        try:
            results = import_groups(self.estate.engine, self.estate.lake, groups,
                                    on_commit=on_commit)
            return any(r.batch_id for r in results)
        except StoreError as e:
            if len(groups) == 1:
                jobs.finish_many(self.estate.engine, [(meta[0][0].job_id, dict(
                    status="failed", http_status=500, reason=e.message))], now=utcnow())
                return False
        stored = False
        for g, m in zip(groups, meta, strict=True):  # one bad upload must not hold back others
            stored = self._store([g], [m]) or stored
        return stored


def _result(fmt: str, job: JobRecord, res: ImportResult) -> dict[str, Any]:
    return {"format": fmt, "institution": job.institution, "batch_id": res.batch_id,
            "added": list(res.added), "duplicates": list(res.duplicates),
            "became_current": list(res.became_current), "historical": list(res.historical),
            "institutions_created": list(res.institutions_created),
            "rejected": [s.to_dict() for s in res.rejected]}


def ingest_status(engine: Any, root: Path) -> dict[str, Any]:
    """Uploads per job status and the last start-up sweep (``spool/last-sweep.json``)."""
    try:
        swept = json.loads((root / "spool" / "last-sweep.json").read_text())
    except (OSError, ValueError):
        swept = None
    return {"jobs": jobs.counts(engine), "last_sweep": swept}


def new_job_id() -> str:
    """A job id: sortable by time, unique across processes."""
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:16]


def check_body(inflater: Inflater, chunk: bytes) -> None:
    """Count one received chunk through ``inflater`` (refusing a bomb); the output is dropped."""
    for _ in inflater.feed(chunk):
        pass


__all__ = [
    "FORMATS",
    "Inflater",
    "IngestLimits",
    "IngestQueue",
    "IngestRefused",
    "JobRecord",
    "SweepSummary",
    "check_body",
    "check_host",
    "sniff",
]
