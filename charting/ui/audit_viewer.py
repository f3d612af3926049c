"""The audit log viewer (clinic admins): who did what, when, to whose record; and a chain check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from PySide6.QtCore import (
    QDate,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Slot,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from charting.models.db import Database, DatabaseError
from charting.services import audit
from charting.services.access import Permission, require
from charting.services.audit import ChainReport, Entry
from charting.services.errors import ServiceError
from charting.services.patients import patient_rows, search_patient_ids
from charting.ui.app_rules import plain_tooltip
from charting.ui.forms import resize_within_screen
from charting.ui.table_models import RowsModel

AUDIT_COLUMNS = ("#", "Time", "User", "Action", "Patient", "Target", "Outcome", "Detail")
#: Rows read per page as the table is scrolled.
PAGE = 200
SeqRole = Qt.ItemDataRole.UserRole + 1
FILTER_DELAY_MS = 250
NO_DATE = QDate(2000, 1, 1)
_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class AuditFilter:
    """What the viewer is asked to show (None = anything)."""

    username: str | None = None
    patient_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditTableModel(RowsModel):
    """Audit entries matching a filter, newest first, read a page at a time as they scroll in."""

    COLUMNS = AUDIT_COLUMNS

    def __init__(self, database: Database, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._database = database
        self._filter = AuditFilter()
        self._more = True
        self._patients: dict[int, str] = {}

    @property
    def filter(self) -> AuditFilter:
        """The filter in force."""
        return self._filter

    def set_filter(self, wanted: AuditFilter) -> None:
        """Show the entries matching ``wanted`` (the first page is read at once)."""
        self.beginResetModel()
        self._filter = wanted
        self._rows = []
        self._more = True
        self.endResetModel()
        self.fetchMore(QModelIndex())

    def refresh(self) -> None:
        """Read the log again with the same filter."""
        self.set_filter(self._filter)

    def entry(self, row: int) -> Entry | None:
        """The entry shown at ``row``."""
        return self.item(row)

    # -- lazy loading ----------------------------------------------------------------------
    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._more

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or not self._more:
            return
        f = self._filter
        with self._database.read() as session:
            page = audit.search(
                session,
                username=f.username,
                patient_id=f.patient_id,
                action=f.action,
                since=f.since,
                until=f.until,
                limit=PAGE,
                offset=len(self._rows),
            )
            unknown = sorted({e.patient_id for e in page if e.patient_id} - set(self._patients))
            for patient in patient_rows(session, unknown):
                self._patients[patient.id] = f"{patient.chart_number} {patient.name}"
        self._more = len(page) == PAGE
        if not page:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
        self._rows.extend(page)
        self.endInsertRows()

    # -- Qt model interface ----------------------------------------------------------------
    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        entry = self._rows[index.row()]
        if role == SeqRole:
            return entry.seq
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(QColor("#b3261e")) if entry.outcome != "ok" else None
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 7:
            return plain_tooltip(entry.detail) or None
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return self._text(entry, index.column())

    def _text(self, entry: Entry, column: int) -> str:
        if column == 0:
            return str(entry.seq)
        if column == 1:
            return entry.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        if column == 2:
            return entry.username
        if column == 3:
            return entry.action
        if column == 4:
            if entry.patient_id is None:
                return ""
            return self._patients.get(entry.patient_id, f"patient {entry.patient_id}")
        if column == 5:
            return entry.target
        if column == 6:
            return entry.outcome
        return entry.detail.replace("\n", " ")


def describe_chain(report: ChainReport) -> str:
    """A chain check's result in words."""
    if report.ok:
        return (
            f"\u2714 The audit log is intact: all {report.checked:,} entries are in place and "
            f"unchanged.\nNewest entry's hash: {report.head_hash}"
        )
    return (
        f"\u26a0 The audit log has been tampered with at entry {report.first_bad_seq}: "
        f"{report.problem}.\nThe {report.checked:,} entries before it are intact."
    )


def _day_start(day: date) -> datetime:
    """Local midnight at the start of ``day``, as an aware datetime."""
    return datetime.combine(day, time()).astimezone()


class AuditViewer(QDialog):
    """Filter and read the audit log; verify its hash chain (objectName ``auditViewer``)."""

    def __init__(self, database: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("auditViewer")
        self.setWindowTitle("Audit log")
        self.database = database

        self.user = QComboBox()
        self.user.setObjectName("auditUser")
        self.patient = QLineEdit()
        self.patient.setObjectName("auditPatient")
        self.patient.setPlaceholderText("Chart number or name")
        self.patient.setClearButtonEnabled(True)
        self.patient_note = QLabel()
        self.patient_note.setObjectName("auditPatientNote")
        self.patient_note.setStyleSheet("color: #555;")
        self.patient_note.hide()
        self.action = QComboBox()
        self.action.setObjectName("auditAction")
        self.since = self._date_edit("auditSince")
        self.until = self._date_edit("auditUntil")
        self.model = AuditTableModel(database, self)
        self.table = QTableView()
        self.table.setObjectName("auditTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((56, 140, 90, 150, 170, 110, 64)):
            header.resizeSection(column, width)
        self.count = QLabel()
        self.count.setObjectName("auditCount")
        self.count.setStyleSheet("color: #555;")
        self.chain_report = QLabel(
            "\u201cVerify chain\u201d recomputes every entry's hash to show that nothing was "
            "changed, removed or reordered."
        )
        self.chain_report.setObjectName("chainReport")
        self.chain_report.setWordWrap(True)
        self.chain_report.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.verify_button = buttons.addButton(
            "&Verify chain", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.verify_button.setObjectName("verifyChainButton")
        self.refresh_button = buttons.addButton("&Refresh", QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)

        filters = QGridLayout()
        filters.setHorizontalSpacing(8)
        for column, (caption, widget) in enumerate(
            (
                ("&User", self.user),
                ("&Patient", self.patient),
                ("&Action", self.action),
                ("&From", self.since),
                ("&To", self.until),
            )
        ):
            label = QLabel(caption)
            label.setBuddy(widget)
            filters.addWidget(label, 0, column)
            filters.addWidget(widget, 1, column)
        filters.addWidget(self.patient_note, 2, 1, 1, 4)
        filters.setColumnStretch(1, 2)
        filters.setColumnStretch(0, 1)
        filters.setColumnStretch(2, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count)
        layout.addWidget(self.chain_report)
        layout.addWidget(buttons)
        resize_within_screen(self, 1180, 680)

        self._patient_timer = QTimer(self)
        self._patient_timer.setSingleShot(True)
        self._patient_timer.setInterval(FILTER_DELAY_MS)
        self._record_opening()
        self._fill_choices()
        self.model.set_filter(self.current_filter())
        self._update_count()

        self.user.currentIndexChanged.connect(self._on_filter_changed)
        self.action.currentIndexChanged.connect(self._on_filter_changed)
        self.since.dateChanged.connect(self._on_filter_changed)
        self.until.dateChanged.connect(self._on_filter_changed)
        self.patient.textChanged.connect(self._on_patient_text_changed)
        self._patient_timer.timeout.connect(self._on_filter_changed)
        self.patient.returnPressed.connect(self._on_filter_changed)
        self.verify_button.clicked.connect(self.verify)
        self.refresh_button.clicked.connect(self._on_refresh_clicked)
        self.model.rowsInserted.connect(self._update_count)
        self.model.modelReset.connect(self._update_count)

    @classmethod
    def ask(cls, parent: QWidget | None, database: Database) -> None:
        """Show the audit log until closed (it changes nothing, so it returns nothing)."""
        cls(database, parent).exec()

    def _date_edit(self, name: str) -> QDateEdit:
        edit = QDateEdit()
        edit.setObjectName(name)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setCalendarPopup(True)
        edit.setMinimumDate(NO_DATE)
        # The earliest date stands for "no limit".
        edit.setSpecialValueText("any day")
        edit.setDate(NO_DATE)
        return edit

    def _record_opening(self) -> None:
        with self.database.write() as session:
            require(session, Permission.VIEW_AUDIT)
            audit.record(session, "audit.view")

    def _fill_choices(self) -> None:
        with self.database.read() as session:
            names = audit.usernames(session)
            families = audit.action_families(session)
        self.user.addItem("Anyone", None)
        for name in names:
            self.user.addItem(name, name)
        self.action.addItem("Any action", None)
        for family in families:
            self.action.addItem(family, family)

    def _patient_filter(self) -> tuple[int | None, str]:
        """The patient the patient field names, and a note saying which one it matched."""
        text = self.patient.text().strip()
        if not text:
            return None, ""
        with self.database.read() as session:
            ids = search_patient_ids(session, text, limit=50)
            first = patient_rows(session, ids[:1])
        if not first:
            return -1, "No patient matches; nothing is listed."
        note = f"Showing {first[0].name} (chart {first[0].chart_number})"
        if len(ids) > 1:
            more = "50 or more" if len(ids) >= 50 else str(len(ids))
            note += f": {more} patients match, type more to choose another."
        return first[0].id, note

    def current_filter(self) -> AuditFilter:
        """The filter the controls describe."""
        patient_id, note = self._patient_filter()
        self.patient_note.setText(note)
        self.patient_note.setVisible(bool(note))
        since = self._day(self.since)
        until = self._day(self.until)
        return AuditFilter(
            username=self.user.currentData(),
            patient_id=patient_id,
            action=self.action.currentData(),
            since=_day_start(since) if since is not None else None,
            until=_day_start(until + timedelta(days=1)) if until is not None else None,
        )

    @staticmethod
    def _day(edit: QDateEdit) -> date | None:
        """The day an edit shows, or None for "any day"."""
        chosen = edit.date()
        if chosen == NO_DATE:
            return None
        return date(chosen.year(), chosen.month(), chosen.day())

    @Slot()
    def verify(self) -> ChainReport | None:
        """Check the hash chain and say what was found."""
        try:
            with self.database.read() as session:
                report = audit.verify_chain(session)
        except (ServiceError, DatabaseError, SQLAlchemyError) as exc:
            self.chain_report.setText(f"The chain could not be checked: {exc}")
            self.chain_report.setStyleSheet("color: #b3261e;")
            return None
        self.chain_report.setText(describe_chain(report))
        self.chain_report.setStyleSheet(
            "color: #2e7d32;" if report.ok else "color: #b3261e; font-weight: 600;"
        )
        return report

    @Slot()
    def _on_patient_text_changed(self) -> None:
        self._patient_timer.start()

    @Slot()
    def _on_filter_changed(self) -> None:
        self._patient_timer.stop()
        wanted = self.current_filter()
        if wanted != self.model.filter:
            self.model.set_filter(wanted)

    @Slot()
    def _on_refresh_clicked(self) -> None:
        self.model.set_filter(self.current_filter())

    @Slot()
    def _update_count(self) -> None:
        shown = self.model.rowCount()
        more = " (scroll down for older entries)" if self.model.canFetchMore() else ""
        self.count.setText(
            f"{shown:,} entr{'y' if shown == 1 else 'ies'} shown, newest first{more}"
        )
