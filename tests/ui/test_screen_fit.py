"""Windows open within the screen they open on: the tests' offscreen screen is 800x800, smaller
than a 1024x768 laptop's width, so a window sized for a desktop monitor shows it here."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QWidget

from charting.models.db import Database
from charting.ui.audit_viewer import AuditViewer
from charting.ui.forms import resize_within_screen
from charting.ui.import_dialog import ImportDialog
from charting.ui.main_window import MainWindow


def _fits(widget: QWidget) -> bool:
    area = widget.screen().availableGeometry()
    return widget.width() <= area.width() and widget.height() <= area.height()


def test_wide_dialogs_open_within_the_screen(qtbot, database: Database, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """The import dialog (1,100 wide on a desktop) and the audit log (1,180) fit, Import and
    Close buttons included."""
    importer = ImportDialog(window.ops, window)
    viewer = AuditViewer(database, window)
    for dialog in (importer, viewer):
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        assert _fits(dialog), type(dialog).__name__
    button = importer.import_button
    assert button.mapTo(importer, button.rect().bottomRight()).x() < importer.width()


def test_the_main_window_first_opens_within_the_screen(window: MainWindow) -> None:
    """With no size remembered, the window asks for 1280x800 and gets what the screen has."""
    assert _fits(window)


def test_a_window_smaller_than_the_screen_gets_its_size(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = QDialog()
    qtbot.addWidget(dialog)
    resize_within_screen(dialog, 500, 400)
    assert (dialog.width(), dialog.height()) == (500, 400)
