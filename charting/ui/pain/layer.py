"""A visit's pain drawing as a scene layer: one item per view, painted from the stored
shapes (model units), so it can sit on any scene that holds that view's artwork."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget
from shapely.geometry.base import BaseGeometry

from charting.bodymap import BodyMap
from charting.services.pain_drawings import QUALITY_COLOURS, shade_opacity
from charting.services.pain_measures import AreaShape, shape_of

Z_PAIN = 5.0  # above the artwork, below the marks


def geometry_path(geometry: BaseGeometry) -> QPainterPath:
    """A Qt path of a shapely polygon or multipolygon (holes kept)."""
    path = QPainterPath()
    path.setFillRule(Qt.FillRule.OddEvenFill)
    parts = getattr(geometry, "geoms", [geometry])
    for part in parts:
        if part.geom_type == "Polygon" and not part.is_empty:
            for ring in (part.exterior, *part.interiors):
                path.addPolygon(QPolygonF([QPointF(x, y) for x, y in ring.coords]))
                path.closeSubpath()
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            path.addPath(geometry_path(part))
    return path


class PainLayer(QGraphicsItem):
    """The shaded areas of one view: each coloured by its quality, stronger for a higher
    intensity; eraser strokes take away what they passed over. ``set_dimmed`` fades the
    layer while points are charted; ``setVisible`` shows or hides it."""

    def __init__(self, bodymap: BodyMap, view_id: str, ghost: bool = False) -> None:
        super().__init__()
        self._bodymap = bodymap
        self.view_id = view_id
        self._ghost = ghost
        view = bodymap.views[view_id]
        self._rect = QRectF(0, 0, view.width, view.height)
        self._paths: list[tuple[QPainterPath, QColor, float]] = []
        self._dimmed = False
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setZValue(Z_PAIN - (1 if ghost else 0))

    @property
    def area_count(self) -> int:
        """How many shaded areas are painted (after erasing)."""
        return len(self._paths)

    def set_areas(self, areas: Sequence[AreaShape]) -> None:
        """Show ``areas`` (the whole drawing; those of other views are skipped)."""
        mine = [a for a in areas if a.view == self.view_id]
        shapes: list[tuple[AreaShape, BaseGeometry]] = []
        for area in mine:
            shape = shape_of(self._bodymap, area)
            if area.kind == "erase":
                shapes = [
                    (a, g.difference(shape) if a.drawn_by == area.drawn_by else g)
                    for a, g in shapes
                ]
            else:
                shapes.append((area, shape))
        self.prepareGeometryChange()
        self._paths = [
            (
                geometry_path(g),
                QColor(QUALITY_COLOURS.get(a.quality, "#d55e00")),
                shade_opacity(a.intensity),
            )
            for a, g in shapes
            if not g.is_empty
        ]
        self.update()

    @property
    def dimmed(self) -> bool:
        """Whether the layer is faded."""
        return self._dimmed

    def set_dimmed(self, dimmed: bool) -> None:
        """Fade the layer (while charting points over it)."""
        self._dimmed = dimmed
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        fade = 0.35 if self._dimmed else 1.0
        for path, colour, opacity in self._paths:
            if self._ghost:
                # The previous visit's drawing: its outline only, so today's stays readable.
                painter.setOpacity(0.8 * fade)
                pen = QPen(colour, 2.0, Qt.PenStyle.DashLine)
                painter.setPen(pen)
                painter.setBrush(Qt.BrushStyle.NoBrush)
            else:
                painter.setOpacity(opacity * fade)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QBrush(colour))
            painter.drawPath(path)
        painter.setOpacity(1.0)
