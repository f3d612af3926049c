"""Visits: start one, list a patient's course."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from charting.models import Patient, Practitioner, Visit, VisitStatus, utcnow
from charting.services import audit, guard, signatures
from charting.services.access import Permission, actor_of, refusal, require
from charting.services.changes import Changes
from charting.services.errors import NotFoundError, ServiceError, ValidationError
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
    carry_forward: bool = False,
) -> tuple[int, Changes]:
    """Open a new draft visit, numbered next in the patient's course.

    With ``carry_forward``, what usually repeats is filled from the patient's last visit
    (see ``visit_record.carry_forward``).

    Raises:
        NotFoundError: the patient or practitioner does not exist.
        ValidationError: the chief complaint is unusable.
    """
    require(session, Permission.CHART, patient_id=patient_id)
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
    if carry_forward:
        from charting.services.visit_record import carry_forward as carry

        carry(session, visit)
    session.flush()
    return visit.id, Changes(visits=frozenset({visit.id}), patients=frozenset({patient_id}))


def list_visits(session: Session, patient_id: int) -> list[VisitRow]:
    """A patient's visits, newest first (without complaint and pain scores for an account
    that may not read clinical notes: front desk sees dates, practitioners and status)."""
    clinical = require(session, Permission.VIEW_PATIENTS).can(Permission.VIEW_CLINICAL)
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
    if not clinical:
        return [VisitRow(*row[:5], chief_complaint="") for row in rows]
    return [VisitRow(*row) for row in rows]


@dataclass(frozen=True)
class VisitAccess:
    """Whether the signed-in practitioner may write to a visit, and why not, in words."""

    status: str
    practitioner_id: int
    practitioner: str
    editable: bool
    reason: str = ""
    can_take_over: bool = False
    signed_by: str = ""
    signed_at: datetime | None = None
    #: A signed visit that no longer matches its signature: what is wrong, in words.
    signature_problem: str | None = None


def visit_access(session: Session, visit_id: int) -> VisitAccess:
    """Say whether the session's actor may write to ``visit_id`` (the rules of
    :mod:`charting.services.guard`), for a screen to show the visit read-only with the reason.

    Raises:
        NotFoundError: the visit does not exist.
    """
    actor = actor_of(session)
    row = session.execute(
        select(Visit.status, Visit.practitioner_id, Practitioner.name, Visit.signed_at)
        .join(Practitioner, Visit.practitioner_id == Practitioner.id)
        .where(Visit.id == visit_id)
    ).first()
    if row is None:
        raise NotFoundError("That visit no longer exists.")
    status, owner_id, owner, signed_at = row
    if status == VisitStatus.SIGNED.value:
        signer = session.scalar(
            select(Practitioner.name)
            .join(Visit, Visit.signed_by_id == Practitioner.id)
            .where(Visit.id == visit_id)
        )
        return VisitAccess(
            status,
            owner_id,
            owner,
            False,
            guard.signed_problem(),
            False,
            signer or "",
            signed_at,
            # Checked every time a signed visit is opened.
            signatures.signature_problem(session, visit_id),
        )
    if not actor.can(Permission.CHART):
        return VisitAccess(status, owner_id, owner, False, refusal(actor, Permission.CHART))
    problem = guard.draft_problem(actor, owner_id, owner)
    if problem is not None:
        return VisitAccess(
            status, owner_id, owner, False, problem, actor.practitioner_id is not None
        )
    return VisitAccess(status, owner_id, owner, True)


def take_over_draft(session: Session, visit_id: int) -> Changes:
    """Make a colleague's draft the signed-in practitioner's own, to continue charting it.

    The audit log records it as ``visit.taken_over`` with both names; from then on only the
    new practitioner writes to it (and signs it).

    Raises:
        PermissionDeniedError: the account does not chart.
        SignedVisitError: the visit is signed.
        ServiceError: the draft is already the actor's own.
    """
    actor = require(session, Permission.CHART, target=f"visit {visit_id}")
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFoundError("That visit no longer exists.")
    if visit.status == VisitStatus.SIGNED.value:
        raise guard.SignedVisitError(guard.signed_problem())
    if actor.practitioner_id is None or visit.practitioner_id == actor.practitioner_id:
        raise ServiceError("This draft is already yours.")
    before = visit.practitioner.name
    session.info.setdefault(guard.TAKING_OVER, set()).add(visit_id)
    visit.practitioner_id = actor.practitioner_id
    session.flush()
    audit.record(
        session,
        "visit.take_over",
        patient_id=visit.patient_id,
        target=f"visit {visit_id}",
        detail=f"draft of {before} taken over by {actor.display_name}",
    )
    return Changes(visits=frozenset({visit_id}), patients=frozenset({visit.patient_id}))
