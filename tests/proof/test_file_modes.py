"""Patient data on disk is readable by its owner only (POSIX modes 0o700 / 0o600).

Each test runs with a permissive umask (0o000), so the modes come from Charting itself and
not from the account's defaults.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command

from charting.config import (
    backup_dir,
    data_dir,
    default_database_path,
    resolve_database_url,
    sqlite_url,
)
from charting.models.db import Database, make_engine
from charting.models.migrate import alembic_config, open_database
from charting.services.backup import back_up
from charting.services.patients import create_patient
from tests.factories import patient_input, sign_in_test_user

pytestmark = [
    pytest.mark.sqlite_only,
    pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits"),
]


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """Files and folders would be world-readable unless Charting restricts them."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_folder_is_owner_only(permissive_umask: None) -> None:
    """The data folder is created 0o700, and an existing looser one is tightened."""
    folder = data_dir()
    assert _mode(folder) == 0o700
    folder.chmod(0o755)
    assert data_dir() == folder
    assert _mode(folder) == 0o700


def test_default_database_and_its_wal_files_are_owner_only(permissive_umask: None) -> None:
    """The default database file and its -wal/-shm companions are 0o600 while in use."""
    choice = resolve_database_url(None)
    assert choice.source == "default"
    database = open_database(choice.url, backup_dir()).database
    try:
        database.actor = sign_in_test_user(database)
        with database.write() as session:
            create_patient(session, patient_input())
        path = default_database_path()
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert all(f.exists() for f in files), "the database is not in WAL mode"
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
        assert _mode(path.parent) == 0o700
    finally:
        database.dispose()


def test_existing_world_readable_database_is_made_owner_only(
    permissive_umask: None, db_path: Path
) -> None:
    """A database file left world-readable (e.g. copied in) becomes 0o600 when opened."""
    open_database(sqlite_url(db_path)).database.dispose()
    db_path.chmod(0o644)
    database = open_database(sqlite_url(db_path)).database
    try:
        files = [db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")]
        assert all(f.exists() for f in files), "the database is not in WAL mode"
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        database.dispose()


def test_backup_folder_and_backup_file_are_owner_only(
    permissive_umask: None, database: Database
) -> None:
    """A backup lands in a 0o700 backups folder as a 0o600 file, with its audit anchor (also
    0o600) beside it."""
    folder = backup_dir()
    copy = back_up(database, folder)
    assert copy.parent == folder
    assert _mode(folder) == 0o700
    assert _mode(copy) == 0o600
    assert sorted(p.name for p in folder.iterdir()) == [copy.name, f"{copy.name}.anchor.json"]
    assert _mode(folder / f"{copy.name}.anchor.json") == 0o600


def test_backup_before_a_schema_upgrade_is_owner_only(
    permissive_umask: None, db_path: Path
) -> None:
    """The copy taken before a migration is 0o600 in the 0o700 backups folder."""
    open_database(sqlite_url(db_path)).database.dispose()
    engine = make_engine(sqlite_url(db_path))
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    engine.dispose()
    opened = open_database(sqlite_url(db_path), backup_dir())
    opened.database.dispose()
    assert opened.backup is not None
    assert _mode(opened.backup.parent) == 0o700
    assert _mode(opened.backup) == 0o600


def test_every_exported_file_and_folder_is_owner_only(
    permissive_umask: None, database: Database, tmp_path: Path
) -> None:
    """PDFs, CSV tables, FHIR bundles, the README and the anchor of an export are 0o600 and
    its folders 0o700, even where the process would create them world-readable."""
    from charting.jobs.export import run_export
    from charting.services.demo import create_demo_clinic
    from charting.services.exports import select_patient_ids

    with database.write() as session:
        create_demo_clinic(session, 3, 2)
    with database.read() as session:
        patients = select_patient_ids(session)
    result = run_export(database, patients, tmp_path / "out", ["pdf", "csv", "fhir"], workers=1)
    assert (result.folder / "audit-anchor.json").exists()
    paths = [result.folder, *result.folder.rglob("*")]
    assert len(paths) > 8
    for path in paths:
        assert _mode(path) == (0o700 if path.is_dir() else 0o600), path
