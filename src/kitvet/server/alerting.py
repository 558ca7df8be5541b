"""The alert sender: a thread that sends queued alerts while the server runs.

It wakes every ``alerts_interval_s`` seconds (and at once after each review, whose events are
already queued in the review's transaction), raises the calendar's events (deadlines,
expiries, silent hosts), routes the outbox and sends what is due. Failures wait for their
back-off in the queue; the thread never holds an alert in memory, so a restart loses nothing.
"""

from __future__ import annotations

import logging
import threading

from kitvet.estate import Estate

logger = logging.getLogger(__name__)

ACTOR = "kitvet-server"


class AlertSender:
    """One daemon thread draining the estate's alert queue."""

    def __init__(self, estate: Estate, *, interval_s: float = 30.0):
        self.estate = estate
        self.interval_s = interval_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.rounds = 0
        self.last_error: str | None = None

    def start(self) -> None:
        """Start the thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kitvet-alerts", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the round in progress, then stop."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def request(self) -> None:
        """Send soon (called after each review)."""
        self._wake.set()

    def send_now(self) -> None:
        """One round in the calling thread: scheduled reports, calendar, route, send."""
        try:
            for run in self.estate.schedules.run_due(actor=ACTOR):
                if run.action == "sent":
                    logger.info("reports: %s of %s queued (alert %s)", run.schedule, run.due,
                                run.alert_id)
        except Exception as e:  # a bad reports.toml must not stop the alerts
            logger.error("reports: scheduled reports: %s", e)
        self.estate.alerts.scan(actor=ACTOR)
        result = self.estate.alerts.drain(actor=ACTOR)
        self.rounds += 1
        if result.sent or result.failed:
            logger.info("alerts: %d sent, %d failed", result.sent, result.failed)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.send_now()
                self.last_error = None
            except Exception as e:  # a bad configuration must not stop the server
                self.last_error = str(e)[:500]
                logger.error("alerts: %s", e)
            self._wake.wait(self.interval_s)
            self._wake.clear()
