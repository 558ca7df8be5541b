"""The ingest queue of one estate: the spool, the job rows, the worker threads, the start-up
sweep (see :mod:`kitvet.estate.ingest`)."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select

from kitvet.estate.ingest.limits import MIB, IngestLimits
from kitvet.estate.ingest.worker import work_batch
from kitvet.store import jobs
from kitvet.store import tables as t
from kitvet.store.db import read, utcnow
from kitvet.store.records import JobRecord
from kitvet.store.spool import IngestRefused, Spool, SpoolFile

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
        swept = self.spool.sweep(lambda names: jobs.finished_names(engine, names))

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
        """Refuse (503) a new upload while the queue is full (the spool's bodies are counted
        at most once a second, and counted up by this process's uploads between)."""
        now = time.monotonic()
        if now - self._room[0] > 1.0:
            self._room = (now, len(self.spool.queued()))
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
        """Make a received upload durable and queue it (its job is written at the start of
        its spool file, which is fsync'ed and renamed into place: no database transaction);
        the job as queued."""
        now = utcnow()
        try:
            spooled.commit({"actor": actor[:300], "institution": institution,
                            "token_id": token_id, "options": options or {},
                            "body_bytes": spooled.size, "created_at": now})
        except BaseException:
            spooled.discard()
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
        """One job, or None: its row, or, before a worker claims it, its spooled body."""
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,80}", job_id):
            return None
        rec = jobs.get(self.estate.engine, job_id)
        if rec is not None:
            return rec
        name = self.spool.find(job_id)
        if name is None:
            return jobs.get(self.estate.engine, job_id)  # claimed and finished meanwhile
        try:
            job = self.spool.job(name)
        except IngestRefused:
            return jobs.get(self.estate.engine, job_id)  # removed meanwhile
        inst, size = job.get("institution"), job.get("body_bytes")
        return JobRecord(job_id=job_id, status="queued", actor=str(job.get("actor")),
                         institution=inst if isinstance(inst, str) else None,
                         body_bytes=size if isinstance(size, int) else 0,
                         created_at=str(job.get("created_at")))

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
        worked = 0
        while not self._stop.is_set():
            lim = self.limits
            if 0 < worked < lim.batch_jobs and lim.batch_wait_s > 0:
                self._stop.wait(lim.batch_wait_s)  # let the next uploads gather
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
        mine = self._inflight
        bodies = [n for n in self.spool.open().queued() if n.split(".", 1)[0] not in mine]
        claimed = jobs.claim(self.estate.engine, self.spool.owner, limit=lim.batch_jobs,
                             max_bytes=lim.batch_bytes, now=utcnow(),
                             bodies=bodies[:4 * lim.batch_jobs], job_of=self.spool.job)
        if not claimed:
            return 0
        ids = {job.job_id for job, _n, _o in claimed}
        self._inflight.update(ids)
        try:
            stored, tokens = work_batch(self.estate.engine, self.estate.lake, self.spool, lim,
                                        claimed)
            for token_id in tokens:
                self.estate.tokens.touch(token_id)
            if stored and self.on_stored is not None:
                self.on_stored()
        finally:
            self._inflight.difference_update(ids)
            with self._done:
                self._done.notify_all()
        return len(claimed)


def ingest_status(engine: Any, root: Path) -> dict[str, Any]:
    """Uploads per job status (those no worker has claimed yet are queued: their bodies in
    the spool without a row) and the last start-up sweep (``spool/last-sweep.json``)."""
    try:
        swept = json.loads((root / "spool" / "last-sweep.json").read_text())
    except (OSError, ValueError):
        swept = None
    counts = jobs.counts(engine)
    unclaimed = jobs.unclaimed(engine, Spool(root / "spool").queued())
    if unclaimed:
        counts["queued"] = counts.get("queued", 0) + unclaimed
    return {"jobs": counts, "last_sweep": swept}


def new_job_id() -> str:
    """A job id: unique across processes, sortable by time to the microsecond (workers take
    spooled uploads in the order of their ids)."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:16]
