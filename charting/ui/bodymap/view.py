"""The body map widget: clicks, taps, drags, keys, the wheel and pinches on the scenes."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape

from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QPoint,
    QPointF,
    QRectF,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QEventPoint,
    QHelpEvent,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QResizeEvent,
    QShowEvent,
    QTouchEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QApplication, QGraphicsView, QMenu, QToolTip, QWidget

from charting.bodymap import BodyMap
from charting.bodymap.clicks import MODES, SNAP_CUN, Placement, placement_at
from charting.bodymap.presets import presets_for, region_rect
from charting.bodymap.style import CAUTION_COLOUR
from charting.services.marks import MarkRow, kind_label
from charting.services.pain_measures import AreaShape
from charting.ui.bodymap.items import FLAG_TEXT, MarkItem, MarkLabel
from charting.ui.bodymap.marks_model import MarkIdRole, MarkListModel
from charting.ui.bodymap.scene import MapScene
from charting.ui.pain.layer import PainLayer

ZOOM_STEP = 1.25
#: Zoom limits relative to the fitted scale.
MIN_ZOOM, MAX_ZOOM = 0.6, 14.0
SCENE_MARGIN = 12.0
#: Labels are laid out again this long after the last zoom, pan or change (they keep their
#: places meanwhile), so a zoom step or a click paints at once.
LABEL_DELAY_MS = 30
#: A touch that moves less than this (pixels) is a tap.
TAP_SLOP_PX = 12


@dataclass
class _Press:
    """A mouse press (or a touch) being followed until its release."""

    kind: str  # "mark", "label", "body" or "pan"
    pos: QPointF
    scroll: tuple[int, int]
    starts: dict[int, QPointF] = field(default_factory=dict)
    dragging: bool = False


class BodyMapView(QGraphicsView):
    """The body map the practitioner charts on; it shows marks but never stores them.

    The marks live in :attr:`mark_model`, and the selection in :attr:`selection` (a
    ``QItemSelectionModel`` on it): a list view given the same two shows and changes the same
    selection, with nothing to keep in step.

    Signals:
        point_clicked(str view_id, str code, str side, float x, float y): a click snapped to
            a catalog acupoint (x, y: the catalog position of the point).
        trigger_clicked(str view_id, str muscle_id, str side, float x, float y): a click over
            a muscle, away from points: a trigger point at the exact click position.
        free_clicked(str kind, str view_id, str side, float x, float y): an "ashi" or
            "cupping" site at the exact position (by mode, or Shift+click for ashi).
        mark_moved(int mark_id, float x, float y): a mark was dragged to a new position on
            the body (emitted once, on release).
        delete_requested(list mark_ids): Delete/Backspace or the context menu's "Delete".
        mark_activated(int mark_id): double-click on a mark, or "Edit details…".
        selection_changed(list mark_ids): the selected marks changed (from the map or list).
        view_changed(str view_id): another view is shown.
        region_changed(str preset_id): the map was zoomed to a region preset ("" when the
            zoom no longer matches one).
        hover_text_changed(str text): what is under the cursor, for a status bar ("" when
            nothing).
        custom_point_requested(str view_id, float x, float y): "Add a custom point here…"
            from the context menu on the body (only offered when
            :attr:`custom_points_allowed`).
    """

    point_clicked = Signal(str, str, str, float, float)
    trigger_clicked = Signal(str, str, str, float, float)
    free_clicked = Signal(str, str, str, float, float)
    mark_moved = Signal(int, float, float)
    delete_requested = Signal(list)
    mark_activated = Signal(int)
    selection_changed = Signal(list)
    view_changed = Signal(str)
    region_changed = Signal(str)
    hover_text_changed = Signal(str)
    custom_point_requested = Signal(str, float, float)

    def __init__(
        self, bodymap: BodyMap, parent: QWidget | None = None, default_region: str = "whole"
    ) -> None:
        super().__init__(parent)
        self.setObjectName("bodyMap")
        self._bm = bodymap
        self.default_region = default_region
        self.mark_model = MarkListModel(bodymap, self)
        self.selection = QItemSelectionModel(self.mark_model, self)
        self._scenes: dict[str, MapScene] = {}
        self._rows: dict[int, MarkRow] = {}
        self._ghost_rows: dict[int, MarkRow] = {}
        self._ea_pairs: list[tuple[int, int, str]] = []
        self._alerts: dict[int, str] = {}
        self._ghosts_visible = True
        self._pregnant = False
        self._pain_areas: list[AreaShape] = []
        self._pain_shown = False
        self._pain_dimmed = True
        self._mode = "point"
        self._view_id = ""
        self._region = ""
        self._user_zoomed = False
        self._press: _Press | None = None
        self._touch: dict[int, QPointF] | None = None  # fingers down, where last seen
        self._touch_start: dict[int, QPointF] = {}
        self._touch_mode = ""  # "tap", "pan" or "pinch"
        self._selection: list[int] = []
        self._hover_text = ""
        self._menu: QMenu | None = None
        self._menu_ids: list[int] = []
        self._menu_spot: tuple[str, float, float] | None = None
        #: Whether the context menu on the body offers "Add a custom point here…" (the
        #: account may add the clinic's custom points).
        self.custom_points_allowed = False
        self._read_only = False
        self._label_timer = QTimer(self)
        self._label_timer.setSingleShot(True)
        self._label_timer.setInterval(LABEL_DELAY_MS)
        self._label_timer.timeout.connect(self.layout_labels)

        self.setRenderHints(
            QPainter.RenderHint.Antialiasing
            | QPainter.RenderHint.TextAntialiasing
            | QPainter.RenderHint.SmoothPixmapTransform
        )
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.viewport().setMouseTracking(True)
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
        self.setDragMode(QGraphicsView.DragMode.NoDrag)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState)
        self.setBackgroundBrush(QColor("#ffffff"))
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.viewport().setCursor(Qt.CursorShape.CrossCursor)
        self.setMinimumSize(240, 300)
        self.selection.selectionChanged.connect(self._on_selection_selection_changed)
        self.horizontalScrollBar().valueChanged.connect(self._on_scrolled)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self.set_view("posterior" if "posterior" in bodymap.views else next(iter(bodymap.views)))

    # --- public interface ----------------------------------------------------------------

    @property
    def bodymap(self) -> BodyMap:
        """The body model shown."""
        return self._bm

    @property
    def view_id(self) -> str:
        """Id of the view shown."""
        return self._view_id

    @property
    def mode(self) -> str:
        """Placement mode: "point", "ashi" or "cupping"."""
        return self._mode

    def set_mode(self, mode: str) -> None:
        """Choose what a click places: "point" (snap to an acupoint, else a trigger point over
        a muscle), "ashi" or "cupping".

        Raises:
            ValueError: For an unknown mode.
        """
        if mode not in MODES:
            raise ValueError(f"Unknown body-map mode {mode!r}")
        self._mode = mode
        self._clear_hover()

    @property
    def read_only(self) -> bool:
        """Whether clicks only select and inspect (a signed visit, a colleague's draft)."""
        return self._read_only

    def set_read_only(self, read_only: bool) -> None:
        """In read-only mode a click places nothing, marks do not drag and nothing deletes;
        hovering, selecting, zooming and panning still work."""
        self._read_only = read_only
        self.viewport().setCursor(
            Qt.CursorShape.ArrowCursor if read_only else Qt.CursorShape.CrossCursor
        )

    def set_view(self, view_id: str) -> None:
        """Show another view (its scene is built on first use and kept).

        Raises:
            KeyError: For an unknown view id.
        """
        if view_id == self._view_id:
            return
        if view_id not in self._bm.views:
            raise KeyError(view_id)
        old = self._scenes.get(self._view_id)
        if old is not None:
            self._clear_hover()
            old.artwork.set_moving(False)
        built = view_id not in self._scenes
        scene = self._scenes.get(view_id) or self._build_scene(view_id)
        self._view_id = view_id
        self.setScene(scene)
        if built:
            scene.draw_overlays(self._rows, self._alerts, self._ea_pairs)
        self._apply_selection_to_scene()
        self._user_zoomed = False
        self.zoom_to_region(self._default_region_for(view_id))
        self.view_changed.emit(view_id)

    def set_marks(self, rows: Sequence[MarkRow]) -> None:
        """Show the visit's marks; items are added, moved, relabelled or removed by mark id."""
        new = {row.id: row for row in rows}
        old = self._rows
        self._rows = new
        self.mark_model.set_rows(list(rows))
        changed = False
        for scene in self._scenes.values():
            changed |= scene.sync(scene.marks, old, new, ghost=False)
        self._apply_selection_to_scene()
        for scene in self._scenes.values():
            scene.draw_overlays(self._rows, self._alerts, self._ea_pairs)
        if changed:
            self._label_timer.start()

    def set_ea_pairs(self, pairs: Sequence[tuple[int, int, str]]) -> None:
        """Draw electroacupuncture leads as lines between marks: (mark a, mark b, label)."""
        if list(pairs) != self._ea_pairs:
            self._ea_pairs = list(pairs)
            for scene in self._scenes.values():
                scene.draw_overlays(self._rows, self._alerts, self._ea_pairs)

    def set_alert_marks(self, alerts: dict[int, str]) -> None:
        """Ring marks that have an unacknowledged safety warning: {mark id: warning title}."""
        if alerts != self._alerts:
            self._alerts = dict(alerts)
            for scene in self._scenes.values():
                scene.draw_overlays(self._rows, self._alerts, self._ea_pairs)

    def alert_count(self) -> int:
        """Safety rings drawn on the current view."""
        return len(self._scene.alerts)

    def ea_line_count(self) -> int:
        """EA leads drawn on the current view."""
        return len(self._scene.ea_lines)

    def set_ghost_marks(self, rows: Sequence[MarkRow]) -> None:
        """Show the previous visit's marks, faded and out of the way of clicks."""
        new = {row.id: row for row in rows}
        old = self._ghost_rows
        self._ghost_rows = new
        for scene in self._scenes.values():
            scene.sync(scene.ghosts, old, new, ghost=True, ghosts_visible=self._ghosts_visible)

    def set_ghosts_visible(self, visible: bool) -> None:
        """Show or hide the previous visit's marks."""
        self._ghosts_visible = visible
        for scene in self._scenes.values():
            for item in scene.ghosts.values():
                item.setVisible(visible)

    @property
    def ghosts_visible(self) -> bool:
        """True when the previous visit's marks are shown."""
        return self._ghosts_visible

    def set_pregnant(self, pregnant: bool) -> None:
        """Highlight the points cautioned in pregnancy (and, faintly, the region points)."""
        self._pregnant = pregnant
        for scene in self._scenes.values():
            scene.pregnancy.setVisible(pregnant)

    def pregnancy_highlights(self) -> list[tuple[str, str]]:
        """(code, side) of the points highlighted for pregnancy on the current view."""
        if not self._pregnant:
            return []
        return [(code, side) for code, side, _, _ in self._scene.pregnancy.strong]

    def selected_mark_ids(self) -> list[int]:
        """Ids of the selected marks (on any view), in ascending order."""
        return sorted(int(i.data(MarkIdRole)) for i in self.selection.selectedRows())

    def select_marks(self, ids: Iterable[int]) -> None:
        """Select exactly these marks (in the map and in every list sharing the selection)."""
        wanted = {i for i in ids if i in self._rows}
        selection = QItemSelection()
        for mark_id in sorted(wanted):
            row = self.mark_model.row_of(mark_id)
            if row is not None:
                index = self.mark_model.index(row)
                selection.select(index, index)
        self.selection.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def mark_item_count(self) -> int:
        """Number of mark items in the current scene (previous-visit marks excluded)."""
        return len(self._scene.marks)

    def ghost_item_count(self) -> int:
        """Number of previous-visit marks drawn (visible) on the current view."""
        return sum(1 for item in self._scene.ghosts.values() if item.isVisible())

    def mark_item(self, mark_id: int) -> MarkItem | None:
        """The item drawing a mark on the current view, if it is there."""
        return self._scene.marks.get(mark_id)

    def ghost_item(self, mark_id: int) -> MarkItem | None:
        """The item drawing a previous-visit mark on the current view, if it is there."""
        return self._scene.ghosts.get(mark_id)

    def referral_item_count(self) -> int:
        """Number of referral-zone overlay items shown (0 when no muscle is hovered)."""
        return len(self._scene.referral)

    def hovered_point(self) -> str:
        """Code of the point a click would snap to now ("" when none)."""
        hover = self._scene.hover
        return hover.text if hover.isVisible() else ""

    def viewport_point(self, x: float, y: float) -> QPoint:
        """Viewport pixel of a model position."""
        return self.mapFromScene(QPointF(x, y))

    def model_position(self, viewport_pos: QPoint) -> tuple[float, float]:
        """Model position of a viewport pixel."""
        p = self.mapToScene(viewport_pos)
        return p.x(), p.y()

    def zoom(self) -> float:
        """Current scale, in screen pixels per model unit."""
        return self.transform().m11()

    def zoom_in(self) -> None:
        """Zoom in one step around the centre."""
        self._zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        """Zoom out one step around the centre."""
        self._zoom_by(1 / ZOOM_STEP)

    def fit(self) -> None:
        """Fit the whole view in the widget (and keep it fitted on resize)."""
        self.zoom_to_region("whole")

    # --- region presets ----------------------------------------------------------------------

    def region_presets(self) -> list[tuple[str, str]]:
        """(id, title) of the region presets the current view offers."""
        return [(p.id, p.title) for p in presets_for(self._scene.view)]

    @property
    def region(self) -> str:
        """The region preset shown ("" once the user zoomed or panned away from it)."""
        return self._region

    def _default_region_for(self, view_id: str) -> str:
        view = self._bm.views[view_id]
        preset = next((p for p in presets_for(view) if p.id == self.default_region), None)
        # A preset framed by the spine's levels (the low back) is the default only on a view
        # that shows the spine: on the leg views and the front the preset of that name holds
        # just the hip, and their points run down the leg, so those views open whole.
        spinal = preset is not None and any(n.startswith("level:") for n in preset.landmarks)
        if preset is not None and (view.levels or not spinal):
            return preset.id
        return "whole"

    def zoom_to_region(self, preset_id: str) -> bool:
        """Zoom to a region preset of the current view (kept on resize); False if the view
        does not offer it."""
        try:
            x0, y0, x1, y1 = region_rect(self._scene.view, preset_id)
        except KeyError:
            return False
        rect = QRectF(x0, y0, x1 - x0, y1 - y0)
        if preset_id == "whole":
            rect = rect.adjusted(-SCENE_MARGIN, -SCENE_MARGIN, SCENE_MARGIN, SCENE_MARGIN)
        self.resetTransform()
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        self.centerOn(rect.center())
        self._user_zoomed = False
        if preset_id != self._region:
            self._region = preset_id
            self.region_changed.emit(preset_id)
        self._label_timer.start()
        return True

    # --- labels --------------------------------------------------------------------------------

    @Slot()
    def layout_labels(self) -> None:
        """Lay the current view's labels out for the zoom shown now (see MapScene)."""
        self._label_timer.stop()
        scene = self._scenes.get(self._view_id)
        if scene is None or self.viewport().width() <= 1:
            return
        visible = self.mapToScene(self.viewport().rect()).boundingRect()
        scene.layout_labels(self.zoom(), visible)
        scene.artwork.set_moving(False)
        scene.artwork.prepare_preview()

    def guide_label_rects(self) -> list[QRectF]:
        """Where the artwork's words shown on the current view are, in viewport pixels."""
        scene = self._scene
        scale = self.zoom()
        boxes = scene.guide_label_boxes(scale)
        origin = self.mapFromScene(QPointF(0, 0))
        return [
            QRectF(x0 + origin.x(), y0 + origin.y(), x1 - x0, y1 - y0)
            for i, (x0, y0, x1, y1) in enumerate(boxes)
            if i in scene.guide_text.shown
        ]

    def labels(self) -> list[MarkLabel]:
        """The mark labels shown on the current view (after their layout)."""
        return [item.label for item in self._scene.marks.values() if item.label.isVisible()]

    # --- tooltips ------------------------------------------------------------------------------

    def tooltip_at(self, viewport_pos: QPoint) -> str:
        """The rich-text tooltip for a viewport position ("" when there is nothing)."""
        mark = self._mark_at(viewport_pos)
        if mark is not None:
            return mark.toolTip()
        ghost = self._ghost_at(viewport_pos)
        if ghost is not None:
            return f"<b>Previous visit:</b> {escape(ghost.row.label)}"
        x, y = self.model_position(viewport_pos)
        # What a plain click would place here is what the tooltip describes.
        placement = placement_at(self._bm, self._view_id, x, y, "point")
        if placement is None:
            return ""
        if placement.kind == "acupoint":
            return self.point_tooltip(placement.point_code, placement.side)
        m = self._bm.muscle(placement.muscle_id)
        side = "left" if placement.side == "L" else "right"
        return (
            f"<table width=340><tr><td><b>{escape(m.name)}</b> ({side})<br>"
            f"<span style='color:#6b4e3d'>{escape(m.referral)}</span><br>"
            "<i>Click to chart a trigger point here.</i></td></tr></table>"
        )

    def point_tooltip(self, code: str, side: str = "M") -> str:
        """Rich-text card of a catalog point: names, location, indications and cautions."""
        p = self._bm.point(code)
        side_text = {"L": " · left", "R": " · right"}.get(side, "")
        category = f" · {escape(p.category)}" if p.category else ""
        parts = [
            f"<b style='font-size:13px'>{escape(p.label)}</b>&nbsp; {escape(p.pinyin)} "
            f"{escape(p.hanzi)}{side_text}",
            f"<i>{escape(p.english)}</i> · {escape(p.meridian)}{category}",
            f"<span style='color:#4a3b31'>{escape(p.location)}</span>",
        ]
        if p.indications:
            parts.append(f"<b>Back and leg:</b> {escape('; '.join(p.indications))}")
        if p.cautions:
            parts.append(f"<b>Cautions:</b> {escape(p.cautions)}")
        if p.custom:
            depth = f" Safe depth: {p.safe_depth_mm:g} mm." if p.safe_depth_mm else ""
            parts.append(
                "<i>The clinic's own point: it carries no catalog caution flags; the position "
                f"rules (lung, spinal canal, pregnancy) still apply.{escape(depth)}</i>"
            )
        for flag in sorted(p.flags):
            text = FLAG_TEXT.get(flag, flag)
            parts.append(
                f"<span style='color:{CAUTION_COLOUR}'>⚠ <b>{escape(flag)}</b> "
                f"{escape(text)}</span>"
            )
        body = "<br>".join(parts)
        return f"<table width=360><tr><td>{body}</td></tr></table>"

    # --- scenes ---------------------------------------------------------------------------------

    @property
    def _scene(self) -> MapScene:
        return self._scenes[self._view_id]

    def set_pain(
        self, areas: Sequence[AreaShape], shown: bool | None = None, dimmed: bool | None = None
    ) -> None:
        """Lay the visit's pain drawing under the marks of every view (``areas`` all views'),
        shown or hidden, and dimmed or at full strength (None keeps the current choice)."""
        self._pain_areas = list(areas)
        if shown is not None:
            self._pain_shown = shown
        if dimmed is not None:
            self._pain_dimmed = dimmed
        for scene in self._scenes.values():
            scene.pain.set_areas(self._pain_areas)
            scene.pain.setVisible(self._pain_shown)
            scene.pain.set_dimmed(self._pain_dimmed)

    def pain_layer(self, view_id: str) -> PainLayer:
        """The pain drawing's item on a view's scene."""
        scene = self._scenes.get(view_id) or self._build_scene(view_id)
        return scene.pain

    @property
    def pain_areas(self) -> list[AreaShape]:
        """The pain drawing laid under the marks (every view's areas)."""
        return list(self._pain_areas)

    @property
    def pain_shown(self) -> bool:
        """Whether the pain drawing is shown under the marks."""
        return self._pain_shown

    def _build_scene(self, view_id: str) -> MapScene:
        scene = MapScene(self._bm, view_id, self)
        scene.pregnancy.setVisible(self._pregnant)
        scene.pain.set_areas(self._pain_areas)
        scene.pain.setVisible(self._pain_shown)
        scene.pain.set_dimmed(self._pain_dimmed)
        self._scenes[view_id] = scene
        scene.sync(scene.marks, {}, self._rows, ghost=False)
        scene.sync(scene.ghosts, {}, self._ghost_rows, ghost=True, ghosts_visible=True)
        for item in scene.ghosts.values():
            item.setVisible(self._ghosts_visible)
        scene.selectionChanged.connect(self._on_scene_selection_changed)
        return scene

    # --- selection: one selection model, shown by the scene -----------------------------------

    def _apply_selection_to_scene(self) -> None:
        """Show the selection model's marks as selected on the current view."""
        scene = self._scenes.get(self._view_id)
        if scene is None:
            return
        wanted = set(self.selected_mark_ids())
        blocked = scene.blockSignals(True)
        try:
            for mark_id, item in scene.marks.items():
                if item.isSelected() != (mark_id in wanted):
                    item.setSelected(mark_id in wanted)
                    item.show_selected(mark_id in wanted)
        finally:
            scene.blockSignals(blocked)
        ids = sorted(wanted)
        if ids != self._selection:
            self._selection = ids
            self.selection_changed.emit(ids)

    @Slot()
    def _on_selection_selection_changed(self) -> None:
        self._apply_selection_to_scene()

    @Slot()
    def _on_scene_selection_changed(self) -> None:
        # A click or rubber band on the map: the selection model takes the scene's selection
        # (and tells every view sharing it).
        if self.sender() is not self._scenes.get(self._view_id):
            return
        ids = [
            item.mark_id
            for item in self._scene.selectedItems()
            if isinstance(item, MarkItem) and not item.ghost
        ]
        if sorted(ids) != self.selected_mark_ids():
            self.select_marks(ids)

    # --- hit-testing ---------------------------------------------------------------------

    def _hit_mark(self, viewport_pos: QPoint) -> tuple[MarkItem | None, bool]:
        """The charted mark under a viewport position, and whether its label was hit."""
        for item in self.items(viewport_pos):
            if isinstance(item, MarkLabel) and not item.mark.ghost and item.isVisible():
                return item.mark, True
            if isinstance(item, MarkItem) and not item.ghost:
                return item, False
        return None, False

    def _mark_at(self, viewport_pos: QPoint) -> MarkItem | None:
        return self._hit_mark(viewport_pos)[0]

    def _ghost_at(self, viewport_pos: QPoint) -> MarkItem | None:
        for item in self.items(viewport_pos):
            if isinstance(item, MarkItem) and item.ghost and item.isVisible():
                return item
        return None

    # --- clicks and drags ----------------------------------------------------------------

    def _scroll(self) -> tuple[int, int]:
        return self.horizontalScrollBar().value(), self.verticalScrollBar().value()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        self._clear_hover()
        if event.button() == Qt.MouseButton.MiddleButton:
            self._press = _Press("pan", pos, self._scroll())
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if event.button() != Qt.MouseButton.LeftButton:
            event.accept()
            return
        mark, on_label = self._hit_mark(pos.toPoint())
        if mark is None:
            self._press = _Press("body", pos, self._scroll())
            event.accept()
            return
        if on_label or self._read_only:
            # Pressed on the label (or on a mark that may not move): select the mark it
            # names, without dragging it.
            if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self.select_marks({*self.selected_mark_ids(), mark.mark_id})
            else:
                self.select_marks([mark.mark_id])
            self._press = _Press("label", pos, self._scroll())
            event.accept()
            return
        super().mousePressEvent(event)
        starts = {
            item.mark_id: item.pos()
            for item in self._scene.selectedItems()
            if isinstance(item, MarkItem)
        }
        self._press = _Press("mark", pos, self._scroll(), starts)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        press = self._press
        pos = event.position()
        if press is None:
            self._update_hover(pos.toPoint())
            super().mouseMoveEvent(event)
            return
        moved = (pos - press.pos).manhattanLength()
        if not press.dragging and moved >= QApplication.startDragDistance() / 2:
            press.dragging = True
            if press.kind == "body":
                self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        if not press.dragging:
            return
        if press.kind == "mark":
            super().mouseMoveEvent(event)
        elif press.kind != "label":
            delta = pos - press.pos
            self.horizontalScrollBar().setValue(press.scroll[0] - round(delta.x()))
            self.verticalScrollBar().setValue(press.scroll[1] - round(delta.y()))
            self._forget_region()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        press = self._press
        if press is None:
            super().mouseReleaseEvent(event)
            event.accept()
            return
        self._press = None
        if press.kind in ("body", "pan"):
            self.set_read_only(self._read_only)  # restores the cursor
        if press.kind == "mark":
            super().mouseReleaseEvent(event)
            if press.dragging:
                self._finish_drag(press)
        elif press.kind == "body" and not press.dragging:
            shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self.place_at(event.position().toPoint(), shift)
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            mark = self._mark_at(event.position().toPoint())
            if mark is not None:
                self._press = None
                self.mark_activated.emit(mark.mark_id)
        event.accept()

    def _finish_drag(self, press: _Press) -> None:
        moved: list[tuple[int, float, float]] = []
        for mark_id, start in press.starts.items():
            item = self._scene.marks.get(mark_id)
            if item is None:
                continue
            pos = item.pos()
            if (pos - start).manhattanLength() < 1e-6:
                continue
            if self._bm.inside_outline(self._view_id, pos.x(), pos.y()):
                moved.append((mark_id, pos.x(), pos.y()))
            else:
                item.setPos(start)
        for mark_id, x, y in moved:
            self.mark_moved.emit(mark_id, x, y)

    def place_at(self, viewport_pos: QPoint, free: bool = False) -> Placement | None:
        """A click (or tap) on the body at ``viewport_pos``: announce what it places."""
        if self._read_only:
            self.select_marks([])
            return None
        x, y = self.model_position(viewport_pos)
        placement = placement_at(self._bm, self._view_id, x, y, self._mode, free)
        if placement is None:
            return None
        self.select_marks([])
        p = placement
        if p.kind == "acupoint":
            self.point_clicked.emit(p.view, p.point_code, p.side, p.x, p.y)
        elif p.kind == "trigger_point":
            self.trigger_clicked.emit(p.view, p.muscle_id, p.side, p.x, p.y)
        else:
            self.free_clicked.emit(p.kind, p.view, p.side, p.x, p.y)
        return placement

    # --- touch: tap to place, pinch to zoom, drag to pan ----------------------------------------

    def viewportEvent(self, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TouchEnd):
            assert isinstance(event, QTouchEvent)
            self._touch_event(event)
            return True
        if kind == QEvent.Type.TouchCancel:
            self._touch = None
            return True
        if kind == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            text = self.tooltip_at(event.pos())
            if text:
                QToolTip.showText(event.globalPos(), text, self.viewport())
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().viewportEvent(event)

    def _touch_event(self, event: QTouchEvent) -> None:
        """Follow the fingers: one that lifts where it landed taps (places or selects, as a
        click does); one that moves pans; two pinch, zooming about the point between them."""
        event.accept()
        kind = event.type()
        held = {
            p.id(): p.position() for p in event.points() if p.state() != QEventPoint.State.Released
        }
        if kind == QEvent.Type.TouchBegin:
            self._press = None
            self._touch = dict(held)
            self._touch_start = dict(held)
            self._touch_mode = "tap" if len(held) == 1 else "pinch"
            return
        last = self._touch
        if last is None:
            return
        if len(held) >= 2:
            self._touch_mode = "pinch"
            ids = [i for i in held if i in last][:2]
            if len(ids) == 2:
                a0, b0 = last[ids[0]], last[ids[1]]
                a1, b1 = held[ids[0]], held[ids[1]]
                before = math.hypot(*(a0 - b0).toTuple())
                after = math.hypot(*(a1 - b1).toTuple())
                if before > 1 and after > 1:
                    self._zoom_by(after / before, (a1 + b1) / 2)
            self._touch = dict(held)
        elif len(held) == 1:
            pid, now = next(iter(held.items()))
            first = self._touch_start.get(pid)
            if (
                self._touch_mode == "tap"
                and first is not None
                and (now - first).manhattanLength() > TAP_SLOP_PX
            ):
                self._touch_mode = "pan"  # no tap any more: the finger moved
            if self._touch_mode == "pan" and pid in last:
                delta = now - last[pid]
                bar_x, bar_y = self.horizontalScrollBar(), self.verticalScrollBar()
                bar_x.setValue(bar_x.value() - round(delta.x()))
                bar_y.setValue(bar_y.value() - round(delta.y()))
                self._forget_region()
                # Keep the fraction the scroll bars could not take for the next move.
                now = QPointF(last[pid].x() + round(delta.x()), last[pid].y() + round(delta.y()))
            self._touch = {pid: now}
        if kind == QEvent.Type.TouchEnd:
            if self._touch_mode == "tap" and event.points():
                point = event.points()[0]
                first = self._touch_start.get(point.id())
                lifted = point.position()
                if first is not None and (lifted - first).manhattanLength() <= TAP_SLOP_PX:
                    self._tap(lifted.toPoint())
            self._touch = None

    def _tap(self, pos: QPoint) -> None:
        mark = self._mark_at(pos)
        if mark is not None:
            self.select_marks([mark.mark_id])
        else:
            self.place_at(pos)

    # --- hover -----------------------------------------------------------------------------

    def _update_hover(self, viewport_pos: QPoint) -> None:
        scene = self._scene
        x, y = self.model_position(viewport_pos)
        text = ""
        mark = self._mark_at(viewport_pos)
        placement = None
        if mark is not None:
            text = f"{mark.row.label} · {kind_label(mark.row)}"
        else:
            # What a click here would place (the same rule the click uses).
            placement = placement_at(self._bm, self._view_id, x, y, self._mode)
        if placement is not None and placement.kind == "acupoint":
            p = self._bm.point(placement.point_code)
            side = "" if placement.side == "M" else f" {placement.side}"
            text = f"{p.label}{side} · {p.pinyin} · {p.english}"
            if scene.hover.text != f"{p.label}{side}":
                scene.hover.set_text(f"{p.label}{side}")
            scene.hover.setPos(placement.x, placement.y)
            scene.hover.setVisible(True)
        else:
            scene.hover.setVisible(False)
        muscle = None
        if placement is not None and placement.kind == "trigger_point":
            muscle = (placement.muscle_id, placement.side)
        elif placement is None and mark is None and self._mode == "point":
            hit = self._bm.muscle_at(self._view_id, x, y)
            muscle = (hit.muscle.id, hit.side) if hit is not None else None
        if muscle is not None:
            m = self._bm.muscle(muscle[0])
            side_word = "left" if muscle[1] == "L" else "right"
            if not text:
                text = f"{m.name} ({side_word}) · referral pattern shown"
            scene.show_referral(*muscle)
        else:
            scene.hide_referral()
        self._set_hover_text(text)

    def _set_hover_text(self, text: str) -> None:
        if text != self._hover_text:
            self._hover_text = text
            self.hover_text_changed.emit(text)

    def _clear_hover(self) -> None:
        scene = self._scenes.get(self._view_id)
        if scene is not None:
            scene.hover.setVisible(False)
            scene.hide_referral()
        self._set_hover_text("")

    def leaveEvent(self, event: QEvent) -> None:
        if self._press is None:
            self._clear_hover()
        super().leaveEvent(event)

    # --- keys and menu -------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and not ctrl:
            ids = self.selected_mark_ids()
            if ids and not self._read_only:
                self.delete_requested.emit(ids)
        elif key == Qt.Key.Key_Escape:
            self.select_marks([])
        elif (ctrl and key in (Qt.Key.Key_Equal, Qt.Key.Key_Plus)) or event.matches(
            QKeySequence.StandardKey.ZoomIn
        ):
            self.zoom_in()
        elif (ctrl and key == Qt.Key.Key_Minus) or event.matches(QKeySequence.StandardKey.ZoomOut):
            self.zoom_out()
        elif ctrl and key == Qt.Key.Key_0:
            self.fit()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def refresh_points(self) -> None:
        """Redraw the points of every view after the clinic's custom points changed."""
        for scene in self._scenes.values():
            scene.points_layer.set_points(self._bm)
        self._clear_hover()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        mark = self._mark_at(event.pos())
        if mark is None:
            self._body_menu(event)
            return
        if mark.mark_id not in self.selected_mark_ids():
            self.select_marks([mark.mark_id])
        self._menu_ids = self.selected_mark_ids()
        menu = QMenu(self)
        menu.setObjectName("bodyMapMenu")
        edit = menu.addAction("Edit details…")
        edit.triggered.connect(self._on_edit_action_triggered)
        delete = menu.addAction("Delete")
        delete.setEnabled(not self._read_only)
        delete.triggered.connect(self._on_delete_action_triggered)
        menu.aboutToHide.connect(menu.deleteLater)
        self._menu = menu
        menu.popup(event.globalPos())
        event.accept()

    def _body_menu(self, event: QContextMenuEvent) -> None:
        """The context menu on the body away from marks: add a custom point at the spot."""
        x, y = self.model_position(event.pos())
        if not self.custom_points_allowed or not self._bm.inside_outline(self._view_id, x, y):
            event.ignore()
            return
        self._menu_spot = (self._view_id, x, y)
        menu = QMenu(self)
        menu.setObjectName("bodyMapMenu")
        add = menu.addAction("Add a custom point here…")
        add.setObjectName("addCustomPointAction")
        add.triggered.connect(self._on_add_custom_action_triggered)
        menu.aboutToHide.connect(menu.deleteLater)
        self._menu = menu
        menu.popup(event.globalPos())
        event.accept()

    @Slot()
    def _on_add_custom_action_triggered(self) -> None:
        if self._menu_spot is not None:
            self.custom_point_requested.emit(*self._menu_spot)

    @property
    def context_menu(self) -> QMenu | None:
        """The context menu last opened on a mark (for tests)."""
        return self._menu

    @Slot()
    def _on_edit_action_triggered(self) -> None:
        if self._menu_ids:
            self.mark_activated.emit(self._menu_ids[0])

    @Slot()
    def _on_delete_action_triggered(self) -> None:
        if self._menu_ids:
            self.delete_requested.emit(list(self._menu_ids))

    # --- zoom ----------------------------------------------------------------------------

    def _fit_scale(self) -> float:
        view = self._scene.view
        rect = QRectF(0, 0, view.width, view.height).adjusted(
            -SCENE_MARGIN, -SCENE_MARGIN, SCENE_MARGIN, SCENE_MARGIN
        )
        vp = self.viewport().rect()
        return min(vp.width() / rect.width(), vp.height() / rect.height())

    def _zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        current = self.transform().m11()
        fit = self._fit_scale()
        target = min(max(current * factor, fit * MIN_ZOOM), fit * MAX_ZOOM)
        step = target / current
        if abs(step - 1.0) < 1e-9:
            return
        at = (anchor or QPointF(self.viewport().rect().center())).toPoint()
        before = self.mapToScene(at)
        self.scale(step, step)
        drift = self.mapFromScene(before) - at
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + drift.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + drift.y())
        self._user_zoomed = True
        self._forget_region()
        # Until the zoom settles the figure is drawn from its picture, scaled (see
        # ArtworkItem), and the labels keep their places beside their marks.
        self._scene.artwork.set_moving(True)
        self._label_timer.start()

    def _forget_region(self) -> None:
        self._user_zoomed = True
        if self._region:
            self._region = ""
            self.region_changed.emit("")

    @Slot()
    def _on_scrolled(self) -> None:
        self._label_timer.start()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if not steps:
            steps = event.pixelDelta().y() / 60.0
        if steps:
            self._zoom_by(ZOOM_STEP**steps, event.position())
        event.accept()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._user_zoomed:
            self.zoom_to_region(self._region or self._default_region_for(self._view_id))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if not self._user_zoomed:
            self.zoom_to_region(self._region or self._default_region_for(self._view_id))


__all__ = ["MODES", "SNAP_CUN", "BodyMapView"]
