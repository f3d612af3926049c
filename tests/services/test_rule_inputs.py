"""What the safety rules read from the record: the patient's position, bloodletting as a
technique, peripheral neuropathy, and recorded depths checked against the needles used."""

from __future__ import annotations

import pytest

from charting.bodymap import load_bodymap
from charting.models.db import Database
from charting.services.errors import ValidationError
from charting.services.marks import (
    MarkDetails,
    MarkSpec,
    add_marks,
    needle_length_mm,
    update_details,
)
from charting.services.patients import health_flags
from charting.services.visit_record import update_fields
from charting.services.visit_safety import context_for, visit_warnings
from charting.services.visits import start_visit
from tests.factories import point_spec

BM = load_bodymap()


@pytest.fixture
def visit(database: Database, make_patient, practitioner_id: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(visit id, BL23 L mark id) on a patient who has fainted with needles and has
    peripheral neuropathy and takes an anticoagulant; 40 mm needles."""
    pid = make_patient(needle_fainting=True, peripheral_neuropathy=True, anticoagulant=True)
    with database.write() as session:
        vid, _ = start_visit(session, pid, practitioner_id)
        update_fields(session, vid, {"needle_length": "0.25 x 40 mm"})
        (mid,), _ = add_marks(session, BM, vid, [point_spec("BL23", "L")])
    return vid, mid


@pytest.mark.parametrize(
    ("text", "mm"),
    [
        ("40 mm", 40.0),
        ("0.25 x 40 mm", 40.0),
        ("0.25x30mm", 30.0),
        ("1.5 in", 38.1),
        ('1"', 25.4),
        ("1.5 cun", 37.5),
        ("4 cm", 40.0),
        ("40", 40.0),
        ("", None),
        ("long ones", None),
    ],
)
def test_needle_lengths_are_read_as_written(text: str, mm: float | None) -> None:
    """Needle lengths written the usual ways are read in millimetres; unreadable ones not."""
    found = needle_length_mm(text)
    assert found == pytest.approx(mm) if mm is not None else found is None


def test_a_depth_beyond_the_needle_is_refused(database: Database, visit: tuple[int, int]) -> None:
    """Recording 45 mm with 40 mm needles is refused with a message naming both; 35 mm is
    stored; shortening the needles below a recorded depth is refused too."""
    vid, mid = visit
    with database.write() as session, pytest.raises(ValidationError) as refused:
        update_details(session, mid, MarkDetails("manual", depth_mm=45))
    message = refused.value.errors["depth_mm"]
    assert "45 mm" in message and "40 mm" in message
    with database.write() as session:
        update_details(session, mid, MarkDetails("manual", depth_mm=35))
    with database.write() as session, pytest.raises(ValidationError) as shorter:
        update_fields(session, vid, {"needle_length": "30 mm"})
    assert "35 mm" in shorter.value.errors["needle_length"]
    with database.write() as session, pytest.raises(ValidationError):
        x, y = BM.position("BL25", "L", "posterior")  # type: ignore[misc]
        add_marks(
            session,
            BM,
            vid,
            [MarkSpec("acupoint", "posterior", x, y, "L", point_code="BL25", depth_mm=50)],
        )


def test_position_bloodletting_and_neuropathy_reach_the_rules(
    database: Database, visit: tuple[int, int]
) -> None:
    """The visit's position (seated) feeds the fainting rule; a mark pricked to bleed makes
    the visit a bloodletting one (blocked with an anticoagulant); neuropathy is a health flag
    that warns about the lower leg and foot."""
    vid, mid = visit
    with database.write() as session:
        update_fields(session, vid, {"patient_position": "seated"})
        update_details(session, mid, MarkDetails("bloodletting"))
        add_marks(session, BM, vid, [point_spec("KI3", "L", view="medial_leg")])
    with database.read() as session:
        context = context_for(session, vid, BM)
        rules = {w.warning.rule for w in visit_warnings(session, vid, BM)}
    assert context.position == "seated" and context.bloodletting
    assert {"fainting-seated", "bleeding-bloodletting", "neuropathy-legs"} <= rules
    assert "fainting-lying" not in rules
    with database.write() as session:
        update_fields(session, vid, {"patient_position": "prone"})
    with database.read() as session:
        rules = {w.warning.rule for w in visit_warnings(session, vid, BM)}
    assert "fainting-lying" in rules and "fainting-seated" not in rules


def test_neuropathy_is_shown_among_the_health_flags(database: Database, make_patient) -> None:  # type: ignore[no-untyped-def]
    """The patient's flags list peripheral neuropathy."""
    from charting.models import Patient

    pid = make_patient(peripheral_neuropathy=True)
    with database.read() as session:
        assert "Peripheral neuropathy" in health_flags(session.get_one(Patient, pid))


def test_the_skin_at_a_site_is_stored_printed_and_signed(
    database: Database, visit: tuple[int, int], practitioner_id: int
) -> None:
    """A mark's skin is stored, printed beside the mark on the summary, refused when not on
    the list, and covered by the signature (format 4)."""
    import io

    from pypdf import PdfReader

    from charting.reports.visit_summary import build_visit_summary
    from charting.services import signatures
    from charting.services.report_data import visit_report

    vid, mid = visit
    with database.write() as session, pytest.raises(ValidationError):
        update_details(session, mid, MarkDetails("manual", skin="sunburnt"))
    with database.write() as session:
        update_details(session, mid, MarkDetails("manual", skin="scar"))
    with database.read() as session:
        report = visit_report(session, vid, BM)
        rows = signatures.load_rows(session, [vid])[vid]
    out = io.BytesIO()
    build_visit_summary(report, BM, out, invariant=True)
    assert "Skin: scar" in "".join(p.extract_text() for p in PdfReader(out).pages)
    assert rows.marks[0]["skin"] == "scar"
    assert "skin" in signatures.content_of(rows, 4)["marks"][0]
    assert "skin" not in signatures.content_of(rows, 3)["marks"][0]
    assert "skin" not in signatures.content_of(rows, 1)["marks"][0]
