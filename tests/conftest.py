"""Shared fixtures: an offscreen Qt, a fresh migrated database per test, and factories.

Each test gets its own database, migrated to the newest schema. Running every migration
for every test took about a third of the suite's time, so the migrations run once per test
run: on SQLite into a template file that each test copies, on PostgreSQL into a template
database that each test's ``CREATE DATABASE ... TEMPLATE`` copies (``tests/postgres.py``).
"""

from __future__ import annotations

import os
import shutil

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine

from charting.config import sqlite_url
from charting.models import migrate
from charting.models.db import Database, make_engine
from charting.models.migrate import open_database
from charting.services import accounts
from charting.services.patients import create_patient
from tests.factories import patient_input, sign_in_test_user

# The private PostgreSQL cluster, used when CHARTING_TEST_DATABASE=postgresql.
pytest_plugins = ["tests.postgres"]


@pytest.fixture(autouse=True)
def _quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash test passwords with tiny Argon2 costs (the real ones take ~130 ms a hash)."""
    quick = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    monkeypatch.setattr(accounts, "HASHER", quick)


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data folder, so nothing touches the user's real one."""
    folder = tmp_path / "data"
    monkeypatch.setenv("CHARTING_DATA_DIR", str(folder))
    monkeypatch.delenv("CHARTING_DATABASE_URL", raising=False)
    return folder


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where this test's SQLite file lives."""
    return tmp_path / "clinic.sqlite3"


@pytest.fixture
def database_url(database_backend: str, request: pytest.FixtureRequest) -> str:
    """This test's own database: a new SQLite file, or a fresh PostgreSQL database."""
    if database_backend == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return sqlite_url(request.getfixturevalue("db_path"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file brought to the newest schema by the real migrations, once per run."""
    folder = tmp_path_factory.mktemp("template")
    path = folder / "template.sqlite3"
    with pytest.MonkeyPatch.context() as patch:
        # Nothing of the template run may touch the user's real data folder either.
        patch.setenv("CHARTING_DATA_DIR", str(folder / "data"))
        patch.delenv("CHARTING_DATABASE_URL", raising=False)
        opened = open_database(sqlite_url(path))
        opened.database.dispose()
    # Closing the last connection folds the write-ahead log into the file: one file to copy.
    leftovers = [p.name for p in folder.glob("template.sqlite3-*")]
    assert not leftovers, f"the template left {leftovers} behind"
    return path


@pytest.fixture
def database(
    database_url: str, database_backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Database]:
    """A fresh database made through the real migrations (a copy of this run's template).

    It is opened as the app opens an existing file (checked, at the newest schema).
    """
    if database_backend == "sqlite":
        shutil.copyfile(
            request.getfixturevalue("sqlite_template"), request.getfixturevalue("db_path")
        )
    opened = open_database(database_url, tmp_path / "backups")
    opened.database.actor = sign_in_test_user(opened.database)
    yield opened.database
    opened.database.dispose()


@pytest.fixture
def alembic_config():  # type: ignore[no-untyped-def]
    """pytest-alembic: the migrations shipped inside the package."""
    return migrate.alembic_config()


@pytest.fixture
def alembic_engine(
    database_backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Engine]:
    """pytest-alembic: an empty database, with the same connection settings as the app."""
    if database_backend == "postgresql":
        url = str(request.getfixturevalue("postgres_empty_url"))
    else:
        url = sqlite_url(tmp_path / "alembic.sqlite3")
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def make_patient(database: Database):  # type: ignore[no-untyped-def]
    """Factory: store a patient and return its id."""

    def make(**overrides: object) -> int:
        with database.write() as session:
            pid, _ = create_patient(session, patient_input(**overrides))
        return pid

    return make


@pytest.fixture
def practitioner_id(database: Database) -> int:
    """The signed-in test user's practitioner profile (Ana Ruiz, L.Ac.)."""
    assert database.actor.practitioner_id is not None
    return int(database.actor.practitioner_id)
