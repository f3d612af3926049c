"""The course report: the visits of a date range, pain and outcome trends as charts, points
used with counts, and the plan against sessions done; optionally followed by every visit's
summary (the per-patient export)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import getFont, stringWidth
from reportlab.platypus import Flowable, KeepTogether, PageBreak

from charting.bodymap import BodyMap
from charting.bodymap.regions import EXTENT_LABELS
from charting.reports.common import data_table, figure_grid, fmt, key_values, p
from charting.reports.fonts import SANS
from charting.reports.pain_drawing import pain_figures
from charting.reports.painted import Painted
from charting.reports.styles import ACCENT, MUTED
from charting.reports.template import ChartingDoc, PageDecor
from charting.reports.visit_summary import running_header, visit_story
from charting.services.report_data import CourseReport, VisitReport

BEFORE = colors.HexColor("#c0392b")
AFTER = colors.HexColor("#1e8449")


#: Where the plot sits in a trend chart (points): room on the left for the value labels,
#: below for the visit numbers and "Visit", above for the title, and on the right for the
#: legend.
PLOT_LEFT, PLOT_BOTTOM, PLOT_RIGHT_ROOM, PLOT_TOP_ROOM = 30.0, 24.0, 100.0, 20.0
#: Tick marks stand this far outside the axes; the labels sit at their ends.
TICK_LENGTH = 5.0
AXIS_FONT_SIZE = 7.0
#: Neighbouring visit numbers keep at least this gap (points), or fewer are labelled.
TICK_LABEL_GAP = 4.0
#: The legend: a swatch and its name per series, from the top right corner down.
LEGEND_RIGHT_ROOM, LEGEND_SWATCH, LEGEND_TEXT_SPACE, LEGEND_PITCH = 92.0, 10.0, 10.0, 20.0
LINE_WIDTH = 1.6
MARKER_RADIUS = 1.75
BLACK = colors.black


def _visit_ticks(first: int, last: int, per_visit: float) -> list[int]:
    """The visit numbers labelled under a chart spanning ``first`` to ``last``.

    Every visit, or on a long course every 2nd, 3rd... (the step is a tenth of the span,
    rounded down; the labels are the multiples of the step on the axis, as ReportLab's value
    axis chose them), and a step twice as wide while neighbouring labels would come closer
    than :data:`TICK_LABEL_GAP` (``per_visit`` is the axis length of one visit).
    """
    step = max(1, (last - first) // 10 or 1)
    widest = max(stringWidth(str(n), SANS, AXIS_FONT_SIZE) for n in (first, last))
    while step * per_visit < widest + TICK_LABEL_GAP and step < last - first:
        step *= 2
    low = math.ceil((first - 0.5) / step)
    high = math.floor((last + 0.5) / step)
    return [i * step for i in range(low, high + 1)]


def _value_label(value: float) -> str:
    """A value axis label: whole numbers without decimals, others to two places at most."""
    return f"{round(value, 2):g}"


def trend_chart(
    series: list[tuple[str, colors.Color, list[tuple[int, float]]]],
    width: float,
    height: float,
    y_max: float,
    title: str,
) -> Drawing:
    """A line chart of values per visit number: each series a line with a dot per visit, the
    visit numbers below, the values from 0 to ``y_max`` on the left, a legend on the right.

    Every part is a plain shape in one :class:`Painted` node, painted straight onto the PDF
    canvas: ReportLab's chart widgets (``LinePlot``, ``Legend``) looked the same but cost six
    times as much to draw (3.3 ms a chart), nearly all in expanding the widgets into some 80
    nodes and rendering them one by one.
    """
    drawing = Drawing(width, height)
    chart = Painted()
    drawing.add(chart)
    chart.add(String(0, height - 10, title, fontName=SANS, fontSize=8.5, fillColor=ACCENT))
    used = [(name, colour, points) for name, colour, points in series if points]
    if not used:
        chart.add(
            String(
                width / 2,
                height / 2,
                "No values recorded",
                fontName=SANS,
                fontSize=8,
                fillColor=MUTED,
                textAnchor="middle",
            )
        )
        return drawing
    left, bottom = PLOT_LEFT, PLOT_BOTTOM
    plot_width, plot_height = width - PLOT_LEFT - PLOT_RIGHT_ROOM, height - bottom - PLOT_TOP_ROOM
    numbers = [n for _name, _colour, points in used for n, _v in points]
    first, last = min(numbers), max(numbers)
    # Half a visit of room at each end, so the first and last dots stay clear of the axes.
    per_visit = plot_width / (last - first + 1)

    def x_of(number: float) -> float:
        return left + (number - first + 0.5) * per_visit

    def y_of(value: float) -> float:
        return bottom + value * plot_height / y_max

    def axis_line(x1: float, y1: float, x2: float, y2: float) -> None:
        chart.add(Line(x1, y1, x2, y2, strokeColor=BLACK, strokeWidth=1))

    def axis_label(x: float, y: float, text: str, anchor: str) -> None:
        chart.add(String(x, y, text, fontName=SANS, fontSize=AXIS_FONT_SIZE, textAnchor=anchor))

    axis_line(left, bottom, left + plot_width, bottom)
    for n in _visit_ticks(first, last, per_visit):
        x = x_of(n)
        axis_line(x, bottom, x, bottom - TICK_LENGTH)
    for n in _visit_ticks(first, last, per_visit):
        axis_label(x_of(n), bottom - TICK_LENGTH - AXIS_FONT_SIZE, str(n), "middle")
    axis_line(left, bottom, left, bottom + plot_height)
    values = [y_max * i / 5 for i in range(6)]
    for v in values:
        axis_line(left, y_of(v), left - TICK_LENGTH, y_of(v))
    for v in values:
        # Centred on the tick: the baseline sits 0.4 of the type size below it.
        axis_label(left - TICK_LENGTH, y_of(v) - 0.4 * AXIS_FONT_SIZE, _value_label(v), "end")
    for _name, colour, points in used:
        xy = [(x_of(n), y_of(v)) for n, v in points]
        if len(xy) > 1:
            chart.add(
                PolyLine(
                    [c for point in xy for c in point],
                    strokeColor=colour,
                    strokeWidth=LINE_WIDTH,
                    strokeLineJoin=1,
                )
            )
        for x, y in xy:
            chart.add(
                Circle(x, y, MARKER_RADIUS, fillColor=colour, strokeColor=colour, strokeWidth=0.1)
            )
    axis_label(left + plot_width / 2, 4, "Visit", "middle")
    # Each name is centred on its swatch the way ReportLab's legend centres it.
    ascent = getFont(SANS).face.ascent / 1000 * AXIS_FONT_SIZE
    swatch_x = width - LEGEND_RIGHT_ROOM
    for i, (name, colour, _points) in enumerate(used):
        top = height - PLOT_BOTTOM - i * LEGEND_PITCH
        swatch_y = top - LEGEND_SWATCH
        chart.add(
            Rect(
                swatch_x,
                swatch_y,
                LEGEND_SWATCH,
                LEGEND_SWATCH,
                fillColor=colour,
                strokeColor=BLACK,
                strokeWidth=1,
            )
        )
        axis_label(
            swatch_x + LEGEND_SWATCH + LEGEND_TEXT_SPACE,
            swatch_y + (LEGEND_SWATCH - ascent) / 2,
            name,
            "start",
        )
    return drawing


def _extent_scale(largest: float) -> float:
    """The top of the pain extent chart's scale: a fifth above the largest extent, rounded up
    to a multiple of 5 (10 at least) so its five steps are whole percentages."""
    return float(max(10, math.ceil(largest * 1.2 / 5) * 5))


def _pain_course(report: CourseReport, bodymap: BodyMap | None, width: float) -> list[Flowable]:
    """How the pain drawing changed over the course: extent and furthest extent per visit
    beside the pain scores, and the first and latest drawings side by side."""
    drawn = [v for v in report.visits if v.pain is not None and v.pain.shaded_area > 0]
    if not drawn:
        return []
    extent = trend_chart(
        [("Extent %", ACCENT, [(v.number, v.pain.extent_percent) for v in drawn if v.pain])],
        width,
        130,
        _extent_scale(max(v.pain.extent_percent for v in drawn if v.pain)),
        "Pain extent (% of the body shown)",
    )
    story: list[Flowable] = [KeepTogether([p("Pain drawings over the course", "h2"), extent])]
    rows = []
    for v in drawn:
        m = v.pain
        assert m is not None
        rows.append(
            [
                v.number,
                fmt(v.started_at)[:10],
                f"{m.extent_percent:.1f}",
                EXTENT_LABELS[m.furthest.get("L", "none")],
                EXTENT_LABELS[m.furthest.get("R", "none")],
                v.record["pain_now"],
                m.since_previous or "",
            ]
        )
    story.append(
        data_table(
            ["No.", "Date", "Extent %", "Left leg", "Right leg", "NRS", "Since previous"],
            rows,
            [w * width for w in (0.06, 0.14, 0.1, 0.18, 0.18, 0.08, 0.26)],
        )
    )
    if bodymap is not None and len(drawn) >= 1:
        first, latest = drawn[0], drawn[-1]
        pair = []
        for v, when in ((first, "First"), (latest, "Latest")):
            figures = pain_figures(bodymap, v.pain_areas, width / 2 - 8, 240)
            if figures:
                title, drawing = figures[0]
                pair.append((f"{when} drawing, visit {v.number} ({title})", drawing))
        if pair:
            story.append(KeepTogether([figure_grid(pair, width)]))
    return story


def course_story(
    report: CourseReport, width: float, bodymap: BodyMap | None = None
) -> list[Flowable]:
    """The flowables of the course report."""
    story: list[Any] = [p("Course report", "title")]
    span = "all visits"
    if report.since or report.until:
        span = (
            f"visits {fmt(report.since) if report.since else 'from the start'} to "
            f"{fmt(report.until) if report.until else 'today'}"
        )
    story.append(
        p(f"{report.patient.name}  \u00b7  {span}  \u00b7  {report.plan.text}", "subtitle")
    )
    story.append(key_values([("Health flags", "; ".join(report.patient.flags) or "none")], width))
    altered = [v.number for v in report.visits if v.altered]
    if altered:
        story.append(
            p(
                "WARNING: visit "
                + ", ".join(str(n) for n in altered)
                + " no longer matches its signature (changed after signing). Do not rely on "
                "it as signed.",
                "warning",
            )
        )
    story.append(p("Visits", "h2"))
    rows = []
    # The clinic's own points are starred wherever a code is listed, and the star explained.
    custom = {m.spec.point_code or "" for v in report.visits for m in v.marks if m.custom}

    def code_text(code: str) -> str:
        return f"{code}*" if code in custom else code

    for v in report.visits:
        r = v.record
        points = [
            code_text(c) for c in sorted({m.spec.point_code for m in v.marks if m.spec.point_code})
        ]
        rows.append(
            [
                v.number,
                fmt(v.started_at)[:10],
                "ALTERED" if v.altered else v.status,
                r["pain_now"],
                r["pain_after"],
                r["odi_percent"],
                r["rmdq_score"],
                ", ".join(points[:12]),
            ]
        )
    story.append(
        data_table(
            ["No.", "Date", "Status", "Pain pre", "Pain post", "ODI %", "RMDQ", "Points"],
            rows,
            [w * width for w in (0.06, 0.13, 0.09, 0.09, 0.09, 0.08, 0.10, 0.36)],
        )
    )
    pain = trend_chart(
        [
            (
                "Before",
                BEFORE,
                [(c.number, c.pain_before) for c in report.points if c.pain_before is not None],
            ),
            (
                "After",
                AFTER,
                [(c.number, c.pain_after) for c in report.points if c.pain_after is not None],
            ),
        ],
        width,
        170,
        10,
        "Pain (NRS 0\u201310)",
    )
    story.append(KeepTogether([p("Pain before and after treatment", "h2"), pain]))
    scores = trend_chart(
        [
            ("ODI %", ACCENT, [(c.number, c.odi) for c in report.points if c.odi is not None]),
            (
                "RMDQ \u00d74",
                colors.HexColor("#8e44ad"),
                [(c.number, c.rmdq * 100 / 24) for c in report.points if c.rmdq is not None],
            ),
        ],
        width,
        150,
        100,
        "ODI (%) and RMDQ (scaled to 0\u2013100)",
    )
    story.append(KeepTogether([p("Outcome scores", "h2"), scores]))
    story += _pain_course(report, bodymap, width)
    if report.changes:
        story.append(
            data_table(
                ["Measure", "Baseline", "Latest", "Change", "%", "Clinically meaningful"],
                [
                    [
                        c.measure.label,
                        f"{c.baseline:g}",
                        f"{c.latest:g}",
                        f"{c.points:+g}",
                        f"{c.percent:+.0f}%" if c.percent is not None else "",
                        "yes" if c.meaningful else "no",
                    ]
                    for c in report.changes
                ],
                [w * width for w in (0.26, 0.12, 0.12, 0.12, 0.12, 0.26)],
            )
        )
    story.append(p("Treatment plan", "h2"))
    story.append(p(report.plan.text))
    if report.point_usage:
        story.append(p("Points used (number of visits)", "h2"))
        usage = list(report.point_usage)
        half = (len(usage) + 1) // 2
        left, right = usage[:half], usage[half:]
        left = [(code_text(c), n) for c, n in left]
        right = [(code_text(c), n) for c, n in right]
        rows = [[*left[i], *(right[i] if i < len(right) else ("", ""))] for i in range(half)]
        story.append(
            data_table(
                ["Point", "Visits", "Point", "Visits"],
                rows,
                [w * width for w in (0.3, 0.2, 0.3, 0.2)],
            )
        )
    if custom:
        story.append(
            p(
                "* A custom point of this clinic (not a WHO standard point): "
                + "; ".join(sorted(custom))
                + ".",
                "small",
            )
        )
    return story


def build_course_report(
    report: CourseReport,
    bodymap: BodyMap,
    target: str | Path | IO[bytes],
    created_at: datetime | None = None,
    invariant: bool = False,
    with_visits: bool = False,
) -> None:
    """Write the course report PDF (and, for exports, every visit's summary after it)."""
    decor = PageDecor(
        report.clinic,
        running_header(report.patient),
        created_at or datetime.now(UTC),
        altered=any(v.altered for v in report.visits),
    )
    doc = ChartingDoc(
        target, decor, f"Course report \u2014 {report.patient.name}", invariant=int(invariant)
    )
    story = course_story(report, doc.body_width, bodymap)
    if with_visits:
        for visit in report.visits:
            story.append(PageBreak())
            single = VisitReport(report.clinic, report.patient, visit)
            story += visit_story(single, bodymap, doc.body_width)
    doc.build_story(story)
