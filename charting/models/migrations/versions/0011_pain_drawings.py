"""Pain drawings: the areas shaded on a visit's body map, and their measures.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import charting.models.base


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('pain_area',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('view', sa.String(length=30), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('points', sa.JSON(), nullable=False),
    sa.Column('width', sa.Float(), nullable=True),
    sa.Column('region', sa.String(length=30), server_default='', nullable=False),
    sa.Column('side', sa.String(length=1), server_default='', nullable=False),
    sa.Column('quality', sa.String(length=20), server_default='', nullable=False),
    sa.Column('intensity', sa.Integer(), nullable=True),
    sa.Column('drawn_by', sa.String(length=12), nullable=False),
    sa.Column('created_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('stroke', 'region', 'erase')", name=op.f('ck_pain_area_kind_known')),
    sa.CheckConstraint("drawn_by IN ('practitioner', 'patient')", name=op.f('ck_pain_area_drawn_by_known')),
    sa.CheckConstraint('intensity IS NULL OR intensity BETWEEN 0 AND 10', name=op.f('ck_pain_area_intensity')),
    sa.CheckConstraint('width IS NULL OR (width > 0 AND width <= 400)', name=op.f('ck_pain_area_width')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_pain_area_visit_id_visit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pain_area'))
    )
    with op.batch_alter_table('pain_area', schema=None) as batch_op:
        batch_op.create_index('ix_pain_area_visit', ['visit_id'], unique=False)
    op.create_table('pain_summary',
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('measures', sa.JSON(), nullable=False),
    sa.Column('computed_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_pain_summary_visit_id_visit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('visit_id', name=op.f('pk_pain_summary'))
    )


def downgrade() -> None:
    op.drop_table('pain_summary')
    with op.batch_alter_table('pain_area', schema=None) as batch_op:
        batch_op.drop_index('ix_pain_area_visit')
    op.drop_table('pain_area')
