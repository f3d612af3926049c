"""Turn landmark-relative catalog definitions into model-unit positions on a view.

A definition is a small mapping, one of:

* ``{"level": "L2", "edge": "lower", "lateral_cun": 1.5}`` - a vertebral or sacral level
  (see :data:`charting.bodymap.model.LEVEL_ORDER`) and a distance from the posterior midline.
* ``{"segment": "thigh_posterior", "from": "start", "cun": 6}`` - a distance along a
  proportional segment, from its start landmark (or from its end with ``"from": "end"``).
* ``{"landmark": "lateral_malleolus", "down_cun": 0.6}`` - a landmark plus offsets.
* ``{"between": ["greater_trochanter", "sacral_hiatus"], "fraction": 0.333}`` - a point on
  the line joining two landmarks, points (``"@GB30"``) or nested definitions; with
  ``"level_of": "pubic_symphysis_lower"`` instead of a fraction, the point of that line
  level with a landmark (e.g. ST31, where the line from the ASIS to the patella crosses the
  level of the lower border of the pubic symphysis).

Every form accepts offsets ``down_cun``/``up_cun`` (along the frame's axis) and
``lateral_cun``/``medial_cun`` (posterior view) or ``anterior_cun``/``posterior_cun`` (leg
views), measured in the local B-cun of the frame. Results are for the patient's left side.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from charting.bodymap.geometry import Point, Polygon, closed_spline, lerp
from charting.bodymap.model import View
from charting.bodymap.types import Frame

Definition = Mapping[str, Any]
RefResolver = Callable[[str], Point]

_OFFSETS: dict[str, tuple[str, float]] = {
    "down_cun": ("down", 1.0),
    "up_cun": ("down", -1.0),
    "lateral_cun": ("lateral", 1.0),
    "medial_cun": ("lateral", -1.0),
    "anterior_cun": ("anterior", 1.0),
    "posterior_cun": ("anterior", -1.0),
}
EDGES = frozenset({"lower", "foramen", "at"})


class PlacementError(ValueError):
    """A catalog definition cannot be placed on a view."""


def _offsets(definition: Definition, frame: Frame) -> tuple[float, float]:
    down = across = 0.0
    for key, (direction, sign) in _OFFSETS.items():
        if key not in definition:
            continue
        value = float(definition[key]) * sign
        if direction == "down":
            down += value
        elif direction == frame.across_name:
            across += value
        else:
            raise PlacementError(f"{key} is not meaningful in frame {frame.name!r}")
    return down, across


def _frame(view: View, name: str) -> Frame:
    try:
        return view.frames[name]
    except KeyError:
        raise PlacementError(f"view {view.id!r} has no frame {name!r}") from None


def _endpoint(view: View, ref: Any, resolve_ref: RefResolver | None) -> tuple[Point, Frame]:
    if isinstance(ref, Mapping):
        return resolve_with_frame(view, ref, resolve_ref)
    name = str(ref)
    if name.startswith("@"):
        if resolve_ref is None:
            raise PlacementError(f"cannot resolve point reference {name!r} here")
        return resolve_ref(name[1:]), _frame(view, next(iter(view.frames)))
    if name not in view.landmarks:
        raise PlacementError(f"view {view.id!r} has no landmark {name!r}")
    mark = view.landmarks[name]
    return mark.point, _frame(view, mark.frame)


def resolve_with_frame(
    view: View, definition: Definition, resolve_ref: RefResolver | None = None
) -> tuple[Point, Frame]:
    """Resolve a definition to ``(point, frame)`` for the patient's left side.

    Raises:
        PlacementError: When the definition names something the view does not have.
    """
    if "level" in definition:
        if definition.get("edge", "lower") not in EDGES:
            raise PlacementError(f"unknown edge {definition['edge']!r}")
        frame = _frame(view, "spine")
        try:
            base = (frame.origin[0], view.level_y(str(definition["level"])))
        except (KeyError, ValueError):
            raise PlacementError(f"unknown level {definition['level']!r}") from None
    elif "segment" in definition:
        frame = _frame(view, str(definition["segment"]))
        cun = float(definition.get("cun", 0.0))
        if definition.get("from", "start") == "end":
            if frame.length_cun is None:
                raise PlacementError(f"segment {frame.name!r} has no end landmark")
            cun = frame.length_cun - cun
        base = frame.at(cun, 0.0)
    elif "landmark" in definition:
        base, frame = _endpoint(view, definition["landmark"], resolve_ref)
    elif "between" in definition:
        a_ref, b_ref = definition["between"]
        a, frame = _endpoint(view, a_ref, resolve_ref)
        b, _ = _endpoint(view, b_ref, resolve_ref)
        if "level_of" in definition:
            level, _ = _endpoint(view, definition["level_of"], resolve_ref)
            if not min(a[1], b[1]) <= level[1] <= max(a[1], b[1]) or a[1] == b[1]:
                raise PlacementError(f"{definition['level_of']!r} is not level with that line")
            base = lerp(a, b, (level[1] - a[1]) / (b[1] - a[1]))
        else:
            base = lerp(a, b, float(definition.get("fraction", 0.5)))
    else:
        raise PlacementError(f"definition has no level, segment, landmark or between: {definition}")
    down, across = _offsets(definition, frame)
    return frame.offset(base, down, across), frame


def resolve(view: View, definition: Definition, resolve_ref: RefResolver | None = None) -> Point:
    """Model-unit position (patient's left side) of a definition on ``view``."""
    return resolve_with_frame(view, definition, resolve_ref)[0]


def resolve_polygon(view: View, spec: Mapping[str, Any]) -> Polygon:
    """Resolve a region polygon given in one frame's coordinates (patient's left side).

    ``spec`` holds ``frame`` and ``points``. In the "spine" frame each point is
    ``[level, lateral_cun]`` (level as in :meth:`View.level_y`, e.g. "L3+0.5"); in a segment
    frame it is ``[cun_from_start, across_cun]``. The outline is smoothed unless
    ``"smooth": false``.
    """
    frame = _frame(view, str(spec["frame"]))
    pts: list[Point] = []
    for a, b in spec["points"]:
        if frame.name == "spine":
            pts.append(
                (
                    frame.origin[0] + frame.across[0] * float(b) * frame.units_per_cun,
                    view.level_y(str(a)),
                )
            )
        else:
            pts.append(frame.at(float(a), float(b)))
    return tuple(closed_spline(pts, 8)) if spec.get("smooth", True) else tuple(pts)


def centroid(points: Sequence[Point]) -> Point:
    """Mean of a set of points (a label anchor for regions)."""
    n = len(points)
    return (sum(p[0] for p in points) / n, sum(p[1] for p in points) / n)
