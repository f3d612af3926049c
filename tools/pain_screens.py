"""Screenshots of pain drawings: the visit page's drawing (F6) at 1024x768, 1280x800 and
1920x1080, patient mode, and the course view's pain box (called by tools/screenshots.py, or
alone: ``QT_QPA_PLATFORM=offscreen .venv/bin/python tools/pain_screens.py [OUT_DIR]``)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from charting.config import sqlite_url
from charting.models import PainSummary, Visit
from charting.models.migrate import open_database
from charting.services.demo import prepare_demo
from charting.ui.app import make_application
from charting.ui.course_view import CourseDialog
from charting.ui.main_window import MainWindow

SIZES = ((1024, 768), (1280, 800), (1920, 1080))


def pain_screens(app: QApplication, out: Path, tmp: Path) -> None:
    """Write visit-pain-*, visit-map-with-pain, pain-patient-mode and course-view-pain PNGs
    into ``out``."""
    db = open_database(sqlite_url(tmp / "pain-demo.sqlite3")).database
    with db.write() as session:
        db.actor = prepare_demo(session, patients=60)
    with db.read() as session:
        # A draft of the signed-in practitioner's with a large drawing and an earlier one to
        # compare (the dashed outlines).
        rows = session.execute(
            select(Visit.id, Visit.patient_id, Visit.status, Visit.number, PainSummary.measures)
            .join(PainSummary, PainSummary.visit_id == Visit.id)
            .where(Visit.number > 1, Visit.practitioner_id == db.actor.practitioner_id)
        ).all()
        best = max(rows, key=lambda r: (r.status == "draft", r.measures.get("extent_percent", 0.0)))
        patient_id, visit_id = best.patient_id, best.id
    settings = QSettings(str(tmp / "pain.ini"), QSettings.Format.IniFormat)
    for width, height in SIZES:
        window = MainWindow(db, settings)
        window.resize(width, height)
        window.show()
        window.select_patient(patient_id)
        if (width, height) == (1280, 800):
            course = CourseDialog(window.ops, patient_id, window.patient_panel.title.text(), window)
            course.resize(1100, 760)
            course.show()
            app.processEvents()
            course.grab().save(str(out / "course-view-pain.png"))
            course.close()
        window.open_visit(visit_id)
        chart = window.visit_chart
        assert chart is not None
        chart.pain_button.setChecked(True)
        chart.pain.show_previous.setChecked(True)
        app.processEvents()
        window.grab().save(str(out / f"visit-pain-{width}x{height}.png"))
        if (width, height) == (1280, 800):
            _patient_mode(app, chart, out)
            # Back on the points, with the drawing laid under them (dimmed).
            chart.pain_button.setChecked(False)
            chart.map_panel.pain_shown.setChecked(True)
            app.processEvents()
            window.grab().save(str(out / "visit-map-with-pain-1280x800.png"))
        window.close()
    db.dispose()


def _patient_mode(app: QApplication, chart: object, out: Path) -> None:
    from charting.ui.pain.patient_mode import PatientModeWindow

    page = chart
    window = PatientModeWindow(
        page.ops,  # type: ignore[attr-defined]
        page.bodymap,  # type: ignore[attr-defined]
        page.undo_stack,  # type: ignore[attr-defined]
        page.visit_id,  # type: ignore[attr-defined]
        page,  # type: ignore[arg-type]
    )
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    window.grab().save(str(out / "pain-patient-mode.png"))
    # Leaving patient mode asks for the practitioner's password; the screenshot only looks.
    window._may_close = True
    window.close()
    window.deleteLater()


def main() -> int:
    """Write the pain-drawing screenshots into docs/screenshots (or OUT_DIR)."""
    root = Path(__file__).resolve().parents[1]
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else root / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    app = make_application()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("CHARTING_DATA_DIR", tmp)
        pain_screens(app, out, Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
