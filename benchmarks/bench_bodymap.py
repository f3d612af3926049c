"""Body map: catalog load, first paint, and click-to-mark stored and painted with 300 marks.

Each figure is reported with its ratio to a baseline measured in the same run:
reading the catalog JSON for the load, and painting an empty scene of the same size for
painting and clicking. Target (issue: body map): under 16 ms median per click.
"""

from __future__ import annotations

import json
import random
import tempfile
from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView

from benchmarks.common import report, sample, spread_marks, summarise, unmarked_point
from charting.bodymap import load_bodymap, resource_path
from charting.config import sqlite_url
from charting.models.migrate import open_database
from charting.services.access import Actor
from charting.services.marks import add_marks
from charting.services.patients import PatientInput, create_patient
from charting.services.practitioners import PractitionerInput, save_practitioner
from charting.services.visits import start_visit
from charting.ui.app import make_application
from charting.ui.ops import OpRunner
from charting.ui.visit_chart import VisitChartPage

SIZE = (1100, 900)
MARKS = 300


def run() -> None:
    """Measure and report."""
    app = make_application()
    measures = []

    files = [resource_path("bodymap", n) for n in ("acupoints.json", "trigger_points.json")]
    raw = sample(lambda: [json.loads(Path(f).read_text()) for f in files], 15, warmup=1)
    raw_m = summarise("baseline: read and parse the catalog JSON", raw)

    def cold_load() -> None:
        load_bodymap.cache_clear()
        load_bodymap()

    load = sample(cold_load, 15, warmup=1)
    measures += [
        raw_m,
        summarise(
            "catalog load (model, points, muscles, placement, index)",
            load,
            baseline=raw_m.name,
            baseline_median=raw_m.median,
        ),
    ]
    bodymap = load_bodymap()

    rng = random.Random(3)
    clicks_at = [(rng.uniform(150, 710), rng.uniform(250, 1700)) for _ in range(200)]
    placed = bodymap.placed_points("posterior")

    def brute_force() -> None:
        for x, y in clicks_at:
            min(placed, key=lambda p: (p.x - x) ** 2 + (p.y - y) ** 2)

    brute = summarise("baseline: 200 nearest-point scans over every point", sample(brute_force, 30))
    indexed = sample(lambda: [bodymap.nearest_point("posterior", x, y) for x, y in clicks_at], 30)
    measures += [
        brute,
        summarise(
            "200 hit-tests (nearest point within 0.5 cun, grid index)",
            indexed,
            baseline=brute.name,
            baseline_median=brute.median,
        ),
    ]

    empty_view = QGraphicsView(QGraphicsScene(0, 0, 860, 1790))
    empty_view.resize(*SIZE)
    empty_view.show()
    app.processEvents()
    empty = sample(lambda: empty_view.viewport().repaint(), 60)
    empty_m = summarise("baseline: repaint an empty scene", empty)
    measures.append(empty_m)

    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(sqlite_url(Path(tmp) / "bench.sqlite3")).database
        db.actor = Actor.system("benchmark")
        with db.write() as s:
            patient = PatientInput(
                family_name="Bench", given_name="Mark", date_of_birth=date(1970, 1, 1)
            )
            pid, _ = create_patient(s, patient)
            prac, _ = save_practitioner(s, PractitionerInput("Bench Practitioner"))
            vid, _ = start_visit(s, pid, prac)
            add_marks(s, bodymap, vid, spread_marks(bodymap, MARKS, seed=7, acupoints=0.5))

        def first_paint() -> None:
            page = VisitChartPage(OpRunner(db), bodymap)
            page.resize(*SIZE)
            page.show()
            page.open_visit(vid)
            page.map.viewport().repaint()
            page.close()
            page.deleteLater()

        fp = sample(first_paint, 8, warmup=1)
        measures.append(
            summarise(
                f"open a visit with {MARKS} marks: build page, load, first paint",
                fp,
                baseline=empty_m.name,
                baseline_median=empty_m.median,
            )
        )

        page = VisitChartPage(OpRunner(db), bodymap)
        page.resize(*SIZE)
        page.show()
        page.open_visit(vid)
        app.processEvents()
        repaint = sample(lambda: page.map.viewport().repaint(), 60)
        measures.append(
            summarise(
                f"repaint the map with {MARKS} marks",
                repaint,
                baseline=empty_m.name,
                baseline_median=empty_m.median,
                target="one frame (16.7 ms)",
            )
        )

        # A wheel step in or out, painted: the scale, clashing labels hidden, the repaint (the
        # labels are laid out afresh once the wheel stops). Alternating keeps the zoom in range.
        steps = iter(range(10_000))

        def zoom_step() -> None:
            if next(steps) % 2:
                page.map.zoom_out()
            else:
                page.map.zoom_in()
            page.map.viewport().repaint()

        measures.append(
            summarise(
                f"zoom step with {MARKS} marks: scale, keep labels clear, repaint",
                sample(zoom_step, 60),
                baseline=empty_m.name,
                baseline_median=empty_m.median,
                target="<= 16 ms median",
            )
        )
        measures.append(
            summarise(
                f"labels laid out afresh once the zoom settles, {MARKS} marks (once a wheel turn)",
                sample(page.map.layout_labels, 30),
                baseline=empty_m.name,
                baseline_median=empty_m.median,
            )
        )
        page.map.zoom_to_region("whole")
        app.processEvents()

        where = page.map.viewport_point(*unmarked_point(page._rows, bodymap))

        def click() -> None:
            # Stored, and everything it changed painted: the map, the mark list, the counts.
            QTest.mouseClick(page.map.viewport(), Qt.MouseButton.LeftButton, pos=where)
            app.processEvents()
            assert len(page._rows) == MARKS + 1, "the click did not add a mark"

        clicks = []
        for _ in range(40):
            clicks += sample(click, 1, warmup=0)
            page.undo_stack.undo()  # keep the visit at MARKS marks
            app.processEvents()
        assert len(page._rows) == MARKS
        measures.append(
            summarise(
                f"click-to-mark stored and painted, {MARKS} marks on the visit",
                clicks,
                baseline=empty_m.name,
                baseline_median=empty_m.median,
                target="< 16 ms median",
            )
        )
        page.close()
        db.dispose()
    report("bodymap", measures)
