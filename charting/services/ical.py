"""An appointment as an iCalendar file (RFC 5545) the patient can add to their calendar.

The event says when and where, and with whom; never why (no clinical details leave the
clinic in a calendar file that phones sync to other services).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from charting.models import Appointment, AppointmentStatus, Practitioner, utcnow
from charting.services import audit
from charting.services.access import Permission, require
from charting.services.errors import NotFoundError, ServiceError
from charting.services.exports import atomic_writer
from charting.services.settings import ClinicSettings, load_settings

CRLF = "\r\n"
#: RFC 5545 §3.1: lines SHOULD NOT be longer than 75 octets, excluding the line break.
FOLD_OCTETS = 75


def escape_text(text: str) -> str:
    """Escape a TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line into chunks of at most 75 octets joined by CRLF and a space,
    never splitting a UTF-8 character (RFC 5545 §3.1)."""
    out: list[str] = []
    current = ""
    size = 0
    limit = FOLD_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append(current)
            current, size = " ", 1  # the continuation's leading space counts
        current += char
        size += width
    out.append(current)
    return CRLF.join(out)


def utc_stamp(value: datetime) -> str:
    """A DATE-TIME in UTC form, e.g. 20261208T140000Z."""
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def event_uid(appointment_id: int, booked_at: datetime) -> str:
    """A globally unique, stable UID for an appointment's event."""
    key = f"charting:appointment:{appointment_id}:{booked_at.isoformat()}"
    return f"{uuid.uuid5(uuid.NAMESPACE_URL, key)}@charting"


def calendar_text(
    *,
    uid: str,
    starts_at: datetime,
    minutes: int,
    clinic: ClinicSettings,
    practitioner: str,
    stamp: datetime | None = None,
) -> str:
    """The whole VCALENDAR text, CRLF line endings, folded."""
    ends_at = starts_at + timedelta(minutes=minutes)
    summary = f"Appointment at {clinic.clinic_name}" if clinic.clinic_name else "Appointment"
    description = f"With {practitioner}."
    if clinic.clinic_phone:
        description += f" To change or cancel, call {clinic.clinic_phone}."
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Charting//Appointment book//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{utc_stamp(stamp or utcnow())}",
        f"DTSTART:{utc_stamp(starts_at)}",
        f"DTEND:{utc_stamp(ends_at)}",
        f"SUMMARY:{escape_text(summary)}",
        f"DESCRIPTION:{escape_text(description)}",
    ]
    location = ", ".join(
        part.strip() for part in clinic.clinic_address.splitlines() if part.strip()
    )
    if location:
        lines.append(f"LOCATION:{escape_text(location)}")
    lines += ["STATUS:CONFIRMED", "TRANSP:OPAQUE", "END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + CRLF for line in lines)


def appointment_ics(session: Session, appointment_id: int) -> str:
    """The iCalendar text of a booked appointment.

    Raises:
        ServiceError: the appointment is not booked (cancelled, done, no-show).
    """
    require(session, Permission.VIEW_PATIENTS)
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFoundError("That appointment no longer exists.")
    if appointment.status != AppointmentStatus.BOOKED.value:
        raise ServiceError("Only a booked appointment can be sent as a calendar file.")
    practitioner = session.get_one(Practitioner, appointment.practitioner_id)
    return calendar_text(
        uid=event_uid(appointment.id, appointment.booked_at),
        starts_at=appointment.starts_at,
        minutes=appointment.minutes,
        clinic=load_settings(session),
        practitioner=practitioner.display_name,
    )


def save_ics(session: Session, appointment_id: int, path: Path) -> Path:
    """Write the appointment's .ics file (owner-only, replaced atomically) and audit it."""
    text = appointment_ics(session, appointment_id)
    with atomic_writer(Path(path), newline="", encoding="utf-8") as handle:
        handle.write(text)
    appointment = session.get_one(Appointment, appointment_id)
    audit.record(
        session,
        "document.save",
        patient_id=appointment.patient_id,
        target=f"appointment {appointment_id}",
        detail=f"calendar file {Path(path).name}",
    )
    return Path(path)
