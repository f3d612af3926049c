"""Version counters on marks, EA pairs and adverse events; the second frequency of a
dense-disperse EA pair; what the patient was told of an adverse event; needle-count
resolutions; handouts issued as events beside the visit; the signed content's format.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import charting.models.base


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signature_format', sa.Integer(), server_default='1', nullable=False))
    with op.batch_alter_table('mark', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    with op.batch_alter_table('ea_pair', schema=None) as batch_op:
        batch_op.add_column(sa.Column('frequency2_hz', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.create_check_constraint(
            'frequency2', 'frequency2_hz IS NULL OR (frequency2_hz > 0 AND frequency2_hz <= 200)'
        )
    with op.batch_alter_table('adverse_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('patient_told', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))

    op.create_table('needle_resolution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('needles_in', sa.Integer(), nullable=False),
    sa.Column('needles_out', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('adverse_event_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("outcome IN ('found_removed', 'adverse_event')", name=op.f('ck_needle_resolution_outcome_known')),
    sa.ForeignKeyConstraint(['adverse_event_id'], ['adverse_event.id'], name=op.f('fk_needle_resolution_adverse_event_id_adverse_event'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['practitioner.id'], name=op.f('fk_needle_resolution_recorded_by_id_practitioner')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_needle_resolution_visit_id_visit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_needle_resolution')),
    sa.UniqueConstraint('visit_id', name=op.f('uq_needle_resolution_visit_id'))
    )
    op.create_table('handout_issue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('how', sa.String(length=20), nullable=False),
    sa.Column('issued_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('issued_by', sa.String(length=200), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_handout_issue_visit_id_visit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handout_issue'))
    )
    with op.batch_alter_table('handout_issue', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handout_issue_visit_id'), ['visit_id'], unique=False)
    # Handouts ticked as given before handouts became events: one event each, dated when the
    # visit was last changed (the best time known), by whoever charted it.
    op.execute(
        "INSERT INTO handout_issue (visit_id, how, issued_at, issued_by) "
        "SELECT visit.id, 'recorded', visit.updated_at, practitioner.name FROM visit "
        "JOIN practitioner ON practitioner.id = visit.practitioner_id "
        "WHERE visit.handout_given"
    )


def downgrade() -> None:
    with op.batch_alter_table('handout_issue', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handout_issue_visit_id'))
    op.drop_table('handout_issue')
    op.drop_table('needle_resolution')
    with op.batch_alter_table('adverse_event', schema=None) as batch_op:
        batch_op.drop_column('version')
        batch_op.drop_column('patient_told')
    with op.batch_alter_table('ea_pair', schema=None) as batch_op:
        batch_op.drop_constraint('frequency2', type_='check')
        batch_op.drop_column('version')
        batch_op.drop_column('frequency2_hz')
    with op.batch_alter_table('mark', schema=None) as batch_op:
        batch_op.drop_column('version')
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_column('signature_format')
