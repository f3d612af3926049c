"""Backups from the UI: back up now, restore, the daily backup, and the security settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from charting.models.db import Database
from charting.services.backup import list_backups
from charting.services.patients import delete_patient
from charting.services.settings import load_security
from charting.services.visits import start_visit
from charting.ui.backup_dialog import BackupDialog
from charting.ui.main_window import MainWindow


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """This test's backup folder."""
    return tmp_path / "my-backups"


def _dialog(qtbot, database: Database, folder: Path) -> BackupDialog:  # type: ignore[no-untyped-def]
    dialog = BackupDialog(database, folder)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _back_up(qtbot, dialog: BackupDialog) -> Path:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(dialog.runner.finished, timeout=30_000):
        qtbot.mouseClick(dialog.back_up_button, Qt.MouseButton.LeftButton)
    assert dialog.last_backup is not None
    return dialog.last_backup


@pytest.mark.sqlite_only
def test_back_up_now_makes_a_file_listed_in_the_dialog(
    qtbot, database: Database, folder: Path
) -> None:  # type: ignore[no-untyped-def]
    """Back up now copies the database in the background and lists the copy, selected."""
    dialog = _dialog(qtbot, database, folder)
    assert dialog.model.rowCount() == 0
    assert not dialog.restore_button.isEnabled()
    made = _back_up(qtbot, dialog)
    assert made.exists() and made.parent == folder
    assert dialog.model.rowCount() == 1
    assert dialog.model.index(0, 1).data() == "Backed up by hand"
    assert dialog.model.index(0, 2).data().endswith("kB")
    assert dialog.table.currentIndex().row() == 0 and dialog.restore_button.isEnabled()
    assert f"Backed up to {made}" in dialog.status.text()
    assert dialog.back_up_button.isEnabled()


@pytest.mark.sqlite_only
def test_restore_brings_back_a_patient_deleted_after_the_backup(
    qtbot,
    window: MainWindow,
    database: Database,
    make_patient,
    practitioner_id: int,
    folder: Path,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """Back up, delete a patient, restore the backup: the patient is listed again, the open
    visit is closed, and the records as they were are kept as a "Before a restore" backup."""
    window.backup_folder = folder
    pid = make_patient()
    with database.write() as session:
        vid, _ = start_visit(session, pid, practitioner_id)
    window.patient_model.refresh()
    window.select_patient(pid)
    confirmation: list[str] = []

    def confirm(box: QMessageBox) -> None:
        confirmation.append(f"{box.text()}\n{box.informativeText()}")
        restore = next(b for b in box.buttons() if b.text() == "Restore")
        qtbot.mouseClick(restore, Qt.MouseButton.LeftButton)

    def backups(dialog: BackupDialog) -> None:
        _back_up(qtbot, dialog)
        with database.write() as session:
            delete_patient(session, pid)
        assert window.open_visit(vid)
        when_modal(confirm)
        with qtbot.waitSignal(dialog.restored, timeout=30_000):
            qtbot.mouseClick(dialog.restore_button, Qt.MouseButton.LeftButton)
        assert "Restored" in dialog.status.text()
        assert dialog.model.rowCount() == 2
        dialog.reject()

    when_modal(backups)
    window.backup_action.trigger()
    taken = list_backups(folder)[-1].taken_at.astimezone().strftime("%Y-%m-%d %H:%M")
    assert f"the backup taken on {taken}" in confirmation[0]
    assert "saved first" in confirmation[0]
    assert window.patient_model.row_of(pid) is not None
    assert window.visit_chart is None
    assert {b.label for b in list_backups(folder)} == {"Backed up by hand", "Before a restore"}


@pytest.mark.sqlite_only
def test_cancelling_the_confirmation_restores_nothing(
    qtbot, database: Database, make_patient, folder: Path, when_modal
) -> None:  # type: ignore[no-untyped-def]
    """Cancel in the confirmation leaves the records and the backups as they were."""
    dialog = _dialog(qtbot, database, folder)
    _back_up(qtbot, dialog)
    when_modal(lambda box: box.reject())
    qtbot.mouseClick(dialog.restore_button, Qt.MouseButton.LeftButton)
    assert dialog.last_restore is None and not dialog.is_busy()
    assert len(list_backups(folder)) == 1


@pytest.mark.sqlite_only
def test_a_file_that_is_not_a_backup_is_refused(
    qtbot, database: Database, folder: Path, tmp_path: Path, when_modal, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Restoring from a file that is not a Charting database says why and changes nothing."""
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(junk), ""))
    dialog = _dialog(qtbot, database, folder)
    when_modal(lambda box: _click(box, "Restore"))
    with qtbot.waitSignal(dialog.runner.failed, timeout=30_000):
        qtbot.mouseClick(dialog.restore_file_button, Qt.MouseButton.LeftButton)
    assert "cannot be restored" in dialog.status.text()
    assert dialog.last_restore is None


def _click(box: QMessageBox, text: str) -> None:
    next(b for b in box.buttons() if b.text() == text).click()


def test_the_security_settings_are_saved_and_change_the_idle_lock(
    qtbot,
    window: MainWindow,
    database: Database,
    folder: Path,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """Changing "lock after" and "keep" in Backups and security stores them and the window
    locks after the new idle time."""

    def change(dialog: BackupDialog) -> None:
        dialog.idle_minutes.setValue(3)
        dialog.backups_kept.setValue(30)
        qtbot.mouseClick(dialog.save_security_button, Qt.MouseButton.LeftButton)
        assert dialog.security_status.text() == "Saved."
        dialog.reject()

    window.backup_folder = folder
    when_modal(change)
    window.backup_action.trigger()
    with database.read() as session:
        stored = load_security(session)
    assert (stored.idle_lock_minutes, stored.backups_kept) == (3, 30)
    assert window.idle.interval_ms == 3 * 60_000


def test_a_server_database_shows_a_note_instead_of_backups(
    qtbot, database: Database, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL the dialog explains that the server is backed up by its own tools."""
    monkeypatch.setattr(Database, "sqlite_path", property(lambda _self: None))
    dialog = _dialog(qtbot, database, folder)
    assert "database server" in dialog.findChild(type(dialog.status), "backupNote").text()
    for widget in (dialog.table, dialog.back_up_button, dialog.restore_button):
        assert not widget.isVisible()
    assert dialog.idle_minutes.isVisible() and not dialog.backups_kept.isVisible()


@pytest.mark.sqlite_only
def test_the_daily_backup_runs_in_the_background_and_reports_in_the_status_bar(
    qtbot, window: MainWindow, folder: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The first start of the day backs up off the UI thread and says so; a second start does
    nothing; a failure is a status-bar message, not a traceback."""
    with qtbot.waitSignal(window.daily_backup.finished, timeout=30_000):
        window.start_daily_backup(folder, 3)
    assert [b.kind for b in list_backups(folder)] == ["daily"]
    assert window.statusBar().currentMessage().startswith("Today's backup is saved")
    with qtbot.waitSignal(window.daily_backup.finished, timeout=30_000):
        window.start_daily_backup(folder, 3)
    assert len(list_backups(folder)) == 1

    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    with qtbot.waitSignal(window.daily_backup.failed, timeout=30_000):
        window.start_daily_backup(blocker / "backups", 3)
    assert window.statusBar().currentMessage().startswith("The daily backup failed: ")
