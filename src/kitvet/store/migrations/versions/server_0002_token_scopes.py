"""API tokens get a scope and an expiry, and remember the token they replaced.

Scopes: ``ingest`` (an institution's agents: send inventory only), ``read`` (a user's
dashboards: safe methods only), ``write`` (acts as its user with the user's role). Existing
institution tokens become ``ingest``, existing user tokens ``write`` (what they could do);
existing tokens keep no expiry.

Revision ID: server0002
Revises: server0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "server0002"
down_revision = "server0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add scope, expires_at and replaces; fill scope from kind."""
    with op.batch_alter_table("api_tokens") as b:
        b.add_column(sa.Column("scope", sa.String(10), nullable=True))
        b.add_column(sa.Column("expires_at", sa.String(40), nullable=True))
        b.add_column(sa.Column("replaces", sa.Integer(), nullable=True))
    tokens = sa.table("api_tokens", sa.column("kind", sa.String), sa.column("scope", sa.String))
    conn = op.get_bind()
    conn.execute(tokens.update().where(tokens.c.kind == "ingest").values(scope="ingest"))
    conn.execute(tokens.update().where(tokens.c.kind != "ingest").values(scope="write"))


def downgrade() -> None:
    """Drop the columns."""
    with op.batch_alter_table("api_tokens") as b:
        b.drop_column("replaces")
        b.drop_column("expires_at")
        b.drop_column("scope")
