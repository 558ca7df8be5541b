"""``GET /metrics``: the Prometheus text format (prometheus-client), behind a bearer token.

Counters and histograms of this process (ingest requests, bytes, snapshots and latency,
review durations) sit beside gauges read from the estate at each scrape (live findings by
status, institution and class; hosts by the age of their latest inventory; alerts by receiver
and state; the last review). The endpoint answers only with ``Authorization: Bearer TOKEN``
where TOKEN is ``KITVET_SERVER_METRICS_TOKEN``; without that setting it is off (404).
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool

from kitvet.errors import KitvetError
from kitvet.estate import Estate

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

#: prometheus-client's folder for the values of several worker processes
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
REVIEW_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)


class EstateCollector(Collector):
    """Gauges read from the estate at each scrape."""

    def __init__(self, estate: Estate):
        self.estate = estate

    def collect(self) -> Iterator[Metric]:
        """One read of the estate's counts."""
        up = GaugeMetricFamily("kitvet_estate_up", "1 if the estate database answered")
        try:
            g = self.estate.gauges()
        except KitvetError as e:
            logger.error("metrics: %s", e)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        findings = GaugeMetricFamily("kitvet_findings", "Live findings",
                                     labels=["status", "institution", "finding_class"])
        for status, inst, cls, n in g.findings:
            findings.add_metric([status, inst, cls], n)
        yield findings
        hosts = GaugeMetricFamily(
            "kitvet_hosts", "Hosts by the age of their latest inventory (1d, 7d, 30d, older)",
            labels=["institution", "freshness"])
        for inst, label, n in g.hosts:
            hosts.add_metric([inst, label], n)
        yield hosts
        queue = GaugeMetricFamily("kitvet_alerts", "Alerts by receiver and state "
                                  "(pending is the queue depth; dead are the dead letters)",
                                  labels=["receiver", "state"])
        for receiver, state, n in g.alerts:
            queue.add_metric([receiver, state], n)
        yield queue
        unrouted = GaugeMetricFamily("kitvet_alert_events_unrouted",
                                     "Events waiting in the outbox for a readable alerts.toml")
        unrouted.add_metric([], g.unrouted_events)
        yield unrouted
        reviews = CounterMetricFamily("kitvet_estate_reviews", "Reviews recorded in the estate")
        reviews.add_metric([], g.reviews)
        yield reviews
        if g.last_review_finished is not None:
            last = GaugeMetricFamily("kitvet_last_review_timestamp_seconds",
                                     "When the latest review finished (Unix time)")
            last.add_metric([], g.last_review_finished)
            yield last


class ServerMetrics:
    """The server's metrics registry (one per app, never the global one)."""

    def __init__(self, estate: Estate):
        self.registry = CollectorRegistry(auto_describe=True)
        self.ingest_requests = Counter(
            "kitvet_ingest_requests", "Ingest requests by institution and outcome "
            "(accepted, or the HTTP status of the refusal)", ["institution", "outcome"],
            registry=self.registry)
        self.ingest_bytes = Counter("kitvet_ingest_bytes", "Ingest request bytes received "
                                    "(as sent, before decompression)", ["institution"],
                                    registry=self.registry)
        self.ingest_seconds = Histogram("kitvet_ingest_duration_seconds",
                                        "Ingest request latency (read, check, spool)",
                                        buckets=LATENCY_BUCKETS, registry=self.registry)
        self.review_seconds = Histogram("kitvet_review_duration_seconds",
                                        "Duration of the server's reviews (match and record)",
                                        buckets=REVIEW_BUCKETS, registry=self.registry)
        self.estate_collector = EstateCollector(estate)
        self.registry.register(self.estate_collector)

    def observe_ingest(self, institution: str, outcome: str, nbytes: int, seconds: float
                       ) -> None:
        """Count one ingest request (accepted into the ingest queue, or refused)."""
        self.ingest_requests.labels(institution, outcome).inc()
        self.ingest_bytes.labels(institution).inc(nbytes)
        self.ingest_seconds.observe(seconds)

    def render(self) -> bytes:
        """The exposition text. Under several worker processes (``PROMETHEUS_MULTIPROC_DIR``,
        set by ``kitvet serve --workers N``) the counters and histograms are those of all the
        workers together, whichever worker answers the scrape."""
        if os.environ.get(MULTIPROC_ENV):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            registry.register(self.estate_collector)
            return generate_latest(registry)
        return generate_latest(self.registry)


def authorised(expected: str | None, header: str | None) -> bool:
    """Does the Authorization header carry the metrics token?"""
    if not expected or not header:
        return False
    scheme, _, value = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(),
                                                              expected.encode())


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """The Prometheus exposition, for a scraper holding the metrics token."""
    ctx = request.app.state.kv
    token = ctx.settings.metrics_token
    if not token or ctx.metrics is None:
        return JSONResponse({"detail": "metrics are off (set KITVET_SERVER_METRICS_TOKEN)"},
                            status_code=404)
    if not authorised(token, request.headers.get("authorization")):
        return JSONResponse({"detail": "a bearer token is required"}, status_code=401,
                            headers={"WWW-Authenticate": 'Bearer realm="kitvet metrics"'})
    body = await run_in_threadpool(ctx.metrics.render)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
