"""Typing is never dropped when the database is busy: it stays pending, shown, and retried."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox

from charting.bodymap import load_bodymap
from charting.models.db import Database, DatabaseBusyError
from charting.services.visit_record import record
from charting.services.visits import start_visit
from charting.ui import visit_form
from charting.ui.ops import OpRunner
from charting.ui.visit_chart import VisitChartPage

pytestmark = pytest.mark.sqlite_only  # another program holding the file's write lock


@contextmanager
def _write_lock(database: Database) -> Iterator[None]:
    """Another program holds the SQLite file's write lock until the block ends."""
    other = sqlite3.connect(database.sqlite_path or "", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


@pytest.fixture
def page(qtbot, database: Database, make_patient, practitioner_id: int, monkeypatch):  # type: ignore[no-untyped-def]
    """A visit open for charting, with quick retries and a short wait for the lock."""
    monkeypatch.setattr(visit_form, "AUTOSAVE_WAIT_MS", 100)
    monkeypatch.setattr(visit_form, "RETRY_DELAYS_MS", (200, 200))
    with database.write() as session:
        vid, _ = start_visit(session, make_patient(), practitioner_id)
    chart = VisitChartPage(OpRunner(database), load_bodymap())
    qtbot.addWidget(chart)
    chart.resize(1280, 800)
    chart.show()
    chart.open_visit(vid)
    return chart


def _complaint(database: Database, vid: int) -> str:
    with database.read() as session:
        return str(record(session, vid)["chief_complaint"])


def test_a_busy_database_is_a_clear_error_not_a_driver_one(database: Database) -> None:
    """A write that cannot get the file's lock raises DatabaseBusyError with plain words."""
    busy = pytest.raises(DatabaseBusyError, match="busy")
    with _write_lock(database), busy, database.write(busy_timeout_ms=50) as session:
        session.connection()


def test_typing_while_the_database_is_busy_is_kept_shown_and_saved_later(  # type: ignore[no-untyped-def]
    qtbot, page: VisitChartPage, database: Database
) -> None:
    """Typed text waits (the visit says "Not saved yet" and why), later typing joins it, and
    all of it is stored once the other program lets go."""
    vid = page.visit_id
    edit = page.form.findChild(QLineEdit, "chief_complaint")
    with _write_lock(database):
        qtbot.keyClicks(edit, "Low back pain")
        qtbot.waitUntil(lambda: page.form.save_state == "unsaved", timeout=5000)
        assert "Not saved yet" in page.save_state.text() and "busy" in page.save_state.text()
        qtbot.keyClicks(edit, ", left")
        qtbot.wait(600)
        assert _complaint(database, vid) == ""  # type: ignore[arg-type]
        assert page.form.has_unsaved()
    qtbot.waitUntil(lambda: page.form.save_state == "saved", timeout=5000)
    assert _complaint(database, vid) == "Low back pain, left"  # type: ignore[arg-type]
    assert page.save_state.text() == "All changes saved"


def test_signing_or_leaving_with_unsaved_typing_says_so(  # type: ignore[no-untyped-def]
    qtbot, page: VisitChartPage, database: Database, when_modal
) -> None:
    """While typing waits for the database, Sign refuses with the reason, and leaving the
    visit asks: stay, or copy what was typed and leave."""
    edit = page.form.findChild(QLineEdit, "chief_complaint")
    with _write_lock(database):
        qtbot.keyClicks(edit, "Sciatica")
        qtbot.waitUntil(lambda: page.form.save_state == "unsaved", timeout=5000)
        told: list[str] = []
        when_modal(lambda box: (told.append(box.text()), box.accept()))
        page.sign()
        assert told and "not saved yet" in told[0]
        closed: list[bool] = []
        page.closed.connect(lambda: closed.append(True))

        def stay(box: QMessageBox) -> None:
            assert "Sciatica" in box.text()
            next(b for b in box.buttons() if b.text().startswith("Stay")).click()

        when_modal(stay)
        qtbot.mouseClick(
            page.findChild(type(page.sign_button), "backToChart"), Qt.MouseButton.LeftButton
        )
        assert closed == []

        def copy(box: QMessageBox) -> None:
            next(b for b in box.buttons() if b.text().startswith("Copy")).click()

        when_modal(copy)
        qtbot.mouseClick(
            page.findChild(type(page.sign_button), "backToChart"), Qt.MouseButton.LeftButton
        )
        assert closed == [True]
        assert "Sciatica" in QApplication.clipboard().text()
