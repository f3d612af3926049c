"""The clinic's custom points: the list (add, edit, retire, delete) and the editor with a
small map to place a point by clicking."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QMouseEvent, QPainter, QPainterPath, QPen, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from charting.bodymap import BodyMap, load_bodymap
from charting.bodymap.model import VIEW_IDS
from charting.bodymap.style import mark_style
from charting.services import custom_points as service
from charting.services.access import Permission, actor_of
from charting.services.custom_points import CustomPointInput, CustomPointRow
from charting.services.errors import ServiceError, ValidationError
from charting.ui.app_rules import no_wheel_focus
from charting.ui.bodymap.items import ArtworkItem, PointsLayer
from charting.ui.forms import FieldForm, line, resize_within_screen, text_box
from charting.ui.ops import OpRunner
from charting.ui.table_models import RowsModel

_Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("Code", "Name", "View", "Sides", "Status", "Marks", "Added by")


def view_title(bodymap: BodyMap, view_id: str) -> str:
    """The human title of a view ("Posterior view")."""
    view = bodymap.views.get(view_id)
    return view.title if view is not None else view_id


class PlacementMap(QGraphicsView):
    """A small map of one view: a click on the body places the custom point there.

    Signals:
        position_picked(float x, float y): a click on the body, in model units of the view.
    """

    position_picked = Signal(float, float)

    def __init__(self, bodymap: BodyMap, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("customPointMap")
        self._bm = bodymap
        self.view_id = ""
        self._scene = QGraphicsScene(self)
        self.setScene(self._scene)
        self.setRenderHints(QPainter.RenderHint.Antialiasing)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumSize(220, 300)
        self.viewport().setCursor(Qt.CursorShape.CrossCursor)
        self.marker = QGraphicsPathItem()
        self.marker.setZValue(10)
        self.marker.setVisible(False)

    def set_view(self, view_id: str) -> None:
        """Show ``view_id`` (with the points already on it)."""
        if view_id == self.view_id:
            return
        self.view_id = view_id
        view = self._bm.views[view_id]
        if self.marker.scene() is not None:
            self._scene.removeItem(self.marker)  # kept: clear() would delete it
        self._scene.clear()
        self._scene.addItem(ArtworkItem(view))
        self._scene.addItem(PointsLayer(self._bm, view))
        self._scene.addItem(self.marker)
        self.marker.setVisible(False)
        self._scene.setSceneRect(QRectF(0, 0, view.width, view.height))
        self._fit()

    def set_position(self, x: float, y: float) -> None:
        """Put the marker at ``(x, y)`` (model units)."""
        view = self._bm.views[self.view_id]
        r = 0.5 * view.units_per_cun(x, y)
        path = QPainterPath()
        path.addRect(QRectF(-r, -r, 2 * r, 2 * r))
        self.marker.setPath(path)
        self.marker.setBrush(QBrush(QColor(mark_style("custom").fill)))
        self.marker.setPen(QPen(QColor("#ffffff"), 0.3 * r))
        self.marker.setPos(QPointF(x, y))
        self.marker.setVisible(True)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not self.view_id:
            super().mousePressEvent(event)
            return
        spot = self.mapToScene(event.position().toPoint())
        if self._bm.inside_outline(self.view_id, spot.x(), spot.y()):
            self.set_position(spot.x(), spot.y())
            self.position_picked.emit(spot.x(), spot.y())
        event.accept()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self.view_id:
            self.fitInView(self._scene.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)


def _coordinate() -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(1)
    box.setRange(0.0, 5_000.0)
    box.setSingleStep(1.0)
    box.setSuffix(" units")
    no_wheel_focus(box)
    return box


class CustomPointEditor(QDialog):
    """Add a custom point, or edit one: code, name, view and position (click the small map or
    type the coordinates), location, cautions and safe depth. A point that marks already use
    keeps its code, name, view and position (what the visits show)."""

    def __init__(
        self,
        ops: OpRunner,
        row: CustomPointRow | None = None,
        at: tuple[str, float, float] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("customPointEditor")
        self.ops = ops
        self.row = row
        self.saved_id: int | None = None
        self.setWindowTitle("Add a custom point" if row is None else f"Edit {row.code}")
        # The clinic's map, so the points already there (custom ones too) show on it.
        bodymap = ops.read(service.clinic_bodymap)
        self.code = line("e.g. C-HEEL (letters, digits, hyphens)", 20)
        self.name = line("e.g. Heel spur point", 80)
        self.view = QComboBox()
        for view_id in VIEW_IDS:
            self.view.addItem(view_title(bodymap, view_id), view_id)
        no_wheel_focus(self.view)
        self.x_box, self.y_box = _coordinate(), _coordinate()
        where = QWidget()
        where_row = QHBoxLayout(where)
        where_row.setContentsMargins(0, 0, 0, 0)
        for caption, box in (("across", self.x_box), ("down", self.y_box)):
            where_row.addWidget(QLabel(caption))
            where_row.addWidget(box, 1)
        self.location = text_box("Where it is, in the clinic's words", 2)
        self.cautions = text_box("Needling cautions, if any", 2)
        self.safe_depth = QDoubleSpinBox()
        self.safe_depth.setRange(0.0, service.MAX_SAFE_DEPTH_MM)
        self.safe_depth.setDecimals(0)
        self.safe_depth.setSuffix(" mm")
        self.safe_depth.setSpecialValueText("Not set")
        no_wheel_focus(self.safe_depth)
        self.form = FieldForm()
        self.form.add("code", "&Code", self.code)
        self.form.add("name", "&Name", self.name)
        self.form.add("view", "&View", self.view)
        self.form.add("position", "&Position", where, self.x_box)
        self.form.add("location", "&Location", self.location)
        self.form.add("cautions", "C&autions", self.cautions)
        self.form.add("safe_depth_mm", "&Safe depth", self.safe_depth)
        self.note = QLabel(
            "Click the map to place the point. A point away from the midline exists on both "
            "sides; marks of it print as a custom point (green square), never as a standard "
            "point."
        )
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #555;")
        self.map = PlacementMap(bodymap)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.setObjectName("customPointButtons")
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        left = QVBoxLayout()
        left.addLayout(self.form)
        left.addWidget(self.note)
        left.addStretch(1)
        body = QHBoxLayout()
        body.addLayout(left, 3)
        body.addWidget(self.map, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(buttons)
        self.view.currentIndexChanged.connect(self._on_view_current_index_changed)
        self.map.position_picked.connect(self._on_map_position_picked)
        self.x_box.valueChanged.connect(self._on_coordinate_value_changed)
        self.y_box.valueChanged.connect(self._on_coordinate_value_changed)
        self._fill(row, at)
        resize_within_screen(self, 760, 520)

    def _fill(self, row: CustomPointRow | None, at: tuple[str, float, float] | None) -> None:
        view_id, x, y = at if at is not None else ("posterior", 0.0, 0.0)
        if row is not None:
            view_id, x, y = row.view, row.x, row.y
            self.code.setText(row.code)
            self.name.setText(row.name)
            self.location.setPlainText(row.location)
            self.cautions.setPlainText(row.cautions)
            self.safe_depth.setValue(row.safe_depth_mm or 0.0)
        self.view.setCurrentIndex(max(0, self.view.findData(view_id)))
        self.map.set_view(view_id)
        self.x_box.setValue(x)
        self.y_box.setValue(y)
        if row is not None and row.uses:
            fixed = (self.code, self.name, self.view, self.x_box, self.y_box, self.cautions)
            for widget in (*fixed, self.safe_depth, self.map):
                widget.setEnabled(False)
            self.note.setText(
                f"{row.code} is used by {row.uses} mark(s): only its location text can change, "
                "so the visits that used it read and check the same. Retire it and add a new "
                "point to change the rest."
            )

    def entry(self) -> CustomPointInput:
        """What the form holds."""
        depth = self.safe_depth.value()
        return CustomPointInput(
            code=self.code.text(),
            name=self.name.text(),
            view=str(self.view.currentData()),
            x=self.x_box.value(),
            y=self.y_box.value(),
            location=self.location.toPlainText(),
            cautions=self.cautions.toPlainText(),
            safe_depth_mm=depth if depth > 0 else None,
        )

    @Slot(int)
    def _on_view_current_index_changed(self, _index: int) -> None:
        self.map.set_view(str(self.view.currentData()))

    @Slot(float, float)
    def _on_map_position_picked(self, x: float, y: float) -> None:
        for box, value in ((self.x_box, x), (self.y_box, y)):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
        self.form.show_errors({})

    @Slot(float)
    def _on_coordinate_value_changed(self, _value: float) -> None:
        self.map.set_position(self.x_box.value(), self.y_box.value())

    @Slot()
    def _on_buttons_accepted(self) -> None:
        entry = self.entry()
        try:
            if self.row is None:
                result = self.ops.attempt(service.add_custom_point, entry, origin=self)
            else:
                result = self.ops.attempt(
                    service.update_custom_point, self.row.id, entry, origin=self
                )
        except ValidationError as exc:
            self.form.show_errors(exc.errors)
            return
        except ServiceError as exc:
            QMessageBox.warning(self, "Not saved", str(exc))
            return
        self.saved_id = result[0]
        self.accept()

    @classmethod
    def add_at(
        cls, parent: QWidget | None, ops: OpRunner, view_id: str, x: float, y: float
    ) -> int | None:
        """Ask for a new custom point placed at ``(x, y)`` on ``view_id``; its id or None."""
        dialog = cls(ops, None, (view_id, x, y), parent)
        dialog.name.setFocus()
        return dialog.saved_id if dialog.exec() == QDialog.DialogCode.Accepted else None


class CustomPointsModel(RowsModel):
    """The clinic's custom points (there are few: read in one go)."""

    COLUMNS = COLUMNS

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row: CustomPointRow | None = self.item(index.row()) if index.isValid() else None
        if row is None:
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(QColor("#888888")) if row.retired else None
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 1:
            return row.location or None
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return (
            row.code,
            row.name,
            view_title(load_bodymap(), row.view),
            "Midline" if row.laterality == "midline" else "Both sides",
            "Retired" if row.retired else "In use" if row.uses else "Offered",
            str(row.uses),
            row.added_by or "—",
        )[index.column()]


class CustomPointsDialog(QDialog):
    """The clinic's custom points: list, add, edit, retire or bring back, delete if unused."""

    def __init__(self, ops: OpRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("customPointsDialog")
        self.setWindowTitle("Custom points")
        self.ops = ops
        intro = QLabel(
            "The clinic's own named points, beside the WHO standard points. They are placed, "
            "searched and charted like catalog points, drawn as green squares, and printed "
            "and exported as custom points. A point used in a visit can be retired, not "
            "deleted."
        )
        intro.setWordWrap(True)
        self.model = CustomPointsModel(self)
        self.table = QTableView()
        self.table.setObjectName("customPointsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.add_button = QPushButton("&Add…")
        self.add_button.setObjectName("addCustomPoint")
        self.edit_button = QPushButton("&Edit…")
        self.edit_button.setObjectName("editCustomPoint")
        self.retire_button = QPushButton("&Retire")
        self.retire_button.setObjectName("retireCustomPoint")
        self.delete_button = QPushButton("&Delete")
        self.delete_button.setObjectName("deleteCustomPoint")
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        buttons = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.retire_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(self._on_add_button_clicked)
        self.edit_button.clicked.connect(self._on_edit_button_clicked)
        self.retire_button.clicked.connect(self._on_retire_button_clicked)
        self.delete_button.clicked.connect(self._on_delete_button_clicked)
        self.table.doubleClicked.connect(self._on_table_double_clicked)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.allowed = ops.read(lambda s: actor_of(s).can(Permission.CUSTOM_POINTS))
        self.refresh()
        resize_within_screen(self, 760, 420)

    def refresh(self, select_id: int | None = None) -> None:
        """Read the custom points again (keeping or moving the selection)."""
        current = self.current()
        keep = select_id if select_id is not None else current.id if current else None
        self.model.set_rows(self.ops.read(service.list_custom_points))
        for i, row in enumerate(self.model.rows):
            if row.id == keep:
                self.table.selectRow(i)
        self._update_buttons()

    def current(self) -> CustomPointRow | None:
        """The selected custom point."""
        rows = self.table.selectionModel().selectedRows()
        item: CustomPointRow | None = self.model.item(rows[0].row()) if rows else None
        return item

    @Slot()
    def _update_buttons(self) -> None:
        row = self.current()
        self.add_button.setEnabled(self.allowed)
        self.edit_button.setEnabled(self.allowed and row is not None)
        self.retire_button.setEnabled(self.allowed and row is not None)
        self.retire_button.setText("&Bring back" if row is not None and row.retired else "&Retire")
        self.delete_button.setEnabled(self.allowed and row is not None and not row.uses)

    @Slot()
    def _on_add_button_clicked(self) -> None:
        editor = CustomPointEditor(self.ops, None, None, self)
        if editor.exec() == QDialog.DialogCode.Accepted:
            self.refresh(editor.saved_id)

    @Slot()
    def _on_edit_button_clicked(self) -> None:
        row = self.current()
        if row is None:
            return
        editor = CustomPointEditor(self.ops, row, None, self)
        if editor.exec() == QDialog.DialogCode.Accepted:
            self.refresh(row.id)

    @Slot(QModelIndex)
    def _on_table_double_clicked(self, _index: QModelIndex) -> None:
        if self.allowed:
            self._on_edit_button_clicked()

    @Slot()
    def _on_retire_button_clicked(self) -> None:
        row = self.current()
        if row is not None and self.ops.run(
            self, service.retire_custom_point, row.id, not row.retired
        ):
            self.refresh(row.id)

    @Slot()
    def _on_delete_button_clicked(self) -> None:
        row = self.current()
        if row is None:
            return
        answer = QMessageBox.question(
            self, "Delete custom point", f"Delete {row.code} ({row.name})? No visit uses it."
        )
        if answer == QMessageBox.StandardButton.Yes and self.ops.run(
            self, service.delete_custom_point, row.id
        ):
            self.refresh()

    @classmethod
    def show_for(cls, parent: QWidget | None, ops: OpRunner) -> None:
        """Show the list of custom points until it is closed."""
        cls(ops, parent).exec()
