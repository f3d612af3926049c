"""Outcome measures across a course: change from baseline, and whether it is meaningful.

Minimal important change (domain.md §4.3, source MIC): pain NRS about 2 points or 30%;
ODI about 10 points; RMDQ about 5 points or 30%. The 30% threshold is used for display
of any measure, as the reference advises; PSFS uses the mean of its activity scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from charting.models import Visit


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
