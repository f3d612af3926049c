"""The demo clinic: realistic but clearly fictional."""

from __future__ import annotations

from sqlalchemy import func, select

from charting.models import Patient, Visit
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
