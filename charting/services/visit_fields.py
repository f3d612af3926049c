"""The written fields of a visit: their labels, kinds and limits, and how each is validated.

One table (:data:`FIELDS`) drives the form, validation, the signed content, amendments and
the exports, so a field is described once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from charting.models import Visit
from charting.services import clinical_lists as lists
from charting.services.validation import check_text


@dataclass(frozen=True)
class FieldSpec:
    """How one visit field is validated: its label, kind and limits."""

    label: str
    kind: str  # text, int, date, datetime, bool, choice (one of, or ""), choices, psfs
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
    "referral_outcome": FieldSpec(
        "Referral decision", "choice", choices=lists.ids(lists.REFERRAL_OUTCOMES)
    ),
    "referral_decision": _text("Referral details / reason", 2_000),
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
    "patient_position": FieldSpec(
        "Patient position", "choice", choices=lists.ids(lists.PATIENT_POSITIONS)
    ),
    "moxibustion": _text("Moxibustion", 1_000),
    "heat_lamp": FieldSpec("Heat lamp", "bool"),
    "home_advice": FieldSpec("Home advice", "choices", choices=lists.ids(lists.HOME_ADVICE)),
    "home_advice_notes": _text("Home advice notes", 2_000),
    "pain_after": _nrs("Pain after treatment"),
    "patient_response": _text("Patient response", 2_000),
    "next_appointment": FieldSpec("Next appointment", "datetime"),
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
#: What a follow-up usually repeats: filled from the last visit when a visit starts, shown
#: as "from the last visit" until changed, and cleared together in one click.
CARRIED_FORWARD = (
    "icd10_codes",
    "tcm_patterns",
    *REMEMBERED_FROM_PREVIOUS,
    "retention_minutes",
)
#: The phases of a session, in order: the written record is shown one phase at a time.
PHASES: tuple[tuple[str, str], ...] = (
    ("consultation", "Consultation"),
    ("examination", "Examination"),
    ("assessment", "Assessment"),
    ("treatment", "Treatment"),
    ("after", "After"),
    ("outcomes", "Outcomes"),
)
#: The first field of each phase in FIELDS; every later field belongs to the same phase
#: until the next phase starts (so a field added beside its neighbours joins their phase).
PHASE_STARTS: dict[str, str] = {
    "chief_complaint": "consultation",
    "posture": "examination",
    "tcm_patterns": "assessment",
    "needle_brand": "treatment",
    "pain_after": "after",
    "next_appointment": "after",
    "psfs": "outcomes",
}


def phase_fields() -> dict[str, list[str]]:
    """The visit's fields by phase, each in FIELDS order."""
    result: dict[str, list[str]] = {phase: [] for phase, _ in PHASES}
    phase = PHASES[0][0]
    for name in FIELDS:
        phase = PHASE_STARTS.get(name, phase)
        result[phase].append(name)
    return result


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
    if spec.kind == "choice":
        if not isinstance(value, str) or (value and value not in spec.choices):
            return f"{spec.label}: choose one of the offered entries."
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


#: What each field holds when nothing was recorded (the column defaults).
FIELD_BLANKS: dict[str, Any] = {
    name: (
        []
        if spec.kind in ("choices", "psfs")
        else False
        if spec.kind == "bool"
        else ""
        if spec.kind in ("text", "choice")
        else None
    )
    for name, spec in FIELDS.items()
}
