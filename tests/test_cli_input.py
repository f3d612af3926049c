"""Input that used to escape as a traceback or a hang gets one line and a non-zero exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from charting.config import sqlite_url
from charting.models import Role
from charting.models.migrate import open_database
from charting.services.patients import search_patient_ids
from tests.factories import TEST_PASSWORD, add_account, sign_in_test_user


def _run(
    *args: str | bytes, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "charting", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


def _one_line_failure(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode in (1, 2), result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("charting: error:"), result.stderr
    assert fragment in lines[0], lines[0]


def test_a_named_pipe_as_the_database_is_refused_not_waited_on(tmp_path: Path) -> None:
    """A FIFO given as the database: refused at once (it used to hang every command)."""
    fifo = tmp_path / "clinic.sqlite3"
    os.mkfifo(fifo)
    _one_line_failure(_run("--db", str(fifo), "audit", "verify"), "not a regular file")


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("postgresql+psycopg://u@host:abc/db", "not a valid database URL"),
        ("postgresql+psycopg://u@host:99999/db", "a port is 1 to 65535"),
        ("postgresql+psycopg://u@ho\x01st/db", "not text"),
        ("postgresql+psycopg://u@:5/charting", "cannot be used"),
    ],
)
def test_malformed_server_urls_give_one_line(url: str, fragment: str) -> None:
    """A non-numeric or out-of-range port, or a bad host, is one line, not a traceback."""
    _one_line_failure(_run("--db", url, "audit", "verify"), fragment)


def test_a_file_name_too_long_gives_one_line(tmp_path: Path) -> None:
    """A 300-character file name is refused with the reason."""
    _one_line_failure(_run("--db", str(tmp_path / ("a" * 300 + ".sqlite3")), "backup"), "too long")


@pytest.fixture
def clinic(tmp_path: Path) -> str:
    """A clinic database with an admin-practitioner (ana), a front desk (bob), an admin (cy)."""
    url = sqlite_url(tmp_path / "clinic.sqlite3")
    database = open_database(url, tmp_path / "backups").database
    database.actor = sign_in_test_user(database)
    add_account(database, "bob", Role.FRONT_DESK)
    add_account(database, "cy", Role.ADMIN)
    database.dispose()
    return url


def test_a_user_name_that_is_not_text_gives_one_line(clinic: str) -> None:
    """--user given as bytes that are not UTF-8 is refused with one line."""
    result = subprocess.run(
        [
            sys.executable.encode(),
            b"-m",
            b"charting",
            b"--db",
            clinic.encode(),
            b"--user",
            b"\xff\xfe",
            b"audit",
            b"verify",
        ],
        capture_output=True,
        timeout=60,
        env={**os.environ, "CHARTING_PASSWORD": TEST_PASSWORD},
    )
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2 and "Traceback" not in err
    assert "not text" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("user", ["bob"])
def test_demo_by_an_account_that_cannot_chart_gives_one_line(clinic: str, user: str) -> None:
    """`charting demo` as front desk (who may not fill a clinic): refused in a line. (An admin
    may: the demo's own fictional practitioners chart its visits.)"""
    result = _run(
        "--db",
        clinic,
        "--user",
        user,
        "demo",
        "--patients",
        "1",
        env={"CHARTING_PASSWORD": TEST_PASSWORD},
    )
    _one_line_failure(result, "cannot")


def test_search_with_a_lone_surrogate_or_nul_does_not_fail(database, make_patient) -> None:  # type: ignore[no-untyped-def]
    """A lone surrogate or a NUL in the search box is read as a space instead of failing."""
    pid = make_patient(family_name="Lindqvist")
    with database.read() as session:
        assert search_patient_ids(session, "\ud800") == search_patient_ids(session, "")
        assert search_patient_ids(session, "Lind\ud800") == [pid]
        assert search_patient_ids(session, "\x00lindqvist") == [pid]
        assert search_patient_ids(session, "zz\udcff") == []
