"""Finding class: every finding and stored subject says which class it belongs to.

Classes (``kitvet.model.FINDING_CLASSES``) are never mixed in reports or counts. Existing rows
are classified from the assertion kinds stored with their subject (revision 0002); a finding
whose subject was never stored keeps no class until the next review that finds it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The mapping as it stood at this revision (a migration does not follow later code).
_ORDER = ("confirmed-malicious", "incident", "high-risk-vendor", "vulnerability", "end-of-life")
_KIND_CLASS = {
    "confirmed-malicious-version": "confirmed-malicious",
    "known-exploited-vulnerability": "vulnerability",
    "vulnerable-version": "vulnerability",
    "end-of-life": "end-of-life",
}
_EXCULPATORY = {"no-evidence-found", "cleared"}


def _classify(assertions_json: str | None) -> str:
    try:
        kinds = {a.get("kind") for a in json.loads(assertions_json or "[]")
                 if isinstance(a, dict)}
    except ValueError:
        kinds = set()
    found = {_KIND_CLASS.get(k or "", "high-risk-vendor") for k in kinds - _EXCULPATORY}
    return next((c for c in _ORDER if c in found), "high-risk-vendor")


def upgrade() -> None:
    """Add the class columns and classify what is already stored."""
    with op.batch_alter_table("findings") as b:
        b.add_column(sa.Column("finding_class", sa.String(length=40), nullable=True))
        b.create_index("ix_findings_class", ["finding_class"])
    with op.batch_alter_table("subjects") as b:
        b.add_column(sa.Column("finding_class", sa.String(length=40), nullable=True))
    conn = op.get_bind()
    subjects = sa.table("subjects", sa.column("subject_id", sa.String),
                        sa.column("assertions", sa.Text),
                        sa.column("finding_class", sa.String))
    findings = sa.table("findings", sa.column("subject_id", sa.String),
                        sa.column("finding_class", sa.String))
    by_class: dict[str, list[str]] = {}
    for sid, assertions in conn.execute(sa.select(subjects.c.subject_id,
                                                  subjects.c.assertions)):
        by_class.setdefault(_classify(assertions), []).append(sid)
    for cls, ids in by_class.items():
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            conn.execute(subjects.update().where(subjects.c.subject_id.in_(chunk))
                         .values(finding_class=cls))
            conn.execute(findings.update().where(findings.c.subject_id.in_(chunk))
                         .values(finding_class=cls))


def downgrade() -> None:
    """Drop the class columns."""
    with op.batch_alter_table("subjects") as b:
        b.drop_column("finding_class")
    with op.batch_alter_table("findings") as b:
        b.drop_index("ix_findings_class")
        b.drop_column("finding_class")
