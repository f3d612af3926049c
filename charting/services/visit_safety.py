"""The safety rules applied to a stored visit, and which warnings still need attention."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from charting.bodymap import BodyMap
from charting.models import EAPair, MarkKind, Visit
from charting.services import visit_record
from charting.services.access import Permission, require
from charting.services.consent import consent_terms, covered
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
    """A warning for a visit, with how (and whether) it was acknowledged.

    Attributes:
        carried_from: When the decision was made at an earlier visit and holds still (a
            standing decision), which visit ("visit 3, 2026-11-20"); else "".
        pending_carry: The standing decision holds but is not recorded on this visit yet
            (the chart records it, see ``visit_record.carry_over_decisions``).
    """

    warning: SafetyWarning
    acknowledged: bool
    reason: str
    carried_from: str = ""
    pending_carry: bool = False

    @property
    def needs_attention(self) -> bool:
        """Not yet acknowledged (a block needs an override with a reason)."""
        return not self.acknowledged


@dataclass(frozen=True)
class Decision:
    """A standing decision as the warnings need it (read once per visit opened)."""

    key: str
    basis: str
    reason: str
    severity: str
    made_at: str


def decisions_for(session: Session, visit_id: int) -> dict[str, Decision]:
    """The standing safety decisions of the visit's patient, by warning key."""
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFoundError("That visit no longer exists.")
    found = visit_record.standing_decisions(session, visit.patient_id)
    labels = _visit_labels(session, {d.visit_id for d in found.values() if d.visit_id})
    return {
        key: Decision(key, d.basis, d.reason, d.severity, labels.get(d.visit_id or 0, ""))
        for key, d in found.items()
    }


def _visit_labels(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(Visit.id, Visit.number, Visit.started_at).where(Visit.id.in_(ids))
    )
    return {vid: f"visit {number}, {started:%Y-%m-%d}" for vid, number, started in rows}


def context_for(
    session: Session,
    visit_id: int,
    bodymap: BodyMap,
    marks: Sequence[MarkRow] | None = None,
    ea_pairs: Sequence[EAPair] | None = None,
) -> SafetyContext:
    """Build the rules' input from what the visit holds (``marks`` and ``ea_pairs``: its
    marks and EA pairs, if already read in this session)."""
    visit = _visit(session, visit_id)
    if marks is None:
        marks = list_marks(session, visit_id, bodymap)
    if ea_pairs is None:
        ea_pairs = visit_record.ea_pairs(session, visit_id)
    return _context(visit, marks, ea_pairs, consent_terms(session, visit.patient_id))


def _visit(session: Session, visit_id: int) -> Visit:
    visit = session.get(Visit, visit_id, options=[joinedload(Visit.patient)])
    if visit is None:
        raise NotFoundError("That visit no longer exists.")
    return visit


def _context(
    visit: Visit,
    marks: Sequence[MarkRow],
    ea_pairs: Sequence[EAPair],
    consents: Sequence[tuple[Sequence[str], datetime | None]],
) -> SafetyContext:
    """The rules' input for ``visit`` (``consents``: its patient's, see
    :func:`consent.consent_terms`)."""
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
        consented=covered(consents, visit.signed_at),
    )


def visit_warnings(
    session: Session,
    visit_id: int,
    bodymap: BodyMap,
    marks: Sequence[MarkRow] | None = None,
    ea_pairs: Sequence[EAPair] | None = None,
    decisions: Mapping[str, Decision] | None = None,
) -> list[VisitWarning]:
    """Every warning that applies to the visit now, with its acknowledgement (``marks`` and
    ``ea_pairs``: the visit's marks and EA pairs, if already read in this session).

    A warning not acknowledged at this visit counts as decided when the patient has a
    standing decision on it that still holds (``decisions``: the patient's, if already read;
    see :func:`decisions_for`)."""
    require(session, Permission.VIEW_CLINICAL)
    visit = _visit(session, visit_id)
    if marks is None:
        marks = list_marks(session, visit_id, bodymap)
    if ea_pairs is None:
        ea_pairs = visit_record.ea_pairs(session, visit_id)
    return warnings_of_visits(
        session, [visit], bodymap, {visit_id: marks}, {visit_id: ea_pairs}, decisions
    )[visit_id]


def warnings_of_visits(
    session: Session,
    visits: Sequence[Visit],
    bodymap: BodyMap,
    marks: Mapping[int, Sequence[MarkRow]],
    ea_pairs: Mapping[int, Sequence[EAPair]],
    decisions: Mapping[str, Decision] | None = None,
) -> dict[int, list[VisitWarning]]:
    """:func:`visit_warnings` of several visits of one patient (a course report's), with
    their acknowledgements, the patient's consents and the visits decisions were carried from
    read once for all of them (``marks`` and ``ea_pairs``: each visit's, by visit id)."""
    require(session, Permission.VIEW_CLINICAL)
    if not visits:
        return {}
    if len({v.patient_id for v in visits}) > 1:
        raise ValueError("warnings_of_visits takes the visits of one patient")
    acks_of = visit_record.acknowledgements_of(session, [v.id for v in visits])
    consents = consent_terms(session, visits[0].patient_id)
    labels = _visit_labels(
        session,
        {
            a.carried_from_visit_id
            for acks in acks_of.values()
            for a in acks.values()
            if a.carried_from_visit_id
        },
    )
    found: dict[int, list[VisitWarning]] = {}
    for visit in visits:
        acks = acks_of[visit.id]
        context = _context(visit, marks[visit.id], ea_pairs[visit.id], consents)
        warnings = evaluate(context, bodymap)
        if decisions is None and any(w.key not in acks for w in warnings):
            decisions = decisions_for(session, visit.id)
        result = []
        for warning in warnings:
            ack = acks.get(warning.key)
            if ack is not None:
                valid = warning.severity != "block" or bool(ack.reason)
                carried = labels.get(ack.carried_from_visit_id or 0, "")
                result.append(VisitWarning(warning, valid, ack.reason, carried))
                continue
            decision = (decisions or {}).get(warning.key)
            basis = visit_record.decision_basis(warning.key, warning.message)
            if decision is not None and decision.basis == basis:
                valid = warning.severity != "block" or bool(decision.reason)
                result.append(
                    VisitWarning(
                        warning, valid, decision.reason, decision.made_at, pending_carry=True
                    )
                )
                continue
            result.append(VisitWarning(warning, False, ""))
        found[visit.id] = result
    return found


def blocking_titles(bodymap: BodyMap) -> Callable[[Session, int], list[str]]:
    """A check for ``sign_visit``: titles of blocks not yet overridden with a reason."""

    def check(session: Session, visit_id: int) -> list[str]:
        return [
            w.warning.title
            for w in visit_warnings(session, visit_id, bodymap)
            if w.warning.severity == "block" and not w.acknowledged
        ]

    return check
