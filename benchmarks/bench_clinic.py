"""A large clinic (100,000 patients, 1,000,000 visits, 10,000,000 marks) on SQLite.

Each figure is reported with its ratio to a floor measured in the same run:
- cold start: a bare PySide6 QMainWindow started the same way (a fresh process);
- search per keystroke, opening a chart and opening a visit: the same rows read with the
  equivalent raw SQL through the driver (sqlite3 here, psycopg for PostgreSQL);
- click-to-mark: repainting an empty scene;
- peak memory: the bare QMainWindow's.
The number of SQL statements each screen sends is counted as well: it must not grow with
the number of visits or marks (no N+1).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView

from benchmarks.clinic_data import BENCH_PASSWORD, BENCH_USER, Clinic, sqlite_clinic
from benchmarks.common import Measure, QueryCounter, report, sample, summarise, unmarked_point
from charting.models.db import Database
from charting.models.migrate import open_database
from charting.services.accounts import sign_in
from charting.ui.app import make_application
from charting.ui.main_window import MainWindow

STARTS = int(os.environ.get("BENCH_STARTS", "7"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))

# What a receptionist types, one keystroke at a time (the demo's names are fictional).
TYPING = {
    "name prefix": ("g", "ga", "gar", "garc", "garci", "garcia"),
    "name substring": ("l", "ll", "lle", "ller", "ller a", "ller an", "ller ana"),
    "chart number": ("0", "00", "004", "0042", "00421", "004217"),
}

# The raw SQL each screen boils down to, written by hand: the floor for the app's figure.
PAGE = 64


class RawReader:
    """Reads what a screen shows with hand-written SQL through the bare driver."""

    def __init__(self, connect: Callable[[], Any], placeholder: str) -> None:
        self.conn = connect()
        self.p = placeholder

    def _all(self, sql: str, args: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        cur = self.conn.cursor()
        cur.execute(sql.replace("?", self.p), tuple(args))
        rows = cur.fetchall()
        cur.close()
        return rows

    def search(self, text: str) -> int:
        """Matching ids in list order, then the first screenful of rows with visit counts."""
        if text.isdigit():
            # A prefix of digit strings as a range the index serves: "0042" is from "0042"
            # up to "0043"; the zero-padded chart is found too.
            stem = text.rstrip("9")
            upper = stem[:-1] + str(int(stem[-1]) + 1) if stem else "~"
            ids = self._all(
                "SELECT id FROM patient WHERE deleted_at IS NULL AND "
                "((chart_number >= ? AND chart_number < ?) OR chart_number = ?) "
                "ORDER BY chart_number",
                (text, upper, text.zfill(6)),
            )
        elif text == "":
            ids = self._all(
                "SELECT id FROM patient WHERE deleted_at IS NULL ORDER BY search_key, id"
            )
        else:
            words = text.split()
            where = " AND ".join("search_key LIKE ?" for _ in words)
            ids = self._all(
                f"SELECT id FROM patient WHERE deleted_at IS NULL AND {where} "
                "ORDER BY family_key LIKE ? DESC, search_key, id",
                [f"%{w}%" for w in words] + [words[0] + "%"],
            )
        page = [r[0] for r in ids[:PAGE]]
        if page:
            marks = ",".join("?" * len(page))
            self._all(f"SELECT * FROM patient WHERE id IN ({marks})", page)
            self._all(
                f"SELECT patient_id, count(*) FROM visit WHERE patient_id IN ({marks}) "
                "GROUP BY patient_id",
                page,
            )
        return len(ids)

    def chart(self, patient_id: int) -> int:
        """A patient's details and the list of their visits."""
        self._all("SELECT * FROM patient WHERE id = ?", (patient_id,))
        return len(
            self._all(
                "SELECT v.id, v.number, v.started_at, v.status, v.chief_complaint, v.pain_now, "
                "v.pain_after, p.name FROM visit v JOIN practitioner p ON p.id = "
                "v.practitioner_id WHERE v.patient_id = ? ORDER BY v.number",
                (patient_id,),
            )
        )

    def day(self, start: str, end: str, practitioner_id: int | None = None) -> int:
        """One day's appointments with patient names, flags, earlier visits and visit state."""
        who = "" if practitioner_id is None else f" AND a.practitioner_id = {practitioner_id}"
        return len(
            self._all(
                "SELECT a.id, a.starts_at, a.minutes, a.status, a.reason, p.family_name, "
                "p.given_name, p.chart_number, p.pregnant, p.implanted_device, "
                "p.bleeding_disorder, p.anticoagulant, pr.name, v.status, EXISTS (SELECT 1 FROM "
                "visit e WHERE e.patient_id = a.patient_id AND e.started_at < a.starts_at) "
                "FROM appointment a JOIN patient p ON p.id = a.patient_id JOIN practitioner pr "
                "ON pr.id = a.practitioner_id LEFT JOIN visit v ON v.id = a.visit_id "
                f"WHERE a.starts_at >= ? AND a.starts_at < ?{who} ORDER BY a.starts_at",
                (start, end),
            )
        )

    def visit(self, visit_id: int) -> int:
        """A visit and its marks."""
        self._all("SELECT * FROM visit WHERE id = ?", (visit_id,))
        return len(self._all("SELECT * FROM mark WHERE visit_id = ? ORDER BY id", (visit_id,)))


# -- cold start and memory (separate processes) -------------------------------------------
def cold_start(clinic: Clinic) -> list[Measure]:
    """Start-up to the main window, against a bare QMainWindow; and peak memory."""
    home = Path(tempfile.mkdtemp(prefix="charting-bench-home-"))
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "CHARTING_PASSWORD": BENCH_PASSWORD,
    }
    fx = clinic.fixtures
    app_cmd = [
        *(sys.executable, "-m", "benchmarks.startup_probe", "app", clinic.url, BENCH_USER),
        *(str(fx.long_course_patient), str(fx.visit_60_marks)),
    ]
    bare_cmd = [sys.executable, "-m", "benchmarks.startup_probe", "bare"]

    def probe(cmd: list[str]) -> dict[str, float]:
        started = time.time()
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        data: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
        timed = ("login", "clicked", "main")
        return {k: (v - started) * 1000 if k in timed else v for k, v in data.items()}

    probe(app_cmd)  # the first start of the day makes the daily backup: not a typical start
    probe(bare_cmd)
    bare: list[dict[str, float]] = []
    app: list[dict[str, float]] = []
    typed: list[dict[str, float]] = []
    for _ in range(STARTS):
        bare.append(probe(bare_cmd))
        app.append(probe(app_cmd))
        typed.append(probe([*app_cmd, "typed"]))
    floor = summarise(
        "floor: bare QMainWindow, process start to window shown", [b["main"] for b in bare]
    )
    login = summarise(
        "cold start: process start to the sign-in window shown", [a["login"] for a in app]
    ).against(floor)
    main = summarise(
        "cold start: to the main window shown (sign-in answered at once)",
        [a["main"] for a in app],
        target="<= 1.5x",
    ).against(floor)
    click = summarise(
        "sign-in: click to the main window shown (database opened while typing)",
        [t["main"] - t["clicked"] for t in typed],
    )
    mem_floor = summarise(
        "floor: bare QMainWindow peak memory", [b["peak_mb"] for b in bare], unit="MB"
    )
    memory = summarise(
        "peak memory: chart and 60-mark visit opened, whole list scrolled",
        [a["peak_mb"] for a in app],
        unit="MB",
        target="<= 300 MB",
    ).against(mem_floor)
    return [floor, login, main, click, mem_floor, memory]


# -- in-process screens ------------------------------------------------------------------
def _type(window: MainWindow, text: str) -> None:
    """The search box holds ``text`` and the list shows its result (no typing pause)."""
    window.search.setText(text)
    window.patient_search.apply_search()
    window.patient_list.viewport().repaint()


def _alternating(
    show: Callable[[int], None],
    read_raw: Callable[[int], object],
    wanted: int,
    other: int,
    counter: QueryCounter,
    name: str,
    floor_name: str,
) -> list[Measure]:
    """Open ``wanted`` right after ``other`` (a real opening each time, not a refresh), and
    read the same rows with raw SQL; the floor, the measure and its statement count."""
    times: list[float] = []
    raw_times: list[float] = []
    for _ in range(ROUNDS * 3):
        show(other)
        times += sample(lambda: show(wanted), 1, warmup=0)
        raw_times += sample(lambda: read_raw(wanted), 1, warmup=0)
    show(other)
    with counter:
        show(wanted)
    floor = summarise(floor_name, raw_times)
    measure = summarise(name, times, target="<= 100 ms", queries=counter.count)
    return [floor, measure.against(floor)]


def _keystrokes(
    window: MainWindow, raw: RawReader, counter: QueryCounter, label: str, typed: Sequence[str]
) -> list[Measure]:
    app_times: list[float] = []
    raw_times: list[float] = []
    for _ in range(ROUNDS):
        for text in typed:
            app_times += sample(lambda t=text: _type(window, t), 1, warmup=0)  # type: ignore[misc]
            raw_times += sample(lambda t=text: raw.search(t), 1, warmup=0)  # type: ignore[misc]
        _type(window, "")
    with counter:
        _type(window, typed[-1])
    floor = summarise(f"floor: raw SQL for a {label} keystroke", raw_times)
    return [
        floor,
        summarise(
            f"search per keystroke, {label} ({' > '.join(typed)})",
            app_times,
            target="<= 30 ms, <= 2x",
            queries=counter.count,
        ).against(floor),
    ]


def _day_list(
    window: MainWindow, raw: RawReader, counter: QueryCounter, sqlite: bool
) -> list[Measure]:
    """Today's list (the start page) opened for the whole clinic and for one practitioner."""
    from PySide6.QtCore import QDate
    from sqlalchemy import func, select

    from charting.models import Appointment
    from charting.services.appointments import local_day_bounds

    day = window.clinic_day.day_list
    # The demo books the week it was built in: measure its busiest weekday (the first one)
    # so a cached clinic measures the same day whenever the suite runs.
    with window.database.read() as s:
        first = s.scalar(select(func.min(Appointment.starts_at)))
    shown = first.astimezone().date() if first is not None else datetime.now().date()
    day.date.setDate(QDate(shown.year, shown.month, shown.day))
    start, end = local_day_bounds(shown)
    # SQLite stores naive UTC text; PostgreSQL takes the aware values.
    bounds = (
        [x.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ") for x in (start, end)]
        if sqlite
        else [start, end]
    )
    # One practitioner: the one with the most appointments that day (a full list to show).
    with window.database.read() as s:
        busiest = s.scalar(
            select(Appointment.practitioner_id)
            .where(Appointment.starts_at >= start, Appointment.starts_at < end)
            .group_by(Appointment.practitioner_id)
            .order_by(func.count().desc())
            .limit(1)
        )
    one = max(day.practitioner.findData(busiest), 1)
    measures: list[Measure] = []
    for label, index in (("the whole clinic", 0), ("one practitioner", one)):
        day.practitioner.setCurrentIndex(index)
        pid = day.practitioner_id

        def show() -> None:
            window.clinic_day.show_today()
            day.table.viewport().repaint()

        times = sample(show, ROUNDS * 4, warmup=2)
        floor = summarise(
            f"floor: raw SQL for today's appointments of {label}",
            sample(lambda p=pid: raw.day(*bounds, p), ROUNDS * 4, warmup=2),  # type: ignore[misc]
        )
        with counter:
            show()
        rows = day.model.rowCount()
        measures += [
            floor,
            summarise(
                f"open today's list of {label} ({rows} appointments)",
                times,
                target="<= 100 ms",
                queries=counter.count,
            ).against(floor),
        ]
    day.practitioner.setCurrentIndex(0)
    return measures


def screens(database: Database, clinic: Clinic, raw: RawReader, suffix: str = "") -> list[Measure]:
    """Search, chart open and visit open through the main window, with query counts."""
    app = make_application()
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "bench.ini"), QSettings.Format.IniFormat)
    window = MainWindow(database, settings)
    window.resize(1400, 900)
    window.show()
    app.processEvents()
    counter = QueryCounter()
    fx = clinic.fixtures
    measures: list[Measure] = []

    for label, typed in TYPING.items():
        measures += _keystrokes(window, raw, counter, label, typed)

    def clear() -> None:
        _type(window, "")

    everyone = sample(clear, ROUNDS * 2, warmup=1)
    floor = summarise(
        f"floor: raw SQL listing all {clinic.patients:,} patients",
        sample(lambda: raw.search(""), ROUNDS * 2, warmup=1),
    )
    with counter:
        clear()
    measures += [
        floor,
        summarise(
            f"empty search: list all {clinic.patients:,} patients",
            everyone,
            target="<= 30 ms, <= 2x",
            queries=counter.count,
        ).against(floor),
    ]

    measures += _day_list(window, raw, counter, database.is_sqlite)

    def open_chart(pid: int) -> None:
        window.select_patient(pid)
        window.patient_panel.repaint()

    long, typical = fx.long_course_patient, fx.typical_patient
    for pid, visits, other in ((long, 200, typical), (typical, fx.typical_visits, long)):
        measures += _alternating(
            open_chart,
            raw.chart,
            pid,
            other,
            counter,
            f"open a patient's chart with {visits} visits",
            f"floor: raw SQL for a chart with {visits} visits",
        )

    # Visits: the 60-mark visit against a typical one (and back), as a practitioner would.
    window.select_patient(fx.long_course_patient)
    with database.read() as s:
        from sqlalchemy import func, select

        from charting.models import Mark, Visit

        typical_visit, typical_marks = s.execute(
            select(Visit.id, func.count(Mark.id))
            .join(Mark, Mark.visit_id == Visit.id)
            .where(Visit.patient_id == fx.typical_patient)
            .group_by(Visit.id)
            .order_by(Visit.id)
            .limit(1)
        ).one()

    def open_visit(vid: int) -> None:
        window.open_visit(vid)
        chart = window.visit_chart
        assert chart is not None
        chart.map.viewport().repaint()

    for vid, marks, other in (
        (fx.visit_60_marks, 60, typical_visit),
        (typical_visit, typical_marks, fx.visit_60_marks),
    ):
        measures += _alternating(
            open_visit,
            raw.visit,
            vid,
            other,
            counter,
            f"open a visit with {marks} marks on the body map",
            f"floor: raw SQL for a visit with {marks} marks",
        )

    # Click-to-mark on a visit that already has 300 marks.
    open_visit(fx.visit_300_marks)
    page = window.visit_chart
    assert page is not None
    empty_view = QGraphicsView(QGraphicsScene(0, 0, 860, 1790))
    empty_view.resize(page.map.size())
    empty_view.show()
    app.processEvents()
    empty = summarise("floor: repaint an empty scene", sample(empty_view.viewport().repaint, 60))
    app.processEvents()  # the page laid out at its real size before finding the point
    where = page.map.viewport_point(*unmarked_point(page._rows, page.bodymap))

    def click() -> None:
        # Stored, and everything it changed painted: the map, the mark list, the counts.
        QTest.mouseClick(page.map.viewport(), Qt.MouseButton.LeftButton, pos=where)
        app.processEvents()
        assert len(page._rows) == 301, "the click did not add a mark"

    full = summarise(
        "repaint the whole map, 300 marks on the visit",
        sample(page.map.viewport().repaint, 60),
    ).against(empty)

    clicks: list[float] = []
    for _ in range(40):
        clicks += sample(click, 1, warmup=0)
        page.undo_stack.undo()  # keep the visit at 300 marks
        app.processEvents()
    with counter:
        click()
    page.undo_stack.undo()
    measures += [
        empty,
        full,
        summarise(
            "click-to-mark stored and painted, 300 marks on the visit",
            clicks,
            target="<= 16 ms",
            queries=counter.count,
        ).against(empty),
    ]
    window.close()
    return measures


def run() -> None:
    """Measure and report."""
    clinic = sqlite_clinic()
    print(f"clinic: {clinic.patients:,} patients, {clinic.visits:,} visits, {clinic.marks:,} marks")
    measures = cold_start(clinic)
    opened = open_database(clinic.url)
    database = opened.database
    database.actor = sign_in(database, BENCH_USER, BENCH_PASSWORD)
    path = database.sqlite_path
    assert path is not None
    raw = RawReader(lambda: sqlite3.connect(path), "?")
    try:
        measures += screens(database, clinic, raw)
    finally:
        database.dispose()
    report(
        "clinic",
        measures,
        context={"patients": clinic.patients, "visits": clinic.visits, "marks": clinic.marks},
    )
