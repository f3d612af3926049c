"""The visit record: per-field validation, EA pairs, adverse events, signing and amendments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from charting.bodymap import load_bodymap
from charting.models import Visit
from charting.models.db import Database
from charting.services.errors import ServiceError, ValidationError
from charting.services.marks import MarkSpec, SignedVisitError, add_marks, list_marks
from charting.services.outcomes import changes_from_baseline, course
from charting.services.signatures import content_hash
from charting.services.visit_record import (
    EASettings,
    acknowledge,
    add_adverse_event,
    add_ea_pair,
    amend,
    amendments,
    ea_pairs,
    needles_in,
    record,
    remembered_values,
    sign_visit,
    update_fields,
    verify_signature,
)
from charting.services.visits import start_visit
from tests.factories import count_needles_out, point_spec

BM = load_bodymap()


@pytest.fixture
def visit(database: Database, make_patient, practitioner_id: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(visit id, patient id) of a draft visit with BL23 L/R and a cupping site."""
    pid = make_patient()
    with database.write() as session:
        vid, _ = start_visit(session, pid, practitioner_id)
        add_marks(
            session,
            BM,
            vid,
            [
                point_spec("BL23", "L"),
                point_spec("BL23", "R"),
                MarkSpec("cupping", "posterior", 400, 700, "L"),
            ],
        )
    return vid, pid


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("pain_now", 11, "between 0 and 10"),
        ("pain_after", -1, "between 0 and 10"),
        ("pain_now", 4.5, "whole number"),
        ("retention_minutes", 600, "between 0 and 240"),
        ("odi_percent", 101, "between 0 and 100"),
        ("rmdq_score", 25, "between 0 and 24"),
        ("icd10_codes", ["M54.5"], "unknown"),
        ("red_flags", ["made_up"], "unknown"),
        ("psfs", [{"activity": "Walking", "score": 12}], "0 (unable) to 10"),
        ("next_appointment", datetime(2000, 1, 1, tzinfo=UTC), "after this visit"),
        ("no_such_field", "x", "not a field"),
    ],
)
def test_out_of_range_values_are_refused_and_the_rest_still_saves(
    database: Database, visit: tuple[int, int], field: str, value: object, fragment: str
) -> None:
    """A bad value is refused with a message naming the problem; other fields keep saving."""
    vid, _ = visit
    with pytest.raises(ValidationError) as info, database.write() as session:
        update_fields(session, vid, {field: value})
    assert fragment in info.value.errors[field]
    with database.write() as session:
        update_fields(session, vid, {"pain_now": 7, "chief_complaint": "Low back pain"})
    with database.read() as session:
        stored = record(session, vid)
    assert stored["pain_now"] == 7 and stored["chief_complaint"] == "Low back pain"


def test_fields_round_trip(database: Database, visit: tuple[int, int]) -> None:
    """Every kind of field is stored and read back as entered."""
    vid, _ = visit
    soon = datetime.now(UTC) + timedelta(days=7)
    values = {
        "pain_now": 7,
        "pain_after": 3,
        "red_flags": ["night_pain"],
        "referral_decision": "Referred to GP / physician (routine)",
        "icd10_codes": ["M54.50", "M54.42"],
        "tcm_patterns": ["Qi and Blood stagnation"],
        "needle_expiry": date(2028, 5, 1),
        "heat_lamp": True,
        "next_appointment": soon,
        "psfs": [{"activity": "Walking the dog", "score": 4}],
        "retention_minutes": 25,
    }
    with database.write() as session:
        update_fields(session, vid, values)
    with database.read() as session:
        stored = record(session, vid)
    assert {k: stored[k] for k in values} == values
    with database.read() as session:
        assert needles_in(session, vid) == 2


def test_needle_product_is_remembered_from_the_previous_visit(
    database: Database, visit: tuple[int, int], practitioner_id: int
) -> None:
    """A new visit offers the last visit's needle brand, size, lot and expiry."""
    vid, pid = visit
    with database.write() as session:
        update_fields(
            session,
            vid,
            {"needle_brand": "Seirin J", "needle_lot": "L2291", "needle_expiry": date(2028, 1, 31)},
        )
        second, _ = start_visit(session, pid, practitioner_id)
    with database.read() as session:
        assert remembered_values(session, second) == {
            "needle_brand": "Seirin J",
            "needle_lot": "L2291",
            "needle_expiry": date(2028, 1, 31),
        }


def test_ea_pair_needs_two_needles_of_the_visit_and_sane_settings(
    database: Database, visit: tuple[int, int]
) -> None:
    """An EA pair joins two needles with valid settings; one mark or absurd Hz is refused."""
    vid, _ = visit
    with database.read() as session:
        left, right, cup = (r.id for r in list_marks(session, vid))
    with pytest.raises(ValidationError, match="two different"), database.write() as session:
        add_ea_pair(session, vid, left, left, EASettings())
    with pytest.raises(ValidationError, match="cupping"), database.write() as session:
        add_ea_pair(session, vid, left, cup, EASettings())
    with pytest.raises(ValidationError, match="Frequency"), database.write() as session:
        add_ea_pair(session, vid, left, right, EASettings(frequency_hz=5000))
    with database.write() as session:
        add_ea_pair(
            session,
            vid,
            left,
            right,
            EASettings("Dense-disperse", 2.0, 1.5, 20, "ITO", frequency2_hz=100.0),
        )
    with database.read() as session:
        (pair,) = ea_pairs(session, vid)
        assert (pair.frequency_hz, pair.frequency2_hz, pair.minutes, pair.device) == (
            2.0,
            100.0,
            20,
            "ITO",
        )
        assert {r.spec.technique for r in list_marks(session, vid)[:2]} == {"electro"}


def test_signing_locks_the_visit_and_amendments_keep_the_original(
    database: Database, visit: tuple[int, int], practitioner_id: int
) -> None:
    """After signing, edits are refused by the service; an amendment sits beside the original."""
    vid, _ = visit
    with database.write() as session:
        update_fields(session, vid, {"chief_complaint": "Left sciatica", "pain_now": 6})
        add_adverse_event(session, vid, "bruising", "mild", "Pressure applied")
    with pytest.raises(ServiceError, match="own practitioner"), database.write() as session:
        sign_visit(session, vid, practitioner_id + 99)
    with database.write() as session:
        count_needles_out(session, vid)
        sign_visit(session, vid, practitioner_id)
    with database.read() as session:
        signed = session.get(Visit, vid)
        assert signed is not None and signed.status == "signed"
        assert len(signed.content_hash) == 64
        assert verify_signature(session, vid)
    for change in (
        lambda s: update_fields(s, vid, {"pain_now": 2}),
        lambda s: add_adverse_event(s, vid, "pain", "mild"),
        lambda s: add_marks(s, BM, vid, [point_spec("BL25", "L")]),
    ):
        with pytest.raises(SignedVisitError), database.write() as session:
            change(session)
    with database.write() as session:
        amend(session, vid, practitioner_id, "chief_complaint", "Right sciatica", "Side misheard")
    with database.read() as session:
        assert record(session, vid)["chief_complaint"] == "Left sciatica"
        (a,) = amendments(session, vid)
        assert (a.original, a.corrected, a.reason) == (
            "Left sciatica",
            "Right sciatica",
            "Side misheard",
        )
        assert verify_signature(session, vid)


def test_tampering_with_a_signed_visit_breaks_its_hash(
    database: Database, visit: tuple[int, int], practitioner_id: int
) -> None:
    """Changing a signed visit behind the app's back no longer matches the stored hash."""
    vid, _ = visit
    with database.write() as session:
        count_needles_out(session, vid)
        sign_visit(session, vid, practitioner_id)
        before = content_hash(session, vid)
    with database.write() as session:
        session.connection().exec_driver_sql(f"UPDATE visit SET pain_now = 9 WHERE id = {vid}")
    with database.read() as session:
        assert content_hash(session, vid) != before
        assert not verify_signature(session, vid)


def test_blocking_warnings_need_a_reason_before_signing(
    database: Database, visit: tuple[int, int], practitioner_id: int
) -> None:
    """A block is overridden only with a reason, and signing waits for it."""
    vid, _ = visit
    with pytest.raises(ValidationError, match="why"), database.write() as session:
        acknowledge(session, vid, "device-ea", "device-ea", "block", "Pacemaker", practitioner_id)
    with pytest.raises(ServiceError, match="Pacemaker"), database.write() as session:
        sign_visit(session, vid, practitioner_id, lambda s, v: ["Pacemaker and EA"])
    with database.write() as session:
        acknowledge(
            session,
            vid,
            "device-ea",
            "device-ea",
            "block",
            "Pacemaker",
            practitioner_id,
            "Cardiologist cleared EA below the waist in writing",
        )
        count_needles_out(session, vid)
        sign_visit(session, vid, practitioner_id, lambda s, v: [])


def test_outcome_change_from_baseline(
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """Pain 8 -> 4 is -4 points, -50% and meaningful; ODI 40 -> 34 is not (< 10 points, 15%)."""
    pid = make_patient(given_name="Outcome")
    scores = [
        (8, 40, [{"activity": "Walking", "score": 3}]),
        (6, 38, []),
        (4, 34, [{"activity": "Walking", "score": 7}]),
    ]
    with database.write() as session:
        for pain, odi, psfs in scores:
            vid, _ = start_visit(session, pid, practitioner_id)
            update_fields(session, vid, {"pain_now": pain, "odi_percent": odi, "psfs": psfs})
    with database.read() as session:
        changes = {c.measure.key: c for c in changes_from_baseline(course(session, pid))}
    pain = changes["pain_now"]
    assert (pain.baseline, pain.latest, pain.points, pain.percent) == (8, 4, -4, -50)
    assert pain.meaningful
    odi = changes["odi_percent"]
    assert odi.points == -6 and round(odi.percent or 0) == -15 and not odi.meaningful
    psfs = changes["psfs"]
    assert psfs.points == 4 and psfs.improved and psfs.meaningful
    assert "rmdq_score" not in changes


def test_point_usage_and_plan_against_sessions_done(
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """Points are counted once per visit; the plan reads "2 of 10 planned sessions"."""
    from charting.services.outcomes import plan, point_usage, set_plan

    pid = make_patient(given_name="Plan")
    with database.write() as session:
        for specs in (
            [point_spec("BL23", "L"), point_spec("BL23", "R")],
            [point_spec("BL23", "L"), point_spec("GV4", "M")],
        ):
            vid, _ = start_visit(session, pid, practitioner_id)
            add_marks(session, BM, vid, specs)
        set_plan(session, pid, 10, "2 per week")
    with database.read() as session:
        assert point_usage(session, pid) == [("BL23", 2), ("GV4", 1)]
        assert plan(session, pid).text == "2 of 10 planned sessions (2 per week)"
    with pytest.raises(ValidationError), database.write() as session:
        set_plan(session, pid, 0, "")
