"""Everything a printed document needs, read once and handed to the Qt-free report builders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from charting.bodymap import BodyMap
from charting.models import (
    AdverseEvent,
    Amendment,
    EAPair,
    NeedleCountResolution,
    Patient,
    Practitioner,
    Visit,
)
from charting.services import outcomes, pain_drawings, signatures, visit_record
from charting.services.access import Permission, require
from charting.services.appointments import booked_starts, first_after
from charting.services.errors import NotFoundError
from charting.services.handouts import Issue, handout_issues_of
from charting.services.marks import MarkRow, marks_of_visits
from charting.services.pain_measures import AreaShape, PainMeasures
from charting.services.patients import SEX_LABELS, health_flags
from charting.services.settings import ClinicSettings, load_settings
from charting.services.visit_safety import (
    Decision,
    VisitWarning,
    decisions_for,
    warnings_of_visits,
)


@dataclass(frozen=True)
class PatientInfo:
    """The patient as documents show them."""

    id: int
    chart_number: str
    name: str
    preferred_name: str
    date_of_birth: date | None
    sex: str
    flags: tuple[str, ...]


@dataclass(frozen=True)
class PractitionerInfo:
    """The treating practitioner."""

    name: str
    credentials: str
    licence_number: str
    style: str

    @property
    def display(self) -> str:
        """ "Ana Ruiz, L.Ac." """
        return f"{self.name}, {self.credentials}" if self.credentials else self.name


@dataclass(frozen=True)
class EAPairData:
    """An electroacupuncture pair as printed."""

    mark_a: int
    mark_b: int
    label_a: str
    label_b: str
    waveform: str
    frequency_hz: float | None
    intensity_ma: float | None
    minutes: int | None
    device: str
    frequency2_hz: float | None = None

    @property
    def frequency_text(self) -> str:
        """ "2 Hz", "2/100 Hz" (dense-disperse), or empty."""
        if self.frequency_hz is None:
            return ""
        if self.frequency2_hz is None:
            return f"{self.frequency_hz:g} Hz"
        return f"{self.frequency_hz:g}/{self.frequency2_hz:g} Hz"


@dataclass(frozen=True)
class EventData:
    """An adverse event as printed."""

    kind: str
    severity: str
    action: str
    note: str
    patient_told: str = ""


@dataclass(frozen=True)
class AmendmentData:
    """An amendment as printed after the signed original."""

    created_at: datetime
    author: str
    field: str
    original: str
    corrected: str
    reason: str


@dataclass(frozen=True)
class VisitData:
    """One visit, complete, for the summary and the handout."""

    id: int
    number: int
    started_at: datetime
    status: str
    signed_at: datetime | None
    content_hash: str
    practitioner: PractitionerInfo
    record: dict[str, Any]
    marks: tuple[MarkRow, ...]
    ea_pairs: tuple[EAPairData, ...]
    adverse_events: tuple[EventData, ...]
    warnings: tuple[VisitWarning, ...]
    amendments: tuple[AmendmentData, ...]
    needles_in: int
    #: When it is signed: what is wrong with its signature (None when it checks out).
    signature_problem: str | None = None
    #: Handouts given (as events beside the record), oldest first, in words.
    handouts: tuple[str, ...] = ()
    #: How a difference between needles in and out was resolved, in words ("" when none).
    needle_resolution: str = ""
    #: The pain drawing (its areas in the order drawn) and its measures.
    pain_areas: tuple[AreaShape, ...] = ()
    pain: PainMeasures | None = None

    @property
    def altered(self) -> bool:
        """Whether the visit is signed but no longer matches its signature."""
        return self.status == "signed" and self.signature_problem is not None

    # The patient's next booked appointment after this visit, from the appointment book
    # (the visit's own "next appointment" field when nothing is booked).
    next_appointment: datetime | None = None


@dataclass(frozen=True)
class VisitReport:
    """What the visit summary and the aftercare handout are built from."""

    clinic: ClinicSettings
    patient: PatientInfo
    visit: VisitData


@dataclass(frozen=True)
class CourseReport:
    """What the course report is built from."""

    clinic: ClinicSettings
    patient: PatientInfo
    visits: tuple[VisitData, ...]
    points: tuple[outcomes.CoursePoint, ...]
    changes: tuple[outcomes.Change, ...]
    plan: outcomes.Plan
    point_usage: tuple[tuple[str, int], ...]
    since: date | None
    until: date | None


def patient_info(patient: Patient) -> PatientInfo:
    """The document view of a patient."""
    return PatientInfo(
        patient.id,
        patient.chart_number,
        f"{patient.given_name} {patient.family_name}",
        patient.preferred_name,
        patient.date_of_birth,
        SEX_LABELS.get(patient.sex, patient.sex),
        health_flags(patient),
    )


@dataclass(frozen=True)
class _VisitRows:
    """Rows of several visits read together, one statement per table (a course report read
    each of them visit by visit): by visit id, each list in the order the service reads it."""

    ea_pairs: Mapping[int, list[EAPair]]
    adverse_events: Mapping[int, list[AdverseEvent]]
    amendments: Mapping[int, list[Amendment]]
    resolutions: Mapping[int, NeedleCountResolution]
    pain: Mapping[int, PainMeasures]
    marks: Mapping[int, list[MarkRow]]
    pain_areas: Mapping[int, list[pain_drawings.Area]]
    handouts: Mapping[int, list[Issue]]
    warnings: Mapping[int, list[VisitWarning]]
    #: The patient's booked appointments after the first visit, soonest first.
    booked: Sequence[datetime]


def _visit_rows(
    session: Session,
    visits: Sequence[Visit],
    bodymap: BodyMap,
    decisions: Mapping[str, Decision] | None = None,
) -> _VisitRows:
    """The marks, EA pairs, adverse events, amendments, needle-count resolutions, pain
    drawings and measures, handouts given, safety warnings and later appointments of
    ``visits`` (one patient's), each table read once (``decisions``: the patient's standing
    safety decisions, if already read)."""
    require(session, Permission.VIEW_CLINICAL)
    visit_ids = [v.id for v in visits]

    def grouped(model: Any) -> dict[int, list[Any]]:
        out: dict[int, list[Any]] = {vid: [] for vid in visit_ids}
        query = select(model).where(model.visit_id.in_(visit_ids)).order_by(model.id)
        for row in session.scalars(query):
            out[row.visit_id].append(row)
        return out

    resolutions = session.scalars(
        select(NeedleCountResolution).where(NeedleCountResolution.visit_id.in_(visit_ids))
    )
    ea_pairs = grouped(EAPair)
    marks = marks_of_visits(session, visit_ids, bodymap)
    return _VisitRows(
        ea_pairs=ea_pairs,
        adverse_events=grouped(AdverseEvent),
        amendments=grouped(Amendment),
        resolutions={r.visit_id: r for r in resolutions},
        pain=pain_drawings.stored_measures(session, visit_ids),
        marks=marks,
        pain_areas=pain_drawings.drawings(session, visit_ids),
        handouts=handout_issues_of(session, visit_ids),
        # The marks and pairs just read: the safety rules need not read them again.
        warnings=warnings_of_visits(session, visits, bodymap, marks, ea_pairs, decisions),
        booked=booked_starts(session, visits[0].patient_id, min(v.started_at for v in visits))
        if visits
        else [],
    )


def _practitioner(p: Practitioner) -> PractitionerInfo:
    return PractitionerInfo(p.name, p.credentials, p.licence_number, p.style)


def visit_data(
    session: Session,
    visit: Visit,
    bodymap: BodyMap,
    signature_problems: Mapping[int, str | None] | None = None,
    authors: Mapping[int, str] | None = None,
    decisions: Mapping[str, Decision] | None = None,
    rows: _VisitRows | None = None,
) -> VisitData:
    """Everything recorded for one visit (``signature_problems``: the signature check of
    :func:`signatures.problems` already made for several visits, this one among them;
    ``authors``: every practitioner's name by id, ``decisions``: the patient's standing
    safety decisions, and ``rows``: the visit's rows of several tables, if already read)."""
    require(session, Permission.VIEW_CLINICAL)
    if rows is None:
        rows = _visit_rows(session, [visit], bodymap, decisions)
    marks = tuple(rows.marks[visit.id])
    labels = {m.id: m.label for m in marks}
    ea_rows = rows.ea_pairs[visit.id]
    pairs = tuple(
        EAPairData(
            p.mark_a_id,
            p.mark_b_id,
            labels.get(p.mark_a_id, "?"),
            labels.get(p.mark_b_id, "?"),
            p.waveform,
            p.frequency_hz,
            p.intensity_ma,
            p.minutes,
            p.device,
            p.frequency2_hz,
        )
        for p in ea_rows
    )
    events = tuple(
        EventData(e.kind, e.severity, e.action, e.note, e.patient_told)
        for e in rows.adverse_events[visit.id]
    )
    # Only the recorded resolution: the counts themselves are the marks above and the visit.
    r = rows.resolutions.get(visit.id)
    resolution = ""
    if r is not None:
        resolution = (
            f"{r.needles_in} in, {r.needles_out} out: "
            f"{visit_record.NEEDLE_OUTCOMES.get(r.outcome, r.outcome).lower()} \u2014 {r.note}"
        )
    if authors is None:
        authors = practitioner_names(session)
    amendments = tuple(
        AmendmentData(
            a.created_at, authors.get(a.author_id, "?"), a.field, a.original, a.corrected, a.reason
        )
        for a in rows.amendments[visit.id]
    )
    return VisitData(
        id=visit.id,
        number=visit.number,
        started_at=visit.started_at,
        status=visit.status,
        signed_at=visit.signed_at,
        content_hash=visit.content_hash,
        practitioner=_practitioner(visit.practitioner),
        record=visit_record.record(session, visit.id),
        marks=marks,
        ea_pairs=pairs,
        adverse_events=events,
        warnings=tuple(rows.warnings[visit.id]),
        amendments=amendments,
        needles_in=sum(1 for m in marks if m.kind != "cupping"),
        # Checked every time a signed visit is printed or exported: an altered record is
        # never printed as validly signed.
        signature_problem=(
            signatures.signature_problem(session, visit.id)
            if signature_problems is None
            else signature_problems.get(visit.id)
        ),
        handouts=tuple(i.text for i in rows.handouts[visit.id]),
        needle_resolution=resolution,
        pain_areas=tuple(a.shape for a in rows.pain_areas[visit.id]),
        pain=rows.pain.get(visit.id),
        next_appointment=first_after(rows.booked, visit.started_at) or visit.next_appointment,
    )


def practitioner_names(session: Session) -> dict[int, str]:
    """Every practitioner's name by id (amendments name their author)."""
    return {p.id: p.name for p in session.scalars(select(Practitioner))}


def visit_report(session: Session, visit_id: int, bodymap: BodyMap) -> VisitReport:
    """Read everything the visit summary and handout need."""
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFoundError("That visit no longer exists.")
    return VisitReport(
        load_settings(session), patient_info(visit.patient), visit_data(session, visit, bodymap)
    )


def course_report(
    session: Session,
    patient_id: int,
    bodymap: BodyMap,
    since: date | None = None,
    until: date | None = None,
) -> CourseReport:
    """Read a patient's course (optionally only the visits in a date range)."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFoundError("That patient no longer exists.")
    visits = [
        v
        for v in session.scalars(
            select(Visit).where(Visit.patient_id == patient_id).order_by(Visit.number)
        )
        if (since is None or v.started_at.date() >= since)
        and (until is None or v.started_at.date() <= until)
    ]
    wanted = {v.id for v in visits}
    # Every visit's signature checked in one go (a few statements, not several per visit).
    checked = signatures.problems(session, [v.id for v in visits])
    points = tuple(p for p in outcomes.course(session, patient_id) if p.visit_id in wanted)
    authors = practitioner_names(session)
    # The patient's standing safety decisions are the same for every visit: read once.
    decisions = decisions_for(session, visits[0].id) if visits else None
    # The rows of every visit's summary, each table read once for the whole course.
    rows = _visit_rows(session, visits, bodymap, decisions)
    return CourseReport(
        clinic=load_settings(session),
        patient=patient_info(patient),
        visits=tuple(
            visit_data(session, v, bodymap, checked, authors, decisions, rows) for v in visits
        ),
        points=points,
        changes=tuple(outcomes.changes_from_baseline(list(points))),
        plan=outcomes.plan(session, patient_id),
        point_usage=tuple(outcomes.point_usage(session, patient_id)),
        since=since,
        until=until,
    )
