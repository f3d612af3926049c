"""Visits: start one, list a patient's course."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from charting.models import Patient, Practitioner, Visit, utcnow
from charting.services.access import Permission, require
from charting.services.changes import Changes
from charting.services.errors import NotFoundError, ValidationError
from charting.services.patients import get_patient
from charting.services.validation import check_text


@dataclass(frozen=True)
class VisitRow:
    """What a patient's visit list shows for one visit."""

    id: int
    number: int
    started_at: datetime
    status: str
    practitioner: str
    chief_complaint: str
    pain_before: int | None = None
    pain_after: int | None = None

    @property
    def pain_text(self) -> str:
        """Pain before and after treatment, e.g. "7 \u2192 3" (empty when not recorded)."""
        if self.pain_before is None and self.pain_after is None:
            return ""
        before = "\u2013" if self.pain_before is None else str(self.pain_before)
        after = "\u2013" if self.pain_after is None else str(self.pain_after)
        return f"{before} \u2192 {after}"


def start_visit(
    session: Session,
    patient_id: int,
    practitioner_id: int,
    started_at: datetime | None = None,
    chief_complaint: str = "",
) -> tuple[int, Changes]:
    """Open a new draft visit, numbered next in the patient's course.

    Raises:
        NotFoundError: the patient or practitioner does not exist.
        ValidationError: the chief complaint is unusable.
    """
    get_patient(session, patient_id)
    if session.get(Practitioner, practitioner_id) is None:
        raise NotFoundError("Choose a practitioner for the visit.")
    problem = check_text(chief_complaint, "Chief complaint", 2_000)
    if problem:
        raise ValidationError({"chief_complaint": problem})
    # The patient's row is the lock for numbering: on a shared PostgreSQL server another
    # workstation starting a visit for this patient waits here until this one is committed,
    # then counts it (SQLite writers already queue for the file). Ignored by SQLite.
    session.execute(
        select(Patient.id).where(Patient.id == patient_id).with_for_update(key_share=True)
    )
    last = session.scalar(select(func.max(Visit.number)).where(Visit.patient_id == patient_id))
    visit = Visit(
        patient_id=patient_id,
        practitioner_id=practitioner_id,
        started_at=started_at or utcnow(),
        number=(last or 0) + 1,
        chief_complaint=chief_complaint.strip(),
    )
    session.add(visit)
    session.flush()
    return visit.id, Changes(visits=frozenset({visit.id}), patients=frozenset({patient_id}))


def list_visits(session: Session, patient_id: int) -> list[VisitRow]:
    """A patient's visits, newest first."""
    require(session, Permission.VIEW_PATIENTS)
    # Only the listed columns: whole visits would decode every visit's notes and forms.
    rows = session.execute(
        select(
            Visit.id,
            Visit.number,
            Visit.started_at,
            Visit.status,
            Practitioner.name,
            Visit.chief_complaint,
            Visit.pain_now,
            Visit.pain_after,
        )
        .join(Practitioner, Visit.practitioner_id == Practitioner.id)
        .where(Visit.patient_id == patient_id)
        .order_by(Visit.number.desc())
    ).all()
    return [VisitRow(*row) for row in rows]
