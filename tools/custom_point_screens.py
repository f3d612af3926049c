"""Screenshots of the clinic's custom points: the list, the editor with its small map, and a
visit map with a custom point charted, at 1024x768, 1280x800 and 1920x1080.

Called from ``tools/screenshots.py``; alone: ``QT_QPA_PLATFORM=offscreen .venv/bin/python
tools/custom_point_screens.py [OUT_DIR]`` (on a fresh demo database).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from charting.bodymap import load_bodymap
from charting.models import Patient, Practitioner
from charting.models.db import Database
from charting.services import custom_points as cp
from charting.services.marks import MarkSpec, add_marks
from charting.services.visits import start_visit
from charting.ui.custom_points_dialog import CustomPointEditor, CustomPointsDialog
from charting.ui.main_window import MainWindow
from charting.ui.ops import OpRunner

SIZES = ((1024, 768), (1280, 800), (1920, 1080))


def _near(code: str, side: str, dx: float, dy: float) -> tuple[float, float]:
    pos = load_bodymap().position(code, side, "posterior")  # type: ignore[arg-type]
    assert pos is not None
    return pos[0] + dx, pos[1] + dy


def add_sample_points(db: Database) -> None:
    """Two custom points a back-pain clinic might keep (one used, one not yet)."""
    points = (
        cp.CustomPointInput(
            "C-PIRI",
            "Piriformis release point",
            "posterior",
            *_near("GB30", "L", 22, -14),
            location="Midway between GB30 and the sacral border, on the piriformis line",
            cautions="Sciatic nerve lies deep here: stop if a shooting pain goes down the leg.",
            safe_depth_mm=50.0,
        ),
        cp.CustomPointInput(
            "C-CALF",
            "Calf knot point",
            "posterior",
            *_near("BL57", "L", -12, 8),
            location="A finger lateral to BL57, at the thickest part of the calf",
        ),
    )
    with db.write() as session:
        have = {row.code for row in cp.list_custom_points(session)}
        for entry in points:
            if entry.code not in have:  # the demo clinic has C-PIRI already
                cp.add_custom_point(session, entry)


def custom_point_screens(app: QApplication, db: Database, settings: QSettings, out: Path) -> None:
    """The dialogs and a charted visit with a custom point, at the three sizes."""
    add_sample_points(db)
    ops = OpRunner(db)
    with db.write() as session:
        bodymap = cp.clinic_bodymap(session)
        prac = session.scalar(select(Practitioner.id).limit(1))
        pid = session.scalar(select(Patient.id).limit(1))
        assert prac is not None and pid is not None
        vid, _ = start_visit(session, pid, prac, chief_complaint="Buttock pain into the calf")
        specs = []
        for code, side in (("C-PIRI", "L"), ("GB30", "L"), ("BL25", "L"), ("BL40", "L")):
            pos = bodymap.position(code, side, "posterior")  # type: ignore[arg-type]
            assert pos is not None
            specs.append(MarkSpec("acupoint", "posterior", *pos, side, point_code=code))
        add_marks(session, bodymap, vid, specs)
    for width, height in SIZES:
        listing = CustomPointsDialog(ops)
        listing.resize(min(900, width - 120), min(460, height - 200))
        listing.show()
        listing.table.selectRow(1)
        app.processEvents()
        listing.grab().save(str(out / f"custom-points-{width}x{height}.png"))
        rows = listing.model.rows
        listing.close()
        editor = CustomPointEditor(ops, rows[0])
        editor.resize(min(980, width - 60), min(640, height - 120))
        editor.show()
        app.processEvents()
        editor.grab().save(str(out / f"custom-point-editor-{width}x{height}.png"))
        editor.close()
        window = MainWindow(db, settings)
        window.resize(width, height)
        window.show()
        window.select_patient(pid)
        window.open_visit(vid)
        chart = window.visit_chart
        assert chart is not None
        chart.map_panel.zoom_to("low_back")
        chart.map.select_marks([chart._rows[0].id])
        app.processEvents()
        window.grab().save(str(out / f"visit-custom-point-{width}x{height}.png"))
        window.close()


def main() -> int:
    """Take the custom-point screenshots on a fresh demo database."""
    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root))
    from charting.config import sqlite_url
    from charting.models.migrate import open_database
    from charting.services.demo import create_demo_clinic
    from charting.ui.app import make_application
    from tools.screenshots import _sign_in_first_admin

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else root / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    app = make_application()
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat)
        db = open_database(sqlite_url(Path(tmp) / "demo.sqlite3")).database
        _sign_in_first_admin(db)
        with db.write() as session:
            create_demo_clinic(session, 40)
        custom_point_screens(app, db, settings, out)
        db.dispose()
    print(f"Custom point screenshots written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
