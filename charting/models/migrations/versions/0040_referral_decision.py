"""A recorded referral decision for positive red flags (urgent, routine, or considered and not
referred); the existing free text becomes its details or reason.

Revision ID: 0040
Revises: 0011
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0040'
down_revision: str | None = '0050'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('referral_outcome', sa.String(length=20), server_default='', nullable=False))
        batch_op.create_check_constraint(
            'referral_outcome_known', "referral_outcome IN ('', 'urgent', 'routine', 'not_referred')"
        )


def downgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_constraint('referral_outcome_known', type_='check')
        batch_op.drop_column('referral_outcome')
