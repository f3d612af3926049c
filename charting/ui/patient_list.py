"""The patient list: a Qt table model over the database that holds ids and fetches rows lazily."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor

from charting.models.db import Database
from charting.services.patients import (
    PatientRow,
    abbreviate_flags,
    patient_rows,
    search_patient_ids,
)
from charting.ui.table_models import ColumnsModel

PatientIdRole = Qt.ItemDataRole.UserRole + 1
FlagsRole = Qt.ItemDataRole.UserRole + 2

COLUMNS = ("Chart", "Name", "Born", "Visits", "Flags")
PAGE = 64
CACHE_ROWS = 4_000

_Index = QModelIndex | QPersistentModelIndex


class PatientListModel(ColumnsModel):
    """Patients matching the current search, best match first.

    Only the ids of matching patients are held; rows are read from the database a page at a
    time when the view first asks for them, and kept in a bounded cache.
    """

    COLUMNS = COLUMNS

    def __init__(self, database: Database, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._database = database
        self._ids: list[int] = []
        self._cache: OrderedDict[int, PatientRow] = OrderedDict()
        self._text = ""

    # -- Qt model interface -------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        if role == PatientIdRole:
            return self._ids[index.row()]
        if role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
            Qt.ItemDataRole.ForegroundRole,
            FlagsRole,
        ):
            return None
        row = self._row(index.row())
        if row is None:
            return None
        if role == FlagsRole:
            return row.flags
        col = index.column()
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(QColor("#b3261e")) if col == 4 and row.flags else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(row.flags) if row.flags else None
        if col == 0:
            return row.chart_number
        if col == 1:
            return row.name
        if col == 2:
            return row.date_of_birth.isoformat() if row.date_of_birth else ""
        if col == 3:
            return str(row.visit_count)
        if col == 4:
            return abbreviate_flags(row.flags)
        return None

    # -- our interface -----------------------------------------------------------------
    @property
    def search_text(self) -> str:
        """The text the list is currently filtered by."""
        return self._text

    def set_search(self, text: str) -> None:
        """Show the patients matching ``text`` (see ``search_patient_ids``)."""
        self._text = text
        self.refresh()

    def refresh(self) -> None:
        """Re-run the current search and drop cached rows (after any change)."""
        with self._database.read() as session:
            ids = search_patient_ids(session, self._text)
        self.beginResetModel()
        self._ids = ids
        self._cache.clear()
        self.endResetModel()

    def clear(self) -> None:
        """Show nobody, without reading the database (used when signing out)."""
        self.beginResetModel()
        self._text = ""
        self._ids = []
        self._cache.clear()
        self.endResetModel()

    def invalidate(self, patient_ids: frozenset[int]) -> None:
        """Forget cached rows of changed patients and repaint them."""
        for pid in patient_ids:
            self._cache.pop(pid, None)
        for pid in patient_ids:
            if pid in self._ids:
                row = self._ids.index(pid)
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def patient_id(self, row: int) -> int | None:
        """The patient id shown at ``row``."""
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, patient_id: int) -> int | None:
        """The row showing ``patient_id``, if it is in the current result."""
        try:
            return self._ids.index(patient_id)
        except ValueError:
            return None

    def _row(self, row: int) -> PatientRow | None:
        pid = self._ids[row]
        cached = self._cache.get(pid)
        if cached is not None:
            self._cache.move_to_end(pid)
            return cached
        start = max(0, row - PAGE // 4)
        page = [i for i in self._ids[start : start + PAGE] if i not in self._cache]
        with self._database.read() as session:
            for fetched in patient_rows(session, page):
                self._cache[fetched.id] = fetched
        while len(self._cache) > CACHE_ROWS:
            self._cache.popitem(last=False)
        return self._cache.get(pid)
