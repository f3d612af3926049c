"""The visit factory stores what it says: a charted visit, draft or signed, with overrides."""

from __future__ import annotations

from datetime import UTC, datetime

from charting.models import Patient, Visit
from charting.models.db import Database
from charting.services import signatures
from charting.services.marks import list_marks
from charting.services.visit_record import ea_pairs, record
from tests.factories import build_visit, make_visit


def test_a_default_visit_is_a_charted_draft_of_a_new_patient(
    database: Database, practitioner_id: int
) -> None:
    """One call: a new patient, the signed-in practitioner, four points, an EA pair on the
    BL23s, dry cupping, pain 7 then 3, still a draft."""
    made = make_visit(database)
    with database.read() as session:
        visit = session.get_one(Visit, made.visit_id)
        assert visit.patient_id == made.patient_id
        assert visit.practitioner_id == made.practitioner_id == practitioner_id
        assert visit.status == "draft"
        marks = list_marks(session, made.visit_id)
        assert [(m.kind, m.spec.point_code, m.spec.side) for m in marks] == [
            ("acupoint", "BL23", "L"),
            ("acupoint", "BL23", "R"),
            ("acupoint", "BL25", "L"),
            ("acupoint", "BL40", "R"),
            ("cupping", None, "L"),
        ]
        assert [m.id for m in marks] == list(made.mark_ids)
        (pair,) = ea_pairs(session, made.visit_id)
        assert (pair.mark_a_id, pair.mark_b_id) == made.mark_ids[:2]
        stored = record(session, made.visit_id)
        assert (stored["pain_now"], stored["pain_after"]) == (7, 3)
        assert stored["chief_complaint"] == "Low back pain"


def test_a_signed_visit_carries_a_valid_signature(database: Database) -> None:
    """``signed=True`` counts the needles out and signs: the signature checks out."""
    made = make_visit(database, signed=True)
    with database.read() as session:
        assert session.get_one(Visit, made.visit_id).status == "signed"
        assert signatures.problems(session, [made.visit_id]) == {made.visit_id: None}


def test_overrides_name_the_patient_points_date_and_fields(
    database: Database, make_patient
) -> None:  # type: ignore[no-untyped-def]
    """Keywords change the patient, the points, the date and any record field; ``bare``
    starts an empty visit for an existing patient."""
    when = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
    with database.write() as session:
        made = build_visit(
            session,
            patient={"family_name": "Okafor", "given_name": "Chidi"},
            points=[("GV4", "M")],
            cupping=(),
            ea=None,
            started_at=when,
            fields={"needle_lot": "L2291", "retention_minutes": 20},
        )
    existing = make_patient(family_name="Silva")
    bare = make_visit(database, patient_id=existing, bare=True)
    with database.read() as session:
        assert session.get_one(Patient, made.patient_id).family_name == "Okafor"
        assert [m.spec.point_code for m in list_marks(session, made.visit_id)] == ["GV4"]
        assert ea_pairs(session, made.visit_id) == [] and made.ea_pair_ids == ()
        stored = record(session, made.visit_id)
        assert (stored["needle_lot"], stored["retention_minutes"]) == ("L2291", 20)
        assert session.get_one(Visit, made.visit_id).started_at.replace(tzinfo=UTC) == when
        assert bare.patient_id == existing and list_marks(session, bare.visit_id) == []
        assert record(session, bare.visit_id)["pain_now"] is None
        assert record(session, bare.visit_id)["chief_complaint"] == ""


def test_bare_drops_the_defaults_but_keeps_what_is_asked_for(database: Database) -> None:
    """``bare=True`` with points given stores those points and nothing else."""
    made = make_visit(database, bare=True, points=[("GV4", "M")], pain_now=5)
    with database.read() as session:
        assert [m.spec.point_code for m in list_marks(session, made.visit_id)] == ["GV4"]
        assert ea_pairs(session, made.visit_id) == []
        stored = record(session, made.visit_id)
        assert (stored["pain_now"], stored["pain_after"], stored["chief_complaint"]) == (
            5,
            None,
            "",
        )
