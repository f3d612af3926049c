"""Outcome measures across a course: change from baseline, and whether it is meaningful.

Minimal important change (source MIC in docs/sources.md): pain NRS about 2 points or 30%;
ODI about 10 points; RMDQ about 5 points or 30%. The 30% threshold is used for display
of any measure, as the reference advises; PSFS uses the mean of its activity scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from charting.models import Mark, Patient, Visit
from charting.services.access import Permission, require
from charting.services.changes import Changes
from charting.services.errors import NotFoundError, ValidationError
from charting.services.validation import check_text


@dataclass(frozen=True)
class Measure:
    """How a measure is read: its range, whether higher is better, and its MIC in points."""

    key: str
    label: str
    high: float
    higher_is_better: bool
    mic_points: float | None


MEASURES = (
    Measure("pain_now", "Pain (NRS 0-10)", 10, False, 2),
    Measure("odi_percent", "ODI (%)", 100, False, 10),
    Measure("rmdq_score", "RMDQ (0-24)", 24, False, 5),
    Measure("psfs", "PSFS mean (0-10)", 10, True, None),
)
MEANINGFUL_PERCENT = 30.0


@dataclass(frozen=True)
class Change:
    """Baseline and latest value of one measure, with the change in points and percent."""

    measure: Measure
    baseline: float
    latest: float
    baseline_visit: int
    latest_visit: int

    @property
    def points(self) -> float:
        """Latest minus baseline."""
        return self.latest - self.baseline

    @property
    def percent(self) -> float | None:
        """Change relative to the baseline, in percent (None when the baseline is 0)."""
        return None if self.baseline == 0 else 100.0 * self.points / self.baseline

    @property
    def improved(self) -> bool:
        """Whether the change goes in the good direction."""
        return self.points > 0 if self.measure.higher_is_better else self.points < 0

    @property
    def meaningful(self) -> bool:
        """An improvement at or beyond the MIC in points, or 30% of the baseline."""
        if not self.improved:
            return False
        mic = self.measure.mic_points
        by_points = mic is not None and abs(self.points) >= mic
        by_percent = self.percent is not None and abs(self.percent) >= MEANINGFUL_PERCENT
        return by_points or by_percent


def psfs_mean(items: list[dict[str, object]]) -> float | None:
    """Mean PSFS score of the listed activities, or None when there are none."""
    scores = [float(i["score"]) for i in items if isinstance(i.get("score"), int)]  # type: ignore[arg-type]
    return sum(scores) / len(scores) if scores else None


@dataclass(frozen=True)
class CoursePoint:
    """One visit's measures, for trend charts."""

    visit_id: int
    number: int
    started_at: datetime
    pain_before: int | None
    pain_after: int | None
    odi: int | None
    rmdq: int | None
    psfs: float | None


def course(session: Session, patient_id: int) -> list[CoursePoint]:
    """Every visit of a patient with its measures, in course order."""
    require(session, Permission.VIEW_CLINICAL)
    visits = session.scalars(
        select(Visit).where(Visit.patient_id == patient_id).order_by(Visit.number)
    )
    return [
        CoursePoint(
            v.id,
            v.number,
            v.started_at,
            v.pain_now,
            v.pain_after,
            v.odi_percent,
            v.rmdq_score,
            psfs_mean(v.psfs),
        )
        for v in visits
    ]


def changes_from_baseline(points: list[CoursePoint]) -> list[Change]:
    """First and latest recorded value of each measure, with the change between them."""
    values: dict[str, list[tuple[int, float | None]]] = {
        "pain_now": [(p.number, p.pain_before) for p in points],
        "odi_percent": [(p.number, p.odi) for p in points],
        "rmdq_score": [(p.number, p.rmdq) for p in points],
        "psfs": [(p.number, p.psfs) for p in points],
    }
    result = []
    for measure in MEASURES:
        recorded = [(n, v) for n, v in values[measure.key] if v is not None]
        if len(recorded) >= 2:
            (n0, v0), (n1, v1) = recorded[0], recorded[-1]
            result.append(Change(measure, float(v0), float(v1), n0, n1))
    return result


def point_usage(session: Session, patient_id: int) -> list[tuple[str, int]]:
    """How many visits each acupoint was needled in, most used first (either side counts once)."""
    require(session, Permission.VIEW_CLINICAL)
    rows = session.execute(
        select(Mark.point_code, func.count(func.distinct(Mark.visit_id)))
        .join(Visit, Visit.id == Mark.visit_id)
        .where(Visit.patient_id == patient_id, Mark.point_code.is_not(None))
        .group_by(Mark.point_code)
        .order_by(func.count(func.distinct(Mark.visit_id)).desc(), Mark.point_code)
    ).all()
    return [(code, count) for code, count in rows if code]


@dataclass(frozen=True)
class Plan:
    """The planned course against what has been done."""

    sessions: int | None
    frequency: str
    done: int

    @property
    def text(self) -> str:
        """ "6 of 10 planned sessions (2 per week)", or just the count without a plan."""
        if not self.sessions:
            return f"{self.done} session{'s' if self.done != 1 else ''} so far; no plan recorded"
        often = f" ({self.frequency})" if self.frequency else ""
        return f"{self.done} of {self.sessions} planned sessions{often}"


def plan(session: Session, patient_id: int) -> Plan:
    """The patient's treatment plan and the number of visits so far."""
    require(session, Permission.VIEW_CLINICAL, patient_id=patient_id)
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFoundError("That patient no longer exists.")
    done = session.scalar(select(func.count(Visit.id)).where(Visit.patient_id == patient_id)) or 0
    return Plan(patient.plan_sessions, patient.plan_frequency, done)


def set_plan(session: Session, patient_id: int, sessions: int | None, frequency: str) -> Changes:
    """Record the planned number of sessions and how often."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFoundError("That patient no longer exists.")
    errors = {}
    if sessions is not None and not 1 <= sessions <= 100:
        errors["plan_sessions"] = "Planned sessions must be between 1 and 100."
    if problem := check_text(frequency, "Frequency", 60):
        errors["plan_frequency"] = problem
    if errors:
        raise ValidationError(errors)
    patient.plan_sessions = sessions
    patient.plan_frequency = frequency.strip()
    return Changes(patients=frozenset({patient_id}))
