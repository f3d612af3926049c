"""Visit templates: a named starting treatment (points with techniques, EA pairs with their
settings, cupping sites and the plan fields) applied to a draft visit in one step.

Templates extend protocols (which hold marks only). The built-in ones are starting points
for common back-and-leg presentations, to be adjusted to the patient; their point choices
follow the common low-back prescriptions (BL23, BL25, BL40, GB30, GV4; see docs/sources.md:
WHO08 for locations, and the acupuncture low-back-pain trials summarised there, e.g.
HAAKE07 and CHERKIN09, which used similar local and distal points).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from charting.bodymap import BodyMap
from charting.models import Visit
from charting.services import marks as mark_service
from charting.services import visit_record
from charting.services.changes import Changes
from charting.services.errors import NotFoundError, ValidationError
from charting.services.marks import MarkSpec, RemovedMarks
from charting.services.visit_record import EASettings


@dataclass(frozen=True)
class TemplatePoint:
    """A point of a template: code, sides ("L", "R", "M"), technique, depth (mm)."""

    code: str
    sides: tuple[str, ...]
    technique: str = "manual"
    depth_mm: float | None = None


@dataclass(frozen=True)
class VisitTemplate:
    """A named starting treatment.

    Attributes:
        id: Stable id.
        name: What the menu says.
        points: Needled points.
        ea_pairs: Pairs of (code, side) joined by an EA lead, with the settings.
        cupping: (code, side) of the points the cups are centred on, with the method and
            minutes.
        fields: Plan fields of the record set by the template (retention, home advice …).
    """

    id: str
    name: str
    points: tuple[TemplatePoint, ...]
    ea_pairs: tuple[tuple[tuple[str, str], tuple[str, str], EASettings], ...] = ()
    cupping: tuple[tuple[str, str], ...] = ()
    cup_type: str = "dry"
    cup_minutes: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)


_DENSE_DISPERSE = EASettings("Dense-disperse", 2.0, None, 20, "", 100.0)

TEMPLATES: tuple[VisitTemplate, ...] = (
    VisitTemplate(
        "acute_lbp",
        "Acute low back pain",
        (
            TemplatePoint("BL23", ("L", "R"), "manual", 25),
            TemplatePoint("BL25", ("L", "R"), "electro", 30),
            TemplatePoint("GV4", ("M",), "manual", 15),
            TemplatePoint("BL40", ("L", "R"), "manual", 20),
        ),
        ea_pairs=((("BL23", "L"), ("BL25", "L"), _DENSE_DISPERSE),),
        cupping=(("BL23", "L"), ("BL23", "R")),
        cup_minutes=8,
        fields={"retention_minutes": 20, "home_advice": ["walking", "heat", "lifting"]},
    ),
    VisitTemplate(
        "sciatica_left",
        "Sciatica, left",
        (
            TemplatePoint("BL25", ("L",), "electro", 30),
            TemplatePoint("GB30", ("L",), "electro", 50),
            TemplatePoint("BL40", ("L",), "manual", 20),
            TemplatePoint("GB34", ("L",), "manual", 25),
            TemplatePoint("BL60", ("L",), "manual", 10),
        ),
        ea_pairs=((("BL25", "L"), ("GB30", "L"), _DENSE_DISPERSE),),
        fields={"retention_minutes": 25, "home_advice": ["walking", "stretches"]},
    ),
)


def template(template_id: str) -> VisitTemplate:
    """The template called ``template_id``.

    Raises:
        NotFoundError: no such template.
    """
    found = next((t for t in TEMPLATES if t.id == template_id), None)
    if found is None:
        raise NotFoundError("That visit template does not exist.")
    return found


@dataclass(frozen=True)
class AppliedTemplate:
    """What applying a template did, so undo can take it back exactly."""

    visit_id: int
    mark_ids: tuple[int, ...]
    pair_ids: tuple[int, ...]
    fields_before: dict[str, Any]


def _spec(bodymap: BodyMap, code: str, side: str, **details: Any) -> MarkSpec:
    views = bodymap.views_for(code)
    if not views:
        raise ValidationError({"template": f"{code} is not on the body map."})
    view = views[0]
    pos = bodymap.position(code, side, view)  # type: ignore[arg-type]
    if pos is None:
        raise ValidationError({"template": f"{code} {side} is not on the body map."})
    return MarkSpec("acupoint", view, pos[0], pos[1], side, code, **details)


def apply_template(
    session: Session, bodymap: BodyMap, visit_id: int, template_id: str
) -> tuple[AppliedTemplate, Changes]:
    """Add a template's points, EA pairs and cupping sites to a draft visit and set its plan
    fields, all in one transaction (the caller's one undoable step)."""
    chosen = template(template_id)
    specs: list[MarkSpec] = []
    index: dict[tuple[str, str], int] = {}
    for point in chosen.points:
        for side in point.sides:
            index[(point.code, side)] = len(specs)
            specs.append(
                _spec(bodymap, point.code, side, technique=point.technique, depth_mm=point.depth_mm)
            )
    for code, side in chosen.cupping:
        spec = _spec(bodymap, code, side)
        specs.append(
            MarkSpec(
                "cupping",
                spec.view,
                spec.x,
                spec.y,
                side,
                technique="cupping",
                cup_type=chosen.cup_type,
                cup_count=1,
                cup_minutes=chosen.cup_minutes,
            )
        )
    ids, changes = mark_service.add_marks(session, bodymap, visit_id, specs)
    pair_ids = []
    for a, b, settings in chosen.ea_pairs:
        pair_id, more = visit_record.add_ea_pair(
            session, visit_id, ids[index[a]], ids[index[b]], settings
        )
        pair_ids.append(pair_id)
        changes = changes | more
    visit = session.get(Visit, visit_id)
    assert visit is not None
    before = {name: getattr(visit, name) for name in chosen.fields}
    if chosen.fields:
        changes = changes | visit_record.update_fields(session, visit_id, dict(chosen.fields))
    applied = AppliedTemplate(visit_id, tuple(ids), tuple(pair_ids), before)
    return applied, changes | Changes(visits=frozenset({visit_id}), marks=frozenset(ids))


def undo_template(session: Session, applied: AppliedTemplate) -> tuple[RemovedMarks, Changes]:
    """Take an applied template back: its marks (and their EA pairs) go, the plan fields
    return to what they were."""
    removed, changes = mark_service.delete_marks(session, list(applied.mark_ids))
    if applied.fields_before:
        changes = changes | visit_record.update_fields(
            session, applied.visit_id, dict(applied.fields_before)
        )
    return removed, changes | Changes(visits=frozenset({applied.visit_id}))


def template_names() -> Sequence[tuple[str, str]]:
    """(id, name) of every template, in menu order."""
    return [(t.id, t.name) for t in TEMPLATES]
