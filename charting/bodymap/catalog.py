"""The loaded body map: acupoint and trigger-point catalogs placed on the views, and queries."""

from __future__ import annotations

import copy
import json
import math
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from charting.bodymap.geometry import (
    Point,
    Polygon,
    bounds,
    mirror_points,
    point_in_polygon,
    polygon_area,
)
from charting.bodymap.model import View, build_views
from charting.bodymap.placement import Definition, resolve, resolve_polygon
from charting.bodymap.resources import resource_path
from charting.bodymap.search import SearchKey, make_key, nearest, rank, why_unknown
from charting.bodymap.types import Side

ALLOWED_FLAGS = frozenset(
    {"LUNG", "KIDNEY", "CORD", "PREG", "PREG-REGION", "NERVE", "VESSEL", "SACRAL", "CTRL"}
)
POINT_FIELDS = (
    "code",
    "label",
    "pinyin",
    "hanzi",
    "english",
    "meridian",
    "location",
    "laterality",
    "locations",
    "indications",
    "category",
    "flags",
    "cautions",
    "source",
    "variants",
    "notes",
)
MUSCLE_FIELDS = (
    "id",
    "name",
    "location",
    "regions",
    "trigger_points",
    "referral_zones",
    "referral",
    "source",
)
#: Side of the grid cells used to pre-index points for hit-testing, in model units.
GRID = 40.0


class CatalogError(ValueError):
    """A catalog file is missing required data or cannot be placed on the model."""


@dataclass(frozen=True)
class Variant:
    """An alternative location kept where sources disagree (e.g. GB30, EX-B7)."""

    name: str
    description: str
    source: tuple[str, ...]
    locations: Mapping[str, Definition] = field(compare=False, repr=False)


@dataclass(frozen=True)
class Acupoint:
    """One catalog acupoint. Positions are computed from ``locations`` by the model.

    Attributes:
        code: WHO code (or the name for uncoded extra points), e.g. "BL23", "EX-B2-L4".
        label: Short display label ("BL23", "Jiaji L4").
        pinyin: Pinyin with tone marks.
        hanzi: Chinese characters.
        english: English name (translations vary; see ``source``).
        meridian: Meridian or "Extra point".
        location: Location in our own words.
        laterality: "midline" or "bilateral".
        views: Views the point is drawn on.
        indications: Back and leg indications.
        category: Point category (back-shu, he-sea, ...), may be empty.
        flags: Caution flags (see :data:`ALLOWED_FLAGS`).
        cautions: Needling cautions text.
        source: Source ids (resolved in the catalog's ``sources`` table).
        variants: Alternative locations.
        notes: Further notes.
        locations: Landmark-relative definition per view id.
    """

    code: str
    label: str
    pinyin: str
    hanzi: str
    english: str
    meridian: str
    location: str
    laterality: str
    views: tuple[str, ...]
    indications: tuple[str, ...]
    category: str
    flags: frozenset[str]
    cautions: str
    source: tuple[str, ...]
    variants: tuple[Variant, ...]
    notes: str
    locations: Mapping[str, Definition] = field(compare=False, repr=False)
    #: A point the clinic added (see :class:`CustomPointData`), not one of the catalog's.
    custom: bool = False
    #: A custom point no longer offered (kept so the visits that used it still read).
    retired: bool = False
    #: A custom point's own safe depth in mm, if the clinic gave one.
    safe_depth_mm: float | None = None

    @property
    def sides(self) -> tuple[Side, ...]:
        """The sides the point exists on: ("M",) or ("L", "R")."""
        return ("M",) if self.laterality == "midline" else ("L", "R")


#: What a custom point's meridian reads, wherever the catalog's meridian is shown.
CUSTOM_MERIDIAN = "Custom point (this clinic)"
#: Its description where a catalog point shows its English name.
CUSTOM_ENGLISH = "clinic's custom point"
#: Its source id (a custom point has no published source).
CUSTOM_SOURCE = "clinic"


@dataclass(frozen=True)
class CustomPointData:
    """A clinic's own point as the body map needs it (handed in as data: no database here).

    Attributes:
        code: Its code, unique among custom and catalog points ("C-HEEL").
        name: Its name ("Heel spur point").
        view: The view it is placed on.
        x: Where it was placed, model units of the view (any side: a bilateral point is
            mirrored to the other side).
        y: As ``x``.
        laterality: "midline" or "bilateral".
        location: Where it is, in the clinic's words.
        cautions: Needling cautions, in the clinic's words.
        safe_depth_mm: Deepest safe needling there, if the clinic gave one.
        retired: No longer offered for new marks.
    """

    code: str
    name: str
    view: str
    x: float
    y: float
    laterality: str = "bilateral"
    location: str = ""
    cautions: str = ""
    safe_depth_mm: float | None = None
    retired: bool = False

    def acupoint(self) -> Acupoint:
        """The point as the rest of the body map sees it (no catalog flags, marked custom)."""
        return Acupoint(
            code=self.code,
            label=self.code,
            pinyin=self.name,
            hanzi="",
            english=CUSTOM_ENGLISH,
            meridian=CUSTOM_MERIDIAN,
            location=self.location,
            laterality=self.laterality,
            views=(self.view,),
            indications=(),
            category="custom",
            flags=frozenset(),
            cautions=self.cautions,
            source=(CUSTOM_SOURCE,),
            variants=(),
            notes="",
            locations=MappingProxyType({}),
            custom=True,
            retired=self.retired,
            safe_depth_mm=self.safe_depth_mm,
        )


@dataclass(frozen=True)
class TriggerPoint:
    """A typical trigger-point site of a muscle, drawn on one view."""

    id: str
    label: str
    view: str
    refers_to: tuple[str, ...]
    definition: Definition = field(compare=False, repr=False)


@dataclass(frozen=True)
class ReferralZone:
    """A referred-pain zone of a muscle; ``intensity`` is "essential" or "spillover"."""

    id: str
    label: str
    intensity: str
    views: tuple[str, ...]


@dataclass(frozen=True)
class Muscle:
    """A muscle of the trigger-point catalog."""

    id: str
    name: str
    location: str
    referral: str
    source: tuple[str, ...]
    notes: str
    views: tuple[str, ...]
    trigger_points: tuple[TriggerPoint, ...]
    referral_zones: tuple[ReferralZone, ...]


@dataclass(frozen=True)
class PlacedPoint:
    """An acupoint placed on one side of one view, in model units."""

    code: str
    side: Side
    view_id: str
    x: float
    y: float
    units_per_cun: float


@dataclass(frozen=True)
class PointHit:
    """Result of :meth:`BodyMap.nearest_point`."""

    point: Acupoint
    side: Side
    view_id: str
    x: float
    y: float
    distance_cun: float


@dataclass(frozen=True)
class MuscleHit:
    """Result of :meth:`BodyMap.muscle_at`."""

    muscle: Muscle
    side: Side
    view_id: str


@dataclass(frozen=True)
class _Region:
    muscle_id: str
    polygon: Polygon
    box: tuple[float, float, float, float]
    area: float


def _region_contains(region: _Region, x: float, y: float) -> bool:
    x0, y0, x1, y1 = region.box
    return x0 <= x <= x1 and y0 <= y <= y1 and point_in_polygon(x, y, region.polygon)


def _require(record: Mapping[str, Any], names: Sequence[str], what: str) -> None:
    missing = [n for n in names if n not in record]
    if missing:
        raise CatalogError(f"{what} is missing {', '.join(missing)}")


def validate_points(data: Mapping[str, Any]) -> None:
    """Check the acupoint catalog's shape (required fields, flags, unique codes).

    Raises:
        CatalogError: On the first problem found.
    """
    seen: set[str] = set()
    for record in data.get("points", []):
        _require(record, POINT_FIELDS, f"point {record.get('code', '?')}")
        code = record["code"]
        if code in seen:
            raise CatalogError(f"duplicate point code {code}")
        seen.add(code)
        unknown = set(record["flags"]) - ALLOWED_FLAGS
        if unknown:
            raise CatalogError(f"{code} has unknown flags {sorted(unknown)}")
        if record["laterality"] not in ("midline", "bilateral"):
            raise CatalogError(f"{code} has laterality {record['laterality']!r}")
        if not record["locations"] or not record["source"]:
            raise CatalogError(f"{code} needs at least one location and one source")
    if not seen:
        raise CatalogError("the acupoint catalog has no points")


def validate_muscles(data: Mapping[str, Any]) -> None:
    """Check the trigger-point catalog's shape.

    Raises:
        CatalogError: On the first problem found.
    """
    for record in data.get("muscles", []):
        _require(record, MUSCLE_FIELDS, f"muscle {record.get('id', '?')}")
        zone_ids = {z["id"] for z in record["referral_zones"]}
        for tp in record["trigger_points"]:
            _require(tp, ("id", "label", "view", "at", "refers_to"), f"trigger point {tp}")
            if not set(tp["refers_to"]) <= zone_ids:
                raise CatalogError(f"{tp['id']} refers to an unknown zone")
        if not record["regions"] or not record["source"]:
            raise CatalogError(f"muscle {record['id']} needs a region and a source")
    if not data.get("muscles"):
        raise CatalogError("the trigger-point catalog has no muscles")


def _variant(record: Mapping[str, Any]) -> Variant:
    return Variant(
        record["name"],
        record.get("description", ""),
        tuple(record["source"]),
        MappingProxyType(dict(record["locations"])),
    )


def _acupoint(record: Mapping[str, Any]) -> Acupoint:
    return Acupoint(
        code=record["code"],
        label=record["label"],
        pinyin=record["pinyin"],
        hanzi=record["hanzi"],
        english=record["english"],
        meridian=record["meridian"],
        location=record["location"],
        laterality=record["laterality"],
        views=tuple(record["locations"]),
        indications=tuple(record["indications"]),
        category=record["category"],
        flags=frozenset(record["flags"]),
        cautions=record["cautions"],
        source=tuple(record["source"]),
        variants=tuple(_variant(v) for v in record["variants"]),
        notes=record["notes"],
        locations=MappingProxyType(dict(record["locations"])),
    )


def _muscle(record: Mapping[str, Any]) -> Muscle:
    tps = tuple(
        TriggerPoint(t["id"], t["label"], t["view"], tuple(t["refers_to"]), t["at"])
        for t in record["trigger_points"]
    )
    zones = tuple(
        ReferralZone(
            z["id"],
            z["label"],
            z.get("intensity", "essential"),
            tuple(dict.fromkeys(p["view"] for p in z["polygons"])),
        )
        for z in record["referral_zones"]
    )
    views = tuple(dict.fromkeys(r["view"] for r in record["regions"]))
    return Muscle(
        record["id"],
        record["name"],
        record["location"],
        record["referral"],
        tuple(record["source"]),
        record.get("notes", ""),
        views,
        tps,
        zones,
    )


class BodyMap:
    """The views, the catalogs placed on them, and the Qt-free queries the UI calls.

    Build it with :func:`load_bodymap` (cached). All positions are in model units of the
    view (see :mod:`charting.bodymap.model`).
    """

    def __init__(
        self,
        views: Mapping[str, View],
        points_data: Mapping[str, Any],
        muscles_data: Mapping[str, Any],
    ) -> None:
        validate_points(points_data)
        validate_muscles(muscles_data)
        self.views: Mapping[str, View] = views
        self.points: tuple[Acupoint, ...] = tuple(_acupoint(r) for r in points_data["points"])
        self.muscles: tuple[Muscle, ...] = tuple(_muscle(r) for r in muscles_data["muscles"])
        self.point_sources: Mapping[str, str] = MappingProxyType(points_data.get("sources", {}))
        self.muscle_sources: Mapping[str, str] = MappingProxyType(muscles_data.get("sources", {}))
        self._by_code = {p.code: p for p in self.points}
        self._muscle_by_id = {m.id: m for m in self.muscles}
        self._keys: list[SearchKey] = [
            make_key(p.code, p.pinyin, p.label, p.english) for p in self.points
        ]
        self._canonical: dict[tuple[str, str, str], Point] = {}
        self._place_all()
        self._placed = self._place_sides()
        self._grid = self._index()
        self._max_upc = {
            v: max((p.units_per_cun for p in pts), default=1.0) for v, pts in self._placed.items()
        }
        self._regions, self._zones, self._tps = self._place_muscles(muscles_data["muscles"])
        # The catalog alone, kept so custom points can be laid over it (and replaced) cheaply.
        self._catalog = (
            self.points,
            dict(self._by_code),
            list(self._keys),
            dict(self._canonical),
            {v: list(p) for v, p in self._placed.items()},
        )
        self.custom_points: tuple[CustomPointData, ...] = ()

    # --- custom points -------------------------------------------------------------------

    def with_custom_points(self, custom: Sequence[CustomPointData]) -> BodyMap:
        """A copy of this body map with the clinic's custom points laid over the catalog.

        The copy shares the views, muscles and catalog; only the point tables are its own.

        Raises:
            CatalogError: A custom point names an unknown view, clashes with a catalog code,
                or lies off the body.
        """
        clone = copy.copy(self)
        clone.set_custom_points(custom)
        return clone

    def set_custom_points(self, custom: Sequence[CustomPointData]) -> None:
        """Replace this body map's custom points (the screen's copy, when the clinic edits
        them). Retired points stay known by code but are neither drawn, hit nor searched.

        Raises:
            CatalogError: As :meth:`with_custom_points`.
        """
        points, by_code, keys, canonical, placed = self._catalog
        by_code, keys, canonical = dict(by_code), list(keys), dict(canonical)
        placed = {v: list(p) for v, p in placed.items()}
        active: list[Acupoint] = []
        for data in custom:
            view = self._require_view(data.view)
            if data.code in by_code:
                raise CatalogError(f"custom point {data.code} clashes with another point")
            if not view.inside_outline(data.x, data.y):
                raise CatalogError(f"custom point {data.code} lies off the body")
            point = data.acupoint()
            by_code[data.code] = point
            if data.laterality == "midline":
                canonical_pos: Point = (view.mirror_axis, data.y)
            else:
                canonical_pos = view.to_canonical(data.x, data.y)
            canonical[(data.code, data.view, "")] = canonical_pos
            if data.retired:
                continue
            active.append(point)
            keys.append(make_key(point.code, point.pinyin, point.label, point.english))
            for side in point.sides:
                x, y = view.to_side(canonical_pos, side)
                upc = view.units_per_cun(x, y)
                placed.setdefault(data.view, []).append(
                    PlacedPoint(point.code, side, data.view, x, y, upc)
                )
        self.custom_points = tuple(custom)
        self.points = (*points, *active)
        self._by_code, self._keys, self._canonical = by_code, keys, canonical
        self._placed = placed
        self._grid = self._index()
        self._max_upc = {
            v: max((p.units_per_cun for p in pts), default=1.0) for v, pts in self._placed.items()
        }

    @property
    def catalog_codes(self) -> frozenset[str]:
        """The codes of the catalog's own points (custom points not included)."""
        return frozenset(p.code for p in self._catalog[0])

    def is_custom(self, code: str | None) -> bool:
        """True when ``code`` names one of the clinic's custom points (retired ones too)."""
        point = self._by_code.get(code or "")
        return point is not None and point.custom

    # --- construction --------------------------------------------------------------------

    def _resolve_point(
        self, code: str, view_id: str, variant: str = "", stack: tuple[str, ...] = ()
    ) -> Point:
        key = (code, view_id, variant)
        if key in self._canonical:
            return self._canonical[key]
        if code in stack:
            raise CatalogError(f"circular point reference through {code}")
        point = self._by_code.get(code)
        if point is None:
            raise CatalogError(f"unknown point reference @{code}")
        locations = point.locations
        if variant:
            locations = next(v.locations for v in point.variants if v.name == variant)
        definition = locations.get(view_id)
        if definition is None:
            raise CatalogError(f"{code} has no location on {view_id}")
        view = self.views[view_id]
        pos = resolve(
            view, definition, lambda ref: self._resolve_point(ref, view_id, "", (*stack, code))
        )
        self._canonical[key] = pos
        return pos

    def _place_all(self) -> None:
        for point in self.points:
            for view_id in point.views:
                self._require_view(view_id)
                self._resolve_point(point.code, view_id)
            for variant in point.variants:
                for view_id in variant.locations:
                    self._require_view(view_id)
                    self._resolve_point(point.code, view_id, variant.name)

    def _require_view(self, view_id: str) -> View:
        try:
            return self.views[view_id]
        except KeyError:
            raise CatalogError(f"unknown view {view_id!r}") from None

    def _place_sides(self) -> dict[str, list[PlacedPoint]]:
        placed: dict[str, list[PlacedPoint]] = defaultdict(list)
        for point in self.points:
            for view_id in point.views:
                view = self.views[view_id]
                canonical = self._canonical[(point.code, view_id, "")]
                for side in point.sides:
                    x, y = view.to_side(canonical, side)
                    upc = view.units_per_cun(x, y)
                    placed[view_id].append(PlacedPoint(point.code, side, view_id, x, y, upc))
        return dict(placed)

    def _index(self) -> dict[str, dict[tuple[int, int], list[PlacedPoint]]]:
        grid: dict[str, dict[tuple[int, int], list[PlacedPoint]]] = {}
        for view_id, pts in self._placed.items():
            cells: dict[tuple[int, int], list[PlacedPoint]] = defaultdict(list)
            for p in pts:
                cells[(int(p.x // GRID), int(p.y // GRID))].append(p)
            grid[view_id] = dict(cells)
        return grid

    def _place_muscles(
        self, records: Sequence[Mapping[str, Any]]
    ) -> tuple[
        dict[str, list[_Region]],
        dict[tuple[str, str, str], list[Polygon]],
        dict[tuple[str, str], Point],
    ]:
        regions: dict[str, list[_Region]] = defaultdict(list)
        zones: dict[tuple[str, str, str], list[Polygon]] = defaultdict(list)
        tps: dict[tuple[str, str], Point] = {}
        for record in records:
            mid = record["id"]
            for spec in record["regions"]:
                poly = resolve_polygon(self._require_view(spec["view"]), spec)
                regions[spec["view"]].append(_Region(mid, poly, bounds(poly), polygon_area(poly)))
            for zone in record["referral_zones"]:
                for spec in zone["polygons"]:
                    poly = resolve_polygon(self._require_view(spec["view"]), spec)
                    zones[(mid, zone["id"], spec["view"])].append(poly)
            for tp in record["trigger_points"]:
                tps[(mid, tp["id"])] = resolve(self._require_view(tp["view"]), tp["at"])
        for items in regions.values():
            items.sort(key=lambda r: r.area)
        return dict(regions), dict(zones), tps

    # --- catalog access --------------------------------------------------------------------

    def point(self, code: str) -> Acupoint:
        """The acupoint with exactly this code.

        Raises:
            KeyError: When there is no such code.
        """
        return self._by_code[code]

    def muscle(self, muscle_id: str) -> Muscle:
        """The muscle with this id.

        Raises:
            KeyError: When there is no such muscle.
        """
        return self._muscle_by_id[muscle_id]

    def lookup(self, text: str) -> Acupoint | None:
        """Best match for a code ("bl23", "BL 23", "ex-b7") or pinyin ("shenshu", "Shènshū")."""
        found = self.search(text, limit=1)
        return found[0] if found else None

    def search(self, text: str, limit: int = 10) -> list[Acupoint]:
        """Type-ahead matches: exact code, exact pinyin, code prefix, pinyin prefix, others."""
        return [self.points[i] for i in rank(self._keys, text, limit)]

    def nearest_matches(self, text: str, limit: int = 5) -> list[Acupoint]:
        """The points most like ``text`` (for a typed code that names none)."""
        return [self.points[i] for i in nearest(self._keys, text, limit)]

    def why_unknown(self, text: str) -> str:
        """Why ``text`` names no point of the catalog, in words."""
        return why_unknown(text, {p.code.rstrip("0123456789").rstrip("-") for p in self.points})

    def views_for(self, code: str) -> tuple[str, ...]:
        """Ids of the views a point is drawn on (empty for an unknown code)."""
        point = self._by_code.get(code)
        return point.views if point else ()

    def position(
        self, code: str, side: Side, view_id: str, variant: str | None = None
    ) -> Point | None:
        """Model-unit position of a point on a side and view, or ``None`` if not drawn there.

        Args:
            code: Point code.
            side: "L", "R" or "M"; a midline point accepts any side, a bilateral point
                needs "L" or "R".
            view_id: View id.
            variant: Name of a location variant (default: the primary location).
        """
        point = self._by_code.get(code)
        canonical = self._canonical.get((code, view_id, variant or ""))
        if point is None or canonical is None:
            return None
        if point.laterality == "midline":
            return canonical
        if side not in ("L", "R"):
            return None
        return self.views[view_id].to_side(canonical, side)

    def placed_points(self, view_id: str) -> tuple[PlacedPoint, ...]:
        """Every point instance (each side) drawn on a view, for painting them all."""
        return tuple(self._placed.get(view_id, ()))

    # --- hit-testing -----------------------------------------------------------------------

    def nearest_point(
        self, view_id: str, x: float, y: float, tolerance_cun: float = 0.5
    ) -> PointHit | None:
        """The point nearest to ``(x, y)`` within ``tolerance_cun`` (local B-cun), if any.

        The distance is measured in the cun of the point's own segment, so the tolerance does
        not depend on zoom or on where on the body the click is.
        """
        grid = self._grid.get(view_id)
        if not grid:
            return None
        reach = tolerance_cun * self._max_upc[view_id]
        best: PlacedPoint | None = None
        best_d = math.inf
        for p in self._candidates(grid, x, y, reach):
            d = math.hypot(p.x - x, p.y - y) / p.units_per_cun
            if d <= tolerance_cun and d < best_d:
                best, best_d = p, d
        if best is None:
            return None
        return PointHit(self._by_code[best.code], best.side, view_id, best.x, best.y, best_d)

    @staticmethod
    def _candidates(
        grid: Mapping[tuple[int, int], list[PlacedPoint]], x: float, y: float, reach: float
    ) -> Iterator[PlacedPoint]:
        x0, x1 = int((x - reach) // GRID), int((x + reach) // GRID)
        y0, y1 = int((y - reach) // GRID), int((y + reach) // GRID)
        for ix in range(x0, x1 + 1):
            for iy in range(y0, y1 + 1):
                yield from grid.get((ix, iy), ())

    def muscles_at(self, view_id: str, x: float, y: float) -> list[MuscleHit]:
        """Every muscle region containing ``(x, y)``, smallest (most specific) first."""
        view = self.views.get(view_id)
        if view is None or not view.inside_outline(x, y):
            return []
        cx, cy = view.to_canonical(x, y)
        lo, hi = view.half_bounds("L")
        side: Side = "L" if lo <= x <= hi else "R"
        hits: list[MuscleHit] = []
        seen: set[str] = set()
        for region in self._regions.get(view_id, ()):
            if region.muscle_id in seen or not _region_contains(region, cx, cy):
                continue
            seen.add(region.muscle_id)
            hits.append(MuscleHit(self._muscle_by_id[region.muscle_id], side, view_id))
        return hits

    def muscle_at(self, view_id: str, x: float, y: float) -> MuscleHit | None:
        """The most specific muscle region containing ``(x, y)``, with its side, or ``None``."""
        hits = self.muscles_at(view_id, x, y)
        return hits[0] if hits else None

    def side_at(self, view_id: str, x: float, y: float) -> Side:
        """The patient's side at a position: "L", "R" or "M" (posterior midline band)."""
        return self.views[view_id].side_at(x, y)

    def inside_outline(self, view_id: str, x: float, y: float) -> bool:
        """True when ``(x, y)`` lies inside the body outline of the view."""
        return self.views[view_id].inside_outline(x, y)

    def units_per_cun(self, view_id: str, x: float, y: float) -> float:
        """Model units per local B-cun at a position."""
        return self.views[view_id].units_per_cun(x, y)

    # --- muscle geometry -------------------------------------------------------------------

    def muscle_regions(self, muscle_id: str, view_id: str, side: Side) -> list[Polygon]:
        """The muscle's region polygons on a view and side ("L" or "R")."""
        view = self.views[view_id]
        polys = [r.polygon for r in self._regions.get(view_id, ()) if r.muscle_id == muscle_id]
        return [self._sided(view, p, side) for p in polys]

    def referral_polygons(
        self, muscle_id: str, zone_id: str, view_id: str, side: Side
    ) -> list[Polygon]:
        """Polygons of one referral zone on a view and side (same side as the muscle)."""
        view = self.views[view_id]
        return [
            self._sided(view, p, side) for p in self._zones.get((muscle_id, zone_id, view_id), ())
        ]

    def trigger_point_position(self, muscle_id: str, tp_id: str, side: Side) -> Point:
        """Position of a typical trigger point on its own view and side."""
        tp = next(t for t in self.muscle(muscle_id).trigger_points if t.id == tp_id)
        return self.views[tp.view].to_side(self._tps[(muscle_id, tp_id)], side)

    @staticmethod
    def _sided(view: View, polygon: Polygon, side: Side) -> Polygon:
        return mirror_points(polygon, view.mirror_axis) if side == "R" else polygon

    # --- artwork ---------------------------------------------------------------------------

    @staticmethod
    def svg_path(view_id: str) -> Path:
        """Path of the generated SVG artwork of a view."""
        return resource_path("bodymap", f"{view_id}.svg")


def _read_json(name: str) -> dict[str, Any]:
    with resource_path("bodymap", name).open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


@cache
def load_bodymap() -> BodyMap:
    """Load the model and both catalogs once, and return the shared :class:`BodyMap`.

    Raises:
        CatalogError: When a catalog is malformed or names something the model lacks.
    """
    return BodyMap(build_views(), _read_json("acupoints.json"), _read_json("trigger_points.json"))
