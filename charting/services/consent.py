"""Consent to treatment: what a patient agreed to for a course, the risks explained, withdrawal.

The risk wording is our own plain summary of the published figures and advice: common
needle-site soreness, bruising and tiredness (NHS-ACU; YORK-PT: about 1 in 4 felt tired;
WITT: bleeding or bruising was the commonest effect), fainting (WHO99-FAINT), rare lung
injury from needles over the chest or upper back (PTX, WITT: 2 in about 229,000 patients),
infection (XU13), electroacupuncture and implanted devices, epilepsy or pregnancy
(BMAS-ICD, MEDSCAPE, WUWEI), cupping marks, blisters and burns (NCCIH-CUP, CUP-GC), and the
extra bleeding of bloodletting (WHO99-TOC). Pregnancy needs its own consent because points and
techniques are avoided in pregnancy and the evidence either way is thin (PREGLISTS, BIRCH,
GDS11, NHS-ACU).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from charting.models import Consent, Patient, Practitioner, utcnow
from charting.services.access import Permission, actor_of, require
from charting.services.changes import Changes
from charting.services.errors import NotFoundError, ServiceError, ValidationError
from charting.services.settings import ClinicSettings, load_settings
from charting.services.validation import check_text

if TYPE_CHECKING:
    from charting.services.report_data import PatientInfo

ACUPUNCTURE = "acupuncture"
ELECTRO = "electroacupuncture"
CUPPING = "cupping"
BLOODLETTING = "bloodletting"
PREGNANCY = "pregnancy"

#: The treatments a consent can cover, in the order the form shows them.
TREATMENTS: dict[str, str] = {
    ACUPUNCTURE: "Acupuncture (fine sterile single-use needles)",
    ELECTRO: "Electroacupuncture (a small current between needles)",
    CUPPING: "Cupping (suction cups on the skin)",
    BLOODLETTING: "Bloodletting (pricking to release a few drops of blood)",
    PREGNANCY: "Treatment during pregnancy",
}


@dataclass(frozen=True)
class Risk:
    """One risk explained to the patient, in plain words."""

    key: str
    treatment: str
    text: str


RISKS: tuple[Risk, ...] = (
    Risk(
        "soreness",
        ACUPUNCTURE,
        "Soreness, a small bruise or a drop of blood where a needle went in is common and "
        "usually goes within a day or two.",
    ),
    Risk(
        "tiredness",
        ACUPUNCTURE,
        "About one person in four feels tired or drowsy afterwards; do not drive if you do.",
    ),
    Risk(
        "fainting",
        ACUPUNCTURE,
        "Some people feel faint during treatment; we treat you lying down and watch for it.",
    ),
    Risk(
        "flare",
        ACUPUNCTURE,
        "Your usual pain can feel worse for a day before it settles.",
    ),
    Risk(
        "lung",
        ACUPUNCTURE,
        "Very rarely a needle over the chest or upper back can injure the lung, which can "
        "show hours or days later as breathlessness or chest pain: call emergency services.",
    ),
    Risk(
        "infection",
        ACUPUNCTURE,
        "Infection at a needle site is rare; we use sterile single-use needles.",
    ),
    Risk(
        "ea_device",
        ELECTRO,
        "The current must not be used with a pacemaker or other implanted electrical device, "
        "and is used with care with epilepsy or in pregnancy; tell us about any of these.",
    ),
    Risk(
        "ea_sensation",
        ELECTRO,
        "You will feel tingling or tapping; tell us at once if it becomes uncomfortable.",
    ),
    Risk(
        "cup_marks",
        CUPPING,
        "Round red or purple marks are expected and usually fade within a few days to two "
        "weeks; they can look like bruises.",
    ),
    Risk(
        "cup_skin",
        CUPPING,
        "Blisters, broken skin or, with fire cupping, burns can happen; call us if they do.",
    ),
    Risk(
        "bleeding",
        BLOODLETTING,
        "A few drops of blood are released on purpose; bleeding and bruising are more likely, "
        "especially with blood-thinning medicine or a bleeding disorder.",
    ),
    Risk(
        "pregnancy",
        PREGNANCY,
        "Some points and techniques are avoided in pregnancy. The evidence either way is "
        "limited, so we explain what we plan and avoid those points.",
    ),
)
RISK_KEYS = frozenset(r.key for r in RISKS)


@dataclass
class ConsentInput:
    """The consent form as the practitioner fills it in."""

    patient_id: int
    course: str = ""
    treatments: list[str] = field(default_factory=list)
    risks: list[str] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class ConsentRow:
    """A consent as the consent screen and form show it."""

    id: int
    patient_id: int
    course: str
    treatments: tuple[str, ...]
    risks: tuple[str, ...]
    note: str
    taken_by: str
    taken_at: datetime
    withdrawn_at: datetime | None
    withdrawn_by: str
    withdrawal_reason: str

    @property
    def active(self) -> bool:
        """Not withdrawn."""
        return self.withdrawn_at is None

    @property
    def treatment_labels(self) -> str:
        """The treatments in words, comma-separated."""
        return ", ".join(TREATMENTS[t].split(" (")[0] for t in self.treatments if t in TREATMENTS)


def risks_for(treatments: Iterable[str]) -> list[Risk]:
    """The risks to explain for ``treatments``, in the standard order."""
    wanted = set(treatments)
    return [r for r in RISKS if r.treatment in wanted]


def validate(data: ConsentInput) -> dict[str, str]:
    """Check a consent form; return ``{field: message}`` for every problem."""
    errors: dict[str, str] = {}
    unknown = [t for t in data.treatments if t not in TREATMENTS]
    if not data.treatments or unknown:
        errors["treatments"] = "Tick the treatments the patient agrees to."
    missing = [r.key for r in risks_for(data.treatments) if r.key not in data.risks]
    if not errors and missing:
        errors["risks"] = "Explain and tick every risk of the treatments consented to."
    if any(r not in RISK_KEYS for r in data.risks):
        errors["risks"] = "Unknown risk."
    for name, text, limit in (("course", data.course, 200), ("note", data.note, 2_000)):
        if problem := check_text(text, name.capitalize(), limit):
            errors[name] = problem
    return errors


def record_consent(session: Session, data: ConsentInput) -> tuple[int, Changes]:
    """Record a consent taken now by the signed-in practitioner.

    Raises:
        ValidationError: the form is incomplete.
        PermissionDeniedError: the account is not a practitioner.
    """
    actor = require(session, Permission.CHART, patient_id=data.patient_id)
    if actor.practitioner_id is None:
        raise ServiceError("Consent is taken by a practitioner, signed in with their account.")
    errors = validate(data)
    if errors:
        raise ValidationError(errors)
    patient = session.get(Patient, data.patient_id)
    if patient is None or patient.deleted_at is not None:
        raise NotFoundError("That patient no longer exists.")
    consent = Consent(
        patient_id=data.patient_id,
        course=data.course.strip(),
        treatments=[t for t in TREATMENTS if t in data.treatments],
        risks=[r.key for r in RISKS if r.key in data.risks],
        note=data.note.strip(),
        taken_by_id=actor.practitioner_id,
        taken_at=utcnow(),
    )
    session.add(consent)
    session.flush()
    return consent.id, Changes(patients=frozenset({data.patient_id}))


def withdraw(session: Session, consent_id: int, reason: str) -> Changes:
    """Record that the patient withdrew a consent (kept, marked withdrawn, with the reason)."""
    actor = require(session, Permission.CHART)
    problem = check_text(reason, "Reason", 1_000)
    if problem or len(reason.strip()) < 3:
        raise ValidationError({"reason": problem or "Write what the patient said."})
    consent = session.get(Consent, consent_id)
    if consent is None:
        raise NotFoundError("That consent no longer exists.")
    if consent.withdrawn_at is not None:
        raise ServiceError("This consent was already withdrawn.")
    consent.withdrawn_at = utcnow()
    consent.withdrawn_by = actor.username[:60]
    consent.withdrawal_reason = reason.strip()
    return Changes(patients=frozenset({consent.patient_id}))


def list_consents(session: Session, patient_id: int) -> list[ConsentRow]:
    """A patient's consents, newest first."""
    require(session, Permission.VIEW_CLINICAL, patient_id=patient_id)
    names = {p.id: p.display_name for p in session.scalars(select(Practitioner))}
    rows = session.scalars(
        select(Consent)
        .where(Consent.patient_id == patient_id)
        .order_by(Consent.taken_at.desc(), Consent.id.desc())
    )
    return [
        ConsentRow(
            c.id,
            c.patient_id,
            c.course,
            tuple(c.treatments),
            tuple(c.risks),
            c.note,
            names.get(c.taken_by_id, "?"),
            c.taken_at,
            c.withdrawn_at,
            c.withdrawn_by,
            c.withdrawal_reason,
        )
        for c in rows
    ]


def consent_terms(session: Session, patient_id: int) -> list[tuple[list[str], datetime | None]]:
    """Every consent of a patient as (treatments, withdrawn at), for :func:`covered`: read once
    for all of a course's visits."""
    query = select(Consent.treatments, Consent.withdrawn_at).where(Consent.patient_id == patient_id)
    return [(list(treatments), withdrawn) for treatments, withdrawn in session.execute(query)]


def covered(
    terms: Sequence[tuple[Sequence[str], datetime | None]], signed_at: datetime | None
) -> frozenset[str]:
    """The treatments ``terms`` (see :func:`consent_terms`) cover for a visit.

    For a draft (``signed_at`` None) only consents not withdrawn count, whenever they were
    taken (consent is often recorded as the visit starts). For a signed visit, a consent
    withdrawn after the signature still covered it.
    """
    return frozenset(
        t
        for treatments, withdrawn in terms
        if withdrawn is None or (signed_at is not None and withdrawn > signed_at)
        for t in treatments
    )


def get_consent(session: Session, consent_id: int) -> ConsentRow:
    """One consent."""
    consent = session.get(Consent, consent_id)
    if consent is None:
        raise NotFoundError("That consent no longer exists.")
    for row in list_consents(session, consent.patient_id):
        if row.id == consent_id:
            return row
    raise NotFoundError("That consent no longer exists.")  # pragma: no cover


def actor_name(session: Session) -> str:
    """The signed-in account's display name (for the form's "taken by" line)."""
    return actor_of(session).display_name


def form_data(session: Session, consent_id: int) -> tuple[ClinicSettings, PatientInfo, ConsentRow]:
    """What the printed consent form needs: the letterhead, the patient and the consent."""
    from charting.services.report_data import patient_info  # it imports the safety checks

    row = get_consent(session, consent_id)
    patient = session.get_one(Patient, row.patient_id)
    return load_settings(session), patient_info(patient), row
