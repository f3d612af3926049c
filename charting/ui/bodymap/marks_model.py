"""The visit's marks as a Qt list model: the one the mark list shows and the map selects in."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from charting.bodymap import BodyMap
from charting.services.marks import KIND_LABELS, TECHNIQUES, MarkRow

MarkIdRole = Qt.ItemDataRole.UserRole + 1
_Index = QModelIndex | QPersistentModelIndex


class MarkListModel(QAbstractListModel):
    """The visit's marks, in the order they were made (the same rows the map draws).

    The map and the list share this model and one selection model on it, so selecting a mark
    in either selects it in both.
    """

    def __init__(self, bodymap: BodyMap, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._bodymap = bodymap
        self._rows: list[MarkRow] = []
        self._row_of: dict[int, int] = {}

    def set_rows(self, rows: list[MarkRow]) -> None:
        """Show ``rows``. Only the run of rows that differs is removed and inserted (a click
        adds one mark to a list of hundreds; the views keep their place and selection)."""
        old, new = self._rows, list(rows)
        shorter = min(len(old), len(new))
        head = 0
        while head < shorter and old[head].id == new[head].id:
            head += 1
        tail = 0
        while tail < shorter - head and old[-1 - tail].id == new[-1 - tail].id:
            tail += 1
        if len(old) - tail > head:
            self.beginRemoveRows(QModelIndex(), head, len(old) - tail - 1)
            self._rows = old[:head] + old[len(old) - tail :]
            self._reindex()
            self.endRemoveRows()
        if len(new) - tail > head:
            self.beginInsertRows(QModelIndex(), head, len(new) - tail - 1)
            self._rows = new
            self._reindex()
            self.endInsertRows()
        self._rows = new
        self._reindex()
        # Kept rows whose details changed (same mark, new technique or note) are repainted.
        offset = len(old) - len(new)
        changed = [
            i
            for i in [*range(head), *range(len(new) - tail, len(new))]
            if old[i + (offset if i >= head else 0)] != new[i]
        ]
        if changed:
            self.dataChanged.emit(self.index(min(changed)), self.index(max(changed)))

    def _reindex(self) -> None:
        self._row_of = {row.id: i for i, row in enumerate(self._rows)}

    @property
    def rows(self) -> list[MarkRow]:
        """Every mark shown, in order."""
        return list(self._rows)

    def row_of(self, mark_id: int) -> int | None:
        """List row of a mark id."""
        return self._row_of.get(mark_id)

    def mark(self, row: int) -> MarkRow | None:
        """The mark at ``row``."""
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == MarkIdRole:
            return row.id
        if role == Qt.ItemDataRole.DisplayRole:
            parts = [row.label]
            if row.spec.point_code:
                name = self._bodymap.point(row.spec.point_code).pinyin
                parts.append(f"{name} (custom point)" if row.custom else name)
            elif row.spec.muscle_id:
                parts.append(self._bodymap.muscle(row.spec.muscle_id).name)
            else:
                parts.append(KIND_LABELS[row.kind])
            if row.spec.technique:
                parts.append(TECHNIQUES.get(row.spec.technique, row.spec.technique))
            return "  \u00b7  ".join(parts)
        if role == Qt.ItemDataRole.ToolTipRole and row.flags:
            return "Cautions: " + ", ".join(sorted(row.flags))
        return None
