"""The review queue: a worker thread that reviews the estate after inventory lands.

Each successful ingest calls :meth:`ReviewWorker.request`; the worker wakes, runs one review
of the whole estate (the matching engine works on distinct keys, so one review after a burst
of ingests costs about as much as one after a single ingest) and sleeps again. Requests that
arrive during a review are coalesced into the next one. The queue is not persisted: at start
the server requests a review if the estate's last import is newer than its last review, so an
ingest that landed just before a restart is reviewed all the same.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from kitvet.estate import Estate, ReviewResult
from kitvet.model.risk import ListSet
from kitvet.policy import Policy

logger = logging.getLogger(__name__)

ACTOR = "kitvet-server"


class ReviewWorker:
    """One daemon thread that reviews the estate when asked."""

    def __init__(self, estate: Estate, *, lists: ListSet, policy: Policy, profile: str,
                 after_review: Callable[[float], None] | None = None):
        self.estate = estate
        self.after_review = after_review  # called with the review's seconds: metrics, alerts
        self.lists, self.policy, self.profile = lists, policy, profile
        self._wanted = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.reviews = 0
        self.last_error: str | None = None

    def start(self) -> None:
        """Start the thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kitvet-review", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the review in progress, then stop."""
        self._stop.set()
        self._wanted.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def request(self) -> None:
        """Ask for a review soon."""
        with self._lock:
            self._idle.clear()
            self._wanted.set()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until no review is wanted or running (tests and shutdown use it)."""
        return self._idle.wait(timeout)

    def review_now(self) -> ReviewResult:
        """Run one review in the calling thread."""
        started = time.perf_counter()
        result = self.estate.review(actor=ACTOR, lists=self.lists, policy=self.policy,
                                    profile=self.profile)
        self.reviews += 1
        logger.info("review %s: %s findings", result.review_id, result.findings)
        if self.after_review is not None:
            self.after_review(time.perf_counter() - started)
        return result

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wanted.wait()
            if self._stop.is_set():
                break
            self._wanted.clear()
            try:
                self.review_now()
                self.last_error = None
            except Exception as e:
                self.last_error = str(e)[:500]
                logger.error("background review failed: %s", e)
                time.sleep(1.0)
            with self._lock:
                if not self._wanted.is_set():
                    self._idle.set()
        self._idle.set()
