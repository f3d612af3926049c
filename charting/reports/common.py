"""Small story helpers shared by the documents: headings, key-value tables, data tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

from charting.reports.fonts import para
from charting.reports.styles import RULE, SHADE, stylesheet

#: Parsed fragments of paragraphs met before, by (markup, style): a course report repeats
#: the same labels, headings and values visit after visit, and parsing each paragraph's
#: markup afresh was a sixth of the time to build one.
_FRAGMENTS: dict[tuple[str, int], list[Any]] = {}
_FRAGMENTS_KEPT = 20_000


def paragraph(markup: str, style: ParagraphStyle) -> Paragraph:
    """``Paragraph(markup, style)``, reusing the parse of the same markup in the same style
    (styles of the cached stylesheets only: they live as long as the process). ReportLab
    never changes a paragraph's parsed fragments (it wraps copies of them)."""
    key = (markup, id(style))
    fragments = _FRAGMENTS.get(key)
    if fragments is not None:
        return Paragraph(markup, style, frags=fragments)
    made = Paragraph(markup, style)
    if made.style is style and len(markup) <= 300 and len(_FRAGMENTS) < _FRAGMENTS_KEPT:
        _FRAGMENTS[key] = made.frags
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
    body = [
        [
            paragraph(para(label), stylesheet()["cellbold"]),
            paragraph(para(fmt(value)), stylesheet()["cell"]),
        ]
        for label, value in rows
        if not (skip_empty and fmt(value) == "\u2013")
    ]
    if not body:
        return None
    table = Table(body, colWidths=[0.28 * width, 0.72 * width])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("LINEBELOW", (0, 0), (-1, -2), 0.25, RULE),
            ]
        )
    )
    return table


def data_table(
    header: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float]
) -> Table:
    """A table with a shaded header row; long tables repeat the header on each page."""
    sheet = stylesheet()
    body = [[paragraph(para(h), sheet["cellbold"]) for h in header]]
    body += [[paragraph(para(fmt(c)), sheet["cell"]) for c in row] for row in rows]
    table = Table(body, colWidths=list(widths), repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
                ("BOX", (0, 0), (-1, -1), 0.25, RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
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
