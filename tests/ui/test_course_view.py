"""The course view: pain trend, change from baseline, the plan and the points used."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from charting.bodymap import load_bodymap
from charting.models.db import Database
from charting.services.marks import MarkSpec, add_marks
from charting.services.outcomes import plan
from charting.services.visit_record import update_fields
from charting.services.visits import start_visit
from charting.ui.course_view import CourseDialog
from charting.ui.main_window import MainWindow
from charting.ui.ops import OpRunner

BM = load_bodymap()


def _course(database: Database, patient_id: int, practitioner_id: int) -> None:
    x, y = BM.position("BL23", "L", "posterior")  # type: ignore[misc]
    with database.write() as session:
        for before, after, odi in ((8, 5, 44), (6, 4, 38), (4, 2, 30)):
            vid, _ = start_visit(session, patient_id, practitioner_id)
            update_fields(
                session, vid, {"pain_now": before, "pain_after": after, "odi_percent": odi}
            )
            add_marks(session, BM, vid, [MarkSpec("acupoint", "posterior", x, y, "L", "BL23")])


def test_course_shows_trend_outcomes_and_points(
    qtbot,
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """Pain 8→4 is shown as a meaningful improvement; ODI 44→30 too; BL23 used in 3 visits."""
    pid = make_patient()
    _course(database, pid, practitioner_id)
    dialog = CourseDialog(OpRunner(database), pid, "Lindqvist, Maja")
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.chart.series() == {
        "before": [(1, 8), (2, 6), (3, 4)],
        "after": [(1, 5), (2, 4), (3, 2)],
    }
    table = dialog.outcome_table.text()
    assert "Pain (NRS 0-10)" in table and "-50%" in table and "meaningful improvement" in table
    assert "ODI (%)" in table and "-14" in table
    assert "BL23" in dialog.usage.text() and " 3</td>" in dialog.usage.text()
    assert dialog.plan_text.text() == "3 sessions so far; no plan recorded"
    dialog.plan_sessions.setValue(10)
    dialog.plan_frequency.setText("2 per week")
    qtbot.mouseClick(dialog.findChild(QPushButton, "savePlan"), Qt.MouseButton.LeftButton)
    assert dialog.plan_text.text() == "3 of 10 planned sessions (2 per week)"
    with database.read() as session:
        assert plan(session, pid).sessions == 10


def test_course_button_opens_the_course_view(
    qtbot,
    window: MainWindow,
    make_patient,
    practitioner_id: int,
    database: Database,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """The patient's Course… button opens the course view for that patient."""
    pid = make_patient()
    _course(database, pid, practitioner_id)
    window.patient_model.refresh()
    window.select_patient(pid)
    seen: list[str] = []

    def look(dialog: CourseDialog) -> None:
        seen.append(dialog.objectName())
        seen.append(dialog.plan_text.text())
        dialog.reject()

    when_modal(look)
    qtbot.mouseClick(
        window.patient_panel.findChild(QPushButton, "courseButton"), Qt.MouseButton.LeftButton
    )
    assert seen == ["courseView", "3 sessions so far; no plan recorded"]
    assert window.patient_panel.visit_model.index(0, 3).data() == "4 \u2192 2"


def test_course_report_pdf_is_saved_from_the_course_view(
    qtbot,
    database: Database,
    make_patient,
    practitioner_id: int,
    tmp_path,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    """Save course report PDF writes the course report where the user chose."""
    from pypdf import PdfReader
    from PySide6.QtWidgets import QFileDialog

    pid = make_patient()
    _course(database, pid, practitioner_id)
    dialog = CourseDialog(OpRunner(database), pid, "Lindqvist, Maja")
    qtbot.addWidget(dialog)
    target = tmp_path / "course.pdf"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    qtbot.mouseClick(dialog.findChild(QPushButton, "saveCourseReport"), Qt.MouseButton.LeftButton)
    assert "Course report" in PdfReader(target).pages[0].extract_text()
