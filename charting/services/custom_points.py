"""The clinic's own named points: add, edit, retire, and the body map that knows them.

A custom point is placed on one view of the proportional body model, in model units, like a
catalog point. The clinic's body map is the shared catalog with its custom points laid over it
(:func:`clinic_bodymap`): every screen, report and export that reads the map from here knows
them, places them on a click, finds them by code or name and marks them as custom.

Marks of a custom point store its code and their own position, as catalog marks do, so what a
signature covers never depends on the custom point's row. To keep a signed visit reading the
same, what a visit shows or checks of the point (code, name, view, position, cautions and
safe depth: the safety advisories printed on a summary quote them) is fixed once a mark uses
it; only its location text can still change, and it can be retired (no longer offered) but
not deleted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from charting.bodymap import BodyMap, CustomPointData, load_bodymap
from charting.models import CustomPoint, Mark, UserAccount
from charting.services.access import Permission, require
from charting.services.changes import Changes
from charting.services.errors import NotFoundError, ValidationError
from charting.services.validation import check_text

#: A custom point's code: letters, digits and hyphens, starting with a letter.
CODE_PATTERN = re.compile(r"[A-Z][A-Z0-9-]{0,19}")
MAX_NAME = 80
MAX_TEXT = 1_000
MAX_SAFE_DEPTH_MM = 150.0
#: Fields that stay as they are once a mark uses the point (what a visit shows or checks).
FIXED_ONCE_USED = ("code", "name", "view", "position", "cautions", "safe_depth_mm")


@dataclass(frozen=True)
class CustomPointInput:
    """What a person enters for a custom point."""

    code: str
    name: str
    view: str
    x: float
    y: float
    location: str = ""
    cautions: str = ""
    safe_depth_mm: float | None = None


@dataclass(frozen=True)
class CustomPointRow:
    """A stored custom point as the list of custom points shows it."""

    id: int
    code: str
    name: str
    view: str
    x: float
    y: float
    laterality: str
    location: str
    cautions: str
    safe_depth_mm: float | None
    retired: bool
    added_by: str
    added_at: datetime
    #: Marks that use it (its code, name and position are then fixed).
    uses: int

    @property
    def data(self) -> CustomPointData:
        """The point as the body map takes it."""
        return _point_data(self)


def _point_fields(point: object) -> dict[str, Any]:
    """The body map's fields of a point (a stored row or a list row), by name."""
    return {f.name: getattr(point, f.name) for f in fields(CustomPointData)}


def _point_data(point: object) -> CustomPointData:
    return CustomPointData(**_point_fields(point))


def normalise_code(text: str) -> str:
    """A typed code as stored: trimmed, upper case, spaces as hyphens ("c heel" -> "C-HEEL")."""
    return re.sub(r"\s+", "-", text.strip()).upper()


def laterality_at(bodymap: BodyMap, view_id: str, x: float) -> str:
    """ "midline" for a position on the midline band of a view that has one, else "bilateral"."""
    view = bodymap.views[view_id]
    if view.has_midline:
        band = 0.25 * view.units_per_cun(view.mirror_axis, 0.0)
        if abs(x - view.mirror_axis) <= max(band, 4.0):
            return "midline"
    return "bilateral"


def validate(
    session: Session, entry: CustomPointInput, point_id: int | None = None
) -> dict[str, str]:
    """Check a custom point against the catalog, the other custom points and the body outline.

    Returns ``{field: message}`` for every problem (empty when it can be stored).
    """
    catalog = load_bodymap()
    errors: dict[str, str] = {}
    code = normalise_code(entry.code)
    if not code:
        errors["code"] = "Give the point a short code (for example C-HEEL)."
    elif not CODE_PATTERN.fullmatch(code):
        errors["code"] = (
            "A code is up to 20 letters, digits and hyphens, starting with a letter "
            "(for example C-HEEL)."
        )
    else:
        try:
            known = catalog.point(code)
        except KeyError:
            clash = session.scalar(select(CustomPoint).where(func.upper(CustomPoint.code) == code))
            if clash is not None and clash.id != point_id:
                errors["code"] = f"{code} is already the clinic's custom point '{clash.name}'."
        else:
            errors["code"] = (
                f"{code} is a catalog point ({known.pinyin}, {known.meridian}); "
                f"choose another code (for example C-{code})."
            )
    name = entry.name.strip()
    if not name:
        errors["name"] = "Give the point a name."
    elif problem := check_text(name, "Name", MAX_NAME):
        errors["name"] = problem
    for key, label, value in (
        ("location", "Location", entry.location),
        ("cautions", "Cautions", entry.cautions),
    ):
        if problem := check_text(value, label, MAX_TEXT):
            errors[key] = problem
    if entry.view not in catalog.views:
        errors["view"] = f"Unknown body-map view '{entry.view}'."
    else:
        view = catalog.views[entry.view]
        if not (math.isfinite(entry.x) and math.isfinite(entry.y)):
            errors["position"] = "The position must be a number on the view."
        elif not (0 <= entry.x <= view.width and 0 <= entry.y <= view.height):
            errors["position"] = (
                f"The position lies outside the {view.title} view "
                f"(0 to {view.width:g} across, 0 to {view.height:g} down)."
            )
        elif not view.inside_outline(entry.x, entry.y):
            errors["position"] = f"The position is off the body on the {view.title} view."
    depth = entry.safe_depth_mm
    if depth is not None and (not math.isfinite(depth) or not 0 < depth <= MAX_SAFE_DEPTH_MM):
        errors["safe_depth_mm"] = f"A safe depth is between 0 and {MAX_SAFE_DEPTH_MM:g} mm."
    return errors


def _uses(session: Session, code: str) -> int:
    return (
        session.scalar(select(func.count()).select_from(Mark).where(Mark.point_code == code)) or 0
    )


def list_custom_points(session: Session, include_retired: bool = True) -> list[CustomPointRow]:
    """The clinic's custom points, by code, with how many marks use each."""
    uses = func.count(Mark.id)
    query = (
        select(CustomPoint, UserAccount.display_name, uses)
        .outerjoin(UserAccount, UserAccount.id == CustomPoint.added_by_id)
        .outerjoin(Mark, Mark.point_code == CustomPoint.code)
        .group_by(CustomPoint.id, UserAccount.display_name)
        .order_by(CustomPoint.code)
    )
    if not include_retired:
        query = query.where(CustomPoint.retired.is_(False))
    return [
        CustomPointRow(
            id=p.id, **_point_fields(p), added_by=who or "", added_at=p.added_at, uses=count
        )
        for p, who, count in session.execute(query)
    ]


def custom_point_data(session: Session) -> tuple[CustomPointData, ...]:
    """Every custom point (retired ones too, so old marks still read) as body-map data."""
    rows = session.scalars(select(CustomPoint).order_by(CustomPoint.code))
    return tuple(_point_data(p) for p in rows)


@lru_cache(maxsize=8)
def _bodymap_with(custom: tuple[CustomPointData, ...]) -> BodyMap:
    return load_bodymap().with_custom_points(custom)


def clinic_bodymap(session: Session) -> BodyMap:
    """The catalog with this clinic's custom points: the body map every reader should use.

    Built once per set of custom points (they change rarely; reading them is one small query).
    """
    custom = custom_point_data(session)
    return _bodymap_with(custom) if custom else load_bodymap()


def _stored(session: Session, point_id: int) -> CustomPoint:
    point = session.get(CustomPoint, point_id)
    if point is None:
        raise NotFoundError("That custom point no longer exists.")
    return point


def add_custom_point(session: Session, entry: CustomPointInput) -> tuple[int, Changes]:
    """Store a new custom point.

    Raises:
        ValidationError: an empty name, a code already used, a position off the body.
        PermissionDeniedError: the account may not change custom points (front desk).
    """
    actor = require(session, Permission.CUSTOM_POINTS)
    errors = validate(session, entry)
    if errors:
        raise ValidationError(errors)
    point = CustomPoint(
        code=normalise_code(entry.code),
        name=entry.name.strip(),
        view=entry.view,
        x=entry.x,
        y=entry.y,
        laterality=laterality_at(load_bodymap(), entry.view, entry.x),
        location=entry.location.strip(),
        cautions=entry.cautions.strip(),
        safe_depth_mm=entry.safe_depth_mm,
        added_by_id=actor.user_id,
    )
    if point.laterality == "midline":
        point.x = load_bodymap().views[entry.view].mirror_axis
    session.add(point)
    session.flush()
    return point.id, Changes(custom_points=frozenset({point.id}))


def update_custom_point(
    session: Session, point_id: int, entry: CustomPointInput
) -> tuple[int, Changes]:
    """Change a custom point. Once a mark uses it, only its location text can change (the
    rest is what its visits show and check: see :data:`FIXED_ONCE_USED`).

    Raises:
        ValidationError: as :func:`add_custom_point`, or a fixed field changed.
    """
    require(session, Permission.CUSTOM_POINTS)
    point = _stored(session, point_id)
    errors = validate(session, entry, point_id)
    if errors:
        raise ValidationError(errors)
    code = normalise_code(entry.code)
    laterality = laterality_at(load_bodymap(), entry.view, entry.x)
    x = load_bodymap().views[entry.view].mirror_axis if laterality == "midline" else entry.x
    if _uses(session, point.code):
        fixed = {
            "code": code != point.code,
            "name": entry.name.strip() != point.name,
            "view": entry.view != point.view,
            "position": (x, entry.y) != (point.x, point.y),
            "cautions": entry.cautions.strip() != point.cautions,
            "safe_depth_mm": entry.safe_depth_mm != point.safe_depth_mm,
        }
        changed = [k for k, v in fixed.items() if v]
        if changed:
            raise ValidationError(
                {
                    k: f"{point.code} is used in charted visits, so this stays as it is; "
                    "retire it and add a new point instead."
                    for k in changed
                }
            )
    point.code, point.name, point.view = code, entry.name.strip(), entry.view
    point.laterality, point.x, point.y = laterality, x, entry.y
    point.location, point.cautions = entry.location.strip(), entry.cautions.strip()
    point.safe_depth_mm = entry.safe_depth_mm
    session.flush()
    return point.id, Changes(custom_points=frozenset({point.id}))


def retire_custom_point(
    session: Session, point_id: int, retired: bool = True
) -> tuple[int, Changes]:
    """Retire a custom point (no longer offered for new marks), or bring it back."""
    require(session, Permission.CUSTOM_POINTS)
    point = _stored(session, point_id)
    point.retired = retired
    session.flush()
    return point.id, Changes(custom_points=frozenset({point.id}))


def delete_custom_point(session: Session, point_id: int) -> tuple[int, Changes]:
    """Delete a custom point no mark uses (a used one can only be retired).

    Raises:
        ValidationError: a mark uses it.
    """
    require(session, Permission.CUSTOM_POINTS)
    point = _stored(session, point_id)
    if uses := _uses(session, point.code):
        raise ValidationError(
            {"point": f"{point.code} is used by {uses} mark(s): retire it instead of deleting it."}
        )
    session.delete(point)
    session.flush()
    return point_id, Changes(custom_points=frozenset({point_id}))


def inputs_of(row: CustomPointRow) -> CustomPointInput:
    """The editable input of a stored point (for an edit dialog to start from)."""
    return CustomPointInput(
        row.code, row.name, row.view, row.x, row.y, row.location, row.cautions, row.safe_depth_mm
    )


def codes(points: Sequence[CustomPointData]) -> frozenset[str]:
    """The codes of some custom points."""
    return frozenset(p.code for p in points)
