"""Pain drawings: painting a brush stroke as it is drawn, and measuring a busy drawing.

A stroke is drawn one segment per mouse move; each segment must be on screen within a frame
(target: 16 ms median) while the view already holds a busy drawing. Measuring runs after
every stroke is stored (extent, regions, furthest reach down each leg, overlap with the
previous and first drawings): target 50 ms median for a busy drawing on every view.

Floors measured in the same run: repainting an empty scene of the canvas's size, and the
bare geometric union of the same strokes (shapely's ``unary_union``), the least any exact
measure must do.
"""

from __future__ import annotations

import random
from dataclasses import replace

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QGraphicsScene, QGraphicsView
from shapely import LineString, unary_union

from benchmarks.common import report, sample, summarise
from charting.bodymap import BodyMap, load_bodymap
from charting.bodymap import regions as body_regions
from charting.services.pain_measures import AreaShape, measure
from charting.ui.app import make_application
from charting.ui.pain.canvas import PainCanvas

SIZE = (420, 760)
STROKES_PER_VIEW = 30
POINTS_PER_STROKE = 24
FILLS_PER_VIEW = 4


def busy_drawing(bodymap: BodyMap, seed: int) -> list[AreaShape]:
    """A drawing heavier than any patient's: on every view, strokes wandering over the back
    and legs, and region fills on both sides."""
    rng = random.Random(seed)
    areas: list[AreaShape] = []
    for view_id, view in bodymap.views.items():
        for _ in range(STROKES_PER_VIEW):
            x = rng.uniform(0.3, 0.7) * view.width
            y = rng.uniform(0.35, 0.9) * view.height
            points = []
            for _ in range(POINTS_PER_STROKE):
                x = min(max(x + rng.uniform(-12, 12), 0), view.width)
                y = min(max(y + rng.uniform(-4, 16), 0), view.height)
                points.append((round(x, 1), round(y, 1)))
            shape = AreaShape(view_id, "stroke", "practitioner", tuple(points), 30.0)
            areas.append(replace(shape, quality="aching", intensity=6))
        regions = list(body_regions.region_shapes(bodymap, view_id))
        for region, side in rng.sample(regions, min(FILLS_PER_VIEW, len(regions))):
            areas.append(
                AreaShape(view_id, "region", "patient", region=region, side=side, quality="sharp")
            )
    return areas


def _move(canvas: PainCanvas, where: QPointF, kind: QMouseEvent.Type) -> None:
    button = Qt.MouseButton.LeftButton
    buttons = Qt.MouseButton.NoButton if kind == QMouseEvent.Type.MouseButtonRelease else button
    event = QMouseEvent(kind, where, where, button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(canvas.viewport(), event)


def _stroke(canvas: PainCanvas, start: tuple[float, float]) -> list[float]:
    """Draw one stroke of 25 segments from ``start``; return each segment's time."""
    x, y = start
    _move(canvas, canvas.viewport_point(x, y), QMouseEvent.Type.MouseButtonPress)
    step = [0]

    def segment() -> None:
        # One mouse move: the stroke's next segment added and painted.
        step[0] += 1
        at = canvas.viewport_point(x + 4 * (step[0] % 9), y + 6 * step[0])
        _move(canvas, at, QMouseEvent.Type.MouseMove)
        canvas.viewport().repaint()

    times = sample(segment, 25, warmup=1)
    end = canvas.viewport_point(x, y + 6 * step[0])
    _move(canvas, end, QMouseEvent.Type.MouseButtonRelease)
    return times


def run() -> None:
    """Measure and report."""
    app = make_application()
    bodymap = load_bodymap()
    drawing = busy_drawing(bodymap, 5)
    previous = busy_drawing(bodymap, 6)
    first = busy_drawing(bodymap, 7)
    measures = []

    view = bodymap.views["posterior"]
    empty_view = QGraphicsView(QGraphicsScene(0, 0, view.width, view.height))
    empty_view.resize(*SIZE)
    empty_view.show()
    app.processEvents()
    empty = summarise(
        "baseline: repaint an empty scene of the canvas's size",
        sample(lambda: empty_view.viewport().repaint(), 60),
    )
    measures.append(empty)

    canvas = PainCanvas(bodymap, "posterior")
    canvas.resize(*SIZE)
    canvas.set_areas(drawing, previous)
    canvas.previous_layer.setVisible(True)
    canvas.show()
    app.processEvents()
    strokes: list[float] = []
    rng = random.Random(11)
    for _ in range(8):
        start = (view.width * rng.uniform(0.35, 0.65), view.height * rng.uniform(0.4, 0.6))
        strokes += _stroke(canvas, start)
        app.processEvents()
    measures.append(
        summarise(
            f"brush stroke: one segment drawn and painted over a busy drawing "
            f"({len(drawing) // len(bodymap.views)} areas on the view, the last visit's "
            "outlines shown)",
            strokes,
            baseline=empty.name,
            baseline_median=empty.median,
            target="< 16 ms median",
        )
    )

    lines = [
        LineString(a.points).buffer(a.width / 2) for a in drawing if a.kind == "stroke" and a.width
    ]
    union = summarise(
        "baseline: union of the same strokes' outlines (shapely)",
        sample(lambda: unary_union(lines), 15, warmup=1),
    )
    measures.append(union)
    measured = sample(lambda: measure(bodymap, drawing, previous, first), 15, warmup=1)
    measures.append(
        summarise(
            f"measures of a busy drawing on every view ({len(drawing)} areas) against the "
            "previous and first drawings",
            measured,
            baseline=union.name,
            baseline_median=union.median,
            target="< 50 ms median",
        )
    )
    canvas.close()
    empty_view.close()
    report(
        "pain",
        measures,
        {
            "views": len(bodymap.views),
            "strokes_per_view": STROKES_PER_VIEW,
            "points_per_stroke": POINTS_PER_STROKE,
            "fills_per_view": FILLS_PER_VIEW,
        },
    )
