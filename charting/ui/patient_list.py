"""The patient list: a Qt table model over the database that holds ids and fetches rows lazily."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHeaderView, QTableView

from charting.models.db import Database
from charting.services.patients import (
    PatientRow,
    abbreviate_flags,
    count_search,
    patient_rows,
    search_patient_ids,
)
from charting.ui.table_models import (
    DISPLAY_ROLE,
    FOREGROUND_ROLE,
    TOOLTIP_ROLE,
    ColumnsModel,
)

PatientIdRole = Qt.ItemDataRole.UserRole + 1
FlagsRole = Qt.ItemDataRole.UserRole + 2

_ID = int(PatientIdRole)
_FLAGS = int(FlagsRole)
_SERVED_ROLES = frozenset({DISPLAY_ROLE, TOOLTIP_ROLE, FOREGROUND_ROLE, _ID, _FLAGS})
_FLAG_INK = QBrush(QColor("#b3261e"))

COLUMNS = ("Chart", "Name", "Born", "Visits", "Flags")
PAGE = 64
CACHE_ROWS = 4_000
# Results up to this size are read whole; larger ones (the whole clinic when the search is
# empty: 100,000 ids take ~85 ms to read) are counted, then read a chunk at a time as the
# list scrolls (~5 ms for the count and the first chunk).
EAGER_RESULTS = 5_000
ID_CHUNK = 2_000


class _ResultIds:
    """The ids of a search result in list order, read whole or a chunk at a time."""

    def __init__(self, database: Database, text: str, first_rows: int = 0) -> None:
        """Read the ids matching ``text``, and the rows of the first ``first_rows`` of them
        in the same read (one round trip fewer before the list can paint)."""
        self._database = database
        self._text = text
        self._chunks: dict[int, list[int]] = {}
        with database.read() as session:
            # Most searches match a few patients: one read, no count. Only a result larger
            # than EAGER_RESULTS is counted and then read a chunk at a time.
            first = search_patient_ids(session, text, limit=EAGER_RESULTS + 1)
            self._whole = len(first) <= EAGER_RESULTS
            if self._whole:
                self._chunks = {0: first}
                self._total = len(first)
            else:  # keep the whole chunks already read
                whole = len(first) // ID_CHUNK
                self._chunks = {n: first[n * ID_CHUNK : (n + 1) * ID_CHUNK] for n in range(whole)}
                self._total = count_search(session, text)
            self.first_rows = patient_rows(session, first[:first_rows]) if first_rows else []

    def __len__(self) -> int:
        return self._total

    def _chunk(self, number: int) -> list[int]:
        if self._whole:
            return self._chunks[0]
        chunk = self._chunks.get(number)
        if chunk is None:
            with self._database.read() as session:
                chunk = search_patient_ids(
                    session, self._text, limit=ID_CHUNK, offset=number * ID_CHUNK
                )
            self._chunks[number] = chunk
        return chunk

    def at(self, row: int) -> int | None:
        """The id at ``row`` (None past the end, e.g. after patients were deleted)."""
        if not 0 <= row < self._total:
            return None
        if self._whole:
            return self._chunks[0][row]
        chunk = self._chunk(row // ID_CHUNK)
        offset = row % ID_CHUNK
        return chunk[offset] if offset < len(chunk) else None

    def span(self, start: int, stop: int) -> list[int]:
        """Ids of rows ``start`` to ``stop`` (exclusive)."""
        found = (self.at(row) for row in range(start, min(stop, self._total)))
        return [pid for pid in found if pid is not None]

    def row_of(self, patient_id: int, read_all: bool = True) -> int | None:
        """The row of ``patient_id``; with ``read_all`` the rest of a large result is read
        (once) to find it, else only the chunks read so far are looked at."""
        for number, chunk in self._chunks.items():
            if patient_id in chunk:
                return (0 if self._whole else number * ID_CHUNK) + chunk.index(patient_id)
        if self._whole or not read_all:
            return None
        with self._database.read() as session:
            self._chunks = {0: search_patient_ids(session, self._text)}
        self._whole = True
        self._total = len(self._chunks[0])
        return self.row_of(patient_id, read_all=False)


class _NoIds(_ResultIds):
    """An empty result, made without reading the database (signed out)."""

    def __init__(self) -> None:
        self._chunks = {0: []}
        self._total = 0
        self._whole = True
        self.first_rows = []


_Index = QModelIndex | QPersistentModelIndex


class PatientListModel(ColumnsModel):
    """Patients matching the current search, best match first.

    Only the ids of matching patients are held (for a large result, only the chunks the
    view has reached); rows are read from the database a page at a time when the view first
    asks for them, and kept in a bounded cache.
    """

    COLUMNS = COLUMNS

    def __init__(self, database: Database, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._database = database
        self._ids: _ResultIds = _NoIds()
        self._cache: OrderedDict[int, PatientRow] = OrderedDict()
        self._text = ""

    # -- Qt model interface -------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # Most of the view's many calls are for roles not served: turned away first.
        if role not in _SERVED_ROLES or not index.isValid():
            return None
        if not 0 <= index.row() < len(self._ids):
            return None
        if role == _ID:
            return self._ids.at(index.row())
        row = self._row(index.row())
        if row is None:
            return None
        if role == _FLAGS:
            return row.flags
        col = index.column()
        if role == FOREGROUND_ROLE:
            return _FLAG_INK if col == 4 and row.flags else None
        if role == TOOLTIP_ROLE:
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
        ids = _ResultIds(self._database, self._text, first_rows=PAGE)
        self.beginResetModel()
        self._ids = ids
        self._cache.clear()
        self._cache.update((row.id, row) for row in ids.first_rows)
        self.endResetModel()

    def clear(self) -> None:
        """Show nobody, without reading the database (used when signing out)."""
        self.beginResetModel()
        self._text = ""
        self._ids = _NoIds()
        self._cache.clear()
        self.endResetModel()

    def invalidate(self, patient_ids: frozenset[int]) -> None:
        """Forget cached rows of changed patients and repaint them."""
        for pid in patient_ids:
            self._cache.pop(pid, None)
        for pid in patient_ids:
            row = self._ids.row_of(pid, read_all=False)  # rows not read are not on screen
            if row is not None:
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def patient_id(self, row: int) -> int | None:
        """The patient id shown at ``row``."""
        return self._ids.at(row)

    def row_of(self, patient_id: int, read_all: bool = True) -> int | None:
        """The row showing ``patient_id``, if it is in the current result; with
        ``read_all=False`` only the part of a large result read so far is looked at."""
        return self._ids.row_of(patient_id, read_all)

    def _row(self, row: int) -> PatientRow | None:
        pid = self._ids.at(row)
        if pid is None:
            return None
        cached = self._cache.get(pid)
        if cached is not None:
            self._cache.move_to_end(pid)
            return cached
        start = max(0, row - PAGE // 4)
        page = [i for i in self._ids.span(start, start + PAGE) if i not in self._cache]
        with self._database.read() as session:
            for fetched in patient_rows(session, page):
                self._cache[fetched.id] = fetched
        while len(self._cache) > CACHE_ROWS:
            self._cache.popitem(last=False)
        return self._cache.get(pid)


#: The name column never gets narrower than this (about 18 characters: "Castellanos, Mira").
NAME_MIN_WIDTH = 150
#: Fixed widths of the other columns, and the order they give way in when the list is too
#: narrow for a readable name: the visit count first, then the chart number, then the flags
#: (the chart opened beside the list shows the flags in full). Born always stays: with the
#: name it tells two patients apart.
OTHER_WIDTHS = {0: 64, 2: 88, 3: 48, 4: 110}
GIVE_WAY = (3, 0, 4)


class ReadableNames(QObject):
    """Keeps the patient list's names readable however narrow the list gets.

    The name column stretches; when the list is too narrow for the other columns and a name
    of NAME_MIN_WIDTH, the less needed columns are hidden (and shown again when room comes
    back), so a narrow list never shows its names as "…".
    """

    def __init__(self, table: QTableView) -> None:
        """Set the columns' widths on ``table`` and watch its size."""
        super().__init__(table)
        self._table = table
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(40)
        for column, width in OTHER_WIDTHS.items():
            header.resizeSection(column, width)
        table.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Re-fit the columns whenever the list's visible area changes size."""
        if event.type() == QEvent.Type.Resize:
            self.fit()
        return False

    def fit(self) -> None:
        """Hide the columns that must give way so the name keeps NAME_MIN_WIDTH."""
        room = self._table.viewport().width() - NAME_MIN_WIDTH
        hidden: set[int] = set()
        needed = sum(OTHER_WIDTHS.values())
        for column in GIVE_WAY:
            if needed <= room:
                break
            hidden.add(column)
            needed -= OTHER_WIDTHS[column]
        for column in OTHER_WIDTHS:
            if self._table.isColumnHidden(column) != (column in hidden):
                self._table.setColumnHidden(column, column in hidden)
