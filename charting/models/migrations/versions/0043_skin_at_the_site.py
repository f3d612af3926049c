"""The skin at each mark's site as found before treatment (broken, infected, scar, tattoo ...).

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0043'
down_revision: str | None = '0042'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('mark', schema=None) as batch_op:
        batch_op.add_column(sa.Column('skin', sa.String(length=20), server_default='', nullable=False))
        batch_op.create_check_constraint(
            'skin_known',
            "skin IN ('', 'intact', 'broken', 'infected', 'inflamed', 'scar', 'keloid', 'tattoo', 'varicose')",
        )


def downgrade() -> None:
    with op.batch_alter_table('mark', schema=None) as batch_op:
        batch_op.drop_constraint('skin_known', type_='check')
        batch_op.drop_column('skin')
