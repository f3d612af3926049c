"""Open drafts: visits left unsigned after their day, per practitioner and for the clinic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from charting.models import Patient, Practitioner, Visit, VisitStatus
from charting.models.entities import full_name
from charting.services.access import Permission, PermissionDeniedError, require
from charting.services.appointments import local_day_bounds


@dataclass(frozen=True)
class DraftRow:
    """One unsigned visit from before today."""

    visit_id: int
    patient_id: int
    patient: str
    chart_number: str
    practitioner_id: int
    practitioner: str
    started_at: datetime
    number: int

    def age_days(self, today: date) -> int:
        """Whole local calendar days since the visit."""
        return (today - self.started_at.astimezone().date()).days


def open_drafts(
    session: Session, practitioner_id: int | None = None, today: date | None = None
) -> list[DraftRow]:
    """Unsigned visits started before today, oldest first.

    ``practitioner_id`` None is the clinic's whole list, for clinic admins only; a
    practitioner reads their own.

    Raises:
        PermissionDeniedError: a practitioner asks for someone else's list or the clinic's.
    """
    actor = require(session, Permission.VIEW_CLINICAL)
    if (practitioner_id is None or practitioner_id != actor.practitioner_id) and not actor.can(
        Permission.MANAGE_ACCOUNTS
    ):
        raise PermissionDeniedError("Only a clinic admin can see every practitioner's drafts.")
    start, _ = local_day_bounds(today or date.today())
    query = (
        select(
            Visit.id,
            Visit.patient_id,
            Patient.family_name,
            Patient.given_name,
            Patient.preferred_name,
            Patient.chart_number,
            Visit.practitioner_id,
            Practitioner.name,
            Visit.started_at,
            Visit.number,
        )
        .join(Patient, Patient.id == Visit.patient_id)
        .join(Practitioner, Practitioner.id == Visit.practitioner_id)
        .where(
            Visit.status == VisitStatus.DRAFT.value,
            Visit.started_at < start,
            Patient.deleted_at.is_(None),
        )
        .order_by(Visit.started_at, Visit.id)
    )
    if practitioner_id is not None:
        query = query.where(Visit.practitioner_id == practitioner_id)
    return [
        DraftRow(
            r.id,
            r.patient_id,
            full_name(r.family_name, r.given_name, r.preferred_name),
            r.chart_number,
            r.practitioner_id,
            r.name,
            r.started_at,
            r.number,
        )
        for r in session.execute(query)
    ]


def summary(drafts: list[DraftRow], today: date | None = None) -> str:
    """ "3 visits not signed, oldest 4 days" (empty when there are none)."""
    if not drafts:
        return ""
    today = today or date.today()
    oldest = max(d.age_days(today) for d in drafts)
    count = len(drafts)
    return (
        f"{count} visit{'s' if count != 1 else ''} not signed, "
        f"oldest {oldest} day{'s' if oldest != 1 else ''}"
    )
