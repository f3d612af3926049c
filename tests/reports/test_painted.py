"""The painter of plain shapes (reports/painted.py): each shape comes out on the PDF page as
ReportLab's own renderer would draw it, though the shapes share one graphics state."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream
from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Circle, Drawing, Group, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.pdfgen.canvas import Canvas

from charting.reports.fonts import SANS, SANS_BOLD, register_fonts
from charting.reports.painted import Painted


@pytest.fixture(autouse=True)
def _fonts() -> None:
    register_fonts()


def painted_pdf(*shapes: object) -> bytes:
    """A one-page PDF of ``shapes`` painted by one :class:`Painted` node."""
    drawing = Drawing(200, 100)
    painted = Painted()
    for shape in shapes:
        painted.add(shape)  # type: ignore[arg-type]
    drawing.add(painted)
    return renderPDF.drawToString(drawing)


def operations(pdf: bytes) -> list[tuple[list[object], bytes]]:
    """The content stream operations of the PDF's first page."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    return list(ContentStream(page.get_contents(), page.pdf).operations)


def test_polyline_is_painted_as_an_open_stroked_path() -> None:
    """A polyline is an open path, stroked and never filled (as ReportLab paints it)."""
    drawing = Drawing(100, 100)
    painted = Painted()
    painted.add(PolyLine([10, 10, 50, 90, 90, 10], strokeColor=colors.red, strokeWidth=1.6))
    drawing.add(painted)
    out = io.BytesIO()
    canvas = Canvas(out, pageCompression=0)
    drawing.drawOn(canvas, 0, 0)
    canvas.save()
    # Moved to, lined to, then stroked: no closing "h", no fill operator.
    assert re.search(rb"10 10 m 50 90 l 90 10 l\s+S\s", out.getvalue())


def test_strings_keep_their_own_font_size_and_colour() -> None:
    """Strings painted one after another (sharing a text object) each keep their font, size
    and colour, also after a filled shape between them."""
    pdf = painted_pdf(
        String(10, 80, "Bold", fontName=SANS_BOLD, fontSize=9, fillColor=colors.red),
        String(10, 60, "Plain", fontName=SANS, fontSize=7),
        Rect(5, 5, 10, 10, fillColor=colors.blue, strokeColor=None),
        String(10, 40, "Again", fontName=SANS, fontSize=7),
        String(10, 20, "Bolder", fontName=SANS_BOLD, fontSize=12, fillColor=colors.green),
    )
    seen: list[tuple[str, str, float]] = []

    def visit(text: str, _cm: object, _tm: object, font: dict | None, size: float) -> None:
        if text.strip():
            seen.append((text.strip(), str(font["/BaseFont"]) if font else "", size))

    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    assert [(t, f.split("+")[-1], s) for t, f, s in seen] == [
        ("Bold", "DejaVuSans-Bold", 9),
        ("Plain", "DejaVuSans", 7),
        ("Again", "DejaVuSans", 7),
        ("Bolder", "DejaVuSans-Bold", 12),
    ]
    fill: tuple[float, ...] | None = None
    saved: list[tuple[float, ...] | None] = []
    shown = []
    for operands, op in operations(pdf):
        if op == b"q":
            saved.append(fill)
        elif op == b"Q":
            fill = saved.pop()
        elif op == b"rg":
            fill = tuple(round(float(v), 2) for v in operands)  # type: ignore[arg-type]
        elif op in (b"Tj", b"TJ"):
            shown.append(fill)
    assert shown == [(1, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0.5, 0)]


def test_a_translucent_shape_keeps_its_opacity_to_itself() -> None:
    """A translucent shape does not make the shapes painted after it translucent."""
    pdf = painted_pdf(
        Circle(50, 50, 20, fillColor=colors.red, strokeColor=None, fillOpacity=0.3),
        Rect(100, 30, 40, 40, fillColor=colors.blue, strokeColor=None),
    )
    alpha: object = None
    saved: list[object] = []
    fills = []
    for operands, op in operations(pdf):
        if op == b"q":
            saved.append(alpha)
        elif op == b"Q":
            alpha = saved.pop()
        elif op == b"gs":
            alpha = operands[0]
        elif op in (b"f", b"f*", b"B", b"B*"):
            fills.append(alpha)
    assert fills[0] is not None and fills[1] is None


def test_groups_are_refused() -> None:
    """Only plain shapes can be painted: a group must be flattened first (add_flat)."""
    with pytest.raises(TypeError, match="cannot paint Group"):
        Painted().add(Group())  # type: ignore[arg-type]
