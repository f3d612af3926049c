"""Body-map figures for printed reports: a view's artwork, the visit's marks, EA leads, labels.

The drawings are plain :mod:`reportlab.graphics` objects (no Qt). They paint the same shapes
with the same role styles as the SVG generator (:mod:`charting.bodymap.svg`) and the screen,
and draw each mark the way the on-screen map does, so screen, SVG and paper agree.

Model units have their origin top-left with y pointing down; ReportLab's y points up, so every
position goes through :meth:`BodyMapDrawing.to_drawing`, whose inverse is
:meth:`BodyMapDrawing.to_model`.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from reportlab import rl_config
from reportlab.graphics.shapes import (
    Circle,
    Drawing,
    Group,
    Line,
    Path,
    Polygon,
    Rect,
    Shape,
    String,
    UserNode,
)
from reportlab.lib.attrmap import AttrMap, AttrMapValue
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.validators import isAnything
from reportlab.pdfbase.pdfdoc import (
    PDFArray,
    PDFBase85Encode,
    PDFDictionary,
    PDFName,
    PDFResourceDictionary,
    PDFStream,
    PDFZCompress,
    pdfdocEnc,
)
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from charting.bodymap import BodyMap, View, label_anchor, style_for
from charting.bodymap.style import (
    CUP_DIAMETER_CUN,
    EA_COLOUR,
    GHOST_COLOUR,
    GHOST_OPACITY,
    MARK_KIND_ORDER,
    MARK_STYLES,
)
from charting.bodymap.types import Shape as ModelShape
from charting.reports.fonts import SANS, SANS_BOLD, register_fonts
from charting.reports.painted import Painted, add_flat
from charting.services.marks import CUSTOM_LABEL, KIND_LABELS, MarkRow

#: Views in the order a report shows them.
VIEW_ORDER: tuple[str, ...] = ("posterior", "anterior", "lateral_leg", "medial_leg")
#: Only the tall whole-body views are worth cropping to their marks.
CROPPABLE_VIEWS = frozenset({"posterior", "anterior"})

# Mark colours per kind (symbol fill, label ink), cup size and the previous visit's grey: the
# one symbol style the screen draws too (charting.bodymap.style).
KIND_COLORS: dict[str, tuple[str, str]] = {k: (m.fill, m.ink) for k, m in MARK_STYLES.items()}
KIND_ORDER: tuple[str, ...] = MARK_KIND_ORDER
EA_LABEL = "Electroacupuncture lead"

#: Mark labels: bold, legible in print.
LABEL_FONT_SIZE = 7.0
LABEL_PAD_X, LABEL_PAD_Y, LABEL_GAP = 1.6, 1.0, 1.6
#: Point symbols keep a fixed printed size (points), whatever the figure's scale.
SYMBOL_RADIUS = 3.0
#: Printed text size limits per artwork role (points): legible when small, quiet when large.
TEXT_SIZE_LIMITS: dict[str, tuple[float, float]] = {
    "panel_label": (8.0, 10.5),
    "guide_label": (5.0, 6.8),
}
#: Crop: margin around the marks, and the smallest region kept (model units).
CROP_MARGIN = 46.0
MIN_CROP_HEIGHT = 430.0
MIN_CROP_HALF_WIDTH = 215.0
#: A crop is never flatter than this (height / width), so the figure stays a body.
MIN_CROP_ASPECT = 0.8


class BodyMapDrawing(Drawing):
    """A :class:`Drawing` of one view that remembers how model units map onto it.

    Attributes:
        view_id: The view drawn.
        crop: The region of the view shown, ``(x0, y0, x1, y1)`` in model units.
        scale: Points per model unit.
        mark_positions: Where each mark (by id) was drawn, in drawing points.
    """

    _attrMap = AttrMap(  # noqa: N815 - the name ReportLab looks up
        BASE=Drawing,
        view_id=AttrMapValue(isAnything, desc="view id"),
        crop=AttrMapValue(isAnything, desc="shown region in model units"),
        scale=AttrMapValue(isAnything, desc="points per model unit"),
        mark_positions=AttrMapValue(isAnything, desc="mark id to drawing position"),
    )

    def to_drawing(self, x: float, y: float) -> tuple[float, float]:
        """Model position (y down) to drawing points (y up)."""
        x0, _, _, y1 = self.crop
        return ((x - x0) * self.scale, (y1 - y) * self.scale)

    def to_model(self, px: float, py: float) -> tuple[float, float]:
        """Drawing points back to the model position (inverse of :meth:`to_drawing`)."""
        x0, _, _, y1 = self.crop
        return (x0 + px / self.scale, y1 - py / self.scale)


@dataclass(frozen=True)
class _Box:
    """An axis-aligned box in drawing points."""

    x0: float
    y0: float
    x1: float
    y1: float

    def overlap(self, other: _Box) -> float:
        """Area shared with ``other``."""
        w = min(self.x1, other.x1) - max(self.x0, other.x0)
        h = min(self.y1, other.y1) - max(self.y0, other.y0)
        return w * h if w > 0 and h > 0 else 0.0

    def meets_any(self, others: Iterable[_Box]) -> bool:
        """Whether the box shares any area with one of ``others`` (as ``overlap(b) > 0``
        for some ``b``, without working out the areas: a figure tests its guide texts
        against every mark and label)."""
        x0, y0, x1, y1 = self.x0, self.y0, self.x1, self.y1
        return any(b.x0 < x1 and x0 < b.x1 and b.y0 < y1 and y0 < b.y1 for b in others)

    def outside(self, width: float, height: float) -> float:
        """How far the box sticks out of ``[0, width] x [0, height]``."""
        return (
            max(0.0, -self.x0)
            + max(0.0, self.x1 - width)
            + max(0.0, -self.y0)
            + max(0.0, self.y1 - height)
        )


@cache
def _colour(hex_colour: str, alpha: float = 1.0) -> Color:
    """The colour of ``hex_colour`` at ``alpha``, one shared object per pair (a course's
    figures asked for the same few colours some 600 times; nothing changes a colour)."""
    colour = HexColor(hex_colour)
    return Color(colour.red, colour.green, colour.blue, alpha)


# --- Geometry -------------------------------------------------------------------------------


def _marks_on(view_id: str, marks: Iterable[MarkRow]) -> list[MarkRow]:
    return [m for m in marks if m.spec.view == view_id]


def _extent(bodymap: BodyMap, row: MarkRow) -> float:
    """Radius of a mark's symbol in model units (the cup's real size for cupping)."""
    upc = bodymap.units_per_cun(row.spec.view, row.spec.x, row.spec.y)
    return CUP_DIAMETER_CUN / 2 * upc if row.kind == "cupping" else 0.5 * upc


def _label_width(row: MarkRow) -> float:
    return stringWidth(row.label, SANS_BOLD, LABEL_FONT_SIZE) + 2 * LABEL_PAD_X + LABEL_GAP


def _crop_box(
    bodymap: BodyMap, view: View, rows: Sequence[MarkRow], label_room: float
) -> tuple[float, float, float, float]:
    """The region of ``view`` that holds ``rows`` plus a margin (model units).

    The region is symmetric about the midline (so both sides read as a pair), at least
    :data:`MIN_CROP_HEIGHT` tall and :data:`MIN_CROP_HALF_WIDTH` wide on each side, and
    never flatter than :data:`MIN_CROP_ASPECT`.

    Args:
        bodymap: The body map (for the local cun scale).
        view: The view to crop.
        rows: Marks on this view (current and ghost).
        label_room: Extra model units beside the outermost marks for their labels.
    """
    full = (0.0, 0.0, view.width, view.height)
    if not rows:
        return full
    mid = view.mirror_axis
    top = min(r.spec.y - _extent(bodymap, r) for r in rows) - CROP_MARGIN
    bottom = max(r.spec.y + _extent(bodymap, r) for r in rows) + CROP_MARGIN
    half = max(abs(r.spec.x - mid) + _extent(bodymap, r) for r in rows) + CROP_MARGIN
    half = max(half + label_room, MIN_CROP_HALF_WIDTH)
    half = min(half, mid, view.width - mid)
    height = max(bottom - top, MIN_CROP_HEIGHT, MIN_CROP_ASPECT * 2 * half)
    if height >= view.height:
        return (mid - half, 0.0, mid + half, view.height)
    centre = (top + bottom) / 2
    y0 = min(max(centre - height / 2, 0.0), view.height - height)
    return (mid - half, y0, mid + half, y0 + height)


# --- Artwork --------------------------------------------------------------------------------


def _model_path(d: BodyMapDrawing, points: Sequence[tuple[float, float]], closed: bool) -> Path:
    path = Path()
    (x, y), *rest = points
    path.moveTo(*d.to_drawing(x, y))
    for px, py in rest:
        path.lineTo(*d.to_drawing(px, py))
    if closed:
        path.closePath()
    return path


def _inside(shape: ModelShape, crop: tuple[float, float, float, float], pad: float) -> bool:
    """Whether the shape's points (grown by ``pad``) reach into ``crop``."""
    x0, y0, x1, y1 = crop
    xs = [p[0] for p in shape.points]
    ys = [p[1] for p in shape.points]
    grow = pad + (shape.radius or 0.0)
    return (
        max(xs) + grow >= x0
        and min(xs) - grow <= x1
        and max(ys) + grow >= y0
        and min(ys) - grow <= y1
    )


def _text_box(x: float, y: float, text: str, font: str, size: float, anchor: str) -> _Box:
    """The box a String at ``(x, y)`` covers (baseline at ``y``)."""
    w = stringWidth(text, font, size)
    start = {"start": x, "middle": x - w / 2, "end": x - w}.get(anchor, x)
    return _Box(start, y - 0.24 * size, start + w, y + 0.76 * size)


def _nudged_in(
    d: BodyMapDrawing, x: float, y: float, text: str, font: str, size: float, anchor: str
) -> tuple[float, float, _Box]:
    """Where a panel label prints, nudged inside the figure, and its box."""
    box = _text_box(x, y, text, font, size, anchor)
    x += max(0.0, 2 - box.x0) - max(0.0, box.x1 - d.width + 2)
    y -= max(0.0, box.y1 - d.height + 2)
    return x, y, _text_box(x, y, text, font, size, anchor)


def _artwork_text(
    d: BodyMapDrawing, shape: ModelShape, avoid: list[_Box], texts: list[_Box]
) -> String | None:
    """A text shape as printed, or ``None`` when it would be cut, hidden or crowded.

    Text is set no smaller than a printed minimum, so at small scales the guide labels can
    outgrow their places: one that collides with a mark, its label or an earlier text is left
    out rather than printed over it. Panel labels are kept, nudged inside the figure (the sides
    shortened to "L" and "R" when a small figure has no room for them).
    """
    style = style_for(shape.role)
    low, high = TEXT_SIZE_LIMITS.get(shape.role, (5.0, 7.0))
    size = min(max((shape.size or 8.0) * d.scale, low), high)
    font = SANS_BOLD if style.font_weight == "bold" else SANS
    text = shape.text or ""
    x, y = d.to_drawing(*shape.points[0])
    if not (0 <= x <= d.width and 0 <= y <= d.height):
        return None
    box = _text_box(x, y, text, font, size, shape.anchor)
    if shape.role == "panel_label":
        if text.startswith("Patient's") and (
            stringWidth("Patient's LEFT  Patient's RIGHT", font, size) + 24 > d.width
        ):
            text = text.split()[-1][0]  # a small figure: the sides as "L" and "R"
        x, y, box = _nudged_in(d, x, y, text, font, size, shape.anchor)
        if box.meets_any(texts):
            return None  # a view's title crowded out (the figure's caption names the view)
    else:
        # A little clearance, so neighbouring labels never read as one phrase.
        clear = _Box(box.x0 - 3, box.y0 - 1, box.x1 + 3, box.y1 + 1)
        if box.outside(d.width, d.height) > 0.5 or clear.meets_any(avoid) or clear.meets_any(texts):
            return None
    texts.append(box)
    return String(
        x,
        y,
        text,
        fontName=font,
        fontSize=size,
        textAnchor=shape.anchor,
        fillColor=_colour(style.fill or "#000000", style.opacity),
    )


class _Outline(UserNode):
    """The view's outline shapes (no text), drawn as one PDF form per document.

    The outline is the same for every figure of a view, so on a PDF canvas it is written
    once per document as a form XObject and each figure places it with its own scale and
    crop (drawing ~1,000 paths afresh cost about 16 ms per figure). Other renderers get the
    shapes as a plain group.
    """

    def __init__(self, d: BodyMapDrawing, view: View) -> None:
        self.d = d
        self.view = view

    def provideNode(self) -> Group:
        canvas = getattr(self, "_canvas", None)
        d = self.d
        if canvas is not None and hasattr(canvas, "doForm"):
            name = _outline_form(canvas, self.view, d.scale)
            x0, _, _, y1 = d.crop
            canvas.saveState()
            clip = canvas.beginPath()
            clip.rect(0, 0, d.width, d.height)
            canvas.clipPath(clip, stroke=0, fill=0)
            # Form units are model units with y up (x, -y); this maps them onto the figure.
            canvas.transform(d.scale, 0, 0, d.scale, -x0 * d.scale, y1 * d.scale)
            canvas.doForm(name)
            canvas.restoreState()
            return Group()
        group = Group()
        clip_path = Path(isClipPath=1, strokeColor=None, fillColor=None)
        clip_path.moveTo(0, 0)
        for corner in ((d.width, 0), (d.width, d.height), (0, d.height)):
            clip_path.lineTo(*corner)
        clip_path.closePath()
        group.add(clip_path)
        for shape in self.view.shapes:
            if shape.kind != "text" and _inside(shape, d.crop, 4.0):
                group.add(_artwork_shape(d, shape))
        return group


def _outline_form(canvas: object, view: View, scale: float) -> str:
    """The name of the view's outline form on ``canvas``, written on first use.

    Lines keep the printed minimum width of :func:`_artwork_shape` at this scale. That
    minimum is rounded to a twentieth of a model unit (under 4% of a hairline at any printed
    scale, which no eye sees), so the cropped figures of one course, each at its own scale,
    share a few forms instead of writing one each.
    """
    forms: set[str] = canvas.__dict__.setdefault("_charting_outline_forms", set())
    thinnest = max(round(0.3 / scale * 20) / 20, 0.05)
    name = f"BodyOutline_{view.id}_{round(thinnest * 100)}"
    if name in forms:
        return name
    forms.add(name)
    c: Any = canvas  # a reportlab.pdfgen.canvas.Canvas
    made = _outline_stream(view, thinnest, c._preamble)
    c.beginForm(name, 0, -view.height, view.width, 0)
    # ReportLab writes a form's resources without the graphics states (the opacities) its
    # drawing uses, so viewers looked those names up on the page that placed the form and
    # drew the guide lines at whatever opacity the page's states of the same name had, or
    # none. The form's own states are named in its resources here.
    c._extgstate._c.update(made.states)
    resources = PDFResourceDictionary()
    resources.basicFonts()
    resources.ExtGState = c._extgstate.getState()
    # The stream as encoded before: "Filter" already set, so ReportLab encodes it no more.
    contents = PDFStream(PDFDictionary({"Filter": PDFArray(made.filters)}), made.content)
    contents.__Comment__ = "xobject form stream"
    c.endForm(Resources=resources, Contents=contents)
    return name


@dataclass(frozen=True)
class _OutlineStream:
    """A view's outline form as written into every document: its encoded content stream,
    the stream's filters, and the names of the opacity states it uses."""

    view: View
    preamble: str
    content: bytes | str
    filters: tuple[PDFName, ...]
    states: dict[tuple[str, Any], str]


#: The outline forms made in this process, by form name.
_OUTLINE_STREAMS: dict[str, _OutlineStream] = {}


def _outline_stream(view: View, thinnest: float, preamble: str) -> _OutlineStream:
    """The outline form of ``view`` with lines at least ``thinnest`` wide, made once per
    process: its thousands of path segments were drawn and compressed again for every
    document (a third of the time to write a course report's PDF)."""
    name = f"{view.id}_{thinnest}"
    made = _OUTLINE_STREAMS.get(name)
    if made is not None and made.view is view and made.preamble == preamble:
        return made
    # A form starts from a fresh graphics state, so its operators and the names of its
    # opacity states depend only on the view, the line width and the canvas preamble.
    scratch: Any = Canvas(io.BytesIO())
    scratch.beginForm(name, 0, -view.height, view.width, 0)
    _outline_operators(scratch, view, thinnest)
    states = dict(scratch._extgstate._c)
    text = pdfdocEnc("\n".join([preamble, *scratch._code]))
    # As PDFStream.format encodes a form's stream: the filters applied last to first.
    filters = [PDFBase85Encode, PDFZCompress] if rl_config.useA85 else [PDFZCompress]
    content: bytes | str = text
    for encoder in reversed(filters):
        content = encoder.encode(content)
    made = _OutlineStream(
        view, preamble, content, tuple(PDFName(f.pdfname) for f in filters), states
    )
    _OUTLINE_STREAMS[name] = made
    return made


def _outline_operators(c: Any, view: View, thinnest: float) -> None:
    """Paint the view's outline shapes on ``c`` (inside a form, model units with y up)."""
    c.setLineJoin(1)
    c.setLineCap(1)
    for shape in view.shapes:
        if shape.kind == "text":
            continue
        style = style_for(shape.role)
        if not style.fill and not style.stroke:
            continue
        if style.fill:
            c.setFillColor(HexColor(style.fill))
            c.setFillAlpha(style.opacity)
        if style.stroke:
            c.setStrokeColor(HexColor(style.stroke))
            c.setStrokeAlpha(style.opacity)
            c.setLineWidth(max(style.width, thinnest))
            c.setDash(list(style.dash) if style.dash else [])
        # As ReportLab's renderer does: an open polyline is stroked, never filled.
        closed = shape.kind in ("polygon", "circle")
        stroke, fill = int(bool(style.stroke)), int(bool(style.fill) and closed)
        if not stroke and not fill:
            continue
        if shape.kind == "circle":
            (cx, cy) = shape.points[0]
            c.circle(cx, -cy, shape.radius or 1.0, stroke=stroke, fill=fill)
            continue
        path = c.beginPath()
        (x, y), *rest = shape.points
        path.moveTo(x, -y)
        for px, py in rest:
            path.lineTo(px, -py)
        if shape.kind == "polygon":
            path.close()
        c.drawPath(path, stroke=stroke, fill=fill, fillMode=0)


def _artwork(d: BodyMapDrawing, view: View, avoid: list[_Box]) -> tuple[Group, set[str]]:
    """The view's outline (a form, see :class:`_Outline`) and its texts, clipped to the shown
    region.

    Args:
        d: The drawing being made (for its transform and size).
        view: The view drawn.
        avoid: Boxes (marks and their labels) that guide text must not run into.

    Returns:
        The artwork and the texts of the panel labels printed.
    """
    group = Group()
    clip = Path(isClipPath=1, strokeColor=None, fillColor=None)
    clip.moveTo(0, 0)
    for corner in ((d.width, 0), (d.width, d.height), (0, d.height)):
        clip.lineTo(*corner)
    clip.closePath()
    group.add(clip)
    group.add(_Outline(d, view))
    texts: list[_Box] = []
    panels: set[str] = set()
    # One text object for all of them (see Painted): drawn as shapes, each cost a saved
    # graphics state, a colour, a font and a text object of its own.
    strings = Painted()
    for shape in view.shapes:
        if shape.kind != "text" or not _inside(shape, d.crop, 4.0):
            continue
        # The figure's caption names the view, as the view buttons do on screen.
        if shape.role == "panel_label" and shape.text == view.title:
            continue
        string = _artwork_text(d, shape, avoid, texts)
        if string is not None:
            strings.contents.append(string)
            if shape.role == "panel_label":
                panels.add(shape.text or "")
    if strings.contents:
        group.add(strings)
    return group, panels


def _artwork_shape(d: BodyMapDrawing, shape: ModelShape) -> Shape:
    """A polygon, polyline or circle of the artwork, painted as its role says."""
    style = style_for(shape.role)
    if shape.kind == "circle":
        cx, cy = d.to_drawing(*shape.points[0])
        item: Shape = Circle(cx, cy, (shape.radius or 1.0) * d.scale)
    else:
        item = _model_path(d, shape.points, shape.kind == "polygon")
    # Opacity goes into the colours: ReportLab resets the alpha when it sets an opaque colour.
    item.fillColor = _colour(style.fill, style.opacity) if style.fill else None
    item.strokeColor = None
    if style.stroke:
        item.strokeColor = _colour(style.stroke, style.opacity)
        item.strokeWidth = max(style.width * d.scale, 0.3)
        item.strokeLineJoin = 1
        item.strokeLineCap = 1
        if style.dash:
            item.strokeDashArray = [v * d.scale for v in style.dash]
    return item


def _side_hints(d: BodyMapDrawing, view: View, printed: set[str]) -> Group:
    """Name the patient's sides at the top corners when the crop cut off the panel labels."""
    group = Group()
    sides = [
        s.text
        for s in view.shapes
        if s.kind == "text" and s.role == "panel_label" and s.text != view.title
    ]
    if not view.has_midline or all(text in printed for text in sides):
        return group
    size = TEXT_SIZE_LIMITS["panel_label"][0]
    left, right = "Patient's LEFT", "Patient's RIGHT"
    if stringWidth(left + right, SANS_BOLD, size) + 24 > d.width:
        left, right = "L", "R"
    if view.left_on_viewer_right:
        left, right = right, left
    ink = _colour(style_for("panel_label").fill or "#000000")
    y = d.height - size - 3
    for text, x, anchor in ((left, 4.0, "start"), (right, d.width - 4.0, "end")):
        box = _text_box(x, y, text, SANS_BOLD, size, anchor)
        group.add(
            Rect(
                box.x0 - 2,
                box.y0 - 1,
                box.x1 - box.x0 + 4,
                box.y1 - box.y0 + 2,
                rx=1.5,
                ry=1.5,
                fillColor=_colour("#ffffff", 0.9),
                strokeColor=None,
            )
        )
        group.add(
            String(x, y, text, fontName=SANS_BOLD, fontSize=size, fillColor=ink, textAnchor=anchor)
        )
    return group


def _crop_frame(d: BodyMapDrawing) -> Rect:
    """A hairline frame that shows the figure is a window onto the body."""
    return Rect(
        0.25,
        0.25,
        d.width - 0.5,
        d.height - 0.5,
        fillColor=None,
        strokeColor=_colour("#b8aca2"),
        strokeWidth=0.5,
    )


# --- Marks ----------------------------------------------------------------------------------


def _symbol_radius(scale: float, upc: float) -> float:
    """Printed radius of a point symbol: the screen's 0.34 cun, kept within print limits."""
    return min(max(0.34 * upc * scale, 0.85 * SYMBOL_RADIUS), 1.2 * SYMBOL_RADIUS)


def mark_symbol(
    kind: str,
    x: float,
    y: float,
    r: float,
    fill: str,
    cup_radius: float = 0.0,
    alpha: float = 1.0,
) -> Group:
    """The symbol of a mark of ``kind`` centred at ``(x, y)``, as the screen draws it.

    Acupoint: a dot with a white rim; trigger point: a cross on a white halo; ashi point: a
    diamond; cupping site: a tinted ring the cup's size with a centre dot; the clinic's
    custom point: a square with a white rim.

    Args:
        kind: "acupoint", "custom", "trigger_point", "ashi" or "cupping".
        x: Centre x in points.
        y: Centre y in points.
        r: Radius of a point symbol in points.
        fill: Symbol colour (``#rrggbb``).
        cup_radius: Radius of the cupping ring in points (cupping only).
        alpha: Overall opacity (earlier visits' marks are faded).
    """
    group = Group()
    white = _colour("#ffffff", alpha)
    colour = _colour(fill, alpha)
    if kind == "acupoint":
        group.add(Circle(x, y, r, fillColor=colour, strokeColor=white, strokeWidth=0.26 * r))
        rim = _colour("#0b2c4d", 0.55 * alpha)
        group.add(Circle(x, y, r * 1.13, fillColor=None, strokeColor=rim, strokeWidth=0.09 * r))
    elif kind == "trigger_point":
        d = 0.95 * r
        for paint, width in ((_colour("#ffffff", 0.95 * alpha), 0.72 * r), (colour, 0.36 * r)):
            for sx in (1, -1):
                stroke = Line(x - d, y - sx * d, x + d, y + sx * d, strokeColor=paint)
                stroke.strokeWidth, stroke.strokeLineCap = width, 1
                group.add(stroke)
    elif kind == "custom":
        d = 0.95 * r
        square = Polygon([x - d, y - d, x + d, y - d, x + d, y + d, x - d, y + d])
        square.fillColor, square.strokeColor, square.strokeWidth = colour, white, 0.26 * r
        group.add(square)
    elif kind == "ashi":
        d = 1.3 * r
        diamond = Polygon([x, y + d, x + d, y, x, y - d, x - d, y], fillColor=colour)
        diamond.strokeColor, diamond.strokeWidth = white, 0.26 * r
        group.add(diamond)
    else:
        ring = max(cup_radius, 1.6 * r)
        halo = _colour("#ffffff", 0.9 * alpha)
        tint = _colour(fill, 0.08 * alpha)
        group.add(Circle(x, y, ring, fillColor=tint, strokeColor=halo, strokeWidth=0.7 * r))
        group.add(Circle(x, y, ring, fillColor=None, strokeColor=colour, strokeWidth=0.38 * r))
        group.add(Circle(x, y, 0.36 * r, fillColor=colour, strokeColor=None))
    return group


def _mark_group(
    d: BodyMapDrawing, bodymap: BodyMap, row: MarkRow, ghost: bool
) -> tuple[Group, float]:
    """A mark's symbol and its printed radius (points)."""
    upc = bodymap.units_per_cun(row.spec.view, row.spec.x, row.spec.y)
    x, y = d.to_drawing(row.spec.x, row.spec.y)
    r = _symbol_radius(d.scale, upc)
    cup = CUP_DIAMETER_CUN / 2 * upc * d.scale
    if ghost:
        group = mark_symbol(row.symbol, x, y, r, GHOST_COLOUR, cup, GHOST_OPACITY)
    else:
        group = mark_symbol(
            row.symbol, x, y, r, KIND_COLORS.get(row.symbol, KIND_COLORS["ashi"])[0], cup
        )
    extent = max(cup, 1.6 * r) if row.kind == "cupping" else 1.3 * r
    return group, extent


def _label_candidates(
    x: float, y: float, extent: float, w: float, h: float, anchor: str
) -> list[tuple[_Box, bool]]:
    """Places for a label box, best first; the flag says whether it needs a leader line."""
    out: list[tuple[_Box, bool]] = []
    steps = (0, 1, -1, 2, -2, 3, -3, 4, -4)
    if anchor == "below":
        for k in steps[:5]:
            for dy in (-(extent + LABEL_GAP + h), extent + LABEL_GAP):
                dx = k * 0.55 * w
                out.append((_Box(x - w / 2 + dx, y + dy, x + w / 2 + dx, y + dy + h), k != 0))
        return (
            out
            + _label_candidates(x, y, extent, w, h, "end")[:5]
            + _label_candidates(x, y, extent, w, h, "start")[:5]
        )
    other = "start" if anchor == "end" else "end"
    for side in (anchor, other):
        x0 = x - extent - LABEL_GAP - w if side == "end" else x + extent + LABEL_GAP
        for k in steps:
            oy = k * (h + 0.8)
            out.append((_Box(x0, y - h / 2 + oy, x0 + w, y + h / 2 + oy), k != 0))
    return out


def _place_label(
    d: BodyMapDrawing, x: float, y: float, extent: float, text: str, anchor: str, taken: list[_Box]
) -> tuple[_Box, bool]:
    """The free place for a label nearest its preferred spot (least overlap if none is free)."""
    w = stringWidth(text, SANS_BOLD, LABEL_FONT_SIZE) + 2 * LABEL_PAD_X
    h = LABEL_FONT_SIZE + 2 * LABEL_PAD_Y
    best: tuple[float, _Box, bool] | None = None
    for rank, (box, leader) in enumerate(_label_candidates(x, y, extent, w, h, anchor)):
        cost = sum(box.overlap(t) for t in taken) + 50 * box.outside(d.width, d.height)
        if cost == 0:
            return box, leader
        cost += rank * 0.01
        if best is None or cost < best[0]:
            best = (cost, box, leader)
    assert best is not None
    return best[1], best[2]


def _label(box: _Box, text: str, fill: str, ink: str) -> Group:
    """A mark's label: bold ink on a white tab edged in the mark's colour."""
    group = Group()
    group.add(
        Rect(
            box.x0,
            box.y0,
            box.x1 - box.x0,
            box.y1 - box.y0,
            rx=1.6,
            ry=1.6,
            fillColor=_colour("#ffffff", 0.94),
            strokeColor=_colour(fill, 0.55),
            strokeWidth=0.45,
        )
    )
    baseline = box.y0 + LABEL_PAD_Y + 0.22 * LABEL_FONT_SIZE
    group.add(
        String(
            (box.x0 + box.x1) / 2,
            baseline,
            text,
            fontName=SANS_BOLD,
            fontSize=LABEL_FONT_SIZE,
            fillColor=_colour(ink),
            textAnchor="middle",
        )
    )
    return group


def _leader(x: float, y: float, extent: float, box: _Box, ink: str) -> Line:
    """A thin line from a mark's edge to its displaced label."""
    tx = min(max(x, box.x0), box.x1)
    ty = min(max(y, box.y0), box.y1)
    dist = math.hypot(tx - x, ty - y) or 1.0
    sx, sy = x + (tx - x) * extent / dist, y + (ty - y) * extent / dist
    return Line(sx, sy, tx, ty, strokeColor=_colour(ink, 0.7), strokeWidth=0.45)


@dataclass(frozen=True)
class _Placed:
    """A mark drawn on the figure: its symbol, centre and printed radius (points)."""

    row: MarkRow
    symbol: Group
    x: float
    y: float
    extent: float


def _labels(
    d: BodyMapDrawing, placed: Sequence[_Placed]
) -> tuple[list[tuple[_Placed, _Box, bool]], list[_Box]]:
    """Place every mark's label; also return every box (symbols and labels) now in use.

    Labels point away from the midline, as on screen: left-side marks to the left, right-side
    marks to the right, midline marks centred below. A label that would collide moves up or
    down its column (with a leader line), then to the other side.
    """
    taken = [
        _Box(p.x - p.extent, p.y - p.extent, p.x + p.extent, p.y + p.extent)
        for p in placed
        if p.row.kind != "cupping"
    ]
    out: list[tuple[_Placed, _Box, bool]] = []
    for p in sorted(placed, key=lambda p: (-p.y, p.x)):
        anchor = label_anchor(p.row.spec.view, p.row.spec.side)
        box, leader = _place_label(d, p.x, p.y, p.extent, p.row.label, anchor, taken)
        taken.append(box)
        out.append((p, box, leader))
    return out, taken


def _ea_leads(
    d: BodyMapDrawing, rows: Sequence[MarkRow], ea_pairs: Sequence[tuple[int, int]]
) -> Group:
    """Dashed teal leads between the two marks of each EA pair drawn on this view."""
    group = Group()
    by_id = {r.id: r for r in rows}
    for pair in ea_pairs:
        a, b = by_id.get(pair[0]), by_id.get(pair[1])
        if a is None or b is None:
            continue
        ax, ay = d.to_drawing(a.spec.x, a.spec.y)
        bx, by = d.to_drawing(b.spec.x, b.spec.y)
        group.add(
            Line(
                ax,
                ay,
                bx,
                by,
                strokeColor=_colour("#ffffff", 0.9),
                strokeWidth=2.6,
                strokeLineCap=1,
            )
        )
        group.add(
            Line(
                ax,
                ay,
                bx,
                by,
                strokeColor=_colour(EA_COLOUR),
                strokeWidth=1.3,
                strokeDashArray=[3.2, 2.0],
                strokeLineCap=0,
            )
        )
    return group


# --- Public API -----------------------------------------------------------------------------


def bodymap_drawing(
    bodymap: BodyMap,
    view_id: str,
    marks: Sequence[MarkRow],
    ea_pairs: Sequence[tuple[int, int]] = (),
    *,
    width: float,
    height: float | None = None,
    ghost: Sequence[MarkRow] = (),
    labels: bool = True,
    crop: bool = True,
) -> BodyMapDrawing:
    """Draw one body-map view with the marks charted on it.

    Args:
        bodymap: The loaded body map (:func:`charting.bodymap.load_bodymap`).
        view_id: "posterior", "lateral_leg" or "medial_leg".
        marks: The visit's marks; those of other views are ignored.
        ea_pairs: Electroacupuncture leads as pairs of mark ids; a lead is drawn only when
            both of its marks are on this view.
        width: Width of the drawing in points (the aspect ratio is kept).
        height: If given, the drawing fits inside ``width`` x ``height`` instead.
        ghost: Marks of an earlier visit, drawn faded and without labels.
        labels: Draw each mark's compact label beside it.
        crop: Show only the region of the posterior view that holds the marks (plus a
            margin), with "Patient's LEFT"/"Patient's RIGHT" hints when the crop cuts off
            the panel labels. Other views are always drawn whole.

    Returns:
        The drawing; its ``to_drawing``/``to_model`` methods convert positions.
    """
    register_fonts()
    view = bodymap.views[view_id]
    rows = _marks_on(view_id, marks)
    ghosts = _marks_on(view_id, ghost)
    box = (0.0, 0.0, view.width, view.height)
    cropped = crop and view_id in CROPPABLE_VIEWS and bool(rows or ghosts)
    if cropped:
        # Labels have a printed size, so their room in model units depends on the scale:
        # crop once to estimate the scale, then again with room for the widest label.
        room = max((_label_width(r) for r in rows), default=0.0) if labels else 0.0
        box = _crop_box(bodymap, view, rows + ghosts, 0.0)
        for _ in range(2):
            box = _crop_box(bodymap, view, rows + ghosts, room / _fit_scale(box, width, height))
    scale = _fit_scale(box, width, height)
    d = BodyMapDrawing((box[2] - box[0]) * scale, (box[3] - box[1]) * scale)
    d.view_id, d.crop, d.scale, d.hAlign = view_id, box, scale, "CENTER"
    d.mark_positions = {}
    placed = []
    for row in rows:
        symbol, extent = _mark_group(d, bodymap, row, ghost=False)
        x, y = d.to_drawing(row.spec.x, row.spec.y)
        d.mark_positions[row.id] = (x, y)
        placed.append(_Placed(row, symbol, x, y, extent))
    label_boxes, taken = _labels(d, placed) if labels else ([], [])
    artwork, printed = _artwork(d, view, taken)
    d.add(artwork)
    marks = Painted()
    if d.crop != (0.0, 0.0, view.width, view.height):
        marks.add(_crop_frame(d))
        add_flat(marks, _side_hints(d, view, printed))
    for row in ghosts:
        add_flat(marks, _mark_group(d, bodymap, row, ghost=True)[0])
    add_flat(marks, _ea_leads(d, rows, ea_pairs))
    # Cups first: a cup is large and drawn translucent under the points it may enclose.
    for p in sorted(placed, key=lambda p: p.row.kind != "cupping"):
        add_flat(marks, p.symbol)
    for p, label_box, leader in label_boxes:
        fill, ink = KIND_COLORS.get(p.row.symbol, KIND_COLORS["ashi"])
        if leader:
            marks.add(_leader(p.x, p.y, p.extent, label_box, ink))
        add_flat(marks, _label(label_box, p.row.label, fill, ink))
    if marks.contents:
        d.add(marks)
    return d


def _fit_scale(box: tuple[float, float, float, float], width: float, height: float | None) -> float:
    scale = width / (box[2] - box[0])
    if height is not None:
        scale = min(scale, height / (box[3] - box[1]))
    return scale


def legend_drawing(width: float, kinds: Iterable[str], has_ea: bool) -> Drawing:
    """A centred key of the mark symbols used, wrapping onto more lines when narrow.

    Args:
        width: Width available in points.
        kinds: Mark kinds to explain (unknown kinds are ignored); shown in a fixed order.
        has_ea: Add the electroacupuncture lead.
    """
    register_fonts()
    wanted = set(kinds)
    labels = {**KIND_LABELS, "custom": CUSTOM_LABEL}
    entries: list[tuple[str, str]] = [(k, labels[k]) for k in KIND_ORDER if k in wanted]
    if has_ea:
        entries.append(("ea", EA_LABEL))
    size, line_h, icon_w, gap = 7.5, 13.0, 15.0, 14.0
    lines: list[list[tuple[str, str, float]]] = [[]]
    x = 0.0
    for kind, text in entries:
        w = icon_w + stringWidth(text, SANS, size)
        if lines[-1] and x + w > width:
            lines.append([])
            x = 0.0
        lines[-1].append((kind, text, x))
        x += w + gap
    d = Drawing(width, max(len(lines), 1) * line_h)
    key = Painted()
    for i, line in enumerate(lines):
        if not line:
            continue
        kind, text, last = line[-1]
        used = last + icon_w + stringWidth(text, SANS, size)
        shift = max(0.0, (width - used) / 2)
        cy = d.height - (i + 0.5) * line_h
        for kind, text, x0 in line:
            cx = shift + x0 + 5.5
            if kind == "ea":
                lead = Line(cx - 5.5, cy, cx + 5.5, cy, strokeColor=_colour(EA_COLOUR))
                lead.strokeWidth, lead.strokeDashArray = 1.3, [3.2, 2.0]
                key.add(lead)
            else:
                add_flat(key, mark_symbol(kind, cx, cy, SYMBOL_RADIUS, KIND_COLORS[kind][0], 5.0))
            ink = _colour("#333333")
            key.add(
                String(
                    shift + x0 + icon_w,
                    cy - 0.36 * size,
                    text,
                    fontName=SANS,
                    fontSize=size,
                    fillColor=ink,
                )
            )
    if key.contents:
        d.add(key)
    return d


def figures_for_visit(
    bodymap: BodyMap,
    marks: Sequence[MarkRow],
    ea_pairs: Sequence[tuple[int, int]],
    width: float,
    *,
    max_height: float | None = None,
) -> list[tuple[str, BodyMapDrawing]]:
    """One (view title, drawing) per view that has marks, in report order.

    Args:
        bodymap: The loaded body map.
        marks: The visit's marks.
        ea_pairs: Electroacupuncture leads as pairs of mark ids.
        width: Width of each figure in points.
        max_height: If given, no figure is taller than this (it is narrowed instead).
    """
    figures: list[tuple[str, BodyMapDrawing]] = []
    for view_id in VIEW_ORDER:
        if view_id not in bodymap.views or not _marks_on(view_id, marks):
            continue
        drawing = bodymap_drawing(bodymap, view_id, marks, ea_pairs, width=width, height=max_height)
        figures.append((bodymap.views[view_id].title, drawing))
    return figures
