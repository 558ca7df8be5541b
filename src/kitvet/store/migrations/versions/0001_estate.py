"""The estate: institutions, hosts, snapshots, findings and their review, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = ("estate",)
depends_on = None


def upgrade() -> None:
    """Create the estate tables."""
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('audit_log',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', sa.String(length=40), nullable=False),
    sa.Column('actor', sa.String(length=300), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('object', sa.Text(), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_table('batches',
    sa.Column('batch_id', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.String(length=40), nullable=False),
    sa.Column('actor', sa.String(length=300), nullable=False),
    sa.Column('snapshot_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('batch_id')
    )
    op.create_table('campaigns',
    sa.Column('campaign_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('subject_id', sa.String(length=300), nullable=False),
    sa.Column('subject_name', sa.String(length=300), nullable=True),
    sa.Column('started_at', sa.String(length=40), nullable=False),
    sa.Column('started_by', sa.String(length=300), nullable=False),
    sa.Column('identify_due', sa.String(length=10), nullable=False),
    sa.Column('plan_due', sa.String(length=10), nullable=False),
    sa.Column('remove_due', sa.String(length=10), nullable=False),
    sa.Column('closed_at', sa.String(length=40), nullable=True),
    sa.Column('closed_by', sa.String(length=300), nullable=True),
    sa.Column('close_reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('campaign_id')
    )
    op.create_table('decisions',
    sa.Column('decision_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('subject_id', sa.String(length=300), nullable=False),
    sa.Column('decision', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('actor', sa.String(length=300), nullable=False),
    sa.Column('at', sa.String(length=40), nullable=False),
    sa.Column('superseded_at', sa.String(length=40), nullable=True),
    sa.PrimaryKeyConstraint('decision_id')
    )
    op.create_index('ix_decisions_subject', 'decisions', ['subject_id'], unique=False)
    op.create_table('exceptions',
    sa.Column('exception_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('subject_id', sa.String(length=300), nullable=False),
    sa.Column('scope_kind', sa.String(length=20), nullable=False),
    sa.Column('scope_value', sa.String(length=300), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('approver', sa.String(length=300), nullable=False),
    sa.Column('expires', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.Column('created_by', sa.String(length=300), nullable=False),
    sa.Column('revoked_at', sa.String(length=40), nullable=True),
    sa.Column('revoked_by', sa.String(length=300), nullable=True),
    sa.Column('revoke_reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('exception_id')
    )
    op.create_table('finding_events',
    sa.Column('event_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('finding_id', sa.String(length=64), nullable=False),
    sa.Column('at', sa.String(length=40), nullable=False),
    sa.Column('actor', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('from_state', sa.String(length=20), nullable=True),
    sa.Column('to_state', sa.String(length=20), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('review_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_index('ix_finding_events_finding', 'finding_events', ['finding_id'], unique=False)
    op.create_table('findings',
    sa.Column('finding_id', sa.String(length=64), nullable=False),
    sa.Column('host_id', sa.String(length=300), nullable=False),
    sa.Column('hostname', sa.String(length=300), nullable=True),
    sa.Column('institution', sa.String(length=300), nullable=True),
    sa.Column('item_type', sa.String(length=20), nullable=False),
    sa.Column('item_key', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('version', sa.Text(), nullable=True),
    sa.Column('publisher', sa.Text(), nullable=True),
    sa.Column('subject_id', sa.String(length=300), nullable=False),
    sa.Column('subject_name', sa.String(length=300), nullable=True),
    sa.Column('list_name', sa.String(length=300), nullable=True),
    sa.Column('policy_status', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decision', sa.String(length=40), nullable=True),
    sa.Column('rule', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('live', sa.Boolean(), nullable=False),
    sa.Column('first_seen', sa.String(length=40), nullable=False),
    sa.Column('last_seen', sa.String(length=40), nullable=False),
    sa.Column('resolved_at', sa.String(length=40), nullable=True),
    sa.Column('removed_at', sa.String(length=40), nullable=True),
    sa.Column('reappeared', sa.Integer(), nullable=False),
    sa.Column('reappeared_at', sa.String(length=40), nullable=True),
    sa.Column('snapshot_id', sa.String(length=64), nullable=True),
    sa.Column('exception_id', sa.Integer(), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('finding_id')
    )
    op.create_index('ix_findings_host', 'findings', ['host_id'], unique=False)
    op.create_index('ix_findings_institution', 'findings', ['institution'], unique=False)
    op.create_index('ix_findings_state_status', 'findings', ['state', 'status'], unique=False)
    op.create_index('ix_findings_subject', 'findings', ['subject_id'], unique=False)
    op.create_table('institutions',
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.Column('created_by', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('reviews',
    sa.Column('review_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('started_at', sa.String(length=40), nullable=False),
    sa.Column('finished_at', sa.String(length=40), nullable=True),
    sa.Column('actor', sa.String(length=300), nullable=False),
    sa.Column('profile', sa.String(length=300), nullable=True),
    sa.Column('lists', sa.Text(), nullable=True),
    sa.Column('counts', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('review_id')
    )
    op.create_table('campaign_progress',
    sa.Column('point_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.String(length=40), nullable=False),
    sa.Column('institution', sa.String(length=300), nullable=False),
    sa.Column('affected', sa.Integer(), nullable=False),
    sa.Column('removed', sa.Integer(), nullable=False),
    sa.Column('remaining', sa.Integer(), nullable=False),
    sa.Column('overdue', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.campaign_id'], ),
    sa.PrimaryKeyConstraint('point_id')
    )
    op.create_index('ix_campaign_progress_campaign', 'campaign_progress', ['campaign_id'], unique=False)
    op.create_table('hosts',
    sa.Column('host_id', sa.String(length=300), nullable=False),
    sa.Column('institution', sa.String(length=300), nullable=False),
    sa.Column('hostname', sa.String(length=300), nullable=True),
    sa.Column('platform', sa.String(length=40), nullable=True),
    sa.Column('machine_id', sa.String(length=300), nullable=True),
    sa.Column('current_snapshot_id', sa.String(length=64), nullable=False),
    sa.Column('current_collected_at', sa.String(length=40), nullable=False),
    sa.Column('first_seen', sa.String(length=40), nullable=False),
    sa.Column('updated_at', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['institution'], ['institutions.name'], ),
    sa.PrimaryKeyConstraint('host_id')
    )
    op.create_index('ix_hosts_institution', 'hosts', ['institution'], unique=False)
    op.create_table('snapshots',
    sa.Column('snapshot_id', sa.String(length=64), nullable=False),
    sa.Column('host_id', sa.String(length=300), nullable=False),
    sa.Column('institution', sa.String(length=300), nullable=False),
    sa.Column('collected_at', sa.String(length=40), nullable=False),
    sa.Column('imported_at', sa.String(length=40), nullable=False),
    sa.Column('batch_id', sa.String(length=64), nullable=False),
    sa.Column('software_count', sa.Integer(), nullable=False),
    sa.Column('device_count', sa.Integer(), nullable=False),
    sa.Column('skipped_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.batch_id'], ),
    sa.ForeignKeyConstraint(['host_id'], ['hosts.host_id'], ),
    sa.PrimaryKeyConstraint('snapshot_id')
    )
    op.create_index('ix_snapshots_host', 'snapshots', ['host_id'], unique=False)


def downgrade() -> None:
    """Drop the estate tables."""
    op.drop_index('ix_snapshots_host', table_name='snapshots')
    op.drop_table('snapshots')
    op.drop_index('ix_hosts_institution', table_name='hosts')
    op.drop_table('hosts')
    op.drop_index('ix_campaign_progress_campaign', table_name='campaign_progress')
    op.drop_table('campaign_progress')
    op.drop_table('reviews')
    op.drop_table('institutions')
    op.drop_index('ix_findings_subject', table_name='findings')
    op.drop_index('ix_findings_state_status', table_name='findings')
    op.drop_index('ix_findings_institution', table_name='findings')
    op.drop_index('ix_findings_host', table_name='findings')
    op.drop_table('findings')
    op.drop_index('ix_finding_events_finding', table_name='finding_events')
    op.drop_table('finding_events')
    op.drop_table('exceptions')
    op.drop_index('ix_decisions_subject', table_name='decisions')
    op.drop_table('decisions')
    op.drop_table('campaigns')
    op.drop_table('batches')
    op.drop_table('audit_log')
    op.drop_table('audit_head')
