"""Before signing: needles in and out disagree. Say what happened to the missing needle."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from charting.services import clinical_lists as lists
from charting.services.visit_record import NeedleCount
from charting.ui.forms import FieldForm, text_box


@dataclass(frozen=True)
class NeedleResolutionInput:
    """What the form collects: an outcome of :data:`visit_record.NEEDLE_OUTCOMES`."""

    outcome: str
    note: str
    patient_told: str
    severity: str


class NeedleCountDialog(QDialog):
    """A missing needle is a safety event: found and removed, or an adverse event with what
    the patient was told. The visit is signed only once one of them is recorded."""

    def __init__(self, count: NeedleCount, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("needleCountDialog")
        self.setWindowTitle("Needles not accounted for")
        self._result: NeedleResolutionInput | None = None
        problem = QLabel(count.problem)
        problem.setObjectName("needleProblem")
        problem.setTextFormat(Qt.TextFormat.PlainText)
        problem.setWordWrap(True)
        problem.setStyleSheet("color: #8c1d18; font-weight: 600;")
        self.found = QRadioButton("&Found and removed")
        self.found.setObjectName("needleFound")
        self.adverse = QRadioButton("&Not found: record an adverse event (forgotten needle)")
        self.adverse.setObjectName("needleAdverse")
        group = QButtonGroup(self)
        group.addButton(self.found)
        group.addButton(self.adverse)
        self.found.setChecked(True)
        self.note: QPlainTextEdit = text_box("Where it was found, or what was done", 2)
        self.note.setObjectName("needleNote")
        self.severity = QComboBox()
        self.severity.setObjectName("needleSeverity")
        for choice in lists.ADVERSE_SEVERITIES:
            self.severity.addItem(choice.label, choice.id)
        self.told: QPlainTextEdit = text_box("What the patient was told, and the advice given", 2)
        self.told.setObjectName("needleTold")
        self.form = FieldForm()
        self.form.add("note", "&What happened", self.note)
        self.form.add("severity", "S&everity", self.severity)
        self.form.add("patient_told", "Patient &told", self.told)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Record and sign")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Count again")
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(problem)
        layout.addWidget(self.found)
        layout.addWidget(self.adverse)
        layout.addLayout(self.form)
        layout.addWidget(buttons)
        self.adverse.toggled.connect(self._on_adverse_toggled)
        self._on_adverse_toggled(False)
        self.setMinimumWidth(480)

    @classmethod
    def ask(cls, parent: QWidget | None, count: NeedleCount) -> NeedleResolutionInput | None:
        """Show the form; return the resolution, or None to go back and count again."""
        dialog = cls(count, parent)
        dialog.exec()
        return dialog._result

    @Slot(bool)
    def _on_adverse_toggled(self, adverse: bool) -> None:
        for name in ("severity", "patient_told"):
            self.form.set_row_visible(name, adverse)

    @Slot()
    def _on_buttons_accepted(self) -> None:
        adverse = self.adverse.isChecked()
        note = self.note.toPlainText().strip()
        told = self.told.toPlainText().strip()
        errors = {}
        if len(note) < 3:
            errors["note"] = "Say where it was found, or what was done."
        if adverse and len(told) < 3:
            errors["patient_told"] = "Write what the patient was told."
        self.form.show_errors(errors)
        if not errors:
            self._result = NeedleResolutionInput(
                "adverse_event" if adverse else "found_removed",
                note,
                told if adverse else "",
                self.severity.currentData(),
            )
            self.accept()
