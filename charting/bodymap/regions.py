"""Named body regions and lumbosacral dermatome zones on each view, in model units.

Pain drawings are measured against these: how much of each region is shaded, and how far
down each leg the shading reaches. Every region is the view's body outline cut by bands
between landmarks of the proportional model (so the same definitions serve every view, and
a new view gets its regions by naming its landmarks here), split into the patient's left and
right side:

* **low back**: from the 12th thoracic level to the top of the iliac crest, and the sacral
  area between the posterior superior iliac spines down to the tip of the coccyx;
* **buttock**: the top of the iliac crest to the gluteal fold, beside the sacral area;
* **thigh**: the gluteal fold to the popliteal crease (the knee joint line on the side views);
* **lower leg**: the popliteal crease to the malleoli;
* **foot**: below the malleoli.

The arms and the upper back are part of the body surface shown (they count in the total
extent) but belong to none of these regions.

The order of the leg regions is the order of "how far down the leg": pain that moves up this
order between visits has centralised; pain that moves down it has peripheralised (McKenzie's
centralisation phenomenon, see docs/sources.md [CENTRAL]). Pain below the knee marks the
more severe Quebec Task Force classes (pain radiating to the lower limb below the knee)
[QTF].

Dermatome zones (L4, L5, S1) follow the evidence-based map of Lee, McPhee and Stringer
(2008) [DERM]: L4 the medial lower leg and medial ankle; L5 the anterolateral lower leg and
the dorsum of the foot; S1 the posterior calf, the lateral border of the foot and the heel.
They are coarse (dermatomes overlap and vary between people) and serve only as a hint.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from shapely import Polygon as ShapelyPolygon
from shapely import box, union_all
from shapely.geometry.base import BaseGeometry

from charting.bodymap.catalog import BodyMap

#: Regions in order down the body (the furthest-extent scale uses the leg part of it).
REGIONS: tuple[str, ...] = ("low_back", "buttock", "thigh", "lower_leg", "foot")
REGION_LABELS = {
    "low_back": "Low back",
    "buttock": "Buttock",
    "thigh": "Thigh",
    "lower_leg": "Lower leg",
    "foot": "Foot",
}
#: How far down a leg pain reaches, least to most distal.
EXTENT_LEVELS: tuple[str, ...] = ("none", "back_only", "buttock", "thigh", "below_knee", "foot")
EXTENT_LABELS = {
    "none": "No pain drawn",
    "back_only": "Back only",
    "buttock": "Buttock",
    "thigh": "Thigh",
    "below_knee": "Below the knee",
    "foot": "Foot",
}
DERMATOMES: tuple[str, ...] = ("L4", "L5", "S1")
SIDES = ("L", "R")
#: Half-width of the trunk-and-legs column on the back view (the arms hang outside it).
_COLUMN_HALF = 180.0


@dataclass(frozen=True)
class Bands:
    """The y of each boundary on one view (top to bottom), in the view's units."""

    t12: float
    iliac: float
    coccyx: float
    fold: float
    knee: float
    malleolus: float
    sacral_half: float  # half-width of the sacral area (midline to the PSIS)


def _posterior_bands(bodymap: BodyMap) -> Bands:
    view = bodymap.views["posterior"]
    mark = view.landmarks
    mid = view.mirror_axis
    return Bands(
        t12=view.levels["T12"],
        iliac=mark["iliac_crest_top"].point[1],
        coccyx=view.levels["coccyx_tip"],
        fold=view.levels["gluteal_fold"],
        knee=mark["popliteal_crease_mid"].point[1],
        malleolus=max(mark["lateral_malleolus"].point[1], mark["medial_malleolus"].point[1]),
        sacral_half=mid - mark["psis"].point[0],
    )


#: Each side view's landmark shared with the back view, to carry the bands across (all views
#: are drawn in the same units, so a band is the same height on each).
_SHARED_LANDMARK = {
    "lateral_leg": ("greater_trochanter", "greater_trochanter"),
    "medial_leg": ("medial_malleolus", "medial_malleolus"),
    "anterior": ("medial_malleolus", "medial_malleolus"),
}


@cache
def bands(bodymap: BodyMap, view_id: str) -> Bands:
    """The region boundaries on ``view_id``."""
    back = _posterior_bands(bodymap)
    if view_id == "posterior":
        return back
    here, there = _SHARED_LANDMARK[view_id]
    shift = (
        bodymap.views[view_id].landmarks[here].point[1]
        - bodymap.views["posterior"].landmarks[there].point[1]
    )
    return Bands(
        back.t12 + shift,
        back.iliac + shift,
        back.coccyx + shift,
        back.fold + shift,
        back.knee + shift,
        back.malleolus + shift,
        back.sacral_half,
    )


@cache
def body_surface(bodymap: BodyMap, view_id: str) -> BaseGeometry:
    """The body as drawn on ``view_id`` (the union of its outlines)."""
    view = bodymap.views[view_id]
    return union_all([ShapelyPolygon(p).buffer(0) for p in view.outline_polygons])


def _side_box(bodymap: BodyMap, view_id: str, side: str, y0: float, y1: float) -> BaseGeometry:
    view = bodymap.views[view_id]
    if side == "L":
        return box(0.0, y0, view.mirror_axis, y1)
    return box(view.mirror_axis, y0, view.width, y1)


@cache
def region_shapes(bodymap: BodyMap, view_id: str) -> dict[tuple[str, str], BaseGeometry]:
    """Each (region, side) of ``view_id`` as a shape; regions a view does not show are
    absent (the side views show no low back below the flank, the medial view no thigh)."""
    view = bodymap.views[view_id]
    surface = body_surface(bodymap, view_id)
    b = bands(bodymap, view_id)
    if view_id == "posterior":
        mid = view.mirror_axis
        column = box(mid - _COLUMN_HALF, 0.0, mid + _COLUMN_HALF, view.height)
        surface = surface.intersection(column)
        sacrum = box(mid - b.sacral_half, b.iliac, mid + b.sacral_half, b.coccyx)
    else:
        sacrum = ShapelyPolygon()
    found: dict[tuple[str, str], BaseGeometry] = {}
    for side in SIDES:
        spans = {
            "low_back": _side_box(bodymap, view_id, side, b.t12, b.iliac).union(
                sacrum.intersection(_side_box(bodymap, view_id, side, b.iliac, b.coccyx))
            ),
            "buttock": _side_box(bodymap, view_id, side, b.iliac, b.fold).difference(sacrum),
            "thigh": _side_box(bodymap, view_id, side, b.fold, b.knee),
            "lower_leg": _side_box(bodymap, view_id, side, b.knee, b.malleolus),
            "foot": _side_box(bodymap, view_id, side, b.malleolus, view.height),
        }
        for name, span in spans.items():
            shape = surface.intersection(span)
            if shape.area > 1.0:
                found[(name, side)] = shape
    return found


@cache
def dermatome_shapes(bodymap: BodyMap, view_id: str) -> dict[tuple[str, str], BaseGeometry]:
    """The L4, L5 and S1 zones below the knee on ``view_id``, by side (a hint's geometry)."""
    b = bands(bodymap, view_id)
    regions = region_shapes(bodymap, view_id)
    found: dict[tuple[str, str], BaseGeometry] = {}
    for side in SIDES:
        leg = regions.get(("lower_leg", side))
        foot = regions.get(("foot", side))
        if leg is None and foot is None:
            continue
        below_knee = union_all([g for g in (leg, foot) if g is not None])
        if view_id == "posterior":
            # Seen from behind the calf and heel are S1 [DERM].
            found[("S1", side)] = below_knee
        elif view_id == "lateral_leg":
            # The front half of the lateral leg and the dorsum are L5; the back half, the
            # lateral border of the foot and the heel are S1 [DERM].
            front, back = _split_by_limb_axis(bodymap, view_id, side, below_knee, b)
            found[("L5", side)] = front
            found[("S1", side)] = back
        elif view_id == "medial_leg":
            # The medial lower leg and medial ankle are L4 [DERM].
            found[("L4", side)] = below_knee
        elif view_id == "anterior":
            # Seen from the front: L4 medially, L5 laterally and over the dorsum [DERM].
            medial, lateral = _split_by_limb_axis(bodymap, view_id, side, below_knee, b)
            found[("L4", side)] = medial
            found[("L5", side)] = lateral
    return {k: v for k, v in found.items() if not v.is_empty}


def _split_by_limb_axis(
    bodymap: BodyMap, view_id: str, side: str, shape: BaseGeometry, b: Bands
) -> tuple[BaseGeometry, BaseGeometry]:
    """Cut ``shape`` along the limb's axis (the vertical through the knee and the malleolus)
    into (front or medial part, back or lateral part), for the patient's ``side``."""
    view = bodymap.views[view_id]
    mark = view.landmarks
    knee = mark.get("knee_lateral") or mark.get("knee_medial") or mark.get("patella_apex")
    ankle = mark.get("lateral_malleolus") or mark.get("medial_malleolus")
    if knee is not None and ankle is not None:
        axis_x = (knee.point[0] + ankle.point[0]) / 2.0
    else:
        minx, _miny, maxx, _maxy = shape.bounds
        axis_x = (minx + maxx) / 2.0
    if side == "R":  # landmarks are stored for the left side; the right panel is mirrored
        axis_x = 2.0 * view.mirror_axis - axis_x
    left_part = shape.intersection(box(0.0, b.knee - 1.0, axis_x, view.height))
    right_part = shape.intersection(box(axis_x, b.knee - 1.0, view.width, view.height))
    # The left leg's toes point to the viewer's left on the lateral view (its front is the
    # smaller x); the right panel is its mirror image.
    front_is_left = (side == "L") == (view_id == "lateral_leg")
    return (left_part, right_part) if front_is_left else (right_part, left_part)


def regions_at(bodymap: BodyMap, view_id: str) -> Iterable[tuple[str, str, BaseGeometry]]:
    """(region, side, shape) of every region of ``view_id``."""
    for (region, side), shape in region_shapes(bodymap, view_id).items():
        yield region, side, shape
