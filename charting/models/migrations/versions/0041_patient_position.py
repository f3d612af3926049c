"""The patient's position for a visit's treatment (prone, side-lying, supine or seated).

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0041'
down_revision: str | None = '0040'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('patient_position', sa.String(length=20), server_default='', nullable=False))
        batch_op.create_check_constraint(
            'patient_position_known', "patient_position IN ('', 'prone', 'side-lying', 'supine', 'seated')"
        )


def downgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_constraint('patient_position_known', type_='check')
        batch_op.drop_column('patient_position')
