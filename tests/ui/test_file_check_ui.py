"""A trusted start writes while the file's check runs; damage it finds closes the window."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from charting.models.db import Database, DatabaseFileError, IntegrityCheck
from charting.services.patients import create_patient
from charting.ui.main_window import MainWindow
from tests.factories import patient_input

DAMAGE = "the file is damaged (integrity check: Page 7: btreeInitPage() returns error code 11)"


def test_damage_found_after_a_trusted_start_says_so_and_closes_the_window(
    qtbot,
    database: Database,
    settings: QSettings,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """Saving works while the check runs; when it finds damage the window names the file
    and the problem, closes, and nothing more can be written."""
    gate = threading.Event()
    database.integrity_check = IntegrityCheck(
        "/clinic/charting.sqlite3",
        lambda: (gate.wait(30), DAMAGE)[1],
        trusted_since=datetime.now(UTC),
    )
    window = MainWindow(database, settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    with database.write() as session:  # no wait: the file was trusted at start
        create_patient(session, patient_input())

    seen: list[str] = []

    def read_and_close(box: QMessageBox) -> None:
        seen.append(f"{box.windowTitle()}\n{box.text()}")
        box.accept()

    when_modal(read_and_close)
    gate.set()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
    assert window.file_damaged
    assert len(seen) == 1
    assert "The database file is damaged" in seen[0]
    assert "/clinic/charting.sqlite3" in seen[0]
    assert "Btree" in seen[0] or "btreeInitPage" in seen[0]
    assert "restore a backup" in seen[0]
    with pytest.raises(DatabaseFileError), database.write() as session:
        create_patient(session, patient_input())
