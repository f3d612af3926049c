"""Base classes for the app's table models: fixed column headings, rows held in a list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

_Index = QModelIndex | QPersistentModelIndex

# Roles as the plain ints ``data()`` receives: a view asks about a thousand times per
# repaint, and comparing with the Qt enum members costs several times more.
DISPLAY_ROLE = int(Qt.ItemDataRole.DisplayRole.value)
TOOLTIP_ROLE = int(Qt.ItemDataRole.ToolTipRole.value)
FOREGROUND_ROLE = int(Qt.ItemDataRole.ForegroundRole.value)


class ColumnsModel(QAbstractTableModel):
    """A table model whose columns are the headings in ``COLUMNS``; subclasses give the rows."""

    COLUMNS: Sequence[str] = ()

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.COLUMNS[section] if 0 <= section < len(self.COLUMNS) else None
        return None


class RowsModel(ColumnsModel):
    """A table model over a list of plain row objects (a small table, or pages appended)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        """Replace every row shown."""
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    @property
    def rows(self) -> list[Any]:
        """The row objects shown, in order."""
        return self._rows

    def item(self, row: int) -> Any:
        """The row object at ``row``, or None outside the table."""
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)
