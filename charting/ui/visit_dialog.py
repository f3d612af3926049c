"""Starting a visit: who treats, when, and the chief complaint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QDateTime, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QVBoxLayout,
    QWidget,
)

from charting.services.validation import check_text
from charting.ui.forms import FieldForm, line


@dataclass(frozen=True)
class NewVisit:
    """What the new-visit form collects."""

    practitioner_id: int
    started_at: datetime
    chief_complaint: str


class NewVisitDialog(QDialog):
    """Ask who is treating, when, and why; defaults make Enter enough."""

    def __init__(
        self,
        practitioners: list[tuple[int, str]],
        last_complaint: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("newVisitDialog")
        self.setWindowTitle("New visit")
        self._result: NewVisit | None = None
        self.practitioner = QComboBox()
        for pid, name in practitioners:
            self.practitioner.addItem(name, pid)
        self.started_at = QDateTimeEdit(QDateTime.currentDateTime())
        self.started_at.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.started_at.setCalendarPopup(True)
        self.chief_complaint = line("e.g. Low back pain radiating to the left leg", 2000)
        self.chief_complaint.setText(last_complaint)
        self.form = FieldForm()
        self.form.add("practitioner", "&Practitioner", self.practitioner)
        self.form.add("started_at", "&Start", self.started_at)
        self.form.add("chief_complaint", "&Chief complaint", self.chief_complaint)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start visit")
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)
        self.chief_complaint.setFocus()
        self.chief_complaint.selectAll()

    @classmethod
    def ask(
        cls, parent: QWidget | None, practitioners: list[tuple[int, str]], last_complaint: str = ""
    ) -> NewVisit | None:
        """Show the form; return the new visit's details, or None if cancelled."""
        dialog = cls(practitioners, last_complaint, parent)
        dialog.exec()
        return dialog._result

    @Slot()
    def _on_buttons_accepted(self) -> None:
        complaint = self.chief_complaint.text()
        problem = check_text(complaint, "Chief complaint", 2000)
        self.form.show_errors({"chief_complaint": problem} if problem else {})
        if problem:
            return
        when = self.started_at.dateTime().toPython()
        assert isinstance(when, datetime)
        self._result = NewVisit(
            practitioner_id=int(self.practitioner.currentData()),
            started_at=when.astimezone(),
            chief_complaint=complaint,
        )
        self.accept()
