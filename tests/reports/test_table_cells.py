"""Table cells in the documents: one-line values drawn as plain text, the rest wrapped."""

from __future__ import annotations

import io

from pypdf import PdfReader
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, Table

from charting.reports.common import data_table, key_values

WIDTH = 480.0
LONG = (
    "Sharp pain in the left buttock radiating down the back of the thigh to the knee, worse "
    "on sitting and on bending forward, eased by walking and by lying on the right side"
)


def _drawn(table: Table) -> tuple[list[float], str, set[str]]:
    """Row heights, text and font names of ``table`` drawn on a page."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4)
    _w, height = table.wrapOn(canvas, WIDTH, 700)
    table.drawOn(canvas, 50, 780 - height)
    canvas.save()
    page = PdfReader(io.BytesIO(out.getvalue())).pages[0]
    fonts = {str(f.get_object()["/BaseFont"]) for f in page["/Resources"]["/Font"].values()}
    return list(table._rowHeights), page.extract_text(), fonts


def test_a_value_too_long_for_its_column_still_wraps() -> None:
    """A long value wraps onto several lines inside its column (its row grows), while a
    short one stays one line tall; both print their full text."""
    table = key_values([("Chief complaint", LONG), ("Sleep", "poor")], WIDTH)
    assert table is not None
    heights, text, _fonts = _drawn(table)
    one_line = 10.5 + 2 + 2  # the cell style's leading and the table's paddings
    assert heights[1] == one_line
    assert heights[0] >= 2 * 10.5 + 4
    assert "radiating down the back" in " ".join(text.split())
    assert "poor" in text


def test_one_line_cells_keep_the_row_height_and_text_of_a_paragraph() -> None:
    """A data table of short values is laid out exactly as one of Paragraph cells would be:
    same row heights, same words."""
    rows = [
        ["BL23", "left", "Shenshu", "even", "25 mm"],
        ["GB30", "right", "Huantiao", "", "60 mm"],
    ]
    widths = [96.0] * 5
    plain = data_table(["Point", "Side", "Name", "Technique", "Depth"], rows, widths)
    assert not any(isinstance(c, Paragraph) for row in plain._cellvalues for c in row)
    heights, text, _fonts = _drawn(plain)
    assert heights == [14.5, 14.5, 14.5]
    for word in ("BL23", "Shenshu", "GB30", "Huantiao", "60 mm", "\u2013"):
        assert word in text


def test_chinese_and_uneven_spacing_are_set_as_paragraphs() -> None:
    """Chinese characters print in the CJK font, and runs of spaces are evened out as
    before (such cells stay Paragraphs)."""
    table = key_values([("Point", "Zusanli 足三里"), ("Note", "deqi   felt")], WIDTH)
    assert table is not None
    cells = [row[1] for row in table._cellvalues]
    assert all(isinstance(c, Paragraph) for c in cells)
    _heights, text, fonts = _drawn(table)
    assert any("WenQuanYi" in f for f in fonts)  # the CJK font's subset
    assert "deqi felt" in text


def test_cells_read_row_by_row_around_a_wrapped_cell() -> None:
    """The one-line cells written together still read in table order: a row's cells before
    and after a wrapped cell, then the next row (copying text out of the PDF keeps order)."""
    rows = [["BL23", LONG, "25 mm"], ["GB30", "short note", "60 mm"]]
    table = data_table(["Point", "Note", "Depth"], rows, [80.0, 300.0, 80.0])
    assert isinstance(table._cellvalues[1][1], Paragraph)
    _heights, text, _fonts = _drawn(table)
    flat = " ".join(text.split())
    order = [flat.index(w) for w in ("Point", "BL23", "Sharp pain", "25 mm", "GB30", "60 mm")]
    assert order == sorted(order)


def test_restyling_one_cell_of_a_report_table_changes_that_cell_only() -> None:
    """The cells of a report table share their style until a command styles some of them:
    then only the cells named change (one red value, the rest as before)."""
    red = HexColor("#ff0000")
    table = data_table(["Point", "Side"], [["BL23", "left"], ["GB30", "right"]], [96.0, 96.0])
    table.setStyle([("TEXTCOLOR", (1, 2), (1, 2), red)])
    colours = [[style.color for style in row] for row in table._cellStyles]
    assert colours[2][1] == red
    assert sum(c == red for row in colours for c in row) == 1
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4)
    _w, height = table.wrapOn(canvas, WIDTH, 700)
    table.drawOn(canvas, 50, 780 - height)
    canvas.save()
    content = PdfReader(io.BytesIO(out.getvalue())).pages[0].get_contents().get_data()
    assert content.count(b"1 0 0 rg") == 1
