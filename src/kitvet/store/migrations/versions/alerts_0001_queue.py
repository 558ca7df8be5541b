"""Alerts: the event outbox, the per-receiver queue with its dead letters, attachments.

Revision ID: alerts0001
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "alerts0001"
down_revision = "0001"
branch_labels = ("alerts",)
depends_on = None


def upgrade() -> None:
    """Create the alert tables (see kitvet.store.alert_tables)."""
    op.create_table(
        "alert_events",
        sa.Column("event_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_key", sa.String(400), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("institution", sa.String(300)),
        sa.Column("status", sa.String(20)),
        sa.Column("subject_id", sa.String(300)),
        sa.Column("finding_id", sa.String(64)),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("routed_at", sa.String(40)),
        sa.PrimaryKeyConstraint("event_id"),
        sa.UniqueConstraint("event_key"),
    )
    op.create_index("ix_alert_events_unrouted", "alert_events", ["routed_at"])
    op.create_table(
        "alert_queue",
        sa.Column("alert_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("receiver", sa.String(300), nullable=False),
        sa.Column("event_id", sa.Integer()),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("institution", sa.String(300)),
        sa.Column("status", sa.String(20)),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(300), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.String(40)),
        sa.Column("claimed_until", sa.String(40)),
        sa.Column("last_error", sa.Text()),
        sa.Column("sent_at", sa.String(40)),
        sa.Column("dead_at", sa.String(40)),
        sa.PrimaryKeyConstraint("alert_id"),
    )
    op.create_index("ix_alert_queue_receiver_state", "alert_queue",
                    ["receiver", "state", "alert_id"])
    op.create_table(
        "alert_attachments",
        sa.Column("attachment_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("attachment_id"),
    )
    op.create_index("ix_alert_attachments_alert", "alert_attachments", ["alert_id"])


def downgrade() -> None:
    """Drop the alert tables."""
    op.drop_index("ix_alert_attachments_alert", table_name="alert_attachments")
    op.drop_table("alert_attachments")
    op.drop_index("ix_alert_queue_receiver_state", table_name="alert_queue")
    op.drop_table("alert_queue")
    op.drop_index("ix_alert_events_unrouted", table_name="alert_events")
    op.drop_table("alert_events")
