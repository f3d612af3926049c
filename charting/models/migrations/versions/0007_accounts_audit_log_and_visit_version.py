"""Accounts, the hash-chained audit log, and a version counter on visits.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import charting.models.base


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('target', sa.String(length=100), server_default='', nullable=False),
    sa.Column('outcome', sa.String(length=10), server_default='ok', nullable=False),
    sa.Column('detail', sa.Text(), server_default='', nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event')),
    sa.UniqueConstraint('seq', name=op.f('uq_audit_event_seq'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_event_patient_at', ['patient_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_event_user_at', ['user_id', 'at'], unique=False)

    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=300), nullable=False),
    sa.Column('roles', sa.JSON(), server_default=sa.text("'[]'"), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False),
    sa.Column('locked_until', charting.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', charting.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('password_changed_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], name=op.f('fk_user_account_practitioner_id_practitioner'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('username', name=op.f('uq_user_account_username'))
    )
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_column('version')

    op.drop_table('user_account')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_user_at')
        batch_op.drop_index('ix_audit_event_patient_at')
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))
        batch_op.drop_index(batch_op.f('ix_audit_event_action'))

    op.drop_table('audit_event')
