"""The clinic's day: appointments and their history, consent, visit billing, NPI, recall index.

Revision ID: 0050
Revises: 0009
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import charting.models.base


revision: str = '0050'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('consent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('course', sa.String(length=200), server_default='', nullable=False),
    sa.Column('treatments', sa.JSON(), server_default=sa.text("'[]'"), nullable=False),
    sa.Column('risks', sa.JSON(), server_default=sa.text("'[]'"), nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('taken_by_id', sa.Integer(), nullable=False),
    sa.Column('taken_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', charting.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by', sa.String(length=60), server_default='', nullable=False),
    sa.Column('withdrawal_reason', sa.Text(), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_consent_patient_id_patient'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['taken_by_id'], ['practitioner.id'], name=op.f('fk_consent_taken_by_id_practitioner'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent'))
    )
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.create_index('ix_consent_patient', ['patient_id', 'taken_at'], unique=False)

    op.create_table('appointment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), server_default='', nullable=False),
    sa.Column('status', sa.String(length=10), server_default='booked', nullable=False),
    sa.Column('booked_by', sa.String(length=60), server_default='', nullable=False),
    sa.Column('booked_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('updated_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('booked', 'arrived', 'done', 'cancelled', 'no_show')", name=op.f('ck_appointment_status_known')),
    sa.CheckConstraint('minutes BETWEEN 5 AND 480', name=op.f('ck_appointment_minutes')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_appointment_patient_id_patient'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], name=op.f('fk_appointment_practitioner_id_practitioner'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_appointment_visit_id_visit'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment'))
    )
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.create_index('ix_appointment_patient_starts', ['patient_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_appointment_practitioner_starts', ['practitioner_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_appointment_starts', ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointment_visit_id'), ['visit_id'], unique=False)

    op.create_table('visit_billing',
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('needles_in_at', charting.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('needles_out_at', charting.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ea_on_at', charting.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ea_off_at', charting.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('contact_minutes', sa.Integer(), nullable=True),
    sa.Column('reinsertions', sa.Integer(), server_default='0', nullable=False),
    sa.Column('lines', sa.JSON(), server_default=sa.text("'[]'"), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', charting.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('contact_minutes IS NULL OR contact_minutes BETWEEN 0 AND 480', name=op.f('ck_visit_billing_contact')),
    sa.CheckConstraint('reinsertions BETWEEN 0 AND 20', name=op.f('ck_visit_billing_reinsertions')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['practitioner.id'], name=op.f('fk_visit_billing_confirmed_by_id_practitioner')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_visit_billing_visit_id_visit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('visit_id', name=op.f('pk_visit_billing'))
    )
    op.create_table('appointment_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('before', sa.Text(), server_default='', nullable=False),
    sa.Column('after', sa.Text(), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_appointment_change_appointment_id_appointment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment_change'))
    )
    with op.batch_alter_table('appointment_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointment_change_appointment_id'), ['appointment_id'], unique=False)

    with op.batch_alter_table('practitioner', schema=None) as batch_op:
        batch_op.add_column(sa.Column('npi', sa.String(length=10), server_default='', nullable=False))

    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index('ix_visit_needle_lot_started', ['needle_lot', 'started_at'], unique=False)
        batch_op.create_index('ix_visit_status_practitioner', ['status', 'practitioner_id', 'started_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_status_practitioner')
        batch_op.drop_index('ix_visit_needle_lot_started')

    with op.batch_alter_table('practitioner', schema=None) as batch_op:
        batch_op.drop_column('npi')

    with op.batch_alter_table('appointment_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointment_change_appointment_id'))

    op.drop_table('appointment_change')
    op.drop_table('visit_billing')
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointment_visit_id'))
        batch_op.drop_index('ix_appointment_starts')
        batch_op.drop_index('ix_appointment_practitioner_starts')
        batch_op.drop_index('ix_appointment_patient_starts')

    op.drop_table('appointment')
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_patient')

    op.drop_table('consent')
