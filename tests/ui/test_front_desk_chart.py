"""On screen, signed in as front desk: the chart shows contacts and no clinical data."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox

from charting.models import Role
from charting.models.db import Database
from charting.services.visits import start_visit
from charting.ui.main_window import MainWindow
from tests.factories import add_account


def test_front_desk_sees_the_chart_without_clinical_data_and_no_error(
    qtbot, database: Database, settings, when_modal, make_patient, practitioner_id, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Signed in as front desk: contacts shown; flags, medications, complaints hidden; the
    edit form has no health part and saving it keeps the stored health details."""
    from PySide6.QtWidgets import QDialogButtonBox

    from charting.services.patients import get_patient
    from charting.ui.patient_dialog import PatientDialog

    pid = make_patient(medications="Warfarin", anticoagulant=True, phone="+1 555 0101")
    with database.write() as session:
        start_visit(session, pid, practitioner_id, chief_complaint="Sciatica after a fall")
    desk = database.acting_as(add_account(database, "bob", Role.FRONT_DESK))
    errors: list[object] = []
    for kind in ("warning", "critical"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(lambda *a: errors.append(a)))
    win = MainWindow(desk, settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.patient_model.refresh()
    win.select_patient(pid)
    panel = win.patient_panel
    assert not panel.flags.isVisible()
    assert not panel.findChild(QLabel, "detail_medications").isVisible()
    assert panel.findChild(QLabel, "detail_phone").text() == "+1 555 0101"
    model = panel.visit_model
    cells = [model.index(0, c).data() for c in range(model.columnCount())]
    assert "Sciatica after a fall" not in cells

    def save(dialog: PatientDialog) -> None:
        assert not dialog.health_box.isVisible()
        dialog.phone.clear()
        qtbot.keyClicks(dialog.phone, "+1 555 0199")
        box = dialog.findChild(QDialogButtonBox, "buttons")
        qtbot.mouseClick(
            box.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton
        )

    when_modal(save)
    win.edit_patient()
    assert errors == []
    with database.read() as session:
        stored = get_patient(session, pid)
        assert (stored.phone, stored.medications, stored.anticoagulant) == (
            "+1 555 0199",
            "Warfarin",
            True,
        )
