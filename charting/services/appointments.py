"""The appointment book: booking, moving, cancelling, the day list and the week view.

Times are stored in UTC and shown in the workstation's local time; a "day" is a local
calendar day. Every change is kept in the appointment's history (who, when, from and to),
and a practitioner's overlapping appointments are refused unless the booking is confirmed,
so double booking is always a decision. On a shared PostgreSQL server the practitioner's
row is locked while a booking is checked, so two workstations booking the same slot at
once are checked one after the other (SQLite writers already queue for the file).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from charting.models import (
    Appointment,
    AppointmentChange,
    AppointmentStatus,
    Patient,
    Practitioner,
    Visit,
    utcnow,
)
from charting.models.entities import full_name
from charting.services.access import Permission, actor_of, require
from charting.services.changes import Changes
from charting.services.errors import NotFoundError, ServiceError, ValidationError
from charting.services.patients import _HEALTH_COLUMNS, health_flags
from charting.services.validation import check_text

STATUS_LABELS = {
    AppointmentStatus.BOOKED.value: "Booked",
    AppointmentStatus.ARRIVED.value: "Arrived",
    AppointmentStatus.DONE.value: "Done",
    AppointmentStatus.CANCELLED.value: "Cancelled",
    AppointmentStatus.NO_SHOW.value: "No-show",
}
#: Statuses that still hold the practitioner's time (a cancelled slot is free again).
HOLDS_TIME = (
    AppointmentStatus.BOOKED.value,
    AppointmentStatus.ARRIVED.value,
    AppointmentStatus.DONE.value,
)
LENGTHS = (15, 30, 45, 60, 75, 90)
DEFAULT_MINUTES = 45
VISIT_STATE_LABELS = {"": "Not started", "draft": "Draft", "signed": "Signed"}


class DoubleBookingError(ServiceError):
    """The practitioner already has an appointment at that time; ``clashes`` names them."""

    def __init__(self, clashes: list[str]) -> None:
        self.clashes = clashes
        super().__init__(
            "The practitioner is already booked then: "
            + "; ".join(clashes)
            + ". Book anyway only if both patients are really to be seen together."
        )


class StaleAppointmentError(ServiceError):
    """The appointment changed on another workstation since it was read."""


@dataclass
class AppointmentInput:
    """The booking form."""

    patient_id: int | None = None
    practitioner_id: int | None = None
    starts_at: datetime | None = None
    minutes: int = DEFAULT_MINUTES
    reason: str = ""


@dataclass(frozen=True)
class BookRow:
    """One appointment as the day list and the book show it.

    ``flags`` and ``visit_state`` are empty for accounts that may not read clinical data
    (front desk): health flags are clinical history.
    """

    id: int
    starts_at: datetime
    minutes: int
    patient_id: int
    patient: str
    chart_number: str
    practitioner_id: int
    practitioner: str
    reason: str
    status: str
    first_visit: bool
    flags: tuple[str, ...]
    visit_id: int | None
    visit_state: str
    version: int

    @property
    def ends_at(self) -> datetime:
        """When the appointment ends."""
        return self.starts_at + timedelta(minutes=self.minutes)

    @property
    def local_start(self) -> datetime:
        """The start in the workstation's local time."""
        return self.starts_at.astimezone()

    @property
    def status_label(self) -> str:
        """ "Booked", "Arrived", "No-show"..."""
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def kind_label(self) -> str:
        """ "First visit" or "Follow-up"."""
        return "First visit" if self.first_visit else "Follow-up"


@dataclass(frozen=True)
class HistoryRow:
    """One step of an appointment's history."""

    at: datetime
    username: str
    action: str
    before: str
    after: str


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants where local calendar day ``day`` begins and ends."""
    start = datetime.combine(day, time()).astimezone()
    end = datetime.combine(day + timedelta(days=1), time()).astimezone()
    return start, end


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def describe_slot(starts_at: datetime, minutes: int, practitioner: str = "") -> str:
    """ "Tue 08 Dec 09:00-09:45 with Ana Ruiz" in local time."""
    local = starts_at.astimezone()
    end = (starts_at + timedelta(minutes=minutes)).astimezone()
    who = f" with {practitioner}" if practitioner else ""
    return f"{local:%a %d %b %Y %H:%M}\u2013{end:%H:%M}{who}"


def _validate(data: AppointmentInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.patient_id is None:
        errors["patient"] = "Choose the patient."
    if data.practitioner_id is None:
        errors["practitioner"] = "Choose the practitioner."
    if data.starts_at is None or data.starts_at.tzinfo is None:
        errors["starts_at"] = "Give the date and time."
    if not isinstance(data.minutes, int) or not 5 <= data.minutes <= 480:
        errors["minutes"] = "The length must be between 5 minutes and 8 hours."
    if problem := check_text(data.reason, "Reason", 200):
        errors["reason"] = problem
    return errors


def _lock_practitioner(session: Session, practitioner_id: int) -> Practitioner:
    # The practitioner's row is the lock for their diary on PostgreSQL: a second workstation
    # checking the same diary waits here until this booking commits, then sees it.
    # (FOR NO KEY UPDATE: it does not wait for visits being started with this practitioner.)
    session.execute(
        select(Practitioner.id)
        .where(Practitioner.id == practitioner_id)
        .with_for_update(key_share=True)
    )
    practitioner = session.get(Practitioner, practitioner_id)
    if practitioner is None or not practitioner.active:
        raise NotFoundError("That practitioner is not in the clinic's list.")
    return practitioner


def clashes(
    session: Session,
    practitioner_id: int,
    starts_at: datetime,
    minutes: int,
    exclude_id: int | None = None,
) -> list[str]:
    """The practitioner's appointments overlapping the slot, described for a person."""
    ends_at = starts_at + timedelta(minutes=minutes)
    # Appointments are at most 8 hours long, so only those starting in the 8 hours before
    # the slot can reach into it: the range keeps the index usable.
    query = (
        select(Appointment.starts_at, Appointment.minutes, Patient.family_name, Patient.given_name)
        .join(Patient, Patient.id == Appointment.patient_id)
        .where(
            Appointment.practitioner_id == practitioner_id,
            Appointment.status.in_(HOLDS_TIME),
            Appointment.starts_at < ends_at,
            Appointment.starts_at > starts_at - timedelta(hours=8),
        )
        .order_by(Appointment.starts_at)
    )
    if exclude_id is not None:
        query = query.where(Appointment.id != exclude_id)
    found = []
    for row in session.execute(query):
        if row.starts_at + timedelta(minutes=row.minutes) > starts_at:
            found.append(
                f"{row.given_name} {row.family_name} at {describe_slot(row.starts_at, row.minutes)}"
            )
    return found


def _history(session: Session, appointment_id: int, action: str, before: str, after: str) -> None:
    session.add(
        AppointmentChange(
            appointment_id=appointment_id,
            username=actor_of(session).username[:60],
            action=action,
            before=before,
            after=after,
            at=utcnow(),
        )
    )


def book(
    session: Session, data: AppointmentInput, *, allow_double: bool = False
) -> tuple[int, Changes]:
    """Book an appointment.

    Raises:
        ValidationError: the form is incomplete or unusable.
        DoubleBookingError: the practitioner is busy then and ``allow_double`` is false.
        PermissionDeniedError: the account may not book.
    """
    actor = require(session, Permission.BOOK, patient_id=data.patient_id)
    errors = _validate(data)
    if errors:
        raise ValidationError(errors)
    assert data.patient_id is not None and data.practitioner_id is not None
    assert data.starts_at is not None
    patient = session.get(Patient, data.patient_id)
    if patient is None or patient.deleted_at is not None:
        raise NotFoundError("That patient no longer exists.")
    practitioner = _lock_practitioner(session, data.practitioner_id)
    if not allow_double and (
        found := clashes(session, data.practitioner_id, data.starts_at, data.minutes)
    ):
        raise DoubleBookingError(found)
    appointment = Appointment(
        patient_id=data.patient_id,
        practitioner_id=data.practitioner_id,
        starts_at=data.starts_at,
        minutes=data.minutes,
        reason=data.reason.strip(),
        booked_by=actor.username[:60],
        booked_at=utcnow(),
    )
    session.add(appointment)
    session.flush()
    slot = describe_slot(data.starts_at, data.minutes, practitioner.name)
    _history(session, appointment.id, "booked", "", slot + (" (double booked)" * allow_double))
    return appointment.id, Changes(patients=frozenset({data.patient_id}))


def _load(session: Session, appointment_id: int, expected_version: int | None) -> Appointment:
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFoundError("That appointment no longer exists.")
    if expected_version is not None and appointment.version != expected_version:
        raise StaleAppointmentError(
            "This appointment was changed on another workstation; the book shows it now."
        )
    return appointment


def move(
    session: Session,
    appointment_id: int,
    starts_at: datetime,
    minutes: int | None = None,
    practitioner_id: int | None = None,
    *,
    expected_version: int | None = None,
    allow_double: bool = False,
) -> Changes:
    """Move an appointment to another time (or practitioner, or length); history keeps both.

    Raises:
        DoubleBookingError: the new slot is taken and ``allow_double`` is false.
        StaleAppointmentError: it changed since ``expected_version``.
    """
    require(session, Permission.BOOK)
    appointment = _load(session, appointment_id, expected_version)
    if appointment.status not in (AppointmentStatus.BOOKED.value,):
        raise ServiceError(
            f"Only a booked appointment can be moved; this one is "
            f"{STATUS_LABELS[appointment.status].lower()}."
        )
    new_minutes = appointment.minutes if minutes is None else minutes
    new_practitioner = practitioner_id or appointment.practitioner_id
    errors = _validate(
        AppointmentInput(
            appointment.patient_id, new_practitioner, starts_at, new_minutes, appointment.reason
        )
    )
    if errors:
        raise ValidationError(errors)
    practitioner = _lock_practitioner(session, new_practitioner)
    if not allow_double and (
        found := clashes(session, new_practitioner, starts_at, new_minutes, appointment.id)
    ):
        raise DoubleBookingError(found)
    old = session.get(Practitioner, appointment.practitioner_id)
    before = describe_slot(appointment.starts_at, appointment.minutes, old.name if old else "")
    appointment.starts_at = starts_at
    appointment.minutes = new_minutes
    appointment.practitioner_id = new_practitioner
    after = describe_slot(starts_at, new_minutes, practitioner.name)
    _history(session, appointment.id, "moved", before, after)
    _flush(session)
    return Changes(patients=frozenset({appointment.patient_id}))


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError as exc:
        raise StaleAppointmentError(
            "This appointment was changed on another workstation; the book shows it now."
        ) from exc


def cancel(
    session: Session, appointment_id: int, reason: str = "", *, expected_version: int | None = None
) -> Changes:
    """Cancel an appointment (kept in the book, with who cancelled it and why)."""
    require(session, Permission.BOOK)
    if problem := check_text(reason, "Reason", 500):
        raise ValidationError({"reason": problem})
    appointment = _load(session, appointment_id, expected_version)
    if appointment.status != AppointmentStatus.BOOKED.value:
        raise ServiceError("Only a booked appointment can be cancelled.")
    appointment.status = AppointmentStatus.CANCELLED.value
    _history(
        session,
        appointment.id,
        "cancelled",
        describe_slot(appointment.starts_at, appointment.minutes),
        reason.strip(),
    )
    _flush(session)
    return Changes(patients=frozenset({appointment.patient_id}))


def set_status(
    session: Session, appointment_id: int, status: str, *, expected_version: int | None = None
) -> Changes:
    """Mark an appointment arrived, done, no-show, or back to booked (history keeps it)."""
    require(session, Permission.BOOK)
    if status not in STATUS_LABELS or status == AppointmentStatus.CANCELLED.value:
        raise ValidationError({"status": "Choose booked, arrived, done or no-show."})
    appointment = _load(session, appointment_id, expected_version)
    if appointment.status == AppointmentStatus.CANCELLED.value:
        raise ServiceError("A cancelled appointment stays cancelled; book a new one.")
    if appointment.status != status:
        _history(
            session,
            appointment.id,
            "status",
            STATUS_LABELS[appointment.status],
            STATUS_LABELS[status],
        )
        appointment.status = status
        _flush(session)
    return Changes(patients=frozenset({appointment.patient_id}))


def history(session: Session, appointment_id: int) -> list[HistoryRow]:
    """An appointment's history, oldest first."""
    require(session, Permission.VIEW_PATIENTS)
    rows = session.scalars(
        select(AppointmentChange)
        .where(AppointmentChange.appointment_id == appointment_id)
        .order_by(AppointmentChange.id)
    )
    return [HistoryRow(r.at, r.username, r.action, r.before, r.after) for r in rows]


# --- reading the book ---------------------------------------------------------------------


def rows_between(
    session: Session,
    start: datetime,
    end: datetime,
    practitioner_id: int | None = None,
    *,
    include_cancelled: bool = True,
) -> list[BookRow]:
    """Appointments starting in ``[start, end)``, for one practitioner or the whole clinic.

    One statement: the patient's name and health flags, whether a visit before this
    appointment exists (first visit or follow-up), and the linked visit's state.
    """
    actor = require(session, Permission.VIEW_PATIENTS)
    clinical = actor.can(Permission.VIEW_CLINICAL)
    earlier = (
        select(Visit.id)
        .where(Visit.patient_id == Appointment.patient_id, Visit.started_at < Appointment.starts_at)
        .where(Visit.id != func.coalesce(Appointment.visit_id, -1))
        .correlate(Appointment)
        .exists()
        .label("has_earlier")
    )
    query = (
        select(
            Appointment.id,
            Appointment.starts_at,
            Appointment.minutes,
            Appointment.patient_id,
            Appointment.practitioner_id,
            Appointment.reason,
            Appointment.status,
            Appointment.visit_id,
            Appointment.version,
            Patient.family_name,
            Patient.given_name,
            Patient.preferred_name,
            Patient.chart_number,
            *_HEALTH_COLUMNS,
            Practitioner.name.label("practitioner_name"),
            Visit.status.label("visit_status"),
            earlier,
        )
        .join(Patient, Patient.id == Appointment.patient_id)
        .join(Practitioner, Practitioner.id == Appointment.practitioner_id)
        .outerjoin(Visit, Visit.id == Appointment.visit_id)
        .where(Appointment.starts_at >= start, Appointment.starts_at < end)
        .order_by(Appointment.starts_at, Practitioner.name, Appointment.id)
    )
    if practitioner_id is not None:
        query = query.where(Appointment.practitioner_id == practitioner_id)
    if not include_cancelled:
        query = query.where(Appointment.status != AppointmentStatus.CANCELLED.value)
    return [
        BookRow(
            id=r.id,
            starts_at=r.starts_at,
            minutes=r.minutes,
            patient_id=r.patient_id,
            patient=full_name(r.family_name, r.given_name, r.preferred_name),
            chart_number=r.chart_number,
            practitioner_id=r.practitioner_id,
            practitioner=r.practitioner_name,
            reason=r.reason,
            status=r.status,
            first_visit=not r.has_earlier,
            flags=health_flags(r) if clinical else (),
            visit_id=r.visit_id,
            visit_state=(r.visit_status or "") if clinical else "",
            version=r.version,
        )
        for r in session.execute(query)
    ]


def day_rows(
    session: Session, day: date, practitioner_id: int | None = None, **kwargs: bool
) -> list[BookRow]:
    """The appointments of local day ``day`` (one practitioner's, or the clinic's)."""
    start, end = local_day_bounds(day)
    return rows_between(session, start, end, practitioner_id, **kwargs)


def week_rows(session: Session, practitioner_id: int, day: date) -> list[BookRow]:
    """One practitioner's appointments in the local week (Monday to Sunday) holding ``day``."""
    monday = week_start(day)
    start, _ = local_day_bounds(monday)
    _, end = local_day_bounds(monday + timedelta(days=6))
    return rows_between(session, start, end, practitioner_id)


def next_booked(session: Session, patient_id: int, after: datetime) -> datetime | None:
    """The start of the patient's next booked appointment after ``after`` (None if none)."""
    return first_after(booked_starts(session, patient_id, after), after)


def booked_starts(session: Session, patient_id: int, since: datetime) -> list[datetime]:
    """The starts of the patient's booked appointments after ``since``, soonest first (a
    course report reads them once for every visit's "next appointment")."""
    return list(
        session.scalars(
            select(Appointment.starts_at)
            .where(
                Appointment.patient_id == patient_id,
                Appointment.starts_at > since,
                Appointment.status == AppointmentStatus.BOOKED.value,
            )
            .order_by(Appointment.starts_at)
        )
    )


def first_after(starts: Sequence[datetime], after: datetime) -> datetime | None:
    """The first of ``starts`` (soonest first) later than ``after``."""
    index = bisect_right(starts, after)
    return starts[index] if index < len(starts) else None


def patient_upcoming(session: Session, patient_id: int, now: datetime | None = None) -> list[int]:
    """Ids of a patient's booked appointments from now on, soonest first."""
    require(session, Permission.VIEW_PATIENTS)
    return list(
        session.scalars(
            select(Appointment.id)
            .where(
                Appointment.patient_id == patient_id,
                Appointment.starts_at >= (now or utcnow()),
                Appointment.status == AppointmentStatus.BOOKED.value,
            )
            .order_by(Appointment.starts_at)
        )
    )


def get_row(session: Session, appointment_id: int) -> BookRow:
    """One appointment as a book row."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFoundError("That appointment no longer exists.")
    start = appointment.starts_at
    for row in rows_between(
        session, start, start + timedelta(microseconds=1), appointment.practitioner_id
    ):
        if row.id == appointment_id:
            return row
    raise NotFoundError("That appointment no longer exists.")  # pragma: no cover


# --- the visit of an appointment ----------------------------------------------------------


def start_visit_for(session: Session, appointment_id: int) -> tuple[int, Changes]:
    """Open the appointment's visit: the linked draft if there is one, else a new one.

    The patient is marked arrived. Starting needs the CHART permission (a practitioner).

    Raises:
        ServiceError: the appointment was cancelled or its patient did not come.
    """
    from charting.services.visits import start_visit

    actor = require(session, Permission.CHART, target=f"appointment {appointment_id}")
    appointment = _load(session, appointment_id, None)
    if appointment.status in (AppointmentStatus.CANCELLED.value, AppointmentStatus.NO_SHOW.value):
        raise ServiceError(
            f"This appointment is {STATUS_LABELS[appointment.status].lower()}; "
            "set it back to booked first if the patient is here."
        )
    if appointment.visit_id is not None:
        return appointment.visit_id, Changes(visits=frozenset({appointment.visit_id}))
    practitioner_id = actor.practitioner_id or appointment.practitioner_id
    visit_id, changes = start_visit(
        session, appointment.patient_id, practitioner_id, chief_complaint=""
    )
    appointment.visit_id = visit_id
    if appointment.status == AppointmentStatus.BOOKED.value:
        _history(session, appointment.id, "status", "Booked", "Arrived")
        appointment.status = AppointmentStatus.ARRIVED.value
    _flush(session)
    return visit_id, changes


def visit_signed(session: Session, visit_id: int) -> None:
    """Mark the appointment of a visit just signed as done (called by signing)."""
    for appointment in session.scalars(
        select(Appointment).where(
            and_(
                Appointment.visit_id == visit_id,
                Appointment.status.in_(
                    (AppointmentStatus.BOOKED.value, AppointmentStatus.ARRIVED.value)
                ),
            )
        )
    ):
        _history(session, appointment.id, "status", STATUS_LABELS[appointment.status], "Done")
        appointment.status = AppointmentStatus.DONE.value


def visit_state_label(state: str) -> str:
    """ "Not started", "Draft" or "Signed"."""
    return VISIT_STATE_LABELS.get(state, state)
