"""The visit record: every field saved as it is edited, EA pairs, adverse events, signing.

Each field is validated on its own, so one bad value is refused with a message while the
rest of the visit keeps saving. A signed visit refuses every change here, whatever the UI
does; corrections are amendments kept beside the untouched original.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from charting.models import (
    AdverseEvent,
    Amendment,
    AuditEvent,
    EAPair,
    Mark,
    MarkKind,
    SafetyAcknowledgement,
    Visit,
    VisitStatus,
    utcnow,
)
from charting.services import clinical_lists as lists
from charting.services.access import Permission, PermissionDeniedError, actor_of, deny, require
from charting.services.appointments import visit_signed
from charting.services.changes import Changes
from charting.services.errors import NotFoundError, ServiceError, ValidationError
from charting.services.marks import MARK_FIELDS, SignedVisitError
from charting.services.validation import check_text


@dataclass(frozen=True)
class FieldSpec:
    """How one visit field is validated: its label, kind and limits."""

    label: str
    kind: str  # text, int, date, datetime, bool, choices, psfs
    low: int = 0
    high: int = 0
    max_len: int = 4_000
    choices: frozenset[str] = frozenset()


def _text(label: str, max_len: int = 4_000) -> FieldSpec:
    return FieldSpec(label, "text", max_len=max_len)


def _nrs(label: str) -> FieldSpec:
    return FieldSpec(label, "int", 0, 10)


FIELDS: dict[str, FieldSpec] = {
    "chief_complaint": _text("Chief complaint", 2_000),
    "notes": _text("Notes", 20_000),
    "onset": _text("Onset", 500),
    "duration": _text("Duration", 500),
    "mechanism": _text("Mechanism", 1_000),
    "pain_quality": _text("Pain quality", 500),
    "radiation": _text("Radiation", 1_000),
    "aggravating": _text("Aggravating factors", 1_000),
    "easing": _text("Easing factors", 1_000),
    "sleep": _text("Sleep", 1_000),
    "current_medications": _text("Current medications", 2_000),
    "pain_now": _nrs("Pain now"),
    "pain_best": _nrs("Pain at best"),
    "pain_worst": _nrs("Pain at worst"),
    "response_since_last": _text("Response since the last visit", 2_000),
    "red_flags": FieldSpec("Red flags", "choices", choices=lists.ids(lists.RED_FLAGS)),
    "referral_decision": _text("Referral decision", 2_000),
    "posture": _text("Posture"),
    "range_of_motion": _text("Range of motion"),
    "palpation": _text("Palpation findings"),
    "straight_leg_raise": _text("Straight-leg raise", 500),
    "reflexes": _text("Reflexes", 500),
    "sensation": _text("Sensation", 500),
    "tongue": _text("Tongue", 500),
    "pulse": _text("Pulse", 500),
    "tcm_patterns": FieldSpec("TCM patterns", "choices", max_len=200),
    "assessment": _text("Assessment"),
    "icd10_codes": FieldSpec("ICD-10-CM codes", "choices", choices=lists.ids(lists.ICD10_CODES)),
    "needle_brand": _text("Needle brand", 120),
    "needle_gauge": _text("Needle gauge", 30),
    "needle_length": _text("Needle length", 30),
    "needle_lot": _text("Needle lot number", 60),
    "needle_expiry": FieldSpec("Needle expiry", "date"),
    "needles_out": FieldSpec("Needles out", "int", 0, 200),
    "retention_minutes": FieldSpec("Retention", "int", 0, 240),
    "moxibustion": _text("Moxibustion", 1_000),
    "heat_lamp": FieldSpec("Heat lamp", "bool"),
    "home_advice": FieldSpec("Home advice", "choices", choices=lists.ids(lists.HOME_ADVICE)),
    "home_advice_notes": _text("Home advice notes", 2_000),
    "pain_after": _nrs("Pain after treatment"),
    "patient_response": _text("Patient response", 2_000),
    "next_appointment": FieldSpec("Next appointment", "datetime"),
    "handout_given": FieldSpec("Handout given", "bool"),
    "psfs": FieldSpec("PSFS", "psfs"),
    "odi_percent": FieldSpec("ODI total", "int", 0, 100),
    "rmdq_score": FieldSpec("RMDQ total", "int", 0, 24),
}
# Needle products are usually the same from one visit to the next (STRICTA 2c).
REMEMBERED_FROM_PREVIOUS = (
    "needle_brand",
    "needle_gauge",
    "needle_length",
    "needle_lot",
    "needle_expiry",
)


def validate_field(name: str, value: Any, visit: Visit | None = None) -> str | None:
    """Return a message if ``value`` cannot be stored in field ``name``, else None."""
    spec = FIELDS.get(name)
    if spec is None:
        return f"'{name}' is not a field of the visit."
    if spec.kind == "text":
        if not isinstance(value, str):
            return f"{spec.label} must be text."
        return check_text(value, spec.label, spec.max_len)
    if spec.kind == "int":
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()))
        ):
            return f"{spec.label} must be a whole number."
        if not spec.low <= value <= spec.high:
            return f"{spec.label} must be between {spec.low} and {spec.high}."
        return None
    if spec.kind == "bool":
        return None if isinstance(value, bool) else f"{spec.label} must be yes or no."
    if spec.kind == "date":
        return None if value is None or type(value) is date else f"{spec.label} must be a date."
    if spec.kind == "datetime":
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            return f"{spec.label} must be a date and time."
        if visit is not None and name == "next_appointment" and value <= visit.started_at:
            return "The next appointment must be after this visit."
        return None
    if spec.kind == "choices":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"{spec.label} must be a list."
        unknown = [v for v in value if spec.choices and v not in spec.choices]
        if unknown:
            return f"{spec.label}: unknown entries {', '.join(unknown)}."
        if any(len(v) > spec.max_len for v in value):
            return f"{spec.label}: an entry is too long."
        return None
    if spec.kind == "psfs":
        return _check_psfs(value)
    return None  # pragma: no cover - every kind is handled above


def _check_psfs(value: Any) -> str | None:
    if not isinstance(value, list) or len(value) > 5:
        return "PSFS takes up to five activities."
    for item in value:
        if not isinstance(item, dict) or set(item) != {"activity", "score"}:
            return "Each PSFS entry needs an activity and a score."
        if not isinstance(item["activity"], str) or not item["activity"].strip():
            return "Name each PSFS activity."
        score = item["score"]
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
            return "PSFS scores are whole numbers from 0 (unable) to 10 (as before the problem)."
    return None


def _draft(session: Session, visit_id: int) -> Visit:
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFoundError("That visit no longer exists.")
    if visit.status == VisitStatus.SIGNED.value:
        raise SignedVisitError(
            "This visit is signed and can no longer be edited; add an amendment."
        )
    return visit


class ConcurrentEditError(ServiceError):
    """The visit changed (on another workstation) since the caller last read it."""


def current_version(session: Session, visit_id: int) -> int:
    """The visit's version counter, as a later :func:`update_fields` should expect it."""
    session.flush()
    version = session.scalar(select(Visit.version).where(Visit.id == visit_id))
    if version is None:
        raise NotFoundError("That visit no longer exists.")
    return version


def _last_change_by_other(session: Session, visit_id: int) -> str:
    actor = actor_of(session)
    row = session.execute(
        select(AuditEvent.username, AuditEvent.at)
        .where(AuditEvent.target == f"visit {visit_id}", AuditEvent.action == "visit.update")
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    if row is None or row.username == actor.username:
        return "on another workstation"
    return f"by {row.username} at {row.at.astimezone().strftime('%H:%M')}"


def update_fields(
    session: Session, visit_id: int, values: dict[str, Any], expected_version: int | None = None
) -> Changes:
    """Store edited fields of a draft visit.

    ``expected_version`` is the version the caller's copy was read at (see
    :func:`current_version`); if the visit changed since, nothing is stored, so one
    workstation never silently overwrites another's notes.

    Raises:
        ValidationError: one or more values are refused (nothing of this call is stored).
        SignedVisitError: the visit is signed.
        ConcurrentEditError: the visit changed since ``expected_version``.
    """
    visit = _draft(session, visit_id)
    if expected_version is not None and visit.version != expected_version:
        raise ConcurrentEditError(
            f"This visit was changed {_last_change_by_other(session, visit_id)} after you "
            "opened it, so your change was not saved. Their version is shown now."
        )
    errors = {name: msg for name, v in values.items() if (msg := validate_field(name, v, visit))}
    if errors:
        raise ValidationError(errors)
    for name, value in values.items():
        setattr(visit, name, value.strip() if FIELDS[name].kind == "text" else value)
    return Changes(visits=frozenset({visit_id}))


def record(session: Session, visit_id: int) -> dict[str, Any]:
    """Every editable field of a visit, by name."""
    require(session, Permission.VIEW_CLINICAL)
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFoundError("That visit no longer exists.")
    return {name: getattr(visit, name) for name in FIELDS}


def remembered_values(session: Session, visit_id: int) -> dict[str, Any]:
    """Needle product fields from the patient's previous visit, for a new visit to reuse."""
    visit = session.get(Visit, visit_id)
    if visit is None:
        return {}
    previous = session.scalar(
        select(Visit)
        .where(Visit.patient_id == visit.patient_id, Visit.number < visit.number)
        .order_by(Visit.number.desc())
        .limit(1)
    )
    if previous is None:
        return {}
    return {
        name: getattr(previous, name)
        for name in REMEMBERED_FROM_PREVIOUS
        if getattr(previous, name) and not getattr(visit, name)
    }


def needles_in(session: Session, visit_id: int) -> int:
    """Needles inserted, from the marks (each side's mark is one needle; cups excluded)."""
    kinds = session.scalars(select(Mark.kind).where(Mark.visit_id == visit_id))
    return sum(1 for kind in kinds if kind != MarkKind.CUPPING.value)


# -- electroacupuncture ----------------------------------------------------------------------
@dataclass(frozen=True)
class EASettings:
    """Stimulation of one electroacupuncture pair (STRICTA 2e)."""

    waveform: str = ""
    frequency_hz: float | None = None
    intensity_ma: float | None = None
    minutes: int | None = None
    device: str = ""


def _check_ea(settings: EASettings) -> dict[str, str]:
    errors: dict[str, str] = {}
    limits = (
        ("frequency_hz", 0, 200, "Frequency", "Hz"),
        ("intensity_ma", 0, 50, "Intensity", "mA"),
        ("minutes", 0, 120, "Minutes", "min"),
    )
    for name, low, high, label, unit in limits:
        value = getattr(settings, name)
        if value is None:
            continue
        if (
            not isinstance(value, int | float)
            or not math.isfinite(value)
            or not low < value <= high
        ):
            errors[name] = f"{label} must be above {low} and at most {high} {unit}."
    if len(settings.device) > 120 or len(settings.waveform) > 30:
        errors["device"] = "Device or waveform name is too long."
    for name, label in (("device", "Device"), ("waveform", "Waveform")):
        # Control characters, NUL among them (which PostgreSQL cannot store at all).
        if problem := check_text(getattr(settings, name), label, 120):
            errors.setdefault(name, problem)
    return errors


def add_ea_pair(
    session: Session, visit_id: int, mark_a: int, mark_b: int, settings: EASettings
) -> tuple[int, Changes]:
    """Join two needled marks of the visit with an EA lead.

    Raises:
        ValidationError: the pair does not name two different needled marks of this visit,
            or a stimulation value is out of range.
    """
    _draft(session, visit_id)
    if mark_a == mark_b:
        raise ValidationError({"marks": "An EA pair needs two different needles."})
    marks = {m.id: m for m in session.scalars(select(Mark).where(Mark.id.in_([mark_a, mark_b])))}
    if len(marks) != 2 or any(m.visit_id != visit_id for m in marks.values()):
        raise ValidationError({"marks": "Choose two marks of this visit for the EA pair."})
    if any(m.kind == MarkKind.CUPPING.value for m in marks.values()):
        raise ValidationError({"marks": "An EA lead goes on a needle, not a cupping site."})
    errors = _check_ea(settings)
    if errors:
        raise ValidationError(errors)
    pair = EAPair(visit_id=visit_id, mark_a_id=mark_a, mark_b_id=mark_b, **vars(settings))
    session.add(pair)
    for mark in marks.values():
        mark.technique = "electro"
    session.flush()
    return pair.id, Changes(visits=frozenset({visit_id}), marks=frozenset(marks))


def delete_ea_pair(session: Session, pair_id: int) -> Changes:
    """Remove an EA pair (the needles stay)."""
    pair = session.get(EAPair, pair_id)
    if pair is None:
        raise NotFoundError("That EA pair was already removed.")
    _draft(session, pair.visit_id)
    session.delete(pair)
    return Changes(visits=frozenset({pair.visit_id}))


def ea_pairs(session: Session, visit_id: int) -> list[EAPair]:
    """A visit's EA pairs in the order they were made."""
    require(session, Permission.VIEW_CLINICAL)
    return list(
        session.scalars(select(EAPair).where(EAPair.visit_id == visit_id).order_by(EAPair.id))
    )


# -- adverse events --------------------------------------------------------------------------
def add_adverse_event(
    session: Session, visit_id: int, kind: str, severity: str, action: str = "", note: str = ""
) -> tuple[int, Changes]:
    """Record an adverse event with its severity and the action taken."""
    _draft(session, visit_id)
    errors: dict[str, str] = {}
    if kind not in lists.ids(lists.ADVERSE_EVENT_KINDS):
        errors["kind"] = "Choose what happened from the list."
    if severity not in lists.ids(lists.ADVERSE_SEVERITIES):
        errors["severity"] = "Choose mild, significant or serious."
    if kind == "other" and not note.strip():
        errors["note"] = "Describe what happened."
    for name, text in (("action", action), ("note", note)):
        if problem := check_text(text, name.capitalize(), 2_000):
            errors[name] = problem
    if errors:
        raise ValidationError(errors)
    event = AdverseEvent(
        visit_id=visit_id, kind=kind, severity=severity, action=action.strip(), note=note.strip()
    )
    session.add(event)
    session.flush()
    return event.id, Changes(visits=frozenset({visit_id}))


def delete_adverse_event(session: Session, event_id: int) -> Changes:
    """Remove an adverse event entered by mistake (draft visits only)."""
    event = session.get(AdverseEvent, event_id)
    if event is None:
        raise NotFoundError("That adverse event was already removed.")
    _draft(session, event.visit_id)
    session.delete(event)
    return Changes(visits=frozenset({event.visit_id}))


def adverse_events(session: Session, visit_id: int) -> list[AdverseEvent]:
    """A visit's adverse events."""
    require(session, Permission.VIEW_CLINICAL)
    query = select(AdverseEvent).where(AdverseEvent.visit_id == visit_id).order_by(AdverseEvent.id)
    return list(session.scalars(query))


# -- safety acknowledgements -------------------------------------------------------------------
def acknowledge(
    session: Session,
    visit_id: int,
    key: str,
    rule: str,
    severity: str,
    message: str,
    practitioner_id: int | None,
    reason: str = "",
) -> Changes:
    """Store that a warning was seen (a block needs the reason it is overridden)."""
    _draft(session, visit_id)
    if severity == "block" and len(reason.strip()) < 5:
        raise ValidationError({"reason": "Say why this is safe to do (at least a few words)."})
    if problem := check_text(reason, "Reason", 2_000):
        raise ValidationError({"reason": problem})
    ack = session.scalar(
        select(SafetyAcknowledgement).where(
            SafetyAcknowledgement.visit_id == visit_id, SafetyAcknowledgement.warning_key == key
        )
    )
    if ack is None:
        ack = SafetyAcknowledgement(visit_id=visit_id, warning_key=key)
        session.add(ack)
    ack.rule, ack.severity, ack.message, ack.reason = rule, severity, message, reason.strip()
    ack.acknowledged_by_id = practitioner_id
    ack.acknowledged_at = utcnow()
    return Changes(visits=frozenset({visit_id}))


def acknowledgements(session: Session, visit_id: int) -> dict[str, SafetyAcknowledgement]:
    """The visit's acknowledgements by warning key."""
    require(session, Permission.VIEW_CLINICAL)
    query = select(SafetyAcknowledgement).where(SafetyAcknowledgement.visit_id == visit_id)
    return {a.warning_key: a for a in session.scalars(query)}


# -- signing and amendments ----------------------------------------------------------------------
def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def signed_content(session: Session, visit_id: int) -> dict[str, Any]:
    """What a signature covers: the record, its marks, EA pairs, events and acknowledgements."""
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFoundError("That visit no longer exists.")
    marks = session.scalars(select(Mark).where(Mark.visit_id == visit_id).order_by(Mark.id))
    return {
        "visit": {
            "id": visit.id,
            "patient_id": visit.patient_id,
            "number": visit.number,
            "practitioner_id": visit.practitioner_id,
            "started_at": visit.started_at.isoformat(),
        },
        "record": {k: _jsonable(v) for k, v in record(session, visit_id).items()},
        "marks": [{"id": m.id, **{c: getattr(m, c) for c in MARK_FIELDS}} for m in marks],
        "ea_pairs": [
            {
                c: getattr(p, c)
                for c in (
                    "mark_a_id",
                    "mark_b_id",
                    "waveform",
                    "frequency_hz",
                    "intensity_ma",
                    "minutes",
                    "device",
                )
            }
            for p in ea_pairs(session, visit_id)
        ],
        "adverse_events": [
            {c: getattr(e, c) for c in ("kind", "severity", "action", "note")}
            for e in adverse_events(session, visit_id)
        ],
        "acknowledgements": sorted(
            [a.warning_key, a.severity, a.reason]
            for a in acknowledgements(session, visit_id).values()
        ),
    }


def content_hash(session: Session, visit_id: int) -> str:
    """SHA-256 of the signed content, canonically serialised."""
    canonical = json.dumps(
        signed_content(session, visit_id), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def sign_visit(
    session: Session,
    visit_id: int,
    practitioner_id: int,
    unacknowledged_blocks: Callable[[Session, int], list[str]] | None = None,
) -> Changes:
    """Sign a draft visit as its practitioner: it becomes read-only with a content hash.

    ``unacknowledged_blocks`` returns the titles of blocking safety warnings not yet
    overridden with a reason; signing is refused while there are any.

    Raises:
        ServiceError: someone other than the visit's practitioner signs, or blocks remain.
    """
    actor = require(session, Permission.SIGN, target=f"visit {visit_id}")
    visit = _draft(session, visit_id)
    if practitioner_id != actor.practitioner_id or visit.practitioner_id != practitioner_id:
        deny(session, actor, "denied.visit.sign", "not the visit's practitioner", visit.patient_id)
        raise PermissionDeniedError(
            "Only the visit's own practitioner can sign it, signed in with their own account."
        )
    if unacknowledged_blocks is not None and (blocks := unacknowledged_blocks(session, visit_id)):
        raise ServiceError("Resolve or override these safety blocks first: " + "; ".join(blocks))
    visit.content_hash = content_hash(session, visit_id)
    visit.status = VisitStatus.SIGNED.value
    visit.signed_at = utcnow()
    visit.signed_by_id = practitioner_id
    visit_signed(session, visit_id)
    return Changes(visits=frozenset({visit_id}))


def verify_signature(session: Session, visit_id: int) -> bool:
    """Whether a signed visit still matches the hash stored when it was signed."""
    visit = session.get(Visit, visit_id)
    if visit is None or visit.status != VisitStatus.SIGNED.value:
        return False
    return visit.content_hash == content_hash(session, visit_id)


def amend(
    session: Session, visit_id: int, author_id: int, field: str, corrected: str, reason: str
) -> tuple[int, Changes]:
    """Add a correction to a signed visit; the original stays as it was signed."""
    actor = require(session, Permission.SIGN, target=f"visit {visit_id}")
    if author_id != actor.practitioner_id:
        raise PermissionDeniedError("Amendments are written under your own name only.")
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFoundError("That visit no longer exists.")
    if visit.status != VisitStatus.SIGNED.value:
        raise ServiceError("A draft visit is edited directly; amendments are for signed visits.")
    errors: dict[str, str] = {}
    if field not in FIELDS:
        errors["field"] = "Choose the part of the visit you are correcting."
    if not corrected.strip():
        errors["corrected"] = "Write the correction."
    if len(reason.strip()) < 5:
        errors["reason"] = "Give the reason for the amendment."
    for name, text in (("corrected", corrected), ("reason", reason)):
        if problem := check_text(text, name.capitalize(), 20_000):
            errors[name] = problem
    if errors:
        raise ValidationError(errors)
    original = _jsonable(getattr(visit, field))
    amendment = Amendment(
        visit_id=visit_id,
        author_id=author_id,
        field=field,
        original=original if isinstance(original, str) else json.dumps(original),
        corrected=corrected.strip(),
        reason=reason.strip(),
    )
    session.add(amendment)
    session.flush()
    return amendment.id, Changes(visits=frozenset({visit_id}))


def amendments(session: Session, visit_id: int) -> list[Amendment]:
    """A visit's amendments, oldest first."""
    require(session, Permission.VIEW_CLINICAL)
    query = select(Amendment).where(Amendment.visit_id == visit_id).order_by(Amendment.id)
    return list(session.scalars(query))
