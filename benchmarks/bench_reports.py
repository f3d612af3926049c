"""Documents: a course report trend chart drawn on a canvas (CPU); visit summary, 50-visit
course report and handout, each against a bare ReportLab document of the same page count
built in the same run; and a 1,000-patient export's throughput with both cores (CPU use of
all processes over wall time)."""

from __future__ import annotations

import io
import os
import resource
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

from benchmarks.common import DescendantsCpu, Measure, report, sample, summarise
from charting.bodymap import load_bodymap
from charting.config import sqlite_url
from charting.jobs.export import run_export, unchecked_graphics
from charting.models.migrate import open_database
from charting.reports.course_report import AFTER, BEFORE, build_course_report, trend_chart
from charting.reports.fonts import register_fonts
from charting.reports.handout import build_handout
from charting.reports.visit_summary import build_visit_summary
from charting.services.access import Actor
from charting.services.demo import create_demo_clinic
from charting.services.exports import select_patient_ids
from charting.services.marks import MarkSpec, add_marks
from charting.services.patients import PatientInput, create_patient
from charting.services.practitioners import PractitionerInput, save_practitioner
from charting.services.report_data import course_report, visit_report
from charting.services.visit_record import EASettings, add_ea_pair, update_fields
from charting.services.visits import start_visit

EXPORT_PATIENTS = int(os.environ.get("BENCH_EXPORT_PATIENTS", "1000"))


def _bare(pages: int) -> bytes:
    """A plain ReportLab document with ``pages`` pages of one paragraph each."""
    out = io.BytesIO()
    style = getSampleStyleSheet()["Normal"]
    story: list[object] = []
    for i in range(pages):
        if i:
            story.append(PageBreak())
        story.append(Paragraph(f"Page {i + 1}", style))
    SimpleDocTemplate(out, pagesize=A4).build(story)  # type: ignore[arg-type]
    return out.getvalue()


def _pages(build) -> int:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    build(out)
    return len(PdfReader(io.BytesIO(out.getvalue())).pages)


def _against_bare(name: str, build, runs: int) -> list[Measure]:  # type: ignore[no-untyped-def]
    pages = _pages(build)
    bare = summarise(
        f"baseline: bare ReportLab document, {pages} pages", sample(lambda: _bare(pages), runs)
    )
    return [
        bare,
        summarise(
            f"{name} ({pages} pages)",
            sample(lambda: build(io.BytesIO()), runs),
            baseline=bare.name,
            baseline_median=bare.median,
        ),
    ]


def trend_chart_cpu(rounds: int = 7, charts: int = 200) -> Measure:
    """CPU time to build one course-report trend chart (two series of 8 visits) and draw it
    on a PDF canvas, as an export worker does (shape checks off); the median of ``rounds``
    rounds of ``charts`` charts."""
    register_fonts()
    unchecked_graphics()
    series = [
        ("Before", BEFORE, [(i, float((i * 7) % 10)) for i in range(1, 9)]),
        ("After", AFTER, [(i, float((i * 3) % 10)) for i in range(1, 9)]),
    ]
    canvas = Canvas(io.BytesIO())
    for _ in range(20):
        trend_chart(series, 480, 150, 10, "Pain (0-10)").drawOn(canvas, 50, 50)
    times = []
    for _ in range(rounds):
        canvas = Canvas(io.BytesIO())
        start = time.process_time()
        for _ in range(charts):
            trend_chart(series, 480, 150, 10, "Pain (0-10)").drawOn(canvas, 50, 50)
        times.append((time.process_time() - start) * 1000 / charts)
    return summarise(
        "course report trend chart, built and drawn on a PDF canvas (CPU ms)",
        times,
        target="< 0.6 ms (3.3 ms with ReportLab's LinePlot and Legend)",
    )


def run() -> None:
    """Measure and report."""
    bm = load_bodymap()
    measures: list[Measure] = [trend_chart_cpu()]
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(sqlite_url(Path(tmp) / "bench.sqlite3")).database
        db.actor = Actor.system("benchmark")
        # The export's demo patients first: the demo clinic is never added to a file that
        # holds other patients (the course below).
        with db.write() as s:
            create_demo_clinic(s, EXPORT_PATIENTS, 4)
        with db.read() as s:
            demo_ids = select_patient_ids(s)
        with db.write() as s:
            pid, _ = create_patient(
                s,
                PatientInput(
                    family_name="Bench", given_name="Course", date_of_birth=date(1970, 1, 1)
                ),
            )
            prac, _ = save_practitioner(s, PractitionerInput("Bench Practitioner", "L.Ac."))
            start = datetime(2025, 1, 6, 9, tzinfo=UTC)
            for i in range(50):
                vid, _ = start_visit(s, pid, prac, start + timedelta(days=7 * i))
                specs = []
                for code, side in (
                    ("BL23", "L"),
                    ("BL23", "R"),
                    ("BL25", "L"),
                    ("BL25", "R"),
                    ("GB30", "L"),
                    ("BL40", "L"),
                    ("BL40", "R"),
                    ("GV4", "M"),
                ):
                    x, y = bm.position(code, side, "posterior")  # type: ignore[arg-type, misc]
                    specs.append(MarkSpec("acupoint", "posterior", x, y, side, point_code=code))
                ids, _ = add_marks(s, bm, vid, specs)
                add_ea_pair(
                    s,
                    vid,
                    ids[0],
                    ids[2],
                    EASettings("Dense-disperse", 2, 1.5, 20, frequency2_hz=100),
                )
                update_fields(
                    s,
                    vid,
                    {
                        "pain_now": 8 - i % 5,
                        "pain_after": 4,
                        "odi_percent": 40,
                        "retention_minutes": 25,
                    },
                )
        with db.read() as s:
            single = visit_report(s, vid, bm)
            course = course_report(s, pid, bm)
        measures += _against_bare("visit summary", lambda t: build_visit_summary(single, bm, t), 15)
        measures += _against_bare("aftercare handout", lambda t: build_handout(single, bm, t), 15)
        measures += _against_bare(
            "course report, 50 visits", lambda t: build_course_report(course, bm, t), 5
        )

        ids = demo_ids
        cores = os.cpu_count() or 1
        before_self = resource.getrusage(resource.RUSAGE_SELF)
        # Every descendant's CPU: workers forked by a server are not this process's children.
        descendants = DescendantsCpu()
        started = time.perf_counter()
        result = run_export(db, ids, Path(tmp) / "out", ["pdf"], workers=cores)
        wall = time.perf_counter() - started
        after_self = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (
            (after_self.ru_utime + after_self.ru_stime)
            - (before_self.ru_utime + before_self.ru_stime)
            + descendants.seconds()
        )
        per_patient = summarise(
            f"PDF export, {result.patients} patients on {cores} cores: wall ms per patient",
            [wall * 1000 / result.patients],
        )
        measures.append(per_patient)
        measures.append(
            summarise(
                f"  CPU busy: {100 * cpu / (wall * cores):.0f}% of {cores} cores "
                f"({result.patients / wall:.1f} patients/s)",
                [wall * 1000],
            )
        )
        db.dispose()
    report("reports", measures)
