"""What can be read of an estate, each read limited to what the caller's scope may see.

The command line reads the whole estate (:data:`~kitvet.estate.scope.EVERYTHING`, the default);
the server passes the signed-in account's scope, so a reviewer of one institution never sees
another's hosts, findings, campaign progress or audit entries. Each read is one read
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, func, select

from kitvet.errors import StoreError
from kitvet.estate import inventory, queries
from kitvet.estate.scope import EVERYTHING, NotFound, Scope
from kitvet.estate.status import estate_status
from kitvet.review import campaigns, exceptions, findings
from kitvet.store import audit as audit_log
from kitvet.store import tables as t
from kitvet.store.db import read, utcnow
from kitvet.store.lake import Lake
from kitvet.store.location import EstateConfig
from kitvet.store.records import (
    CampaignStatus,
    DecisionRecord,
    EstateStatus,
    ExceptionRecord,
    FindingDetail,
    FindingRecord,
    Page,
)

if TYPE_CHECKING:
    from kitvet.model.risk import ListSet
    from kitvet.report.estate.model import EstateReport


class EstateReads:
    """The reads of :class:`~kitvet.estate.Estate` (which provides the attributes below)."""

    root: Path
    config: EstateConfig
    lake: Lake
    engine: Engine

    # -- findings ----------------------------------------------------------------------------
    def findings(self, *, scope: Scope = EVERYTHING,
                 status: Sequence[str] | str | None = None,
                 state: Sequence[str] | str | None = None, institution: str | None = None,
                 subject: str | None = None, host: str | None = None, q: str | None = None,
                 live: bool | None = True, reappeared: bool | None = None,
                 finding_class: Sequence[str] | str | None = None, sort: str = "severity",
                 descending: bool = False, limit: int = 100, offset: int = 0,
                 max_page: int = findings.MAX_PAGE) -> Page[FindingRecord]:
        """Findings (live ones by default), class by class and most severe first (or by
        ``sort``, one of :data:`~kitvet.review.findings.SORTS`), one page at a time; ``q``
        searches names, publishers, hosts and subjects; ``finding_class`` takes classes or
        aliases (``eol``, ``vulnerable`` ...; see :func:`kitvet.model.expand_classes`)."""
        with read(self.engine) as conn:
            return findings.listing(conn, institutions=scope.institutions, status=status,
                                    state=state, institution=institution, subject=subject,
                                    host=host, q=q, live=live, reappeared=reappeared,
                                    finding_class=finding_class, sort=sort,
                                    descending=descending, limit=limit, offset=offset,
                                    max_page=max_page)

    def finding(self, finding_id: str, *, scope: Scope = EVERYTHING, prefix: bool = True
                ) -> FindingDetail:
        """One finding with evidence and history. With ``prefix`` a unique id prefix of 6+
        characters works; without it (the server) only the exact id of a finding the scope
        allows is found, anything else is :class:`NotFound`."""
        if prefix and scope.everything:
            with read(self.engine) as conn:
                return findings.detail(conn, finding_id)
        if not finding_id or len(finding_id) > 64:
            raise NotFound("no such finding")
        try:
            with read(self.engine) as conn:
                detail = findings.detail(conn, finding_id)
        except StoreError as e:
            raise NotFound("no such finding") from e
        if detail.finding.finding_id != finding_id or not scope.allows(detail.finding.institution):
            raise NotFound("no such finding")
        return detail

    def decisions(self, *, subject: str | None = None, include_superseded: bool = False
                  ) -> list[DecisionRecord]:
        """Decisions in force (or all), newest first."""
        with read(self.engine) as conn:
            return findings.decisions(conn, subject=subject,
                                      include_superseded=include_superseded)

    def known_subjects(self) -> set[str]:
        """Subject ids found by a review, recorded with their assertions or decided on."""
        with read(self.engine) as conn:
            return findings.known_subjects(conn)

    def unknown_subject(self, subject_id: str, lists: ListSet | None = None) -> str | None:
        """None if the estate or ``lists`` know the subject, else "no subject X" naming the
        closest known ids (for a typo in a decision)."""
        named = {s.id for _rl, s in lists.subjects()} if lists is not None else set()
        if subject_id in named:
            return None
        known = self.known_subjects() | named
        return None if subject_id in known else findings.unknown_subject_message(subject_id,
                                                                                 known)

    def subject_counts(self, *, scope: Scope = EVERYTHING) -> dict[str, dict[str, int]]:
        """subject_id -> {status: live findings} within the scope."""
        with read(self.engine) as conn:
            return queries.subject_counts(conn, scope)

    # -- exceptions --------------------------------------------------------------------------
    def exceptions(self, *, active_only: bool = False, scope: Scope = EVERYTHING
                   ) -> list[ExceptionRecord]:
        """Exceptions, each with the number of findings it covers now; a scoped caller sees
        those of its hosts and institutions, and the estate-wide ones."""
        with read(self.engine) as conn:
            items = exceptions.listing(conn, active_only=active_only, now=utcnow())
            if scope.everything:
                return items
            hosts: set[str] | None = None
            out = []
            for e in items:
                kind, _, value = e.scope.partition(":")
                if kind == "estate" or (kind == "institution" and scope.allows(value)):
                    out.append(e)
                elif kind == "host":
                    if hosts is None:
                        hosts = queries.host_ids(conn, scope)
                    if value in hosts:
                        out.append(e)
            return out

    # -- campaigns ---------------------------------------------------------------------------
    def campaign(self, campaign_id: int, *, scope: Scope = EVERYTHING) -> CampaignStatus:
        """A campaign with progress per institution and burndown (of the scope's
        institutions)."""
        with read(self.engine) as conn:
            return queries.scoped_campaign(campaigns.status(conn, campaign_id, now=utcnow()),
                                           scope, conn)

    def campaigns(self, *, open_only: bool = False, scope: Scope = EVERYTHING
                  ) -> list[CampaignStatus]:
        """Every campaign (or only the open ones) with its status."""
        with read(self.engine) as conn:
            return [queries.scoped_campaign(c, scope, conn)
                    for c in campaigns.listing(conn, open_only=open_only, now=utcnow())]

    def campaign_candidates(self) -> list[str]:
        """Subjects a campaign may start for (banned, none already open)."""
        with read(self.engine) as conn:
            return queries.campaign_candidates(conn)

    # -- hosts and inventory -----------------------------------------------------------------
    def institutions(self, *, scope: Scope = EVERYTHING) -> list[str]:
        """Names of the estate's institutions (those the scope allows)."""
        with read(self.engine) as conn:
            return queries.institutions(conn, scope)

    def host_count(self) -> int:
        """Number of hosts."""
        with read(self.engine) as conn:
            return conn.execute(select(func.count()).select_from(t.hosts)).scalar_one()

    def hosts(self, *, scope: Scope = EVERYTHING, q: str | None = None,
              institution: str | None = None, limit: int = 50, offset: int = 0
              ) -> tuple[list[dict[str, Any]], int]:
        """Hosts (search by host id or hostname) with their live finding counts; (rows, total)."""
        with read(self.engine) as conn:
            return queries.hosts_page(conn, scope, q=q, institution=institution, limit=limit,
                                      offset=offset)

    def host(self, host_id: str, *, scope: Scope = EVERYTHING) -> dict[str, Any]:
        """One host the scope allows (else :class:`NotFound`)."""
        with read(self.engine) as conn:
            return queries.host(conn, scope, host_id)

    def inventory(self, *, scope: Scope = EVERYTHING, kind: str = "software",
                  q: str | None = None, host_id: str | None = None, limit: int = 200
                  ) -> tuple[list[dict[str, Any]], bool]:
        """Current software or devices rows matching ``q`` of the hosts in scope (or of one);
        (rows, truncated)."""
        return inventory.search(self.engine, self.lake, scope, kind=kind, q=q, host_id=host_id,
                                limit=limit)

    # -- audit -------------------------------------------------------------------------------
    def audit(self, *, limit: int | None = 100, offset: int = 0, action: str | None = None,
              obj: str | None = None, newest_first: bool = False, scope: Scope = EVERYTHING
              ) -> list[audit_log.AuditEntry]:
        """Audit entries in order (filters: action prefix, exact object); a scoped caller sees
        those about its institutions' findings, hosts and institutions, and its own."""
        with read(self.engine) as conn:
            return audit_log.entries(conn, limit=limit, offset=offset, action=action, obj=obj,
                                     newest_first=newest_first,
                                     where=queries.audit_scope(scope))

    def verify_audit(self, *, expect_head: str | None = None, lake: bool = True
                     ) -> audit_log.AuditCheck:
        """Verify the hash chain and its anchors; names the first bad entry.

        Every import batch must still find the audit entry its row recorded and (``lake``)
        every batch file in the lake the head it recorded: a wiped or rewritten log fails.
        """
        with read(self.engine) as conn:
            return check_audit(conn, lake=self.lake if lake else None, expect_head=expect_head)

    def export_audit(self, out: IO[str]) -> int:
        """Write every entry as one JSON object per line; returns the number written."""
        n = 0
        with read(self.engine) as conn:
            for r in audit_log.iter_rows(conn):
                out.write(audit_log.canonical(audit_log.row_entry(r).to_dict()) + "\n")
                n += 1
        return n

    # -- status ------------------------------------------------------------------------------
    def status(self, *, scope: Scope = EVERYTHING) -> EstateStatus:
        """Counts per institution, status and state; freshness; open campaigns (of the
        scope's institutions: a scoped status names neither the folder nor the database)."""
        with read(self.engine) as conn:
            status = estate_status(conn, root=str(self.root),
                                   database=self.config.redacted_url(), now=utcnow())
            if not scope.everything:
                return queries.scoped_status(status, scope, conn)
        from kitvet.estate.ingest import ingest_status

        return replace(status, ingest=ingest_status(self.engine, self.root))

    def report(self, *, scope: Scope = EVERYTHING, since: str | None = None,
               stale_days: int = 7, expiring_days: int = 30, title: str = "Estate report"
               ) -> EstateReport:
        """The estate report of the scope's institutions: findings per institution, class and
        status, their trend since ``since`` (ISO date), campaigns and burndowns, exceptions
        expiring within ``expiring_days``, hosts silent for more than ``stale_days``."""
        from kitvet.estate.reporting import build_report
        from kitvet.util import today

        with read(self.engine) as conn:
            return build_report(conn, scope, now=utcnow(), today=today(), since=since,
                                stale_days=stale_days, expiring_days=expiring_days,
                                title=title)


def check_audit(conn: Connection, *, lake: Lake | None = None, expect_head: str | None = None
                ) -> audit_log.AuditCheck:
    """The audit chain checked with its anchors: each import batch's row and (``lake``) each
    batch file of the lake must still find the entry it recorded (see ``store.audit``)."""
    b = t.batches
    rows = conn.execute(select(b.c.batch_id, b.c.audit_seq, b.c.audit_hash)).all()
    anchors = [audit_log.Anchor(f"import batch {r.batch_id}", r.audit_seq, r.audit_hash)
               for r in rows if r.audit_seq is not None and r.audit_hash]
    if lake is not None:
        anchors += [audit_log.Anchor(f"the lake's batch file {bid}", seq, digest)
                    for bid, seq, digest in lake.anchors()]
    legacy = [f"batch:{r.batch_id}" for r in rows if r.audit_seq is None]
    return audit_log.verify(conn, expect_head=expect_head, anchors=anchors, unanchored=legacy)
