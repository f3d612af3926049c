"""The command line: clear one-line errors, non-zero exits, and the demo command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from charting.cli import main


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "charting", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--db", "nonsense"], "not a database URL"),
        (["--db", "mysql://u@h/db"], "not supported"),
        (["--db", "sqlite:///x.db", "--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["demo", "--patients", "many"], "'many' is not a whole number"),
        (["demo", "--patients", "0"], "at least 1"),
        (["fly"], "invalid choice: 'fly'"),
    ],
)
def test_bad_arguments_give_one_clear_line(args: list[str], fragment: str) -> None:
    """Bad options exit with code 2 and a single readable line, no traceback."""
    result = _run(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("charting") and ": error: " in lines[0]
    assert fragment in lines[0]
    assert "Traceback" not in result.stderr


def test_demo_fills_the_database_given_by_url(tmp_path: Path) -> None:
    """`charting demo --patients N --db URL` adds N patients and says so."""
    db = tmp_path / "demo.sqlite3"
    result = _run("demo", "--patients", "150", "--db", f"sqlite:///{db}")
    assert result.returncode == 0, result.stderr
    assert "Added 150 fictional patients" in result.stdout
    import sqlite3

    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM patient").fetchone()[0] == 150
    conn.close()


def test_environment_variable_chooses_the_database(tmp_path: Path) -> None:
    """CHARTING_DATABASE_URL is used when --db is not given."""
    db = tmp_path / "env.sqlite3"
    result = _run("demo", "--patients", "3", env={"CHARTING_DATABASE_URL": str(db)})
    assert result.returncode == 0, result.stderr
    assert db.exists()


@pytest.mark.sqlite_only
def test_unusable_database_file_is_named_with_exit_1(tmp_path: Path) -> None:
    """A file that is not a database gives a one-line message naming it, and exit code 1."""
    bad = tmp_path / "clinic.sqlite3"
    bad.write_text("not a database")
    result = main(["demo", "--db", str(bad)])
    assert result == 1
    assert bad.read_text() == "not a database"


@pytest.mark.sqlite_only
def test_unusable_database_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The message names the file and the problem."""
    bad = tmp_path / "clinic.sqlite3"
    bad.write_text("not a database")
    main(["demo", "--db", str(bad)])
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert str(bad) in err and "not an SQLite database" in err


def test_demo_into_a_clinic_with_real_patients_is_one_clear_line(tmp_path: Path) -> None:
    """`charting demo` on a clinic's own database (real patients, accounts) says where the
    demo goes instead, exits 1, and adds nothing; a front-desk account gets the same kind of
    one-line answer."""
    import sqlite3

    from charting.config import sqlite_url
    from charting.models.entities import Role
    from charting.models.migrate import open_database
    from charting.services.patients import create_patient
    from tests.factories import TEST_PASSWORD, add_account, patient_input, sign_in_test_user

    db = tmp_path / "clinic.sqlite3"
    opened = open_database(sqlite_url(db), tmp_path / "b").database
    opened.actor = sign_in_test_user(opened)
    with opened.write() as session:
        create_patient(session, patient_input())
    add_account(opened, "bob", Role.FRONT_DESK)
    opened.dispose()
    for user in ("ana", "bob"):
        result = _run(
            "--user",
            user,
            "demo",
            "--db",
            str(db),
            env={"CHARTING_PASSWORD": TEST_PASSWORD},
        )
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("charting: error: ")
        assert ("its own file" in line) if user == "ana" else ("Front desk" in line)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM patient").fetchone()[0] == 1
    conn.close()
