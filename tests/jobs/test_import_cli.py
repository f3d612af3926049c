"""`charting import patients`: dry run, mapping, bad files, and a Charting export read back."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from charting.config import sqlite_url
from charting.models import Patient, Visit
from charting.models.db import Database
from charting.models.migrate import open_database
from charting.services.access import Actor
from tests.factories import TEST_PASSWORD, TEST_USERNAME
from tests.jobs.test_export import _charting, clinic  # noqa: F401 (fixture)

LIST = "Surname;First name;DOB;Gender\r\nMüller;Jörg;1980-04-02;m\r\nNguyen;Lan;1986-02-30;f\r\n"


def _count(database: Database) -> int:
    with database.read() as session:
        return session.scalar(select(func.count(Patient.id))) or 0


def test_dry_run_names_the_problems_and_stores_nothing(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    """--dry-run lists each problem with its line and stores no patient."""
    path = tmp_path / "list.csv"
    path.write_bytes(LIST.encode("cp1252"))
    run = _charting("--db", database_url, "import", "patients", str(path), "--dry-run")
    assert run.returncode == 0, run.stderr
    assert "Windows (cp1252), semicolon-separated" in run.stdout
    assert "line 3, Date of birth: 1986-02-30 is not a date: February has no day 30." in run.stdout
    assert "1 row(s) would be imported, 1 with problems" in run.stdout
    assert _count(database) == 0


def test_import_stores_the_good_rows_with_a_summary(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    """The import stores the good rows and prints the summary; the file is not changed."""
    path = tmp_path / "list.csv"
    path.write_text(LIST, encoding="utf-8")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    run = _charting(
        "--db", database_url, "import", "patients", str(path),
        "--map", "Surname=family_name,First name=given_name,DOB=date_of_birth,Gender=sex",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "1 imported" in run.stdout and "1 skipped" in run.stdout
    # The skipped row is named with its reason, as the dry run names it.
    assert "line 3, Date of birth: 1986-02-30 is not a date: February has no day 30. (skipped)" in (
        run.stdout
    )
    assert _count(database) == 1
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_bad_file_and_bad_mapping_exit_with_one_line(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    """A binary file exits 1 and a mapping without names exits 2, each with one line."""
    binary = tmp_path / "photo.csv"
    binary.write_bytes(b"\x89PNG\x00\x00")
    run = _charting("--db", database_url, "import", "patients", str(binary))
    assert run.returncode == 1 and run.stderr.count("\n") == 1
    assert "not a text file" in run.stderr
    assert binary.read_bytes() == b"\x89PNG\x00\x00"
    listing = tmp_path / "list.csv"
    listing.write_text(LIST, encoding="utf-8")
    run = _charting("--db", database_url, "import", "patients", str(listing), "--map", "DOB=sex")
    assert run.returncode == 2 and run.stderr.count("\n") == 1
    assert "Choose the columns with the family and given names." in run.stderr
    assert _count(database) == 0


def test_a_charting_export_is_imported_whole(
    database: Database,
    clinic: list[int],  # noqa: F811 (the fixture)
    database_url: str,
    tmp_path: Path,
) -> None:
    """`charting import patients EXPORT/csv` into a new database brings every visit along."""
    run = _charting(
        "--db", database_url, "export", "--out", str(tmp_path / "out"), "--format", "csv"
    )
    assert run.returncode == 0, run.stderr
    (exported,) = (tmp_path / "out").iterdir()
    target = tmp_path / "new.sqlite3"
    run = _charting("--db", str(target), "import", "patients", str(exported), signed_in=False)
    assert run.returncode == 0, run.stderr
    assert "10 patients" in run.stdout
    new = open_database(sqlite_url(target), tmp_path / "b").database
    new.actor = Actor.system("test")
    with database.read() as a, new.read() as b:
        assert a.scalar(select(func.count(Visit.id))) == b.scalar(select(func.count(Visit.id)))
    new.dispose()
    # The same export again would give every patient a second chart: refused, nothing stored.
    again = _charting("--db", str(target), "import", "patients", str(exported), signed_in=False)
    assert again.returncode == 1 and again.stderr.count("\n") == 1
    assert "10 of the export's 10 patients are already registered here" in again.stderr
    assert "patients:" not in again.stderr
    new = open_database(sqlite_url(target), tmp_path / "b").database
    with new.read() as b:
        assert b.scalar(select(func.count(Patient.id))) == 10
    new.dispose()


def test_the_user_is_taken_after_the_command_too(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    """`charting import patients FILE --user NAME` signs in as NAME, as the error says to."""
    path = tmp_path / "list.csv"
    path.write_text(LIST, encoding="utf-8")
    refused = _charting("--db", database_url, "import", "patients", str(path), signed_in=False)
    assert refused.returncode == 2 and "--user NAME" in refused.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTING_USER")}
    env["CHARTING_PASSWORD"] = TEST_PASSWORD
    args = ("--db", database_url, "import", "patients", str(path), "--user", TEST_USERNAME)
    run = subprocess.run(
        [sys.executable, "-m", "charting", *args, "--dry-run"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 0, run.stderr
    assert "1 row(s) would be imported" in run.stdout
