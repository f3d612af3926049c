"""The course report's trend charts: what a chart shows on paper, and that it is painted as
plain shapes (no chart widget left for ReportLab to expand)."""

from __future__ import annotations

import html
import io
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from reportlab.graphics import renderPDF, renderSVG
from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.graphics.widgetbase import Widget

from charting.bodymap import load_bodymap
from charting.models.db import Database
from charting.reports.course_report import AFTER, BEFORE, build_course_report, trend_chart
from charting.reports.fonts import register_fonts
from charting.reports.painted import Painted
from charting.services.pain_drawings import add_area
from charting.services.pain_measures import AreaShape
from charting.services.report_data import course_report
from charting.services.visit_record import update_fields
from charting.services.visits import start_visit

BM = load_bodymap()
CREATED = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
PLAIN_SHAPES = (Circle, Line, PolyLine, Rect, String)


@dataclass(frozen=True)
class Word:
    """A word printed on a PDF page, its box in points from the page's top left."""

    text: str
    page: int
    x_min: float
    y_min: float
    x_max: float
    y_max: float

    @property
    def x_mid(self) -> float:
        return (self.x_min + self.x_max) / 2

    @property
    def y_mid(self) -> float:
        return (self.y_min + self.y_max) / 2


def words_of(pdf: bytes, tmp_path: Path) -> list[Word]:
    """Every word of ``pdf`` with where it is printed (``pdftotext -bbox``)."""
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext (poppler-utils) is installed by tools/system-packages.sh"
    path = tmp_path / "words.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        [pdftotext, "-bbox", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    words = []
    for number, page in enumerate(out.split("<page ")[1:], start=1):
        for m in re.finditer(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>',
            page,
        ):
            box = [float(v) for v in m.groups()[:4]]
            words.append(Word(html.unescape(m.group(5)), number, *box))
    return words


def chart_words(chart: Drawing, tmp_path: Path) -> list[Word]:
    """The words of ``chart`` drawn alone on a page of its own size."""
    return words_of(renderPDF.drawToString(chart), tmp_path)


def pain_series(count: int, first: int = 1) -> list[tuple[str, object, list[tuple[int, float]]]]:
    """Pain before and after over ``count`` visits numbered from ``first``."""
    numbers = range(first, first + count)
    return [
        ("Before", BEFORE, [(n, (n * 7) % 10) for n in numbers]),
        ("After", AFTER, [(n, (n * 3) % 10) for n in numbers]),
    ]


@pytest.fixture(autouse=True)
def _fonts() -> None:
    register_fonts()


def test_chart_is_plain_shapes_painted_on_the_canvas() -> None:
    """A trend chart holds only plain shapes in one painted node, no chart widget to expand."""
    chart = trend_chart(pain_series(8), 480, 150, 10, "Pain (0-10)")
    assert chart.width == 480 and chart.height == 150
    assert [type(node) for node in chart.contents] == [Painted]
    shapes = chart.contents[0].contents
    assert shapes and all(type(shape) in PLAIN_SHAPES for shape in shapes)
    assert not any(isinstance(shape, Widget) for shape in shapes)
    # One line per series, one dot per visit.
    assert sum(isinstance(shape, PolyLine) for shape in shapes) == 2
    assert sum(isinstance(shape, Circle) for shape in shapes) == 16


def test_chart_shows_title_axes_labels_and_legend(tmp_path: Path) -> None:
    """The chart prints its title top left, visit numbers under the axis left to right, the
    values 0 to 10 up the left, "Visit" under the numbers and the series names on the right."""
    chart = trend_chart(pain_series(8), 480, 150, 10, "Pain (0-10)")
    words = chart_words(chart, tmp_path)
    by_text = {w.text: w for w in words}
    title = by_text["Pain"]
    assert title.x_min < 1 and title.y_min < 10
    # Visit numbers: one row under the plot (the x axis is 24 pt above the bottom, the
    # ticks reach 5 pt below it), in order, none touching the next.
    row = [w for w in words if w.y_min > 150 - 19 and w.text.isdigit()]
    assert [w.text for w in row] == [str(n) for n in range(1, 9)]
    assert all(a.x_max < b.x_min for a, b in pairwise(row))
    # Values: right-aligned left of the y axis (at x = 30, ticks to x = 25), bottom to top.
    column = sorted((w for w in words if w.x_max <= 25.5), key=lambda w: -w.y_mid)
    assert [w.text for w in column if w.text != "Pain"] == ["0", "2", "4", "6", "8", "10"]
    visit = by_text["Visit"]
    assert visit.y_min > max(w.y_max for w in row) - 1
    assert abs(visit.x_mid - (30 + 350 / 2)) < 1
    before, after = by_text["Before"], by_text["After"]
    assert before.x_min > 380 and after.x_min == pytest.approx(before.x_min)
    assert after.y_mid - before.y_mid == pytest.approx(20, abs=0.5)


def test_chart_without_values_says_so(tmp_path: Path) -> None:
    """A chart with no values recorded says so instead of drawing empty axes."""
    chart = trend_chart([("ODI %", BEFORE, []), ("RMDQ", AFTER, [])], 480, 150, 100, "ODI")
    text = " ".join(w.text for w in chart_words(chart, tmp_path))
    assert text == "ODI No values recorded"


def test_single_visit_is_one_labelled_dot(tmp_path: Path) -> None:
    """One visit: a dot in the middle of the plot, its number under it, no line."""
    chart = trend_chart([("Extent %", BEFORE, [(3, 4.0)])], 480, 130, 10, "Extent")
    shapes = chart.contents[0].contents
    dots = [s for s in shapes if isinstance(s, Circle)]
    assert len(dots) == 1 and not any(isinstance(s, PolyLine) for s in shapes)
    assert dots[0].cx == pytest.approx(30 + 350 / 2)
    numbers = [w for w in chart_words(chart, tmp_path) if w.y_min > 130 - 19]
    assert [w.text for w in numbers if w.text.isdigit()] == ["3"]
    assert abs(numbers[0].x_mid - dots[0].cx) < 1


@pytest.mark.parametrize(
    ("count", "first", "width"),
    [(30, 1, 480), (20, 100, 400), (60, 1, 300)],
    ids=["30 visits", "three-digit visits, narrow", "60 visits, narrow"],
)
def test_visit_numbers_never_collide(count: int, first: int, width: float, tmp_path: Path) -> None:
    """However many visits, the visit numbers under the axis stay apart (4 pt at least), in
    order, the first and last visit within the labelled span."""
    chart = trend_chart(pain_series(count, first), width, 150, 10, "Pain")
    row = [w for w in chart_words(chart, tmp_path) if w.y_min > 150 - 19 and w.text.isdigit()]
    numbers = [int(w.text) for w in row]
    assert numbers == sorted(numbers) and len(numbers) >= 3
    assert all(first <= n <= first + count - 1 for n in numbers)
    assert all(b.x_min - a.x_max >= 3.9 for a, b in pairwise(row))


def test_fractional_scale_labels_stay_short(tmp_path: Path) -> None:
    """A scale that does not divide evenly prints values to two decimals at most."""
    chart = trend_chart([("Extent %", BEFORE, [(1, 3.8), (2, 9.37)])], 480, 130, 11.244, "Ext")
    values = [w.text for w in chart_words(chart, tmp_path) if w.x_max <= 25.5 and w.text != "Ext"]
    assert values == ["11.24", "9", "6.75", "4.5", "2.25", "0"]
    chart = trend_chart([("Extent %", BEFORE, [(1, 3.8), (2, 12.0)])], 480, 130, 14.4, "Ext")
    values = [w.text for w in chart_words(chart, tmp_path) if w.x_max <= 25.5 and w.text != "Ext"]
    assert values == ["14.4", "11.52", "8.64", "5.76", "2.88", "0"]


def test_other_renderers_get_the_same_chart() -> None:
    """Outside a PDF (SVG here) the chart's shapes are drawn as a plain group."""
    svg = renderSVG.drawToString(trend_chart(pain_series(4), 480, 150, 10, "Pain (0-10)"))
    for text in ("Pain (0-10)", "Visit", "Before", "After", ">4<", ">10<"):
        assert text in svg, text
    assert svg.count("<polyline") == 2 and svg.count("<circle") == 8


def test_course_report_pdf_shows_the_charts(
    database: Database, make_patient, practitioner_id: int, tmp_path: Path
) -> None:
    """The course report prints each chart's title, visit numbers, "Visit" and legend, and
    "No values recorded" for a chart with nothing to plot."""
    pid = make_patient()
    start = datetime(2026, 9, 1, 9, tzinfo=UTC)
    with database.write() as session:
        for i in range(5):
            vid, _ = start_visit(session, pid, practitioner_id, start + timedelta(days=7 * i))
            update_fields(session, vid, {"pain_now": 8 - i, "pain_after": 5 - i // 2})
    with database.read() as session:
        report = course_report(session, pid, BM)
    out = io.BytesIO()
    build_course_report(report, BM, out, CREATED, invariant=True)
    words = words_of(out.getvalue(), tmp_path)
    text = " ".join(w.text for w in words)
    assert "Pain (NRS 0\u201310)" in text
    assert "ODI (%) and RMDQ (scaled to 0\u2013100) No values recorded" in text
    assert text.count("Visit") >= 1
    before = next(w for w in words if w.text == "Before")
    after = next(w for w in words if w.text == "After")
    assert before.page == after.page and before.y_mid < after.y_mid
    # The pain chart's visit numbers: 1 to 5 in a row just above "Visit".
    visit = next(w for w in words if w.text == "Visit" and w.page == before.page)
    row = [
        w
        for w in words
        if w.page == visit.page and w.text.isdigit() and 0 < visit.y_min - w.y_max < 8
    ]
    assert [w.text for w in row] == ["1", "2", "3", "4", "5"]


def test_pain_extent_scale_steps_are_whole_percentages(
    database: Database, make_patient, practitioner_id: int, tmp_path: Path
) -> None:
    """The pain extent chart's scale runs to a round number above the largest extent, so
    its values are whole percentages (22% shaded: 0, 6, ... 30, not 5.31, 10.62 ...)."""
    pid = make_patient()
    start = datetime(2026, 9, 1, 9, tzinfo=UTC)
    regions = [(r, s) for s in "LR" for r in ("low_back", "buttock", "thigh", "lower_leg", "foot")]
    with database.write() as session:
        for i, count in enumerate((10, 4)):
            vid, _ = start_visit(session, pid, practitioner_id, start + timedelta(days=7 * i))
            for region, side in regions[:count]:
                shape = AreaShape(
                    "posterior", "region", "practitioner", region=region, side=side,
                    quality="aching", intensity=6,
                )  # fmt: skip
                add_area(session, BM, vid, shape)
    with database.read() as session:
        report = course_report(session, pid, BM)
    assert max(v.pain.extent_percent for v in report.visits if v.pain) > 20
    out = io.BytesIO()
    build_course_report(report, BM, out, CREATED, invariant=True)
    words = words_of(out.getvalue(), tmp_path)
    title = next(w for w in words if w.text == "extent" and w.x_min < 100)
    visit = next(
        w for w in words if w.text == "Visit" and w.page == title.page and w.y_min > title.y_max
    )
    axis_x = min(w.x_min for w in words) + 25  # the chart's y axis ticks end 25 pt in
    values = [
        w.text
        for w in words
        if w.page == title.page and title.y_max < w.y_min < visit.y_min and w.x_max <= axis_x + 0.5
    ]
    assert values == ["30", "24", "18", "12", "6", "0"]
