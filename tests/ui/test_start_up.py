"""Start-up: the sign-in window shows at once on a database signed in to before, and the
database opens behind it."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox

import charting.models.migrate as migrate_module
from charting.config import DatabaseChoice, sqlite_url
from charting.models.migrate import open_database
from charting.services.settings import load_settings, save_settings
from charting.ui import app as app_module
from charting.ui.app import remembered_clinic, run_app
from charting.ui.login_dialog import MESSAGE_STYLE, FirstAdminDialog, LoginDialog
from charting.ui.main_window import MainWindow
from tests.factories import TEST_PASSWORD, sign_in_test_user

pytestmark = pytest.mark.sqlite_only


def _type(qtbot, edit: QLineEdit, text: str) -> None:  # type: ignore[no-untyped-def]
    edit.clear()
    qtbot.keyClicks(edit, text)


def _clinic(path: Path, name: str = "Riverside Acupuncture") -> None:
    """A clinic database with Ana's account and a clinic name."""
    database = open_database(sqlite_url(path)).database
    database.actor = sign_in_test_user(database)
    with database.write() as session:
        save_settings(session, replace(load_settings(session), clinic_name=name))
    database.dispose()


def _close_main_window_when_shown(seen: list[str]) -> None:
    def poll() -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow) and widget.isVisible():
                seen.append(widget.signed_in_label.text())
                widget.close()  # the last window: the app's event loop ends
                return
        QTimer.singleShot(20, poll)

    QTimer.singleShot(0, poll)


def _sign_in(qtbot, dialog: LoginDialog) -> None:  # type: ignore[no-untyped-def]
    _type(qtbot, dialog.username, "ana")
    _type(qtbot, dialog.password, TEST_PASSWORD)
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)


def test_the_second_start_shows_sign_in_before_the_database_is_open(
    qtbot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """The first start opens the database, then asks; after a sign-in the clinic is
    remembered. The next start shows the sign-in window, with the clinic's name, while the
    database is still opening; a quick click waits, saying why, and then signs in."""
    path = tmp_path / "clinic.sqlite3"
    _clinic(path)
    url = sqlite_url(path)
    assert remembered_clinic(QSettings(), url) is None
    seen: list[str] = []
    when_modal(lambda dialog: (_sign_in(qtbot, dialog), _close_main_window_when_shown(seen)))
    assert run_app(DatabaseChoice(url, "--db")) == 0
    assert seen == ["Signed in as Ana Ruiz (Clinic admin, Practitioner)"]
    assert remembered_clinic(QSettings(), url) == "Riverside Acupuncture"

    gate = threading.Event()
    real_open = migrate_module.open_database

    def slow_open(*args: Any, **kwargs: Any) -> Any:
        assert gate.wait(30)
        return real_open(*args, **kwargs)

    monkeypatch.setattr(migrate_module, "open_database", slow_open)
    at_show: list[tuple[str, bool]] = []
    while_waiting: list[tuple[str, bool]] = []
    calm: list[bool] = []  # a wait is not shown in the red of an error

    def second(dialog: LoginDialog) -> None:
        at_show.append((dialog.clinic.text(), dialog.clinic.isVisible()))
        _type(qtbot, dialog.username, "ana")
        _type(qtbot, dialog.password, TEST_PASSWORD)

        def look_then_open() -> None:
            while_waiting.append((dialog.message.text(), dialog.sign_in_button.isEnabled()))
            calm.append(MESSAGE_STYLE not in dialog.message.styleSheet())
            gate.set()

        QTimer.singleShot(100, look_then_open)
        _close_main_window_when_shown(seen)
        qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)

    when_modal(second)
    assert run_app(DatabaseChoice(url, "--db")) == 0
    assert at_show == [("Riverside Acupuncture", True)]
    assert while_waiting == [("Opening the database\u2026", False)]
    assert calm == [True]
    assert seen[-1] == "Signed in as Ana Ruiz (Clinic admin, Practitioner)"
    with sqlite3.connect(path) as conn:
        logins = conn.execute(
            "SELECT count(*) FROM audit_event WHERE action = 'login' AND outcome = 'ok'"
        ).fetchone()[0]
    conn.close()
    assert logins == 2


def test_a_remembered_database_now_without_accounts_asks_for_its_first_admin(
    qtbot,
    tmp_path: Path,
    when_modal,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The file was replaced by a new, empty one: the sign-in window gives way to the
    first-admin window."""
    path = tmp_path / "clinic.sqlite3"
    open_database(sqlite_url(path)).database.dispose()
    url = sqlite_url(path)
    app_module.remember_clinic(QSettings(), url, "Riverside Acupuncture")
    shown: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes)
    )

    def record(dialog: Any) -> None:
        if not shown or shown[-1] != type(dialog).__name__:
            shown.append(type(dialog).__name__)
        if isinstance(dialog, LoginDialog):
            QTimer.singleShot(20, lambda: when_modal(record))  # until the next one opens
        else:
            dialog.reject()

    when_modal(record)
    assert run_app(DatabaseChoice(url, "--db")) == 0
    assert shown in (["LoginDialog", "FirstAdminDialog"], ["FirstAdminDialog"])
    assert shown[-1] == FirstAdminDialog.__name__


def test_a_remembered_database_that_cannot_be_opened_is_explained(
    qtbot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The file became something else: the sign-in window closes, the reason is shown,
    Charting exits with 1, and the file is left as it was."""
    path = tmp_path / "clinic.sqlite3"
    path.write_text("not a database\n")
    url = sqlite_url(path)
    app_module.remember_clinic(QSettings(), url, "Riverside Acupuncture")
    told: list[str] = []
    monkeypatch.setattr(
        app_module.QMessageBox, "critical", lambda _parent, _title, text: told.append(text)
    )
    # The window closes by itself; this only ends the test should it not.
    closer = QTimer()
    closer.setSingleShot(True)
    closer.timeout.connect(lambda: QApplication.activeModalWidget().reject())  # type: ignore[union-attr]
    closer.start(10_000)
    assert run_app(DatabaseChoice(url, "--db")) == 1
    assert closer.isActive()
    closer.stop()
    assert len(told) == 1 and "not an SQLite database" in told[0] and str(path) in told[0]
    assert path.read_text() == "not a database\n"


def test_the_sign_in_window_needs_no_database_layer() -> None:
    """The modules that put the sign-in window up load no SQLAlchemy (about 270 ms of
    start-up); it loads behind the window."""
    import subprocess
    import sys

    probe = (
        "import sys, charting.cli, charting.ui.app, charting.ui.login_dialog; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'argon2', "
        "'reportlab') or m.startswith('charting.models') or m.startswith('charting.services')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
