"""Patients: create, edit, soft-delete, find."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, func, or_, select, update
from sqlalchemy.orm import Session

from charting.models import Counter, ImplantedDevice, Patient, Sex, Visit, utcnow
from charting.models.entities import full_name
from charting.services.access import Permission, actor_of, require
from charting.services.changes import Changes
from charting.services.errors import NotFoundError, ValidationError
from charting.services.text import fold
from charting.services.validation import (
    check_birth_date,
    check_email,
    check_name,
    check_phone,
    check_text,
    without_control,
)

CHART_COUNTER = "chart_number"
# Lengths of the search-key columns (models.Patient.search_key and family_key).
SEARCH_KEY_LENGTH = 400
FAMILY_KEY_LENGTH = 120


@dataclass
class PatientInput:
    """Everything a patient form collects; the service validates it before storing."""

    family_name: str = ""
    given_name: str = ""
    preferred_name: str = ""
    date_of_birth: date | None = None
    sex: str = Sex.UNKNOWN.value
    phone: str = ""
    email: str = ""
    address: str = ""
    emergency_contact: str = ""
    emergency_phone: str = ""
    pregnant: bool = False
    pregnancy_due_date: date | None = None
    implanted_device: str = ImplantedDevice.NONE.value
    bleeding_disorder: bool = False
    anticoagulant: bool = False
    epilepsy: bool = False
    diabetes: bool = False
    metal_allergy: bool = False
    needle_fainting: bool = False
    peripheral_neuropathy: bool = False
    medical_history: str = ""
    medications: str = ""

    @classmethod
    def from_patient(cls, patient: Patient | PatientView) -> PatientInput:
        """The current values of a stored patient (or of what the account may see of one,
        a :class:`PatientView`), ready for an edit form."""
        return cls(**{f.name: getattr(patient, f.name) for f in fields(cls)})


@dataclass(frozen=True)
class PatientView:
    """What the signed-in account may see of a patient: demographics and contacts for
    everyone who may look patients up; the health part (``CLINICAL_FIELDS``) only when
    ``clinical`` (otherwise those fields hold their empty defaults and mean nothing)."""

    id: int
    chart_number: str
    full_name: str
    family_name: str
    given_name: str
    preferred_name: str
    date_of_birth: date | None
    sex: str
    phone: str
    email: str
    address: str
    emergency_contact: str
    emergency_phone: str
    clinical: bool
    pregnant: bool = False
    pregnancy_due_date: date | None = None
    implanted_device: str = ImplantedDevice.NONE.value
    bleeding_disorder: bool = False
    anticoagulant: bool = False
    epilepsy: bool = False
    diabetes: bool = False
    metal_allergy: bool = False
    needle_fainting: bool = False
    peripheral_neuropathy: bool = False
    medical_history: str = ""
    medications: str = ""


# The health part of a patient's record: clinical data, shown only to accounts that may read
# clinical notes (practitioners and clinic admins). Front desk finds, registers and books
# patients with demographics and contacts only (the "minimum necessary" rule of HIPAA,
# 45 CFR 164.502(b)): these facts matter to whoever treats the patient, not to a booking.
# They are the view's fields after ``clinical``: listed once, there.
_VIEW_FIELDS = [f.name for f in fields(PatientView)]
CLINICAL_FIELDS: tuple[str, ...] = tuple(_VIEW_FIELDS[_VIEW_FIELDS.index("clinical") + 1 :])


def validate_patient(data: PatientInput, today: date | None = None) -> dict[str, str]:
    """Check a patient form; return ``{field: message}`` for every problem (empty if valid)."""
    today = today or date.today()
    checks: dict[str, str | None] = {
        "family_name": check_name(data.family_name, "Family name"),
        "given_name": check_name(data.given_name, "Given name"),
        "preferred_name": check_name(data.preferred_name, "Preferred name", required=False),
        "date_of_birth": check_birth_date(data.date_of_birth, today),
        "phone": check_phone(data.phone),
        "email": check_email(data.email),
        "address": check_text(data.address, "Address", 500),
        "emergency_contact": check_name(
            data.emergency_contact, "Emergency contact", required=False, max_len=200
        ),
        "emergency_phone": check_phone(data.emergency_phone, "Emergency phone"),
        "medical_history": check_text(data.medical_history, "Medical history", 20_000),
        "medications": check_text(data.medications, "Medications", 5_000),
    }
    if data.sex not in {s.value for s in Sex}:
        checks["sex"] = "Choose one of the listed options."
    if data.implanted_device not in {d.value for d in ImplantedDevice}:
        checks["implanted_device"] = "Choose one of the listed devices."
    due = data.pregnancy_due_date
    if due is not None:
        if not data.pregnant:
            checks["pregnancy_due_date"] = "A due date needs 'Pregnant' ticked."
        elif not today - timedelta(days=30) <= due <= today + timedelta(days=300):
            checks["pregnancy_due_date"] = "Due date should be within the next 10 months."
    return {k: v for k, v in checks.items() if v}


def _apply(patient: Patient, data: PatientInput) -> None:
    for f in fields(PatientInput):
        value = getattr(data, f.name)
        setattr(patient, f.name, value.strip() if isinstance(value, str) else value)
    # Folding can lengthen a name ("ß" -> "ss"), and PostgreSQL enforces the key columns'
    # lengths: the keys only serve search, so a name's far end may be cut from them.
    patient.search_key = fold(
        " ".join(filter(None, (patient.family_name, patient.given_name, patient.preferred_name)))
    )[:SEARCH_KEY_LENGTH]
    patient.family_key = fold(patient.family_name)[:FAMILY_KEY_LENGTH]


def next_chart_number(session: Session) -> str:
    """Take the next chart number inside the caller's transaction."""
    bumped = session.execute(
        update(Counter)
        .where(Counter.name == CHART_COUNTER)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    ).scalar()
    if bumped is None:
        highest = session.scalar(select(func.count(Patient.id))) or 0
        bumped = highest + 1
        session.add(Counter(name=CHART_COUNTER, value=bumped))
        session.flush()
    return format_chart_number(bumped)


def format_chart_number(n: int) -> str:
    """Chart numbers are six digits, zero-padded ("000042")."""
    return f"{n:06d}"


def create_patient(session: Session, data: PatientInput) -> tuple[int, Changes]:
    """Store a new patient with a fresh chart number.

    Raises:
        ValidationError: the form has problems; nothing is stored.
    """
    require(session, Permission.EDIT_PATIENTS)
    errors = validate_patient(data)
    if errors:
        raise ValidationError(errors)
    data = _keep_health(session, data, None)
    patient = Patient(chart_number=next_chart_number(session))
    _apply(patient, data)
    session.add(patient)
    session.flush()
    return patient.id, Changes(patients=frozenset({patient.id}))


def _live(session: Session, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None or patient.deleted_at is not None:
        raise NotFoundError("That patient no longer exists.")
    return patient


def get_patient(session: Session, patient_id: int) -> Patient:
    """The whole patient record (health included), unless it does not exist or was deleted.

    Raises:
        PermissionDeniedError: the account may not read clinical notes (front desk uses
            :func:`patient_view`).
    """
    require(session, Permission.VIEW_CLINICAL, patient_id=patient_id)
    return _live(session, patient_id)


def patient_view(session: Session, patient_id: int) -> PatientView:
    """What the signed-in account may see of a patient (front desk: no health part)."""
    actor = require(session, Permission.VIEW_PATIENTS)
    patient = _live(session, patient_id)
    clinical = actor.can(Permission.VIEW_CLINICAL)
    health = {name: getattr(patient, name) for name in CLINICAL_FIELDS} if clinical else {}
    return PatientView(
        id=patient.id,
        chart_number=patient.chart_number,
        full_name=patient.full_name,
        family_name=patient.family_name,
        given_name=patient.given_name,
        preferred_name=patient.preferred_name,
        date_of_birth=patient.date_of_birth,
        sex=patient.sex,
        phone=patient.phone,
        email=patient.email,
        address=patient.address,
        emergency_contact=patient.emergency_contact,
        emergency_phone=patient.emergency_phone,
        clinical=clinical,
        **health,
    )


def _keep_health(session: Session, data: PatientInput, patient: Patient | None) -> PatientInput:
    """An account that may not read clinical notes changes no health field: on an edit the
    stored ones stay; on registering, health details are left for the practitioner."""
    if actor_of(session).can(Permission.VIEW_CLINICAL):
        return data
    blank = PatientInput()
    kept = {
        name: getattr(patient, name) if patient is not None else getattr(blank, name)
        for name in CLINICAL_FIELDS
    }
    if patient is None and any(getattr(data, n) != kept[n] for n in CLINICAL_FIELDS):
        raise ValidationError(
            {"medical_history": "Health details are recorded by the practitioner, not here."}
        )
    return replace(data, **kept)


def update_patient(session: Session, patient_id: int, data: PatientInput) -> Changes:
    """Replace a patient's details.

    Raises:
        ValidationError: the form has problems; nothing is changed.
    """
    require(session, Permission.EDIT_PATIENTS)
    errors = validate_patient(data)
    if errors:
        raise ValidationError(errors)
    patient = _live(session, patient_id)
    _apply(patient, _keep_health(session, data, patient))
    return Changes(patients=frozenset({patient_id}))


def delete_patient(session: Session, patient_id: int) -> Changes:
    """Hide a patient from lists and searches; no clinical record is removed."""
    require(session, Permission.DELETE_PATIENTS)
    patient = _live(session, patient_id)
    patient.deleted_at = utcnow()
    return Changes(patients=frozenset({patient_id}))


def count_patients(session: Session) -> int:
    """Number of patients that are not deleted."""
    return session.scalar(select(func.count(Patient.id)).where(Patient.deleted_at.is_(None))) or 0


_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY_DATE = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")


def _as_date(text: str) -> date | None:
    for pattern, order in ((_ISO_DATE, (0, 1, 2)), (_DMY_DATE, (2, 1, 0))):
        m = pattern.match(text)
        if m:
            parts = [int(g) for g in m.groups()]
            try:
                return date(parts[order[0]], parts[order[1]], parts[order[2]])
            except ValueError:
                return None
    return None


def _chart_prefix(digits: str) -> ColumnElement[bool]:
    """Chart numbers starting with ``digits``, as a range the index can serve (a LIKE
    prefix cannot use it on SQLite, nor under a PostgreSQL locale collation).

    Chart numbers are digit strings (format_chart_number), so "0049" means from "0049"
    up to, not including, "005"; a run of nines has no upper end.
    """
    stem = digits.rstrip("9")
    condition = Patient.chart_number >= digits
    if stem:
        condition = and_(condition, Patient.chart_number < stem[:-1] + str(int(stem[-1]) + 1))
    return condition


def _search_query(text: str) -> Select[Any]:
    """Live patients matching ``text``, best matches first (see search_patient_ids)."""
    query = select(Patient.id).where(Patient.deleted_at.is_(None))
    # Typed or pasted text may hold a lone surrogate or a NUL, which no database can take
    # as a parameter: they match nothing, so they are searched as spaces.
    text = without_control(text).strip()
    born = _as_date(text)
    if born is not None:
        return query.where(Patient.date_of_birth == born).order_by(Patient.search_key, Patient.id)
    if text.lstrip("#").isdigit():
        digits = text.lstrip("#")
        prefix = _chart_prefix(digits)
        # "42" also finds chart 000042 (a pasted run of thousands of digits is no chart).
        padded = format_chart_number(int(digits)) if len(digits) <= 20 else digits
        if not padded.startswith(digits):
            prefix = or_(prefix, Patient.chart_number == padded)
        return query.where(prefix).order_by(Patient.chart_number)
    words = fold(text).split()
    if len(words) == 1 and len(words[0]) == 1:
        # One letter: family names starting with it, straight from the index (a substring
        # match on one letter would list most of a large clinic in no useful order).
        return query.where(Patient.family_key.startswith(words[0], autoescape=True)).order_by(
            Patient.family_key, Patient.search_key, Patient.id
        )
    for word in words:
        query = query.where(Patient.search_key.contains(word, autoescape=True))
    if not words:
        return query.order_by(Patient.search_key, Patient.id)
    first = Patient.family_key.startswith(words[0], autoescape=True)
    return query.order_by(first.desc(), Patient.search_key, Patient.id)


def search_patient_ids(
    session: Session, text: str, limit: int | None = None, offset: int = 0
) -> list[int]:
    """Ids of live patients matching ``text``, best matches first.

    ``text`` may be a date of birth (1975-03-14 or 14.03.1975), a chart number (digits,
    matched as a prefix), a single letter (family names starting with it), or words that
    must each occur in the patient's names (any order, accents and case ignored). Patients
    whose family name starts with the first word come first; the rest follow in name order.
    ``offset`` and ``limit`` read one page of that order (every order ends with a unique
    key, so pages neither overlap nor skip).
    """
    require(session, Permission.VIEW_PATIENTS)
    query = _search_query(text)
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def count_search(session: Session, text: str) -> int:
    """How many live patients ``search_patient_ids`` would return for ``text``."""
    require(session, Permission.VIEW_PATIENTS)
    matching = _search_query(text).order_by(None).subquery()
    return session.scalar(select(func.count()).select_from(matching)) or 0


@dataclass(frozen=True)
class PatientRow:
    """What the patient list shows for one patient."""

    id: int
    chart_number: str
    name: str
    date_of_birth: date | None
    flags: tuple[str, ...]
    visit_count: int


_HEALTH_COLUMNS = (
    Patient.pregnant,
    Patient.pregnancy_due_date,
    Patient.implanted_device,
    Patient.bleeding_disorder,
    Patient.anticoagulant,
    Patient.epilepsy,
    Patient.needle_fainting,
    Patient.diabetes,
    Patient.metal_allergy,
    Patient.peripheral_neuropathy,
)


def health_flags(patient: Patient | PatientView | Row[*tuple[Any, ...]]) -> tuple[str, ...]:
    """Short labels of the health flags set on a patient (or on a row read with
    ``_HEALTH_COLUMNS``), most serious first."""
    flags: list[str] = []
    if patient.pregnant:
        due = (
            f" (due {patient.pregnancy_due_date.isoformat()})" if patient.pregnancy_due_date else ""
        )
        flags.append(f"Pregnant{due}")
    if patient.implanted_device != ImplantedDevice.NONE.value:
        flags.append(f"Implanted device: {DEVICE_LABELS[patient.implanted_device]}")
    if patient.bleeding_disorder:
        flags.append("Bleeding disorder")
    if patient.anticoagulant:
        flags.append("Anticoagulant/antiplatelet")
    if patient.epilepsy:
        flags.append("Epilepsy")
    if patient.needle_fainting:
        flags.append("Faints with needles")
    if patient.diabetes:
        flags.append("Diabetes")
    if patient.metal_allergy:
        flags.append("Metal allergy")
    if patient.peripheral_neuropathy:
        flags.append("Peripheral neuropathy")
    return tuple(flags)


# Abbreviations for narrow places such as the patient list, keyed by the label's first word.
FLAG_ABBREVIATIONS = {
    "Pregnant": "Preg",
    "Implanted": "Device",
    "Bleeding": "Bleed",
    "Anticoagulant/antiplatelet": "Anticoag",
    "Epilepsy": "Epil",
    "Faints": "Faints",
    "Diabetes": "DM",
    "Peripheral": "Neuropathy",
    "Metal": "Metal",
}


def abbreviate_flags(flags: tuple[str, ...]) -> str:
    """A compact form of health-flag labels ("Preg · Anticoag")."""
    return " \u00b7 ".join(FLAG_ABBREVIATIONS.get(f.split()[0], f) for f in flags)


DEVICE_LABELS = {
    ImplantedDevice.NONE.value: "None",
    ImplantedDevice.PACEMAKER.value: "Pacemaker",
    ImplantedDevice.ICD.value: "Defibrillator (ICD)",
    ImplantedDevice.STIMULATOR.value: "Nerve/spinal stimulator",
    ImplantedDevice.PUMP.value: "Implanted pump",
    ImplantedDevice.OTHER.value: "Other electrical implant",
}

SEX_LABELS = {
    Sex.FEMALE.value: "Female",
    Sex.MALE.value: "Male",
    Sex.INTERSEX.value: "Intersex",
    Sex.UNKNOWN.value: "Not recorded",
}


def patient_rows(session: Session, ids: list[int]) -> list[PatientRow]:
    """Rows for the given patient ids, in the same order.

    One statement for the batch: only the columns the list shows, with each patient's visit
    count beside them (on PostgreSQL a second query would be a second round trip, and whole
    patient objects cost more to build than the list needs).
    """
    clinical = require(session, Permission.VIEW_PATIENTS).can(Permission.VIEW_CLINICAL)
    if not ids:
        return []
    visit_count = (
        select(func.count(Visit.id))
        .where(Visit.patient_id == Patient.id)
        .correlate(Patient)
        .scalar_subquery()
        .label("visit_count")
    )
    query = select(
        Patient.id,
        Patient.chart_number,
        Patient.family_name,
        Patient.given_name,
        Patient.preferred_name,
        Patient.date_of_birth,
        *_HEALTH_COLUMNS,
        visit_count,
    ).where(Patient.id.in_(ids))
    by_id = {r.id: r for r in session.execute(query)}
    return [
        PatientRow(
            id=r.id,
            chart_number=r.chart_number,
            name=full_name(r.family_name, r.given_name, r.preferred_name),
            date_of_birth=r.date_of_birth,
            flags=health_flags(r) if clinical else (),
            visit_count=r.visit_count,
        )
        for r in (by_id[i] for i in ids if i in by_id)
    ]
