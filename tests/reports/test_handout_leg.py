"""The aftercare handout: every back-pain warning sign in plain words, the meal and cupping
advice, a figure of every view treated, headings kept with their text, and the clinic's
paper size."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from charting.bodymap import load_bodymap
from charting.models.db import Database
from charting.reports.handout import build_handout
from charting.reports.visit_summary import build_visit_summary
from charting.services.marks import MarkSpec, add_marks
from charting.services.report_data import visit_report
from charting.services.settings import ClinicSettings, save_settings
from charting.services.visit_record import update_fields
from charting.services.visits import start_visit
from tests.factories import point_spec

BM = load_bodymap()
CREATED = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
HEADINGS = (
    "What we did today",
    "What to expect",
    "After cupping",
    "What to do",
    "Your home advice",
    "When to call us",
    "When to get help straight away",
    "Your next appointment",
)


def _spec(code: str, side: str, view: str) -> MarkSpec:
    x, y = BM.position(code, side, view)  # type: ignore[arg-type, misc]
    return MarkSpec("acupoint", view, x, y, side, point_code=code)


@pytest.fixture
def visit_id(database: Database, make_patient, practitioner_id: int) -> int:  # type: ignore[no-untyped-def]
    """A visit treated on all four views, with cupping and long home advice."""
    with database.write() as session:
        vid, _ = start_visit(session, make_patient(), practitioner_id)
        add_marks(
            session,
            BM,
            vid,
            [
                point_spec("BL23", "L"),
                _spec("ST36", "L", "anterior"),
                _spec("GB34", "R", "lateral_leg"),
                _spec("SP6", "L", "medial_leg"),
                MarkSpec("cupping", "posterior", 400, 700, "L", cup_type="dry", cup_count=4),
            ],
        )
        update_fields(
            session,
            vid,
            {
                "home_advice": ["heat", "walking", "stretches", "posture", "sleep", "lifting"],
                "home_advice_notes": "Walk for ten minutes after lunch and after dinner. " * 6,
            },
        )
    return vid


def _pdf(database: Database, vid: int, builder=build_handout) -> PdfReader:  # type: ignore[no-untyped-def]
    with database.read() as session:
        report = visit_report(session, vid, BM)
    out = io.BytesIO()
    builder(report, BM, out, CREATED, invariant=True)
    return PdfReader(io.BytesIO(out.getvalue()))


def _text(reader: PdfReader) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def test_every_warning_sign_is_in_plain_words(database: Database, visit_id: int) -> None:
    """The emergency and same-day back-pain warning signs, the meal advice and the cupping
    marks' look are all printed."""
    text = _text(_pdf(database, visit_id))
    for expected in (
        "short of breath",
        "numbness around your bottom or genitals",
        "weakness in both legs",
        "lose control of your bladder or bowels",
        "cannot get or keep an erection",
        "serious accident",
        "high temperature",
        "losing weight without trying",
        "a lump or swelling on your back, or your back changes shape",
        "worse at night",
        "when you cough, sneeze or strain",
        "between your shoulder blades",
        "do not come hungry",
        "very large meal",
        "can look like bruises",
    ):
        assert expected in text, expected
    assert "eat normally" not in text


def test_the_figure_shows_every_view_treated(database: Database, visit_id: int) -> None:
    """Points on the front, the outer and the inner leg are drawn beside the back's, each view
    captioned in plain words."""
    first = " ".join(_pdf(database, visit_id).pages[0].extract_text().split())
    for caption in (
        "Your back and legs",
        "The front of your legs",
        "The outer side of your legs",
        "The inner side of your lower legs",
    ):
        assert caption in first, caption
    for label in ("BL23 L", "ST36 L", "GB34 R", "SP6 L"):
        assert label in first, label


def test_no_heading_ends_a_page(database: Database, visit_id: int) -> None:
    """Across page breaks each heading stays with the text under it, however long the
    home advice makes the handout (each length moves the page break somewhere else)."""
    for lines in range(15):
        with database.write() as session:
            update_fields(session, visit_id, {"home_advice_notes": "Walk a little. " * 9 * lines})
        reader = _pdf(database, visit_id)
        for page in reader.pages[:-1]:
            text = [
                line.strip()
                for line in page.extract_text().splitlines()
                if line.strip() and not line.startswith(("Created", "Page ", "Aftercare for"))
            ]
            assert text[-1] not in HEADINGS, (lines, text[-1])


@pytest.mark.parametrize(("paper", "size"), [("A4", (595, 842)), ("Letter", (612, 792))])
def test_documents_use_the_clinics_paper(
    database: Database, visit_id: int, paper: str, size: tuple[int, int]
) -> None:
    """The handout and the summary are laid out on the paper the clinic chose."""
    with database.write() as session:
        save_settings(session, ClinicSettings(clinic_name="Cedar Street", paper_size=paper))
    for builder in (build_handout, build_visit_summary):
        box = _pdf(database, visit_id, builder).pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == size


def test_an_unknown_paper_size_is_refused(database: Database) -> None:
    """Only A4 and Letter can be saved."""
    from charting.services.errors import ValidationError

    with database.write() as session, pytest.raises(ValidationError, match="A4 or Letter"):
        save_settings(session, ClinicSettings(clinic_name="Cedar Street", paper_size="A5"))
