"""Schema migrations: pytest-alembic's built-in checks and the app's start-up upgrade."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from pytest_alembic.tests import (  # noqa: F401  (collected as tests)
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy import inspect

from charting.config import sqlite_url
from charting.models.db import make_engine
from charting.models.migrate import SCHEMA_HEAD, alembic_config, head_revision, open_database


def test_schema_head_constant_matches_the_newest_migration() -> None:
    """The start-up fast path's head revision is Alembic's head: a new migration must
    update it, or every start would take the slow path (and a new database would stop
    short of the newest schema)."""
    assert head_revision() == SCHEMA_HEAD


def test_opening_a_current_database_does_not_import_alembic(db_path: Path) -> None:
    """A database already at head opens without loading Alembic (about 90 ms of start-up)."""
    import subprocess
    import sys

    open_database(sqlite_url(db_path)).database.dispose()
    probe = (
        "import sys\n"
        "from charting.models.migrate import open_database\n"
        f"open_database({sqlite_url(db_path)!r}).database.dispose()\n"
        "print('alembic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_new_database_is_created_at_head(db_path: Path) -> None:
    """Opening a path that does not exist creates a database at the newest schema."""
    opened = open_database(sqlite_url(db_path))
    try:
        tables = set(inspect(opened.database.engine).get_table_names())
        assert {"patient", "visit", "practitioner", "alembic_version"} <= tables
        with opened.database.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == (
                head_revision()
            )
        assert opened.backup is None
    finally:
        opened.database.dispose()


def test_outdated_database_is_backed_up_before_upgrade(db_path: Path, tmp_path: Path) -> None:
    """A file that needs a migration is copied to the backup folder before it is upgraded."""
    open_database(sqlite_url(db_path)).database.dispose()
    engine = make_engine(sqlite_url(db_path))
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    engine.dispose()

    opened = open_database(sqlite_url(db_path), tmp_path / "backups")
    try:
        assert opened.backup is not None and opened.backup.exists()
        assert opened.backup.parent == tmp_path / "backups"
        assert opened.backup.read_bytes()[:16] == b"SQLite format 3\x00"
        assert "patient" in inspect(opened.database.engine).get_table_names()
    finally:
        opened.database.dispose()


def test_up_to_date_database_is_not_backed_up_again(db_path: Path, tmp_path: Path) -> None:
    """Re-opening a current database makes no backup and no change."""
    open_database(sqlite_url(db_path)).database.dispose()
    opened = open_database(sqlite_url(db_path), tmp_path / "backups")
    opened.database.dispose()
    assert opened.backup is None
    assert not (tmp_path / "backups").exists()


OPEN_AND_REPORT = (
    "import sys\n"
    "from charting.models.migrate import open_database\n"
    "opened = open_database(sys.argv[1])\n"
    "opened.database.dispose()\n"
    "print('migrated from', opened.migrated_from)\n"
)


def test_workstations_starting_together_migrate_a_new_server_database_once(
    database_backend: str, request: pytest.FixtureRequest
) -> None:
    """Two workstations opening an empty PostgreSQL database at once both end up at head."""
    if database_backend != "postgresql":
        pytest.skip("a shared server database (CHARTING_TEST_DATABASE=postgresql)")
    url = str(request.getfixturevalue("postgres_empty_url"))
    root = str(Path(__file__).resolve().parents[2])
    workstations = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_AND_REPORT, url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": root},
        )
        for _ in range(2)
    ]
    results = [w.communicate(timeout=120) for w in workstations]
    for workstation, (out, err) in zip(workstations, results, strict=True):
        assert workstation.returncode == 0, err
        assert out.strip() == "migrated from None"
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == (
                head_revision()
            )
    finally:
        engine.dispose()


def test_postgresql_gets_a_trigram_index_for_name_search(database) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL, name search (a word anywhere in the names) is served by a trigram
    index; SQLite needs none (its covering index is scanned)."""
    from sqlalchemy import text

    with database.engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            pytest.skip("a PostgreSQL index")
        names = conn.execute(
            text("SELECT indexname FROM pg_indexes WHERE tablename = 'patient'")
        ).scalars()
        assert "ix_patient_live_search_trgm" in set(names)
