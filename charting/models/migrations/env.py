"""Alembic environment: runs the package's migrations on the connection it is handed."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine

from charting.models import Base
from charting.models.db import make_engine

config = context.config
target_metadata = Base.metadata


# Indexes that only some databases have, made by a migration rather than the models: the
# PostgreSQL trigram index for name search (0009).
DATABASE_ONLY_INDEXES = frozenset({"ix_patient_live_search_trgm"})


def _include_object(obj: object, name: str | None, type_: str, *_: object) -> bool:
    return not (type_ == "index" and name in DATABASE_ONLY_INDEXES)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_include_object,
        # SQLite can barely ALTER TABLE; batch mode copies tables instead (Alembic docs).
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate on the caller's connection if given, else on a fresh engine for the URL."""
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run(connection)
        return
    if isinstance(connection, Engine):  # pytest-alembic hands over an engine
        with connection.connect() as conn:
            _run(conn)
            conn.commit()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Charting migrations run online only (batch mode needs a live database).")
run_migrations_online()
