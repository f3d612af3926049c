"""Visit record: SOAP, treatment, outcomes, safety, signing.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import charting.models.base


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('adverse_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('severity', sa.String(length=12), nullable=False),
    sa.Column('action', sa.Text(), server_default='', nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("severity IN ('mild', 'significant', 'serious')", name=op.f('ck_adverse_event_severity')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_adverse_event_visit_id_visit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adverse_event'))
    )
    with op.batch_alter_table('adverse_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adverse_event_visit_id'), ['visit_id'], unique=False)

    op.create_table('amendment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('created_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('field', sa.String(length=60), nullable=False),
    sa.Column('original', sa.Text(), server_default='', nullable=False),
    sa.Column('corrected', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['practitioner.id'], name=op.f('fk_amendment_author_id_practitioner')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_amendment_visit_id_visit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_amendment'))
    )
    with op.batch_alter_table('amendment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_amendment_visit_id'), ['visit_id'], unique=False)

    op.create_table('safety_ack',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('warning_key', sa.String(length=120), nullable=False),
    sa.Column('rule', sa.String(length=60), nullable=False),
    sa.Column('severity', sa.String(length=12), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), server_default='', nullable=False),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('acknowledged_at', charting.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['practitioner.id'], name=op.f('fk_safety_ack_acknowledged_by_id_practitioner')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_safety_ack_visit_id_visit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_ack')),
    sa.UniqueConstraint('visit_id', 'warning_key', name=op.f('uq_safety_ack_visit_id_warning_key'))
    )
    op.create_table('ea_pair',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('mark_a_id', sa.Integer(), nullable=False),
    sa.Column('mark_b_id', sa.Integer(), nullable=False),
    sa.Column('waveform', sa.String(length=30), server_default='', nullable=False),
    sa.Column('frequency_hz', sa.Float(), nullable=True),
    sa.Column('intensity_ma', sa.Float(), nullable=True),
    sa.Column('minutes', sa.Integer(), nullable=True),
    sa.Column('device', sa.String(length=120), server_default='', nullable=False),
    sa.CheckConstraint('frequency_hz IS NULL OR (frequency_hz > 0 AND frequency_hz <= 200)', name=op.f('ck_ea_pair_frequency')),
    sa.CheckConstraint('intensity_ma IS NULL OR (intensity_ma >= 0 AND intensity_ma <= 50)', name=op.f('ck_ea_pair_intensity')),
    sa.CheckConstraint('mark_a_id != mark_b_id', name=op.f('ck_ea_pair_two_marks')),
    sa.CheckConstraint('minutes IS NULL OR (minutes > 0 AND minutes <= 120)', name=op.f('ck_ea_pair_minutes')),
    sa.ForeignKeyConstraint(['mark_a_id'], ['mark.id'], name=op.f('fk_ea_pair_mark_a_id_mark'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mark_b_id'], ['mark.id'], name=op.f('fk_ea_pair_mark_b_id_mark'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_ea_pair_visit_id_visit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ea_pair'))
    )
    with op.batch_alter_table('ea_pair', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ea_pair_visit_id'), ['visit_id'], unique=False)

    with op.batch_alter_table('mark', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cup_type', sa.String(length=10), server_default='', nullable=False))
        batch_op.add_column(sa.Column('cup_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cup_minutes', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('skin_response', sa.String(length=200), server_default='', nullable=False))

    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('onset', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('duration', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('mechanism', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('pain_quality', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('radiation', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('aggravating', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('easing', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('sleep', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('current_medications', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('pain_now', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('pain_best', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('pain_worst', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('response_since_last', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('red_flags', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column('referral_decision', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('posture', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('range_of_motion', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('palpation', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('straight_leg_raise', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('reflexes', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('sensation', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('tongue', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('pulse', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('tcm_patterns', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column('assessment', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('icd10_codes', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column('needle_brand', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('needle_gauge', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('needle_length', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('needle_lot', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('needle_expiry', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('needles_out', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('retention_minutes', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('moxibustion', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('heat_lamp', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('home_advice', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column('home_advice_notes', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('pain_after', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('patient_response', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('next_appointment', charting.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('handout_given', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('psfs', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column('odi_percent', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rmdq_score', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('signed_at', charting.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('signed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('content_hash', sa.String(length=64), server_default='', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_visit_signed_by_id_practitioner'), 'practitioner', ['signed_by_id'], ['id'])
        batch_op.create_check_constraint(op.f('ck_visit_pain_now_nrs'), 'pain_now IS NULL OR pain_now BETWEEN 0 AND 10')
        batch_op.create_check_constraint(op.f('ck_visit_pain_best_nrs'), 'pain_best IS NULL OR pain_best BETWEEN 0 AND 10')
        batch_op.create_check_constraint(op.f('ck_visit_pain_worst_nrs'), 'pain_worst IS NULL OR pain_worst BETWEEN 0 AND 10')
        batch_op.create_check_constraint(op.f('ck_visit_pain_after_nrs'), 'pain_after IS NULL OR pain_after BETWEEN 0 AND 10')
        batch_op.create_check_constraint(op.f('ck_visit_odi'), 'odi_percent IS NULL OR odi_percent BETWEEN 0 AND 100')
        batch_op.create_check_constraint(op.f('ck_visit_rmdq'), 'rmdq_score IS NULL OR rmdq_score BETWEEN 0 AND 24')
        batch_op.create_check_constraint(op.f('ck_visit_retention'), 'retention_minutes IS NULL OR retention_minutes BETWEEN 0 AND 240')
        batch_op.create_check_constraint(op.f('ck_visit_needles_out'), 'needles_out IS NULL OR needles_out >= 0')



def downgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_visit_pain_now_nrs'), type_='check')
        batch_op.drop_constraint(op.f('ck_visit_pain_best_nrs'), type_='check')
        batch_op.drop_constraint(op.f('ck_visit_pain_worst_nrs'), type_='check')
        batch_op.drop_constraint(op.f('ck_visit_pain_after_nrs'), type_='check')
        batch_op.drop_constraint(op.f('ck_visit_odi'), type_='check')
        batch_op.drop_constraint(op.f('ck_visit_rmdq'), type_='check')
        batch_op.drop_constraint(op.f('ck_visit_retention'), type_='check')
        batch_op.drop_constraint(op.f('ck_visit_needles_out'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_visit_signed_by_id_practitioner'), type_='foreignkey')
        batch_op.drop_column('content_hash')
        batch_op.drop_column('signed_by_id')
        batch_op.drop_column('signed_at')
        batch_op.drop_column('rmdq_score')
        batch_op.drop_column('odi_percent')
        batch_op.drop_column('psfs')
        batch_op.drop_column('handout_given')
        batch_op.drop_column('next_appointment')
        batch_op.drop_column('patient_response')
        batch_op.drop_column('pain_after')
        batch_op.drop_column('home_advice_notes')
        batch_op.drop_column('home_advice')
        batch_op.drop_column('heat_lamp')
        batch_op.drop_column('moxibustion')
        batch_op.drop_column('retention_minutes')
        batch_op.drop_column('needles_out')
        batch_op.drop_column('needle_expiry')
        batch_op.drop_column('needle_lot')
        batch_op.drop_column('needle_length')
        batch_op.drop_column('needle_gauge')
        batch_op.drop_column('needle_brand')
        batch_op.drop_column('icd10_codes')
        batch_op.drop_column('assessment')
        batch_op.drop_column('tcm_patterns')
        batch_op.drop_column('pulse')
        batch_op.drop_column('tongue')
        batch_op.drop_column('sensation')
        batch_op.drop_column('reflexes')
        batch_op.drop_column('straight_leg_raise')
        batch_op.drop_column('palpation')
        batch_op.drop_column('range_of_motion')
        batch_op.drop_column('posture')
        batch_op.drop_column('referral_decision')
        batch_op.drop_column('red_flags')
        batch_op.drop_column('response_since_last')
        batch_op.drop_column('pain_worst')
        batch_op.drop_column('pain_best')
        batch_op.drop_column('pain_now')
        batch_op.drop_column('current_medications')
        batch_op.drop_column('sleep')
        batch_op.drop_column('easing')
        batch_op.drop_column('aggravating')
        batch_op.drop_column('radiation')
        batch_op.drop_column('pain_quality')
        batch_op.drop_column('mechanism')
        batch_op.drop_column('duration')
        batch_op.drop_column('onset')

    with op.batch_alter_table('mark', schema=None) as batch_op:
        batch_op.drop_column('skin_response')
        batch_op.drop_column('cup_minutes')
        batch_op.drop_column('cup_count')
        batch_op.drop_column('cup_type')

    with op.batch_alter_table('ea_pair', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ea_pair_visit_id'))

    op.drop_table('ea_pair')
    op.drop_table('safety_ack')
    with op.batch_alter_table('amendment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_amendment_visit_id'))

    op.drop_table('amendment')
    with op.batch_alter_table('adverse_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_adverse_event_visit_id'))

    op.drop_table('adverse_event')
