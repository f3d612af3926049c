"""The interactive body map: the anatomical chart a practitioner clicks to chart points."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import ClassVar

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import (
    QBrush,
    QColor,
    QContextMenuEvent,
    QFont,
    QFontMetricsF,
    QHelpEvent,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QPolygonF,
    QResizeEvent,
    QShowEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsView,
    QMenu,
    QStyleOptionGraphicsItem,
    QToolTip,
    QWidget,
)

from charting.bodymap import BodyMap, Shape, View, label_anchor, style_for
from charting.services.marks import KIND_LABELS, RESPONSES, TECHNIQUES, MarkRow
from charting.ui.app_rules import plain_tooltip

MODES: tuple[str, ...] = ("point", "ashi", "cupping")
#: Clicks snap to a catalog point within this distance, in local B-cun.
SNAP_CUN = 0.5
#: A cup of about 2.5 cun across (a medium glass cup on the back).
CUP_DIAMETER_CUN = 2.5
ZOOM_STEP = 1.25
#: Zoom limits relative to the fitted scale.
MIN_ZOOM, MAX_ZOOM = 0.6, 14.0
SCENE_MARGIN = 12.0
FONT_FAMILY = "DejaVu Sans"

# Paint order (z values).
Z_ARTWORK, Z_REFERRAL, Z_POINTS, Z_PREGNANCY, Z_GHOSTS, Z_MARKS, Z_HOVER = (0, 1, 2, 3, 5, 10, 20)
Z_EA = 8
EA_COLOUR = "#0b7a75"
Z_SELECTED = 11

# Mark colours per kind: symbol fill, label ink.
KIND_COLORS: dict[str, tuple[str, str]] = {
    "acupoint": ("#1f6fb2", "#123f6b"),
    "trigger_point": ("#d62f3a", "#8e1820"),
    "ashi": ("#ef8a12", "#8a4a00"),
    "cupping": ("#7d4cc2", "#4f2b86"),
}
GHOST_COLOR = "#7b7b7b"
GHOST_OPACITY = 0.35
CAUTION_COLOR = "#c26a00"
PREG_COLOR = "#d6336c"
SELECT_COLOR = "#ffb000"
HOVER_COLOR = "#1f6fb2"
REFERRAL_COLOR = "#d42a2a"

# Short wording of the catalog's caution flags, paraphrased from the flag table of
# /work/shared/reference/domain.md §1.2 (sources WHO08, WHO99, CAM, BALIAO named there).
FLAG_TEXT: dict[str, str] = {
    "LUNG": "Over the lung or pleura: deep needling risks pneumothorax",
    "KIDNEY": "Over the kidney: deep perpendicular needling risks kidney injury",
    "CORD": "Midline from L2 up: deep needling may enter the spinal canal",
    "PREG": "Traditionally forbidden or cautioned in pregnancy",
    "PREG-REGION": "Lumbosacral region: traditionally avoided in pregnancy",
    "NERVE": "Deep, near a major nerve",
    "VESSEL": "Near a large vessel: bleeding or haematoma risk",
    "SACRAL": "Sacral foramen: needle at an oblique angle",
    "CTRL": "WHO controversial point: record which location was used",
}

_FONTS: dict[tuple[int, bool], QFont] = {}
_SELECT_PEN = QPen(QColor(255, 176, 0, 230), 3.0)
_SELECT_PEN.setCosmetic(True)
_SELECT_BRUSH = QBrush(QColor(255, 176, 0, 56))


def _font(pixel_size: int, bold: bool = False) -> QFont:
    """A cached UI font of ``pixel_size`` pixels."""
    key = (max(1, pixel_size), bold)
    font = _FONTS.get(key)
    if font is None:
        font = QFont(FONT_FAMILY)
        font.setPixelSize(key[0])
        font.setBold(bold)
        font.setHintingPreference(QFont.HintingPreference.PreferVerticalHinting)
        _FONTS[key] = font
    return font


def _color(hex_color: str, alpha: float = 1.0) -> QColor:
    color = QColor(hex_color)
    color.setAlphaF(max(0.0, min(1.0, alpha)))
    return color


def _painter_scale(painter: QPainter) -> float:
    t = painter.worldTransform()
    return math.hypot(t.m11(), t.m12()) or 1.0


def _polygon_path(points: Iterable[tuple[float, float]], closed: bool) -> QPainterPath:
    path = QPainterPath()
    path.addPolygon(QPolygonF([QPointF(x, y) for x, y in points]))
    if closed:
        path.closeSubpath()
    return path


def _draw_text(
    painter: QPainter,
    at: QPointF,
    text: str,
    size: float,
    anchor: str,
    color: QColor,
    bold: bool,
    min_px: float,
) -> None:
    """Draw ``text`` with its baseline at ``at`` (model units), hinted at device resolution.

    The text keeps its model size, but never drops below ``min_px`` screen pixels so the
    labels stay readable at the fitted zoom.
    """
    scale = _painter_scale(painter)
    font = _font(round(max(size * scale, min_px)), bold)
    width = QFontMetricsF(font).horizontalAdvance(text)
    dx = {"start": 0.0, "middle": -width / 2, "end": -width}.get(anchor, -width / 2)
    painter.save()
    painter.translate(at)
    painter.scale(1 / scale, 1 / scale)
    painter.setFont(font)
    painter.setPen(color)
    painter.drawText(QPointF(dx, 0.0), text)
    painter.restore()


# --- static layers -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Stroke:
    path: QPainterPath
    pen: QPen
    brush: QBrush
    opacity: float


class _ArtworkItem(QGraphicsItem):
    """The view's shapes (outline, details, guides, labels), painted once into a cache."""

    #: Smallest on-screen size of the artwork's text, by role (pixels).
    MIN_TEXT_PX: ClassVar[dict[str, float]] = {"panel_label": 12.0, "guide_label": 7.0}

    def __init__(self, view: View) -> None:
        super().__init__()
        self._rect = QRectF(0, 0, view.width, view.height).adjusted(-8, -8, 8, 8)
        self._strokes: list[_Stroke] = []
        self._texts: list[Shape] = []
        for shape in view.shapes:
            if shape.kind == "text":
                # On screen the view buttons already name the view, and its title would
                # collide with the side labels once text is enlarged to stay legible.
                if shape.role == "panel_label" and shape.text == view.title:
                    continue
                self._texts.append(shape)
            else:
                self._strokes.append(self._stroke(shape))
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setZValue(Z_ARTWORK)

    @staticmethod
    def _stroke(shape: Shape) -> _Stroke:
        style = style_for(shape.role)
        if shape.kind == "circle":
            path = QPainterPath()
            r = shape.radius or 1.0
            path.addEllipse(QPointF(*shape.points[0]), r, r)
        else:
            path = _polygon_path(shape.points, shape.kind == "polygon")
        if style.stroke:
            pen = QPen(QColor(style.stroke), style.width)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            if style.dash:
                pen.setDashPattern([d / style.width for d in style.dash])
        else:
            pen = QPen(Qt.PenStyle.NoPen)
        brush = QBrush(QColor(style.fill)) if style.fill else QBrush(Qt.BrushStyle.NoBrush)
        return _Stroke(path, pen, brush, style.opacity)

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        for stroke in self._strokes:
            painter.setOpacity(stroke.opacity)
            painter.setPen(stroke.pen)
            painter.setBrush(stroke.brush)
            painter.drawPath(stroke.path)
        for shape in self._texts:
            style = style_for(shape.role)
            painter.setOpacity(style.opacity)
            _draw_text(
                painter,
                QPointF(*shape.points[0]),
                shape.text or "",
                shape.size or 8.0,
                shape.anchor,
                QColor(style.fill or "#000000"),
                style.font_weight == "bold",
                self.MIN_TEXT_PX.get(shape.role, 6.0),
            )
        painter.setOpacity(1.0)


class _PointsLayer(QGraphicsItem):
    """Every catalog point of the view as a small faint dot (one item, cached)."""

    def __init__(self, bodymap: BodyMap, view: View) -> None:
        super().__init__()
        self._rect = QRectF(0, 0, view.width, view.height)
        self._centres = [QPointF(p.x, p.y) for p in bodymap.placed_points(view.id)]
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setZValue(Z_POINTS)

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        # About 1.4 px at the fitted zoom, growing gently with the zoom.
        radius = max(2.4, 1.3 / _painter_scale(painter))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_color("#4f6a8a", 0.55))
        for centre in self._centres:
            painter.drawEllipse(centre, radius, radius)


class _PregnancyLayer(QGraphicsItem):
    """Pink rings on the points cautioned in pregnancy, a faint tint on the region points."""

    def __init__(self, bodymap: BodyMap, view: View) -> None:
        super().__init__()
        self._rect = QRectF(0, 0, view.width, view.height)
        self.strong: list[tuple[str, str, QPointF, float]] = []
        self.region: list[tuple[str, str, QPointF, float]] = []
        for p in bodymap.placed_points(view.id):
            flags = bodymap.point(p.code).flags
            entry = (p.code, p.side, QPointF(p.x, p.y), p.units_per_cun)
            if "PREG" in flags:
                self.strong.append(entry)
            elif "PREG-REGION" in flags:
                self.region.append(entry)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setZValue(Z_PREGNANCY)
        self.setVisible(False)

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_color(PREG_COLOR, 0.13))
        for _, _, centre, upc in self.region:
            painter.drawEllipse(centre, 0.42 * upc, 0.42 * upc)
        pen = QPen(_color(PREG_COLOR, 0.95), 2.0)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(_color(PREG_COLOR, 0.18))
        for _, _, centre, upc in self.strong:
            painter.drawEllipse(centre, 0.55 * upc, 0.55 * upc)


# --- marks ---------------------------------------------------------------------------------


class _MarkLabel(QGraphicsItem):
    """A mark's compact label on a light halo, always the same size on screen."""

    PAD_X, PAD_Y, GAP = 3.0, 1.0, 3.0

    def __init__(self, mark: MarkItem) -> None:
        super().__init__(mark)
        self._mark = mark
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._text = ""
        self._caution = False
        self._anchor = "start"
        self._rect = QRectF()
        self._box = QRectF()

    def set_content(self, text: str, caution: bool, anchor: str) -> None:
        """Set the text, the depth-caution badge and where it sits.

        Args:
            text: Label text.
            caution: Draw the depth-caution badge.
            anchor: "start" (right of the mark), "end" (left of it) or "below" (centred
                under it, for midline marks that sit between a left and a right mark).
        """
        self.prepareGeometryChange()
        self._text, self._caution, self._anchor = text, caution, anchor
        metrics = QFontMetricsF(_font(11, True))
        width = metrics.horizontalAdvance(text)
        if caution:
            width += QFontMetricsF(_font(11, True)).horizontalAdvance(" ⚠")
        height = metrics.height()
        box_w, box_h = width + 2 * self.PAD_X, height + 2 * self.PAD_Y
        if anchor == "below":
            self._box = QRectF(-box_w / 2, self.GAP, box_w, box_h)
        else:
            x0 = -self.GAP - box_w if anchor == "end" else self.GAP
            self._box = QRectF(x0, -box_h / 2, box_w, box_h)
        self._rect = self._box.adjusted(-1, -1, 1, 1)
        self.update()

    @property
    def mark(self) -> MarkItem:
        """The mark this label names."""
        return self._mark

    @property
    def text(self) -> str:
        """The label text (without the caution badge)."""
        return self._text

    @property
    def has_caution_badge(self) -> bool:
        """True when the depth-caution badge is drawn."""
        return self._caution

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        fill, ink = self._mark.colors()
        selected = self._mark.isSelected()
        font = _font(11, True)
        if selected:
            painter.setPen(QPen(_color(ink), 1.0))
            painter.setBrush(_color(fill))
        else:
            painter.setPen(QPen(_color(fill, 0.45), 1.0))
            painter.setBrush(_color("#ffffff", 0.86))
        painter.drawRoundedRect(self._box, 3.0, 3.0)
        painter.setFont(font)
        metrics = QFontMetricsF(font)
        baseline = self._box.top() + self.PAD_Y + metrics.ascent()
        x = self._box.left() + self.PAD_X
        painter.setPen(_color("#ffffff") if selected else _color(ink))
        painter.drawText(QPointF(x, baseline), self._text)
        if self._caution:
            x += metrics.horizontalAdvance(self._text + " ")
            painter.setPen(_color("#ffffff") if selected else _color(CAUTION_COLOR))
            painter.drawText(QPointF(x, baseline), "⚠")


class MarkItem(QGraphicsItem):
    """One charted mark (or a faded mark of the previous visit), drawn by its kind."""

    def __init__(
        self, row: MarkRow, units_per_cun: float, ghost: bool = False, caution: bool = False
    ) -> None:
        super().__init__()
        self.ghost = ghost
        self.row = row
        self._upc = units_per_cun
        self._shape = QPainterPath()
        self._rect = QRectF()
        self._ops: list[tuple[QPen, QBrush, QPainterPath]] = []
        self.label = _MarkLabel(self)
        if ghost:
            self.setOpacity(GHOST_OPACITY)
            self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            self.setZValue(Z_GHOSTS)
        else:
            self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
            self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable)
            self.setCursor(Qt.CursorShape.PointingHandCursor)
            self.setZValue(Z_MARKS)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.set_row(row, units_per_cun, caution)

    @property
    def mark_id(self) -> int:
        """Id of the mark drawn."""
        return self.row.id

    def colors(self) -> tuple[str, str]:
        """Symbol fill and label ink of this mark."""
        if self.ghost:
            return GHOST_COLOR, "#4d4d4d"
        return KIND_COLORS.get(self.row.kind, KIND_COLORS["ashi"])

    def set_row(self, row: MarkRow, units_per_cun: float, caution: bool) -> None:
        """Show ``row`` (position, kind, label); ``caution`` adds the depth-caution badge."""
        self.prepareGeometryChange()
        self.row, self._upc = row, units_per_cun
        self.setPos(row.spec.x, row.spec.y)
        self._shape = self._hit_shape()
        self._ops = self._build_ops()
        self._rect = self._shape.boundingRect().adjusted(-2, -2, 2, 2)
        # Labels point away from the midline so a left/right pair never collides.
        anchor = label_anchor(row.spec.view, row.spec.side)
        offset = {"end": (-self.extent(), 0.0), "start": (self.extent(), 0.0)}
        self.label.setPos(*offset.get(anchor, (0.0, self.extent())))
        self.label.set_content(row.label, caution, anchor)
        self.label.setVisible(not self.ghost)
        self.setToolTip(mark_tooltip(row))
        self.update()

    def extent(self) -> float:
        """Radius of the drawn symbol, in model units."""
        if self.row.kind == "cupping":
            return CUP_DIAMETER_CUN / 2 * self._upc
        return 0.4 * self._upc

    def _hit_shape(self) -> QPainterPath:
        path = QPainterPath()
        upc = self._upc
        if self.row.kind == "cupping":
            # Only the rim and centre grab the cup, so points under the cup stay clickable.
            ring = QPainterPath()
            r = self.extent()
            ring.addEllipse(QPointF(0, 0), r, r)
            stroker = QPainterPathStroker()
            stroker.setWidth(0.35 * upc)
            path = stroker.createStroke(ring)
            path.addEllipse(QPointF(0, 0), 0.3 * upc, 0.3 * upc)
            return path
        r = max(self.extent(), 0.45 * upc)
        path.addEllipse(QPointF(0, 0), r, r)
        return path

    def boundingRect(self) -> QRectF:
        return self._rect

    def shape(self) -> QPainterPath:
        return self._shape

    def show_selected(self, selected: bool) -> None:
        """Restyle after a selection change (raised above the others, label inverted).

        Done from the scene's selection signal rather than ``itemChange``, which Qt would
        call into Python for every change of every item.
        """
        self.setZValue(Z_SELECTED if selected else (Z_GHOSTS if self.ghost else Z_MARKS))
        self.label.update()

    def _build_ops(self) -> list[tuple[QPen, QBrush, QPainterPath]]:
        """The symbol as (pen, brush, path) steps, built once per row, not per paint."""
        upc = self._upc
        fill = _color(self.colors()[0])
        no_brush = QBrush(Qt.BrushStyle.NoBrush)
        kind = self.row.kind

        def circle(r: float) -> QPainterPath:
            path = QPainterPath()
            path.addEllipse(QPointF(0, 0), r, r)
            return path

        if kind == "acupoint":
            r = 0.34 * upc
            return [
                (QPen(_color("#ffffff"), 0.09 * upc), QBrush(fill), circle(r)),
                (QPen(_color("#0b2c4d", 0.55), 0.03 * upc), no_brush, circle(r + 0.045 * upc)),
            ]
        if kind == "trigger_point":
            d = 0.32 * upc
            cross = QPainterPath()
            cross.moveTo(-d, -d)
            cross.lineTo(d, d)
            cross.moveTo(-d, d)
            cross.lineTo(d, -d)
            ops = []
            for color, width in ((_color("#ffffff", 0.95), 0.24 * upc), (fill, 0.12 * upc)):
                pen = QPen(color, width)
                pen.setCapStyle(Qt.PenCapStyle.RoundCap)
                ops.append((pen, no_brush, cross))
            return ops
        if kind == "ashi":
            d = 0.44 * upc
            diamond = _polygon_path([(0, -d), (d, 0), (0, d), (-d, 0)], True)
            pen = QPen(_color("#ffffff"), 0.09 * upc)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            return [(pen, QBrush(fill), diamond)]
        ring = circle(self.extent())
        return [
            (QPen(_color("#ffffff", 0.9), 0.22 * upc), QBrush(_color(self.colors()[0], 0.1)), ring),
            (QPen(fill, 0.12 * upc), no_brush, ring),
            (QPen(Qt.PenStyle.NoPen), QBrush(fill), circle(0.12 * upc)),
        ]

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        if self.isSelected():
            painter.setPen(_SELECT_PEN)
            painter.setBrush(_SELECT_BRUSH)
            r = self.extent() + 0.2 * self._upc
            painter.drawEllipse(QPointF(0, 0), r, r)
        for pen, brush, path in self._ops:
            painter.setPen(pen)
            painter.setBrush(brush)
            painter.drawPath(path)


class _HoverMarker(QGraphicsItem):
    """The ring and code shown on the point a click would snap to."""

    def __init__(self) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setZValue(Z_HOVER)
        self._text = ""
        self._rect = QRectF()
        self.setVisible(False)

    def set_text(self, text: str) -> None:
        """Set the code shown beside the ring."""
        self.prepareGeometryChange()
        self._text = text
        width = QFontMetricsF(_font(11, True)).horizontalAdvance(text)
        self._rect = QRectF(-10, -10, 36 + width, 20)
        self.update()

    @property
    def text(self) -> str:
        """The code shown."""
        return self._text

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        painter.setPen(QPen(_color(HOVER_COLOR, 0.9), 1.6))
        painter.setBrush(_color(HOVER_COLOR, 0.12))
        painter.drawEllipse(QPointF(0, 0), 7.5, 7.5)
        font = _font(11, True)
        metrics = QFontMetricsF(font)
        box = QRectF(12, -metrics.height() / 2 - 1, metrics.horizontalAdvance(self._text) + 6, 0)
        box.setHeight(metrics.height() + 2)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_color(HOVER_COLOR, 0.92))
        painter.drawRoundedRect(box, 3, 3)
        painter.setFont(font)
        painter.setPen(_color("#ffffff"))
        painter.drawText(QPointF(box.left() + 3, box.top() + 1 + metrics.ascent()), self._text)


def mark_tooltip(row: MarkRow) -> str:
    """Rich-text tooltip of a mark: what it is, where, and its technique details."""
    spec = row.spec
    lines = [f"<b>{escape(row.label)}</b> · {escape(KIND_LABELS.get(spec.kind, spec.kind))}"]
    if spec.technique:
        lines.append(escape(TECHNIQUES.get(spec.technique, spec.technique)))
    if spec.depth_mm is not None:
        lines.append(f"Depth {spec.depth_mm:g} mm")
    if spec.response:
        lines.append(escape(RESPONSES.get(spec.response, spec.response)))
    if spec.note:
        lines.append(f"<i>{escape(spec.note)}</i>")
    cautions = [FLAG_TEXT[f] for f in sorted(row.flags) if f in FLAG_TEXT]
    lines += [f"<span style='color:{CAUTION_COLOR}'>⚠ {escape(c)}</span>" for c in cautions]
    return "<br>".join(lines)


# --- the view ------------------------------------------------------------------------------


@dataclass
class _SceneState:
    """One view's scene and the items the widget keeps track of in it."""

    view: View
    scene: QGraphicsScene
    pregnancy: _PregnancyLayer
    hover: _HoverMarker
    marks: dict[int, MarkItem] = field(default_factory=dict)
    ghosts: dict[int, MarkItem] = field(default_factory=dict)
    referral: list[QGraphicsItem] = field(default_factory=list)
    referral_key: tuple[str, str] | None = None
    ea_lines: list[QGraphicsItem] = field(default_factory=list)
    # Safety rings by mark id, with the (x, y, title) they were drawn for.
    alerts: dict[int, tuple[tuple[float, float, str], QGraphicsItem]] = field(default_factory=dict)


@dataclass
class _Press:
    """A mouse press being followed until its release."""

    kind: str  # "mark", "body" or "pan"
    pos: QPointF
    scroll: tuple[int, int]
    starts: dict[int, QPointF] = field(default_factory=dict)
    dragging: bool = False


class BodyMapView(QGraphicsView):
    """The body map the practitioner charts on; it shows marks but never stores them.

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
        selection_changed(list mark_ids): the selected marks changed.
        view_changed(str view_id): another view is shown.
        hover_text_changed(str text): what is under the cursor, for a status bar ("" when
            nothing).
    """

    point_clicked = Signal(str, str, str, float, float)
    trigger_clicked = Signal(str, str, str, float, float)
    free_clicked = Signal(str, str, str, float, float)
    mark_moved = Signal(int, float, float)
    delete_requested = Signal(list)
    mark_activated = Signal(int)
    selection_changed = Signal(list)
    view_changed = Signal(str)
    hover_text_changed = Signal(str)

    def __init__(self, bodymap: BodyMap, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ea_pairs: list[tuple[int, int, str]] = []
        self._alerts: dict[int, str] = {}
        self.setObjectName("bodyMap")
        self._bm = bodymap
        self._scenes: dict[str, _SceneState] = {}
        self._rows: dict[int, MarkRow] = {}
        self._ghost_rows: dict[int, MarkRow] = {}
        self._ghosts_visible = True
        self._pregnant = False
        self._mode = "point"
        self._view_id = ""
        self._user_zoomed = False
        self._press: _Press | None = None
        self._selection: list[int] = []
        self._hover_text = ""
        self._menu: QMenu | None = None
        self._menu_ids: list[int] = []
        self._read_only = False

        self.setRenderHints(
            QPainter.RenderHint.Antialiasing
            | QPainter.RenderHint.TextAntialiasing
            | QPainter.RenderHint.SmoothPixmapTransform
        )
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.viewport().setMouseTracking(True)
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
            old.scene.clearSelection()
        built = view_id not in self._scenes
        state = self._scenes.get(view_id) or self._build_scene(view_id)
        self._view_id = view_id
        self.setScene(state.scene)
        if built:
            self._draw_overlays()
        self._user_zoomed = False
        self.fit()
        self._emit_selection()
        self.view_changed.emit(view_id)

    def set_marks(self, rows: Sequence[MarkRow]) -> None:
        """Show the visit's marks; items are added, moved, relabelled or removed by mark id."""
        new = {row.id: row for row in rows}
        old = self._rows
        self._rows = new
        for state in self._scenes.values():
            self._sync(state, state.marks, old, new, ghost=False)
        self._emit_selection()
        self._draw_overlays()

    def set_ea_pairs(self, pairs: Sequence[tuple[int, int, str]]) -> None:
        """Draw electroacupuncture leads as lines between marks: (mark a, mark b, label)."""
        if list(pairs) != self._ea_pairs:
            self._ea_pairs = list(pairs)
            self._draw_overlays()

    def set_alert_marks(self, alerts: dict[int, str]) -> None:
        """Ring marks that have an unacknowledged safety warning: {mark id: warning title}."""
        if alerts != self._alerts:
            self._alerts = dict(alerts)
            self._draw_overlays()

    def alert_count(self) -> int:
        """Safety rings drawn on the current view."""
        return len(self._state.alerts)

    def ea_line_count(self) -> int:
        """EA leads drawn on the current view."""
        return len(self._state.ea_lines)

    def _draw_overlays(self) -> None:
        """Redraw the overlays that follow marks: EA leads and safety rings.

        Rings are kept for marks whose position and warning did not change (a visit with
        hundreds of cautioned marks would otherwise rebuild them all on every click).
        """
        for state in self._scenes.values():
            wanted: dict[int, tuple[float, float, str]] = {}
            for mark_id, title in self._alerts.items():
                row = self._rows.get(mark_id)
                if row is not None and row.spec.view == state.view.id:
                    wanted[mark_id] = (row.spec.x, row.spec.y, title)
            for mark_id in [m for m, (key, _) in state.alerts.items() if wanted.get(m) != key]:
                state.scene.removeItem(state.alerts.pop(mark_id)[1])
            for mark_id, key in wanted.items():
                if mark_id in state.alerts:
                    continue
                x, y, title = key
                r = 0.9 * self._bm.units_per_cun(state.view.id, x, y)
                pen = QPen(QColor("#d93025"), 2.4)
                pen.setCosmetic(True)
                ring = state.scene.addEllipse(x - r, y - r, 2 * r, 2 * r, pen)
                ring.setZValue(Z_EA)
                ring.setToolTip(plain_tooltip(f"Safety: {title}"))
                state.alerts[mark_id] = (key, ring)
            for item in state.ea_lines:
                state.scene.removeItem(item)
            state.ea_lines = []
            for a, b, label in self._ea_pairs:
                row_a, row_b = self._rows.get(a), self._rows.get(b)
                if row_a is None or row_b is None or row_a.spec.view != state.view.id:
                    continue
                if row_b.spec.view != state.view.id:
                    continue
                pen = QPen(QColor(EA_COLOUR), 2.2)
                pen.setCosmetic(True)
                pen.setStyle(Qt.PenStyle.DashLine)
                line = state.scene.addLine(
                    row_a.spec.x, row_a.spec.y, row_b.spec.x, row_b.spec.y, pen
                )
                line.setZValue(Z_EA)
                line.setToolTip(plain_tooltip(f"Electroacupuncture: {label}"))
                state.ea_lines.append(line)

    def set_ghost_marks(self, rows: Sequence[MarkRow]) -> None:
        """Show the previous visit's marks, faded and out of the way of clicks."""
        new = {row.id: row for row in rows}
        old = self._ghost_rows
        self._ghost_rows = new
        for state in self._scenes.values():
            self._sync(state, state.ghosts, old, new, ghost=True)

    def set_ghosts_visible(self, visible: bool) -> None:
        """Show or hide the previous visit's marks."""
        self._ghosts_visible = visible
        for state in self._scenes.values():
            for item in state.ghosts.values():
                item.setVisible(visible)

    @property
    def ghosts_visible(self) -> bool:
        """True when the previous visit's marks are shown."""
        return self._ghosts_visible

    def set_pregnant(self, pregnant: bool) -> None:
        """Highlight the points cautioned in pregnancy (and, faintly, the region points)."""
        self._pregnant = pregnant
        for state in self._scenes.values():
            state.pregnancy.setVisible(pregnant)

    def pregnancy_highlights(self) -> list[tuple[str, str]]:
        """(code, side) of the points highlighted for pregnancy on the current view."""
        if not self._pregnant:
            return []
        return [(code, side) for code, side, _, _ in self._state.pregnancy.strong]

    def selected_mark_ids(self) -> list[int]:
        """Ids of the selected marks, in ascending order."""
        return sorted(
            item.mark_id
            for item in self._state.scene.selectedItems()
            if isinstance(item, MarkItem) and not item.ghost
        )

    def select_marks(self, ids: Iterable[int]) -> None:
        """Select exactly these marks (those on the current view)."""
        wanted = set(ids)
        scene = self._state.scene
        blocked = scene.blockSignals(True)
        try:
            for mark_id, item in self._state.marks.items():
                item.setSelected(mark_id in wanted)
        finally:
            scene.blockSignals(blocked)
        self._emit_selection()

    def mark_item_count(self) -> int:
        """Number of mark items in the current scene (previous-visit marks excluded)."""
        return len(self._state.marks)

    def ghost_item_count(self) -> int:
        """Number of previous-visit marks drawn (visible) on the current view."""
        return sum(1 for item in self._state.ghosts.values() if item.isVisible())

    def mark_item(self, mark_id: int) -> MarkItem | None:
        """The item drawing a mark on the current view, if it is there."""
        return self._state.marks.get(mark_id)

    def ghost_item(self, mark_id: int) -> MarkItem | None:
        """The item drawing a previous-visit mark on the current view, if it is there."""
        return self._state.ghosts.get(mark_id)

    def referral_item_count(self) -> int:
        """Number of referral-zone overlay items shown (0 when no muscle is hovered)."""
        return len(self._state.referral)

    def hovered_point(self) -> str:
        """Code of the point a click would snap to now ("" when none)."""
        hover = self._state.hover
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
        self._user_zoomed = False
        rect = self._content_rect()
        self.resetTransform()
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        self.centerOn(rect.center())

    def tooltip_at(self, viewport_pos: QPoint) -> str:
        """The rich-text tooltip for a viewport position ("" when there is nothing)."""
        mark = self._mark_at(viewport_pos)
        if mark is not None:
            return mark.toolTip()
        ghost = self._ghost_at(viewport_pos)
        if ghost is not None:
            return f"<b>Previous visit:</b> {escape(ghost.row.label)}"
        x, y = self.model_position(viewport_pos)
        if not self._bm.inside_outline(self._view_id, x, y):
            return ""
        hit = self._bm.nearest_point(self._view_id, x, y, SNAP_CUN)
        if hit is not None:
            return self.point_tooltip(hit.point.code, hit.side)
        muscle = self._bm.muscle_at(self._view_id, x, y)
        if muscle is not None:
            m = muscle.muscle
            side = "left" if muscle.side == "L" else "right"
            return (
                f"<table width=340><tr><td><b>{escape(m.name)}</b> ({side})<br>"
                f"<span style='color:#6b4e3d'>{escape(m.referral)}</span><br>"
                "<i>Click to chart a trigger point here.</i></td></tr></table>"
            )
        return ""

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
        for flag in sorted(p.flags):
            text = FLAG_TEXT.get(flag, flag)
            parts.append(
                f"<span style='color:{CAUTION_COLOR}'>⚠ <b>{escape(flag)}</b> {escape(text)}</span>"
            )
        body = "<br>".join(parts)
        return f"<table width=360><tr><td>{body}</td></tr></table>"

    # --- scene building ------------------------------------------------------------------

    @property
    def _state(self) -> _SceneState:
        return self._scenes[self._view_id]

    def _build_scene(self, view_id: str) -> _SceneState:
        view = self._bm.views[view_id]
        scene = QGraphicsScene(self)
        # Room around the figure, so zooming keeps the spot under the cursor and panning
        # can bring any part of the body to the middle.
        room = max(view.width, view.height)
        scene.setSceneRect(QRectF(0, 0, view.width, view.height).adjusted(-room, -room, room, room))
        scene.setBackgroundBrush(QColor("#ffffff"))
        scene.addItem(_ArtworkItem(view))
        scene.addItem(_PointsLayer(self._bm, view))
        pregnancy = _PregnancyLayer(self._bm, view)
        pregnancy.setVisible(self._pregnant)
        scene.addItem(pregnancy)
        hover = _HoverMarker()
        scene.addItem(hover)
        state = _SceneState(view, scene, pregnancy, hover)
        self._scenes[view_id] = state
        self._sync(state, state.marks, {}, self._rows, ghost=False)
        self._sync(state, state.ghosts, {}, self._ghost_rows, ghost=True)
        scene.selectionChanged.connect(self._on_scene_selection_changed)
        return state

    def _caution(self, row: MarkRow) -> bool:
        flags = set(row.flags)
        if row.kind == "acupoint" and row.spec.point_code:
            with contextlib.suppress(KeyError):
                flags |= self._bm.point(row.spec.point_code).flags
        return "LUNG" in flags

    def _sync(
        self,
        state: _SceneState,
        items: dict[int, MarkItem],
        old: dict[int, MarkRow],
        new: dict[int, MarkRow],
        ghost: bool,
    ) -> None:
        view_id = state.view.id
        for mark_id in [i for i in items if i not in new or new[i].spec.view != view_id]:
            state.scene.removeItem(items.pop(mark_id))
        for mark_id, row in new.items():
            if row.spec.view != view_id:
                continue
            item = items.get(mark_id)
            before = old.get(mark_id)
            if item is not None and (before is row or before == row):
                continue
            upc = self._bm.units_per_cun(view_id, row.spec.x, row.spec.y)
            caution = self._caution(row) and not ghost
            if item is None:
                item = MarkItem(row, upc, ghost, caution)
                if ghost:
                    item.setVisible(self._ghosts_visible)
                items[mark_id] = item
                state.scene.addItem(item)
            else:
                item.set_row(row, upc, caution)

    # --- hit-testing ---------------------------------------------------------------------

    def _hit_mark(self, viewport_pos: QPoint) -> tuple[MarkItem | None, bool]:
        """The charted mark under a viewport position, and whether its label was hit."""
        for item in self.items(viewport_pos):
            if isinstance(item, _MarkLabel) and not item.mark.ghost and item.isVisible():
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
            if not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self._state.scene.clearSelection()
            mark.setSelected(True)
            self._press = _Press("label", pos, self._scroll())
            event.accept()
            return
        super().mousePressEvent(event)
        starts = {
            item.mark_id: item.pos()
            for item in self._state.scene.selectedItems()
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
            self._click_body(event.position().toPoint(), event.modifiers())
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
            item = self._state.marks.get(mark_id)
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

    def _click_body(self, viewport_pos: QPoint, modifiers: Qt.KeyboardModifier) -> None:
        if self._read_only:
            self._state.scene.clearSelection()
            return
        view_id = self._view_id
        x, y = self.model_position(viewport_pos)
        if not self._bm.inside_outline(view_id, x, y):
            return
        self._state.scene.clearSelection()
        if modifiers & Qt.KeyboardModifier.ShiftModifier or self._mode == "ashi":
            self.free_clicked.emit("ashi", view_id, self._bm.side_at(view_id, x, y), x, y)
            return
        if self._mode == "cupping":
            self.free_clicked.emit("cupping", view_id, self._bm.side_at(view_id, x, y), x, y)
            return
        hit = self._bm.nearest_point(view_id, x, y, SNAP_CUN)
        if hit is not None:
            self.point_clicked.emit(view_id, hit.point.code, hit.side, hit.x, hit.y)
            return
        muscle = self._bm.muscle_at(view_id, x, y)
        if muscle is not None:
            self.trigger_clicked.emit(view_id, muscle.muscle.id, muscle.side, x, y)

    # --- hover -----------------------------------------------------------------------------

    def _update_hover(self, viewport_pos: QPoint) -> None:
        state = self._state
        x, y = self.model_position(viewport_pos)
        view_id = self._view_id
        text = ""
        snap = None
        muscle = None
        mark = self._mark_at(viewport_pos)
        if mark is not None:
            text = f"{mark.row.label} · {KIND_LABELS.get(mark.row.kind, mark.row.kind)}"
        elif self._bm.inside_outline(view_id, x, y):
            if self._mode == "point":
                snap = self._bm.nearest_point(view_id, x, y, SNAP_CUN)
            if snap is None:
                muscle = self._bm.muscle_at(view_id, x, y)
        if snap is not None:
            p = snap.point
            side = "" if snap.side == "M" else f" {snap.side}"
            text = f"{p.label}{side} · {p.pinyin} · {p.english}"
            if state.hover.text != f"{p.label}{side}":
                state.hover.set_text(f"{p.label}{side}")
            state.hover.setPos(snap.x, snap.y)
            state.hover.setVisible(True)
        else:
            state.hover.setVisible(False)
        if muscle is not None:
            m = muscle.muscle
            side_word = "left" if muscle.side == "L" else "right"
            text = f"{m.name} ({side_word}) · referral pattern shown"
            self._show_referral(state, m.id, muscle.side)
        else:
            self._hide_referral(state)
        self._set_hover_text(text)

    def _set_hover_text(self, text: str) -> None:
        if text != self._hover_text:
            self._hover_text = text
            self.hover_text_changed.emit(text)

    def _clear_hover(self) -> None:
        state = self._scenes.get(self._view_id)
        if state is not None:
            state.hover.setVisible(False)
            self._hide_referral(state)
        self._set_hover_text("")

    def _show_referral(self, state: _SceneState, muscle_id: str, side: str) -> None:
        key = (muscle_id, side)
        if state.referral_key == key:
            return
        self._hide_referral(state)
        state.referral_key = key
        view_id = state.view.id
        items: list[QGraphicsItem] = []
        region = QPainterPath()
        for poly in self._bm.muscle_regions(muscle_id, view_id, side):  # type: ignore[arg-type]
            region.addPath(_polygon_path(poly, True))
        if not region.isEmpty():
            pen = QPen(_color("#8e1820", 0.8), 1.3)
            pen.setCosmetic(True)
            pen.setStyle(Qt.PenStyle.DashLine)
            item = QGraphicsPathItem(region)
            item.setPen(pen)
            item.setBrush(_color("#8e1820", 0.10))
            items.append(item)
        for zone in self._bm.muscle(muscle_id).referral_zones:
            polys = self._bm.referral_polygons(muscle_id, zone.id, view_id, side)  # type: ignore[arg-type]
            if not polys:
                continue
            path = QPainterPath()
            for poly in polys:
                path.addPath(_polygon_path(poly, True))
            item = QGraphicsPathItem(path)
            pen = QPen(_color(REFERRAL_COLOR, 0.7), 1.0)
            pen.setCosmetic(True)
            item.setPen(pen)
            if zone.intensity == "essential":
                item.setBrush(_color(REFERRAL_COLOR, 0.38))
            else:
                item.setBrush(QBrush(_color(REFERRAL_COLOR, 0.6), Qt.BrushStyle.Dense5Pattern))
            item.setToolTip(zone.label)
            items.append(item)
        for overlay in items:
            overlay.setZValue(Z_REFERRAL)
            overlay.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            state.scene.addItem(overlay)
        state.referral = items

    @staticmethod
    def _hide_referral(state: _SceneState) -> None:
        for item in state.referral:
            state.scene.removeItem(item)
        state.referral = []
        state.referral_key = None

    def leaveEvent(self, event: QEvent) -> None:
        if self._press is None:
            self._clear_hover()
        super().leaveEvent(event)

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            text = self.tooltip_at(event.pos())
            if text:
                QToolTip.showText(event.globalPos(), text, self.viewport())
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().viewportEvent(event)

    # --- selection, keys, menu -----------------------------------------------------------

    @Slot()
    def _on_scene_selection_changed(self) -> None:
        if self.sender() is self._state.scene:
            self._emit_selection()

    def _emit_selection(self) -> None:
        ids = self.selected_mark_ids()
        if ids != self._selection:
            marks = self._state.marks
            for mark_id in set(ids).symmetric_difference(self._selection):
                item = marks.get(mark_id)
                if item is not None:
                    item.show_selected(mark_id in ids)
            self._selection = ids
            self.selection_changed.emit(ids)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and not ctrl:
            ids = self.selected_mark_ids()
            if ids and not self._read_only:
                self.delete_requested.emit(ids)
        elif key == Qt.Key.Key_Escape:
            self._state.scene.clearSelection()
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

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        mark = self._mark_at(event.pos())
        if mark is None:
            event.ignore()
            return
        if not mark.isSelected():
            self.select_marks([mark.mark_id])
        self._menu_ids = self.selected_mark_ids()
        menu = QMenu(self)
        menu.setObjectName("bodyMapMenu")
        edit = menu.addAction("Edit details…")
        edit.setEnabled(len(self._menu_ids) == 1)
        edit.triggered.connect(self._on_edit_action_triggered)
        delete = menu.addAction("Delete")
        delete.setEnabled(not self._read_only)
        delete.triggered.connect(self._on_delete_action_triggered)
        menu.aboutToHide.connect(menu.deleteLater)
        self._menu = menu
        menu.popup(event.globalPos())
        event.accept()

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

    def _content_rect(self) -> QRectF:
        view = self._state.view
        return QRectF(0, 0, view.width, view.height).adjusted(
            -SCENE_MARGIN, -SCENE_MARGIN, SCENE_MARGIN, SCENE_MARGIN
        )

    def _fit_scale(self) -> float:
        rect = self._content_rect()
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
            self.fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if not self._user_zoomed:
            self.fit()
