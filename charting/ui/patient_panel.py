"""The selected patient: details, health flags (highlighted) and the course of visits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from charting.services.patients import DEVICE_LABELS, SEX_LABELS, PatientView, health_flags
from charting.services.visits import VisitRow
from charting.ui.table_models import DISPLAY_ROLE, RowsModel

# Detail rows that are part of the health record (hidden from front desk).
CLINICAL_DETAILS = ("device", "medications", "medical_history")

VisitIdRole = Qt.ItemDataRole.UserRole + 1
VISITS_MEASURED = 40
_VISIT_ID = int(VisitIdRole)
VISIT_COLUMNS = ("Date", "No.", "Status", "Pain", "Practitioner", "Chief complaint")
_Index = QModelIndex | QPersistentModelIndex

# Flags that change what may be done on the table are shown in red, the rest in amber.
SERIOUS_PREFIXES = ("Pregnant", "Implanted", "Bleeding", "Anticoagulant", "Epilepsy")
CHIP_RED = "background:#fde7e9; color:#8c1d18; border:1px solid #e6a4a8;"
CHIP_AMBER = "background:#fff4e0; color:#7a4b00; border:1px solid #f0c987;"


class VisitListModel(RowsModel):
    """One patient's visits, newest first."""

    COLUMNS = VISIT_COLUMNS

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cells: list[tuple[str, ...]] = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        """Show ``rows``; their cells are formatted once here, not on every repaint (sizing
        the columns to a 200-visit course asks for every cell)."""
        self._cells = [
            (
                row.started_at.astimezone().strftime("%Y-%m-%d %H:%M"),
                str(row.number),
                row.status.capitalize(),
                row.pain_text,
                row.practitioner,
                row.chief_complaint,
            )
            for row in rows
        ]
        super().set_rows(rows)

    def visit_id(self, row: int) -> int | None:
        """Id of the visit shown at ``row``."""
        return self._rows[row].id if 0 <= row < len(self._rows) else None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._cells):
            return None
        if role == DISPLAY_ROLE:
            return self._cells[index.row()][index.column()]
        if role == _VISIT_ID:
            return self._rows[index.row()].id
        return None


def _age(born: date | None, today: date) -> str:
    if born is None:
        return ""
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return f"{years} y"


class PatientPanel(QWidget):
    """Details of one patient with their visit list.

    Signals:
        edit_requested(): the user asked to edit this patient.
        new_visit_requested(): the user asked to start a visit.
        course_requested(): the user asked for the course view (trend, outcomes, plan).
    """

    edit_requested = Signal()
    new_visit_requested = Signal()
    course_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("patientPanel")
        self.title = QLabel()
        self.title.setObjectName("patientTitle")
        self.title.setStyleSheet("font-size: 18pt; font-weight: 600;")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subtitle = QLabel()
        self.subtitle.setObjectName("patientSubtitle")
        self.subtitle.setStyleSheet("color: #555;")
        # A long name wraps rather than setting the window's minimum width.
        self.title.setWordWrap(True)
        self.subtitle.setWordWrap(True)
        self.edit_button = edit = QPushButton("&Edit patient")
        edit.setObjectName("editPatientButton")
        edit.clicked.connect(self.edit_requested)
        self.new_visit_button = new_visit = QPushButton("New &visit")
        new_visit.setObjectName("newVisitButton")
        new_visit.setDefault(True)
        new_visit.clicked.connect(self.new_visit_requested)
        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        header.addLayout(titles, 1)
        self.course_button = course = QPushButton("&Course\u2026")
        course.setObjectName("courseButton")
        course.clicked.connect(self.course_requested)
        header.addWidget(edit)
        header.addWidget(course)
        header.addWidget(new_visit)

        self.flags = QWidget()
        self.flags.setObjectName("patientFlags")
        self._flag_layout = QHBoxLayout(self.flags)
        self._flag_layout.setContentsMargins(0, 0, 0, 0)
        self._flag_layout.setSpacing(6)
        self._chips: list[QLabel] = []

        self.details = QFormLayout()
        self.details.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self._detail_labels: dict[str, QLabel] = {}
        for key, caption in (
            ("phone", "Phone"),
            ("email", "E-mail"),
            ("address", "Address"),
            ("emergency", "Emergency contact"),
            ("device", "Implanted device"),
            ("medications", "Medications"),
            ("medical_history", "Medical history"),
        ):
            value = QLabel()
            value.setObjectName(f"detail_{key}")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._detail_labels[key] = value
            self.details.addRow(f"{caption}:", value)
        details_frame = QFrame()
        details_frame.setFrameShape(QFrame.Shape.StyledPanel)
        details_frame.setLayout(self.details)

        self.visit_model = VisitListModel(self)
        self.visits = QTableView()
        self.visits.setObjectName("visitList")
        self.visits.setModel(self.visit_model)
        self.visits.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.visits.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.visits.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.visits.verticalHeader().hide()
        self.visits.setAlternatingRowColors(True)
        hh = self.visits.horizontalHeader()
        # Size the columns to the newest visits (listed first), not to every visit of a long
        # course: a 200-visit chart would otherwise be measured cell by cell on each opening.
        hh.setResizeContentsPrecision(VISITS_MEASURED)
        hh.setStretchLastSection(True)
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(len(VISIT_COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.visits_caption = QLabel("Visits")
        self.visits_caption.setStyleSheet("font-weight: 600;")

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.flags)
        layout.addWidget(details_frame)
        layout.addWidget(self.visits_caption)
        layout.addWidget(self.visits, 1)

    def set_permissions(self, *, can_edit: bool, can_chart: bool, can_view_clinical: bool) -> None:
        """Offer only the buttons the signed-in roles can use."""
        self.edit_button.setVisible(can_edit)
        self.new_visit_button.setVisible(can_chart)
        self.course_button.setVisible(can_view_clinical)
        self.visits.setToolTip(
            "" if can_view_clinical else "Visit notes are for practitioners and clinic admins."
        )

    def show_patient(self, patient: PatientView, visits: list[VisitRow], today: date) -> None:
        """Fill the panel from what the account may see of a patient, and their visits.

        An account that may not read clinical notes (front desk) gets no health part: the
        flags and the device, medication and history rows are hidden, not shown empty.
        """
        self.title.setText(patient.full_name)
        born = patient.date_of_birth.isoformat() if patient.date_of_birth else "unknown"
        age = _age(patient.date_of_birth, today)
        sex = SEX_LABELS.get(patient.sex, patient.sex)
        self.subtitle.setText(
            f"Chart {patient.chart_number}  \u00b7  born {born} ({age})  \u00b7  {sex}"
        )
        self._set_flags(health_flags(patient))
        self.flags.setVisible(patient.clinical)
        for key in CLINICAL_DETAILS:
            self.details.setRowVisible(self._detail_labels[key], patient.clinical)
        emergency = " ".join(filter(None, (patient.emergency_contact, patient.emergency_phone)))
        values = {
            "phone": patient.phone,
            "email": patient.email,
            "address": patient.address,
            "emergency": emergency,
            "device": DEVICE_LABELS.get(patient.implanted_device, patient.implanted_device),
            "medications": patient.medications,
            "medical_history": patient.medical_history,
        }
        for key, label in self._detail_labels.items():
            label.setText(values[key] or "\u2014")
        self.visit_model.set_rows(visits)
        self.visits_caption.setText(f"Visits ({len(visits)})")

    def flag_texts(self) -> list[str]:
        """The health-flag chips currently shown."""
        return [chip.text() for chip in self._chips]

    def _set_flags(self, flags: tuple[str, ...]) -> None:
        while self._flag_layout.count():
            item = self._flag_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self._chips = []
        if not flags:
            none = QLabel("No health flags recorded")
            none.setStyleSheet("color: #2e7d32;")
            self._flag_layout.addWidget(none)
        for flag in flags:
            chip = QLabel(f"\u26a0 {flag}" if flag.startswith(SERIOUS_PREFIXES) else flag)
            chip.setObjectName("flagChip")
            style = CHIP_RED if flag.startswith(SERIOUS_PREFIXES) else CHIP_AMBER
            chip.setStyleSheet(f"{style} border-radius: 9px; padding: 2px 8px; font-weight: 600;")
            self._flag_layout.addWidget(chip)
            self._chips.append(chip)
        self._flag_layout.addStretch(1)
