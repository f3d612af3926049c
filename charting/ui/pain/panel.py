"""The pain drawing of the open visit: the views to draw on, the tools, and what it measures.

Every stroke, fill and erasure is stored as it is made (one undoable step each, on the visit's
undo stack), and the measures shown are the ones computed and kept with the visit.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from charting.bodymap import BodyMap
from charting.bodymap import regions as body_regions
from charting.services import pain_drawings
from charting.services.changes import Changes
from charting.services.pain_drawings import QUALITIES, QUALITY_COLOURS
from charting.services.pain_measures import AreaShape, PainMeasures
from charting.ui.mark_commands import _MarkCommand
from charting.ui.ops import OpRunner
from charting.ui.pain.canvas import TOOLS, PainCanvas

TOOL_LABELS = {"brush": "Brush", "region": "Fill a region", "erase": "Eraser"}
CHANGE_WORDS = {
    "centralised": "centralised (moved up towards the spine)",
    "peripheralised": "peripheralised (moved down the leg)",
    "unchanged": "no change in how far down it reaches",
}


class AddPainAreaCommand(_MarkCommand):
    """One stroke, fill or erasure; undo takes it off, redo puts the same one back."""

    def __init__(
        self, ops: OpRunner, bodymap: BodyMap, visit_id: int, shape: AreaShape, text: str
    ) -> None:
        super().__init__(ops, bodymap, text)
        self.visit_id, self.shape = visit_id, shape
        self.area_id: int | None = None
        self._removed: dict[str, Any] | None = None

    def redo(self) -> None:
        if self._removed is not None:
            self._run(pain_drawings.restore_area, self.bodymap, self._removed)
            return
        result = self._run(pain_drawings.add_area, self.bodymap, self.visit_id, self.shape)
        if result is not None:
            self.area_id = result[0]

    def undo(self) -> None:
        result = self._run(pain_drawings.remove_area, self.bodymap, self.area_id)
        if result is not None:
            self._removed = result[0]


def measures_text(m: PainMeasures | None) -> str:
    """The measures in words, for the panel and the course view."""
    if m is None or m.shaded_area <= 0:
        return "Nothing drawn yet."
    lines = [f"Pain extent: {m.extent_percent:.1f}% of the body shown"]
    legs = [
        f"{'left' if side == 'L' else 'right'} leg: "
        f"{body_regions.EXTENT_LABELS[m.furthest.get(side, 'none')].lower()}"
        for side in body_regions.SIDES
    ]
    lines.append("Furthest down: " + "; ".join(legs))
    if m.since_previous:
        overlap = (
            f" (overlap with last time {100 * m.overlap_previous:.0f}%)"
            if m.overlap_previous is not None
            else ""
        )
        lines.append(f"Since the last drawing: {CHANGE_WORDS[m.since_previous]}{overlap}")
    if m.since_first:
        lines.append(f"Since the first drawing: {CHANGE_WORDS[m.since_first]}")
    lines += list(m.dermatome_hints)
    return "\n".join(lines)


class PainPanel(QWidget):
    """Draw where it hurts, on every view, for the open visit.

    Signals:
        patient_mode_requested(): hand the drawing to the patient (full screen, patient mode).
        drawing_loaded(list): the visit's drawing as read (AreaShape list), after every change.
    """

    patient_mode_requested = Signal()
    drawing_loaded = Signal(list)

    def __init__(
        self,
        ops: OpRunner,
        bodymap: BodyMap,
        undo_stack: QUndoStack,
        parent: QWidget | None = None,
        drawn_by: str = "practitioner",
        large: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("painPanel")
        self.ops = ops
        self.bodymap = bodymap
        self.undo_stack = undo_stack
        self.drawn_by = drawn_by
        self.visit_id: int | None = None
        self._editable = False
        self.areas: list[AreaShape] = []
        self.canvases = {v: PainCanvas(bodymap, v) for v in bodymap.views}
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        for i, canvas in enumerate(self.canvases.values()):
            grid.addWidget(canvas, 0, i)
            grid.setColumnStretch(i, 3 if canvas.view_id == "posterior" else 2)
            canvas.stroke_drawn.connect(self._on_canvas_stroke_drawn)
            canvas.region_tapped.connect(self._on_canvas_region_tapped)
        self.tools = QButtonGroup(self)
        tool_row = QHBoxLayout()
        for i, tool in enumerate(TOOLS):
            button = QToolButton()
            button.setObjectName(f"painTool_{tool}")
            button.setText(TOOL_LABELS[tool])
            button.setCheckable(True)
            if large:
                button.setMinimumSize(140, 56)
            self.tools.addButton(button, i)
            tool_row.addWidget(button)
        self.tools.button(0).setChecked(True)
        self.quality = QComboBox()
        self.quality.setObjectName("painQuality")
        for key, label in QUALITIES.items():
            self.quality.addItem(label, key)
        self.intensity = QSpinBox()
        self.intensity.setObjectName("painIntensity")
        self.intensity.setRange(0, 10)
        self.intensity.setValue(5)
        self.intensity.setPrefix("Intensity ")
        self.intensity.setSuffix(" / 10")
        self.brush_size = QSlider(Qt.Orientation.Horizontal)
        self.brush_size.setObjectName("painBrushSize")
        self.brush_size.setRange(8, 120)
        self.brush_size.setValue(30)
        self.brush_size.setToolTip("Brush size")
        tool_row.addWidget(QLabel("Feels:"))
        tool_row.addWidget(self.quality)
        tool_row.addWidget(self.intensity)
        tool_row.addWidget(QLabel("Size"))
        tool_row.addWidget(self.brush_size, 1)
        self.show_previous = QCheckBox("Show last visit's drawing")
        self.show_previous.setObjectName("painShowPrevious")
        self.patient_button = QPushButton("Patient mode\u2026")
        self.patient_button.setObjectName("painPatientMode")
        self.patient_button.setToolTip(
            "Hand the drawing to the patient: a full-screen page with large controls; "
            "coming back asks for your password"
        )
        self.patient_button.clicked.connect(self.patient_mode_requested)
        options = QHBoxLayout()
        options.addWidget(self.show_previous)
        options.addStretch(1)
        options.addWidget(self.patient_button)
        self.legend = QLabel()
        self.legend.setObjectName("painLegend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)  # never sets the window's minimum width
        self.legend.setText(
            "  ".join(
                f"<span style='color:{QUALITY_COLOURS[k]}'>\u25a0</span> {label}"
                for k, label in QUALITIES.items()
            )
        )
        self.measures = QLabel("Nothing drawn yet.")
        self.measures.setObjectName("painMeasures")
        self.measures.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(tool_row)
        layout.addLayout(grid, 1)
        layout.addWidget(self.legend)
        layout.addLayout(options)
        layout.addWidget(self.measures)
        self.tools.idClicked.connect(self._on_tools_id_clicked)
        self.quality.currentIndexChanged.connect(self._on_settings_changed)
        self.brush_size.valueChanged.connect(self._on_settings_changed)
        self.show_previous.toggled.connect(self._on_show_previous_toggled)
        self._previous: list[AreaShape] = []
        self._on_settings_changed()
        ops.changes_applied.connect(self._on_ops_changes_applied)

    @Slot(object)
    def _on_ops_changes_applied(self, changes: Changes) -> None:
        # Drawing, undo and redo all come back here (and changes made elsewhere too).
        if self.visit_id is not None and self.visit_id in changes.visits and not changes.marks:
            self.refresh()

    # -- showing -----------------------------------------------------------------------------
    def show_visit(self, visit_id: int, editable: bool) -> None:
        """Show the visit's drawing (and keep the previous visit's at hand)."""
        self.visit_id = visit_id
        self._editable = editable
        for canvas in self.canvases.values():
            canvas.read_only = not editable
        self.refresh()

    def refresh(self) -> None:
        """Read the drawing and its measures again."""
        vid = self.visit_id
        if vid is None:
            return

        def load(session: Any) -> tuple[list[AreaShape], list[AreaShape], PainMeasures | None]:
            areas = [a.shape for a in pain_drawings.drawing(session, vid)]
            previous_id, _first = pain_drawings.previous_and_first(session, vid)
            previous = (
                [a.shape for a in pain_drawings.drawing(session, previous_id)]
                if previous_id is not None
                else []
            )
            kept = pain_drawings.stored_measures(session, [vid]).get(vid)
            return areas, previous, kept

        self.areas, self._previous, kept = self.ops.read(load)
        shown = self._previous if self.show_previous.isChecked() else []
        for canvas in self.canvases.values():
            canvas.set_areas(self.areas, shown)
            canvas.previous_layer.setVisible(self.show_previous.isChecked())
        self.show_previous.setEnabled(bool(self._previous))
        self.measures.setText(measures_text(kept))
        self.drawing_loaded.emit(list(self.areas))

    # -- drawing -----------------------------------------------------------------------------
    def _push(self, shape: AreaShape, text: str) -> None:
        if self.visit_id is None or not self._editable:
            return
        command = AddPainAreaCommand(self.ops, self.bodymap, self.visit_id, shape, text)
        command.parent_widget = self
        self.undo_stack.push(command)  # the change comes back through changes_applied

    @Slot(str, str, list, float)
    def _on_canvas_stroke_drawn(self, view: str, kind: str, points: list, width: float) -> None:
        shape = AreaShape(
            view,
            kind,
            self.drawn_by,
            tuple((float(x), float(y)) for x, y in points),
            width,
            quality="" if kind == "erase" else self.quality.currentData(),
            intensity=None if kind == "erase" else self.intensity.value(),
        )
        self._push(shape, "Erase pain" if kind == "erase" else "Draw pain")

    @Slot(str, str, str)
    def _on_canvas_region_tapped(self, view: str, region: str, side: str) -> None:
        shape = AreaShape(
            view,
            "region",
            self.drawn_by,
            region=region,
            side=side,
            quality=self.quality.currentData(),
            intensity=self.intensity.value(),
        )
        self._push(shape, f"Fill {body_regions.REGION_LABELS[region].lower()}")

    @Slot(int)
    def _on_tools_id_clicked(self, index: int) -> None:
        for canvas in self.canvases.values():
            canvas.tool = TOOLS[index]

    @Slot()
    def _on_settings_changed(self) -> None:
        for canvas in self.canvases.values():
            canvas.quality = self.quality.currentData()
            canvas.width_units = float(self.brush_size.value())

    @Slot(bool)
    def _on_show_previous_toggled(self, _shown: bool) -> None:
        self.refresh()
