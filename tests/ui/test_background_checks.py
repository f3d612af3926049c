"""What runs behind the window, on its own: today's backup and the file check's verdict."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QObject

from charting.models.db import Database, IntegrityCheck
from charting.services.backup import list_backups
from charting.ui.background_checks import BackgroundChecks
from charting.ui.ops import OpRunner

DAMAGE = "the file is damaged (integrity check: Page 7: btreeInitPage() returns error code 11)"


@pytest.fixture
def owner(qtbot) -> QObject:  # type: ignore[no-untyped-def]
    """A parent for the checks (the window, in the app)."""
    return QObject()


def _messages(checks: BackgroundChecks) -> list[str]:
    posted: list[str] = []
    checks.message_posted.connect(lambda text, _ms: posted.append(text))
    return posted


@pytest.mark.sqlite_only
def test_todays_backup_is_made_once_in_the_background_and_reported(
    qtbot, database: Database, owner: QObject, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The first start of the day makes a backup off the UI thread and says so; the second
    makes none; a folder that cannot be made is a message, not a traceback."""
    folder = tmp_path / "backups-here"
    checks = BackgroundChecks(OpRunner(database, owner), folder, owner)
    posted = _messages(checks)
    with qtbot.waitSignal(checks.daily_backup.finished, timeout=30_000):
        checks.start_daily_backup()
    assert [b.kind for b in list_backups(folder)] == ["daily"]
    assert posted and posted[-1].startswith("Today's backup is saved")
    with qtbot.waitSignal(checks.daily_backup.finished, timeout=30_000):
        checks.start_daily_backup()
    assert len(list_backups(folder)) == 1 and len(posted) == 1

    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    checks.folder = blocker / "backups"
    with qtbot.waitSignal(checks.daily_backup.failed, timeout=30_000):
        checks.start_daily_backup()
    assert posted[-1].startswith("The daily backup failed: ")
    checks.wait()


def test_a_server_database_gets_no_file_backup(
    qtbot, database: Database, owner: QObject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """On a database server the checks start no backup of their own (its tools do it)."""
    monkeypatch.setattr(Database, "sqlite_path", property(lambda _self: None))
    checks = BackgroundChecks(OpRunner(database, owner), tmp_path / "b", owner)
    checks.start_daily_backup()
    assert not checks.daily_backup.is_running()
    assert not (tmp_path / "b").exists()


def test_damage_found_by_the_file_check_is_announced_once(
    qtbot, database: Database, owner: QObject
) -> None:  # type: ignore[no-untyped-def]
    """While the start-up check runs nothing is said; when it finds damage the checks say
    which file and what is wrong, once."""
    gate = threading.Event()
    database.integrity_check = IntegrityCheck(
        "/clinic/charting.sqlite3",
        lambda: (gate.wait(30), DAMAGE)[1],
        trusted_since=datetime.now(UTC),
    )
    checks = BackgroundChecks(OpRunner(database, owner), None, owner)
    found: list[tuple[str, str]] = []
    checks.file_damaged.connect(lambda path, problem: found.append((path, problem)))
    qtbot.wait(600)
    assert found == [] and not checks.damage_found
    gate.set()
    qtbot.waitUntil(lambda: bool(found), timeout=5000)
    qtbot.wait(600)
    assert found == [("/clinic/charting.sqlite3", DAMAGE)]
    assert checks.damage_found


def test_a_sound_file_check_says_nothing(qtbot, database: Database, owner: QObject) -> None:  # type: ignore[no-untyped-def]
    """A check that passes ends the watching without a word."""
    database.integrity_check = IntegrityCheck(
        "/clinic/charting.sqlite3", lambda: None, trusted_since=datetime.now(UTC)
    )
    checks = BackgroundChecks(OpRunner(database, owner), None, owner)
    found: list[object] = []
    checks.file_damaged.connect(lambda *args: found.append(args))
    qtbot.waitUntil(lambda: database.integrity_check.finished, timeout=5000)
    qtbot.wait(600)
    assert found == [] and not checks.damage_found
