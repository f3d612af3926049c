"""The patient form: demographics, contact details and the health flags safety checks use."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from charting.models import ImplantedDevice, Sex
from charting.services.patients import (
    DEVICE_LABELS,
    SEX_LABELS,
    PatientInput,
    validate_patient,
)
from charting.services.validation import date_problem, parse_date
from charting.ui.forms import FieldForm, line, text_box, with_calendar

FLAG_BOXES = (
    ("bleeding_disorder", "Bleeding disorder (e.g. haemophilia)"),
    ("anticoagulant", "Takes anticoagulant or antiplatelet medication"),
    ("epilepsy", "Epilepsy / seizures"),
    ("diabetes", "Diabetes"),
    ("metal_allergy", "Metal allergy (e.g. nickel)"),
    ("needle_fainting", "Has fainted with needles before"),
    ("peripheral_neuropathy", "Peripheral neuropathy (numb or tingling feet or legs)"),
)


class PatientDialog(QDialog):
    """Create or edit a patient; OK stays refused until every field is valid."""

    def __init__(self, initial: PatientInput | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("patientDialog")
        self.setWindowTitle("Edit patient" if initial else "New patient")
        self._result: PatientInput | None = None

        self.family_name = line("Family name", 120)
        self.given_name = line("Given name", 120)
        self.preferred_name = line("Optional", 120)
        self.date_of_birth = line("YYYY-MM-DD", 10)
        self.sex = QComboBox()
        for value, label in SEX_LABELS.items():
            self.sex.addItem(label, value)
        self.sex.setCurrentIndex(self.sex.findData(Sex.UNKNOWN.value))
        self.phone = line("+1 555 0100", 40)
        self.email = line("name@example.org", 254)
        self.address = text_box("Street, town, postcode", 2)
        self.emergency_contact = line("Name and relationship", 200)
        self.emergency_phone = line("", 40)

        identity = FieldForm()
        identity.add("family_name", "&Family name *", self.family_name)
        identity.add("given_name", "&Given name *", self.given_name)
        identity.add("preferred_name", "&Preferred name", self.preferred_name)
        identity.add(
            "date_of_birth",
            "Date of &birth *",
            with_calendar(self.date_of_birth),
            self.date_of_birth,
        )
        identity.add("sex", "&Sex", self.sex)
        identity.add("phone", "P&hone", self.phone)
        identity.add("email", "E-&mail", self.email)
        identity.add("address", "&Address", self.address)
        identity.add("emergency_contact", "Emergency contact", self.emergency_contact)
        identity.add("emergency_phone", "Emergency phone", self.emergency_phone)

        self.pregnant = QCheckBox("P&regnant")
        self.pregnancy_due_date = line("Due date, YYYY-MM-DD", 10)
        self.implanted_device = QComboBox()
        for value, label in DEVICE_LABELS.items():
            self.implanted_device.addItem(label, value)
        self.flag_boxes = {name: QCheckBox(label) for name, label in FLAG_BOXES}
        self.medical_history = text_box("Conditions, surgeries, injuries", 4)
        self.medications = text_box("Current medications and supplements", 3)

        health = FieldForm()
        preg_row = QWidget()
        preg_layout = QHBoxLayout(preg_row)
        preg_layout.setContentsMargins(0, 0, 0, 0)
        preg_layout.addWidget(self.pregnant)
        preg_layout.addWidget(self.pregnancy_due_date, 1)
        health.add("pregnancy_due_date", "Pregnancy", preg_row, self.pregnancy_due_date)
        self.pregnant.setObjectName("pregnant")
        health.add("implanted_device", "Implanted &device", self.implanted_device)
        flags = QWidget()
        flags_layout = QVBoxLayout(flags)
        flags_layout.setContentsMargins(0, 0, 0, 0)
        flags_layout.setSpacing(2)
        for name, box in self.flag_boxes.items():
            box.setObjectName(name)
            flags_layout.addWidget(box)
        health.addRow(QLabel("Health flags"), flags)
        health.add("medical_history", "Medical &history", self.medical_history)
        health.add("medications", "Medica&tions", self.medications)

        left = QGroupBox("Patient")
        left.setLayout(identity)
        right = QGroupBox("Health (used by the safety checks)")
        right.setObjectName("healthBox")
        right.setLayout(health)
        self.health_box = right
        columns = QHBoxLayout()
        columns.addWidget(left, 1)
        columns.addWidget(right, 1)

        self.summary = QLabel()
        self.summary.setObjectName("formSummary")
        self.summary.setStyleSheet("color: #b3261e;")
        self.summary.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.setObjectName("buttons")
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Fields marked * are required."))
        layout.addLayout(columns)
        layout.addWidget(self.summary)
        layout.addWidget(buttons)
        self._forms = (identity, health)

        self.pregnant.toggled.connect(self.pregnancy_due_date.setEnabled)
        self.pregnancy_due_date.setEnabled(False)
        if initial is not None:
            self._load(initial)
        self.family_name.setFocus(Qt.FocusReason.OtherFocusReason)
        self.resize(self.sizeHint().expandedTo(self.minimumSizeHint()))

    @classmethod
    def ask(
        cls, parent: QWidget | None, initial: PatientInput | None = None, clinical: bool = True
    ) -> PatientInput | None:
        """Show the form; return the valid input, or None if the user cancelled.

        ``clinical=False`` (front desk) leaves the health part out: the service keeps the
        stored health details as they are.
        """
        dialog = cls(initial, parent)
        dialog.show_health(clinical)
        dialog.exec()
        return dialog.result_input()

    def show_health(self, shown: bool) -> None:
        """Show or leave out the health part of the form."""
        self.health_box.setVisible(shown)
        self.adjustSize()

    def result_input(self) -> PatientInput | None:
        """The validated input after Save, else None."""
        return self._result

    def _load(self, data: PatientInput) -> None:
        self.family_name.setText(data.family_name)
        self.given_name.setText(data.given_name)
        self.preferred_name.setText(data.preferred_name)
        self.date_of_birth.setText(data.date_of_birth.isoformat() if data.date_of_birth else "")
        self.sex.setCurrentIndex(max(0, self.sex.findData(data.sex)))
        self.phone.setText(data.phone)
        self.email.setText(data.email)
        self.address.setPlainText(data.address)
        self.emergency_contact.setText(data.emergency_contact)
        self.emergency_phone.setText(data.emergency_phone)
        self.pregnant.setChecked(data.pregnant)
        due = data.pregnancy_due_date
        self.pregnancy_due_date.setText(due.isoformat() if due else "")
        self.implanted_device.setCurrentIndex(
            max(0, self.implanted_device.findData(data.implanted_device))
        )
        for name, box in self.flag_boxes.items():
            box.setChecked(bool(getattr(data, name)))
        self.medical_history.setPlainText(data.medical_history)
        self.medications.setPlainText(data.medications)

    def collect(self) -> tuple[PatientInput, dict[str, str]]:
        """Read the form; return the input and the problems with it (field -> message)."""
        errors: dict[str, str] = {}
        born = self._date(self.date_of_birth, "date_of_birth", errors)
        due = self._date(self.pregnancy_due_date, "pregnancy_due_date", errors)
        data = PatientInput(
            family_name=self.family_name.text(),
            given_name=self.given_name.text(),
            preferred_name=self.preferred_name.text(),
            date_of_birth=born,
            sex=self.sex.currentData() or Sex.UNKNOWN.value,
            phone=self.phone.text(),
            email=self.email.text(),
            address=self.address.toPlainText(),
            emergency_contact=self.emergency_contact.text(),
            emergency_phone=self.emergency_phone.text(),
            pregnant=self.pregnant.isChecked(),
            pregnancy_due_date=due if self.pregnant.isChecked() else None,
            implanted_device=self.implanted_device.currentData() or ImplantedDevice.NONE.value,
            medical_history=self.medical_history.toPlainText(),
            medications=self.medications.toPlainText(),
            **{name: box.isChecked() for name, box in self.flag_boxes.items()},
        )
        for key, message in validate_patient(data, date.today()).items():
            errors.setdefault(key, message)
        return data, errors

    @staticmethod
    def _date(edit: QLineEdit, name: str, errors: dict[str, str]) -> date | None:
        text = edit.text().strip()
        if not text or not edit.isEnabled():
            return None
        parsed = parse_date(text)
        if parsed is None:
            errors[name] = date_problem(text) or "Write the date as YYYY-MM-DD, e.g. 1975-03-14."
        return parsed

    @Slot()
    def _on_buttons_accepted(self) -> None:
        data, errors = self.collect()
        for form in self._forms:
            form.show_errors(errors)
        if errors:
            count = len(errors)
            self.summary.setText(
                f"{count} field{'s' if count > 1 else ''} need{'s' if count == 1 else ''} "
                "attention; nothing has been saved yet."
            )
            self.summary.show()
            first = next(iter(errors))
            widget = self.findChild(QWidget, first)
            if widget is not None:
                widget.setFocus()
            return
        self._result = data
        self.accept()
