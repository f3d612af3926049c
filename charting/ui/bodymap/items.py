"""The body map's graphics items: artwork, catalog points, marks with their labels, hover ring."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from typing import ClassVar

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from charting.bodymap import BodyMap, Shape, View, label_anchor, style_for
from charting.bodymap.style import (
    CAUTION_COLOUR,
    GHOST_COLOUR,
    GHOST_OPACITY,
    MARK_RADIUS_CUN,
    PREGNANCY_COLOUR,
    SYMBOL,
    mark_extent_cun,
    mark_style,
)
from charting.services.marks import RESPONSES, TECHNIQUES, MarkRow, kind_label

FONT_FAMILY = "DejaVu Sans"
#: Size of a mark's label on screen (pixels), whatever the zoom.
LABEL_PX = 11

# Paint order (z values).
Z_ARTWORK, Z_REFERRAL, Z_POINTS, Z_PREGNANCY, Z_GHOSTS, Z_MARKS, Z_HOVER = (0, 1, 2, 3, 5, 10, 20)
Z_EA = 8
Z_SELECTED = 11
#: Cups lie under the needles (a click on a needle's dot inside a cup picks the needle), a
#: selected cup above the other cups.
Z_CUPS, Z_CUP_SELECTED = 9.0, 9.5
Z_LABELS = 12
SELECT_COLOR = "#ffb000"
HOVER_COLOR = "#1f6fb2"
REFERRAL_COLOR = "#d42a2a"

# Short wording of the catalog's caution flags (see docs/sources.md: WHO08, WHO99, CAM, BALIAO).
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
#: Mark symbols rendered once per (kind, ghost, dot radius in device pixels).
_SPRITES: dict[tuple[str, bool, float], QPixmap] = {}
_SPRITE_LIMIT = 512


def ui_font(pixel_size: int, bold: bool = False) -> QFont:
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


def qcolor(hex_color: str, alpha: float = 1.0) -> QColor:
    color = QColor(hex_color)
    color.setAlphaF(max(0.0, min(1.0, alpha)))
    return color


def _painter_scale(painter: QPainter) -> float:
    t = painter.worldTransform()
    return math.hypot(t.m11(), t.m12()) or 1.0


def polygon_path(points: Iterable[tuple[float, float]], closed: bool) -> QPainterPath:
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
    font = ui_font(round(max(size * scale, min_px)), bold)
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


class ArtworkItem(QGraphicsItem):
    """The view's shapes (outline, details, guides), painted once into a cache per zoom.

    Painting the figure afresh at a new scale takes several milliseconds (mostly its wide,
    round-joined outline), too long for a wheel step. So while the zoom is moving
    (:meth:`set_moving`), a picture of the shapes rendered once is drawn scaled instead; once
    the zoom settles they are painted crisp at the new scale again.
    """

    #: Resolution of the picture drawn while the zoom moves (pixels per model unit).
    PREVIEW_SCALE = 1.0

    def __init__(self, view: View) -> None:
        super().__init__()
        self._rect = QRectF(0, 0, view.width, view.height).adjusted(-8, -8, 8, 8)
        self._strokes = [self._stroke(shape) for shape in view.shapes if shape.kind != "text"]
        self._preview: QPixmap | None = None
        self._moving = False
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
            path = polygon_path(shape.points, shape.kind == "polygon")
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

    @property
    def moving(self) -> bool:
        """Whether the scaled picture is drawn (the zoom is moving)."""
        return self._moving

    def prepare_preview(self) -> None:
        """Render the picture drawn while the zoom moves (once; done when the map is idle so
        the first wheel step does not pay for it)."""
        if self._preview is not None:
            return
        k = self.PREVIEW_SCALE
        pixmap = QPixmap(math.ceil(self._rect.width() * k), math.ceil(self._rect.height() * k))
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.scale(k, k)
        painter.translate(-self._rect.topLeft())
        self._draw_shapes(painter)
        painter.end()
        self._preview = pixmap

    def set_moving(self, moving: bool) -> None:
        """Draw the scaled picture (True, while the zoom moves) or the crisp shapes."""
        if moving == self._moving:
            return
        if moving:
            self.prepare_preview()
        self._moving = moving
        # Without a cache while moving: the picture is drawn straight to the screen, and
        # the crisp cache is made afresh for the scale the zoom settles at.
        self.setCacheMode(
            QGraphicsItem.CacheMode.NoCache
            if moving
            else QGraphicsItem.CacheMode.DeviceCoordinateCache
        )
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def _draw_shapes(self, painter: QPainter) -> None:
        for stroke in self._strokes:
            painter.setOpacity(stroke.opacity)
            painter.setPen(stroke.pen)
            painter.setBrush(stroke.brush)
            painter.drawPath(stroke.path)
        painter.setOpacity(1.0)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        if self._moving and self._preview is not None:
            painter.drawPixmap(self._rect, self._preview, QRectF(self._preview.rect()))
        else:
            self._draw_shapes(painter)


class GuideTextItem(QGraphicsItem):
    """The artwork's words (side and guide labels): model-sized text that never shrinks
    below a legible size on screen."""

    #: Smallest on-screen size of the artwork's text, by role (pixels).
    MIN_TEXT_PX: ClassVar[dict[str, float]] = {"panel_label": 12.0, "guide_label": 7.0}

    def __init__(self, view: View) -> None:
        super().__init__()
        self._rect = QRectF(0, 0, view.width, view.height).adjusted(-40, -40, 40, 40)
        texts = [
            shape
            for shape in view.shapes
            # On screen the view buttons already name the view, and its title would
            # collide with the side labels once text is enlarged to stay legible.
            if shape.kind == "text"
            and not (shape.role == "panel_label" and shape.text == view.title)
        ]
        #: The words in order of importance: the side labels, then the guides' names.
        self.texts: list[Shape] = sorted(texts, key=lambda t: t.role != "panel_label")
        self._shown: set[int] = set(range(len(self.texts)))
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setZValue(Z_ARTWORK + 0.5)

    @classmethod
    def min_text_px(cls, role: str) -> float:
        """Smallest on-screen size of the artwork's text of ``role`` (pixels)."""
        return cls.MIN_TEXT_PX.get(role, 6.0)

    def set_shown(self, indices: Iterable[int]) -> None:
        """Show only these words (indices into :attr:`texts`); the scene leaves out those
        that would cover a mark or another word at the current zoom."""
        shown = set(indices)
        if shown != self._shown:
            self._shown = shown
            self.update()

    @property
    def shown(self) -> list[int]:
        """Indices of the words shown, in :attr:`texts` order."""
        return sorted(self._shown)

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        for i, shape in enumerate(self.texts):
            if i not in self._shown:
                continue
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
                self.min_text_px(shape.role),
            )
        painter.setOpacity(1.0)


class PointsLayer(QGraphicsItem):
    """Every point of the view as a small faint dot (one item, cached); the clinic's custom
    points as small squares in their own colour."""

    def __init__(self, bodymap: BodyMap, view: View) -> None:
        super().__init__()
        self._rect = QRectF(0, 0, view.width, view.height)
        self._view = view
        self._centres: list[QPointF] = []
        self._custom: list[QPointF] = []
        self.set_points(bodymap)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setZValue(Z_POINTS)

    def set_points(self, bodymap: BodyMap) -> None:
        """Take the points from ``bodymap`` again (after the clinic's custom points changed)."""
        placed = bodymap.placed_points(self._view.id)
        self._centres = [QPointF(p.x, p.y) for p in placed if not bodymap.is_custom(p.code)]
        self._custom = [QPointF(p.x, p.y) for p in placed if bodymap.is_custom(p.code)]
        self.update()

    @property
    def custom_centres(self) -> list[QPointF]:
        """Where the custom points are drawn (scene coordinates)."""
        return list(self._custom)

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
        painter.setBrush(qcolor("#4f6a8a", 0.55))
        for centre in self._centres:
            painter.drawEllipse(centre, radius, radius)
        painter.setBrush(qcolor(mark_style("custom").fill, 0.7))
        for centre in self._custom:
            painter.drawRect(
                QRectF(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius)
            )


class PregnancyLayer(QGraphicsItem):
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
        painter.setBrush(qcolor(PREGNANCY_COLOUR, 0.13))
        for _, _, centre, upc in self.region:
            painter.drawEllipse(centre, 0.42 * upc, 0.42 * upc)
        pen = QPen(qcolor(PREGNANCY_COLOUR, 0.95), 2.0)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(qcolor(PREGNANCY_COLOUR, 0.18))
        for _, _, centre, upc in self.strong:
            painter.drawEllipse(centre, 0.55 * upc, 0.55 * upc)


# --- marks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Op:
    """One step of drawing a mark's symbol: a circle of ``radius``, a polygon, or lines."""

    pen: QPen
    brush: QBrush
    radius: float = 0.0
    polygon: QPolygonF | None = None
    lines: tuple[QLineF, ...] = ()


class MarkLabel(QGraphicsItem):
    """A mark's compact label on a light halo, always the same size on screen.

    Its coordinates are screen pixels from the mark's centre (it ignores the view's zoom).
    The scene places it (:meth:`place`) where it covers no other label, mark or guide label,
    with a leader line back to the mark when it had to move away, or hides it when there is
    no room at this zoom.
    """

    PAD_X, PAD_Y, GAP = 3.0, 1.0, 3.0

    def __init__(self, mark: MarkItem) -> None:
        super().__init__(mark)
        self._mark = mark
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._text = ""
        self._caution = False
        self._size = (0.0, 0.0)
        self._rect = QRectF()
        self._box = QRectF()
        self._leader: tuple[QPointF, QPointF] | None = None

    def set_content(self, text: str, caution: bool) -> None:
        """Set the text and the depth-caution badge (the scene places the label)."""
        self._text, self._caution = text, caution
        metrics = QFontMetricsF(ui_font(LABEL_PX, True))
        width = metrics.horizontalAdvance(text)
        if caution:
            width += metrics.horizontalAdvance(" ⚠")
        self._size = (width + 2 * self.PAD_X, metrics.height() + 2 * self.PAD_Y)
        # Until the scene lays the labels out: beside the mark, away from the midline.
        self.place(self.preferred_box(), None)

    def preferred_box(self) -> QRectF:
        """The label beside its mark, away from the midline (left marks to the left)."""
        w, h = self._size
        extent = self._mark.extent_px()
        anchor = self._mark.anchor()
        if anchor == "below":
            return QRectF(-w / 2, extent + self.GAP, w, h)
        x0 = -extent - self.GAP - w if anchor == "end" else extent + self.GAP
        return QRectF(x0, -h / 2, w, h)

    @property
    def size(self) -> tuple[float, float]:
        """Width and height of the label, in pixels."""
        return self._size

    def place(self, box: QRectF | None, leader: tuple[QPointF, QPointF] | None) -> None:
        """Put the label at ``box`` (pixels from the mark's centre), with an optional leader
        line (from, to); None hides it."""
        if box is None:
            self.setVisible(False)
            return
        if box == self._box and leader == self._leader:
            self.setVisible(not self._mark.ghost)
            return
        self.prepareGeometryChange()
        self._box, self._leader = box, leader
        rect = box.adjusted(-1, -1, 1, 1)
        if leader is not None:
            a, b = leader
            rect = rect.united(QRectF(a, b).normalized().adjusted(-1, -1, 1, 1))
        self._rect = rect
        self.setVisible(not self._mark.ghost)
        self.update()

    def shape(self) -> QPainterPath:
        # Only the label itself picks its mark: the rectangle that also spans its leader
        # line would take clicks meant for the body (or for other marks) around it.
        path = QPainterPath()
        path.addRect(self._box)
        return path

    @property
    def box(self) -> QRectF:
        """Where the label is drawn, in pixels from the mark's centre."""
        return QRectF(self._box)

    @property
    def has_leader(self) -> bool:
        """Whether a leader line joins the label to its mark."""
        return self._leader is not None

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
        font = ui_font(LABEL_PX, True)
        if self._leader is not None:
            painter.setPen(QPen(qcolor(ink, 0.7), 1.0))
            painter.drawLine(*self._leader)
        if selected:
            painter.setPen(QPen(qcolor(ink), 1.0))
            painter.setBrush(qcolor(fill))
        else:
            painter.setPen(QPen(qcolor(fill, 0.45), 1.0))
            painter.setBrush(qcolor("#ffffff", 0.9))
        painter.drawRoundedRect(self._box, 3.0, 3.0)
        painter.setFont(font)
        metrics = QFontMetricsF(font)
        baseline = self._box.top() + self.PAD_Y + metrics.ascent()
        x = self._box.left() + self.PAD_X
        painter.setPen(qcolor("#ffffff") if selected else qcolor(ink))
        painter.drawText(QPointF(x, baseline), self._text)
        if self._caution:
            x += metrics.horizontalAdvance(self._text + " ")
            painter.setPen(qcolor("#ffffff") if selected else qcolor(CAUTION_COLOUR))
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
        self._ops: list[_Op] = []
        # The sprite last blitted, with the (scale, pixel ratio) it was chosen for.
        self._blit: tuple[tuple[float, float], QPixmap, float] | None = None
        self.label = MarkLabel(self)
        if ghost:
            self.setOpacity(GHOST_OPACITY)
            self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            self.setZValue(Z_GHOSTS)
        else:
            self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
            self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable)
            self.setCursor(Qt.CursorShape.PointingHandCursor)
        # No cache of its own: the symbol comes from a sprite shared with like marks.
        self.set_row(row, units_per_cun, caution)
        self.show_selected(False)

    @property
    def mark_id(self) -> int:
        """Id of the mark drawn."""
        return self.row.id

    def colors(self) -> tuple[str, str]:
        """Symbol fill and label ink of this mark."""
        if self.ghost:
            return GHOST_COLOUR, "#4d4d4d"
        style = mark_style(self.row.symbol)
        return style.fill, style.ink

    def set_row(self, row: MarkRow, units_per_cun: float, caution: bool) -> None:
        """Show ``row`` (position, kind, label); ``caution`` adds the depth-caution badge."""
        self.prepareGeometryChange()
        self.row, self._upc = row, units_per_cun
        self.setPos(row.spec.x, row.spec.y)
        self._shape = self._hit_shape()
        self._ops = self._build_ops()
        self._blit = None
        self._rect = self._shape.boundingRect().adjusted(-2, -2, 2, 2)
        self.label.set_content(row.label, caution)
        self.label.setVisible(not self.ghost)
        self.setToolTip(mark_tooltip(row))
        self.update()

    def extent(self) -> float:
        """Radius of the drawn symbol, in model units."""
        return mark_extent_cun(self.row.kind) * self._upc

    def anchor(self) -> str:
        """Where the label prefers to sit: "end" (left), "start" (right) or "below"."""
        # Away from the midline, so a left and a right mark never push each other's labels.
        # Away from the midline, whichever side of the figure the patient's side is on.
        return label_anchor(self.row.spec.view, self.row.spec.side)

    def extent_px(self) -> float:
        """Radius of the drawn symbol on screen, in pixels (at the current zoom)."""
        scene = self.scene()
        views = scene.views() if scene is not None else []
        scale = views[0].transform().m11() if views else 1.0
        return self.extent() * scale

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
        z: float
        if self.ghost:
            z = Z_GHOSTS
        elif self.row.spec.kind == "cupping":
            z = Z_CUP_SELECTED if selected else Z_CUPS
        else:
            z = Z_SELECTED if selected else Z_MARKS
        self.setZValue(z)
        self.label.update()

    def _build_ops(self) -> list[_Op]:
        """The symbol as drawing steps, built once per row, not per paint.

        Circles, lines and polygons are drawn as such rather than as general paths: the
        raster engine draws them several times faster, which a zoom step over hundreds of
        marks (each drawn afresh at the new scale) feels.
        """
        upc = self._upc
        fill = qcolor(self.colors()[0])
        no_brush = QBrush(Qt.BrushStyle.NoBrush)
        kind = self.row.symbol
        r = MARK_RADIUS_CUN * upc
        k = SYMBOL
        if kind == "acupoint":
            return [
                _Op(QPen(qcolor("#ffffff"), k["dot_rim"] * r), QBrush(fill), radius=r),
                _Op(
                    QPen(qcolor("#0b2c4d", 0.55), k["dot_outer_width"] * r),
                    no_brush,
                    radius=k["dot_outer"] * r,
                ),
            ]
        if kind == "trigger_point":
            d = k["cross_arm"] * r
            arms = (QLineF(-d, -d, d, d), QLineF(-d, d, d, -d))
            ops = []
            for color, width in (
                (qcolor("#ffffff", 0.95), k["cross_halo"] * r),
                (fill, k["cross_width"] * r),
            ):
                pen = QPen(color, width)
                pen.setCapStyle(Qt.PenCapStyle.RoundCap)
                ops.append(_Op(pen, no_brush, lines=arms))
            return ops
        if kind == "custom":
            d = k["square"] * r
            square = QPolygonF([QPointF(-d, -d), QPointF(d, -d), QPointF(d, d), QPointF(-d, d)])
            pen = QPen(qcolor("#ffffff"), k["square_rim"] * r)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            return [_Op(pen, QBrush(fill), polygon=square)]
        if kind == "ashi":
            d = k["diamond"] * r
            diamond = QPolygonF([QPointF(0, -d), QPointF(d, 0), QPointF(0, d), QPointF(-d, 0)])
            pen = QPen(qcolor("#ffffff"), k["diamond_rim"] * r)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            return [_Op(pen, QBrush(fill), polygon=diamond)]
        ring = self.extent()
        return [
            _Op(
                QPen(qcolor("#ffffff", 0.9), k["cup_halo"] * r),
                QBrush(qcolor(self.colors()[0], 0.1)),
                radius=ring,
            ),
            _Op(QPen(fill, k["cup_width"] * r), no_brush, radius=ring),
            _Op(QPen(Qt.PenStyle.NoPen), QBrush(fill), radius=k["cup_centre"] * r),
        ]

    def _sprite(self, radius_px: float) -> QPixmap:
        """The symbol rendered for a dot radius of ``radius_px`` device pixels, shared by
        every mark of the same kind and look drawn at that size."""
        key = (self.row.symbol, self.ghost, radius_px)
        sprite = _SPRITES.get(key)
        if sprite is None:
            if len(_SPRITES) >= _SPRITE_LIMIT:
                _SPRITES.clear()
            scale = radius_px / (MARK_RADIUS_CUN * self._upc)
            half = math.ceil(max(abs(self._rect.left()), self._rect.right()) * scale) + 1
            sprite = QPixmap(2 * half, 2 * half)
            sprite.fill(Qt.GlobalColor.transparent)
            sp = QPainter(sprite)
            sp.setRenderHint(QPainter.RenderHint.Antialiasing)
            sp.translate(half, half)
            sp.scale(scale, scale)
            self._draw_symbol(sp)
            sp.end()
            _SPRITES[key] = sprite
        return sprite

    def _draw_symbol(self, painter: QPainter) -> None:
        origin = QPointF(0, 0)
        for op in self._ops:
            painter.setPen(op.pen)
            painter.setBrush(op.brush)
            if op.radius:
                painter.drawEllipse(origin, op.radius, op.radius)
            elif op.polygon is not None:
                painter.drawPolygon(op.polygon)
            else:
                painter.drawLines(list(op.lines))

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
        world = painter.worldTransform()
        if world.m12() or world.m21():
            self._draw_symbol(painter)  # rotated or sheared: no sprite fits
            return
        # The symbol is blitted from a sprite rendered once per size and kind: a zoom step
        # draws a handful of sprites instead of every mark afresh. The size is kept to an
        # eighth of a pixel, which no eye tells apart.
        device = painter.device()
        dpr = device.devicePixelRatioF() if device is not None else 1.0
        key = (world.m11(), dpr)
        cached = self._blit
        if cached is None or cached[0] != key:
            radius_px = round(MARK_RADIUS_CUN * self._upc * world.m11() * dpr * 8) / 8
            if radius_px <= 0:
                return
            sprite = self._sprite(radius_px)
            sprite.setDevicePixelRatio(dpr)
            cached = self._blit = (key, sprite, sprite.width() / 2 / dpr)
        _, sprite, half = cached
        centre = world.map(QPointF(0, 0))
        painter.resetTransform()
        painter.drawPixmap(QPointF(round(centre.x() - half), round(centre.y() - half)), sprite)
        painter.setWorldTransform(world)


class HoverMarker(QGraphicsItem):
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
        width = QFontMetricsF(ui_font(11, True)).horizontalAdvance(text)
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
        painter.setPen(QPen(qcolor(HOVER_COLOR, 0.9), 1.6))
        painter.setBrush(qcolor(HOVER_COLOR, 0.12))
        painter.drawEllipse(QPointF(0, 0), 7.5, 7.5)
        font = ui_font(11, True)
        metrics = QFontMetricsF(font)
        box = QRectF(12, -metrics.height() / 2 - 1, metrics.horizontalAdvance(self._text) + 6, 0)
        box.setHeight(metrics.height() + 2)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(qcolor(HOVER_COLOR, 0.92))
        painter.drawRoundedRect(box, 3, 3)
        painter.setFont(font)
        painter.setPen(qcolor("#ffffff"))
        painter.drawText(QPointF(box.left() + 3, box.top() + 1 + metrics.ascent()), self._text)


def mark_tooltip(row: MarkRow) -> str:
    """Rich-text tooltip of a mark: what it is, where, and its technique details."""
    spec = row.spec
    lines = [f"<b>{escape(row.label)}</b> · {escape(kind_label(row))}"]
    if spec.technique:
        lines.append(escape(TECHNIQUES.get(spec.technique, spec.technique)))
    if spec.depth_mm is not None:
        lines.append(f"Depth {spec.depth_mm:g} mm")
    if spec.response:
        lines.append(escape(RESPONSES.get(spec.response, spec.response)))
    if spec.note:
        lines.append(f"<i>{escape(spec.note)}</i>")
    cautions = [FLAG_TEXT[f] for f in sorted(row.flags) if f in FLAG_TEXT]
    lines += [f"<span style='color:{CAUTION_COLOUR}'>⚠ {escape(c)}</span>" for c in cautions]
    return "<br>".join(lines)
