"""The ingest queue: one row per upload spooled under the estate folder, until it is done.

Revision ID: ingest0001
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ingest0001"
down_revision = "0001"
branch_labels = ("ingest",)
depends_on = None


def upgrade() -> None:
    """Create ``ingest_jobs`` (see kitvet.store.tables)."""
    op.create_table(
        "ingest_jobs",
        sa.Column("job_id", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("institution", sa.String(300)),
        sa.Column("actor", sa.String(300), nullable=False),
        sa.Column("token_id", sa.Integer()),
        sa.Column("spool_name", sa.String(200), nullable=False),
        sa.Column("body_bytes", sa.BigInteger(), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(64)),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("http_status", sa.Integer()),
        sa.Column("reason", sa.Text()),
        sa.Column("place", sa.Text()),
        sa.Column("result", sa.Text()),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("started_at", sa.String(40)),
        sa.Column("finished_at", sa.String(40)),
    )
    op.create_index("ix_ingest_jobs_status", "ingest_jobs", ["status", "created_at"])


def downgrade() -> None:
    """Drop the ingest queue."""
    op.drop_index("ix_ingest_jobs_status", "ingest_jobs")
    op.drop_table("ingest_jobs")
