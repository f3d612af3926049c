"""Trigram index for name search on PostgreSQL.

A name search looks for each typed word anywhere in the patient's folded names
(``search_key LIKE '%word%'``). SQLite scans the narrow covering index for that; on
PostgreSQL the same scan costs over 100 ms per keystroke on 100,000 patients, and a GIN
index of trigrams (the pg_trgm extension shipped with PostgreSQL) answers words of three
letters or more from the index instead.

The index is an optimisation only: where the extension cannot be installed (not shipped,
or no privilege), the migration leaves a note in the log and search works as before.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_patient_live_search_trgm"
log = logging.getLogger("charting.migrations")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    ).first()
    if available is None:
        log.warning("pg_trgm is not available: name search will scan the patient table")
        return
    try:
        with bind.begin_nested():  # a savepoint: a refusal must not undo the migration
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as exc:
        log.warning("pg_trgm could not be installed (%s): name search will scan", exc.orig)
        return
    op.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON patient "
        "USING gin (search_key gin_trgm_ops) WHERE deleted_at IS NULL"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {INDEX}")
