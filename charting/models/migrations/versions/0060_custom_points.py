"""The clinic's own named points on the body map (custom points).

Revision ID: 0060
Revises: 0030
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import charting.models.base


revision: str = '0060'
down_revision: str | None = '0030'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('custom_point',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('view', sa.String(length=30), nullable=False),
    sa.Column('x', sa.Float(), nullable=False),
    sa.Column('y', sa.Float(), nullable=False),
    sa.Column('laterality', sa.String(length=10), nullable=False),
    sa.Column('location', sa.Text(), server_default='', nullable=False),
    sa.Column('cautions', sa.Text(), server_default='', nullable=False),
    sa.Column('safe_depth_mm', sa.Float(), nullable=True),
    sa.Column('retired', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('added_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("laterality IN ('midline', 'bilateral')", name=op.f('ck_custom_point_laterality_known')),
    sa.CheckConstraint('safe_depth_mm IS NULL OR (safe_depth_mm > 0 AND safe_depth_mm <= 150)', name=op.f('ck_custom_point_safe_depth')),
    sa.ForeignKeyConstraint(['added_by_id'], ['user_account.id'], name=op.f('fk_custom_point_added_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custom_point')),
    sa.UniqueConstraint('code', name=op.f('uq_custom_point_code'))
    )


def downgrade() -> None:
    op.drop_table('custom_point')
