"""Audit anchors: each import batch records the audit entry (seq, hash) written with it.

``kitvet audit verify`` checks that the chain still holds those entries, so a wiped or
rewritten log is detected even when the chain left behind is consistent in itself. Batches
imported before this revision keep no anchor (their ``estate.import`` entry is looked up by
object instead).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the anchor columns."""
    with op.batch_alter_table("batches") as b:
        b.add_column(sa.Column("audit_seq", sa.Integer(), nullable=True))
        b.add_column(sa.Column("audit_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Drop the anchor columns (in place: recreating ``batches`` would break the snapshots'
    foreign keys on SQLite)."""
    with op.batch_alter_table("batches", recreate="never") as b:
        b.drop_column("audit_hash")
        b.drop_column("audit_seq")
