"""Every SQLite connection runs with the safety pragmas, on Python 3.11 and 3.12+ alike."""

from __future__ import annotations

import pytest

from charting.models.db import Database, read_pragmas

pytestmark = pytest.mark.sqlite_only


def test_every_connection_has_the_safety_pragmas(database: Database) -> None:
    """Foreign keys on, WAL journal, synchronous=FULL and a busy timeout on each connection."""
    connections = [database.engine.connect() for _ in range(3)]
    try:
        for conn in connections:
            got = read_pragmas(conn)
            assert got["foreign_keys"] == 1
            assert str(got["journal_mode"]).lower() == "wal"
            assert got["synchronous"] == 2
            assert got["busy_timeout"] >= 5000
    finally:
        for conn in connections:
            conn.close()


def test_sessions_enforce_foreign_keys(database: Database) -> None:
    """A visit pointing at a patient that does not exist is rejected by the database."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), database.write() as session:
        session.connection().exec_driver_sql(
            "INSERT INTO visit (patient_id, practitioner_id, started_at, number, status, "
            "chief_complaint, notes, created_at, updated_at) "
            "VALUES (999, 999, '2026-01-01', 1, 'draft', '', '', '2026-01-01', '2026-01-01')"
        )


def test_write_sessions_take_the_write_lock_up_front(database: Database) -> None:
    """Writes begin with BEGIN IMMEDIATE so two writers queue instead of failing mid-way."""
    statements: list[str] = []
    from sqlalchemy import event

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        with database.write() as session:
            session.connection()
        with database.read() as session:
            session.connection()
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    assert "BEGIN IMMEDIATE" in statements
    assert "BEGIN DEFERRED" in statements
