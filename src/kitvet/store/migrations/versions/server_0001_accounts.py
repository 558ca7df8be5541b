"""The estate server: local accounts, sessions, API tokens and login attempts.

Revision ID: server0001
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "server0001"
down_revision = "0001"
branch_labels = ("server",)
depends_on = None


def upgrade() -> None:
    """Create the server's tables (see kitvet.store.account_tables)."""
    op.create_table(
        "users",
        sa.Column("username", sa.String(100), primary_key=True),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("institutions", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(300), nullable=False),
        sa.Column("disabled_at", sa.String(40)),
    )
    op.create_table(
        "sessions",
        sa.Column("session_hash", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("expires_at", sa.String(40), nullable=False),
        sa.Column("client", sa.String(64)),
    )
    op.create_index("ix_sessions_username", "sessions", ["username"])
    op.create_table(
        "api_tokens",
        sa.Column("token_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("institution", sa.String(300)),
        sa.Column("username", sa.String(100)),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(300), nullable=False),
        sa.Column("revoked_at", sa.String(40)),
        sa.Column("last_used_at", sa.String(40)),
    )
    op.create_table(
        "login_attempts",
        sa.Column("attempt_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_login_attempts_user_client", "login_attempts",
                    ["username", "client", "at"])


def downgrade() -> None:
    """Drop the server's tables."""
    op.drop_index("ix_login_attempts_user_client", "login_attempts")
    op.drop_table("login_attempts")
    op.drop_table("api_tokens")
    op.drop_index("ix_sessions_username", "sessions")
    op.drop_table("sessions")
    op.drop_table("users")
