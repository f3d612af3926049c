"""The course report: the visits of a date range, pain and outcome trends as charts, points
used with counts, and the plan against sessions done; optionally followed by every visit's
summary (the per-patient export)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.platypus import Flowable, KeepTogether, PageBreak

from charting.bodymap import BodyMap
from charting.bodymap.regions import EXTENT_LABELS
from charting.reports.common import data_table, figure_grid, fmt, key_values, p
from charting.reports.fonts import SANS
from charting.reports.pain_drawing import pain_figures
from charting.reports.styles import ACCENT, MUTED
from charting.reports.template import ChartingDoc, PageDecor
from charting.reports.visit_summary import running_header, visit_story
from charting.services.report_data import CourseReport, VisitReport

BEFORE = colors.HexColor("#c0392b")
AFTER = colors.HexColor("#1e8449")


def trend_chart(
    series: list[tuple[str, colors.Color, list[tuple[int, float]]]],
    width: float,
    height: float,
    y_max: float,
    title: str,
) -> Drawing:
    """A line chart of values per visit number (reportlab.graphics)."""
    drawing = Drawing(width, height)
    drawing.add(String(0, height - 10, title, fontName=SANS, fontSize=8.5, fillColor=ACCENT))
    data = [points for _name, _colour, points in series if points]
    if not data:
        drawing.add(
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
    plot = LinePlot()
    plot.x, plot.y = 30, 24
    plot.width, plot.height = width - 130, height - 44
    plot.data = data
    numbers = [n for points in data for n, _v in points]
    plot.xValueAxis.valueMin = min(numbers) - 0.5
    plot.xValueAxis.valueMax = max(numbers) + 0.5
    plot.xValueAxis.valueStep = max(1, (max(numbers) - min(numbers)) // 10 or 1)
    plot.yValueAxis.valueMin = 0
    plot.yValueAxis.valueMax = y_max
    plot.yValueAxis.valueStep = y_max / 5
    for axis in (plot.xValueAxis, plot.yValueAxis):
        axis.labels.fontName = SANS
        axis.labels.fontSize = 7
    plot.xValueAxis.labelTextFormat = "%d"
    used = [(name, colour) for name, colour, points in series if points]
    for i, (_name, colour) in enumerate(used):
        plot.lines[i].strokeColor = colour
        plot.lines[i].strokeWidth = 1.6
        plot.lines[i].symbol = makeMarker(
            "FilledCircle", size=3.5, fillColor=colour, strokeColor=colour
        )
    drawing.add(plot)
    drawing.add(
        String(plot.x + plot.width / 2, 4, "Visit", fontName=SANS, fontSize=7, textAnchor="middle")
    )
    legend = Legend()
    legend.x, legend.y = width - 92, height - 24
    legend.fontName, legend.fontSize = SANS, 7
    legend.alignment = "right"
    legend.colorNamePairs = [(colour, name) for name, colour in used]
    drawing.add(legend)
    return drawing


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
        max(10.0, max(v.pain.extent_percent for v in drawn if v.pain) * 1.2),
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
