"""The billing screen of a visit: the times CPT counts, the suggested codes, confirmation,
the superbill; and the admin's billing export of a date range."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QDate, Qt, QTime, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from charting.models import Visit
from charting.models.db import Database
from charting.reports.superbill import build_superbill
from charting.services import billing
from charting.services.billing import CODES, BillingInput, BillingLine
from charting.services.changes import Changes
from charting.ui.documents import DocumentAudit, save_document
from charting.ui.forms import ErrorLabel, resize_within_screen
from charting.ui.ops import OpRunner

MAX_LINES = 2


class _TimeField(QWidget):
    """A time of day on the visit's date, or "not recorded"."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.recorded = QCheckBox()
        self.recorded.setObjectName(f"{name}Recorded")
        self.recorded.setToolTip("Recorded")
        self.time = QTimeEdit()
        self.time.setObjectName(name)
        self.time.setDisplayFormat("HH:mm")
        self.time.setEnabled(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.recorded)
        layout.addWidget(self.time, 1)
        self.recorded.toggled.connect(self.time.setEnabled)

    def set_value(self, value: datetime | None, default: datetime) -> None:
        """Show ``value`` (local time), or ``default`` greyed out when not recorded."""
        shown = (value or default).astimezone()
        self.time.setTime(QTime(shown.hour, shown.minute))
        self.recorded.setChecked(value is not None)

    def value(self, day: date) -> datetime | None:
        """The time on ``day`` as an aware datetime, or None when not recorded."""
        if not self.recorded.isChecked():
            return None
        t = self.time.time()
        return datetime(day.year, day.month, day.day, t.hour(), t.minute()).astimezone()


class BillingDialog(QDialog):
    """Record the times, check the suggested CPT codes, confirm them, print the superbill."""

    def __init__(
        self,
        ops: OpRunner,
        database: Database,
        visit_id: int,
        title: str,
        *,
        can_confirm: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("billingDialog")
        self.setWindowTitle(f"Billing codes \u2014 {title}")
        self.ops = ops
        self.database = database
        self.visit_id = visit_id
        visit_start = ops.read(lambda s: s.get_one(Visit, visit_id).started_at)
        self.visit_start: datetime = visit_start
        self.day = visit_start.astimezone().date()
        self._electro_pairs = False  # EA pairs charted on the map (set by load)

        times = QGroupBox("What happened, and when")
        self.needles_in = _TimeField("needlesInAt")
        self.needles_out = _TimeField("needlesOutAt")
        self.ea_on = _TimeField("eaOnAt")
        self.ea_off = _TimeField("eaOffAt")
        self.contact = QSpinBox()
        self.contact.setObjectName("contactMinutes")
        self.contact.setRange(-1, 480)
        self.contact.setSpecialValueText("not recorded")
        self.contact.setSuffix(" min")
        self.contact.setToolTip(
            "Personal one-on-one minutes with the patient (not time the needles were left in)"
        )
        self.reinsertions = QSpinBox()
        self.reinsertions.setObjectName("reinsertions")
        self.reinsertions.setRange(0, 20)
        form = QFormLayout(times)
        form.addRow("Needles &in", self.needles_in)
        form.addRow("Needles &out", self.needles_out)
        form.addRow("E&A on", self.ea_on)
        form.addRow("EA o&ff", self.ea_off)
        form.addRow("One-on-one &contact", self.contact)
        form.addRow("&Re-insertions", self.reinsertions)

        suggested = QGroupBox("Suggested under CPT's rules")
        self.suggestion = QLabel()
        self.suggestion.setObjectName("billingSuggestion")
        self.suggestion.setWordWrap(True)
        self.suggestion.setTextFormat(Qt.TextFormat.PlainText)
        self.use_button = QPushButton("&Use the suggestion")
        self.use_button.setObjectName("useSuggestionButton")
        s_layout = QVBoxLayout(suggested)
        s_layout.addWidget(self.suggestion)
        s_layout.addWidget(self.use_button, 0, Qt.AlignmentFlag.AlignLeft)
        s_layout.addStretch(1)

        lines = QGroupBox("Codes to bill (you confirm them; you are responsible for them)")
        grid = QGridLayout(lines)
        self.code_boxes: list[QComboBox] = []
        self.unit_boxes: list[QSpinBox] = []
        for i in range(MAX_LINES):
            code = QComboBox()
            code.setObjectName(f"billingCode{i}")
            code.addItem("\u2013 none \u2013", "")
            for value, text in CODES.items():
                code.addItem(f"{value}  {text}", value)
            units = QSpinBox()
            units.setObjectName(f"billingUnits{i}")
            units.setRange(1, billing.MAX_UNITS)
            units.setSuffix(" unit(s)")
            units.setMinimumWidth(110)
            grid.addWidget(code, i, 0)
            grid.addWidget(units, i, 1)
            self.code_boxes.append(code)
            self.unit_boxes.append(units)
        grid.setColumnStretch(0, 1)
        self.confirmed = QLabel()
        self.confirmed.setObjectName("billingConfirmed")
        grid.addWidget(self.confirmed, MAX_LINES, 0, 1, 2)
        self.error = ErrorLabel("billingError")
        grid.addWidget(self.error, MAX_LINES + 1, 0, 1, 2)

        self.save_button = QPushButton("&Save times")
        self.save_button.setObjectName("saveBillingButton")
        self.confirm_button = QPushButton("C&onfirm codes")
        self.confirm_button.setObjectName("confirmCodesButton")
        self.confirm_button.setVisible(can_confirm)
        self.superbill_button = QPushButton("Super&bill (PDF)\u2026")
        self.superbill_button.setObjectName("superbillButton")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.confirm_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.superbill_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)

        columns = QHBoxLayout()
        columns.addWidget(times, 1)
        columns.addWidget(suggested, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(columns)
        layout.addWidget(lines)
        note = QLabel(
            "CPT (American Medical Association): 97810/97811 without and 97813/97814 with "
            "electrical stimulation count personal one-on-one time in 15-minute units; a unit "
            "counts from 8 minutes, and each additional unit needs needles re-inserted."
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #666;")
        layout.addWidget(note)
        layout.addStretch(1)
        layout.addWidget(buttons)

        for field in (self.needles_in, self.needles_out, self.ea_on, self.ea_off):
            field.recorded.toggled.connect(self._on_times_changed)
        self.contact.valueChanged.connect(self._on_times_changed)
        self.reinsertions.valueChanged.connect(self._on_times_changed)
        self.use_button.clicked.connect(self._on_use_button_clicked)
        self.save_button.clicked.connect(self._on_save_button_clicked)
        self.confirm_button.clicked.connect(self._on_confirm_button_clicked)
        self.superbill_button.clicked.connect(self._on_superbill_button_clicked)
        self.load()
        resize_within_screen(self, 820, 560)

    # -- reading and writing ------------------------------------------------------------------
    def load(self) -> None:
        """Show what is stored for the visit."""
        state = self.ops.read(lambda s: billing.billing_state(s, self.visit_id))
        t = state.times
        self._electro_pairs = state.electro and t.ea_on_at is None
        start = self.visit_start
        self.needles_in.set_value(t.needles_in_at, start)
        self.needles_out.set_value(t.needles_out_at, start + timedelta(minutes=30))
        self.ea_on.set_value(t.ea_on_at, start)
        self.ea_off.set_value(t.ea_off_at, start + timedelta(minutes=20))
        self.contact.setValue(-1 if t.contact_minutes is None else t.contact_minutes)
        self.reinsertions.setValue(t.reinsertions)
        self._show_lines(state.lines or state.suggestion.lines)
        self.confirmed.setText(
            f"Confirmed by {state.confirmed_by} on {state.confirmed_at.astimezone():%Y-%m-%d %H:%M}"
            if state.confirmed_at
            else "Not confirmed yet."
        )
        self.superbill_button.setEnabled(state.confirmed_at is not None and bool(state.lines))
        self._on_times_changed()

    def times(self) -> BillingInput:
        """The times as entered."""
        return BillingInput(
            needles_in_at=self.needles_in.value(self.day),
            needles_out_at=self.needles_out.value(self.day),
            ea_on_at=self.ea_on.value(self.day),
            ea_off_at=self.ea_off.value(self.day),
            contact_minutes=None if self.contact.value() < 0 else self.contact.value(),
            reinsertions=self.reinsertions.value(),
        )

    def lines(self) -> list[BillingLine]:
        """The code lines as chosen."""
        return [
            BillingLine(str(code.currentData()), units.value())
            for code, units in zip(self.code_boxes, self.unit_boxes, strict=True)
            if code.currentData()
        ]

    def _show_lines(self, lines: tuple[BillingLine, ...] | list[BillingLine]) -> None:
        for i, (code, units) in enumerate(zip(self.code_boxes, self.unit_boxes, strict=True)):
            line = lines[i] if i < len(lines) else None
            code.setCurrentIndex(max(code.findData(line.code if line else ""), 0))
            units.setValue(line.units if line else 1)

    def _suggestion(self) -> billing.Suggestion:
        t = self.times()
        electro = t.ea_on_at is not None or self._electro_pairs
        return billing.suggest(t.contact_minutes, electro, t.reinsertions)

    @Slot()
    def _on_times_changed(self) -> None:
        result = self._suggestion()
        codes = (
            ", ".join(f"{line.code} \u00d7 {line.units}" for line in result.lines)
            or "No billable unit."
        )
        self.suggestion.setText(codes + "\n\n" + "\n".join(result.reasons))
        self.use_button.setEnabled(bool(result.lines))

    @Slot()
    def _on_use_button_clicked(self) -> None:
        self._show_lines(self._suggestion().lines)

    @Slot()
    def _on_save_button_clicked(self) -> None:
        if self.ops.run(self, billing.save_billing, self.visit_id, self.times()) is not None:
            self.error.show_message("")
            self.load()

    @Slot()
    def _on_confirm_button_clicked(self) -> None:
        data = self.times()
        data.lines = self.lines()
        errors = (
            billing.validate_lines(data.lines)
            if data.lines
            else {"lines": "Choose at least one code to confirm."}
        )
        self.error.show_message("; ".join(errors.values()))
        if errors:
            return
        if self.ops.run(self, billing.save_billing, self.visit_id, data, confirm=True) is not None:
            self.load()

    @Slot()
    def _on_superbill_button_clicked(self) -> None:
        bill = self.ops.read(lambda s: billing.superbill(s, self.visit_id))
        patient_id = self.ops.read(lambda s: s.get_one(Visit, self.visit_id).patient_id)
        save_document(
            self,
            f"superbill-{bill.chart_number}-{bill.visit_date.isoformat()}",
            lambda target: build_superbill(bill, target),
            DocumentAudit(self.database, patient_id, f"Superbill, visit {self.visit_id}"),
        )


class BillingExportDialog(QDialog):
    """Export the confirmed codes of a date range as CSV for a billing system (admins)."""

    def __init__(self, ops: OpRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("billingExportDialog")
        self.setWindowTitle("Export billing codes")
        self.ops = ops
        today = QDate.currentDate()
        self.since = QDateEdit(today.addDays(-today.day() + 1))
        self.until = QDateEdit(today)
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        form = QFormLayout()
        form.addRow("Visits &from", self.since)
        form.addRow("&to", self.until)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "One row per confirmed CPT code, with the ICD-10-CM codes, NPI "
                "and tax ID, for a billing system."
            )
        )
        layout.addLayout(form)
        layout.addWidget(buttons)

    def export_to(self, path: Path) -> int | None:
        """Write the CSV to ``path``; the row count, or None if refused."""
        since = self.since.date().toPython()
        until = self.until.date().toPython()
        result = self.ops.run(
            self,
            lambda s: (billing.export_billing_csv(s, since, until, path), Changes()),  # type: ignore[arg-type]
        )
        return None if result is None else int(result[0])

    @Slot()
    def _on_buttons_accepted(self) -> None:
        chosen, _filter = QFileDialog.getSaveFileName(
            self, "Save billing CSV", str(Path.home() / "billing.csv"), "CSV (*.csv)"
        )
        if not chosen:
            return
        count = self.export_to(Path(chosen))
        if count is not None:
            QMessageBox.information(self, "Exported", f"{count} code lines written to {chosen}.")
            self.accept()
