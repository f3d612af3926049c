"""Front desk: demographics, contacts and bookings, and no clinical data from any service."""

from __future__ import annotations

from dataclasses import replace

import pytest

from charting.models import Role
from charting.models.db import Database
from charting.services import outcomes
from charting.services.access import PermissionDeniedError
from charting.services.errors import ValidationError
from charting.services.patients import (
    PatientInput,
    create_patient,
    get_patient,
    patient_rows,
    patient_view,
    update_patient,
)
from charting.services.visit_record import needles_in, remembered_values, update_fields
from charting.services.visits import list_visits, start_visit
from tests.factories import add_account, patient_input

MEDS = "Warfarin 5 mg daily"
HISTORY = "L4-L5 discectomy 2019"


@pytest.fixture
def charted(database: Database, practitioner_id: int) -> tuple[int, int]:
    """A patient with health details and a visit with a complaint and pain scores."""
    with database.write() as session:
        pid, _ = create_patient(
            session,
            patient_input(medications=MEDS, medical_history=HISTORY, anticoagulant=True),
        )
        vid, _ = start_visit(session, pid, practitioner_id, chief_complaint="Sciatica, left")
        update_fields(session, vid, {"pain_now": 8, "pain_after": 3})
    return pid, vid


@pytest.fixture
def desk(database: Database) -> Database:
    """The database as a front-desk account."""
    return database.acting_as(add_account(database, "bob", Role.FRONT_DESK))


def test_the_patient_record_has_no_health_part_for_front_desk(
    database: Database, desk: Database, charted: tuple[int, int]
) -> None:
    """patient_view gives demographics and contacts only; the whole record is refused."""
    pid, _ = charted
    with desk.read() as session:
        view = patient_view(session, pid)
    assert view.phone and view.full_name and not view.clinical
    assert (view.medications, view.medical_history, view.anticoagulant) == ("", "", False)
    with pytest.raises(PermissionDeniedError), desk.write() as session:
        get_patient(session, pid)
    with database.read() as session:
        full = patient_view(session, pid)
    assert full.clinical and (full.medications, full.anticoagulant) == (MEDS, True)


def test_the_visit_list_and_patient_list_hide_clinical_columns_from_front_desk(
    desk: Database, charted: tuple[int, int]
) -> None:
    """No chief complaint, pain scores or health flags reach front desk through the lists."""
    pid, _ = charted
    with desk.read() as session:
        (row,) = list_visits(session, pid)
        (listed,) = patient_rows(session, [pid])
    assert row.chief_complaint == "" and row.pain_before is None and row.pain_after is None
    assert row.practitioner and row.status == "draft"
    assert listed.flags == () and listed.visit_count == 1


@pytest.mark.parametrize(
    "call",
    [
        lambda s, pid, vid: outcomes.plan(s, pid),
        lambda s, pid, vid: remembered_values(s, vid),
        lambda s, pid, vid: needles_in(s, vid),
    ],
    ids=["plan", "remembered needles", "needle count"],
)
def test_other_clinical_reads_are_refused_to_front_desk(
    desk: Database, charted: tuple[int, int], call
) -> None:  # type: ignore[no-untyped-def]
    """Reads that carry clinical facts refuse a front-desk account."""
    pid, vid = charted
    with pytest.raises(PermissionDeniedError), desk.write() as session:
        call(session, pid, vid)


def test_front_desk_edits_contacts_without_touching_health_details(
    database: Database, desk: Database, charted: tuple[int, int]
) -> None:
    """Saving the (health-less) form as front desk keeps medications and flags as stored."""
    pid, _ = charted
    with desk.read() as session:
        form = PatientInput.from_patient(patient_view(session, pid))
    with desk.write() as session:
        update_patient(session, pid, replace(form, phone="+1 555 0199"))
    with database.read() as session:
        stored = get_patient(session, pid)
        assert (stored.phone, stored.medications, stored.medical_history) == (
            "+1 555 0199",
            MEDS,
            HISTORY,
        )
        assert stored.anticoagulant


def test_front_desk_registers_without_health_details(desk: Database) -> None:
    """Registering works; health details offered by front desk are refused with a reason."""
    with desk.write() as session:
        create_patient(session, patient_input(family_name="Okafor"))
    refused = pytest.raises(ValidationError, match="recorded by the practitioner")
    with refused, desk.write() as session:
        create_patient(session, patient_input(family_name="Adeyemi", medications="aspirin"))
