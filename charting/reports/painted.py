"""Plain shapes painted straight onto a PDF canvas, without ReportLab's renderer in between.

Drawing a :class:`reportlab.graphics.shapes.Drawing` walks every node through ReportLab's
renderer, which tracks the graphics state node by node and expands each widget (a chart's
axes, labels and legend) into groups of shapes first; for many small shapes that costs far
more than the painting itself. :class:`Painted` holds plain shapes and paints each one as
``reportlab.graphics.renderPDF`` would (same canvas calls, same stroke and fill settings),
in one pass, on a PDF canvas; any other renderer gets the same shapes as a plain group.
Used by the body-map figures and keys and by the course report's trend charts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reportlab.graphics.shapes import (
    Circle,
    Drawing,
    Group,
    Line,
    Polygon,
    PolyLine,
    Rect,
    Shape,
    String,
    UserNode,
)
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.pdfgeom import bezierArc

#: How far a string's anchor shifts it left, as a share of its width (as ReportLab does).
ANCHOR_SHIFT = {"start": 0.0, "middle": 0.5, "end": 1.0}

#: The shapes :class:`Painted` paints (groups are flattened into them by :func:`add_flat`).
PAINTABLE = (Circle, Line, PolyLine, Polygon, Rect, String)


#: The Bézier curves ReportLab draws a circle with (canvas.circle), for a unit circle at the
#: origin: four quarter arcs, each as (x0, y0, x1, y1, x2, y2, x3, y3).
_UNIT_CIRCLE = bezierArc(-1, -1, 1, 1, 0, 360)


def pdf_canvas(node: UserNode) -> Any:
    """The PDF canvas ``node`` is being drawn on, or None for any other renderer."""
    canvas = getattr(node, "_canvas", None)
    return canvas if canvas is not None and hasattr(canvas, "doForm") else None


def group_of(shapes: Sequence[Shape]) -> Group:
    """``shapes`` as a plain group, for renderers other than the PDF canvas."""
    group = Group()
    for shape in shapes:
        group.add(shape)
    return group


class Painted(UserNode):
    """Plain shapes painted straight onto a PDF canvas, in order.

    Each is a plain shape (kept in ``contents``, which other renderers get as a group), and
    each is painted as ReportLab's renderer paints it (its stroke and fill settings, the same
    canvas call), inside one saved graphics state for the whole node that is told only what
    changes from one shape to the next (:class:`_Pen`): the renderer's generic state tracking
    per node cost more than the painting, and so did a saved state and a full set of
    settings per shape (a chart's ticks and labels all share one pen). Neighbouring strings
    are written in one text object.
    """

    def __init__(self) -> None:
        self.contents: list[Shape] = []

    def add(self, node: Shape) -> None:
        """Add a shape to paint (no groups: see :func:`add_flat`)."""
        if not isinstance(node, PAINTABLE):
            raise TypeError(f"cannot paint {type(node).__name__} directly")
        self.contents.append(node)

    def provideNode(self) -> Group:
        canvas = pdf_canvas(self)
        if canvas is None:
            return group_of(self.contents)
        canvas.saveState()
        pen = _Pen(canvas)
        contents = self.contents
        i, count = 0, len(contents)
        while i < count:
            shape = contents[i]
            if isinstance(shape, String):
                # Neighbouring strings (a chart's tick labels) share one text object.
                end = i + 1
                while end < count and isinstance(contents[end], String):
                    end += 1
                pen.write(contents[i:end])
                i = end
                continue
            if getattr(shape, "strokeOpacity", None) is None and (
                getattr(shape, "fillOpacity", None) is None
            ):
                pen.paint(shape)
            else:
                # A translucent shape keeps its opacity to itself, as in the renderer (the
                # opacity of a shape without one is whatever its group's is).
                canvas.saveState()
                _Pen(canvas).paint(shape)
                canvas.restoreState()
            i += 1
        canvas.restoreState()
        return Group()


class _Pen:
    """Paints shapes on a PDF canvas as reportlab.graphics.renderPDF does, setting the stroke,
    the fill colour and the font only when they differ from the previous shape's.

    Starts knowing nothing of the canvas's state, so the first shape sets everything.
    """

    __slots__ = ("c", "fill", "font", "stroke")

    def __init__(self, c: Any) -> None:
        self.c = c
        self.stroke: tuple[Any, ...] | None = None
        self.fill: Any = None
        self.font: tuple[str, float] | None = None

    def _use_stroke(self, shape: Shape) -> None:
        dash = shape.strokeDashArray
        key = (
            shape.strokeColor,
            shape.strokeWidth,
            shape.strokeLineCap,
            shape.strokeLineJoin,
            tuple(dash) if dash else None,
        )
        if key == self.stroke:
            return
        c = self.c
        c.setStrokeColor(shape.strokeColor)
        c.setLineWidth(shape.strokeWidth)
        c.setLineCap(shape.strokeLineCap)
        c.setLineJoin(shape.strokeLineJoin)
        if dash:
            c.setDash(dash, 0)
        else:
            c.setDash()
        if shape.strokeOpacity is not None:
            c.setStrokeAlpha(shape.strokeOpacity)
        self.stroke = key

    def _use_fill(self, colour: Any) -> None:
        if self.fill is None or colour != self.fill:
            self.c.setFillColor(colour)
            self.fill = colour

    def write(self, strings: Sequence[String]) -> None:
        """Write ``strings`` in one text object, each where the renderer puts a
        :class:`String` (its anchor shifts it by its width), in its font, size and colour."""
        c = self.c
        first = strings[0]
        font = (first.fontName, first.fontSize)
        if font != self.font:
            c.setFont(*font)
            self.font = font
        text = c.beginText()
        switched = False
        for string in strings:
            if string.fontName != font[0] or string.fontSize != font[1]:
                font = (string.fontName, string.fontSize)
                text.setFont(*font)
                switched = True
            if self.fill is None or string.fillColor != self.fill:
                text.setFillColor(string.fillColor)
                self.fill = string.fillColor
            x = string.x
            shift = ANCHOR_SHIFT[string.textAnchor]
            if shift:
                x -= shift * stringWidth(string.text, string.fontName, string.fontSize)
            text.setTextOrigin(x, string.y)
            text.textOut(string.text)
        c.drawText(text)
        if switched:
            # A font set inside the text object is not the canvas's: set it afresh next time.
            self.font = None

    def paint(self, shape: Shape) -> None:
        """Paint ``shape`` (one of :data:`PAINTABLE`)."""
        c = self.c
        if isinstance(shape, String):
            self.write([shape])
            return
        stroke = shape.strokeColor is not None
        if stroke:
            self._use_stroke(shape)
        if isinstance(shape, Line):
            if stroke:
                c.line(shape.x1, shape.y1, shape.x2, shape.y2)
            return
        if isinstance(shape, PolyLine):
            # An open path, stroked only (renderPDF.drawPolyLine): a polyline is never filled.
            if stroke:
                points = shape.points
                path = c.beginPath()
                path.moveTo(points[0], points[1])
                for i in range(2, len(points), 2):
                    path.lineTo(points[i], points[i + 1])
                c.drawPath(path, stroke=1, fill=0)
            return
        fill = shape.fillColor is not None
        if fill:
            self._use_fill(shape.fillColor)
            if shape.fillOpacity is not None:
                c.setFillAlpha(shape.fillOpacity)
        if isinstance(shape, Circle):
            # canvas.circle's path, from curves computed once (it works them out afresh with
            # a dozen sines and cosines per circle, and a chart has a dot per visit).
            cx, cy, r = shape.cx, shape.cy, shape.r
            path = c.beginPath()
            path.moveTo(cx + r * _UNIT_CIRCLE[0][0], cy + r * _UNIT_CIRCLE[0][1])
            for _x0, _y0, x1, y1, x2, y2, x3, y3 in _UNIT_CIRCLE:
                path.curveTo(
                    cx + r * x1, cy + r * y1, cx + r * x2, cy + r * y2, cx + r * x3, cy + r * y3
                )
            c.drawPath(path, stroke=int(stroke), fill=int(fill))
        elif isinstance(shape, Rect):
            if shape.rx == shape.ry == 0:
                c.rect(
                    shape.x, shape.y, shape.width, shape.height, stroke=int(stroke), fill=int(fill)
                )
            else:
                c.roundRect(
                    shape.x,
                    shape.y,
                    shape.width,
                    shape.height,
                    shape.rx,
                    fill=int(fill),
                    stroke=int(stroke),
                )
        else:  # Polygon
            points = shape.points
            path = c.beginPath()
            path.moveTo(points[0], points[1])
            for i in range(2, len(points), 2):
                path.lineTo(points[i], points[i + 1])
            path.close()
            c.drawPath(path, stroke=int(stroke), fill=int(fill))


_IDENTITY = (1, 0, 0, 1, 0, 0)


def add_flat(d: Drawing | Painted, node: Shape) -> None:
    """Add ``node`` to ``d``; a group that only groups (no transform, no clip) adds its
    shapes one by one instead. Each node drawn costs a saved and restored graphics state
    and a pass through ReportLab's renderer, and the symbols and labels of a course's
    figures were a third of their nodes; the page is the same."""
    if isinstance(node, Group) and tuple(node.transform) == _IDENTITY:
        for child in node.contents:
            if getattr(child, "isClipPath", 0):
                d.add(node)  # a clip must stay inside its group
                return
        for child in node.contents:
            add_flat(d, child)
        return
    d.add(node)
