"""Today's list: the start screen of a practitioner's day, and the list of open drafts.

One row per appointment: time, patient, first visit or follow-up, health flags, the
appointment's status and the state of its visit. Enter (or "Start visit") opens the visit
with the appointment linked. Front desk sees the same list without health flags or visit
state (clinical data), and can mark arrivals and book.
"""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QBrush, QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from charting.services import appointments as book
from charting.services import drafts as draft_service
from charting.services import practitioners as practitioner_service
from charting.services.access import Actor, Permission
from charting.services.appointments import AppointmentInput, BookRow
from charting.services.changes import Changes
from charting.services.drafts import DraftRow
from charting.services.patients import abbreviate_flags
from charting.ui.app_rules import esc, rich_label
from charting.ui.appointment_book import (
    STATUS_COLOURS,
    BookingDialog,
    cancel_appointment,
    move_appointment,
    run_booking,
    save_calendar_file,
    set_status,
    show_history,
)
from charting.ui.forms import resize_within_screen
from charting.ui.ops import OpRunner
from charting.ui.table_models import RowsModel

COLUMNS = ("Time", "Patient", "Visit", "Health flags", "Status", "Chart")
CLINICAL_COLUMNS = frozenset({3, 5})
ALL_PRACTITIONERS = -1


class DayListModel(QAbstractTableModel):
    """The appointments of one day, as read by the appointment service."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[BookRow] = []
        self.show_practitioner = False

    def set_rows(self, rows: list[BookRow], show_practitioner: bool) -> None:
        """Show ``rows`` (with the practitioner's name when the whole clinic is listed)."""
        self.beginResetModel()
        self.rows = rows
        self.show_practitioner = show_practitioner
        self.endResetModel()

    def row_at(self, row: int) -> BookRow | None:
        """The appointment on a row."""
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def row_of(self, appointment_id: int) -> int | None:
        """The row showing an appointment."""
        for i, r in enumerate(self.rows):
            if r.id == appointment_id:
                return i
        return None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section] if 0 <= section < len(COLUMNS) else None
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                end = row.ends_at.astimezone()
                return f"{row.local_start:%H:%M}\u2013{end:%H:%M}"
            if column == 1:
                extra = f"  \u00b7  {row.practitioner}" if self.show_practitioner else ""
                return f"{row.patient}{extra}"
            if column == 2:
                return row.kind_label
            if column == 3:
                return abbreviate_flags(row.flags)
            if column == 4:
                return row.status_label
            if column == 5:
                return book.visit_state_label(row.visit_state) if row.status != "cancelled" else ""
        if role == Qt.ItemDataRole.ToolTipRole:
            reason = f"\n{row.reason}" if row.reason else ""
            flags = f"\n{', '.join(row.flags)}" if row.flags else ""
            return f"{row.patient} ({row.chart_number}){reason}{flags}"
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == 3 and row.flags:
                return QBrush(QColor("#9a3412"))
            if row.status in ("cancelled", "no_show"):
                return QBrush(QColor("#777777"))
        if role == Qt.ItemDataRole.BackgroundRole and column == 4:
            return QBrush(QColor(STATUS_COLOURS.get(row.status, "#ffffff")))
        if role == Qt.ItemDataRole.FontRole and row.status == "cancelled":
            from PySide6.QtGui import QFont

            font = QFont()
            font.setStrikeOut(True)
            return font
        return None


class DayTable(QTableView):
    """The day list's table: Enter starts (or opens) the visit.

    Signals:
        row_activated(int): Enter or a double click on a row.
    """

    row_activated = Signal(int)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter activates the current row."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.row_activated.emit(self.currentIndex().row())
            return
        super().keyPressEvent(event)


class DayList(QWidget):
    """Today's list for a practitioner (their own day) or the front desk (the clinic's).

    Signals:
        visit_requested(int): a visit to open (started from an appointment); its id.
        drafts_requested(): the open-drafts line was clicked.
        book_requested(): "Appointment book" was clicked.
    """

    visit_requested = Signal(int)
    drafts_requested = Signal()
    book_requested = Signal()

    def __init__(self, ops: OpRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dayList")
        self.ops = ops
        self.database = ops.database
        self._can_chart = False
        self._clinical = False
        self._own: int | None = None
        self.heading = QLabel()
        self.heading.setObjectName("dayHeading")
        self.heading.setStyleSheet("font-size: 14pt; font-weight: 600;")
        self.practitioner = QComboBox()
        self.practitioner.setObjectName("dayPractitioner")
        self.date = QDateEdit(QDate.currentDate())
        self.date.setObjectName("dayDate")
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("ddd d MMM yyyy")
        self.today_button = QPushButton("&Today")
        self.book_view_button = QPushButton("Appointment boo&k")
        self.book_view_button.setObjectName("openBookButton")
        self.heading.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.practitioner.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.practitioner.setMinimumContentsLength(14)
        top = QHBoxLayout()
        top.addWidget(self.practitioner, 1)
        top.addWidget(self.date)
        top.addWidget(self.today_button)
        top.addWidget(self.book_view_button)
        self.drafts_link = QPushButton()
        self.drafts_link.setObjectName("openDraftsLink")
        self.drafts_link.setFlat(True)
        self.drafts_link.setCursor(Qt.CursorShape.PointingHandCursor)
        self.drafts_link.setStyleSheet("color: #9a3412; text-align: left; font-weight: 600;")
        self.drafts_link.hide()

        self.model = DayListModel(self)
        self.table = DayTable()
        self.table.setObjectName("dayTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(28)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 96), (2, 84), (3, 150), (4, 76), (5, 84)):
            header.resizeSection(column, width)
        self.empty = QLabel()
        self.empty.setObjectName("dayEmpty")
        self.empty.setStyleSheet("color: #666;")

        self.start_button = QPushButton("&Start visit")
        self.start_button.setObjectName("startVisitButton")
        self.start_button.setDefault(True)
        self.arrived_button = QPushButton("&Arrived")
        self.arrived_button.setObjectName("arrivedButton")
        self.no_show_button = QPushButton("&No-show")
        self.no_show_button.setObjectName("noShowButton")
        self.book_button = QPushButton("&Book\u2026")
        self.book_button.setObjectName("dayBookButton")
        # The less frequent actions sit in a menu, so the row fits beside the patient list
        # at 1024 pixels.
        self.more_button = QPushButton("&More")
        self.more_button.setObjectName("dayMoreButton")
        more = QMenu(self.more_button)
        self.move_action = more.addAction("&Move\u2026")
        self.cancel_action = more.addAction("&Cancel\u2026")
        self.ics_action = more.addAction("Save &calendar file (.ics)\u2026")
        self.ics_action.setObjectName("dayIcsAction")
        self.history_action = more.addAction("&History")
        self.more_button.setMenu(more)
        buttons = QHBoxLayout()
        for button in (
            self.start_button,
            self.arrived_button,
            self.no_show_button,
            self.book_button,
            self.more_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 8, 8)
        layout.addWidget(self.heading)
        layout.addLayout(top)
        layout.addWidget(self.drafts_link)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addLayout(buttons)

        self.practitioner.currentIndexChanged.connect(self._on_practitioner_current_index_changed)
        self.date.dateChanged.connect(self._on_date_date_changed)
        self.today_button.clicked.connect(self._on_today_button_clicked)
        self.book_view_button.clicked.connect(self.book_requested)
        self.drafts_link.clicked.connect(self.drafts_requested)
        self.table.row_activated.connect(self._on_table_row_activated)
        self.table.doubleClicked.connect(self._on_table_double_clicked)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_row_changed)
        self.start_button.clicked.connect(self._on_start_button_clicked)
        self.arrived_button.clicked.connect(self._on_arrived_button_clicked)
        self.no_show_button.clicked.connect(self._on_no_show_button_clicked)
        self.book_button.clicked.connect(self._on_book_button_clicked)
        self.move_action.triggered.connect(self._on_move_button_clicked)
        self.cancel_action.triggered.connect(self._on_cancel_button_clicked)
        self.ics_action.triggered.connect(self._on_ics_button_clicked)
        self.history_action.triggered.connect(self._on_history_button_clicked)
        self.ops.changes_applied.connect(self._on_ops_changes_applied)

    # -- state -----------------------------------------------------------------------------
    def set_actor(self, *, own_practitioner: int | None, can_chart: bool, clinical: bool) -> None:
        """Open on the practitioner's own day (or the clinic's), with what the roles allow."""
        self._own = own_practitioner
        self._can_chart = can_chart
        self._clinical = clinical
        self.start_button.setVisible(can_chart)
        self.table.setColumnHidden(3, not clinical)
        self.table.setColumnHidden(5, not clinical)
        self.practitioner.blockSignals(True)
        self.practitioner.clear()
        self.practitioner.addItem("Whole clinic", ALL_PRACTITIONERS)
        for p in self.ops.read(practitioner_service.list_practitioners):
            self.practitioner.addItem(p.display_name, p.id)
        index = self.practitioner.findData(own_practitioner) if own_practitioner else 0
        self.practitioner.setCurrentIndex(max(index, 0))
        self.practitioner.blockSignals(False)
        self.date.blockSignals(True)
        self.date.setDate(QDate.currentDate())
        self.date.blockSignals(False)
        self.refresh()

    @property
    def day(self) -> date:
        """The day shown."""
        d = self.date.date()
        return date(d.year(), d.month(), d.day())

    @property
    def practitioner_id(self) -> int | None:
        """The practitioner whose day is shown (None: the whole clinic)."""
        value = self.practitioner.currentData()
        return None if value in (None, ALL_PRACTITIONERS) else int(value)

    def _actor(self) -> Actor | None:
        actor = self.database.actor
        return actor if isinstance(actor, Actor) else None

    def refresh(self) -> None:
        """Read the day again, keeping the current appointment selected."""
        actor = self._actor()
        if actor is None or not actor.can(Permission.VIEW_PATIENTS):
            self.model.set_rows([], False)
            return
        current = self.current_row()
        pid = self.practitioner_id
        rows = self.ops.read(lambda s: book.day_rows(s, self.day, pid))
        self.model.set_rows(rows, pid is None)
        today = date.today()
        when = (
            "Today"
            if self.day == today
            else "Tomorrow"
            if self.day == today + timedelta(days=1)
            else f"{self.day:%A}"
        )
        live = [r for r in rows if r.status != "cancelled"]
        self.heading.setText(
            f"{when}, {self.day:%d %B %Y} \u2014 {len(live)} appointment"
            f"{'s' if len(live) != 1 else ''}"
        )
        self.empty.setText(
            "" if rows else "No appointments. Book one with Book\u2026 or in the appointment book."
        )
        self.empty.setVisible(not rows)
        self.refresh_drafts()
        target = self.model.row_of(current.id) if current is not None else None
        if target is None and rows:
            # The next appointment not yet seen, else the first.
            pending = [i for i, r in enumerate(rows) if r.status in ("booked", "arrived")]
            target = pending[0] if pending else 0
        if target is not None:
            self.table.selectRow(target)
        self._update_buttons()

    def refresh_drafts(self) -> None:
        """Show "3 visits not signed, oldest 4 days" for the practitioner's own drafts."""
        actor = self._actor()
        own = actor.practitioner_id if actor is not None else None
        if actor is None or own is None or not actor.can(Permission.CHART):
            self.drafts_link.hide()
            return
        text = self.ops.read(lambda s: draft_service.summary(draft_service.open_drafts(s, own)))
        self.drafts_link.setText(f"\u26a0 {text} \u2014 show them" if text else "")
        self.drafts_link.setVisible(bool(text))

    def current_row(self) -> BookRow | None:
        """The selected appointment."""
        index = self.table.currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

    def _update_buttons(self) -> None:
        row = self.current_row()
        booked = row is not None and row.status == "booked"
        self.start_button.setEnabled(row is not None and row.status not in ("cancelled", "no_show"))
        self.start_button.setText(
            "&Open visit" if row is not None and row.visit_id is not None else "&Start visit"
        )
        self.arrived_button.setEnabled(booked)
        self.no_show_button.setEnabled(booked)
        self.move_action.setEnabled(booked)
        self.cancel_action.setEnabled(booked)
        self.ics_action.setEnabled(booked)
        self.history_action.setEnabled(row is not None)
        self.more_button.setEnabled(row is not None)

    # -- actions ----------------------------------------------------------------------------
    def start_visit(self) -> int | None:
        """Start (or open) the selected appointment's visit; the visit id, or None."""
        row = self.current_row()
        if row is None or not self._can_chart:
            return None
        result = self.ops.run(self, book.start_visit_for, row.id)
        if result is None:
            return None
        visit_id = int(result[0])
        self.visit_requested.emit(visit_id)
        return visit_id

    @Slot(int)
    def _on_table_row_activated(self, _row: int) -> None:
        if self._can_chart:
            self.start_visit()
        else:
            self._on_arrived_button_clicked()

    @Slot(QModelIndex)
    def _on_table_double_clicked(self, index: QModelIndex) -> None:
        self._on_table_row_activated(index.row())

    @Slot(QModelIndex, QModelIndex)
    def _on_table_current_row_changed(self, _current: QModelIndex, _prev: QModelIndex) -> None:
        self._update_buttons()

    @Slot()
    def _on_start_button_clicked(self) -> None:
        self.start_visit()

    @Slot()
    def _on_arrived_button_clicked(self) -> None:
        row = self.current_row()
        if row is not None and row.status == "booked":
            set_status(self, self.ops, row, "arrived")

    @Slot()
    def _on_no_show_button_clicked(self) -> None:
        row = self.current_row()
        if row is not None:
            set_status(self, self.ops, row, "no_show")

    @Slot()
    def _on_book_button_clicked(self) -> None:
        initial = AppointmentInput(practitioner_id=self.practitioner_id or self._own)
        data = BookingDialog.ask(self, self.ops, initial)
        if data is not None:
            run_booking(self, self.ops, data)

    @Slot()
    def _on_move_button_clicked(self) -> None:
        row = self.current_row()
        if row is not None:
            move_appointment(self, self.ops, row)

    @Slot()
    def _on_cancel_button_clicked(self) -> None:
        row = self.current_row()
        if row is not None:
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

    @Slot(int)
    def _on_practitioner_current_index_changed(self, _index: int) -> None:
        self.refresh()

    @Slot(QDate)
    def _on_date_date_changed(self, _date: QDate) -> None:
        self.refresh()

    @Slot()
    def _on_today_button_clicked(self) -> None:
        self.date.setDate(QDate.currentDate())

    @Slot(object)
    def _on_ops_changes_applied(self, _changes: Changes) -> None:
        if self.isVisible():
            self.refresh()

    def showEvent(self, event: object) -> None:
        """Read the day again whenever the list is shown."""
        super().showEvent(event)  # type: ignore[arg-type]
        if self.window().isVisible():  # not while a closed window's pages are torn down
            self.refresh()


class DraftsDialog(QDialog):
    """Unsigned visits from before today: the practitioner's own, or the clinic's for admins.

    Signals:
        visit_requested(int): a draft to open.
    """

    visit_requested = Signal(int)

    def __init__(
        self, ops: OpRunner, practitioner_id: int | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("draftsDialog")
        self.ops = ops
        self.rows: list[DraftRow] = ops.read(
            lambda s: draft_service.open_drafts(s, practitioner_id)
        )
        whose = "Your" if practitioner_id is not None else "The clinic's"
        self.setWindowTitle(f"{whose} visits not signed")
        today = date.today()
        summary = draft_service.summary(self.rows) or "Every visit before today is signed."
        label = rich_label(f"<b>{esc(summary)}.</b> Open one to finish and sign it.")
        self.table = QTableView()
        self.table.setObjectName("draftsTable")
        self.model = _DraftsModel(self.rows, today, self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        if self.rows:
            self.table.selectRow(0)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.open_button = buttons.addButton("&Open visit", QDialogButtonBox.ButtonRole.ActionRole)
        self.open_button.setEnabled(bool(self.rows))
        buttons.rejected.connect(self.reject)
        self.open_button.clicked.connect(self._on_open_button_clicked)
        self.table.doubleClicked.connect(self._on_open_button_clicked)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        resize_within_screen(self, 720, 360)

    @Slot()
    def _on_open_button_clicked(self) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            self.visit_requested.emit(self.rows[index.row()].visit_id)
            self.accept()


class _DraftsModel(RowsModel):
    COLUMNS = ("Visit date", "Days ago", "Patient", "Visit", "Practitioner")

    def __init__(self, rows: list[DraftRow], today: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.set_rows(rows)
        self.today = today

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if role != Qt.ItemDataRole.DisplayRole or not index.isValid():
            return None
        row = self.rows[index.row()]
        return (
            f"{row.started_at.astimezone():%a %d %b %Y %H:%M}",
            str(row.age_days(self.today)),
            f"{row.patient} ({row.chart_number})",
            f"Visit {row.number}",
            row.practitioner,
        )[index.column()]
