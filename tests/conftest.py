"""Shared fixtures: an offscreen Qt, a fresh migrated database per test, and factories."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from charting.config import sqlite_url
from charting.models import migrate
from charting.models.db import Database, make_engine
from charting.models.migrate import open_database
from charting.services.patients import create_patient
from charting.services.practitioners import PractitionerInput, save_practitioner
from tests.factories import patient_input


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
def database(db_path: Path) -> Iterator[Database]:
    """A fresh database made through the real migrations."""
    opened = open_database(sqlite_url(db_path), db_path.parent / "backups")
    yield opened.database
    opened.database.dispose()


@pytest.fixture
def alembic_config():  # type: ignore[no-untyped-def]
    """pytest-alembic: the migrations shipped inside the package."""
    return migrate.alembic_config()


@pytest.fixture
def alembic_engine(tmp_path: Path) -> Iterator[Engine]:
    """pytest-alembic: an engine with the same connection settings as the app."""
    engine = make_engine(sqlite_url(tmp_path / "alembic.sqlite3"))
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
    """A stored practitioner profile."""
    with database.write() as session:
        pid, _ = save_practitioner(
            session, PractitionerInput("Ana Ruiz", "L.Ac.", "AC-1234", "TCM")
        )
    return pid
