"""UI fixtures: the real main window on a fresh database, and a way to answer modal dialogs."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from charting.models.db import Database
from charting.ui.app_rules import install_app_rules
from charting.ui.main_window import MainWindow


@pytest.fixture(autouse=True)
def _app_wide_rules(qapp: QApplication) -> None:
    """The application-wide event rules the app installs at start-up (the wheel rule)."""
    install_app_rules(qapp)


@pytest.fixture(autouse=True)
def _free_widgets_on_the_gui_thread(qapp: QApplication) -> Iterator[None]:
    """Free each test's widgets on the GUI thread as it ends.

    A main window and its parts refer to each other, so only Python's cycle collector frees
    them; left to it, a later test's database worker thread could run the collection and
    free Qt widgets off the GUI thread, which crashes the run.
    """
    yield
    qapp.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    qapp.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """Settings in a private ini file, so tests never touch the user's."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, database: Database, settings: QSettings) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    """The main window, shown, on a fresh database."""
    win = MainWindow(database, settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win


ModalHandler = Callable[[QWidget], None]


@pytest.fixture
def when_modal(qtbot):  # type: ignore[no-untyped-def]
    """Schedule ``handler(dialog)`` for the next modal dialog or popup menu that opens.

    Modal dialogs and popup menus run their own event loop, so the test acts on them from
    a timer.
    """
    failures: list[BaseException] = []

    def schedule(handler: ModalHandler, timeout_ms: int = 5000) -> None:
        waited = [0]

        def poll() -> None:
            dialog = QApplication.activePopupWidget() or QApplication.activeModalWidget()
            if dialog is None:
                waited[0] += 20
                if waited[0] < timeout_ms:
                    QTimer.singleShot(20, poll)
                return
            try:
                handler(dialog)
            except BaseException as exc:  # surfaced after the dialog closes
                failures.append(exc)
                dialog.close()

        QTimer.singleShot(0, poll)

    yield schedule
    if failures:
        raise failures[0]
