"""Body map: catalog load, first paint, zoom, and click-to-mark stored and painted with 300
marks, on SQLite and on a private PostgreSQL server (fsync off, as the other suites' server).

Each figure is reported with its ratio to a baseline measured in the same run:
reading the catalog JSON for the load, and painting an empty scene of the same size for
painting and clicking. Target (issue: body map): under 16 ms median per click.
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QGraphicsScene, QGraphicsView

from benchmarks.common import (
    Measure,
    QueryCounter,
    report,
    sample,
    spread_marks,
    summarise,
)
from charting.bodymap import load_bodymap, resource_path
from charting.config import sqlite_url
from charting.models.db import Database
from charting.models.migrate import open_database
from charting.services.access import Actor
from charting.services.marks import add_marks
from charting.services.patients import PatientInput, create_patient
from charting.services.practitioners import PractitionerInput, save_practitioner
from charting.services.visits import start_visit
from charting.ui.app import make_application
from charting.ui.bodymap.items import MarkItem, MarkLabel
from charting.ui.ops import OpRunner
from charting.ui.visit_chart import VisitChartPage
from tests.postgres import PostgresCluster

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
        vid = visit_with_marks(db)

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

        # A wheel step in or out, painted: the scale and the repaint. Labels ride along with
        # their marks and the figure is drawn from its picture until the wheel stops (then both
        # are redone, measured below). Alternating keeps the zoom in range.
        steps = iter(range(10_000))

        def zoom_step() -> None:
            if next(steps) % 2:
                page.map.zoom_out()
            else:
                page.map.zoom_in()
            page.map.viewport().repaint()

        measures.append(
            summarise(
                f"zoom step with {MARKS} marks: scale, repaint",
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

        # What the wheel's stop costs, once a turn: labels laid out afresh and the figure,
        # drawn from its picture while the zoom moved, painted crisp at the new scale.
        settles = []
        for _ in range(30):
            zoom_step()
            start = time.perf_counter()
            page.map.layout_labels()
            page.map.viewport().repaint()
            settles.append((time.perf_counter() - start) * 1000)
        measures.append(
            summarise(
                f"zoom settles, {MARKS} marks: labels laid out afresh, crisp repaint (once a turn)",
                settles,
                baseline=empty_m.name,
                baseline_median=empty_m.median,
            )
        )
        page.close()
        measures.append(click_to_mark(db, vid, empty_m, "SQLite", QueryCounter()))
        db.dispose()
    on_postgresql = postgresql_clicks(empty_m)
    if on_postgresql is not None:
        measures.append(on_postgresql)
    report("bodymap", measures)


def visit_with_marks(db: Database) -> int:
    """A draft visit holding the benchmark's marks, on ``db`` (its id)."""
    bodymap = load_bodymap()
    with db.write() as s:
        patient = PatientInput(
            family_name="Bench", given_name="Mark", date_of_birth=date(1970, 1, 1)
        )
        pid, _ = create_patient(s, patient)
        prac, _ = save_practitioner(s, PractitionerInput("Bench Practitioner"))
        vid, _ = start_visit(s, pid, prac)
        add_marks(s, bodymap, vid, spread_marks(bodymap, MARKS, seed=7, acupoints=0.5))
    return vid


def click_to_mark(
    db: Database, vid: int, floor: Measure, backend: str, counter: QueryCounter
) -> Measure:
    """Clicks on the map of a visit with MARKS marks, each stored and painted (then undone)."""
    app = QApplication.instance()
    assert app is not None
    bodymap = load_bodymap()
    page = VisitChartPage(OpRunner(db), bodymap)
    page.resize(*SIZE)
    page.show()
    page.open_visit(vid)
    page.map.zoom_to_region("whole")
    app.processEvents()
    where = clear_spot(page)

    def click() -> None:
        # Stored, and everything it changed painted: the map, the mark list, the counts.
        QTest.mouseClick(page.map.viewport(), Qt.MouseButton.LeftButton, pos=where)
        app.processEvents()
        assert len(page._rows) == MARKS + 1, "the click did not add a mark"

    clicks = []
    statements = []
    for _ in range(40):
        with counter:
            clicks += sample(click, 1, warmup=0)
        statements.append(counter.count)
        page.undo_stack.undo()  # keep the visit at MARKS marks
        app.processEvents()
    assert len(page._rows) == MARKS
    page.close()
    return summarise(
        f"click-to-mark stored and painted, {MARKS} marks on the visit ({backend})",
        clicks,
        baseline=floor.name,
        baseline_median=floor.median,
        target="< 16 ms median",
        queries=statistics.median(statements),
    )


def clear_spot(page: VisitChartPage) -> QPoint:
    """A viewport pixel on an unmarked catalog point that no mark or label covers once the
    labels are laid out (they are laid out again between clicks whenever the delay passes: a
    label landing on the spot would turn the click into a selection)."""
    bodymap = page.bodymap
    page.map.layout_labels()
    marked = [(r.spec.x, r.spec.y) for r in page._rows if r.spec.view == "posterior"]
    points = sorted(
        bodymap.placed_points("posterior"),
        key=lambda p: -min(((p.x - x) ** 2 + (p.y - y) ** 2 for x, y in marked), default=0.0),
    )
    for p in points:
        where = page.map.viewport_point(p.x, p.y)
        around = QRect(where - QPoint(4, 4), QSize(9, 9))
        if page.map.viewport().rect().contains(around) and not any(
            isinstance(item, (MarkItem, MarkLabel)) and item.isVisible()
            for item in page.map.items(around)
        ):
            return where
    raise AssertionError("no free spot to click on")


def postgresql_clicks(floor: Measure) -> Measure | None:
    """Click-to-mark on a private PostgreSQL server (None, with a note, without one)."""
    try:
        cluster = PostgresCluster.create()
        cluster.start()
    except Exception as exc:  # no server installed, or it would not start: say so, go on
        print(f"click-to-mark on PostgreSQL skipped: {exc}")
        return None
    try:
        cluster.execute("CREATE DATABASE bench")
        db = open_database(cluster.url("bench")).database
        db.actor = Actor.system("benchmark")
        try:
            vid = visit_with_marks(db)
            return click_to_mark(
                db, vid, floor, f"PostgreSQL {cluster.version().split()[0]}", QueryCounter()
            )
        finally:
            db.dispose()
    finally:
        cluster.stop()
