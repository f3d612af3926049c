"""The printed documents: what the visit summary, handout and course report say."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from charting.bodymap import load_bodymap
from charting.models.db import Database
from charting.reports.course_report import build_course_report
from charting.reports.handout import build_handout
from charting.reports.visit_summary import build_visit_summary
from charting.services.marks import MarkSpec, add_marks, list_marks
from charting.services.report_data import course_report, visit_report
from charting.services.settings import ClinicSettings, save_settings
from charting.services.visit_record import (
    EASettings,
    acknowledge,
    add_adverse_event,
    add_ea_pair,
    amend,
    sign_visit,
    update_fields,
)
from charting.services.visits import start_visit
from tests.factories import count_needles_out, point_spec

BM = load_bodymap()
CREATED = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


def text_of(pdf: bytes) -> str:
    """All text of a PDF, pages joined."""
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def qpdf_check(pdf: bytes, tmp_path: Path) -> None:
    """`qpdf --check` passes on the file."""
    qpdf = shutil.which("qpdf")
    assert qpdf, "qpdf is installed by tools/system-packages.sh"
    path = tmp_path / "check.pdf"
    path.write_bytes(pdf)
    result = subprocess.run([qpdf, "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def charted_visit(database: Database, make_patient, practitioner_id: int) -> int:  # type: ignore[no-untyped-def]
    """A fully charted visit: SOAP, points, EA, cupping, an adverse event, a next appointment."""
    pid = make_patient(family_name="Åberg-Núñez", given_name="Zoë", preferred_name="Zoë")
    with database.write() as session:
        save_settings(
            session,
            ClinicSettings(
                clinic_name="Cedar Street Acupuncture",
                clinic_address="12 Cedar Street\nSpringfield",
                clinic_phone="+1 555 0100",
            ),
        )
        vid, _ = start_visit(
            session, pid, practitioner_id, datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
        )
        ids, _ = add_marks(
            session,
            BM,
            vid,
            [
                point_spec("BL23", "L", depth_mm=25),
                point_spec("BL23", "R", depth_mm=25),
                point_spec("BL40", "R", depth_mm=25),
                MarkSpec(
                    "cupping",
                    "posterior",
                    400,
                    700,
                    "L",
                    cup_type="dry",
                    cup_count=4,
                    cup_minutes=8,
                ),
            ],
        )
        add_ea_pair(
            session,
            vid,
            ids[0],
            ids[1],
            EASettings("Dense-disperse", 2, 1.5, 20, "ITO ES-160", frequency2_hz=100),
        )
        update_fields(
            session,
            vid,
            {
                "chief_complaint": "Low back pain with left sciatica",
                "pain_now": 7,
                "pain_after": 4,
                "retention_minutes": 25,
                "needle_brand": "Seirin J",
                "needle_gauge": "0.25 mm",
                "needle_length": "40 mm",
                "needle_lot": "L2291",
                "icd10_codes": ["M54.42"],
                "tcm_patterns": ["Qi and Blood stagnation"],
                "home_advice": ["heat", "walking"],
                "next_appointment": datetime(2026, 11, 27, 16, 30, tzinfo=UTC),
            },
        )
        add_adverse_event(session, vid, "bruising", "mild", "Pressure applied")
    return vid


def test_visit_summary_says_what_was_done(
    database: Database, charted_visit: int, tmp_path: Path
) -> None:
    """Points with sides, depth, retention, EA, needles, diagnosis and DRAFT are printed."""
    out = io.BytesIO()
    with database.read() as session:
        report = visit_report(session, charted_visit, BM)
    build_visit_summary(report, BM, out, CREATED, invariant=True)
    text = text_of(out.getvalue())
    for expected in (
        "Treatment summary",
        "BL23",
        "left",
        "right",
        "BL40",
        "25 mm",
        "25 min",
        "2/100 Hz",
        "1.5 mA",
        "20 min",
        "ITO ES-160",
        "Seirin J",
        "L2291",
        "M54.42",
        "Lumbago with sciatica, left side",
        "Pain",
        "7",
        "Bruising",
        "Pressure applied",
        "Cedar Street Acupuncture",
        "Chart 000001",
        "Page 1 of",
        "DRAFT",
        "Ana Ruiz, L.Ac.",
        "Åberg-Núñez",
        "Shènshū",
    ):
        assert expected in text, expected
    assert "BL23 L" in text and "BL40 R" in text  # the body-map figure's labels
    qpdf_check(out.getvalue(), tmp_path)


def test_signed_summary_prints_the_hash_and_amendments_after_the_original(
    database: Database, charted_visit: int, practitioner_id: int
) -> None:
    """A signed visit's summary carries its content hash and lists amendments after it."""
    with database.write() as session:
        acknowledge(session, charted_visit, "x", "x", "warning", "x", practitioner_id)
        count_needles_out(session, charted_visit)
        sign_visit(session, charted_visit, practitioner_id)
        amend(
            session,
            charted_visit,
            practitioner_id,
            "chief_complaint",
            "Right sciatica",
            "Side misheard",
        )
    with database.read() as session:
        report = visit_report(session, charted_visit, BM)
    out = io.BytesIO()
    build_visit_summary(report, BM, out, CREATED, invariant=True)
    text = text_of(out.getvalue())
    assert report.visit.content_hash in text.replace("\n", "")
    assert "DRAFT" not in text
    original = text.index("Low back pain with left sciatica")
    assert text.index("Right sciatica") > original
    assert "Side misheard" in text


def test_handout_is_tailored_to_the_visit(
    database: Database, charted_visit: int, tmp_path: Path
) -> None:
    """The handout names today's treatment, cupping care, advice and the next visit."""
    with database.read() as session:
        report = visit_report(session, charted_visit, BM)
    out = io.BytesIO()
    build_handout(report, BM, out, CREATED, invariant=True)
    text = text_of(out.getvalue())
    for expected in (
        "After your treatment today",
        "For Zoë",
        "electrical pulse",
        "about 25 minutes",
        "After cupping",
        "two weeks",
        "Warmth (heat pack)",
        "Do not drive",
        "Do not change any medicine",
        "When to call us",
        "short of breath",
        "Your next appointment",
        "November 2026",
        "+1 555 0100",
    ):
        assert expected in text, expected
    for claim in ("cure", "heal", "toxin"):
        assert claim not in text.lower()
    qpdf_check(out.getvalue(), tmp_path)


def test_handout_without_cupping_leaves_out_cupping_care(
    database: Database, make_patient, practitioner_id: int
) -> None:
    """No cupping today means no cupping paragraph, and no appointment means "call us to book"."""
    with database.write() as session:
        vid, _ = start_visit(session, make_patient(), practitioner_id)
        add_marks(session, BM, vid, [point_spec("GV4", "M", depth_mm=25)])
    with database.read() as session:
        report = visit_report(session, vid, BM)
    out = io.BytesIO()
    build_handout(report, BM, out, CREATED, invariant=True)
    text = text_of(out.getvalue())
    assert "cupping" not in text.lower()
    assert "Not booked yet" in text


def test_course_report_lists_visits_trend_and_points(
    database: Database, make_patient, practitioner_id: int, tmp_path: Path
) -> None:
    """The course report tables the visits of the range and counts each point's visits."""
    pid = make_patient()
    start = datetime(2026, 9, 1, 9, tzinfo=UTC)
    with database.write() as session:
        for i in range(6):
            vid, _ = start_visit(session, pid, practitioner_id, start + timedelta(days=7 * i))
            update_fields(
                session,
                vid,
                {"pain_now": 8 - i, "pain_after": 5 - i // 2, "odi_percent": 40 - 3 * i},
            )
            add_marks(session, BM, vid, [point_spec("BL23", "L", depth_mm=25)])
    with database.read() as session:
        report = course_report(session, pid, BM)
        assert [v.number for v in report.visits] == [1, 2, 3, 4, 5, 6]
    out = io.BytesIO()
    build_course_report(report, BM, out, CREATED, invariant=True, with_visits=True)
    text = text_of(out.getvalue())
    for expected in (
        "Course report",
        "Pain before and after",
        "Outcome scores",
        "BL23",
        "Treatment plan",
        "Treatment summary \u2014 visit 6",
        "Clinically meaningful",
    ):
        assert expected in text, expected
    assert len(PdfReader(io.BytesIO(out.getvalue())).pages) >= 7
    qpdf_check(out.getvalue(), tmp_path)


def test_documents_are_deterministic_with_invariant(database: Database, charted_visit: int) -> None:
    """Two builds of the same visit with invariant=1 give the same bytes."""
    with database.read() as session:
        report = visit_report(session, charted_visit, BM)
    first, second = io.BytesIO(), io.BytesIO()
    build_visit_summary(report, BM, first, CREATED, invariant=True)
    build_visit_summary(report, BM, second, CREATED, invariant=True)
    assert first.getvalue() == second.getvalue()


def test_chinese_names_render(database: Database, make_patient, practitioner_id: int) -> None:
    """A patient named in Chinese characters appears in the PDF text."""
    with database.write() as session:
        vid, _ = start_visit(
            session, make_patient(family_name="王", given_name="小明"), practitioner_id
        )
    with database.read() as session:
        report = visit_report(session, vid, BM)
        assert list_marks(session, vid) == []
    out = io.BytesIO()
    build_visit_summary(report, BM, out, CREATED, invariant=True)
    assert "小明 王" in text_of(out.getvalue())
