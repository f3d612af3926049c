"""The safety rules applied to a stored visit, and which warnings still need attention."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, joinedload

from charting.bodymap import BodyMap
from charting.models import EAPair, MarkKind, Visit
from charting.services import visit_record
from charting.services.access import Permission, require
from charting.services.consent import consented_at
from charting.services.errors import NotFoundError
from charting.services.marks import MarkRow, list_marks
from charting.services.safety import (
    CUP_TYPES,
    POSITIONS,
    CuppingInfo,
    EAPairInfo,
    PatientSafety,
    SafetyContext,
    SafetyWarning,
    evaluate,
)


@dataclass(frozen=True)
class VisitWarning:
    """A warning for a visit, with how (and whether) it was acknowledged."""

    warning: SafetyWarning
    acknowledged: bool
    reason: str

    @property
    def needs_attention(self) -> bool:
        """Not yet acknowledged (a block needs an override with a reason)."""
        return not self.acknowledged


def context_for(
    session: Session,
    visit_id: int,
    bodymap: BodyMap,
    marks: Sequence[MarkRow] | None = None,
    ea_pairs: Sequence[EAPair] | None = None,
) -> SafetyContext:
    """Build the rules' input from what the visit holds (``marks`` and ``ea_pairs``: its
    marks and EA pairs, if already read in this session)."""
    visit = session.get(Visit, visit_id, options=[joinedload(Visit.patient)])
    if visit is None:
        raise NotFoundError("That visit no longer exists.")
    if marks is None:
        marks = list_marks(session, visit_id, bodymap)
    if ea_pairs is None:
        ea_pairs = visit_record.ea_pairs(session, visit_id)
    by_id = {m.id: m for m in marks}
    pairs = [
        EAPairInfo(
            p.id, by_id[p.mark_a_id], by_id[p.mark_b_id], p.frequency_hz, p.intensity_ma, p.minutes
        )
        for p in ea_pairs
        if p.mark_a_id in by_id and p.mark_b_id in by_id
    ]
    cupping_kind = MarkKind.CUPPING.value
    cupping = [
        CuppingInfo(m.id, cup if (cup := m.spec.cup_type) in CUP_TYPES and cup else "dry")
        for m in marks
        if m.spec.kind == cupping_kind
    ]
    return SafetyContext(
        patient=PatientSafety.from_patient(visit.patient),
        marks=marks,
        ea_pairs=pairs,
        cupping=cupping,
        # Pricking to bleed at any mark, or wet cupping, lets blood [CAM] [CUP-AB].
        bloodletting=any(m.spec.technique == "bloodletting" for m in marks)
        or any(c.cup_type == "wet" for c in cupping),
        position=visit.patient_position if visit.patient_position in POSITIONS else "",
        today=visit.started_at.date(),
        consented=consented_at(session, visit.patient_id, visit.signed_at),
    )


def visit_warnings(
    session: Session,
    visit_id: int,
    bodymap: BodyMap,
    marks: Sequence[MarkRow] | None = None,
    ea_pairs: Sequence[EAPair] | None = None,
) -> list[VisitWarning]:
    """Every warning that applies to the visit now, with its acknowledgement (``marks`` and
    ``ea_pairs``: the visit's marks and EA pairs, if already read in this session)."""
    require(session, Permission.VIEW_CLINICAL)
    acks = visit_record.acknowledgements(session, visit_id)
    context = context_for(session, visit_id, bodymap, marks, ea_pairs)
    result = []
    for warning in evaluate(context, bodymap):
        ack = acks.get(warning.key)
        valid = ack is not None and (warning.severity != "block" or bool(ack.reason))
        result.append(VisitWarning(warning, valid, ack.reason if ack else ""))
    return result


def blocking_titles(bodymap: BodyMap) -> Callable[[Session, int], list[str]]:
    """A check for ``sign_visit``: titles of blocks not yet overridden with a reason."""

    def check(session: Session, visit_id: int) -> list[str]:
        return [
            w.warning.title
            for w in visit_warnings(session, visit_id, bodymap)
            if w.warning.severity == "block" and not w.acknowledged
        ]

    return check
