"""The appointment book: booking, double booking, moves and cancellations with history, days."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from charting.models import Role
from charting.models.db import Database, make_engine
from charting.services import appointments as book
from charting.services.access import PermissionDeniedError
from charting.services.appointments import AppointmentInput, DoubleBookingError
from charting.services.audit import search
from charting.services.visit_record import sign_visit
from charting.services.visits import start_visit
from tests.factories import add_account

MONDAY_9 = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)


def _book(
    database: Database, patient: int, practitioner: int, start: datetime, **kw: object
) -> int:
    with database.write() as session:
        return book.book(
            session, AppointmentInput(patient, practitioner, start, 45, "Follow-up"), **kw
        )[0]  # type: ignore[arg-type]


def test_booking_overlapping_a_practitioner_is_refused_until_confirmed(
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """A second booking 30 minutes into a 45-minute one is refused, naming the first, and
    stored when confirmed."""
    first, second = make_patient(), make_patient(family_name="Okafor", given_name="Chidi")
    _book(database, first, practitioner_id, MONDAY_9)
    with pytest.raises(DoubleBookingError, match="Maja Lindqvist"):
        _book(database, second, practitioner_id, MONDAY_9 + timedelta(minutes=30))
    _book(database, second, practitioner_id, MONDAY_9 + timedelta(minutes=45))  # back to back
    _book(database, second, practitioner_id, MONDAY_9 + timedelta(minutes=30), allow_double=True)
    with database.read() as session:
        rows = book.rows_between(session, MONDAY_9, MONDAY_9 + timedelta(hours=2))
    assert len(rows) == 3


def test_a_cancelled_slot_can_be_booked_again(
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """Cancelling frees the practitioner's time; the cancelled appointment stays in the book."""
    pid = make_patient()
    aid = _book(database, pid, practitioner_id, MONDAY_9)
    with database.write() as session:
        book.cancel(session, aid, "Patient unwell")
    _book(database, pid, practitioner_id, MONDAY_9)
    with database.read() as session:
        statuses = sorted(
            r.status for r in book.rows_between(session, MONDAY_9, MONDAY_9 + timedelta(hours=1))
        )
        assert statuses == ["booked", "cancelled"]
        (cancelled,) = [h for h in book.history(session, aid) if h.action == "cancelled"]
    assert cancelled.username == "ana" and cancelled.after == "Patient unwell"


def test_moving_keeps_the_old_and_new_times_in_the_history(
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """A move records who moved it, from when and to when."""
    aid = _book(database, make_patient(), practitioner_id, MONDAY_9)
    with database.write() as session:
        book.move(session, aid, MONDAY_9 + timedelta(days=1))
    with database.read() as session:
        steps = book.history(session, aid)
    assert [s.action for s in steps] == ["booked", "moved"]
    local_old = MONDAY_9.astimezone()
    local_new = (MONDAY_9 + timedelta(days=1)).astimezone()
    assert f"{local_old:%a %d %b %Y %H:%M}" in steps[1].before
    assert f"{local_new:%a %d %b %Y %H:%M}" in steps[1].after
    assert steps[1].username == "ana"


def test_a_move_from_a_stale_copy_is_refused(
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """A move made with the version read before another workstation's move is refused."""
    aid = _book(database, make_patient(), practitioner_id, MONDAY_9)
    with database.write() as session:
        book.move(session, aid, MONDAY_9 + timedelta(hours=2), expected_version=1)
    with database.write() as session, pytest.raises(book.StaleAppointmentError):
        book.move(session, aid, MONDAY_9 + timedelta(hours=4), expected_version=1)


def test_two_workstations_booking_the_same_slot_get_one_booking_and_one_warning(
    database: Database,
    database_url: str,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """A booking made on a second database handle while the first is still open waits for it,
    then is warned of the double booking instead of storing a second appointment."""
    first, second = make_patient(), make_patient(family_name="Okafor")
    other = Database(make_engine(database_url), database.actor)
    outcome: list[object] = []
    started = threading.Event()

    def other_workstation() -> None:
        started.set()
        try:
            outcome.append(_book(other, second, practitioner_id, MONDAY_9 + timedelta(minutes=15)))
        except Exception as exc:  # handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=other_workstation)
    try:
        with database.write() as session:
            book.book(session, AppointmentInput(first, practitioner_id, MONDAY_9, 45))
            thread.start()
            assert started.wait(10)
            thread.join(0.5)  # the other booking waits for this transaction
        thread.join(30)
    finally:
        other.dispose()
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], DoubleBookingError), outcome
    with database.read() as session:
        assert len(book.rows_between(session, MONDAY_9, MONDAY_9 + timedelta(hours=1))) == 1


def test_front_desk_books_but_sees_no_health_flags_or_visit_state(
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """Front desk can book; its day list has no health flags and no visit state."""
    pid = make_patient(anticoagulant=True)
    desk = add_account(database, "desk", Role.FRONT_DESK)
    front = database.acting_as(desk)
    aid = _book(front, pid, practitioner_id, MONDAY_9)
    with front.read() as session:
        (row,) = book.day_rows(session, MONDAY_9.astimezone().date())
    assert row.id == aid and row.flags == () and row.visit_state == ""
    with database.read() as session:
        (row,) = book.day_rows(session, MONDAY_9.astimezone().date())
    assert row.flags == ("Anticoagulant/antiplatelet",)
    with front.write() as session:
        assert book.history(session, aid)[0].username == "desk"


def test_front_desk_cannot_start_a_visit(
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """Starting the visit of an appointment needs a practitioner."""
    aid = _book(database, make_patient(), practitioner_id, MONDAY_9)
    front = database.acting_as(add_account(database, "desk", Role.FRONT_DESK))
    with pytest.raises(PermissionDeniedError), front.write() as session:
        book.start_visit_for(session, aid)


def test_the_day_list_says_first_visit_or_follow_up_and_follows_the_visit(
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """A new patient is a first visit; starting marks the appointment arrived with a draft,
    signing marks it done with a signed visit; an earlier visit makes a follow-up."""
    new, known = make_patient(), make_patient(family_name="Okafor")
    with database.write() as session:
        start_visit(session, known, practitioner_id, MONDAY_9 - timedelta(days=7))
    a_new = _book(database, new, practitioner_id, MONDAY_9)
    _book(database, known, practitioner_id, MONDAY_9 + timedelta(hours=1))
    day = MONDAY_9.astimezone().date()
    with database.read() as session:
        rows = {r.patient_id: r for r in book.day_rows(session, day)}
    assert rows[new].kind_label == "First visit" and rows[known].kind_label == "Follow-up"
    assert rows[new].visit_state == ""
    with database.write() as session:
        visit_id, _ = book.start_visit_for(session, a_new)
    with database.write() as session:  # starting again opens the same visit
        assert book.start_visit_for(session, a_new)[0] == visit_id
    with database.read() as session:
        row = book.get_row(session, a_new)
    assert (row.status, row.visit_state, row.visit_id, row.kind_label) == (
        "arrived",
        "draft",
        visit_id,
        "First visit",
    )
    with database.write() as session:
        sign_visit(session, visit_id, practitioner_id)
    with database.read() as session:
        row = book.get_row(session, a_new)
    assert (row.status, row.visit_state) == ("done", "signed")


def test_the_next_booked_appointment_is_the_handouts(
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """The next appointment is the soonest booked one after the visit, skipping cancelled."""
    pid = make_patient()
    soon = _book(database, pid, practitioner_id, MONDAY_9 + timedelta(days=2))
    later = MONDAY_9 + timedelta(days=9)
    _book(database, pid, practitioner_id, later)
    with database.read() as session:
        assert book.next_booked(session, pid, MONDAY_9) == MONDAY_9 + timedelta(days=2)
    with database.write() as session:
        book.cancel(session, soon)
    with database.read() as session:
        assert book.next_booked(session, pid, MONDAY_9) == later


def test_bookings_are_audited(
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """Booking writes an appointment entry in the audit log, naming the patient."""
    pid = make_patient()
    _book(database, pid, practitioner_id, MONDAY_9)
    with database.read() as session:
        entries = search(session, action="appointment")
    assert [(e.action, e.patient_id) for e in entries] == [("appointment.add", pid)]


def test_bad_booking_forms_are_refused_with_messages(database: Database, make_patient) -> None:  # type: ignore[no-untyped-def]
    """A booking without practitioner or time, or of 2 minutes, says what is missing."""
    pid = make_patient()
    with database.write() as session, pytest.raises(book.ValidationError) as caught:
        book.book(session, AppointmentInput(pid, None, None, 2))
    assert set(caught.value.errors) == {"practitioner", "starts_at", "minutes"}


def test_local_days_cover_whole_local_calendar_days() -> None:
    """A local day's bounds are 24 hours apart (or 23/25 on a clock change) and start at 00:00."""
    start, end = book.local_day_bounds(date(2026, 12, 7))
    assert start.astimezone().hour == 0 and end - start in {
        timedelta(hours=h) for h in (23, 24, 25)
    }
