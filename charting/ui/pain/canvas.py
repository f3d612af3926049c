"""Drawing where it hurts: one view's artwork with the pain layer, a brush, a region fill
and an eraser, by mouse, pen or finger (Qt turns pen and touch into the same presses)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPen,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtSvgWidgets import QGraphicsSvgItem
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene, QGraphicsView, QWidget
from shapely import Point as ShapelyPoint

from charting.bodymap import BodyMap, resource_path
from charting.bodymap import regions as body_regions
from charting.services.pain_drawings import QUALITY_COLOURS
from charting.services.pain_measures import AreaShape
from charting.ui.pain.layer import PainLayer

TOOLS = ("brush", "region", "erase")
#: Between two points of a stroke the pointer must move this far (model units): a stroke
#: keeps its shape with far fewer points than mouse events.
MIN_STEP = 3.0


class PainCanvas(QGraphicsView):
    """One view of the body to shade pain on.

    Signals:
        stroke_drawn(str view_id, str kind, list points, float width): a brush ("stroke")
            or eraser ("erase") stroke was finished; points in model units.
        region_tapped(str view_id, str region, str side): the region tool was used on a
            named region.
    """

    stroke_drawn = Signal(str, str, list, float)
    region_tapped = Signal(str, str, str)

    def __init__(self, bodymap: BodyMap, view_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"painCanvas_{view_id}")
        self._bodymap = bodymap
        self.view_id = view_id
        view = bodymap.views[view_id]
        self.scene_ = QGraphicsScene(self)
        self.scene_.setSceneRect(QRectF(0, 0, view.width, view.height))
        self._renderer = QSvgRenderer(str(resource_path("bodymap", f"{view_id}.svg")), self)
        art = QGraphicsSvgItem()
        art.setSharedRenderer(self._renderer)
        art.setZValue(0)
        self.scene_.addItem(art)
        self.previous_layer = PainLayer(bodymap, view_id, ghost=True)
        self.previous_layer.setVisible(False)
        self.scene_.addItem(self.previous_layer)
        self.layer = PainLayer(bodymap, view_id)
        self.scene_.addItem(self.layer)
        self.setScene(self.scene_)
        self.setRenderHints(QPainter.RenderHint.Antialiasing)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setMinimumSize(160, 200)
        self.tool = "brush"
        self.width_units = 30.0
        self.quality = "aching"
        self.read_only = False
        self._live: QGraphicsPathItem | None = None
        self._points: list[tuple[float, float]] = []

    # -- what is shown ---------------------------------------------------------------------
    def set_areas(self, areas: list[AreaShape], previous: list[AreaShape] | None = None) -> None:
        """Show today's drawing, and the previous visit's as dashed outlines (when given)."""
        self.layer.set_areas(areas)
        self.previous_layer.set_areas(previous or [])

    def fit(self) -> None:
        """Show the whole view."""
        self.fitInView(self.scene_.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit()

    # -- drawing -----------------------------------------------------------------------------
    def model_point(self, event: QMouseEvent) -> tuple[float, float]:
        """Where the pointer is, in model units."""
        point = self.mapToScene(event.position().toPoint())
        return (round(point.x(), 1), round(point.y(), 1))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.read_only:
            event.ignore()
            return
        x, y = self.model_point(event)
        if self.tool == "region":
            found = self.region_at(x, y)
            if found is not None:
                self.region_tapped.emit(self.view_id, *found)
            event.accept()
            return
        self._points = [(x, y)]
        path = QPainterPath(QPointF(x, y))
        path.lineTo(QPointF(x + 0.01, y))
        colour = (
            QColor("#888888")
            if self.tool == "erase"
            else QColor(QUALITY_COLOURS.get(self.quality, "#d55e00"))
        )
        colour.setAlphaF(0.55)
        pen = QPen(colour, self.width_units)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        self._live = self.scene_.addPath(path, pen)
        self._live.setZValue(10)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._live is None:
            super().mouseMoveEvent(event)
            return
        x, y = self.model_point(event)
        last = self._points[-1]
        if abs(x - last[0]) + abs(y - last[1]) < MIN_STEP:
            return
        self._points.append((x, y))
        path = self._live.path()
        path.lineTo(QPointF(x, y))
        self._live.setPath(path)  # only the new segment's area is repainted
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        live = self._live
        if live is None:
            super().mouseReleaseEvent(event)
            return
        self._live = None
        self.scene_.removeItem(live)
        points, self._points = self._points, []
        kind = "erase" if self.tool == "erase" else "stroke"
        self.stroke_drawn.emit(self.view_id, kind, [list(p) for p in points], self.width_units)
        event.accept()

    def region_at(self, x: float, y: float) -> tuple[str, str] | None:
        """The named region (and side) under a point of this view, if any."""
        point = ShapelyPoint(x, y)
        for (region, side), shape in body_regions.region_shapes(
            self._bodymap, self.view_id
        ).items():
            if shape.contains(point):
                return region, side
        return None

    def viewport_point(self, x: float, y: float) -> QPointF:
        """Where a model point is on the screen (for tests and the walkthrough)."""
        return QPointF(self.mapFromScene(QPointF(x, y)))
