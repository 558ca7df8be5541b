"""Subjects: what the lists and the policy said of each subject at its latest review.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the subjects table."""
    op.create_table(
        "subjects",
        sa.Column("subject_id", sa.String(length=300), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=True),
        sa.Column("list_name", sa.String(length=300), nullable=True),
        sa.Column("list_version", sa.String(length=100), nullable=True),
        sa.Column("profile", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("rule", sa.Text(), nullable=True),
        sa.Column("assertions", sa.Text(), nullable=True),
        sa.Column("exculpatory", sa.Text(), nullable=True),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("subject_id"),
    )


def downgrade() -> None:
    """Drop the subjects table."""
    op.drop_table("subjects")
