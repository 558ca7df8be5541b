"""Single sign-on: identity-provider accounts and sign-ins under way (see kitvet.store.sso_tables).

Revision ID: sso0001
Revises: server0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "sso0001"
down_revision = "server0001"
branch_labels = ("sso",)
depends_on = None


def upgrade() -> None:
    """Create ``sso_identities`` and ``sso_logins``."""
    op.create_table(
        "sso_identities",
        sa.Column("issuer", sa.String(300), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("username", sa.String(100), nullable=False, unique=True),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("last_login_at", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("issuer", "subject"),
    )
    op.create_table(
        "sso_logins",
        sa.Column("state_hash", sa.String(64), primary_key=True),
        sa.Column("browser_hash", sa.String(64), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("next_url", sa.String(500), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("expires_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    """Drop the single sign-on tables."""
    op.drop_table("sso_logins")
    op.drop_table("sso_identities")
