"""The self-check's Qt part: open the main window offscreen on a charted visit."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

from charting.models.db import Database
from charting.ui.app import make_application
from charting.ui.main_window import MainWindow


def open_main_window(database: Database, visit_id: int, folder: Path) -> str:
    """Open the window and the visit's body map; return what was seen.

    Raises:
        RuntimeError: the body map does not show the visit's marks.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = make_application()
    settings = QSettings(str(folder / "self-check.ini"), QSettings.Format.IniFormat)
    window = MainWindow(database, settings)
    window.show()
    window.open_visit(visit_id)
    app.processEvents()
    marks = window.visit_chart.map.mark_item_count() if window.visit_chart else 0
    window.close()
    if marks != 3:
        raise RuntimeError(f"the body map shows {marks} marks instead of 3")
    return f"Qt platform {app.platformName()}, {marks} marks drawn"
