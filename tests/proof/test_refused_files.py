"""Bad database files, from the app and the command line: one clear line, the file untouched.

tests/models/test_bad_files.py covers open_database for most kinds; this adds the read-only
file, and runs every kind through the ``charting`` command line.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from charting.cli import main
from charting.config import sqlite_url
from charting.models.migrate import DatabaseFileError, open_database

pytestmark = pytest.mark.sqlite_only

ROOT = Path(__file__).resolve().parents[2]


def _good_database(path: Path) -> Path:
    open_database(sqlite_url(path)).database.dispose()
    return path


def _text_file(folder: Path) -> Path:
    path = folder / "notes.sqlite3"
    path.write_text("Patient list, do not delete\n")
    return path


def _empty_file(folder: Path) -> Path:
    path = folder / "empty.sqlite3"
    path.write_bytes(b"")
    return path


def _corrupt_file(folder: Path) -> Path:
    data = bytearray(_good_database(folder / "good.sqlite3").read_bytes())
    for offset in range(4096, min(len(data), 4096 * 6), 7):
        data[offset] = 0xA5
    path = folder / "damaged.sqlite3"
    path.write_bytes(bytes(data))
    return path


def _truncated_file(folder: Path) -> Path:
    path = folder / "truncated.sqlite3"
    path.write_bytes(_good_database(folder / "good.sqlite3").read_bytes()[: 4096 + 100])
    return path


def _other_program(folder: Path) -> Path:
    path = folder / "photos.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
    conn.commit()
    conn.close()
    return path


def _newer_schema(folder: Path) -> Path:
    path = _good_database(folder / "newer.sqlite3")
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = 'f00dfeed'")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


def _folder(folder: Path) -> Path:
    path = folder / "clinic.sqlite3"
    path.mkdir()
    return path


def _read_only(folder: Path) -> Path:
    path = _good_database(folder / "archive.sqlite3")
    path.chmod(0o444)
    return path


BAD_FILES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "text file": (_text_file, "not an SQLite database"),
    "empty file": (_empty_file, "empty"),
    "corrupt pages": (_corrupt_file, "damaged"),
    "truncated copy": (_truncated_file, "damaged"),
    "another program's database": (_other_program, "not a Charting database"),
    "newer schema": (_newer_schema, "newer version of Charting"),
    "folder": (_folder, "folder"),
    "read-only file": (_read_only, "read-only"),
}


def _fingerprint(path: Path) -> tuple[str, int, int] | None:
    """Content hash, modification time and mode of a file (None for a folder)."""
    if not path.is_file():
        return None
    info = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), info.st_mtime_ns, info.st_mode


def _assert_untouched(path: Path, before: tuple[str, int, int] | None) -> None:
    assert _fingerprint(path) == before
    for suffix in ("-wal", "-shm", "-journal"):
        assert not Path(f"{path}{suffix}").exists(), f"{suffix} file appeared"
    assert not list(path.parent.glob("*pre-*")), "a backup was made of a refused file"


def test_read_only_file_is_refused_and_left_byte_for_byte(tmp_path: Path) -> None:
    """A database file without write permission is refused as read-only, not modified."""
    path = _read_only(tmp_path)
    before = _fingerprint(path)
    with pytest.raises(DatabaseFileError) as info:
        open_database(sqlite_url(path), tmp_path / "backups")
    assert "read-only" in info.value.problem
    assert str(path) in str(info.value)
    _assert_untouched(path, before)
    assert stat.S_IMODE(path.stat().st_mode) == 0o444


def test_read_only_file_from_the_command_line(tmp_path: Path) -> None:
    """`charting export --db READONLY` exits 1 with one line saying read-only, no traceback."""
    path = _read_only(tmp_path)
    before = _fingerprint(path)
    out = tmp_path / "exports"
    result = subprocess.run(
        [sys.executable, "-m", "charting", "export", "--out", str(out), "--db", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("charting: error: ") and "read-only" in line and str(path) in line
    assert result.stdout == ""
    _assert_untouched(path, before)
    assert not out.exists()


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_file_from_the_command_line(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every kind of bad file gives exit code 1, one line naming file and problem, no change."""
    make, problem = BAD_FILES[kind]
    path = make(tmp_path)
    before = _fingerprint(path)
    out = tmp_path / "exports"
    code = main(["export", "--out", str(out), "--db", str(path)])
    captured = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in captured.err
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("charting: error: ") and problem in line and str(path) in line
    _assert_untouched(path, before)
    assert not out.exists()
