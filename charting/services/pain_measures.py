"""Measures of a pain drawing, computed from its shapes in model units (no pixels, no Qt).

* **Extent**: the shaded area as a percentage of the body surface shown on the views, and
  the share of each region (low back, buttock, thigh, lower leg, foot; left and right) that
  is shaded. Pain extent from a drawing is a reliable measure in musculoskeletal pain
  (test-retest intraclass correlation above 0.9) [PDEXT].
* **How far down each leg** the shading reaches: back only, buttock, thigh, below the knee,
  foot. Pain below the knee marks the more severe Quebec Task Force classes [QTF].
* **Overlap with another drawing** (the previous visit's): the Jaccard index, the area
  shaded in both divided by the area shaded in either (1 = the same, 0 = no overlap).
* **Centralised / peripheralised**: the furthest extent moved up the leg (towards the spine)
  or down it, on either leg, between two drawings (the centralisation phenomenon [CENTRAL]).
* **Dermatome hint**: where the shading below the knee lies mostly in one of the L4, L5 or S1
  zones of an evidence-based dermatome map [DERM], it is said, as a hint: dermatomes overlap
  and vary between people, and a drawing is not a diagnosis.

Keys in brackets refer to docs/sources.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from shapely import LineString, Polygon, box, clip_by_rect, union_all
from shapely.geometry.base import BaseGeometry

from charting.bodymap import BodyMap
from charting.bodymap import regions as body_regions

#: Share of the shading below the knee (on one leg) that must lie in one dermatome's zone
#: before it is mentioned, and the least shading (as a share of that leg's lower leg and
#: foot) worth a hint at all.
DERMATOME_SHARE = 0.6
DERMATOME_MIN_SHARE = 0.02


@dataclass(frozen=True)
class AreaShape:
    """One area of a drawing as the measures see it."""

    view: str
    kind: str  # stroke, region, erase
    drawn_by: str
    points: tuple[tuple[float, float], ...] = ()
    width: float | None = None
    region: str = ""
    side: str = ""
    quality: str = ""
    intensity: int | None = None


def shape_of(bodymap: BodyMap, area: AreaShape, clip: bool = True) -> BaseGeometry:
    """The area as a shape on its view, kept to the body's outline (``clip``)."""
    if area.kind == "region":
        return body_regions.region_shapes(bodymap, area.view).get(
            (area.region, area.side), Polygon()
        )
    radius = max((area.width or 1.0) / 2.0, 0.5)
    if len(area.points) == 1:
        line: BaseGeometry = LineString([area.points[0], area.points[0]])
    else:
        line = LineString(area.points)
    brush = line.buffer(radius, quad_segs=6)
    if area.kind == "erase" or not clip:
        return brush
    return brush.intersection(body_regions.body_surface(bodymap, area.view))


def _overlap(shape: BaseGeometry, zone: BaseGeometry) -> float:
    """The area ``shape`` and ``zone`` share. The shape is first cut to the zone's bounding
    box (a cheap cut that needs no topology), so the exact intersection works on the part
    near the zone instead of the whole drawing: the same area, a fraction of the time."""
    if zone.is_empty or shape.is_empty:
        return 0.0
    near = clip_by_rect(shape, *zone.bounds)
    return 0.0 if near.is_empty else near.intersection(zone).area


def shaded(bodymap: BodyMap, areas: Sequence[AreaShape]) -> dict[str, BaseGeometry]:
    """What stays shaded on each view once every eraser stroke (by the same person) has taken
    away what it passed over, in the order the areas were made."""
    layers: dict[tuple[str, str], list[BaseGeometry]] = {}
    for area in areas:
        key = (area.view, area.drawn_by)
        shape = shape_of(bodymap, area, clip=False)
        if area.kind == "erase":
            layers[key] = [s.difference(shape) for s in layers.get(key, [])]
        else:
            layers.setdefault(key, []).append(shape)
    per_view: dict[str, list[BaseGeometry]] = {}
    for (view, _who), shapes in layers.items():
        per_view.setdefault(view, []).extend(shapes)
    # Kept to the body's outline once per view: clipping commutes with the unions and the
    # erasers' differences, and one clip of the union costs a fraction of one per stroke.
    return {
        view: union_all(shapes).intersection(body_regions.body_surface(bodymap, view))
        for view, shapes in per_view.items()
        if shapes
    }


@dataclass(frozen=True)
class PainMeasures:
    """What a drawing measures (percentages 0-100, areas in square model units)."""

    extent_percent: float = 0.0
    shaded_area: float = 0.0
    surface_area: float = 0.0
    #: Share of each region that is shaded, in percent, keyed "region:side" (e.g. "thigh:L").
    regions: dict[str, float] = field(default_factory=dict)
    #: How far down each leg: one of regions.EXTENT_LEVELS, keyed "L" and "R".
    furthest: dict[str, str] = field(default_factory=dict)
    overlap_previous: float | None = None
    since_previous: str | None = None  # centralised, peripheralised, unchanged
    since_first: str | None = None
    dermatome_hints: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """As stored with the visit."""
        data = asdict(self)
        data["dermatome_hints"] = list(self.dermatome_hints)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PainMeasures:
        """Read back what :meth:`to_json` stored (missing keys keep their defaults)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "dermatome_hints" in known:
            known["dermatome_hints"] = tuple(known["dermatome_hints"])
        return cls(**known)

    @property
    def most_distal(self) -> str:
        """The furthest extent on either leg."""
        levels = [self.furthest.get(s, "none") for s in body_regions.SIDES]
        return max(levels, key=body_regions.EXTENT_LEVELS.index)


def _furthest(bodymap: BodyMap, drawing: dict[str, BaseGeometry]) -> dict[str, str]:
    reached: dict[str, int] = {s: 0 for s in body_regions.SIDES}
    rank = {
        "low_back": "back_only",
        "buttock": "buttock",
        "thigh": "thigh",
        "lower_leg": "below_knee",
        "foot": "foot",
    }
    for view, shape in drawing.items():
        for (region, side), zone in body_regions.region_shapes(bodymap, view).items():
            if _overlap(shape, zone) > 1.0:
                level = body_regions.EXTENT_LEVELS.index(rank[region])
                reached[side] = max(reached[side], level)
        # Shading elsewhere on the back (above the low back) counts as "back only".
        if view == "posterior" and shape.area > 1.0:
            for side in body_regions.SIDES:
                half = _half(bodymap, view, side)
                if _overlap(shape, half) > 1.0:
                    reached[side] = max(
                        reached[side], body_regions.EXTENT_LEVELS.index("back_only")
                    )
    return {side: body_regions.EXTENT_LEVELS[level] for side, level in reached.items()}


def _half(bodymap: BodyMap, view_id: str, side: str) -> BaseGeometry:
    view = bodymap.views[view_id]
    if side == "L":
        return box(0.0, 0.0, view.mirror_axis, view.height)
    return box(view.mirror_axis, 0.0, view.width, view.height)


def jaccard(a: dict[str, BaseGeometry], b: dict[str, BaseGeometry]) -> float | None:
    """Area shaded in both over area shaded in either, over all views (None if both empty)."""
    both = either = 0.0
    for view in set(a) | set(b):
        one, two = a.get(view), b.get(view)
        if one is not None and two is not None:
            both += one.intersection(two).area
            either += one.union(two).area
        elif one is not None:
            either += one.area
        elif two is not None:
            either += two.area
    return None if either <= 0.0 else both / either


def change(before: PainMeasures, after: PainMeasures) -> str:
    """Whether pain centralised (moved up a leg), peripheralised (moved down) or stayed."""
    moves = []
    for side in body_regions.SIDES:
        was = body_regions.EXTENT_LEVELS.index(before.furthest.get(side, "none"))
        now = body_regions.EXTENT_LEVELS.index(after.furthest.get(side, "none"))
        if was != now and max(was, now) > body_regions.EXTENT_LEVELS.index("back_only"):
            moves.append(now - was)
    if any(m > 0 for m in moves):
        return "peripheralised"
    if any(m < 0 for m in moves):
        return "centralised"
    return "unchanged"


def _dermatome_hints(bodymap: BodyMap, drawing: dict[str, BaseGeometry]) -> tuple[str, ...]:
    hints = []
    for side in body_regions.SIDES:
        shaded_below = 0.0
        leg_area = 0.0
        per_zone: dict[str, float] = {}
        for view, shape in drawing.items():
            zones = body_regions.region_shapes(bodymap, view)
            for region in ("lower_leg", "foot"):
                zone = zones.get((region, side))
                if zone is not None:
                    leg_area += zone.area
                    shaded_below += _overlap(shape, zone)
            for (name, zside), zone in body_regions.dermatome_shapes(bodymap, view).items():
                if zside == side:
                    per_zone[name] = per_zone.get(name, 0.0) + _overlap(shape, zone)
        if shaded_below <= 0 or leg_area <= 0 or shaded_below / leg_area < DERMATOME_MIN_SHARE:
            continue
        name, area = max(per_zone.items(), key=lambda item: item[1], default=("", 0.0))
        if name and area / shaded_below >= DERMATOME_SHARE:
            leg = "left" if side == "L" else "right"
            hints.append(f"Shading below the {leg} knee follows the {name} dermatome (a hint)")
    return tuple(hints)


def _measured(
    bodymap: BodyMap, areas: Sequence[AreaShape]
) -> tuple[dict[str, BaseGeometry], PainMeasures]:
    """A drawing's shaded shape per view and its own measures (no comparisons)."""
    drawing = shaded(bodymap, areas)
    surface = sum(body_regions.body_surface(bodymap, v).area for v in bodymap.views)
    total = sum(shape.area for shape in drawing.values())
    region_share: dict[str, float] = {}
    region_area: dict[str, float] = {}
    for view in bodymap.views:
        shape = drawing.get(view)
        for (region, side), zone in body_regions.region_shapes(bodymap, view).items():
            key = f"{region}:{side}"
            region_area[key] = region_area.get(key, 0.0) + zone.area
            if shape is not None:
                region_share[key] = region_share.get(key, 0.0) + _overlap(shape, zone)
    regions = {
        key: round(100.0 * region_share.get(key, 0.0) / area, 2)
        for key, area in region_area.items()
        if area > 0
    }
    return drawing, PainMeasures(
        extent_percent=round(100.0 * total / surface, 2) if surface else 0.0,
        shaded_area=round(total, 1),
        surface_area=round(surface, 1),
        regions=regions,
        furthest=_furthest(bodymap, drawing),
        dermatome_hints=_dermatome_hints(bodymap, drawing),
    )


@lru_cache(maxsize=16)
def _earlier(
    bodymap: BodyMap, areas: tuple[AreaShape, ...]
) -> tuple[dict[str, BaseGeometry], PainMeasures]:
    """:func:`_measured` for a signed earlier drawing (the previous or the first visit's):
    it does not change while today's is drawn, so each save reuses it."""
    return _measured(bodymap, areas)


def measure(
    bodymap: BodyMap,
    areas: Sequence[AreaShape],
    previous: Sequence[AreaShape] | None = None,
    first: Sequence[AreaShape] | None = None,
) -> PainMeasures:
    """Measure a drawing, and compare it with the previous visit's and the first visit's."""
    drawing, base = _measured(bodymap, areas)
    overlap = since_previous = since_first = None
    if previous is not None:
        before, before_measures = _earlier(bodymap, tuple(previous))
        overlap = jaccard(before, drawing)
        if before or drawing:
            since_previous = change(before_measures, base)
    if first is not None:
        at_first, first_measures = _earlier(bodymap, tuple(first))
        if at_first or drawing:
            since_first = change(first_measures, base)
    return PainMeasures(
        **{
            **asdict(base),
            "dermatome_hints": base.dermatome_hints,
            "overlap_previous": None if overlap is None else round(overlap, 3),
            "since_previous": since_previous,
            "since_first": since_first,
        }
    )


def areas_on(views: Iterable[str], areas: Sequence[AreaShape]) -> list[AreaShape]:
    """The areas drawn on ``views`` only."""
    wanted = set(views)
    return [a for a in areas if a.view in wanted]
