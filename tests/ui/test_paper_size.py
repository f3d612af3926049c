"""The clinic chooses the paper its documents are printed on."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from charting.services.settings import ClinicSettings
from charting.ui.settings_dialog import ClinicSettingsDialog


def test_letter_paper_is_picked_from_the_keyboard(qtbot) -> None:  # type: ignore[no-untyped-def]
    """The paper-size box shows the stored A4, the Down key picks US Letter, and Save
    returns settings with Letter paper."""
    dialog = ClinicSettingsDialog(ClinicSettings(clinic_name="Cedar Street"))
    qtbot.addWidget(dialog)
    dialog.show()
    paper = dialog.findChild(QComboBox, "paper_size")
    assert paper.currentText().startswith("A4")
    paper.setFocus()
    qtbot.keyClick(paper, Qt.Key.Key_Down)
    assert paper.currentText().startswith("US Letter")
    dialog._on_buttons_accepted()
    assert dialog._result is not None and dialog._result.paper_size == "Letter"
