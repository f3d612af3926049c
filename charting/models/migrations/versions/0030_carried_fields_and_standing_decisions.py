"""Fields carried forward from the last visit; standing safety decisions per patient, and
which visit an acknowledgement was carried over from.

Revision ID: 0030
Revises: 0050
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import charting.models.base


revision: str = '0030'
down_revision: str | None = '0043'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carried_fields', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
    with op.batch_alter_table('safety_ack', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carried_from_visit_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_safety_ack_carried_from_visit_id_visit'), 'visit', ['carried_from_visit_id'], ['id'], ondelete='SET NULL')
    op.create_table('standing_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('warning_key', sa.String(length=120), nullable=False),
    sa.Column('basis', sa.String(length=64), nullable=False),
    sa.Column('rule', sa.String(length=60), nullable=False),
    sa.Column('severity', sa.String(length=12), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), server_default='', nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['practitioner.id'], name=op.f('fk_standing_decision_decided_by_id_practitioner')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_standing_decision_patient_id_patient'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_standing_decision_visit_id_visit'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standing_decision')),
    sa.UniqueConstraint('patient_id', 'warning_key', name=op.f('uq_standing_decision_patient_id_warning_key'))
    )
    with op.batch_alter_table('standing_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_standing_decision_patient_id'), ['patient_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('standing_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_standing_decision_patient_id'))
    op.drop_table('standing_decision')
    with op.batch_alter_table('safety_ack', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_safety_ack_carried_from_visit_id_visit'), type_='foreignkey')
        batch_op.drop_column('carried_from_visit_id')
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_column('carried_fields')
