"""The demo clinic: realistic but clearly fictional."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from sqlalchemy import func, select

from charting.bodymap import load_bodymap
from charting.models import Mark, Patient, Visit
from charting.models.db import Database
from charting.services.demo import DEMO_MARKER, create_demo_clinic
from charting.services.patients import create_patient, search_patient_ids
from tests.factories import patient_input, sign_in_test_user


def test_demo_patients_are_fictional_and_searchable(database: Database) -> None:
    """Demo patients use reserved e-mail domains and phone ranges and can be searched."""
    with database.write() as session:
        patients, visits, changes = create_demo_clinic(session, 300, 5)
    assert patients == 300 and visits > 300
    assert len(changes.patients) == 300
    with database.read() as session:
        rows = session.scalars(select(Patient)).all()
        assert len(rows) == 300
        assert all(p.email.endswith("@example.org") for p in rows)
        assert all("555-01" in p.phone for p in rows)
        assert all(p.medical_history == DEMO_MARKER for p in rows)
        assert len({p.chart_number for p in rows}) == 300
        assert search_patient_ids(session, rows[0].family_name)
        numbers = session.execute(
            select(Visit.patient_id, func.max(Visit.number), func.count()).group_by(
                Visit.patient_id
            )
        ).all()
        assert all(top == count for _pid, top, count in numbers)


def test_chart_numbers_continue_after_the_demo(database: Database) -> None:
    """A patient added after loading the demo gets the next free chart number."""
    with database.write() as session:
        create_demo_clinic(session, 10, 1)
    with database.write() as session:
        pid, _ = create_patient(session, patient_input())
        assert session.get(Patient, pid).chart_number == "000011"  # type: ignore[union-attr]


def test_demo_visits_carry_marks_on_real_catalog_positions(database: Database) -> None:
    """Each demo visit has about the asked-for number of marks, placed where the map draws
    those points, and pain scores before and after."""
    bodymap = load_bodymap()
    with database.write() as session:
        create_demo_clinic(session, 40, 4, marks_per_visit=10)
    with database.read() as session:
        visits = session.scalars(select(Visit)).all()
        marks = session.scalars(select(Mark)).all()
        per_visit = len(marks) / len(visits)
        assert 8 <= per_visit <= 12
        assert {m.visit_id for m in marks} == {v.id for v in visits}
        assert all(v.pain_now is not None and v.pain_after is not None for v in visits)
        assert all(v.pain_after <= v.pain_now for v in visits)  # type: ignore[operator]
        points = [m for m in marks if m.kind == "acupoint"]
        assert points and all(m.technique in ("manual", "electro") for m in points)
        for m in points:
            drawn = bodymap.position(m.point_code, m.side, m.view)  # type: ignore[arg-type]
            assert drawn is not None and math.dist(drawn, (m.x, m.y)) < 0.1, m.point_code
        assert any(m.kind == "trigger_point" and m.muscle_id for m in marks)
        midline = [m for m in points if bodymap.point(m.point_code).laterality == "midline"]  # type: ignore[arg-type]
        assert midline and all(m.side == "M" for m in midline)


def test_demo_without_marks_adds_none(database: Database) -> None:
    """`marks_per_visit=0` leaves every body map empty."""
    with database.write() as session:
        create_demo_clinic(session, 5, 2, marks_per_visit=0)
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Mark)) == 0


def test_demo_visits_are_complete_and_their_signatures_hold(database: Database) -> None:
    """Signed demo visits carry every STRICTA item (needles, lot, retention, depths), first
    visits the examination and diagnoses; some have EA pairs with settings (dense-disperse
    as two frequencies), some cupping; handouts are given; every signature checks out."""
    from charting.models import EAPair, HandoutIssue
    from charting.services import signatures

    with database.write() as session:
        create_demo_clinic(session, 60, 6)
    with database.read() as session:
        visits = session.scalars(select(Visit)).all()
        signed = [v for v in visits if v.status == "signed"]
        assert signed and len(signed) < len(visits)
        for v in signed:
            assert v.retention_minutes and v.needle_brand and v.needle_lot and v.needle_expiry
            assert v.icd10_codes and v.tcm_patterns and v.referral_decision
            assert v.pain_now is not None and v.pain_after is not None
        first = [v for v in visits if v.number == 1]
        assert all(v.palpation and v.straight_leg_raise and v.tongue for v in first)
        assert all(v.odi_percent is not None and v.psfs for v in first)
        marks = session.scalars(select(Mark)).all()
        assert all(m.depth_mm for m in marks if m.kind != "cupping")
        cups = [m for m in marks if m.kind == "cupping"]
        assert cups and all(m.cup_type and m.cup_minutes for m in cups)
        pairs = session.scalars(select(EAPair)).all()
        assert pairs and all(p.minutes and p.intensity_ma for p in pairs)
        assert any(p.frequency2_hz == 100 for p in pairs)
        assert session.scalar(select(func.count()).select_from(HandoutIssue)) == len(signed)
        assert list(signatures.check_all(session)) == []


def test_demo_visits_are_signed_by_fictional_practitioners(
    database: Database, practitioner_id: int
) -> None:
    """No demo visit is in the name of the clinic's own practitioner; the demo's have
    licence numbers that say DEMO."""
    from charting.models import Practitioner

    with database.write() as session:
        create_demo_clinic(session, 30, 4)
    with database.read() as session:
        owners = set(session.scalars(select(Visit.practitioner_id).distinct()))
        assert practitioner_id not in owners
        licences = session.scalars(
            select(Practitioner.licence_number).where(Practitioner.id.in_(owners))
        ).all()
        assert licences and all(lic.startswith("DEMO-") for lic in licences)


def test_the_demo_never_goes_into_a_clinic_with_real_patients(
    database: Database, make_patient
) -> None:
    """With one real patient on file, the demo is refused with a message naming its own
    file, and nothing is added."""
    from charting.services.demo import DemoRefusedError

    make_patient()
    with pytest.raises(DemoRefusedError, match="its own file"), database.write() as session:
        create_demo_clinic(session, 10, 1)
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 1


def test_front_desk_cannot_turn_a_database_into_a_demo(database: Database) -> None:
    """Only someone who may change the clinic's settings makes a database a demo clinic."""
    from charting.models import Role
    from charting.services.access import PermissionDeniedError
    from tests.factories import add_account

    desk = database.acting_as(add_account(database, "bob", Role.FRONT_DESK))
    with pytest.raises(PermissionDeniedError, match="Front desk"), desk.write() as session:
        create_demo_clinic(session, 5, 1)


def test_prepare_demo_makes_the_demo_file_once_and_signs_in_as_its_account(
    tmp_path: Path,
) -> None:
    """A new file becomes the demo clinic with its account; opening it again reuses it; a
    file with other records is refused and left as it was."""
    from charting.config import sqlite_url
    from charting.models.migrate import open_database
    from charting.services.demo import (
        DEMO_USERNAME,
        DemoRefusedError,
        is_demo,
        prepare_demo,
    )
    from charting.services.settings import load_settings

    demo = open_database(sqlite_url(tmp_path / "demo.sqlite3"), tmp_path / "b").database
    try:
        with demo.write() as session:
            actor = prepare_demo(session, patients=15)
        with demo.write() as session:
            again = prepare_demo(session, patients=15)
        assert actor.username == again.username == DEMO_USERNAME
        assert actor.practitioner_id is not None
        with demo.read() as session:
            assert is_demo(session) and load_settings(session).demo
            assert session.scalar(select(func.count()).select_from(Patient)) == 15
    finally:
        demo.dispose()
    real = open_database(sqlite_url(tmp_path / "real.sqlite3"), tmp_path / "b").database
    try:
        real.actor = sign_in_test_user(real)
        with real.write() as session:
            create_patient(session, patient_input())
        with pytest.raises(DemoRefusedError), real.write() as session:
            prepare_demo(session)
        with real.read() as session:
            assert not is_demo(session)
            assert session.scalar(select(func.count()).select_from(Patient)) == 1
    finally:
        real.dispose()


def test_demo_printouts_say_demo_clinic(database: Database) -> None:
    """Every page of a demo clinic's documents says it is a demo of fictional patients."""
    import io

    from pypdf import PdfReader

    from charting.reports.visit_summary import build_visit_summary
    from charting.services.report_data import visit_report

    with database.write() as session:
        create_demo_clinic(session, 3, 3)
    with database.read() as session:
        vid = session.scalars(select(Visit.id)).first()
        report = visit_report(session, vid, load_bodymap())  # type: ignore[arg-type]
    out = io.BytesIO()
    build_visit_summary(report, load_bodymap(), out, invariant=True)
    pages = PdfReader(io.BytesIO(out.getvalue())).pages
    assert all("DEMO CLINIC" in page.extract_text() for page in pages)


def test_demo_pain_drawings_ease_and_their_measures_are_the_ones_the_app_computes(
    database: Database,
) -> None:
    """Demo patients have pain drawings (first visit, every third and the last) whose stored
    measures equal what the app computes from the strokes, whose leg pain pulls back over a
    course (in a few it spreads), and which the signatures cover."""
    from charting.models import PainArea, PainSummary
    from charting.services import pain_drawings, signatures
    from charting.services.pain_measures import PainMeasures

    bodymap = load_bodymap()
    with database.write() as session:
        create_demo_clinic(session, 80, 7, seed=7)
    with database.read() as session:
        drawn = set(session.scalars(select(PainArea.visit_id)))
        summaries = session.scalars(select(PainSummary)).all()
        assert drawn and {s.visit_id for s in summaries} == drawn
        for summary in summaries[:40]:
            assert PainMeasures.from_json(summary.measures) == pain_drawings.compute_measures(
                session, bodymap, summary.visit_id
            )
        firsts = {
            v.patient_id: v.id
            for v in session.scalars(select(Visit).where(Visit.number == 1))
            if v.id in drawn
        }
        eased = spread = 0
        for summary in summaries:
            m = PainMeasures.from_json(summary.measures)
            if summary.visit_id in firsts.values():
                assert m.since_previous is None and m.overlap_previous is None
            else:
                eased += m.since_first == "centralised"
                spread += m.since_first == "peripheralised"
        assert eased > spread > 0, (eased, spread)
        assert list(signatures.check_all(session)) == []


def test_the_demo_clinic_has_a_custom_point_of_its_own_once(database: Database) -> None:
    """The demo adds its own point (used by no mark) to the clinic's map, once however often
    it is filled."""
    from charting.services.custom_points import clinic_bodymap, list_custom_points

    with database.write() as session:
        create_demo_clinic(session, 5, 2)
        create_demo_clinic(session, 5, 2)
    with database.read() as session:
        (row,) = list_custom_points(session)
        bodymap = clinic_bodymap(session)
    assert (row.code, row.uses) == ("C-PIRI", 0)
    assert bodymap.is_custom("C-PIRI") and bodymap.search("piriformis release")[0].code == "C-PIRI"
