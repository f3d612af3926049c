"""Body-map marks and protocols.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import charting.models.base


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('protocol',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('created_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_protocol')),
    sa.UniqueConstraint('name', name=op.f('uq_protocol_name'))
    )
    op.create_table('mark',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('point_code', sa.String(length=20), nullable=True),
    sa.Column('muscle_id', sa.String(length=40), nullable=True),
    sa.Column('side', sa.String(length=1), nullable=False),
    sa.Column('view', sa.String(length=30), nullable=False),
    sa.Column('x', sa.Float(), nullable=False),
    sa.Column('y', sa.Float(), nullable=False),
    sa.Column('location_variant', sa.String(length=60), nullable=False),
    sa.Column('technique', sa.String(length=30), nullable=False),
    sa.Column('depth_mm', sa.Float(), nullable=True),
    sa.Column('response', sa.String(length=60), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind != 'acupoint' OR point_code IS NOT NULL", name=op.f('ck_mark_acupoint_has_code')),
    sa.CheckConstraint("kind IN ('acupoint', 'trigger_point', 'ashi', 'cupping')", name=op.f('ck_mark_kind_known')),
    sa.CheckConstraint("side IN ('L', 'R', 'M')", name=op.f('ck_mark_side_known')),
    sa.CheckConstraint('depth_mm IS NULL OR (depth_mm > 0 AND depth_mm <= 150)', name=op.f('ck_mark_depth')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_mark_visit_id_visit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mark'))
    )
    with op.batch_alter_table('mark', schema=None) as batch_op:
        batch_op.create_index('ix_mark_point_code', ['point_code'], unique=False)
        batch_op.create_index('ix_mark_visit', ['visit_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('mark', schema=None) as batch_op:
        batch_op.drop_index('ix_mark_visit')
        batch_op.drop_index('ix_mark_point_code')

    op.drop_table('mark')
    op.drop_table('protocol')
