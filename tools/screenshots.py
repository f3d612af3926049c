"""Take the README's screenshots of the real app, offscreen, on a fresh demo database.

Usage: ``QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshots.py [OUT_DIR]``
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings

from charting.config import sqlite_url
from charting.models.migrate import open_database
from charting.services.demo import create_demo_clinic
from charting.ui.app import make_application
from charting.ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    """Write PNG screenshots of the main screens into docs/screenshots (or OUT_DIR)."""
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    app = make_application()
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat)
        empty = open_database(sqlite_url(Path(tmp) / "empty.sqlite3")).database
        window = MainWindow(empty, settings)
        window.resize(1280, 800)
        window.show()
        app.processEvents()
        window.grab().save(str(out / "welcome.png"))
        window.close()
        empty.dispose()

        db = open_database(sqlite_url(Path(tmp) / "demo.sqlite3")).database
        with db.write() as session:
            create_demo_clinic(session, 400)
        for size in ((1280, 800), (1920, 1080)):
            window = MainWindow(db, settings)
            window.resize(*size)
            window.show()
            window.search.setText("ko")
            window._on_search_timer_timeout()
            flagged = next(
                (
                    window.patient_model.patient_id(r)
                    for r in range(window.patient_model.rowCount())
                    if window.patient_model.index(r, 4).data()
                ),
                window.patient_model.patient_id(0),
            )
            window.select_patient(flagged)
            app.processEvents()
            window.grab().save(str(out / f"main-window-{size[0]}x{size[1]}.png"))
            window.close()
        db.dispose()
    print(f"Screenshots written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
