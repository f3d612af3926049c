"""The demo clinic: realistic but clearly fictional."""

from __future__ import annotations

import math

from sqlalchemy import func, select

from charting.bodymap import load_bodymap
from charting.models import Mark, Patient, Visit
from charting.models.db import Database
from charting.services.demo import DEMO_MARKER, create_demo_clinic
from charting.services.patients import create_patient, search_patient_ids
from tests.factories import patient_input


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
