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

Modules: :mod:`.limits` (formats, host ids, size limits), :mod:`.reading` (one upload's body
into snapshots), :mod:`.worker` (a claimed batch stored), :mod:`.queue` (spool, jobs, worker
threads, the start-up sweep).
"""

from kitvet.estate.ingest.limits import (
    FORMATS,
    IngestLimits,
    check_body,
    check_host,
    sniff,
)
from kitvet.estate.ingest.queue import IngestQueue, SweepSummary, ingest_status, new_job_id
from kitvet.estate.ingest.reading import read_file
from kitvet.store.records import JobRecord
from kitvet.store.spool import Inflater, IngestRefused

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
    "ingest_status",
    "new_job_id",
    "read_file",
    "sniff",
]
