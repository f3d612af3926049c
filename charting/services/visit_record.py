"""The visit record: every field saved as it is edited, EA pairs, adverse events, signing.

Each field is validated on its own, so one bad value is refused with a message while the
rest of the visit keeps saving. A signed visit refuses every change here, whatever the UI
does; corrections are amendments kept beside the untouched original.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from charting.models import (
    AdverseEvent,
    Amendment,
    EAPair,
    Mark,
    MarkKind,
    NeedleCountResolution,
    SafetyAcknowledgement,
    StandingDecision,
    Visit,
    VisitStatus,
    utcnow,
)
from charting.services import clinical_lists as lists
from charting.services import signatures
from charting.services.access import Permission, PermissionDeniedError, actor_of, deny, require
from charting.services.appointments import visit_signed
from charting.services.changes import Changes
from charting.services.errors import NotFoundError, ServiceError, ValidationError
from charting.services.guard import BOOKING_COLUMNS, check_editable
from charting.services.marks import EA_PAIR_COLUMNS, depth_beyond_needle
from charting.services.red_flags import check_referral
from charting.services.validation import check_text
from charting.services.versions import ConcurrentEditError as ConcurrentEditError
from charting.services.versions import check_version
from charting.services.visit_fields import (
    CARRIED_FORWARD,
    REMEMBERED_FROM_PREVIOUS,
    validate_field,
)
from charting.services.visit_fields import (
    FIELDS as FIELDS,
)
from charting.services.visit_fields import (
    FieldSpec as FieldSpec,
)


def _draft(session: Session, visit_id: int, *, booking_only: bool = False) -> Visit:
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFoundError("That visit no longer exists.")
    check_editable(session, visit, booking_only=booking_only)
    return visit


def current_version(session: Session, visit_id: int) -> int:
    """The visit's version counter, as a later :func:`update_fields` should expect it."""
    session.flush()
    version = session.scalar(select(Visit.version).where(Visit.id == visit_id))
    if version is None:
        raise NotFoundError("That visit no longer exists.")
    return version


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
    visit = _draft(session, visit_id, booking_only=set(values) <= BOOKING_COLUMNS)
    check_version(session, visit, expected_version, "This visit")
    errors = {name: msg for name, v in values.items() if (msg := validate_field(name, v, visit))}
    if "needle_length" in values and "needle_length" not in errors:
        deepest = session.scalar(select(func.max(Mark.depth_mm)).where(Mark.visit_id == visit_id))
        if problem := depth_beyond_needle(deepest, values["needle_length"]):
            errors["needle_length"] = problem
    if errors:
        raise ValidationError(errors)
    for name, value in values.items():
        setattr(visit, name, value.strip() if FIELDS[name].kind == "text" else value)
    if visit.carried_fields and set(values) & set(visit.carried_fields):
        # A field changed by hand is no longer "from the last visit".
        visit.carried_fields = [n for n in visit.carried_fields if n not in values]
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
    require(session, Permission.VIEW_CLINICAL)
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


def _previous_visit(session: Session, visit: Visit) -> Visit | None:
    return session.scalar(
        select(Visit)
        .where(Visit.patient_id == visit.patient_id, Visit.number < visit.number)
        .order_by(Visit.number.desc())
        .limit(1)
    )


def carry_forward(session: Session, visit: Visit) -> list[str]:
    """Fill a new visit's empty fields that usually repeat (diagnoses, TCM patterns, needle
    product and lot, retention) from the patient's last visit; return the fields filled.

    Called by ``visits.start_visit`` in its transaction. The names are kept in
    ``visit.carried_fields``, shown as "from the last visit" until changed or cleared.
    """
    previous = _previous_visit(session, visit)
    if previous is None:
        return []
    carried = []
    for name in CARRIED_FORWARD:
        value = getattr(previous, name)
        if value not in (None, "", []) and getattr(visit, name) in (None, "", []):
            setattr(visit, name, list(value) if isinstance(value, list) else value)
            carried.append(name)
    visit.carried_fields = carried
    return carried


def clear_carried(session: Session, visit_id: int, expected_version: int | None = None) -> Changes:
    """Empty the fields a draft visit took from the last visit and has not changed since."""
    visit = _draft(session, visit_id)
    check_version(session, visit, expected_version, "This visit")
    for name in visit.carried_fields or []:
        spec = FIELDS[name]
        empty: Any = [] if spec.kind == "choices" else "" if spec.kind == "text" else None
        setattr(visit, name, empty)
    visit.carried_fields = []
    return Changes(visits=frozenset({visit_id}))


def carried_fields(session: Session, visit_id: int) -> list[str]:
    """The visit's fields still as they were taken from the last visit."""
    visit = session.get(Visit, visit_id)
    return list(visit.carried_fields or []) if visit is not None else []


def previous_ea_settings(session: Session, visit_id: int) -> EASettings | None:
    """The settings of the last EA pair of the patient's last visit (a first pair today
    starts with them), or None."""
    visit = session.get(Visit, visit_id)
    if visit is None:
        return None
    previous = _previous_visit(session, visit)
    if previous is None:
        return None
    pair = session.scalar(
        select(EAPair).where(EAPair.visit_id == previous.id).order_by(EAPair.id.desc()).limit(1)
    )
    return settings_of(pair) if pair is not None else None


def needles_in(session: Session, visit_id: int) -> int:
    """Needles inserted, from the marks (each side's mark is one needle; cups excluded)."""
    require(session, Permission.VIEW_CLINICAL)
    kinds = session.scalars(select(Mark.kind).where(Mark.visit_id == visit_id))
    return sum(1 for kind in kinds if kind != MarkKind.CUPPING.value)


# -- electroacupuncture ----------------------------------------------------------------------
#: Waveforms that alternate two frequencies ("dense-disperse", e.g. 2/100 Hz).
TWO_FREQUENCY_WAVEFORMS = frozenset({"dense-disperse", "other"})


@dataclass(frozen=True)
class EASettings:
    """Stimulation of one electroacupuncture pair (STRICTA 2e: waveform, frequency,
    intensity, duration, device). A dense-disperse waveform alternates two frequencies:
    ``frequency_hz`` is the first (usually the low one) and ``frequency2_hz`` the second."""

    waveform: str = ""
    frequency_hz: float | None = None
    intensity_ma: float | None = None
    minutes: int | None = None
    device: str = ""
    frequency2_hz: float | None = None

    @property
    def frequency_text(self) -> str:
        """The frequency as typed and printed: "2", "2/100" (empty when not recorded)."""
        if self.frequency_hz is None:
            return ""
        if self.frequency2_hz is None:
            return f"{self.frequency_hz:g}"
        return f"{self.frequency_hz:g}/{self.frequency2_hz:g}"


def settings_of(pair: Any) -> EASettings:
    """The settings stored on an EA pair row."""
    return EASettings(
        pair.waveform,
        pair.frequency_hz,
        pair.intensity_ma,
        pair.minutes,
        pair.device,
        pair.frequency2_hz,
    )


_FREQUENCY = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(?:/\s*(\d+(?:[.,]\d+)?)\s*)?(?:hz)?\s*$", re.I)


def parse_frequency(text: str) -> tuple[float | None, float | None]:
    """Read a typed frequency: "2" (one), "2/100" or "2 / 100 Hz" (dense-disperse).

    Raises:
        ValidationError: the text is not one number or two separated by "/".
    """
    if not text.strip():
        return None, None
    match = _FREQUENCY.match(text)
    if match is None:
        raise ValidationError(
            {"frequency_hz": "Type the frequency in Hz, e.g. 2, or 2/100 for dense-disperse."}
        )
    first = float(match[1].replace(",", "."))
    second = float(match[2].replace(",", ".")) if match[2] else None
    return first, second


def check_ea_settings(settings: EASettings) -> dict[str, str]:
    """Every problem with ``settings``, by field (empty when they can be stored)."""
    errors: dict[str, str] = {}
    limits = (
        ("frequency_hz", 0, 200, "Frequency", "Hz"),
        ("frequency2_hz", 0, 200, "Second frequency", "Hz"),
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
    alternating = settings.waveform.strip().lower() in TWO_FREQUENCY_WAVEFORMS
    if settings.frequency2_hz is not None:
        if settings.frequency_hz is None:
            errors.setdefault("frequency_hz", "Give the first frequency too, e.g. 2/100.")
        elif not alternating:
            errors.setdefault(
                "frequency_hz",
                "Two frequencies alternate only in a dense-disperse waveform: choose it, "
                "or give one frequency.",
            )
    elif settings.waveform.strip().lower() == "dense-disperse" and settings.frequency_hz:
        errors.setdefault(
            "frequency_hz",
            "Dense-disperse alternates two frequencies: type both, e.g. 2/100.",
        )
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
    errors = check_ea_settings(settings)
    if errors:
        raise ValidationError(errors)
    pair = EAPair(visit_id=visit_id, mark_a_id=mark_a, mark_b_id=mark_b, **vars(settings))
    session.add(pair)
    for mark in marks.values():
        mark.technique = "electro"
    session.flush()
    return pair.id, Changes(visits=frozenset({visit_id}), marks=frozenset(marks))


def delete_ea_pair(session: Session, pair_id: int) -> tuple[dict[str, Any], Changes]:
    """Remove an EA pair (the needles stay); returns what it was, so undo can restore it."""
    pair = session.get(EAPair, pair_id)
    if pair is None:
        raise NotFoundError("That EA pair was already removed.")
    _draft(session, pair.visit_id)
    snapshot = {
        "id": pair.id,
        "visit_id": pair.visit_id,
        "mark_a_id": pair.mark_a_id,
        "mark_b_id": pair.mark_b_id,
        **{c: getattr(pair, c) for c in EA_PAIR_COLUMNS},
    }
    session.delete(pair)
    return snapshot, Changes(visits=frozenset({pair.visit_id}))


def restore_ea_pair(session: Session, snapshot: dict[str, Any]) -> Changes:
    """Put a removed EA pair back with its id and settings (undo of a removal)."""
    _draft(session, snapshot["visit_id"])
    session.add(EAPair(**snapshot))
    try:
        session.flush()
    except IntegrityError:
        raise ServiceError("The EA pair could not be restored: a needle was removed.") from None
    return Changes(visits=frozenset({snapshot["visit_id"]}))


def update_ea_pair(
    session: Session, pair_id: int, settings: EASettings, expected_version: int | None = None
) -> tuple[int, Changes]:
    """Change an existing pair's stimulation settings (the leads stay on the same needles).

    ``expected_version`` is the pair's version the caller showed: if another workstation
    changed the pair since, nothing is stored. Returns the pair's new version.

    Raises:
        NotFoundError: the pair was removed.
        ValidationError: a value is out of range, or two frequencies without dense-disperse.
        ConcurrentEditError: the pair changed since ``expected_version``.
    """
    pair = session.get(EAPair, pair_id)
    if pair is None:
        raise NotFoundError("That EA pair was removed.")
    _draft(session, pair.visit_id)
    check_version(session, pair, expected_version, "This EA pair")
    errors = check_ea_settings(settings)
    if errors:
        raise ValidationError(errors)
    for name, value in vars(settings).items():
        setattr(pair, name, value.strip() if isinstance(value, str) else value)
    session.flush()
    return pair.version, Changes(visits=frozenset({pair.visit_id}))


def ea_pairs(session: Session, visit_id: int) -> list[EAPair]:
    """A visit's EA pairs in the order they were made."""
    require(session, Permission.VIEW_CLINICAL)
    return list(
        session.scalars(select(EAPair).where(EAPair.visit_id == visit_id).order_by(EAPair.id))
    )


# -- adverse events --------------------------------------------------------------------------
def add_adverse_event(
    session: Session,
    visit_id: int,
    kind: str,
    severity: str,
    action: str = "",
    note: str = "",
    patient_told: str = "",
) -> tuple[int, Changes]:
    """Record an adverse event with its severity, the action taken and what the patient was
    told."""
    _draft(session, visit_id)
    errors: dict[str, str] = {}
    if kind not in lists.ids(lists.ADVERSE_EVENT_KINDS):
        errors["kind"] = "Choose what happened from the list."
    if severity not in lists.ids(lists.ADVERSE_SEVERITIES):
        errors["severity"] = "Choose mild, significant or serious."
    if kind == "other" and not note.strip():
        errors["note"] = "Describe what happened."
    for name, text in (("action", action), ("note", note), ("patient_told", patient_told)):
        if problem := check_text(text, name.replace("_", " ").capitalize(), 2_000):
            errors[name] = problem
    if errors:
        raise ValidationError(errors)
    event = AdverseEvent(
        visit_id=visit_id,
        kind=kind,
        severity=severity,
        action=action.strip(),
        note=note.strip(),
        patient_told=patient_told.strip(),
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
    ack.carried_from_visit_id = None
    _stand(session, visit_id, ack)
    return Changes(visits=frozenset({visit_id}))


def acknowledge_all(
    session: Session,
    visit_id: int,
    warnings: Sequence[tuple[str, str, str, str]],
    practitioner_id: int | None,
) -> Changes:
    """Acknowledge several warnings (key, rule, severity, message) at once; blocks are
    refused here (each needs its own override with a reason)."""
    if any(severity == "block" for _, _, severity, _ in warnings):
        raise ValidationError({"reason": "A block is overridden on its own, with a reason."})
    changes = Changes(visits=frozenset({visit_id}))
    for key, rule, severity, message in warnings:
        changes = changes | acknowledge(
            session, visit_id, key, rule, severity, message, practitioner_id
        )
    return changes


def decision_basis(key: str, message: str) -> str:
    """What a standing decision was made about: the warning's key and what it said (which
    names the health flag, point and technique behind it). A change to any of them is a new
    warning, to be decided again."""
    return hashlib.sha256(f"{key}\n{message}".encode()).hexdigest()


def _stand(session: Session, visit_id: int, ack: SafetyAcknowledgement) -> None:
    """Keep ``ack`` as the patient's standing decision on its warning (audited as a row)."""
    visit = session.get(Visit, visit_id)
    assert visit is not None
    decision = session.scalar(
        select(StandingDecision).where(
            StandingDecision.patient_id == visit.patient_id,
            StandingDecision.warning_key == ack.warning_key,
        )
    )
    if decision is None:
        decision = StandingDecision(patient_id=visit.patient_id, warning_key=ack.warning_key)
        session.add(decision)
    decision.basis = decision_basis(ack.warning_key, ack.message)
    decision.rule, decision.severity, decision.message = ack.rule, ack.severity, ack.message
    decision.reason = ack.reason
    decision.visit_id = visit_id
    decision.decided_by_id = ack.acknowledged_by_id
    decision.decided_at = utcnow()


def standing_decisions(session: Session, patient_id: int) -> dict[str, StandingDecision]:
    """The patient's standing safety decisions by warning key."""
    require(session, Permission.VIEW_CLINICAL)
    query = select(StandingDecision).where(StandingDecision.patient_id == patient_id)
    return {d.warning_key: d for d in session.scalars(query)}


def carry_over_decisions(
    session: Session, visit_id: int, keys: Sequence[tuple[str, str]]
) -> Changes:
    """Record on a draft visit the standing decisions that still hold for its warnings.

    Args:
        keys: (warning key, message) of the warnings to carry over; only those whose
            standing decision has the same basis are recorded (each an acknowledgement of
            this visit naming the visit it was decided at, audited like any other).
    """
    visit = _draft(session, visit_id)
    decisions = standing_decisions(session, visit.patient_id)
    existing = acknowledgements(session, visit_id)
    for key, message in keys:
        decision = decisions.get(key)
        if key in existing or decision is None:
            continue
        if decision.basis != decision_basis(key, message) or decision.visit_id == visit_id:
            continue
        session.add(
            SafetyAcknowledgement(
                visit_id=visit_id,
                warning_key=key,
                rule=decision.rule,
                severity=decision.severity,
                message=message,
                reason=decision.reason,
                acknowledged_by_id=decision.decided_by_id,
                acknowledged_at=utcnow(),
                carried_from_visit_id=decision.visit_id,
            )
        )
    return Changes(visits=frozenset({visit_id}))


def acknowledgements(session: Session, visit_id: int) -> dict[str, SafetyAcknowledgement]:
    """The visit's acknowledgements by warning key."""
    return acknowledgements_of(session, [visit_id])[visit_id]


def acknowledgements_of(
    session: Session, visit_ids: Sequence[int]
) -> dict[int, dict[str, SafetyAcknowledgement]]:
    """Each visit's acknowledgements by warning key, read in one statement."""
    require(session, Permission.VIEW_CLINICAL)
    found: dict[int, dict[str, SafetyAcknowledgement]] = {vid: {} for vid in visit_ids}
    query = select(SafetyAcknowledgement).where(SafetyAcknowledgement.visit_id.in_(visit_ids))
    for ack in session.scalars(query):
        found[ack.visit_id][ack.warning_key] = ack
    return found


# -- needle count ------------------------------------------------------------------------------
NEEDLE_OUTCOMES = {
    "found_removed": "Found and removed",
    "adverse_event": "Not found: recorded as an adverse event",
}


class NeedleCountError(ServiceError):
    """Needles in and out do not agree and the difference has not been resolved."""


@dataclass(frozen=True)
class NeedleCount:
    """Needles in (from the map) against needles out (counted), and any recorded resolution."""

    needles_in: int
    needles_out: int | None
    resolution: NeedleCountResolution | None

    @property
    def resolved(self) -> bool:
        """Whether the visit may be signed as far as needles go."""
        if self.needles_in == 0 and not self.needles_out:
            return True
        if self.needles_out == self.needles_in:
            return True
        r = self.resolution
        return (
            r is not None
            and self.needles_out is not None
            and (r.needles_in, r.needles_out) == (self.needles_in, self.needles_out)
        )

    @property
    def problem(self) -> str:
        """What stops signing, in words (empty when nothing does)."""
        if self.resolved:
            return ""
        went_in = _needles(self.needles_in)
        if self.needles_out is None:
            return (
                f"{went_in} went in (from the map) and the needles out have not been counted. "
                "Count them out before signing."
            )
        missing = self.needles_in - self.needles_out
        if missing > 0:
            return (
                f"{went_in} went in and {self.needles_out} came out: {missing} not accounted "
                "for. Find and remove it, or record it as an adverse event with what the "
                "patient was told, before signing."
            )
        return (
            f"{_needles(self.needles_out)} came out but the map shows {self.needles_in}: chart "
            "the missing points, or record what happened, before signing."
        )


def _needles(count: int) -> str:
    return f"{count} needle" if count == 1 else f"{count} needles"


def needle_count(session: Session, visit_id: int) -> NeedleCount:
    """Needles in and out of a visit, and the recorded resolution of any difference."""
    require(session, Permission.VIEW_CLINICAL)
    out = session.scalar(select(Visit.needles_out).where(Visit.id == visit_id))
    resolution = session.scalar(
        select(NeedleCountResolution).where(NeedleCountResolution.visit_id == visit_id)
    )
    return NeedleCount(needles_in(session, visit_id), out, resolution)


def resolve_needle_count(
    session: Session,
    visit_id: int,
    outcome: str,
    note: str,
    patient_told: str = "",
    severity: str = "mild",
) -> Changes:
    """Record how a difference between needles in and out was resolved (a missing needle is
    a safety event: it was found and removed, or it is an adverse event, with what the patient
    was told). Replaces an earlier resolution of the same visit.

    Raises:
        ValidationError: no difference to resolve, unknown outcome, or missing words.
    """
    visit = _draft(session, visit_id)
    actor = actor_of(session)
    count = NeedleCount(needles_in(session, visit_id), visit.needles_out, None)
    errors: dict[str, str] = {}
    if count.needles_out is None or count.needles_out == count.needles_in:
        errors["needles_out"] = "Count the needles out first: there is no difference to resolve."
    if outcome not in NEEDLE_OUTCOMES:
        errors["outcome"] = "Choose: found and removed, or recorded as an adverse event."
    if len(note.strip()) < 3:
        errors["note"] = "Say what was found or done."
    if outcome == "adverse_event" and len(patient_told.strip()) < 3:
        errors["patient_told"] = "Write what the patient was told."
    for name, text in (("note", note), ("patient_told", patient_told)):
        if problem := check_text(text, name.replace("_", " ").capitalize(), 2_000):
            errors[name] = problem
    if errors:
        raise ValidationError(errors)
    old = session.scalar(
        select(NeedleCountResolution).where(NeedleCountResolution.visit_id == visit_id)
    )
    if old is not None:
        session.delete(old)
        session.flush()
    event_id = None
    if outcome == "adverse_event":
        event_id, _ = add_adverse_event(
            session,
            visit_id,
            "forgotten_needle",
            severity,
            action=note,
            note=f"{count.needles_in} in, {count.needles_out} out",
            patient_told=patient_told,
        )
    assert count.needles_out is not None
    session.add(
        NeedleCountResolution(
            visit_id=visit_id,
            needles_in=count.needles_in,
            needles_out=count.needles_out,
            outcome=outcome,
            note=note.strip(),
            adverse_event_id=event_id,
            recorded_by_id=actor.practitioner_id or visit.practitioner_id,
        )
    )
    session.flush()
    return Changes(visits=frozenset({visit_id}))


# -- signing and amendments ----------------------------------------------------------------------
def sign_visit(
    session: Session,
    visit_id: int,
    practitioner_id: int,
    unacknowledged_blocks: Callable[[Session, int], list[str]] | None = None,
) -> Changes:
    """Sign a draft visit as its practitioner: it becomes read-only with a content hash.

    ``unacknowledged_blocks`` returns the titles of blocking safety warnings not yet
    overridden with a reason; signing is refused while there are any. Needles in and out must
    agree, or their difference be resolved (:func:`resolve_needle_count`).

    Raises:
        ServiceError: someone other than the visit's practitioner signs, or blocks remain.
        ReferralDecisionError: a red flag is ticked without a recorded referral decision.
        NeedleCountError: needles are not accounted for.
    """
    actor = require(session, Permission.SIGN, target=f"visit {visit_id}")
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFoundError("That visit no longer exists.")
    if practitioner_id != actor.practitioner_id or visit.practitioner_id != practitioner_id:
        deny(session, actor, "denied.visit.sign", "not the visit's practitioner", visit.patient_id)
        raise PermissionDeniedError(
            "Only the visit's own practitioner can sign it, signed in with their own account."
        )
    _draft(session, visit_id)
    check_referral(visit.red_flags or [], visit.referral_outcome, visit.referral_decision)
    if unacknowledged_blocks is not None and (blocks := unacknowledged_blocks(session, visit_id)):
        raise ServiceError("Resolve or override these safety blocks first: " + "; ".join(blocks))
    if problem := needle_count(session, visit_id).problem:
        raise NeedleCountError(problem)
    # Hashed before anything changes: a change would be flushed (and audited) on its own.
    signed_hash = signatures.content_hash(session, visit_id, signatures.SIGNATURE_FORMAT)
    visit.signature_format = signatures.SIGNATURE_FORMAT
    visit.content_hash = signed_hash
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
    return signatures.signature_problem(session, visit_id) is None


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
    original = signatures.jsonable(getattr(visit, field))
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
