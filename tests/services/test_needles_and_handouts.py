"""A visit signs only with every needle accounted for; handouts are events beside the visit."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from charting.bodymap import load_bodymap
from charting.models import Visit
from charting.models.db import Database
from charting.reports.visit_summary import build_visit_summary
from charting.services.audit import search
from charting.services.errors import ValidationError
from charting.services.handouts import handout_issues, record_handout
from charting.services.marks import MarkSpec, add_marks
from charting.services.report_data import visit_report
from charting.services.visit_record import (
    NeedleCountError,
    adverse_events,
    resolve_needle_count,
    sign_visit,
    update_fields,
)
from charting.services.visits import start_visit
from tests.factories import count_needles_out, point_spec

BM = load_bodymap()


@pytest.fixture
def eight(database: Database, make_patient, practitioner_id: int) -> int:  # type: ignore[no-untyped-def]
    """A draft with 8 needles in (BL23, BL25, BL40, GB30... from the map)."""
    codes = [("BL23", "L"), ("BL23", "R"), ("BL25", "L"), ("BL25", "R"), ("BL40", "L")]
    codes += [("BL40", "R"), ("GB30", "R"), ("BL26", "L")]
    with database.write() as session:
        vid, _ = start_visit(session, make_patient(), practitioner_id)
        add_marks(session, BM, vid, [point_spec(c, s) for c, s in codes])
    return vid


def _sign(database: Database, vid: int, practitioner_id: int) -> None:
    with database.write() as session:
        sign_visit(session, vid, practitioner_id)


def _status(database: Database, vid: int) -> str:
    with database.read() as session:
        return session.get_one(Visit, vid).status


def _summary(database: Database, vid: int) -> str:
    with database.read() as session:
        report = visit_report(session, vid, BM)
    out = io.BytesIO()
    build_visit_summary(report, BM, out, invariant=True)
    reader = PdfReader(io.BytesIO(out.getvalue()))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def test_eight_in_seven_out_does_not_sign(
    database: Database, eight: int, practitioner_id: int
) -> None:
    """8 needles in and 7 out is refused with the counts, and so is an uncounted visit."""
    with pytest.raises(NeedleCountError, match="not been counted"):
        _sign(database, eight, practitioner_id)
    with database.write() as session:
        update_fields(session, eight, {"needles_out": 7})
    with pytest.raises(NeedleCountError, match="8 needles went in and 7 came out: 1 not"):
        _sign(database, eight, practitioner_id)
    assert _status(database, eight) == "draft"


def test_found_and_removed_lets_it_sign_and_prints(
    database: Database, eight: int, practitioner_id: int
) -> None:
    """A needle found and removed, recorded with where, lets the visit sign; the summary says
    so beside the counts."""
    with database.write() as session:
        update_fields(session, eight, {"needles_out": 7})
        resolve_needle_count(session, eight, "found_removed", "Found in the gown, removed")
    _sign(database, eight, practitioner_id)
    assert _status(database, eight) == "signed"
    text = _summary(database, eight)
    assert "8 in, 7 out (resolved:" in text and "found and removed" in text
    assert "Found in the gown" in text


def test_a_missing_needle_as_an_adverse_event_needs_what_the_patient_was_told(
    database: Database, eight: int, practitioner_id: int
) -> None:
    """Recording the missing needle as an adverse event needs the words said to the patient;
    it adds a forgotten-needle event carrying them, and the visit signs."""
    with database.write() as session:
        update_fields(session, eight, {"needles_out": 7})
    with pytest.raises(ValidationError, match="patient was told"), database.write() as s:
        resolve_needle_count(s, eight, "adverse_event", "Not found after search")
    with database.write() as session:
        resolve_needle_count(
            session,
            eight,
            "adverse_event",
            "Not found after a full search of the couch and room",
            patient_told="Told to check the skin at home and call if anything is felt",
            severity="mild",
        )
    _sign(database, eight, practitioner_id)
    with database.read() as session:
        (event,) = adverse_events(session, eight)
    assert event.kind == "forgotten_needle" and event.patient_told.startswith("Told to check")
    assert "Told to check the skin at home" in _summary(database, eight)


def test_a_resolution_no_longer_holds_when_the_counts_change(
    database: Database, eight: int, practitioner_id: int
) -> None:
    """A resolution recorded for 8 in / 7 out does not cover 8 in / 6 out."""
    with database.write() as session:
        update_fields(session, eight, {"needles_out": 7})
        resolve_needle_count(session, eight, "found_removed", "Found on the floor")
        update_fields(session, eight, {"needles_out": 6})
    with pytest.raises(NeedleCountError, match="2 not accounted"):
        _sign(database, eight, practitioner_id)


def test_cupping_only_needs_no_needle_count(
    database: Database, make_patient, practitioner_id: int
) -> None:
    """A visit with cupping and no needles signs without a needle count."""
    x, y = BM.position("BL25", "L", "posterior")  # type: ignore[misc]
    with database.write() as session:
        vid, _ = start_visit(session, make_patient(), practitioner_id)
        add_marks(session, BM, vid, [MarkSpec("cupping", "posterior", x, y, "L")])
    _sign(database, vid, practitioner_id)
    assert _status(database, vid) == "signed"


def test_a_handout_given_after_signing_is_kept_audited_and_printed(
    database: Database, eight: int, practitioner_id: int
) -> None:
    """Printing the handout after signing records an event (the signed record is untouched);
    the audit log has it and the summary lists it with who gave it."""
    with database.write() as session:
        count_needles_out(session, eight)
        sign_visit(session, eight, practitioner_id)
    with database.write() as session:
        record_handout(session, eight, "printed")
    with database.read() as session:
        (given,) = handout_issues(session, eight)
        logged = search(session, action="handout_issue")
    assert given.how == "printed" and given.by == "Ana Ruiz"
    assert len(logged) == 1
    text = _summary(database, eight)
    assert "printed by Ana Ruiz" in text
    assert "ALTERED" not in text
