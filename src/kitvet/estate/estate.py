"""The estate: everything the CLI and the server do with an estate goes through here.

Every mutating method takes ``actor`` (who did it) and writes its audit entry in the same
transaction as the change. The estate orchestrates the layers below it: the store persists
(review database, inventory lake, audit chain), the review rules decide what a change means,
a :class:`~kitvet.match.interface.Matcher` finds, the lists and the policy judge.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
from sqlalchemy import Engine, select

from kitvet.alerts import events as alert_events
from kitvet.errors import StoreError
from kitvet.estate.accounts import Accounts
from kitvet.estate.alerting import EstateAlerts
from kitvet.estate.dossier import EstateDossiers
from kitvet.estate.gauges import Gauges, read_gauges
from kitvet.estate.reads import EstateReads
from kitvet.estate.schedules import ReportSchedules
from kitvet.estate.sso import SsoAccounts
from kitvet.estate.tokens import Tokens
from kitvet.model import Snapshot
from kitvet.review import campaigns, exceptions, findings, reconcile, subjects
from kitvet.store import audit as audit_log
from kitvet.store import ingest
from kitvet.store import tables as t
from kitvet.store.db import inserted_id, make_engine, migrate, read, utcnow, write
from kitvet.store.lake import Lake
from kitvet.store.location import (
    RELATIVE_DB_URL,
    EstateConfig,
    estate_dir,
    normalise_db_url,
    read_config,
    resolve_db_url,
    write_config,
)
from kitvet.store.records import (
    CampaignRecord,
    DecisionRecord,
    ExceptionRecord,
    FindingRecord,
    ImportResult,
    ReviewResult,
)

if TYPE_CHECKING:
    from kitvet.estate.ingest import IngestLimits, IngestQueue
    from kitvet.match.interface import Matcher
    from kitvet.model.ransom import Family
    from kitvet.model.risk import ListSet
    from kitvet.policy import Policy

logger = logging.getLogger(__name__)

#: The steps of a review, in order, as :meth:`Estate.review` reports them to ``progress``.
REVIEW_STEPS = ("reading current snapshots", "matching inventory against the lists",
                "recording findings", "removing orphaned lake files")


def init_estate(path: str | os.PathLike[str] | None = None, *, db_url: str | None = None,
                actor: str) -> Estate:
    """Create (or re-open) an estate: folder, ``estate.toml``, migrated database, lake."""
    root = estate_dir(path)
    cfg_file = root / "estate.toml"
    if cfg_file.exists():
        existing = read_config(root)
        if db_url and normalise_db_url(db_url) != normalise_db_url(existing.db_url):
            raise StoreError(f"the estate already uses {existing.redacted_url()}", file=str(root))
    else:
        # the default database is written relative to the folder (it moves with it); a
        # relative SQLite path given with --db is taken from the working directory
        url = (normalise_db_url(resolve_db_url(Path.cwd(), db_url)) if db_url
               else RELATIVE_DB_URL)
        root.mkdir(parents=True, exist_ok=True)
        write_config(root, EstateConfig(db_url=url, created_at=utcnow()))
    est = open_estate(root)
    with write(est.engine) as conn:
        if audit_log.count(conn) == 0:
            audit_log.append(conn, actor=actor, action="estate.init", obj="estate",
                         details={"database": est.config.redacted_url().split(":", 1)[0]})
    return est


def open_estate(path: str | os.PathLike[str] | None = None) -> Estate:
    """Open an existing estate (upgrading its database to the newest schema)."""
    root = estate_dir(path)
    return Estate(root, read_config(root))


class Estate(EstateReads, EstateDossiers):
    """One estate: its review database and inventory lake. The reads, each scoped by the
    caller's institutions, are those of :class:`~kitvet.estate.reads.EstateReads`."""

    def __init__(self, root: Path, config: EstateConfig):
        self.root = root
        self.config = config
        self.lake = Lake(root / "lake")
        self.engine: Engine = make_engine(normalise_db_url(config.db_url))
        migrate(self.engine)

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()

    def __enter__(self) -> Estate:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- inventory ---------------------------------------------------------------------------
    def import_snapshots(self, snapshots: Iterable[Snapshot], *, actor: str,
                         institution: str | None = None, create_institutions: bool = True
                         ) -> ImportResult:
        """Import snapshots atomically; the same snapshot twice changes nothing."""
        result = ingest.import_snapshots(self.engine, self.lake, snapshots, actor=actor,
                                         institution=institution,
                                         create_institutions=create_institutions)
        if result.batch_id is not None:
            from kitvet.match.sidekeys import make_side_keys

            # the batch's side file of match keys now, not at the next full review
            make_side_keys(self.lake, [result.batch_id])
            try:  # the import stands even if the calendar cannot be read now
                self.alerts.scan(actor=actor)
            except StoreError as e:
                logger.error("alerts: scan after import failed: %s", e)
        return result

    def import_paths(self, paths: Sequence[str | os.PathLike[str]], *, actor: str,
                     institution: str | None = None, fmt: str | None = None,
                     create_institutions: bool = True) -> ImportResult:
        """Read inventory files (any format the sources know) and import them."""
        from kitvet.sources.registry import read_paths

        snaps = read_paths([Path(p) for p in paths], fmt=fmt, institution=institution)
        return self.import_snapshots(snaps, actor=actor, institution=institution,
                                     create_institutions=create_institutions)

    def record_lake_batches(self, batch_ids: Sequence[str], *, actor: str) -> list[ImportResult]:
        """Record batches written straight to the lake (``kitvet bench generate`` and
        ``change`` write Parquet without importing) in the review database: their hosts and
        snapshots, as an import would. A batch already recorded changes nothing."""
        return ingest.record_lake_batches(self.engine, self.lake, batch_ids, actor=actor)

    def ingest_queue(self, limits: IngestLimits | Callable[[], IngestLimits] | None = None,
                     on_stored: Callable[[], None] | None = None) -> IngestQueue:
        """The spool and ingest workers of this estate (start them with ``start()``); the
        server and ``kitvet estate import`` store uploads through it."""
        from kitvet.estate.ingest import IngestQueue

        return IngestQueue(self, limits, on_stored)

    def refresh_current(self) -> int:
        """Rewrite ``lake/current.parquet`` from the database; returns the number of hosts."""
        return len(ingest.refresh_current(self.engine, self.lake))

    # -- review ------------------------------------------------------------------------------
    def review(self, *, actor: str, lists: ListSet | None = None, policy: Policy | None = None,
               matcher: Matcher | None = None, profile: str | None = None,
               progress: Callable[[str], None] | None = None,
               ransom_families: Sequence[Family] | None = None) -> ReviewResult:
        """Match current inventory against ``lists`` through ``policy`` and update findings.

        ``lists`` defaults to the bundled lists, ``policy`` to the profile named ``profile``
        (``default`` when None), ``matcher`` to the embedded DuckDB engine. ``profile`` is
        recorded with the review (the policy's name when None). ``progress`` is called with
        the name of each of the :data:`REVIEW_STEPS` as it starts (the CLI draws a progress
        bar from it).

        When the lake holds file rows, the review also sweeps them for the note names and
        extensions of ``ransom_families`` (default: the ransomware family lists in force) and
        records each hit as a finding of class *incident* (:mod:`kitvet.match.ransom`).
        """
        step = progress or (lambda _name: None)
        if matcher is None:
            from kitvet.match.engine import DuckDBMatcher

            matcher = DuckDBMatcher()
        if lists is None:
            from kitvet.lists import bundled

            lists = bundled()
        if policy is None:
            from kitvet.policy import load_profile

            policy = load_profile(profile)
        profile = profile or policy.name
        meta = [{"name": rl.name, "version": rl.version, "signed_by": rl.signed_by}
                for rl in lists.lists]
        # Reviews hold the lake lock from reading current snapshots to recording findings, so
        # a review never records findings older than those of the review before it.
        with self.lake.locked():
            step(REVIEW_STEPS[0])
            current = ingest.refresh_current(self.engine, self.lake, lock=False)
            step(REVIEW_STEPS[1])
            incidents, ransom_meta = self._incidents(ransom_families)
            if incidents.num_rows:
                from kitvet.match.engine import FINDING_SCHEMA

                incidents = incidents.select(FINDING_SCHEMA.names).cast(FINDING_SCHEMA)
                meta = meta + ransom_meta
            # the findings are recorded as the matcher hands them out, a batch at a time: a
            # vulnerability feed over a large estate finds millions
            batches = iter(matcher.match_batches(self.lake, lists, policy))
            first = next(batches, None)  # the matching itself; the rest is handing out
            if first is not None:
                batches = itertools.chain([first], batches)
            step(REVIEW_STEPS[2])
            result = self.apply_findings(itertools.chain(batches, incidents.to_batches()),
                                         actor=actor, current=current, profile=profile,
                                         lists_meta=meta, lists=lists, policy=policy)
        step(REVIEW_STEPS[3])
        with read(self.engine) as conn:
            referenced = set(conn.execute(select(t.batches.c.batch_id)).scalars())
        self.lake.clean(referenced)
        return result

    def _incidents(self, families: Sequence[Family] | None
                   ) -> tuple[pa.Table, list[dict[str, str | None]]]:
        """Incident findings of the ransomware sweep (empty when the lake has no file rows),
        and the family lists used; called with the lake locked."""
        import duckdb

        from kitvet.match.ransom import incident_findings, sweep

        meta: list[dict[str, str | None]] = []
        if families is None:
            if not self.lake.has_rows("files"):
                return incident_findings(pa.table({})), meta
            from kitvet.ransom import load_all, merged

            loaded = load_all()
            families = merged(loaded)
            meta = [{"name": fl.name, "version": fl.version, "signed_by": fl.signed_by}
                    for fl in loaded]
        con = duckdb.connect()
        try:
            self.lake.views(con)
            hits, _left_out = sweep(con, families)
        finally:
            con.close()
        return incident_findings(hits), meta

    def ransom_sweep(self, families: Sequence[Family]) -> tuple[pa.Table, list[str]]:
        """Hosts and paths of current snapshots that show an indicator of ``families`` (note
        names, extensions): the sweep of :mod:`kitvet.match.ransom` over the lake, and the
        indicators it left out."""
        import duckdb

        from kitvet.match.ransom import sweep

        with self.lake.locked():
            ingest.refresh_current(self.engine, self.lake, lock=False)
            con = duckdb.connect()
            try:
                self.lake.views(con)
                return sweep(con, families)
            finally:
                con.close()

    def apply_findings(self, table: pa.Table | Iterable[pa.RecordBatch], *, actor: str,
                       current: Mapping[str, tuple[str, str]] | None = None,
                       profile: str | None = None,
                       lists_meta: list[dict[str, str | None]] | None = None,
                       lists: ListSet | None = None, policy: Policy | None = None
                       ) -> ReviewResult:
        """Reconcile an engine findings table (FINDING_FIELDS), or its record batches, with
        the stored findings.

        With ``lists`` and ``policy`` the assertions behind each found subject are stored too.
        """
        batches = iter(table.to_batches() if isinstance(table, pa.Table) else table)
        # the first batch costs the matching: taken before the write transaction opens, so
        # that imports are not held up while the engine works
        first = next(batches, None)
        if first is not None:
            batches = itertools.chain([first], batches)
        if current is None:
            current = ingest.refresh_current(self.engine, self.lake)
        now = utcnow()
        with write(self.engine) as conn:
            rid = inserted_id(conn.execute(t.reviews.insert().values(
                started_at=now, actor=actor, profile=profile,
                lists=json.dumps(lists_meta or []))))
            rec = reconcile.Reconciler(conn, actor=actor, now=now, review_id=rid,
                                       current=dict(current), decided=findings.in_force(conn))
            for batch in batches:
                rec.add_batch(batch)
            counts = rec.finish()
            subjects.record(conn, rec.subject_ids, lists=lists, policy=policy,
                            profile=profile, review_id=rid, now=now)
            _acc, reopened, unused = exceptions.apply(conn, actor=actor, now=now, review_id=rid)
            campaigns.record_points(conn, now=now, review_id=rid)
            by_status, by_class = reconcile.live_counts(conn)
            live = sum(by_status.values())
            summary = dict(findings=live, new=counts.new, seen=counts.seen,
                           removed=counts.removed, reappeared=counts.reappeared,
                           unmatched=counts.unmatched, reopened=reopened,
                           by_status=by_status, by_class=by_class,
                           unused_exceptions=unused)
            conn.execute(t.reviews.update().where(t.reviews.c.review_id == rid).values(
                finished_at=utcnow(), counts=json.dumps(summary)))
            found = alert_events.from_review(
                conn, review_id=rid, new_findings=counts.new_findings,
                reappeared_ids=counts.reappeared_ids, status_changes=counts.status_changes,
                lists_meta=lists_meta)
            self.alerts.record(conn, found, now=now, actor=actor)
            self.alerts.scan_in(conn, now=now, actor=actor)
            audit_log.append(conn, actor=actor, action="estate.review", obj=f"review:{rid}", at=now,
                         details=dict(summary, profile=profile, lists=lists_meta or [],
                                      reappeared_ids=list(counts.reappeared_ids[:1000]),
                                      removed_ids=list(counts.removed_ids[:1000])))
        return ReviewResult(rid, live, counts.new, counts.seen, counts.removed,
                            counts.reappeared, reopened, by_status, tuple(unused), by_class)

    # -- findings, decisions -----------------------------------------------------------------
    def set_state(self, finding_id: str, state: str, *, actor: str, reason: str
                  ) -> FindingRecord:
        """Move a finding to a new state by hand (see :mod:`kitvet.review.states`)."""
        with write(self.engine) as conn:
            return findings.set_state(conn, finding_id, state, actor=actor, reason=reason,
                                      now=utcnow())

    def decide(self, subject_id: str, decision: str, *, actor: str, rationale: str,
               evidence: Sequence[str] = ()) -> DecisionRecord:
        """Decide on a subject (confirmed-malicious, cleared, banned); overrides policy status."""
        with write(self.engine) as conn:
            return findings.decide(conn, subject_id, decision, actor=actor, rationale=rationale,
                                   evidence=evidence, now=utcnow())

    # -- exceptions --------------------------------------------------------------------------
    def add_exception(self, *, subject_id: str, scope: str, reason: str, approver: str,
                      expires: str | date, actor: str) -> ExceptionRecord:
        """Add an exception; the findings it covers become accepted at once."""
        now = utcnow()
        with write(self.engine) as conn:
            eid = exceptions.add(conn, subject_id=subject_id, scope=scope, reason=reason,
                                 approver=approver, expires=expires, actor=actor, now=now)
            exceptions.apply(conn, actor=actor, now=now)
            return next(e for e in exceptions.listing(conn, now=now) if e.exception_id == eid)

    def revoke_exception(self, exception_id: int, *, actor: str, reason: str
                         ) -> ExceptionRecord:
        """Revoke an exception; the findings it held re-open at once."""
        now = utcnow()
        with write(self.engine) as conn:
            exceptions.revoke(conn, exception_id, actor=actor, reason=reason, now=now)
            exceptions.apply(conn, actor=actor, now=now)
            return next(e for e in exceptions.listing(conn, now=now)
                        if e.exception_id == exception_id)

    # -- campaigns ---------------------------------------------------------------------------
    def start_campaign(self, subject_id: str, *, actor: str,
                       deadlines: Mapping[str, int | None] | None = None,
                       lists: ListSet | None = None, policy: Policy | None = None
                       ) -> CampaignRecord:
        """Start a removal campaign; deadlines default to the policy's verdict, else 30/60/90;
        the remove deadline of a vulnerable or end-of-life subject is its authority's date (the
        earliest KEV due date, the end of life) unless ``deadlines`` names one."""
        days = dict(_policy_deadlines(subject_id, lists, policy))
        days.update({k: v for k, v in (deadlines or {}).items() if v is not None})
        with write(self.engine) as conn:
            return campaigns.start(conn, subject_id, actor=actor, now=utcnow(), deadlines=days,
                                   remove_by=_due_date(subject_id, lists))

    def close_campaign(self, campaign_id: int, *, actor: str, reason: str = "removed everywhere"
                       ) -> CampaignRecord:
        """Close a campaign; refused while fresh inventory still shows the subject."""
        with write(self.engine) as conn:
            return campaigns.close(conn, campaign_id, actor=actor, reason=reason, now=utcnow())

    # -- alerts and monitoring ---------------------------------------------------------------
    def gauges(self) -> Gauges:
        """Counts for monitoring (``/metrics``): findings, host freshness, alert queues."""
        with read(self.engine) as conn:
            return read_gauges(conn, now=utcnow())

    @functools.cached_property
    def alerts(self) -> EstateAlerts:
        """The estate's alerts: receivers, the queue, sending, dead letters."""
        return EstateAlerts(self.engine, self.root)

    @functools.cached_property
    def schedules(self) -> ReportSchedules:
        """The estate's scheduled reports (``reports.toml``), sent through the alert queue."""
        return ReportSchedules(self)

    # -- accounts ----------------------------------------------------------------------------
    @functools.cached_property
    def accounts(self) -> Accounts:
        """The estate's users, sessions and login rate limit."""
        return Accounts(self.engine)

    @functools.cached_property
    def tokens(self) -> Tokens:
        """The estate's API tokens (institutions' ingest tokens, users' tokens)."""
        return Tokens(self.engine)

    @functools.cached_property
    def sso(self) -> SsoAccounts:
        """Single sign-on: identity-provider accounts and sign-ins under way."""
        return SsoAccounts(self.engine)


#: Assertion kinds whose ``due_date`` is a deadline for acting on the subject.
DUE_KINDS = ("known-exploited-vulnerability", "end-of-life")


def _due_date(subject_id: str, lists: ListSet | None) -> tuple[str, str] | None:
    """(earliest due date, where it comes from) of the subject's KEV and end-of-life
    assertions in ``lists``, or None."""
    dues = []
    for _rl, subject in (lists.subjects() if lists is not None else []):
        if subject.id == subject_id:
            dues += [(a.due_date, f"{a.kind} {a.citation or a.instrument}: due {a.due_date} "
                                  f"({a.authority})")
                     for a in subject.assertions if a.kind in DUE_KINDS and a.due_date]
    return min(dues) if dues else None


def _policy_deadlines(subject_id: str, lists: ListSet | None, policy: Policy | None
                      ) -> dict[str, int]:
    """Deadlines the policy's verdict gives this subject, or {}."""
    if lists is None or policy is None:
        return {}
    for _rl, subject in lists.subjects():
        if subject.id == subject_id:
            verdict = policy.evaluate(subject)
            return dict(getattr(verdict, "deadlines", None) or {})
    return {}


__all__ = ["REVIEW_STEPS", "Estate", "init_estate", "open_estate"]
