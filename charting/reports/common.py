"""Small story helpers shared by the documents: headings, key-value tables, data tables."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.textobject import PDFTextObject
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle
from reportlab.platypus.tables import CellStyle

from charting.reports.fonts import has_cjk, para
from charting.reports.styles import RULE, SHADE, stylesheet

#: Parsed fragments of paragraphs met before, by (markup, style): a course report repeats
#: the same labels, headings and values visit after visit, and parsing each paragraph's
#: markup afresh was a sixth of the time to build one.
_FRAGMENTS: dict[tuple[str, int], list[Any]] = {}
_FRAGMENTS_KEPT = 20_000
#: ReportLab's cell padding on a side where a table style sets none.
_DEFAULT_PADDING = 6.0


class _Paragraph(Paragraph):
    """A :class:`Paragraph` that breaks its lines once per width: a paragraph in a table is
    wrapped to measure its row and again to draw it, and one in a frame again for each
    page or group it is tried in (two wraps in five repeated the last one). The lines
    depend only on the text, the style and the width, none of which a wrap changes."""

    _wrapped: tuple[float, tuple[float, float]] | None = None

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        wrapped = self._wrapped
        if wrapped is not None and wrapped[0] == availWidth:
            self.width, self.height = wrapped[1]
            return wrapped[1]
        size = super().wrap(availWidth, availHeight)
        self._wrapped = (availWidth, size)
        return size

    def split(self, availWidth: float, availHeight: float) -> list[Any]:  # noqa: N803
        self._wrapped = None
        return super().split(availWidth, availHeight)


def paragraph(markup: str, style: ParagraphStyle) -> Paragraph:
    """``Paragraph(markup, style)``, reusing the parse of the same markup in the same style
    (styles of the cached stylesheets only: they live as long as the process). ReportLab
    never changes a paragraph's parsed fragments (it wraps copies of them)."""
    key = (markup, id(style))
    fragments = _FRAGMENTS.get(key)
    if fragments is not None:
        return _Paragraph(markup, style, frags=fragments)
    made = _Paragraph(markup, style)
    if made.style is style and len(markup) <= 300 and len(_FRAGMENTS) < _FRAGMENTS_KEPT:
        _FRAGMENTS[key] = made.frags
    return made


#: Characters a Paragraph treats as white space or as a break chance (ReportLab's own list,
#: with the soft hyphen, joiners, bidi controls, the no-break space and the byte-order mark):
#: a cell with any of them, or with runs of spaces, is left to a Paragraph.
_NOT_PLAIN = re.compile(
    "[\t\n\x0b\x0c\r\x1c-\x1f\x85\xa0\xad\u1680\u2000-\u200f\u2028-\u202f"
    "\u205f-\u206f\u3000\ufeff]|  |^ | $"
)
#: Whether a cell's text is drawn as a plain string, by (text, style, width): the same labels
#: and values recur visit after visit.
_PLAIN: dict[tuple[str, int, float], bool] = {}
_PLAIN_KEPT = 50_000


def _plain(text: str, style: ParagraphStyle, width: float) -> bool:
    """Whether ``text`` in ``style`` draws exactly as its Paragraph would when drawn as a plain
    string: one line that fits ``width``, no white space a Paragraph would collapse or break
    at, no character set in another font (CJK)."""
    key = (text, id(style), width)
    known = _PLAIN.get(key)
    if known is not None:
        return known
    plain = (
        bool(text)
        and _NOT_PLAIN.search(text) is None
        and not has_cjk(text)
        # A hundredth of a point short of the width: a line that only just fits is wrapped by
        # the Paragraph as before.
        and stringWidth(text, style.fontName, style.fontSize) <= width - 0.01
    )
    if len(_PLAIN) < _PLAIN_KEPT:
        _PLAIN[key] = plain
    return plain


def cell(text: str, style: ParagraphStyle, width: float) -> str | Paragraph:
    """A table cell of ``text`` in ``style`` (one of the cached stylesheets', as for
    :func:`paragraph`) for a column ``width`` wide (inside its padding).

    A single line that fits is a plain string, which the table draws with the font, size,
    leading and colour of the style given by its cell style (``_cell_style``): no parsing,
    wrapping or per-paragraph state (a sixth of a course report's build time). ReportLab
    puts both at the same baseline (the cell's top padding plus the font size below its
    top) and gives both rows the style's leading, so the page is the same. Anything else is
    a Paragraph.
    """
    if _plain(text, style, width):
        return text
    return paragraph(para(text), style)


class PlainTable(Table):
    """A :class:`Table` that writes its one-line plain-string cells (see :func:`cell`) into
    one PDF text object per table drawn, instead of a text object, a font and a colour per
    cell: the same glyphs at the same places, for a fifth of the cost (the strings of a
    course's tables were about a tenth of the time to make its PDF).

    Each string is placed where ReportLab's own cell drawing puts it (left aligned, top
    valign: the cell's left padding, and its top padding plus the font size below its top).
    Any other cell is drawn by ReportLab as before, after the strings before it are written
    (so the text reads in the same order, cell by cell). The text object is written inside
    its own saved graphics state, so the colours it sets never reach what is drawn after it.
    """

    _text: PDFTextObject | None = None
    _text_style: Any = None
    _styles_shared = False

    def __init__(self, data: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(data, *args, **kwargs)
        # Cell styles given (ours, or a split's share of its table's) may be one object for
        # many cells: a command for some of those cells gives every cell its own first.
        self._styles_shared = kwargs.get("cellStyles") is not None

    def _addCommand(self, cmd: Any) -> None:
        if self._styles_shared and cmd[0] not in _NOT_CELL_COMMANDS:
            shared: list[list[CellStyle]] = self.__dict__["_cellStyles"]
            self._cellStyles = [[copy.copy(s) for s in row] for row in shared]
            self._styles_shared = False
        super()._addCommand(cmd)

    def draw(self) -> None:
        self._text = None
        self._text_style = None
        super().draw()

    def _drawCell(
        self,
        cellval: Any,
        cellstyle: Any,
        pos: tuple[float, float],
        size: tuple[float, float],
    ) -> None:
        if (
            type(cellval) is not str
            or cellstyle.alignment != "LEFT"
            or cellstyle.valign != "TOP"
            or "\n" in cellval
            or cellstyle.href
            or cellstyle.destination
            or cellstyle.direction
            or cellstyle.shaping
        ):
            # The strings so far first: the page's text stays in reading order (cell by cell).
            self._flush_text()
            super()._drawCell(cellval, cellstyle, pos, size)
            return
        if not cellval:
            return  # an empty cell draws no glyph
        text = self._text
        if text is None:
            text = self._text = self.canv.beginText()
        current = self._text_style
        if (
            current is None
            or cellstyle.fontname != current.fontname
            or cellstyle.fontsize != current.fontsize
            or cellstyle.leading != current.leading
        ):
            text.setFont(cellstyle.fontname, cellstyle.fontsize, cellstyle.leading)
        if current is None or cellstyle.color != current.color:
            text.setFillColor(cellstyle.color)
        self._text_style = cellstyle
        colpos, rowpos = pos
        text.setTextOrigin(
            colpos + cellstyle.leftPadding,
            rowpos + size[1] - cellstyle.topPadding - cellstyle.fontsize,
        )
        _text_out(text, cellval)

    def _flush_text(self) -> None:
        if self._text is not None:
            canvas = self.canv
            canvas.saveState()
            canvas.drawText(self._text)
            canvas.restoreState()
            self._text = None
            self._text_style = None

    def _drawLines(self) -> None:
        self._flush_text()
        super()._drawLines()


def _text_out(text: PDFTextObject, string: str) -> None:
    """``text.textOut(string)`` for a cell, reusing what the same string wrote before in the
    same document, font and state: a course's tables repeat their labels and many of their
    values visit after visit, and each was mapped onto the font's subsets, escaped and
    formatted anew.

    What ``textOut`` writes depends only on the font, its size and leading, the font subset
    the text object is in, and the string; a character keeps its subset for the whole
    document, so the same key writes the same operators. The text object is left in the
    subset the string ends in, as ``textOut`` leaves it. Its cursor is not moved: a cell's
    text is placed by its own origin.
    """
    written: dict[tuple[Any, ...], tuple[str, Any]] | None = getattr(
        text._canvas._doc, "_charting_cells", None
    )
    if written is None:
        written = text._canvas._doc._charting_cells = {}
    key = (text._fontname, text._fontsize, text._leading, text._curSubset, string)
    known = written.get(key)
    if known is None:
        text.textOut(string)
        written[key] = (text._code[-1], text._curSubset)
        return
    text._code.append(known[0])
    text._curSubset = known[1]


#: Table style commands that set no cell's style (backgrounds, lines, spans, splitting).
_NOT_CELL_COMMANDS = frozenset(
    {
        "BACKGROUND",
        "ROWBACKGROUNDS",
        "COLBACKGROUNDS",
        "SPAN",
        "NOSPLIT",
        "ROUNDEDCORNERS",
        "GRID",
        "BOX",
        "OUTLINE",
        "INNERGRID",
        "LINEBELOW",
        "LINEABOVE",
        "LINEBEFORE",
        "LINEAFTER",
    }
)


def _cell_style(style: ParagraphStyle, left_padding: float) -> CellStyle:
    """The cell style that the commands of our tables give a cell of ``style``: its font,
    size, leading and colour, top valign, 2 points of
    padding above and below, ``left_padding`` on the left.

    A table's cells of one style share it: ReportLab otherwise makes a style per cell and
    applies every command to each cell in its range, one by one (about 5 ms per patient of
    a course export).
    """
    made = CellStyle(style.name)
    made.fontname, made.fontsize, made.leading = style.fontName, style.fontSize, style.leading
    made.color = colors.toColor(style.textColor, colors.Color(0, 0, 0))
    made.valign = "TOP"
    made.topPadding = made.bottomPadding = 2
    made.leftPadding = left_padding
    return made


def p(text: str, style: str = "body") -> Paragraph:
    """A paragraph of plain text (escaped; Chinese set in the CJK font)."""
    return paragraph(para(text), stylesheet()[style])


def fmt(value: Any) -> str:
    """A value as printed: dates ISO, times local, lists joined, empty as an en dash."""
    if value is None or value == "" or value == []:
        return "\u2013"
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


def key_values(
    rows: Iterable[tuple[str, Any]], width: float, skip_empty: bool = True
) -> Flowable | None:
    """A two-column table of labels and values; empty values are left out."""
    sheet = stylesheet()
    bold, plain = sheet["cellbold"], sheet["cell"]
    widths = [0.28 * width, 0.72 * width]
    # Inside the padding: none on the left, ReportLab's default 6 points on the right.
    inner = [w - _DEFAULT_PADDING for w in widths]
    body = []
    for label, value in rows:
        text = fmt(value)
        if skip_empty and text == "\u2013":
            continue
        body.append([cell(label, bold, inner[0]), cell(text, plain, inner[1])])
    if not body:
        return None
    # Labels in bold, values plain; top valign, 2 points above and below, none on the left.
    styles = [_cell_style(bold, 0), _cell_style(plain, 0)]
    table = PlainTable(body, colWidths=widths, cellStyles=[list(styles) for _ in body])
    table.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -2), 0.25, RULE)]))
    return table


def data_table(
    header: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float]
) -> Table:
    """A table with a shaded header row; long tables repeat the header on each page."""
    sheet = stylesheet()
    bold, plain = sheet["cellbold"], sheet["cell"]
    inner = [w - 2 * _DEFAULT_PADDING for w in widths]
    body: list[list[Any]] = [[cell(h, bold, w) for h, w in zip(header, inner, strict=True)]]
    body += [[cell(fmt(c), plain, w) for c, w in zip(row, inner, strict=True)] for row in rows]
    # The header in bold, the rows plain; top valign, 2 points above and below.
    head, rest = _cell_style(bold, _DEFAULT_PADDING), _cell_style(plain, _DEFAULT_PADDING)
    styles = [[head] * len(header)] + [[rest] * len(header) for _ in body[1:]]
    table = PlainTable(body, colWidths=list(widths), repeatRows=1, cellStyles=styles)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
                ("BOX", (0, 0), (-1, -1), 0.25, RULE),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#fafcfd")]),
            ]
        )
    )
    return table


def figure_grid(figures: Sequence[tuple[str, Drawing]], width: float) -> Table:
    """Body-map figures side by side (two per row), each with its caption above it."""
    cells: list[Any] = []
    for title, drawing in figures:
        cells.append([p(title, "small"), drawing])
    rows: list[list[Any]] = [cells[i : i + 2] for i in range(0, len(cells), 2)]
    if len(rows[-1]) == 1:
        rows[-1].append("")
    table = Table(rows, colWidths=[width / 2, width / 2])
    table.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
    )
    return table
