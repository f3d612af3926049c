"""Backups: consistent copies, checked, rotated; restores that are whole or not at all."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from charting.models import Patient, Role
from charting.models.db import Database
from charting.services import backup
from charting.services.access import PermissionDeniedError
from charting.services.backup import (
    BackupError,
    back_up,
    daily_backup_if_due,
    list_backups,
    restore,
    rotate,
)
from charting.services.patients import create_patient, delete_patient, search_patient_ids
from tests.factories import TEST_PASSWORD, TEST_USERNAME, add_account, patient_input

pytestmark = pytest.mark.sqlite_only


def _names(database: Database) -> list[str]:
    with database.read() as session:
        return sorted(session.scalars(select(Patient.family_name)))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_back_up_now_makes_a_checked_private_copy(
    database: Database, make_patient, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A backup holds every committed patient, passes integrity_check and is owner-only."""
    for name in ("Lindqvist", "Okafor", "Nguyen"):
        make_patient(family_name=name)
    copy = back_up(database, tmp_path / "backups")
    assert copy.parent == tmp_path / "backups" and "-manual-" in copy.name
    assert backup.integrity_problem(copy) == ""
    assert oct(copy.stat().st_mode & 0o777) == "0o600"
    conn = sqlite3.connect(copy)
    assert sorted(r[0] for r in conn.execute("SELECT family_name FROM patient")) == _names(database)
    conn.close()
    assert not Path(f"{copy}-wal").exists()
    (listed,) = list_backups(tmp_path / "backups")
    assert listed.path == copy and listed.label == "Backed up by hand"


def test_a_backup_taken_while_someone_writes_is_consistent(
    database: Database, tmp_path: Path
) -> None:
    """Backing up during a stream of writes gives a sound copy with whole transactions only."""
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            with database.write() as session:
                create_patient(session, patient_input(family_name=f"Writer{n:05d}"))
            written.append(n)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 20:
            threading.Event().wait(0.005)
        copy = back_up(database, tmp_path / "backups")
    finally:
        stop.set()
        thread.join()
    assert backup.integrity_problem(copy) == ""
    conn = sqlite3.connect(copy)
    names = [r[0] for r in conn.execute("SELECT family_name FROM patient ORDER BY id")]
    conn.close()
    # Every copied patient is whole, and the copy is a prefix of what was written.
    assert names == [f"Writer{n:05d}" for n in range(1, len(names) + 1)]
    assert len(names) >= 20


def test_daily_backup_once_a_day_and_rotation(database: Database, tmp_path: Path) -> None:
    """The first start of a day backs up once; older automatic backups beyond N are removed."""
    folder = tmp_path / "backups"
    first = daily_backup_if_due(database, folder, keep=3)
    assert first is not None and "-daily-" in first.name
    assert daily_backup_if_due(database, folder, keep=3) is None  # same day: nothing new
    manual = back_up(database, folder)
    stem = Path(database.sqlite_path or "").stem
    for day in range(1, 6):  # pretend five earlier days had their backups
        old = folder / f"{stem}-daily-2026010{day}T080000Z.sqlite3"
        old.write_bytes(first.read_bytes())
    removed = rotate(folder, stem, keep=3)
    kept = list_backups(folder, stem)
    assert len(removed) == 3
    assert [b.kind for b in kept].count("daily") == 3
    assert manual in [b.path for b in kept]  # copies made by hand are not rotated away
    assert first in [b.path for b in kept]
    later = daily_backup_if_due(database, folder, keep=3, today=date.today() + timedelta(days=1))
    assert later is not None


def test_restore_brings_back_the_backed_up_records(
    database: Database, make_patient, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """After a restore the patients are those of the backup; the replaced state is kept too."""
    keep = make_patient(family_name="Lindqvist")
    copy = back_up(database, tmp_path / "backups")
    with database.write() as session:
        delete_patient(session, keep)
        create_patient(session, patient_input(family_name="Afterwards"))
    result = restore(database, copy, tmp_path / "backups")
    with database.read() as session:
        assert search_patient_ids(session, "lindqvist") == [keep]
        assert search_patient_ids(session, "afterwards") == []
    saved = sqlite3.connect(result.saved_current_as)
    live = saved.execute("SELECT family_name FROM patient WHERE deleted_at IS NULL").fetchall()
    saved.close()
    assert live == [("Afterwards",)]
    with database.read() as session:
        actions = [e.action for e in backup.audit.search(session, action="backup")]
    assert actions[0] == "backup.restore"


def test_a_failed_restore_changes_nothing(
    database: Database, make_patient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """If copying the backup in fails half-way, the database is exactly as it was."""
    make_patient(family_name="Original")
    copy = back_up(database, tmp_path / "backups")
    make_patient(family_name="Newer")
    before = _names(database)

    live = str(Path(database.sqlite_path or "").resolve())
    real_copy = backup._copy

    def failing(src: sqlite3.Connection, dst: sqlite3.Connection, progress: object) -> None:
        if dst.execute("PRAGMA database_list").fetchone()[2] != live:
            real_copy(src, dst, None)  # the pre-restore copy of the live database works
            return

        def stop(_status: int, remaining: int, total: int) -> None:
            if remaining < total:  # some pages are in; the rest never arrive
                raise sqlite3.OperationalError("disk unplugged")

        src.backup(dst, pages=1, progress=stop)

    monkeypatch.setattr(backup, "_copy", failing)
    with pytest.raises(BackupError, match="nothing was changed"):
        restore(database, copy, tmp_path / "backups")
    assert _names(database) == before
    path = Path(database.sqlite_path or "")
    assert backup.integrity_problem(path) == ""


@pytest.mark.parametrize("kind", ["text", "truncated", "newer"])
def test_unusable_backups_are_refused_before_anything_happens(
    database: Database, make_patient, tmp_path: Path, kind: str
) -> None:  # type: ignore[no-untyped-def]
    """A file that is not a sound Charting backup is refused; no pre-restore copy is made."""
    make_patient()
    good = back_up(database, tmp_path / "backups")
    bad = tmp_path / "bad.sqlite3"
    if kind == "text":
        bad.write_text("patient list\n")
    elif kind == "truncated":
        bad.write_bytes(good.read_bytes()[:5000])
    else:
        bad.write_bytes(good.read_bytes())
        conn = sqlite3.connect(bad)
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
        conn.commit()
        conn.close()
    live = Path(database.sqlite_path or "")
    before = _names(database)
    with pytest.raises(BackupError, match="cannot be restored"):
        restore(database, bad, tmp_path / "backups")
    assert _names(database) == before
    assert [b.kind for b in list_backups(tmp_path / "backups")] == ["manual"]
    assert live.exists()


def test_only_admins_back_up_and_restore(database: Database, tmp_path: Path) -> None:
    """A practitioner's account is refused both, and the refusal is logged."""
    lee = database.acting_as(add_account(database, "lee", Role.PRACTITIONER))
    with pytest.raises(PermissionDeniedError, match="back up or restore"):
        back_up(lee, tmp_path / "backups")
    with pytest.raises(PermissionDeniedError):
        restore(lee, tmp_path / "whatever.sqlite3", tmp_path / "backups")
    assert not (tmp_path / "backups").exists()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHARTING_USER": TEST_USERNAME, "CHARTING_PASSWORD": TEST_PASSWORD}
    return subprocess.run(
        [sys.executable, "-m", "charting", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_command_line_backup_and_restore(
    database: Database, make_patient, database_url: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """`charting backup --out F` then `charting restore F` undoes a deletion."""
    kept = make_patient(family_name="Lindqvist")
    out = tmp_path / "tonight.sqlite3"
    made = _cli("backup", "--out", str(out), "--db", database_url)
    assert made.returncode == 0, made.stderr
    assert f"Backed up to {out}" in made.stdout
    with database.write() as session:
        delete_patient(session, kept)
    database.dispose()
    back = _cli("restore", str(out), "--db", database_url)
    assert back.returncode == 0, back.stderr
    assert "Restored" in back.stdout and "saved as" in back.stdout
    with database.read() as session:
        assert search_patient_ids(session, "lindqvist") == [kept]
    again = _cli("backup", "--out", str(out), "--db", database_url)
    assert again.returncode == 1 and "already exists" in again.stderr
    assert "Traceback" not in made.stderr + back.stderr + again.stderr


def test_command_line_restore_over_a_damaged_database(
    database: Database, make_patient, db_path: Path, database_url: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A database that no longer opens is moved aside (not deleted) and the backup put back."""
    make_patient(family_name="Lindqvist")
    out = tmp_path / "good.sqlite3"
    assert _cli("backup", "--out", str(out), "--db", database_url).returncode == 0
    database.dispose()
    data = bytearray(db_path.read_bytes())
    data[4096:8192] = b"\xff" * 4096  # wreck a page
    db_path.write_bytes(bytes(data))
    Path(f"{db_path}-wal").unlink(missing_ok=True)
    damaged = _sha(db_path)
    result = _cli("restore", str(out), "--db", database_url)
    assert result.returncode == 0, result.stderr
    assert "could not be opened" in result.stdout and "kept untouched" in result.stdout
    moved = [p for p in Path(os.environ["CHARTING_DATA_DIR"], "backups").glob("*unreadable*")]
    assert len(moved) == 1 and _sha(moved[0]) == damaged
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT family_name FROM patient").fetchall() == [("Lindqvist",)]
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()


def test_pre_migration_backups_count_towards_rotation(tmp_path: Path, database: Database) -> None:
    """Copies taken before schema upgrades rotate with the daily ones."""
    folder = tmp_path / "backups"
    stem = Path(database.sqlite_path or "").stem
    seed = back_up(database, folder)
    for n in range(4):
        (folder / f"{stem}-pre-0007-2026010{n + 1}T000000Z.sqlite3").write_bytes(seed.read_bytes())
    rotate(folder, stem, keep=2)
    with sqlite3.connect(seed) as conn:
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
    kinds = [b.kind for b in list_backups(folder, stem)]
    assert kinds.count("pre-0007") == 2 and "manual" in kinds


def test_another_charting_stops_writing_after_a_restore(
    database: Database, make_patient, database_url: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A second Charting open on the same file while it is restored is told the database was
    restored and writes nothing (its ids are from before); the restoring one carries on."""
    from charting.models.db import DatabaseRestoredError
    from charting.models.migrate import open_database

    make_patient(family_name="Lindqvist")
    copy = back_up(database, tmp_path / "backups")
    other = open_database(database_url, tmp_path / "backups").database
    other.actor = database.actor
    try:
        with other.write() as session:  # the other workstation has been working
            create_patient(session, patient_input(family_name="Before"))
        restore(database, copy, tmp_path / "backups")
        with pytest.raises(DatabaseRestoredError, match="restored"), other.write() as session:
            create_patient(session, patient_input(family_name="Stale"))
        with database.write() as session:
            create_patient(session, patient_input(family_name="After"))
    finally:
        other.dispose()
    assert _names(database) == ["After", "Lindqvist"]


def test_the_audit_log_still_verifies_after_a_restore(
    database: Database, make_patient, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A restore puts the log back to the backup's (shorter) log: this computer's checkpoint
    follows it, so verify passes, and the restore is the next entry."""
    from charting.services.audit import check_chain

    make_patient(family_name="Lindqvist")
    copy = back_up(database, tmp_path / "backups")
    assert Path(f"{copy}.anchor.json").exists()
    for name in ("A", "B", "C"):
        make_patient(family_name=name)
    restore(database, copy, tmp_path / "backups")
    with database.read() as session:
        report = check_chain(session)
        newest = backup.audit.search(session, limit=1)
    assert report.ok, report.problem
    assert newest[0].action == "backup.restore"


def test_two_restores_over_unreadable_files_keep_both(tmp_path: Path) -> None:
    """Two damaged files moved aside within the same second are both kept (never one over
    the other)."""
    from charting.config import sqlite_url
    from charting.models.migrate import open_database
    from tests.factories import sign_in_test_user

    good = tmp_path / "good.sqlite3"
    made = open_database(sqlite_url(good), tmp_path / "b").database
    actor = sign_in_test_user(made)
    made.dispose()
    folder = tmp_path / "moved"
    live = tmp_path / "clinic.sqlite3"
    kept: list[bytes] = []
    for n in range(2):
        damaged = f"damaged {n}".encode() * 300
        live.write_bytes(damaged)
        kept.append(damaged)
        backup.restore_over_unreadable(
            live,
            good,
            folder,
            lambda _db: actor,
            lambda url: open_database(url, tmp_path / "b").database,
        )
    moved = sorted(folder.glob("*unreadable*"))
    assert len(moved) == 2
    assert {p.read_bytes() for p in moved} == set(kept)
