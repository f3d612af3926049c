"""What a person typed is shown as text, never as markup, on every screen."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from charting.bodymap import load_bodymap
from charting.models.db import Database
from charting.services.marks import MarkDetails, add_marks, update_details
from charting.services.patients import update_patient
from charting.services.visit_record import update_fields
from charting.services.visits import start_visit
from charting.ui.app_rules import plain_tooltip
from charting.ui.main_window import MainWindow
from tests.factories import patient_input, point_spec

MARKUP = "<font size=40>Big</font><b>Bold</b>"


def _shown_labels(root: QWidget) -> list[QLabel]:
    return [label for label in root.findChildren(QLabel) if label.isVisibleTo(root)]


def _renders_markup(label: QLabel) -> bool:
    """Whether the label would draw our markup as formatting (rather than as the characters)."""
    text = label.text()
    if "<font size=40>" not in text and "<b>Bold</b>" not in text:
        return False
    fmt = label.textFormat()
    if fmt == Qt.TextFormat.PlainText:
        return False
    if fmt == Qt.TextFormat.RichText:
        return True  # rich text must carry the escaped form, never the raw tags
    return bool(GuiQt.mightBeRichText(text))  # what Qt's AutoText would decide


def _check(root: QWidget) -> list[str]:
    QApplication.processEvents()
    return [
        label.objectName() or label.text()[:40]
        for label in _shown_labels(root)
        if _renders_markup(label)
    ]


def test_markup_typed_anywhere_is_shown_as_typed(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, database: Database, make_patient, practitioner_id: int
) -> None:
    """A patient whose every text field holds markup, with a visit whose complaint, notes
    and mark note hold it too: no label on the patient list, chart, visit screen or course
    view renders it as formatting, and the mark's tooltip shows the characters."""
    pid = make_patient(
        family_name=f"Lee{MARKUP}",
        given_name=f"Ann{MARKUP}",
        preferred_name=MARKUP,
        address=MARKUP,
        emergency_contact=MARKUP,
        medical_history=MARKUP,
        medications=MARKUP,
    )
    with database.write() as session:
        update_patient(
            session,
            pid,
            patient_input(
                family_name=f"Lee{MARKUP}",
                given_name=f"Ann{MARKUP}",
                preferred_name=MARKUP,
                medical_history=MARKUP,
                medications=MARKUP,
                plan_frequency=MARKUP,
            ),
        )
        vid, _ = start_visit(session, pid, practitioner_id, chief_complaint=MARKUP)
        update_fields(session, vid, {"notes": MARKUP, "palpation": MARKUP})
        (mark,), _ = add_marks(session, load_bodymap(), vid, [point_spec("BL23", "L")])
        update_details(session, mark, MarkDetails("manual", note=MARKUP))
    window.search.setText("lee")
    qtbot.waitUntil(lambda: window.patient_model.rowCount() == 1)
    window.patient_list.selectRow(0)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.patient_panel)
    assert _check(window) == []
    window.open_visit(vid)
    qtbot.waitUntil(lambda: window.visit_chart.isVisible())
    assert _check(window) == []
    page = window.visit_chart
    page.map.select_marks([mark])
    assert _check(window) == []
    assert "&lt;b&gt;Bold&lt;/b&gt;" in plain_tooltip(MARKUP)
