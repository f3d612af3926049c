"""The mouse wheel changes a value only in the field being edited; otherwise it scrolls."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QComboBox, QScrollArea, QSpinBox, QVBoxLayout, QWidget

from charting.models.db import Database
from charting.services.visit_record import record
from charting.services.visits import start_visit
from charting.ui.ops import OpRunner
from charting.ui.visit_form import SAVE_DELAY_MS, VisitForm


def _wheel(widget: QWidget, steps: int = -1) -> None:
    """One notch of a real wheel over the middle of ``widget`` (down when negative)."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(
        centre,
        QPointF(widget.mapToGlobal(centre.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def _form_with(qtbot, *fields: QWidget) -> QScrollArea:  # type: ignore[no-untyped-def]
    area = QScrollArea()
    body = QWidget()
    layout = QVBoxLayout(body)
    layout.addSpacing(600)
    for field in fields:
        layout.addWidget(field)
    layout.addSpacing(1200)
    area.setWidget(body)
    area.resize(300, 400)
    qtbot.addWidget(area)
    area.show()
    qtbot.waitExposed(area)
    area.ensureWidgetVisible(fields[0])
    return area


def test_wheel_over_an_unfocused_spin_box_scrolls_instead(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Pain 7 stays 7 when the wheel passes over it, and the form scrolls."""
    spin = QSpinBox()
    spin.setRange(0, 10)
    spin.setValue(7)
    combo = QComboBox()
    combo.addItems(["manual", "electro", "cupping"])
    area = _form_with(qtbot, spin, combo)
    before = area.verticalScrollBar().value()
    _wheel(spin)
    _wheel(combo)
    assert spin.value() == 7 and combo.currentIndex() == 0
    assert area.verticalScrollBar().value() > before


def test_wheel_in_the_focused_field_changes_it(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Once the person is in the field (clicked or tabbed into it), the wheel steps it."""
    spin = QSpinBox()
    spin.setRange(0, 10)
    spin.setValue(7)
    area = _form_with(qtbot, spin)
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus)
    _wheel(spin, -1)
    assert spin.value() == 6
    assert area.isVisible()


def test_wheel_over_the_visit_forms_pain_score_stores_nothing(  # type: ignore[no-untyped-def]
    qtbot, database: Database, make_patient, practitioner_id: int
) -> None:
    """Scrolling the visit form over a recorded pain score neither changes nor saves it."""
    with database.write() as session:
        vid, _ = start_visit(session, make_patient(), practitioner_id)
    form = VisitForm(OpRunner(database))
    qtbot.addWidget(form)
    form.resize(320, 500)
    form.show()
    form.load(vid)
    form.set_value("pain_now", 7)
    pain = form.findChild(QSpinBox, "pain_now")
    form.focus_field("pain_now")
    form.setFocus()
    for _ in range(3):
        _wheel(pain)
    qtbot.wait(SAVE_DELAY_MS + 200)
    assert pain.value() == 7
    with database.read() as session:
        assert record(session, vid)["pain_now"] == 7
