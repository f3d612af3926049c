"""Amending a signed visit: the correction and its reason, beside the untouched original."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from charting.services.visit_record import FIELDS
from charting.ui.forms import FieldForm, text_box


@dataclass(frozen=True)
class AmendmentInput:
    """What the amendment form collects."""

    field: str
    corrected: str
    reason: str


class AmendDialog(QDialog):
    """Choose the part of the record, write the correction and why; nothing else changes."""

    def __init__(self, record: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("amendDialog")
        self.setWindowTitle("Amend signed visit")
        self._record = record
        self._result: AmendmentInput | None = None
        self.field = QComboBox()
        for name, spec in FIELDS.items():
            self.field.addItem(spec.label, name)
        self.original = QLabel()
        self.original.setObjectName("amendOriginal")
        self.original.setWordWrap(True)
        self.original.setStyleSheet("color: #555;")
        self.corrected: QPlainTextEdit = text_box("The corrected entry", 3)
        self.reason: QPlainTextEdit = text_box("Why the record is being corrected", 2)
        self.form = FieldForm()
        self.form.add("field", "&Part of the record", self.field)
        self.form.addRow("As signed", self.original)
        self.form.add("corrected", "&Correction", self.corrected)
        self.form.add("reason", "&Reason", self.reason)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Add amendment")
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel("The signed visit stays as it was; the amendment is shown beside it.")
        )
        layout.addLayout(self.form)
        layout.addWidget(buttons)
        self.field.currentIndexChanged.connect(self._on_field_current_index_changed)
        self._on_field_current_index_changed()
        self.setMinimumWidth(520)

    @classmethod
    def ask(cls, parent: QWidget | None, record: dict[str, Any]) -> AmendmentInput | None:
        """Show the form; return the amendment, or None if cancelled."""
        dialog = cls(record, parent)
        dialog.exec()
        return dialog._result

    @Slot()
    def _on_field_current_index_changed(self) -> None:
        value = self._record.get(self.field.currentData())
        self.original.setText(str(value) if value not in (None, "", []) else "(empty)")

    @Slot()
    def _on_buttons_accepted(self) -> None:
        errors = {}
        if not self.corrected.toPlainText().strip():
            errors["corrected"] = "Write the correction."
        if len(self.reason.toPlainText().strip()) < 5:
            errors["reason"] = "Give the reason for the amendment."
        self.form.show_errors(errors)
        if not errors:
            self._result = AmendmentInput(
                self.field.currentData(),
                self.corrected.toPlainText().strip(),
                self.reason.toPlainText().strip(),
            )
            self.accept()
