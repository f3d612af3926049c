"""The practitioner profile form."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QVBoxLayout, QWidget

from charting.services.practitioners import STYLES, PractitionerInput, validate_practitioner
from charting.ui.forms import FieldForm, line


class PractitionerDialog(QDialog):
    """Create or edit a practitioner profile."""

    def __init__(
        self, initial: PractitionerInput | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("practitionerDialog")
        self.setWindowTitle("Practitioner profile")
        self._result: PractitionerInput | None = None
        self.name = line("e.g. Ana Ruiz", 200)
        self.credentials = line("e.g. L.Ac., Dipl. Ac. (NCCAOM)", 100)
        self.licence_number = line("State or national licence number", 60)
        self.npi = line("US National Provider Identifier, 10 digits (optional)", 10)
        self.style_box = QComboBox()
        self.style_box.setEditable(True)
        self.style_box.addItems(STYLES)
        self.style_box.setCurrentIndex(0)
        self.form = FieldForm()
        self.form.add("name", "&Name *", self.name)
        self.form.add("credentials", "&Credentials", self.credentials)
        self.form.add("licence_number", "&Licence number", self.licence_number)
        self.form.add("npi", "N&PI", self.npi)
        self.form.add("style", "Acupuncture &style", self.style_box)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(buttons)
        if initial:
            self.name.setText(initial.name)
            self.credentials.setText(initial.credentials)
            self.licence_number.setText(initial.licence_number)
            self.npi.setText(initial.npi)
            self.style_box.setCurrentText(initial.style)
        self.setMinimumWidth(460)

    @classmethod
    def ask(
        cls, parent: QWidget | None, initial: PractitionerInput | None = None
    ) -> PractitionerInput | None:
        """Show the form; return the valid input, or None if cancelled."""
        dialog = cls(initial, parent)
        dialog.exec()
        return dialog._result

    def collect(self) -> PractitionerInput:
        """The form's current values."""
        return PractitionerInput(
            self.name.text(),
            self.credentials.text(),
            self.licence_number.text(),
            self.style_box.currentText(),
            self.npi.text(),
        )

    @Slot()
    def _on_buttons_accepted(self) -> None:
        data = self.collect()
        errors = validate_practitioner(data)
        self.form.show_errors(errors)
        if not errors:
            self._result = data
            self.accept()
