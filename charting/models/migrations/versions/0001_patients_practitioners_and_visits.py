"""Patients, practitioners and visits.

Revision ID: 0001
Revises: 
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import charting.models.base


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    counter = op.create_table('counter',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_counter'))
    )
    op.bulk_insert(counter, [{'name': 'chart_number', 'value': 0}])
    op.create_table('patient',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chart_number', sa.String(length=20), nullable=False),
    sa.Column('family_name', sa.String(length=120), nullable=False),
    sa.Column('given_name', sa.String(length=120), nullable=False),
    sa.Column('preferred_name', sa.String(length=120), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('sex', sa.String(length=10), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('emergency_contact', sa.String(length=200), nullable=False),
    sa.Column('emergency_phone', sa.String(length=40), nullable=False),
    sa.Column('pregnant', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('pregnancy_due_date', sa.Date(), nullable=True),
    sa.Column('implanted_device', sa.String(length=20), server_default='none', nullable=False),
    sa.Column('bleeding_disorder', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('anticoagulant', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('epilepsy', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('diabetes', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('metal_allergy', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('needle_fainting', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('medical_history', sa.Text(), nullable=False),
    sa.Column('medications', sa.Text(), nullable=False),
    sa.Column('search_key', sa.String(length=400), nullable=False),
    sa.Column('family_key', sa.String(length=120), nullable=False),
    sa.Column('created_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', charting.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("implanted_device IN ('none', 'pacemaker', 'icd', 'stimulator', 'pump', 'other')", name=op.f('ck_patient_device_known')),
    sa.CheckConstraint("sex IN ('female', 'male', 'intersex', 'unknown')", name=op.f('ck_patient_sex_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient')),
    sa.UniqueConstraint('chart_number', name=op.f('uq_patient_chart_number'))
    )
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.create_index('ix_patient_date_of_birth', ['date_of_birth'], unique=False)
        batch_op.create_index('ix_patient_family_key', ['family_key'], unique=False)
        batch_op.create_index('ix_patient_search_key', ['search_key'], unique=False)

    op.create_table('practitioner',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('credentials', sa.String(length=100), nullable=False),
    sa.Column('licence_number', sa.String(length=60), nullable=False),
    sa.Column('style', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practitioner'))
    )
    op.create_table('visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=False),
    sa.Column('started_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('chief_complaint', sa.Text(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'signed')", name=op.f('ck_visit_status_known')),
    sa.CheckConstraint('number >= 1', name=op.f('ck_visit_number_positive')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_visit_patient_id_patient'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], name=op.f('fk_visit_practitioner_id_practitioner'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit')),
    sa.UniqueConstraint('patient_id', 'number', name=op.f('uq_visit_patient_id_number'))
    )
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index('ix_visit_patient_started', ['patient_id', 'started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_practitioner_id'), ['practitioner_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_practitioner_id'))
        batch_op.drop_index('ix_visit_patient_started')

    op.drop_table('visit')
    op.drop_table('practitioner')
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_index('ix_patient_search_key')
        batch_op.drop_index('ix_patient_family_key')
        batch_op.drop_index('ix_patient_date_of_birth')

    op.drop_table('patient')
    op.drop_table('counter')
