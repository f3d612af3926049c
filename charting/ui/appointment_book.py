"""The appointment book: a week per practitioner or the clinic's day, booking and its dialogs.

The grid is a Qt table model of 15-minute slots (rows) by days or practitioners (columns);
arrow keys move between slots, Enter books an empty slot or acts on an appointment, Delete
cancels. Every change goes through the op runner and the appointment service, which keeps
the history and refuses double booking unless it is confirmed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QDateTime,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTime,
    Signal,
    Slot,
)
from PySide6.QtGui import QBrush, QColor, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from charting.services import appointments as book
from charting.services import ical
from charting.services import patients as patient_service
from charting.services import practitioners as practitioner_service
from charting.services.appointments import AppointmentInput, BookRow
from charting.services.changes import Changes
from charting.ui.forms import FieldForm
from charting.ui.ops import OpRunner

SLOT_MINUTES = 15
DAY_START, DAY_END = 7, 21  # the grid's hours (appointments outside still show at the edge)
ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the BookRow starting in a cell, or None
STATUS_COLOURS = {
    "booked": "#dcebf7",
    "arrived": "#fff1c9",
    "done": "#dff0d8",
    "cancelled": "#eeeeee",
    "no_show": "#f6d8d5",
}
CONTINUES = "#eef4fa"


def local_qdatetime(value: datetime) -> QDateTime:
    """An aware datetime as a local QDateTime."""
    local = value.astimezone()
    return QDateTime(QDate(local.year, local.month, local.day), QTime(local.hour, local.minute))


def aware_from_local(value: QDateTime) -> datetime:
    """A local QDateTime as an aware datetime (stored as UTC)."""
    d, t = value.date(), value.time()
    return datetime(d.year(), d.month(), d.day(), t.hour(), t.minute()).astimezone()


# --- the booking dialog ---------------------------------------------------------------------


@dataclass(frozen=True)
class BookingChoice:
    """What the booking dialog returns."""

    data: AppointmentInput


class BookingDialog(QDialog):
    """Book an appointment: patient (searched), practitioner, date and time, length, reason."""

    def __init__(
        self,
        ops: OpRunner,
        initial: AppointmentInput,
        parent: QWidget | None = None,
        patient_label: str = "",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("bookingDialog")
        self.setWindowTitle("Book an appointment")
        self.ops = ops
        self._result: AppointmentInput | None = None
        self._patient_id = initial.patient_id
        self.search = QLineEdit()
        self.search.setObjectName("bookingPatientSearch")
        self.search.setPlaceholderText("Type a name, chart number or birth date")
        self.search.setClearButtonEnabled(True)
        self.matches = QListWidget()
        self.matches.setObjectName("bookingPatientMatches")
        self.matches.setMaximumHeight(120)
        self.chosen = QLabel(patient_label or "No patient chosen")
        self.chosen.setObjectName("bookingPatientChosen")
        patient_box = QWidget()
        patient_layout = QVBoxLayout(patient_box)
        patient_layout.setContentsMargins(0, 0, 0, 0)
        patient_layout.addWidget(self.search)
        patient_layout.addWidget(self.matches)
        patient_layout.addWidget(self.chosen)
        if initial.patient_id is not None:
            self.search.hide()
            self.matches.hide()
        self.practitioner = QComboBox()
        for p in ops.read(practitioner_service.list_practitioners):
            self.practitioner.addItem(p.display_name, p.id)
        if initial.practitioner_id is not None:
            self.practitioner.setCurrentIndex(
                max(self.practitioner.findData(initial.practitioner_id), 0)
            )
        self.when = QDateTimeEdit()
        self.when.setCalendarPopup(True)
        self.when.setDisplayFormat("ddd d MMM yyyy  HH:mm")
        start = initial.starts_at or datetime.now().astimezone().replace(
            minute=0, second=0, microsecond=0
        ) + timedelta(hours=1)
        self.when.setDateTime(local_qdatetime(start))
        self.length = QComboBox()
        for minutes in book.LENGTHS:
            self.length.addItem(f"{minutes} minutes", minutes)
        self.length.setCurrentIndex(max(self.length.findData(initial.minutes), 0))
        self.reason = QLineEdit(initial.reason)
        self.reason.setMaxLength(200)
        self.reason.setPlaceholderText("e.g. Follow-up, new patient (no clinical details)")
        self.form = FieldForm()
        self.form.add("patient", "&Patient *", patient_box, self.search)
        self.form.add("practitioner", "P&ractitioner *", self.practitioner)
        self.form.add("starts_at", "&Date and time *", self.when)
        self.form.add("minutes", "&Length", self.length)
        self.form.add("reason", "R&eason", self.reason)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Book")
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(buttons)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.matches.currentItemChanged.connect(self._on_matches_current_item_changed)
        self.setMinimumWidth(480)

    @classmethod
    def ask(
        cls,
        parent: QWidget | None,
        ops: OpRunner,
        initial: AppointmentInput,
        patient_label: str = "",
    ) -> AppointmentInput | None:
        """Show the dialog; return the booking form, or None if cancelled."""
        dialog = cls(ops, initial, parent, patient_label)
        dialog.exec()
        return dialog._result

    @Slot(str)
    def _on_search_text_changed(self, text: str) -> None:
        self.matches.clear()
        if len(text.strip()) < 2:
            return

        def query(session: object) -> list[patient_service.PatientRow]:
            ids = patient_service.search_patient_ids(session, text, limit=20)  # type: ignore[arg-type]
            return patient_service.patient_rows(session, ids)  # type: ignore[arg-type]

        for row in self.ops.read(query):
            born = f", born {row.date_of_birth.isoformat()}" if row.date_of_birth else ""
            item = QListWidgetItem(f"{row.name} ({row.chart_number}{born})")
            item.setData(Qt.ItemDataRole.UserRole, row.id)
            self.matches.addItem(item)
        if self.matches.count():
            self.matches.setCurrentRow(0)

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_matches_current_item_changed(
        self, current: QListWidgetItem | None, _previous: QListWidgetItem | None
    ) -> None:
        if current is None:
            return
        self._patient_id = int(current.data(Qt.ItemDataRole.UserRole))
        self.chosen.setText(current.text())

    def collect(self) -> AppointmentInput:
        """The form's current values."""
        return AppointmentInput(
            patient_id=self._patient_id,
            practitioner_id=self.practitioner.currentData(),
            starts_at=aware_from_local(self.when.dateTime()),
            minutes=int(self.length.currentData()),
            reason=self.reason.text(),
        )

    @Slot()
    def _on_buttons_accepted(self) -> None:
        data = self.collect()
        errors = book._validate(data)
        self.form.show_errors(errors)
        if not errors:
            self._result = data
            self.accept()


def confirm_double_booking(parent: QWidget | None, clashes: list[str]) -> bool:
    """Ask whether to double book; True to go ahead."""
    answer = QMessageBox.question(
        parent,
        "Double booking",
        "The practitioner is already booked then:\n\n"
        + "\n".join(clashes)
        + "\n\nBook this appointment as well?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def run_booking(parent: QWidget | None, ops: OpRunner, data: AppointmentInput) -> int | None:
    """Book ``data``, asking first when it would double book; the new id or None."""
    assert data.practitioner_id is not None and data.starts_at is not None
    found = ops.read(
        lambda s: book.clashes(s, data.practitioner_id, data.starts_at, data.minutes)  # type: ignore[arg-type]
    )
    allow = False
    if found:
        if not confirm_double_booking(parent, found):
            return None
        allow = True
    result = ops.run(parent, book.book, data, allow_double=allow)
    return None if result is None else int(result[0])


# --- actions on one appointment, shared by the book and the day list -------------------------


def move_appointment(parent: QWidget | None, ops: OpRunner, row: BookRow) -> bool:
    """Ask for a new time (and practitioner, length) and move the appointment there."""
    choice = BookingDialog.ask(
        parent,
        ops,
        AppointmentInput(
            row.patient_id, row.practitioner_id, row.starts_at, row.minutes, row.reason
        ),
        row.patient,
    )
    if choice is None or choice.starts_at is None:
        return False
    starts_at = choice.starts_at
    practitioner_id = choice.practitioner_id or row.practitioner_id
    found = ops.read(lambda s: book.clashes(s, practitioner_id, starts_at, choice.minutes, row.id))
    allow = bool(found) and confirm_double_booking(parent, found)
    if found and not allow:
        return False
    return (
        ops.run(
            parent,
            book.move,
            row.id,
            choice.starts_at,
            choice.minutes,
            choice.practitioner_id,
            expected_version=row.version,
            allow_double=allow,
        )
        is not None
    )


def cancel_appointment(parent: QWidget | None, ops: OpRunner, row: BookRow) -> bool:
    """Ask for the reason and cancel the appointment (it stays in the book, cancelled)."""
    reason, ok = QInputDialog.getText(
        parent,
        "Cancel appointment",
        f"Cancel {row.patient} on {book.describe_slot(row.starts_at, row.minutes)}?\n"
        "Reason (optional):",
    )
    if not ok:
        return False
    return ops.run(parent, book.cancel, row.id, reason, expected_version=row.version) is not None


def set_status(parent: QWidget | None, ops: OpRunner, row: BookRow, status: str) -> bool:
    """Mark the appointment arrived, done, no-show or booked."""
    return (
        ops.run(parent, book.set_status, row.id, status, expected_version=row.version) is not None
    )


def save_calendar_file(
    parent: QWidget | None, ops: OpRunner, row: BookRow, target: Path | None = None
) -> Path | None:
    """Ask where to save the appointment's .ics file for the patient and write it there."""
    if target is None:
        suggested = str(Path.home() / f"appointment-{row.local_start:%Y-%m-%d-%H%M}.ics")
        chosen, _filter = QFileDialog.getSaveFileName(
            parent, "Save calendar file", suggested, "iCalendar (*.ics)"
        )
        if not chosen:
            return None
        target = Path(chosen if chosen.lower().endswith(".ics") else f"{chosen}.ics")
    result = ops.run(parent, lambda s: (ical.save_ics(s, row.id, target), Changes()))
    return None if result is None else target


def show_history(parent: QWidget | None, ops: OpRunner, row: BookRow) -> None:
    """Show who booked, moved, cancelled or marked the appointment, and when."""
    steps = ops.read(lambda s: book.history(s, row.id))
    lines = [
        f"{s.at.astimezone():%Y-%m-%d %H:%M}  {s.username}: {s.action}"
        + (f" \u2014 from {s.before}" if s.before else "")
        + (f" to {s.after}" if s.after else "")
        for s in steps
    ]
    box = QMessageBox(parent)
    box.setObjectName("appointmentHistory")
    box.setWindowTitle("Appointment history")
    box.setText(
        f"{row.patient}, {book.describe_slot(row.starts_at, row.minutes, row.practitioner)}"
    )
    box.setInformativeText("\n".join(lines) or "No history recorded.")
    box.exec()


# --- the grid ---------------------------------------------------------------------------------


class SlotGridModel(QAbstractTableModel):
    """15-minute slots (rows) by columns that are days (week view) or practitioners (day view).

    Holds the rows read for the range; each cell knows the appointments starting in it and
    whether an earlier appointment continues through it.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns: list[tuple[str, object]] = []
        self.by_column: str = "day"  # "day": columns are dates; "practitioner": ids
        self.start_hour = DAY_START
        self.end_hour = DAY_END
        self._starting: dict[tuple[int, int], list[BookRow]] = {}
        self._covered: set[tuple[int, int]] = set()

    def set_rows(
        self, columns: list[tuple[str, object]], by_column: str, rows: list[BookRow]
    ) -> None:
        """Lay ``rows`` out in ``columns`` ("day" columns hold dates, "practitioner" ids)."""
        self.beginResetModel()
        self.columns = columns
        self.by_column = by_column
        keys = [key for _label, key in columns]
        self._starting = {}
        self._covered = set()
        hours = [r.local_start.hour for r in rows]
        self.start_hour = min([DAY_START, *hours])
        self.end_hour = max([DAY_END, *(h + 1 for h in hours)])
        for row in rows:
            key: object = row.local_start.date() if by_column == "day" else row.practitioner_id
            if key not in keys:
                continue
            column = keys.index(key)
            first = self._slot_of(row.local_start)
            self._starting.setdefault((first, column), []).append(row)
            if row.status != "cancelled":
                span = max(1, -(-row.minutes // SLOT_MINUTES))
                for extra in range(1, span):
                    self._covered.add((first + extra, column))
        self.endResetModel()

    def _slot_of(self, local: datetime) -> int:
        minutes = (local.hour - self.start_hour) * 60 + local.minute
        return max(0, min(minutes // SLOT_MINUTES, self.rowCount() - 1))

    def slot_time(self, row: int) -> time:
        """The local time at which slot ``row`` starts."""
        minutes = self.start_hour * 60 + row * SLOT_MINUTES
        return time(minutes // 60, minutes % 60)

    def rows_at(self, index: QModelIndex) -> list[BookRow]:
        """The appointments starting in a cell."""
        return list(self._starting.get((index.row(), index.column()), []))

    def all_rows(self) -> list[BookRow]:
        """Every appointment laid out."""
        return [r for rows in self._starting.values() for r in rows]

    def index_of(self, appointment_id: int) -> QModelIndex:
        """The cell where an appointment starts (invalid when not shown)."""
        for (r, c), rows in self._starting.items():
            if any(x.id == appointment_id for x in rows):
                return self.index(r, c)
        return QModelIndex()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        if parent.isValid():
            return 0
        return (self.end_hour - self.start_hour) * 60 // SLOT_MINUTES

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> object:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.columns[section][0] if 0 <= section < len(self.columns) else None
        slot = self.slot_time(section)
        return f"{slot:%H:%M}" if slot.minute in (0, 30) else ""

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if not index.isValid():
            return None
        key = (index.row(), index.column())
        rows = self._starting.get(key, [])
        if role == Qt.ItemDataRole.DisplayRole:
            if rows:
                return "  |  ".join(self._label(r) for r in rows)
            return "\u2502" if key in self._covered else ""
        if role == Qt.ItemDataRole.ToolTipRole and rows:
            return "\n".join(
                f"{r.patient} ({r.chart_number}), "
                f"{book.describe_slot(r.starts_at, r.minutes, r.practitioner)}, "
                f"{r.status_label}" + (f", {r.reason}" if r.reason else "")
                for r in rows
            )
        if role == Qt.ItemDataRole.BackgroundRole:
            if rows:
                live = [r for r in rows if r.status != "cancelled"]
                colour = "#f9d4a8" if len(live) > 1 else STATUS_COLOURS[(live or rows)[0].status]
                return QBrush(QColor(colour))
            if key in self._covered:
                return QBrush(QColor(CONTINUES))
            return None
        if role == ROW_ROLE:
            return rows[0] if rows else None
        if role == Qt.ItemDataRole.AccessibleTextRole:
            slot = self.slot_time(index.row())
            label = "; ".join(self._label(r) for r in rows) or "free"
            return f"{self.columns[index.column()][0]} {slot:%H:%M}: {label}"
        return None

    def _label(self, row: BookRow) -> str:
        status = "" if row.status == "booked" else f" \u00b7 {row.status_label}"
        return f"{row.local_start:%H:%M} {row.patient}{status}"


class SlotTable(QTableView):
    """The grid view: Enter and Delete act on the current slot.

    Signals:
        slot_activated(QModelIndex): Enter or a double click on a slot.
        delete_pressed(): Delete on a slot.
    """

    slot_activated = Signal(QModelIndex)
    delete_pressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter activates, Delete cancels; arrows move as in any table."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.slot_activated.emit(self.currentIndex())
            return
        if event.key() == Qt.Key.Key_Delete:
            self.delete_pressed.emit()
            return
        super().keyPressEvent(event)


class AppointmentBook(QWidget):
    """The book: a practitioner's week, or the clinic's day, with booking and changes.

    Signals:
        visit_requested(int): "Start visit" on an appointment; the visit's id.
    """

    visit_requested = Signal(int)

    def __init__(self, ops: OpRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("appointmentBook")
        self.ops = ops
        self._can_chart = False
        self.week_button = QPushButton("&Week")
        self.week_button.setObjectName("bookWeekButton")
        self.day_button = QPushButton("Clinic &day")
        self.day_button.setObjectName("bookDayButton")
        for button in (self.week_button, self.day_button):
            button.setCheckable(True)
        self.modes = QButtonGroup(self)
        self.modes.addButton(self.week_button)
        self.modes.addButton(self.day_button)
        self.week_button.setChecked(True)
        self.practitioner = QComboBox()
        self.practitioner.setObjectName("bookPractitioner")
        self.practitioner.setMinimumWidth(160)
        self.date = QDateEdit(QDate.currentDate())
        self.date.setObjectName("bookDate")
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("ddd d MMM yyyy")
        self.prev_button = QPushButton("\u25c0")
        self.prev_button.setToolTip("Previous (Alt+Left)")
        self.prev_button.setShortcut(QKeySequence("Alt+Left"))
        self.today_button = QPushButton("&Today")
        self.next_button = QPushButton("\u25b6")
        self.next_button.setToolTip("Next (Alt+Right)")
        self.next_button.setShortcut(QKeySequence("Alt+Right"))
        for button in (self.prev_button, self.next_button):
            button.setFixedWidth(34)
        self.title = QLabel()
        self.title.setObjectName("bookTitle")
        self.title.setStyleSheet("font-weight: 600;")
        top = QHBoxLayout()
        top.addWidget(self.week_button)
        top.addWidget(self.day_button)
        top.addSpacing(8)
        top.addWidget(self.practitioner)
        top.addWidget(self.prev_button)
        top.addWidget(self.today_button)
        top.addWidget(self.next_button)
        top.addWidget(self.date)
        top.addStretch(1)
        top.addWidget(self.title)

        self.model = SlotGridModel(self)
        self.table = SlotTable()
        self.table.setObjectName("bookGrid")
        self.table.setModel(self.model)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setMinimumSectionSize(80)

        self.book_button = QPushButton("&Book\u2026")
        self.book_button.setObjectName("bookButton")
        self.start_button = QPushButton("&Start visit")
        self.start_button.setObjectName("bookStartVisitButton")
        self.arrived_button = QPushButton("&Arrived")
        self.no_show_button = QPushButton("&No-show")
        self.move_button = QPushButton("&Move\u2026")
        self.cancel_button = QPushButton("&Cancel\u2026")
        self.cancel_button.setObjectName("bookCancelButton")
        self.ics_button = QPushButton("Calendar &file\u2026")
        self.history_button = QPushButton("&History")
        self.detail = QLabel()
        self.detail.setObjectName("bookDetail")
        self.detail.setWordWrap(True)
        self.detail.setStyleSheet("color: #444;")
        buttons = QHBoxLayout()
        for button in (
            self.book_button,
            self.start_button,
            self.arrived_button,
            self.no_show_button,
            self.move_button,
            self.cancel_button,
            self.ics_button,
            self.history_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.detail)
        layout.addLayout(buttons)

        self.modes.buttonClicked.connect(self._on_modes_button_clicked)
        self.practitioner.currentIndexChanged.connect(self._on_practitioner_current_index_changed)
        self.date.dateChanged.connect(self._on_date_date_changed)
        self.prev_button.clicked.connect(self._on_prev_button_clicked)
        self.next_button.clicked.connect(self._on_next_button_clicked)
        self.today_button.clicked.connect(self._on_today_button_clicked)
        self.table.slot_activated.connect(self._on_table_slot_activated)
        self.table.doubleClicked.connect(self._on_table_slot_activated)
        self.table.delete_pressed.connect(self._on_cancel_button_clicked)
        self.table.selectionModel().currentChanged.connect(self._on_table_current_changed)
        self.book_button.clicked.connect(self._on_book_button_clicked)
        self.start_button.clicked.connect(self._on_start_button_clicked)
        self.arrived_button.clicked.connect(self._on_arrived_button_clicked)
        self.no_show_button.clicked.connect(self._on_no_show_button_clicked)
        self.move_button.clicked.connect(self._on_move_button_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.ics_button.clicked.connect(self._on_ics_button_clicked)
        self.history_button.clicked.connect(self._on_history_button_clicked)
        self.ops.changes_applied.connect(self._on_ops_changes_applied)
        QShortcut(QKeySequence("Ctrl+Shift+B"), self, self._on_book_button_clicked)

    # -- state -----------------------------------------------------------------------------
    def set_permissions(self, *, can_chart: bool, own_practitioner: int | None) -> None:
        """Show "Start visit" to practitioners and open on their own week."""
        self._can_chart = can_chart
        self.start_button.setVisible(can_chart)
        self.load_practitioners(own_practitioner)

    def load_practitioners(self, select: int | None = None) -> None:
        """Fill the practitioner list (keeping or setting the current one)."""
        current = select if select is not None else self.practitioner.currentData()
        self.practitioner.blockSignals(True)
        self.practitioner.clear()
        for p in self.ops.read(practitioner_service.list_practitioners):
            self.practitioner.addItem(p.display_name, p.id)
        if current is not None and (i := self.practitioner.findData(current)) >= 0:
            self.practitioner.setCurrentIndex(i)
        self.practitioner.blockSignals(False)
        self.refresh()

    @property
    def week_mode(self) -> bool:
        """True in the practitioner's week view, False in the clinic's day view."""
        return self.week_button.isChecked()

    def show_week(self, practitioner_id: int | None = None, day: date | None = None) -> None:
        """Show a practitioner's week."""
        self.week_button.setChecked(True)
        if practitioner_id is not None and (i := self.practitioner.findData(practitioner_id)) >= 0:
            self.practitioner.setCurrentIndex(i)
        self._go(day)

    def show_day(self, day: date | None = None) -> None:
        """Show the clinic's day (every practitioner side by side)."""
        self.day_button.setChecked(True)
        self._go(day)

    def _go(self, day: date | None) -> None:
        if day is not None:
            self.date.blockSignals(True)
            self.date.setDate(QDate(day.year, day.month, day.day))
            self.date.blockSignals(False)
        self.refresh()

    @property
    def current_day(self) -> date:
        """The date the view is on."""
        d = self.date.date()
        return date(d.year(), d.month(), d.day())

    def refresh(self) -> None:
        """Read the shown range again (keeping the current slot)."""
        current = self.table.currentIndex()
        day = self.current_day
        self.practitioner.setEnabled(self.week_mode)
        if self.week_mode:
            pid = self.practitioner.currentData()
            monday = book.week_start(day)
            columns: list[tuple[str, object]] = [
                (f"{d:%a %d %b}", d) for d in (monday + timedelta(days=i) for i in range(7))
            ]
            rows = self.ops.read(lambda s: book.week_rows(s, pid, day)) if pid is not None else []
            self.model.set_rows(columns, "day", rows)
            end = monday + timedelta(days=6)
            # The practitioner is named in the box beside it; repeating the name here made the
            # book wider than a 1024-pixel screen.
            self.title.setText(f"Week of {monday:%d %b} \u2013 {end:%d %b %Y}")
        else:
            practitioners = self.ops.read(practitioner_service.list_practitioners)
            columns = [(p.display_name, p.id) for p in practitioners]
            rows = self.ops.read(lambda s: book.day_rows(s, day))
            self.model.set_rows(columns, "practitioner", rows)
            self.title.setText(f"The clinic on {day:%A %d %B %Y}")
        if current.isValid():
            self.table.setCurrentIndex(self.model.index(current.row(), current.column()))
        elif self.model.rowCount():
            now = datetime.now()
            start = max(0, ((now.hour - self.model.start_hour) * 60) // SLOT_MINUTES)
            self.table.scrollTo(self.model.index(min(start, self.model.rowCount() - 1), 0))
        self._update_detail()

    def current_row(self) -> BookRow | None:
        """The appointment in the current cell (None for a free slot)."""
        value = self.table.currentIndex().data(ROW_ROLE)
        return value if isinstance(value, BookRow) else None

    def select_appointment(self, appointment_id: int) -> bool:
        """Make an appointment's cell current; False when it is not shown."""
        index = self.model.index_of(appointment_id)
        if index.isValid():
            self.table.setCurrentIndex(index)
            self.table.scrollTo(index)
        return index.isValid()

    def _slot_start(self, index: QModelIndex) -> tuple[datetime, int | None]:
        key = self.model.columns[index.column()][1]
        slot = self.model.slot_time(index.row())
        if self.week_mode:
            assert isinstance(key, date)
            return datetime.combine(key, slot).astimezone(), self.practitioner.currentData()
        assert isinstance(key, int)
        return datetime.combine(self.current_day, slot).astimezone(), key

    def _update_detail(self) -> None:
        row = self.current_row()
        for button in (
            self.start_button,
            self.arrived_button,
            self.no_show_button,
            self.move_button,
            self.cancel_button,
            self.ics_button,
            self.history_button,
        ):
            button.setEnabled(row is not None)
        if row is None:
            index = self.table.currentIndex()
            if index.isValid():
                start, _pid = self._slot_start(index)
                self.detail.setText(f"Free: {start:%a %d %b %H:%M}. Press Enter to book it.")
            else:
                self.detail.setText("")
            return
        booked = row.status == "booked"
        self.move_button.setEnabled(booked)
        self.cancel_button.setEnabled(booked)
        self.ics_button.setEnabled(booked)
        self.no_show_button.setEnabled(booked)
        self.arrived_button.setEnabled(booked)
        self.start_button.setEnabled(row.status not in ("cancelled", "no_show"))
        reason = f" \u00b7 {row.reason}" if row.reason else ""
        self.detail.setText(
            f"{row.patient} ({row.chart_number}) \u00b7 "
            f"{book.describe_slot(row.starts_at, row.minutes, row.practitioner)} \u00b7 "
            f"{row.kind_label} \u00b7 {row.status_label}{reason}"
        )

    # -- slots -------------------------------------------------------------------------------
    @Slot()
    def _on_modes_button_clicked(self) -> None:
        self.refresh()

    @Slot(int)
    def _on_practitioner_current_index_changed(self, _index: int) -> None:
        self.refresh()

    @Slot(QDate)
    def _on_date_date_changed(self, _date: QDate) -> None:
        self.refresh()

    @Slot()
    def _on_prev_button_clicked(self) -> None:
        self.date.setDate(self.date.date().addDays(-7 if self.week_mode else -1))

    @Slot()
    def _on_next_button_clicked(self) -> None:
        self.date.setDate(self.date.date().addDays(7 if self.week_mode else 1))

    @Slot()
    def _on_today_button_clicked(self) -> None:
        self.date.setDate(QDate.currentDate())

    @Slot(QModelIndex, QModelIndex)
    def _on_table_current_changed(self, _current: QModelIndex, _previous: QModelIndex) -> None:
        self._update_detail()

    @Slot(QModelIndex)
    def _on_table_slot_activated(self, index: QModelIndex) -> None:
        row = index.data(ROW_ROLE)
        if isinstance(row, BookRow):
            if self._can_chart and row.status not in ("cancelled", "no_show"):
                self._on_start_button_clicked()
            else:
                show_history(self, self.ops, row)
            return
        self.book_at(index)

    def book_at(self, index: QModelIndex | None = None) -> int | None:
        """Book in the slot at ``index`` (or the current one); the new id or None."""
        index = index if index is not None else self.table.currentIndex()
        initial = AppointmentInput(practitioner_id=self.practitioner.currentData())
        if index.isValid():
            initial.starts_at, initial.practitioner_id = self._slot_start(index)
        data = BookingDialog.ask(self, self.ops, initial)
        if data is None:
            return None
        new_id = run_booking(self, self.ops, data)
        if new_id is not None:
            self.select_appointment(new_id)
        return new_id

    @Slot()
    def _on_book_button_clicked(self) -> None:
        self.book_at()

    @Slot()
    def _on_start_button_clicked(self) -> None:
        row = self.current_row()
        if row is None:
            return
        result = self.ops.run(self, book.start_visit_for, row.id)
        if result is not None:
            self.visit_requested.emit(int(result[0]))

    def _status(self, status: str) -> None:
        row = self.current_row()
        if row is not None:
            set_status(self, self.ops, row, status)

    @Slot()
    def _on_arrived_button_clicked(self) -> None:
        self._status("arrived")

    @Slot()
    def _on_no_show_button_clicked(self) -> None:
        self._status("no_show")

    @Slot()
    def _on_move_button_clicked(self) -> None:
        row = self.current_row()
        if row is not None and move_appointment(self, self.ops, row):
            self.select_appointment(row.id)

    @Slot()
    def _on_cancel_button_clicked(self) -> None:
        row = self.current_row()
        if row is not None and row.status == "booked":
            cancel_appointment(self, self.ops, row)

    @Slot()
    def _on_ics_button_clicked(self) -> None:
        row = self.current_row()
        if row is not None:
            save_calendar_file(self, self.ops, row)

    @Slot()
    def _on_history_button_clicked(self) -> None:
        row = self.current_row()
        if row is not None:
            show_history(self, self.ops, row)

    @Slot(object)
    def _on_ops_changes_applied(self, _changes: Changes) -> None:
        if self.isVisible():
            self.refresh()

    def showEvent(self, event: object) -> None:
        """Read the book again whenever it is shown (others may have booked meanwhile)."""
        super().showEvent(event)  # type: ignore[arg-type]
        if self.window().isVisible():  # not while a closed window's pages are torn down
            self.refresh()
