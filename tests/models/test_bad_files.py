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


def _clinic_with_damaged_data_pages(tmp_path: Path) -> Path:
    """A database whose schema and revision read fine but whose last data pages are junk."""
    from charting.services.access import Actor
    from charting.services.demo import create_demo_clinic

    path = tmp_path / "clinic.sqlite3"
    database = open_database(sqlite_url(path)).database
    with database.acting_as(Actor.system("test")).write() as session:
        create_demo_clinic(session, 300, 4)
    database.dispose()
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(len(data) - 4 * page, len(data), 5):
        data[offset] = 0xA5
    path.write_bytes(bytes(data))
    return path


def test_start_up_check_in_the_background_blocks_every_write_to_a_damaged_file(
    tmp_path: Path,
) -> None:
    """The app's start-up opens a large file at once and checks it in the background; a
    damaged file is then refused at the first write, with the problem named, and the file
    keeps every byte."""
    from charting.services.access import Actor
    from charting.services.patients import create_patient
    from tests.factories import patient_input

    path = _clinic_with_damaged_data_pages(tmp_path)
    before = path.read_bytes()
    with pytest.raises(DatabaseFileError, match="damaged"):
        open_database(sqlite_url(path))  # the command line's synchronous check
    opened = open_database(sqlite_url(path), check_in_background=True)
    database = opened.database.acting_as(Actor.system("test"))
    check = database.integrity_check
    assert check is not None
    assert "damaged" in (check.verdict(timeout=60) or "")
    with pytest.raises(DatabaseFileError, match="damaged") as info, database.write() as session:
        create_patient(session, patient_input())
    assert str(path) in str(info.value)
    database.dispose()
    assert path.read_bytes() == before


def test_start_up_check_in_the_background_lets_a_sound_file_be_used(tmp_path: Path) -> None:
    """A sound file's check passes and writes go through."""
    from charting.services.access import Actor
    from charting.services.patients import create_patient
    from tests.factories import patient_input

    path = tmp_path / "sound.sqlite3"
    open_database(sqlite_url(path)).database.dispose()
    opened = open_database(sqlite_url(path), check_in_background=True)
    database = opened.database.acting_as(Actor.system("test"))
    assert database.integrity_check is not None
    with database.write() as session:
        create_patient(session, patient_input())
    assert database.integrity_check.verdict(timeout=0) is None
    database.dispose()
