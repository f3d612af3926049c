"""A visit's pain drawing: shade where it hurts (brush or named region), erase, undo; the
measures are computed again on every change and kept with the visit.

The drawing belongs to the visit's record: the write guard keeps a signed visit's drawing as
it was, and only the visit's practitioner draws on a draft (also when the patient holds the
pen in patient mode: the areas are then kept as drawn by the patient).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from charting.bodymap import BodyMap
from charting.bodymap import regions as body_regions
from charting.models import PainArea, PainSummary, Visit, utcnow
from charting.services import clinical_lists as lists
from charting.services.access import Permission, require
from charting.services.changes import Changes
from charting.services.errors import NotFoundError, ValidationError
from charting.services.guard import check_editable
from charting.services.pain_measures import AreaShape, PainMeasures, measure

#: What the pain feels like (kept with the other word lists, which load without shapely).
QUALITIES = lists.PAIN_QUALITIES
#: One colour per quality, told apart by people with the common colour-vision deficiencies
#: (the Okabe-Ito palette), shared by the screen and the printed legend.
QUALITY_COLOURS = {
    "aching": "#d55e00",
    "sharp": "#cc79a7",
    "burning": "#e69f00",
    "numbness": "#0072b2",
    "pins_needles": "#009e73",
    "cramping": "#56b4e9",
}
DRAWN_BY = ("practitioner", "patient")


def shade_opacity(intensity: int | None) -> float:
    """How strongly an area is shaded for its intensity (0-10): faint to solid."""
    return 0.25 + 0.05 * max(0, min(10, intensity or 0))


MAX_POINTS = 4_000
WIDTH_RANGE = (4.0, 200.0)  # brush diameter, model units (1 unit = 1 mm on the model)


@dataclass(frozen=True)
class Area:
    """One stored area of a drawing."""

    id: int
    shape: AreaShape

    def snapshot(self, visit_id: int) -> dict[str, Any]:
        """What undo needs to put it back (its id too)."""
        s = self.shape
        return {
            "id": self.id,
            "visit_id": visit_id,
            "view": s.view,
            "kind": s.kind,
            "points": [list(p) for p in s.points],
            "width": s.width,
            "region": s.region,
            "side": s.side,
            "quality": s.quality,
            "intensity": s.intensity,
            "drawn_by": s.drawn_by,
        }


def _area(row: Any) -> Area:
    return Area(
        row.id,
        AreaShape(
            view=row.view,
            kind=row.kind,
            drawn_by=row.drawn_by,
            points=tuple((float(x), float(y)) for x, y in row.points or ()),
            width=row.width,
            region=row.region,
            side=row.side,
            quality=row.quality,
            intensity=row.intensity,
        ),
    )


def drawing(session: Session, visit_id: int) -> list[Area]:
    """The visit's pain areas in the order they were made."""
    require(session, Permission.VIEW_CLINICAL)
    rows = session.scalars(
        select(PainArea).where(PainArea.visit_id == visit_id).order_by(PainArea.id)
    )
    return [_area(r) for r in rows]


def drawings(session: Session, visit_ids: Sequence[int]) -> dict[int, list[Area]]:
    """Several visits' pain areas, each visit's in the order they were made (one statement)."""
    require(session, Permission.VIEW_CLINICAL)
    rows = session.scalars(
        select(PainArea).where(PainArea.visit_id.in_(list(visit_ids))).order_by(PainArea.id)
    )
    out: dict[int, list[Area]] = {vid: [] for vid in visit_ids}
    for r in rows:
        out[r.visit_id].append(_area(r))
    return out


def _editable(session: Session, visit_id: int) -> Visit:
    require(session, Permission.CHART)
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFoundError("That visit no longer exists.")
    check_editable(session, visit)
    return visit


def _check(bodymap: BodyMap, shape: AreaShape) -> dict[str, str]:
    errors: dict[str, str] = {}
    if shape.view not in bodymap.views:
        errors["view"] = "Unknown view of the body map."
        return errors
    view = bodymap.views[shape.view]
    if shape.drawn_by not in DRAWN_BY:
        errors["drawn_by"] = "Say who drew it: the practitioner or the patient."
    if shape.kind in ("stroke", "erase"):
        if not 1 <= len(shape.points) <= MAX_POINTS:
            errors["points"] = "A stroke needs its path (at least one point)."
        elif not all(
            math.isfinite(x)
            and math.isfinite(y)
            and -50 <= x <= view.width + 50
            and -50 <= y <= view.height + 50
            for x, y in shape.points
        ):
            errors["points"] = "The stroke goes off the view."
        low, high = WIDTH_RANGE
        if shape.width is None or not low <= shape.width <= high:
            errors["width"] = f"The brush is {low:g} to {high:g} units wide."
    elif shape.kind == "region":
        if (shape.region, shape.side) not in body_regions.region_shapes(bodymap, shape.view):
            errors["region"] = "That region is not on this view."
    else:
        errors["kind"] = "Unknown kind of area."
    if shape.kind != "erase":
        if shape.quality not in QUALITIES:
            errors["quality"] = "Choose what the pain feels like."
        if shape.intensity is None or not 0 <= shape.intensity <= 10:
            errors["intensity"] = "Intensity is 0 (none) to 10 (worst imaginable)."
    return errors


def add_area(
    session: Session, bodymap: BodyMap, visit_id: int, shape: AreaShape
) -> tuple[int, Changes]:
    """Add a brush stroke, a region fill or an eraser stroke to the visit's drawing.

    Raises:
        ValidationError: the shape, quality or intensity is unusable.
        SignedVisitError, NotYourDraftError: the visit cannot be changed by this account.
    """
    _editable(session, visit_id)
    errors = _check(bodymap, shape)
    if errors:
        raise ValidationError(errors)
    row = PainArea(
        visit_id=visit_id,
        view=shape.view,
        kind=shape.kind,
        points=[[round(x, 1), round(y, 1)] for x, y in shape.points],
        width=shape.width,
        region=shape.region,
        side=shape.side,
        quality=shape.quality if shape.kind != "erase" else "",
        intensity=shape.intensity if shape.kind != "erase" else None,
        drawn_by=shape.drawn_by,
    )
    session.add(row)
    session.flush()
    update_measures(session, bodymap, visit_id)
    return row.id, Changes(visits=frozenset({visit_id}))


def remove_area(session: Session, bodymap: BodyMap, area_id: int) -> tuple[dict[str, Any], Changes]:
    """Take an area off (undo of drawing it); returns it, so redo can put it back."""
    row = session.get(PainArea, area_id)
    if row is None:
        raise NotFoundError("That part of the drawing was already removed.")
    visit_id = row.visit_id
    _editable(session, visit_id)
    snapshot = _area(row).snapshot(visit_id)
    session.delete(row)
    session.flush()
    update_measures(session, bodymap, visit_id)
    return snapshot, Changes(visits=frozenset({visit_id}))


def restore_area(session: Session, bodymap: BodyMap, snapshot: dict[str, Any]) -> Changes:
    """Put a removed area back with its id (redo)."""
    visit_id = int(snapshot["visit_id"])
    _editable(session, visit_id)
    session.add(PainArea(**snapshot))
    session.flush()
    update_measures(session, bodymap, visit_id)
    return Changes(visits=frozenset({visit_id}))


def previous_and_first(session: Session, visit_id: int) -> tuple[int | None, int | None]:
    """The patient's previous visit and first visit that have a drawing (before this one)."""
    visit = session.get(Visit, visit_id)
    if visit is None:
        return None, None
    drawn = select(Visit.id).where(
        Visit.patient_id == visit.patient_id,
        Visit.number < visit.number,
        Visit.id.in_(select(PainArea.visit_id)),
    )
    previous = session.scalar(drawn.order_by(Visit.number.desc()).limit(1))
    first = session.scalar(drawn.order_by(Visit.number).limit(1))
    return previous, first


def compute_measures(session: Session, bodymap: BodyMap, visit_id: int) -> PainMeasures:
    """Measure the visit's drawing against the patient's previous and first drawings."""
    previous, first = previous_and_first(session, visit_id)

    def shapes(vid: int | None) -> list[AreaShape] | None:
        if vid is None:
            return None
        rows = session.scalars(
            select(PainArea).where(PainArea.visit_id == vid).order_by(PainArea.id)
        )
        return [_area(r).shape for r in rows]

    return measure(bodymap, shapes(visit_id) or [], shapes(previous), shapes(first))


def update_measures(session: Session, bodymap: BodyMap, visit_id: int) -> PainMeasures:
    """Compute the visit's measures again and keep them with the visit."""
    measures = compute_measures(session, bodymap, visit_id)
    summary = session.get(PainSummary, visit_id)
    if summary is None:
        session.add(PainSummary(visit_id=visit_id, measures=measures.to_json()))
    else:
        summary.measures = measures.to_json()
        summary.computed_at = utcnow()
    return measures


def stored_measures(session: Session, visit_ids: Sequence[int]) -> dict[int, PainMeasures]:
    """The measures kept with each visit that has a drawing."""
    require(session, Permission.VIEW_CLINICAL)
    rows = session.execute(
        select(PainSummary.visit_id, PainSummary.measures).where(
            PainSummary.visit_id.in_(list(visit_ids))
        )
    )
    return {vid: PainMeasures.from_json(data) for vid, data in rows}


def course_drawings(
    session: Session, patient_id: int
) -> list[tuple[int, PainMeasures, list[AreaShape]]]:
    """The patient's visits that have a drawing with shaded area, in visit order: the visit's
    number, its stored measures and the areas' shapes (for the course view's trend)."""
    rows = session.execute(
        select(Visit.id, Visit.number).where(Visit.patient_id == patient_id).order_by(Visit.number)
    ).all()
    kept = stored_measures(session, [vid for vid, _n in rows])
    return [
        (number, kept[vid], [a.shape for a in drawing(session, vid)])
        for vid, number in rows
        if vid in kept and kept[vid].shaded_area > 0
    ]
