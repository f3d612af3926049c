"""Database files Charting must refuse: a clear message, and the file left as it was."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from charting.config import sqlite_url
from charting.models.migrate import DatabaseFileError, open_database

pytestmark = pytest.mark.sqlite_only


def _refused(path: Path, fragment: str) -> None:
    before = path.read_bytes() if path.is_file() else None
    stat_before = path.stat().st_mtime_ns
    with pytest.raises(DatabaseFileError) as info:
        open_database(sqlite_url(path))
    assert str(path) in str(info.value)
    assert fragment in info.value.problem
    if before is not None:
        assert path.read_bytes() == before
    assert path.stat().st_mtime_ns == stat_before
    assert not Path(f"{path}-wal").exists() or before is None


def test_text_file_is_not_a_database(tmp_path: Path) -> None:
    """A text file is refused as "not an SQLite database file"."""
    path = tmp_path / "notes.sqlite3"
    path.write_text("Patient list, do not delete\n")
    _refused(path, "not an SQLite database")


def test_empty_file_is_refused(tmp_path: Path) -> None:
    """An empty file is not silently turned into a new database."""
    path = tmp_path / "empty.sqlite3"
    path.write_bytes(b"")
    _refused(path, "empty")


def test_corrupt_file_is_refused(tmp_path: Path, db_path: Path) -> None:
    """A database whose pages were overwritten is reported as damaged."""
    open_database(sqlite_url(db_path)).database.dispose()
    data = bytearray(db_path.read_bytes())
    for offset in range(4096, min(len(data), 4096 * 6), 7):
        data[offset] = 0xA5
    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(bytes(data))
    _refused(damaged, "damaged")


def test_truncated_file_is_refused(tmp_path: Path, db_path: Path) -> None:
    """A database cut short (e.g. a half-copied file) is reported as damaged."""
    open_database(sqlite_url(db_path)).database.dispose()
    truncated = tmp_path / "truncated.sqlite3"
    truncated.write_bytes(db_path.read_bytes()[: 4096 + 100])
    _refused(truncated, "damaged")


def test_other_sqlite_database_is_refused(tmp_path: Path) -> None:
    """An SQLite file from another program is not adopted or modified."""
    path = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
    conn.commit()
    conn.close()
    _refused(path, "not a Charting database")


def test_newer_schema_is_refused(db_path: Path) -> None:
    """A database written by a newer Charting is refused, not downgraded or damaged."""
    open_database(sqlite_url(db_path)).database.dispose()
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE alembic_version SET version_num = 'f00dfeed'")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    _refused(db_path, "newer version of Charting")


def test_folder_is_refused(tmp_path: Path) -> None:
    """Pointing --db at a folder explains that it is a folder."""
    folder = tmp_path / "clinic.sqlite3"
    folder.mkdir()
    with pytest.raises(DatabaseFileError, match="folder"):
        open_database(sqlite_url(folder))


def test_unreadable_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file the user may not read is refused with the operating system's reason."""
    path = tmp_path / "locked.sqlite3"
    path.write_bytes(b"SQLite format 3\x00" + bytes(100))
    real_open = Path.open

    def deny(self: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", deny)
    with pytest.raises(DatabaseFileError, match="cannot be read"):
        open_database(sqlite_url(path))
