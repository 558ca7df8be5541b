"""The review database's tables (SQLAlchemy Core), as created by the Alembic migrations.

Times are ISO 8601 UTC strings (``2026-11-29T08:30:00.123456Z``): they sort as text, read the
same on SQLite and PostgreSQL, and hash the same in the audit chain.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

T = String(40)  # ISO timestamps
NAME = String(300)

institutions = Table(
    "institutions", metadata,
    Column("name", NAME, primary_key=True),
    Column("created_at", T, nullable=False),
    Column("created_by", NAME, nullable=False),
)

batches = Table(
    "batches", metadata,
    Column("batch_id", String(64), primary_key=True),
    Column("imported_at", T, nullable=False),
    Column("actor", NAME, nullable=False),
    Column("snapshot_count", Integer, nullable=False),
    # the audit entry written with the batch (revision 0004): what `audit verify` anchors to
    Column("audit_seq", Integer),
    Column("audit_hash", String(64)),
)

hosts = Table(
    "hosts", metadata,
    Column("host_id", NAME, primary_key=True),
    Column("institution", NAME, ForeignKey("institutions.name"), nullable=False),
    Column("hostname", NAME),
    Column("platform", String(40)),
    Column("machine_id", NAME),
    Column("current_snapshot_id", String(64), nullable=False),
    Column("current_collected_at", T, nullable=False),
    Column("first_seen", T, nullable=False),
    Column("updated_at", T, nullable=False),
)
Index("ix_hosts_institution", hosts.c.institution)

snapshots = Table(
    "snapshots", metadata,
    Column("snapshot_id", String(64), primary_key=True),
    Column("host_id", NAME, ForeignKey("hosts.host_id"), nullable=False),
    Column("institution", NAME, nullable=False),
    Column("collected_at", T, nullable=False),
    Column("imported_at", T, nullable=False),
    Column("batch_id", String(64), ForeignKey("batches.batch_id"), nullable=False),
    Column("software_count", Integer, nullable=False),
    Column("device_count", Integer, nullable=False),
    Column("skipped_count", Integer, nullable=False),
)
Index("ix_snapshots_host", snapshots.c.host_id)

#: The ingest queue (migration ingest0001): status queued → running → done | refused | failed.
ingest_jobs = Table(
    "ingest_jobs", metadata,
    Column("job_id", String(64), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("institution", NAME),  # the token's institution; None: the documents say
    Column("actor", NAME, nullable=False),
    Column("token_id", Integer),
    Column("spool_name", String(200), nullable=False),
    Column("body_bytes", BigInteger, nullable=False),
    Column("options", Text, nullable=False),  # JSON: format, host, encoding, content type ...
    Column("owner", String(64)),  # the spool owner (process) running it
    Column("attempts", Integer, nullable=False),
    Column("http_status", Integer),  # what the job answers: 200 done, 4xx refused, 500 failed
    Column("reason", Text),
    Column("place", Text),
    Column("result", Text),  # JSON of the import result
    Column("created_at", T, nullable=False),
    Column("started_at", T),
    Column("finished_at", T),
)
Index("ix_ingest_jobs_status", ingest_jobs.c.status, ingest_jobs.c.created_at)

reviews = Table(
    "reviews", metadata,
    Column("review_id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", T, nullable=False),
    Column("finished_at", T),
    Column("actor", NAME, nullable=False),
    Column("profile", NAME),
    Column("lists", Text),  # JSON [{"name","version","signed_by"}]
    Column("counts", Text),  # JSON {"new","seen","removed","reappeared",...}
)

findings = Table(
    "findings", metadata,
    Column("finding_id", String(64), primary_key=True),
    Column("host_id", NAME, nullable=False),
    Column("hostname", NAME),
    Column("institution", NAME),
    Column("item_type", String(20), nullable=False),
    Column("item_key", Text, nullable=False),
    Column("name", Text),
    Column("version", Text),
    Column("publisher", Text),
    Column("subject_id", NAME, nullable=False),
    Column("subject_name", NAME),
    Column("list_name", NAME),
    Column("finding_class", String(40)),  # kitvet.model.FINDING_CLASSES (revision 0003)
    Column("policy_status", String(20), nullable=False),
    Column("status", String(20), nullable=False),  # effective: decision overrides policy
    Column("decision", String(40)),
    Column("rule", Text),
    Column("state", String(20), nullable=False),
    Column("live", Boolean, nullable=False),  # in the latest review's match output
    Column("first_seen", T, nullable=False),
    Column("last_seen", T, nullable=False),
    Column("resolved_at", T),  # collected_at of the snapshot that no longer had the item
    Column("removed_at", T),  # when the review recorded the removal
    Column("reappeared", Integer, nullable=False, default=0),
    Column("reappeared_at", T),
    Column("snapshot_id", String(64)),
    Column("exception_id", Integer),
    Column("evidence", Text),  # JSON: the engine's row (matched, explanation, item fields)
    Column("updated_at", T, nullable=False),
)
Index("ix_findings_subject", findings.c.subject_id)
Index("ix_findings_host", findings.c.host_id)
Index("ix_findings_institution", findings.c.institution)
Index("ix_findings_state_status", findings.c.state, findings.c.status)
Index("ix_findings_class", findings.c.finding_class)

finding_events = Table(
    "finding_events", metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("finding_id", String(64), nullable=False),
    Column("at", T, nullable=False),
    Column("actor", NAME, nullable=False),
    Column("kind", String(40), nullable=False),  # found, state, removed, reappeared, decision ...
    Column("from_state", String(20)),
    Column("to_state", String(20)),
    Column("reason", Text),
    Column("review_id", Integer),
)
Index("ix_finding_events_finding", finding_events.c.finding_id)

decisions = Table(
    "decisions", metadata,
    Column("decision_id", Integer, primary_key=True, autoincrement=True),
    Column("subject_id", NAME, nullable=False),
    Column("decision", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("rationale", Text, nullable=False),
    Column("evidence", Text),  # JSON list of URLs / references
    Column("actor", NAME, nullable=False),
    Column("at", T, nullable=False),
    Column("superseded_at", T),
)
Index("ix_decisions_subject", decisions.c.subject_id)

exceptions = Table(
    "exceptions", metadata,
    Column("exception_id", Integer, primary_key=True, autoincrement=True),
    Column("subject_id", NAME, nullable=False),
    Column("scope_kind", String(20), nullable=False),  # host | institution | estate
    Column("scope_value", NAME),
    Column("reason", Text, nullable=False),
    Column("approver", NAME, nullable=False),
    Column("expires", String(10), nullable=False),  # ISO date, last day of validity
    Column("created_at", T, nullable=False),
    Column("created_by", NAME, nullable=False),
    Column("revoked_at", T),
    Column("revoked_by", NAME),
    Column("revoke_reason", Text),
)

campaigns = Table(
    "campaigns", metadata,
    Column("campaign_id", Integer, primary_key=True, autoincrement=True),
    Column("subject_id", NAME, nullable=False),
    Column("subject_name", NAME),
    Column("started_at", T, nullable=False),
    Column("started_by", NAME, nullable=False),
    Column("identify_due", String(10), nullable=False),
    Column("plan_due", String(10), nullable=False),
    Column("remove_due", String(10), nullable=False),
    Column("closed_at", T),
    Column("closed_by", NAME),
    Column("close_reason", Text),
)

campaign_progress = Table(
    "campaign_progress", metadata,
    Column("point_id", Integer, primary_key=True, autoincrement=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.campaign_id"), nullable=False),
    Column("review_id", Integer),
    Column("at", T, nullable=False),
    Column("institution", NAME, nullable=False),
    Column("affected", Integer, nullable=False),
    Column("removed", Integer, nullable=False),
    Column("remaining", Integer, nullable=False),
    Column("overdue", Integer, nullable=False),
)
Index("ix_campaign_progress_campaign", campaign_progress.c.campaign_id)

audit_log = Table(
    "audit_log", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", T, nullable=False),
    Column("actor", NAME, nullable=False),
    Column("action", String(60), nullable=False),
    Column("object", Text, nullable=False),
    Column("details", Text, nullable=False),  # canonical JSON
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

audit_head = Table(
    "audit_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

#: What the lists and the policy said of each subject at the latest review that found it
#: (revision 0002): the evidence a reviewer reads beside a finding.
subjects = Table(
    "subjects", metadata,
    Column("subject_id", NAME, primary_key=True),
    Column("name", NAME),
    Column("kind", String(40)),
    Column("finding_class", String(40)),  # revision 0003
    Column("list_name", NAME),
    Column("list_version", String(100)),
    Column("profile", NAME),
    Column("status", String(20)),  # the policy verdict's status
    Column("rule", Text),
    Column("assertions", Text),  # JSON: [{assertion fields..., "outcome": reason}]
    Column("exculpatory", Text),  # JSON: no-evidence-found / cleared assertions
    Column("review_id", Integer),
    Column("updated_at", T, nullable=False),
)
