"""The proportional body model: three views drawn and measured in B-cun from one geometry.

Coordinate system ("model units")
---------------------------------
* One model unit is one millimetre on a reference adult standing 1,700 mm tall (WHO divides
  standing height into 75 B-cun, so a nominal cun is about 22.7 units) [WHO08].
* Origin at the top-left corner of each view; x grows to the viewer's right, y grows downwards
  (the SVG and Qt scene convention). Each view's ``width`` x ``height`` is its SVG viewBox.
* Every landmark is placed once, for the patient's LEFT side (the canonical side). The right
  side is its mirror image about ``View.mirror_axis``:

  - ``posterior`` (860 x 1790): we look at the patient's back, so the patient's left is on the
    viewer's left; the posterior midline is ``x = 430``.
  - ``lateral_leg`` (880 x 1130): two panels, the patient's left leg seen from its lateral side
    (toes pointing to the viewer's left) on the left half, the right leg (its mirror image) on
    the right half. The side is therefore given by ``x < 440`` on every row.
  - ``medial_leg`` (760 x 660): the same for the medial aspect of each lower leg; the left
    leg is on the left half (toes pointing to the viewer's right).

* B-cun is not one global length: each segment is scaled between its own landmarks [WHO08]
  (14 cun gluteal fold to popliteal crease, 16 cun popliteal crease to lateral malleolus,
  19 cun greater trochanter to popliteal crease, 15 cun popliteal crease to medial malleolus,
  3 cun medial malleolus to sole, 9 cun axillary fold to elbow crease, 12 cun elbow crease
  to wrist crease, 6 cun between the medial scapular borders). A :class:`Frame` carries one
  segment's scale and directions, so "lower border of L2, 1.5 cun lateral" or "6 cun below
  the gluteal fold" resolve to model units by construction (see :mod:`.placement`).
* On the back, heights are vertebral levels, not cun [WHO08]; ``View.levels`` maps "C7",
  "T1".."T12", "L1".."L5" (lower border of the spinous process), "S1".."S4" (posterior sacral
  foramina), "sacral_hiatus", "coccyx_tip" and "gluteal_fold" to y.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType

from charting.bodymap.geometry import (
    Point,
    Polygon,
    PolygonTest,
    distance,
    lerp,
    mirror_point,
    open_spline,
    outline_with_corners,
    unit,
)
from charting.bodymap.types import Frame, Landmark, ScaleZone, Shape, Side, TextAnchor

VIEW_IDS: tuple[str, ...] = ("posterior", "lateral_leg", "medial_leg", "anterior")

#: Half-width of the band around the posterior midline that counts as side "M", in cun.
MIDLINE_BAND_CUN = 0.25

# --- Reference heights below the vertex (body y, model units), shared by all views ----------
C7_Y = 262.0
# Spinous-process spacing, growing down the column (thoracic then lumbar).
THORACIC_STEPS = (22, 22, 23, 23, 24, 24, 25, 25, 26, 26, 27, 28)
LUMBAR_STEPS = (33, 34, 35, 35, 34)
SACRAL_FORAMEN_Y = {"S1": 758.0, "S2": 785.0, "S3": 808.0, "S4": 830.0}
COCCYX_TIP_Y = 866.0
GLUTEAL_FOLD_Y = 915.0
TROCHANTER_Y = 816.0
POPLITEAL_Y = 1220.0
LATERAL_MALLEOLUS_Y = 1635.0
MEDIAL_MALLEOLUS_Y = 1615.0
SOLE_Y = 1700.0
#: The medial malleolus to the sole is 3 B-cun [WHO08]; the foot frames use this scale.
FOOT_UPC = (SOLE_Y - MEDIAL_MALLEOLUS_Y) / 3.0
#: The medial borders of the scapulae are 6 B-cun apart, i.e. 3 cun from the midline [WHO08].
BACK_UPC = 23.0


def _vertebral_levels() -> dict[str, float]:
    """Body y of the lower border of each spinous process, C7 to L5, then sacral levels."""
    levels = {"C7": C7_Y}
    y = C7_Y
    for i, step in enumerate(THORACIC_STEPS, start=1):
        y += step
        levels[f"T{i}"] = y
    for i, step in enumerate(LUMBAR_STEPS, start=1):
        y += step
        levels[f"L{i}"] = y
    levels.update(SACRAL_FORAMEN_Y)
    # The sacral hiatus is level with the 4th sacral foramen [WHO08].
    levels["sacral_hiatus"] = SACRAL_FORAMEN_Y["S4"]
    levels["coccyx_tip"] = COCCYX_TIP_Y
    levels["gluteal_fold"] = GLUTEAL_FOLD_Y
    return levels


LEVEL_ORDER: tuple[str, ...] = tuple(_vertebral_levels())
FRAME_MEMO = 20_000  # positions remembered per view (a few hundred kB at most)


@dataclass(frozen=True)
class View:
    """One drawable, measurable view of the body.

    Attributes:
        id: "posterior", "lateral_leg" or "medial_leg".
        title: Human title of the view.
        width: Width in model units (the SVG viewBox width).
        height: Height in model units.
        mirror_axis: x of the line that maps the patient's left side onto the right side.
        has_midline: True when the view has a body midline (points there are side "M").
        shapes: Drawing primitives shared by the SVG, Qt and PDF renderers.
        outline_polygons: Closed body outlines (one per figure or panel).
        frames: Measuring frames by id (patient's left side).
        landmarks: Named landmarks by id (patient's left side).
        levels: Vertebral and sacral levels to y (posterior view only).
        scale_zones: Zones where each frame's cun scale applies (patient's left side).
    """

    id: str
    title: str
    width: float
    height: float
    mirror_axis: float
    has_midline: bool
    shapes: tuple[Shape, ...] = field(repr=False)
    outline_polygons: tuple[Polygon, ...] = field(repr=False)
    frames: Mapping[str, Frame] = field(repr=False, compare=False)
    landmarks: Mapping[str, Landmark] = field(repr=False, compare=False)
    levels: Mapping[str, float] = field(repr=False, compare=False)
    scale_zones: tuple[ScaleZone, ...] = field(repr=False)
    #: True when the patient's left side is on the viewer's right (a view of the front).
    left_on_viewer_right: bool = False
    # Banded copies of the outlines, for the test every click and every stored mark makes.
    _outline_tests: list[PolygonTest] = field(
        default_factory=list, init=False, repr=False, compare=False
    )
    # Frame ids by position: the safety rules and the map ask the same marks again and again.
    _frame_ids: dict[tuple[float, float], str] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def to_side(self, point: Point, side: Side) -> Point:
        """Map a canonical (patient's left) point to ``side``."""
        return mirror_point(point, self.mirror_axis) if side == "R" else point

    def to_canonical(self, x: float, y: float) -> Point:
        """Map any position to the patient's-left half of the view."""
        other_half = x < self.mirror_axis if self.left_on_viewer_right else x > self.mirror_axis
        return (2 * self.mirror_axis - x, y) if other_half else (x, y)

    def half_bounds(self, side: str) -> tuple[float, float]:
        """The x range (low, high) of the half of the view that shows ``side`` ("L"/"R")."""
        low, high = (0.0, self.mirror_axis), (self.mirror_axis, self.width)
        if self.left_on_viewer_right:
            return high if side == "L" else low
        return low if side == "L" else high

    def frame_at(self, x: float, y: float) -> Frame:
        """The measuring frame whose scale applies at ``(x, y)``."""
        known = self._frame_ids.get((x, y))
        if known is not None:
            return self.frames[known]
        cx, cy = self.to_canonical(x, y)
        frame = next(
            (zone.frame for zone in self.scale_zones if zone.contains(cx, cy)),
            self.scale_zones[-1].frame,
        )
        if len(self._frame_ids) >= FRAME_MEMO:
            self._frame_ids.clear()
        self._frame_ids[(x, y)] = frame
        return self.frames[frame]

    def units_per_cun(self, x: float, y: float) -> float:
        """Model units per B-cun at ``(x, y)`` (B-cun differs from segment to segment)."""
        return self.frame_at(x, y).units_per_cun

    def inside_outline(self, x: float, y: float) -> bool:
        """True when ``(x, y)`` lies inside the body outline."""
        if not self._outline_tests:
            self._outline_tests.extend(PolygonTest(poly) for poly in self.outline_polygons)
        return any(test.contains(x, y) for test in self._outline_tests)

    def side_at(self, x: float, y: float) -> Side:
        """Patient's side at a position: "L", "R" or "M" (within the midline band)."""
        if self.has_midline:
            band = MIDLINE_BAND_CUN * self.units_per_cun(x, y)
            if abs(x - self.mirror_axis) <= band:
                return "M"
        if self.left_on_viewer_right:
            return "L" if x > self.mirror_axis else "R"
        return "L" if x < self.mirror_axis else "R"

    def level_y(self, level: str) -> float:
        """y of a vertebral level, optionally with a fraction toward the next one ("L3+0.5")."""
        name, frac = _split_level(level)
        y = self.levels[name]
        if frac:
            index = LEVEL_ORDER.index(name)
            other = LEVEL_ORDER[index + 1] if frac > 0 else LEVEL_ORDER[index - 1]
            y += (self.levels[other] - y) * abs(frac)
        return y


def _split_level(level: str) -> tuple[str, float]:
    for sign in ("+", "-"):
        name, sep, frac = level.partition(sign)
        if sep and name:
            return name, float(frac) * (1 if sign == "+" else -1)
    return level, 0.0


# --- Shape helpers -------------------------------------------------------------------------


def _mirror_shape(shape: Shape, axis: float) -> Shape:
    flipped: dict[str, TextAnchor] = {"start": "end", "end": "start", "middle": "middle"}
    pts = tuple(mirror_point(p, axis) for p in shape.points)
    anchor = flipped[shape.anchor] if shape.kind == "text" else shape.anchor
    return Shape(shape.kind, pts, shape.role, shape.text, shape.radius, shape.size, anchor)


def _poly(points: Iterable[Point], role: str = "detail") -> Shape:
    return Shape("polygon", tuple(points), role)


def _line(points: Sequence[Point], role: str = "guide", smooth: bool = True) -> Shape:
    pts = open_spline(points) if smooth and len(points) > 2 else list(points)
    return Shape("polyline", tuple(pts), role)


def _circle(center: Point, radius: float, role: str = "guide") -> Shape:
    return Shape("circle", (center,), role, radius=radius)


def _text(
    at: Point,
    text: str,
    size: float = 8.0,
    anchor: TextAnchor = "middle",
    role: str = "guide_label",
) -> Shape:
    return Shape("text", (at,), role, text=text, size=size, anchor=anchor)


def _across(axis: Point, toward: Point) -> Point:
    """The perpendicular of ``axis`` that points toward ``toward`` (a rough direction)."""
    a = (axis[1], -axis[0])
    if a[0] * toward[0] + a[1] * toward[1] < 0:
        a = (-a[0], -a[1])
    return a


def _segment_frame(
    name: str, start: Point, end: Point, cun: float, toward: Point, across_name: str
) -> Frame:
    axis = unit(start, end)
    upc = distance(start, end) / cun
    return Frame(name, start, axis, _across(axis, toward), across_name, upc, cun)


def _fixed_frame(name: str, origin: Point, upc: float, toward: Point, across_name: str) -> Frame:
    return Frame(name, origin, (0.0, 1.0), toward, across_name, upc)


def _rect_zone(frame: str, x0: float, y0: float, x1: float, y1: float) -> ScaleZone:
    return ScaleZone(frame, ((x0, y0), (x1, y0), (x1, y1), (x0, y1)))


def _band_zone(frame: str, start: Point, end: Point, half_width: float) -> ScaleZone:
    """Oriented rectangle around a limb segment."""
    axis = unit(start, end)
    n = (axis[1] * half_width, -axis[0] * half_width)
    return ScaleZone(
        frame,
        (
            (start[0] + n[0], start[1] + n[1]),
            (end[0] + n[0], end[1] + n[1]),
            (end[0] - n[0], end[1] - n[1]),
            (start[0] - n[0], start[1] - n[1]),
        ),
    )


@dataclass
class _Drawing:
    """Mutable collector used while a view is being built."""

    mirror_axis: float
    paired: list[Shape] = field(default_factory=list)
    single: list[Shape] = field(default_factory=list)

    def both(self, *shapes: Shape) -> None:
        """Add shapes drawn for the left side and mirrored for the right side."""
        self.paired.extend(shapes)

    def once(self, *shapes: Shape) -> None:
        """Add shapes drawn exactly once (midline items, labels)."""
        self.single.extend(shapes)

    def shapes(self, outlines: Sequence[Polygon]) -> tuple[Shape, ...]:
        """All shapes in paint order: outlines, details, guides, then labels."""
        mirrored = [_mirror_shape(s, self.mirror_axis) for s in self.paired]
        body = [_poly(o, "outline") for o in outlines]
        rest = self.paired + mirrored + self.single
        order = {"detail": 0, "guide": 1, "guide_dashed": 1, "guide_label": 2, "panel_label": 3}
        return tuple(body + sorted(rest, key=lambda s: order.get(s.role, 1)))


# --- Posterior view -------------------------------------------------------------------------

P_WIDTH, P_HEIGHT, P_MID, P_TOP = 860.0, 1790.0, 430.0, 40.0


def _pp(x: float, y: float) -> Point:
    """Posterior body coordinates (x from midline, y from vertex) to view coordinates."""
    return (P_MID + x, P_TOP + y)


@dataclass(frozen=True)
class _Arm:
    """Axis of the left arm, hanging slightly away from the trunk (body coordinates)."""

    shoulder: Point = (-185.0, 320.0)
    elbow: Point = (-247.4, 613.4)
    wrist: Point = (-299.4, 858.0)
    fingertip: Point = (-337.2, 1036.0)

    def lateral(self, a: Point, b: Point) -> Point:
        """Unit vector pointing away from the trunk, across the segment ``a``-``b``."""
        return _across(unit(a, b), (-1.0, 0.0))

    def edge(self, a: Point, b: Point, t: float, half_width: float, outer: bool) -> Point:
        """Point on the outer (lateral) or inner edge of segment ``a``-``b`` at fraction ``t``."""
        c = lerp(a, b, t)
        n = self.lateral(a, b)
        s = half_width if outer else -half_width
        return (c[0] + n[0] * s, c[1] + n[1] * s)

    def hand(self, along: float, across: float) -> Point:
        """Hand frame: ``along`` from the wrist to the fingertip, ``across`` toward the thumb."""
        u = unit(self.wrist, self.fingertip)
        n = self.lateral(self.wrist, self.fingertip)
        return (
            self.wrist[0] + u[0] * along + n[0] * across,
            self.wrist[1] + u[1] * along + n[1] * across,
        )


ARM = _Arm()

# Dorsum of the left hand, (along, across) in mm; the thumb is lateral in the anatomical position.
HAND_OUTLINE: tuple[tuple[float, float, bool], ...] = (
    (16, 33, False),
    (36, 41, False),
    (58, 44, False),
    (80, 41, False),
    (92, 35, False),
    (86, 29, False),
    (64, 25, True),
    (96, 27, False),
    (130, 26, False),
    (162, 21, False),
    (178, 9, False),
    (181, -4, False),
    (174, -17, False),
    (156, -28, False),
    (132, -35, False),
    (100, -41, False),
    (60, -40, False),
    (25, -34, False),
)
HAND_LANDMARKS: dict[str, tuple[float, float]] = {
    "metacarpal2_base": (16, 15),
    "mcp2": (98, 20),
    "metacarpal3_base": (14, 3),
    "mcp3": (102, 4),
    "metacarpal4_base": (14, -9),
    "mcp4": (100, -13),
    "metacarpal5_base": (16, -21),
    "mcp5": (95, -29),
    "mcp5_ulnar": (95, -40),
}


def _posterior_outline() -> Polygon:
    arm = ARM
    s, e, w = arm.shoulder, arm.elbow, arm.wrist
    head = [
        (0, 0),
        (-42, 6),
        (-68, 30),
        (-79, 75),
        (-77, 125),
        (-66, 170),
        (-52, 200),
        (-47, 225),
        (-50, 248),
        (-75, 268),
        (-115, 283),
        (-155, 295),
        (-187, 306),
        (-215, 326),
    ]
    outer_arm = [
        arm.edge(s, e, t, hw, True) for t, hw in ((0.18, 50), (0.45, 45), (0.8, 40), (1.0, 37))
    ]
    outer_arm += [arm.edge(e, w, t, hw, True) for t, hw in ((0.3, 39), (0.65, 33), (0.92, 28))]
    hand = [(*arm.hand(a, c), corner) for a, c, corner in HAND_OUTLINE]
    inner_arm = [arm.edge(e, w, t, hw, False) for t, hw in ((0.92, 27), (0.6, 33), (0.25, 37))]
    inner_arm += [arm.edge(s, e, t, hw, False) for t, hw in ((0.95, 36), (0.7, 41), (0.42, 45))]
    trunk_and_leg = [
        (-146, 440),
        (-140, 510),
        (-133, 585),
        (-133, 640),
        (-141, 694),
        (-156, 755),
        (-166, 816),
        (-167, 870),
        (-161, 950),
        (-149, 1050),
        (-135, 1140),
        (-127, 1200),
        (-127, 1250),
        (-136, 1330),
        (-130, 1400),
        (-115, 1480),
        (-101, 1555),
        (-98, 1600),
        (-106, 1635),
        (-100, 1668),
        (-87, 1693),
        (-68, 1702),
        (-49, 1698),
        (-39, 1678),
        (-33, 1615),
        (-38, 1570),
        (-30, 1480),
        (-18, 1390),
        (-13, 1330),
        (-20, 1255),
        (-24, 1200),
        (-19, 1110),
        (-12, 1000),
        (-6, 935),
    ]
    left: list[tuple[float, float, bool]] = [(x, y, False) for x, y in head]
    left += [(x, y, False) for x, y in outer_arm]
    left += hand
    left += [(x, y, False) for x, y in inner_arm]
    left.append((-151, 402, True))  # axilla
    left += [(x, y, False) for x, y in trunk_and_leg]
    crotch = (0.0, 912.0, True)
    right = [(-x, y, c) for x, y, c in reversed(left[1:])]
    controls = [*left, crotch, *right]
    return tuple(_pp(x, y) for x, y in outline_with_corners(controls))


def _posterior_landmarks(levels: Mapping[str, float]) -> dict[str, tuple[Point, str]]:
    """Named landmarks of the patient's left side (view coordinates) and their frames."""
    arm = ARM
    axillary = lerp(arm.shoulder, arm.elbow, 0.27)
    marks: dict[str, tuple[Point, str]] = {
        "c7": (_pp(0, levels["C7"]), "spine"),
        # The posterior hairline is 3 B-cun above the C7 spinous process [WHO08].
        "posterior_hairline": (_pp(0, levels["C7"] - 3 * BACK_UPC), "spine"),
        # The vertex: the top of the head on the midline, where GV20 is seen from behind.
        "vertex": (_pp(0, 6), "spine"),
        # The free end of the 12th rib, at the flank about level with L2 (GB25).
        "rib12_tip": (_pp(-124, levels["L2"]), "spine"),
        "acromion": (_pp(-188, 313), "spine"),
        "scapular_spine_medial": (_pp(-3 * BACK_UPC, levels["T3"]), "spine"),
        "scapula_inferior_angle": (_pp(-80, levels["T7"]), "spine"),
        "iliac_crest_top": (_pp(-118, levels["L4"]), "spine"),
        "psis": (_pp(-44, levels["S2"]), "spine"),
        "sacral_hiatus": (_pp(0, levels["sacral_hiatus"]), "spine"),
        "coccyx_tip": (_pp(0, levels["coccyx_tip"]), "spine"),
        "greater_trochanter": (_pp(-157, TROCHANTER_Y), "spine"),
        "gluteal_fold_mid": (_pp(-82, GLUTEAL_FOLD_Y), "thigh_posterior"),
        "popliteal_crease_mid": (_pp(-75, POPLITEAL_Y), "leg_posterior"),
        "ankle_posterior": (_pp(-71, LATERAL_MALLEOLUS_Y), "foot_posterior"),
        "lateral_malleolus": (_pp(-101, LATERAL_MALLEOLUS_Y), "foot_posterior"),
        "medial_malleolus": (_pp(-38, MEDIAL_MALLEOLUS_Y), "foot_posterior"),
        "calcaneal_tendon": (_pp(-72, LATERAL_MALLEOLUS_Y), "foot_posterior"),
        "axillary_fold": (_pp(*axillary), "upper_arm"),
        "elbow_crease": (_pp(*arm.elbow), "forearm"),
        "wrist_crease": (_pp(*arm.wrist), "hand"),
    }
    # Sacral foramina: the 2nd lies midway between the PSIS and the S2 spinous process [WHO08].
    s2_x = (-44 + 0) / 2
    for name, x in (("S1", s2_x - 2), ("S2", s2_x), ("S3", s2_x + 3), ("S4", s2_x + 6)):
        marks[f"sacral_foramen_{name[1]}"] = (_pp(x, levels[name]), "spine")
    for name, (a, c) in HAND_LANDMARKS.items():
        marks[name] = (_pp(*arm.hand(a, c)), "hand")
    # The dorsal wrist crease where the 2nd-3rd and 4th-5th metacarpal interspaces meet it
    # (EX-UE7 is measured from the crease to the knuckles, CAM-EX).
    for name, (b1, b2) in (
        ("wrist_crease_23", ("metacarpal2_base", "metacarpal3_base")),
        ("wrist_crease_45", ("metacarpal4_base", "metacarpal5_base")),
    ):
        across = (HAND_LANDMARKS[b1][1] + HAND_LANDMARKS[b2][1]) / 2
        marks[name] = (_pp(*arm.hand(0, across)), "hand")
    return marks


def _posterior_frames(marks: Mapping[str, tuple[Point, str]]) -> dict[str, Frame]:
    def m(name: str) -> Point:
        return marks[name][0]

    left = (-1.0, 0.0)
    forearm = _segment_frame("forearm", m("elbow_crease"), m("wrist_crease"), 12, left, "lateral")
    hand_axis = unit(_pp(*ARM.wrist), _pp(*ARM.fingertip))
    return {
        "spine": _fixed_frame("spine", (P_MID, P_TOP), BACK_UPC, left, "lateral"),
        "thigh_posterior": _segment_frame(
            "thigh_posterior", m("gluteal_fold_mid"), m("popliteal_crease_mid"), 14, left, "lateral"
        ),
        "leg_posterior": _segment_frame(
            "leg_posterior", m("popliteal_crease_mid"), m("ankle_posterior"), 16, left, "lateral"
        ),
        "foot_posterior": _fixed_frame(
            "foot_posterior", m("ankle_posterior"), FOOT_UPC, left, "lateral"
        ),
        "upper_arm": _segment_frame(
            "upper_arm", m("axillary_fold"), m("elbow_crease"), 9, left, "lateral"
        ),
        "forearm": forearm,
        "hand": Frame(
            "hand",
            m("wrist_crease"),
            hand_axis,
            _across(hand_axis, left),
            "lateral",
            forearm.units_per_cun,
        ),
    }


def _posterior_zones() -> tuple[ScaleZone, ...]:
    arm = ARM
    x0, x1 = 0.0, P_MID + 0.01
    return (
        _band_zone("hand", _pp(*arm.wrist), _pp(*arm.hand(200, 0)), 75),
        _band_zone("forearm", _pp(*arm.elbow), _pp(*arm.wrist), 62),
        _band_zone("upper_arm", _pp(*lerp(arm.shoulder, arm.elbow, 0.27)), _pp(*arm.elbow), 62),
        _rect_zone("spine", x0, 0, x1, P_TOP + GLUTEAL_FOLD_Y),
        _rect_zone("thigh_posterior", x0, P_TOP + GLUTEAL_FOLD_Y, x1, P_TOP + POPLITEAL_Y),
        _rect_zone("leg_posterior", x0, P_TOP + POPLITEAL_Y, x1, P_TOP + LATERAL_MALLEOLUS_Y),
        _rect_zone("foot_posterior", x0, P_TOP + LATERAL_MALLEOLUS_Y, x1, P_HEIGHT),
    )


def _draw_spine(d: _Drawing, levels: Mapping[str, float]) -> None:
    """Midline, spinous-process ticks with labels, Bladder lines and the sacrum."""
    tick = 0.35 * BACK_UPC
    d.once(_line([_pp(0, levels["C7"] - 18), _pp(0, levels["coccyx_tip"])], "guide", False))
    label_x = 2.25 * BACK_UPC
    for name in LEVEL_ORDER[: LEVEL_ORDER.index("L5") + 1]:
        y = levels[name]
        d.once(_line([_pp(-tick, y), _pp(tick, y)], "guide", False))
        d.once(_text(_pp(label_x, y + 2.5), name, 7.5))
    top, bottom = levels["T1"], levels["S4"]
    for lateral in (1.5, 3.0):
        x = -lateral * BACK_UPC
        d.both(_line([_pp(x, top), _pp(x, bottom)], "guide_dashed", False))
    half = [(-50, 742), (-46, 775), (-36, 808), (-18, 836), (-6, 850)]
    sacrum = [*half, (0, 853), *[(-x, y) for x, y in reversed(half)], (0, 738)]
    d.once(
        _poly([_pp(x, y) for x, y in outline_with_corners([(*p, False) for p in sacrum])], "guide")
    )
    d.once(_text(_pp(0, 752), "Sacrum", 6.5))
    d.once(_text(_pp(12, levels["sacral_hiatus"] + 3), "Sacral hiatus", 6.5, "start"))
    d.once(
        _line([_pp(0, levels["sacral_hiatus"] + 6), _pp(0, GLUTEAL_FOLD_Y - 8)], "detail", False)
    )


def _draw_posterior_landmarks(
    d: _Drawing, levels: Mapping[str, float], marks: Mapping[str, tuple[Point, str]]
) -> None:
    """Scapulae, iliac crests, PSIS, sacral foramina, folds, creases and trochanters."""
    scap = [
        (-74, 291),
        (-69, 329),
        (-69, 385),
        (-72, 416),
        (-80, 425),
        (-92, 418),
        (-125, 385),
        (-150, 345),
        (-160, 320),
        (-130, 302),
        (-98, 293),
    ]
    d.both(_poly(outline_with_corners([(*_pp(x, y), False) for x, y in scap]), "detail"))
    d.both(
        _line([marks["scapular_spine_medial"][0], _pp(-120, 318), marks["acromion"][0]], "detail")
    )
    d.both(_line([_pp(-48, 770), _pp(-72, 728), _pp(-118, levels["L4"]), _pp(-142, 708)], "detail"))
    d.both(_circle(marks["psis"][0], 3.5), _circle(marks["greater_trochanter"][0], 7))
    for n in range(1, 5):
        d.both(_circle(marks[f"sacral_foramen_{n}"][0], 2.6))
    d.both(
        _line(
            [
                _pp(-6, 904),
                _pp(-40, 913),
                _pp(-82, GLUTEAL_FOLD_Y + 1),
                _pp(-124, 906),
                _pp(-150, 891),
            ],
            "detail",
        )
    )
    d.both(
        _line(
            [_pp(-105, POPLITEAL_Y + 2), _pp(-75, POPLITEAL_Y), _pp(-45, POPLITEAL_Y + 2)], "detail"
        )
    )
    crest_y = levels["L4"]
    d.once(_line([_pp(-118, crest_y), _pp(118, crest_y)], "guide_dashed", False))
    fingers = [((100, 14), (158, 15)), ((102, -4), (170, -4)), ((100, -21), (150, -24))]
    for (a0, c0), (a1, c1) in fingers:
        d.both(_line([_pp(*ARM.hand(a0, c0)), _pp(*ARM.hand(a1, c1))], "detail", False))


def _label_posterior(d: _Drawing, levels: Mapping[str, float]) -> None:
    """Small labels for the guides, placed on the viewer's right half."""
    d.once(
        _text(_pp(128, levels["L4"] - 4), "Iliac crest (L4)", 7, "end"),
        _text(_pp(52, levels["S2"] + 2.5), "PSIS (S2)", 6.5, "start"),
        _text(_pp(92, GLUTEAL_FOLD_Y + 16), "Gluteal fold", 7),
        _text(_pp(148, TROCHANTER_Y + 20), "Greater trochanter", 6.5, "end"),
        _text(_pp(76, POPLITEAL_Y + 14), "Popliteal crease", 7),
        _text(_pp(112, levels["T3"] - 5), "Scapular spine (T3)", 6.5),
        _text(_pp(100, levels["T7"] + 12), "Inferior angle (T7)", 6.5),
        _text(_pp(-1.5 * BACK_UPC, levels["T1"] - 8), "1.5", 6, role="guide_label"),
        _text(_pp(-3 * BACK_UPC, levels["T1"] - 8), "3 cun", 6, role="guide_label"),
        _text(_pp(108, LATERAL_MALLEOLUS_Y + 24), "Lat. malleolus", 6.5),
        _text(_pp(20, MEDIAL_MALLEOLUS_Y - 8), "Med. malleolus", 6.5, "start"),
        _text((24, 28), "Patient's LEFT", 13, "start", "panel_label"),
        _text((P_WIDTH - 24, 28), "Patient's RIGHT", 13, "end", "panel_label"),
        _text((P_MID, 28), "Posterior view", 13, "middle", "panel_label"),
    )


def build_posterior() -> View:
    """The posterior view: head to feet, arms at the sides with the dorsum of the hands."""
    body_levels = _vertebral_levels()
    levels = {k: P_TOP + v for k, v in body_levels.items()}
    marks = _posterior_landmarks(body_levels)
    d = _Drawing(P_MID)
    _draw_spine(d, body_levels)
    _draw_posterior_landmarks(d, body_levels, marks)
    _label_posterior(d, body_levels)
    outline = _posterior_outline()
    return View(
        id="posterior",
        title="Posterior view",
        width=P_WIDTH,
        height=P_HEIGHT,
        mirror_axis=P_MID,
        has_midline=True,
        shapes=d.shapes([outline]),
        outline_polygons=(outline,),
        frames=MappingProxyType(_posterior_frames(marks)),
        landmarks=MappingProxyType({k: Landmark(k, p, f) for k, (p, f) in marks.items()}),
        levels=MappingProxyType(levels),
        scale_zones=_posterior_zones(),
    )


# --- Leg views (two mirrored panels) --------------------------------------------------------


@dataclass(frozen=True)
class _Panel:
    """Maps panel coordinates (a: across the leg, body y) to the left panel of a leg view.

    ``a`` is negative toward the toes on the lateral view (anterior to the viewer's left) and
    positive toward the toes on the medial view (anterior to the viewer's right).
    """

    axis_x: float
    y_shift: float

    def __call__(self, a: float, y: float) -> Point:
        return (self.axis_x + a, y - self.y_shift)


def _leg_view(
    view_id: str,
    title: str,
    size: tuple[float, float],
    panel: _Panel,
    outline_controls: Sequence[tuple[float, float, bool]],
    build: Callable[[_Drawing, _Panel], tuple[dict[str, tuple[Point, str]], dict[str, Frame]]],
) -> View:
    width, height = size
    half = width / 2
    left = tuple(panel(x, y) for x, y in outline_with_corners(outline_controls))
    right = tuple(mirror_point(p, half) for p in reversed(left))
    d = _Drawing(half)
    marks, frames = build(d, panel)
    d.once(
        _text((half / 2, 26), "Left leg", 13, "middle", "panel_label"),
        _text((half * 1.5, 26), "Right leg", 13, "middle", "panel_label"),
    )
    zones = tuple(
        _rect_zone(name, 0, y0, half + 0.01, y1)
        for name, y0, y1 in _leg_bands(frames, panel, height)
    )
    return View(
        id=view_id,
        title=title,
        width=width,
        height=height,
        mirror_axis=half,
        has_midline=False,
        shapes=d.shapes([left, right]),
        outline_polygons=(left, right),
        frames=MappingProxyType(frames),
        landmarks=MappingProxyType({k: Landmark(k, p, f) for k, (p, f) in marks.items()}),
        levels=MappingProxyType({}),
        scale_zones=zones,
    )


def _leg_bands(
    frames: Mapping[str, Frame], panel: _Panel, height: float
) -> list[tuple[str, float, float]]:
    """Horizontal bands (frame, y0, y1): thigh above the knee, leg, then foot."""
    knee = panel(0, POPLITEAL_Y)[1]
    ankle = panel(0, LATERAL_MALLEOLUS_Y)[1]
    names = [n for n in frames if n.startswith(("thigh", "leg", "foot"))]
    thigh = next((n for n in names if n.startswith("thigh")), None)
    leg = next(n for n in names if n.startswith("leg"))
    foot = next(n for n in names if n.startswith("foot"))
    bands = [(leg, knee, ankle), (foot, ankle, height)]
    bands.insert(0, (thigh or leg, 0.0, knee))
    return bands


LATERAL_OUTLINE: tuple[tuple[float, float, bool], ...] = (
    (86, 655, True),
    (0, 648, False),
    (-96, 655, True),
    (-103, 700, False),
    (-103, 752, False),
    (-93, 800, False),
    (-96, 850, False),
    (-90, 950, False),
    (-81, 1050, False),
    (-71, 1140, False),
    (-76, 1186, False),
    (-66, 1226, False),
    (-62, 1265, False),
    (-56, 1330, False),
    (-48, 1450, False),
    (-40, 1560, False),
    (-46, 1605, False),
    (-100, 1634, False),
    (-160, 1657, False),
    (-204, 1670, False),
    (-215, 1685, False),
    (-205, 1697, False),
    (-165, 1700, False),
    (-90, 1702, False),
    (10, 1703, False),
    (41, 1690, False),
    (50, 1660, False),
    (36, 1612, False),
    (33, 1560, False),
    (50, 1450, False),
    (68, 1335, False),
    (60, 1270, False),
    (50, 1222, False),
    (56, 1160, False),
    (68, 1050, False),
    (80, 960, False),
    (90, 918, True),
    (113, 860, False),
    (111, 790, False),
    (90, 720, False),
)

LATERAL_MARKS: dict[str, tuple[float, float, str]] = {
    "asis": (-90, 765, "thigh_lateral"),
    "iliac_crest_top": (-5, 700, "thigh_lateral"),
    "greater_trochanter": (5, TROCHANTER_Y, "thigh_lateral"),
    "knee_lateral": (-5, POPLITEAL_Y, "leg_lateral"),
    "lateral_epicondyle": (-8, 1195, "thigh_lateral"),
    "fibular_head": (20, 1262, "leg_lateral"),
    "st35": (-58, 1224, "leg_lateral"),
    "lateral_malleolus": (8, LATERAL_MALLEOLUS_Y, "foot_lateral"),
    "calcaneal_tendon": (33, 1630, "foot_lateral"),
    "metatarsal5_tuberosity": (-72, 1686, "foot_lateral"),
    "mtp5": (-158, 1687, "foot_lateral"),
    "little_toe_nail": (-196, 1684, "foot_lateral"),
    "metatarsal45_base": (-88, 1662, "foot_lateral"),
}


def hanging_fingertip_y() -> float:
    """Body height of the middle fingertip with the arm hanging straight down beside the
    thigh: the shoulder's height plus the whole arm's length (WHO's GB31 landmark) [WHO08]."""
    return ARM.shoulder[1] + distance(ARM.shoulder, ARM.fingertip)


def _build_lateral(
    d: _Drawing, panel: _Panel
) -> tuple[dict[str, tuple[Point, str]], dict[str, Frame]]:
    marks = {k: (panel(a, y), f) for k, (a, y, f) in LATERAL_MARKS.items()}
    # Where the middle fingertip rests on the lateral thigh, on the thigh's axis (GB31 lies
    # in the hollow just behind the iliotibial band there) [WHO08].
    trochanter, knee = marks["greater_trochanter"][0], marks["knee_lateral"][0]
    tip_y = panel(0, hanging_fingertip_y())[1]
    marks["hanging_fingertip"] = (
        lerp(trochanter, knee, (tip_y - trochanter[1]) / (knee[1] - trochanter[1])),
        "thigh_lateral",
    )

    def m(name: str) -> Point:
        return marks[name][0]

    ant = (-1.0, 0.0)
    leg = _segment_frame(
        "leg_lateral", m("knee_lateral"), m("lateral_malleolus"), 16, ant, "anterior"
    )
    fib_axis = unit(m("fibular_head"), m("lateral_malleolus"))
    frames = {
        "thigh_lateral": _segment_frame(
            "thigh_lateral", m("greater_trochanter"), m("knee_lateral"), 19, ant, "anterior"
        ),
        "leg_lateral": leg,
        "fibula": Frame(
            "fibula",
            m("fibular_head"),
            fib_axis,
            _across(fib_axis, ant),
            "anterior",
            leg.units_per_cun,
            distance(m("fibular_head"), m("lateral_malleolus")) / leg.units_per_cun,
        ),
        "foot_lateral": _fixed_frame(
            "foot_lateral", m("lateral_malleolus"), FOOT_UPC, ant, "anterior"
        ),
    }
    d.both(
        _line(
            [m("asis"), panel(-50, 712), m("iliac_crest_top"), panel(45, 714), panel(72, 748)],
            "detail",
        ),
        _circle(m("asis"), 4),
        _circle(m("greater_trochanter"), 9),
        _circle(m("fibular_head"), 6),
        _line([m("fibular_head"), m("lateral_malleolus")], "guide_dashed", False),
        Shape("polygon", tuple(_ellipse(m("lateral_malleolus"), 11, 9)), "detail"),
        _line([panel(-56, 1164), panel(-64, 1188), panel(-57, 1212)], "detail"),
        _line([panel(-48, POPLITEAL_Y), panel(48, POPLITEAL_Y)], "guide_dashed", False),
        _line([panel(22, 1420), panel(27, 1560), panel(30, 1615)], "detail"),
        _line([panel(40, 925), panel(80, 918), panel(90, 918)], "detail"),
        _text(panel(-78, 780), "ASIS", 6.5, "start"),
        _text(panel(14, 700), "Iliac crest", 6.5, "start"),
        _text(panel(-30, 845), "Greater trochanter", 6.5, "middle"),
        _text(panel(-40, POPLITEAL_Y - 5), "Popliteal crease level", 6.5, "start"),
        _text(panel(30, 1282), "Fibular head", 6.5, "middle"),
        _text(panel(-14, 1612), "Lat. malleolus", 6.5, "middle"),
    )
    return marks, frames


def _ellipse(center: Point, rx: float, ry: float, n: int = 40) -> list[Point]:
    return [
        (
            center[0] + rx * math.cos(2 * math.pi * i / n),
            center[1] + ry * math.sin(2 * math.pi * i / n),
        )
        for i in range(n)
    ]


def build_lateral_leg() -> View:
    """The lateral leg view: hip to foot, the left leg's lateral aspect and its mirror."""
    panel = _Panel(axis_x=265.0, y_shift=610.0)
    return _leg_view(
        "lateral_leg", "Lateral leg", (880.0, 1130.0), panel, LATERAL_OUTLINE, _build_lateral
    )


MEDIAL_OUTLINE: tuple[tuple[float, float, bool], ...] = (
    (72, 1115, True),
    (0, 1108, False),
    (-68, 1115, True),
    (-62, 1170, False),
    (-55, 1222, False),
    (-72, 1320, False),
    (-62, 1420, False),
    (-45, 1520, False),
    (-34, 1590, False),
    (-46, 1652, False),
    (-36, 1695, False),
    (0, 1703, False),
    (60, 1692, False),
    (110, 1697, False),
    (160, 1703, False),
    (205, 1699, False),
    (216, 1686, False),
    (206, 1669, False),
    (150, 1656, False),
    (80, 1628, False),
    (44, 1600, False),
    (42, 1540, False),
    (48, 1440, False),
    (54, 1330, False),
    (62, 1262, False),
    (73, 1200, False),
)


def _build_medial(
    d: _Drawing, panel: _Panel
) -> tuple[dict[str, tuple[Point, str]], dict[str, Frame]]:
    ant = (1.0, 0.0)
    knee = panel(0, POPLITEAL_Y)
    malleolus = panel(5, MEDIAL_MALLEOLUS_Y)
    leg = _segment_frame("leg_medial", knee, malleolus, 15, ant, "anterior")
    # The lower border of the medial tibial condyle is 13 B-cun above the malleolus [WHO08].
    condyle_y = MEDIAL_MALLEOLUS_Y - 13 * leg.units_per_cun
    marks: dict[str, tuple[Point, str]] = {
        "knee_medial": (knee, "leg_medial"),
        "medial_tibial_condyle": (panel(26, condyle_y), "leg_medial"),
        "medial_malleolus": (malleolus, "foot_medial"),
        "calcaneal_tendon": (panel(-27, 1612), "foot_medial"),
        "tibial_border_distal": (panel(14, MEDIAL_MALLEOLUS_Y - 20), "leg_medial"),
    }
    border_axis = unit(marks["medial_tibial_condyle"][0], malleolus)
    frames = {
        "leg_medial": leg,
        "tibia_medial_border": Frame(
            "tibia_medial_border",
            marks["medial_tibial_condyle"][0],
            border_axis,
            _across(border_axis, ant),
            "anterior",
            leg.units_per_cun,
            13.0,
        ),
        "foot_medial": _fixed_frame("foot_medial", malleolus, FOOT_UPC, ant, "anterior"),
    }
    d.both(
        Shape("polygon", tuple(_ellipse(malleolus, 11, 10)), "detail"),
        _line([panel(-48, POPLITEAL_Y), panel(50, POPLITEAL_Y)], "guide_dashed", False),
        _line([panel(-40, condyle_y), panel(48, condyle_y)], "guide_dashed", False),
        _line(
            [marks["medial_tibial_condyle"][0], marks["tibial_border_distal"][0]], "guide", False
        ),
        _line([panel(-30, 1440), panel(-24, 1560), panel(-22, 1612)], "detail"),
        _line([panel(40, 1694), panel(80, 1680), panel(125, 1690)], "detail"),
        _text(panel(-44, POPLITEAL_Y - 5), "Popliteal crease level", 6.5, "start"),
        _text(panel(-38, condyle_y - 5), "Medial tibial condyle", 6.5, "start"),
        _text(panel(5, MEDIAL_MALLEOLUS_Y - 16), "Med. malleolus", 6.5, "middle"),
        _text(panel(10, 1400), "Tibial border", 6, "end"),
    )
    return marks, frames


def build_medial_leg() -> View:
    """The medial leg view: knee to foot, the left leg's medial aspect and its mirror."""
    panel = _Panel(axis_x=130.0, y_shift=1080.0)
    return _leg_view(
        "medial_leg", "Medial leg", (760.0, 660.0), panel, MEDIAL_OUTLINE, _build_medial
    )


# --- Anterior view (lower ribs to toes, with the dorsum of the foot) ------------------------

A_WIDTH, A_MID, A_TOP = 760.0, 380.0, 410.0
#: Body heights of the front landmarks (model units below the vertex). The xiphisternal
#: junction to the upper border of the pubic symphysis is 13 B-cun (8 to the umbilicus, 5
#: below it); the pubic symphysis to the base of the patella is 18 B-cun [WHO08].
XIPHOID_Y = 475.0
PUBIS_Y = 835.0
PUBIS_LOWER_Y = 872.0
PATELLA_BASE_Y = 1165.0
PATELLA_APEX_Y = 1218.0
TIBIAL_TUBEROSITY_Y = 1272.0
#: The foot is drawn plantar-flexed below the ankle so that its dorsum faces the viewer (the
#: usual chart convention): toe tips end this far below the ankle crease.
DORSUM_LENGTH = 215.0
ANKLE_CREASE_Y = LATERAL_MALLEOLUS_Y


def _ap(x: float, y: float) -> Point:
    """Anterior body coordinates (x from the midline toward the patient's LEFT, y from the
    vertex) to view coordinates: we face the patient, so their left is on our right."""
    return (A_MID + x, y - A_TOP)


# The patient's left half, x >= 0 (lateral is +x): down the flank and the lateral side of the
# leg, round the dorsum of the foot, and up the medial side of the leg to the crotch.
ANTERIOR_OUTLINE: tuple[tuple[float, float, bool], ...] = (
    (0, 450, True),
    (116, 450, True),
    (124, 520, False),
    (128, 600, False),
    (124, 655, False),
    (132, 715, False),
    (150, 775, False),
    (162, 830, False),
    (158, 920, False),
    (146, 1010, False),
    (130, 1100, False),
    (120, 1165, False),
    (118, 1218, False),
    (116, 1262, False),
    (122, 1325, False),
    (112, 1420, False),
    (96, 1520, False),
    (86, 1595, False),
    (92, 1635, False),
    (98, 1690, False),
    (104, 1750, False),
    (106, 1800, False),
    (100, 1832, False),
    (86, 1846, False),
    (68, 1854, False),
    (50, 1860, False),
    (34, 1856, False),
    (26, 1830, False),
    (25, 1780, False),
    (28, 1715, False),
    (34, 1660, False),
    (36, 1615, False),
    (42, 1560, False),
    (48, 1470, False),
    (50, 1380, False),
    (42, 1300, False),
    (38, 1240, False),
    (36, 1180, False),
    (32, 1090, False),
    (24, 990, False),
    (12, 902, False),
)
ANTERIOR_MARKS: dict[str, tuple[float, float, str]] = {
    "xiphoid": (0, XIPHOID_Y, "abdomen"),
    # The umbilicus is 8 of the 13 B-cun from the xiphisternal junction to the pubis [WHO08].
    "umbilicus": (0, XIPHOID_Y + 8 * (PUBIS_Y - XIPHOID_Y) / 13, "abdomen"),
    # The free end of the 11th rib, at the flank (GB26 lies below it, level with the navel).
    "rib11_tip": (118, 640, "abdomen"),
    "pubic_symphysis": (0, PUBIS_Y, "abdomen"),
    "pubic_symphysis_lower": (0, PUBIS_LOWER_Y, "abdomen"),
    "asis": (112, 765, "abdomen"),
    "greater_trochanter": (160, TROCHANTER_Y, "thigh_anterior"),
    "patella_base": (80, PATELLA_BASE_Y, "thigh_anterior"),
    "patella_base_lateral": (99, PATELLA_BASE_Y + 3, "thigh_anterior"),
    "patella_base_medial": (61, PATELLA_BASE_Y + 3, "thigh_anterior"),
    "patella_apex": (80, PATELLA_APEX_Y, "leg_anterior"),
    "tibial_tuberosity": (80, TIBIAL_TUBEROSITY_Y, "leg_anterior"),
    # The two hollows either side of the patellar ligament, just below the patella (the
    # "eyes of the knee"): ST35 / lateral Xiyan and medial Xiyan [WHO08] [WHO91].
    "knee_eye_lateral": (97, PATELLA_APEX_Y + 14, "leg_anterior"),
    "knee_eye_medial": (63, PATELLA_APEX_Y + 14, "leg_anterior"),
    "fibular_head": (117, 1262, "leg_anterior"),
    "lateral_malleolus": (90, LATERAL_MALLEOLUS_Y, "foot_dorsum"),
    "medial_malleolus": (38, MEDIAL_MALLEOLUS_Y, "foot_dorsum"),
    # The middle of the front of the ankle, between the extensor hallucis longus and extensor
    # digitorum longus tendons, level with the lateral malleolus (ST41) [WHO08].
    "ankle_front": (63, ANKLE_CREASE_Y, "foot_dorsum"),
    # Dorsum of the foot (drawn plantar-flexed): metatarsal bases and heads.
    "metatarsal1_base": (47, 1700, "foot_dorsum"),
    "metatarsal2_base": (57, 1698, "foot_dorsum"),
    "metatarsal5_base": (92, 1712, "foot_dorsum"),
    "mtp1": (38, 1782, "foot_dorsum"),
    "mtp2": (56, 1792, "foot_dorsum"),
    "mtp5": (100, 1790, "foot_dorsum"),
}


def _anterior_marks() -> dict[str, tuple[Point, str]]:
    marks = {k: (_ap(x, y), f) for k, (x, y, f) in ANTERIOR_MARKS.items()}
    # The junction of the 1st and 2nd metatarsal bases (LR3 lies just distal to it).
    a, b = marks["metatarsal1_base"][0], marks["metatarsal2_base"][0]
    marks["metatarsal12_base_junction"] = (lerp(a, b, 0.5), "foot_dorsum")
    # The lower border of the medial tibial condyle is 13 B-cun above the medial malleolus,
    # and the apex of the patella 15 [WHO08]; the hollow lies just inside the medial contour.
    medial_upc = (MEDIAL_MALLEOLUS_Y - PATELLA_APEX_Y) / 15
    marks["medial_tibial_condyle"] = (
        _ap(47, MEDIAL_MALLEOLUS_Y - 13 * medial_upc),
        "tibia_medial",
    )
    return marks


def _anterior_frames(marks: Mapping[str, tuple[Point, str]]) -> dict[str, Frame]:
    def m(name: str) -> Point:
        return marks[name][0]

    lateral = (1.0, 0.0)
    abdomen = _segment_frame("abdomen", m("xiphoid"), m("pubic_symphysis"), 13, lateral, "lateral")
    pubis_on_axis = (m("patella_base")[0], m("pubic_symphysis")[1])
    thigh = _segment_frame(
        "thigh_anterior", pubis_on_axis, m("patella_base"), 18, lateral, "lateral"
    )
    # The Stomach line of the thigh, from the lateral end of the patella's base up to the
    # ASIS, measured in the thigh's cun (ST31-ST34) [WHO08].
    st_axis = unit(m("patella_base_lateral"), m("asis"))
    st_thigh = Frame(
        "stomach_thigh",
        m("patella_base_lateral"),
        st_axis,
        _across(st_axis, lateral),
        "lateral",
        thigh.units_per_cun,
        distance(m("patella_base_lateral"), m("asis")) / thigh.units_per_cun,
    )
    # ST35 to ST41 (the front of the ankle, level with the lateral malleolus) is the 16 B-cun
    # of the popliteal crease to the lateral malleolus [WHO08].
    leg = _segment_frame(
        "leg_anterior", m("knee_eye_lateral"), m("ankle_front"), 16, lateral, "lateral"
    )
    # The medial tibial condyle's lower border (SP9) to the medial malleolus is 13 B-cun
    # [WHO08]; the malleolus to the apex of the patella is 15.
    tibia = _segment_frame(
        "tibia_medial", m("medial_tibial_condyle"), m("medial_malleolus"), 13, lateral, "lateral"
    )
    return {
        "abdomen": abdomen,
        "thigh_anterior": thigh,
        "stomach_thigh": st_thigh,
        "leg_anterior": leg,
        "tibia_medial": tibia,
        "foot_dorsum": _fixed_frame("foot_dorsum", m("ankle_front"), FOOT_UPC, lateral, "lateral"),
    }


def _anterior_zones() -> tuple[ScaleZone, ...]:
    x0, x1 = A_MID - 0.01, A_WIDTH
    top = lambda y: y - A_TOP  # noqa: E731 - a one-line coordinate shift
    return (
        _rect_zone("abdomen", x0, 0, x1, top(PUBIS_Y)),
        _rect_zone("thigh_anterior", x0, top(PUBIS_Y), x1, top(PATELLA_APEX_Y)),
        _rect_zone("leg_anterior", x0, top(PATELLA_APEX_Y), x1, top(ANKLE_CREASE_Y)),
        _rect_zone("foot_dorsum", x0, top(ANKLE_CREASE_Y), x1, top(ANKLE_CREASE_Y) + 400),
    )


def _draw_anterior(d: _Drawing, marks: Mapping[str, tuple[Point, str]]) -> None:
    def m(name: str) -> Point:
        return marks[name][0]

    # Costal margins, the linea alba with the umbilicus, the iliac crest to the ASIS, the
    # inguinal ligament, the pubic symphysis.
    d.both(_line([_ap(0, XIPHOID_Y), _ap(40, 520), _ap(90, 572), _ap(124, 610)], "detail"))
    d.once(_line([_ap(0, XIPHOID_Y), _ap(0, PUBIS_Y)], "guide_dashed", False))
    umbilicus = _ap(0, XIPHOID_Y + 8 * (PUBIS_Y - XIPHOID_Y) / 13)
    d.once(_circle(umbilicus, 5, "detail"))
    d.both(
        _line([_ap(134, 700), _ap(126, 735), m("asis")], "detail"),
        _circle(m("asis"), 4),
        _line([m("asis"), _ap(70, 805), _ap(14, PUBIS_Y - 2)], "detail"),
        _circle(m("greater_trochanter"), 8),
    )
    d.once(_line([_ap(-14, PUBIS_Y), _ap(14, PUBIS_Y)], "detail", False))
    # The patella, its ligament to the tibial tuberosity, the tibial crest, the malleoli.
    pb, pa = m("patella_base"), m("patella_apex")
    centre = ((pb[0] + pa[0]) / 2, (pb[1] + pa[1]) / 2)
    patella = _ellipse(centre, 19, (pa[1] - pb[1]) / 2 + 2)
    d.both(
        _poly(patella, "detail"),
        _line([_ap(75, PATELLA_APEX_Y), _ap(76, TIBIAL_TUBEROSITY_Y)], "detail", False),
        _line([_ap(85, PATELLA_APEX_Y), _ap(84, TIBIAL_TUBEROSITY_Y)], "detail", False),
        _circle(m("tibial_tuberosity"), 5),
        _line(
            [_ap(78, TIBIAL_TUBEROSITY_Y + 8), _ap(74, 1420), _ap(66, 1560), _ap(60, 1600)],
            "detail",
        ),
        _circle(m("fibular_head"), 5),
        Shape("polygon", tuple(_ellipse(m("lateral_malleolus"), 7, 10)), "detail"),
        Shape("polygon", tuple(_ellipse(m("medial_malleolus"), 7, 10)), "detail"),
        _line([_ap(40, ANKLE_CREASE_Y), _ap(86, ANKLE_CREASE_Y)], "guide_dashed", False),
    )
    # The dorsum of the foot: the metatarsals and the toes.
    middle = {"mt3": ((70.0, 1702.0), (76.0, 1794.0)), "mt4": ((82.0, 1706.0), (89.0, 1793.0))}
    rays = [
        (m("metatarsal1_base"), m("mtp1")),
        (m("metatarsal2_base"), m("mtp2")),
        *((_ap(*b0), _ap(*h0)) for b0, h0 in middle.values()),
        (m("metatarsal5_base"), m("mtp5")),
    ]
    for b0, h0 in rays:
        d.both(_line([b0, h0], "guide", False))
    toes = ((38, 1782, 36, 1850), (56, 1792, 54, 1852), (72, 1795, 70, 1850), (86, 1795, 85, 1842))
    for x0, y0, x1, y1 in toes:
        d.both(_line([_ap(x0 + 7, y0 + 6), _ap(x1 + 7, y1 - 6)], "detail", False))
    d.both(_line([m("ankle_front"), _ap(58, 1668), m("metatarsal12_base_junction")], "guide"))


def _label_anterior(d: _Drawing) -> None:
    d.once(
        _text(_ap(6, XIPHOID_Y - 4), "Xiphoid", 6.5, "start"),
        _text(_ap(10, XIPHOID_Y + 8 * (PUBIS_Y - XIPHOID_Y) / 13 + 3), "Umbilicus", 6.5, "start"),
        _text(_ap(104, 778), "ASIS", 6.5, "end"),
        _text(_ap(0, PUBIS_Y - 7), "Pubic symphysis", 6.5),
        _text(_ap(80, PATELLA_BASE_Y - 10), "Patella", 6.5),
        _text(_ap(128, 1268), "Fibular head", 6.5, "start"),
        _text(_ap(96, ANKLE_CREASE_Y - 12), "Lat. malleolus", 6, "start"),
        _text(_ap(-96, ANKLE_CREASE_Y - 12), "Lat. malleolus", 6, "end"),
        _text(_ap(0, 1884), "Dorsum of the foot (toes pointing down)", 6.5),
        _text((A_WIDTH - 24, 28), "Patient's LEFT", 13, "end", "panel_label"),
        _text((24, 28), "Patient's RIGHT", 13, "start", "panel_label"),
        _text((A_MID, 28), "Anterior view", 13, "middle", "panel_label"),
    )


def build_anterior() -> View:
    """The anterior view: the lower ribs to the toes, facing the patient, with the dorsum of
    each foot drawn plantar-flexed below the ankle."""
    marks = _anterior_marks()
    d = _Drawing(A_MID)
    _draw_anterior(d, marks)
    _label_anterior(d)
    left = list(ANTERIOR_OUTLINE)
    right = [(-x, y, c) for x, y, c in reversed(left[1:])]
    controls = [*left, (0.0, 912.0, True), *right]
    outline = tuple(_ap(x, y) for x, y in outline_with_corners(controls))
    height = float(math.ceil(max(q[1] for q in outline) + 45))
    return View(
        id="anterior",
        title="Anterior view",
        width=A_WIDTH,
        height=height,
        mirror_axis=A_MID,
        has_midline=True,
        shapes=d.shapes([outline]),
        outline_polygons=(outline,),
        frames=MappingProxyType(_anterior_frames(marks)),
        landmarks=MappingProxyType({k: Landmark(k, q, f) for k, (q, f) in marks.items()}),
        levels=MappingProxyType({}),
        scale_zones=_anterior_zones(),
        left_on_viewer_right=True,
    )


@cache
def build_views() -> Mapping[str, View]:
    """All views of the model, by id (built once)."""
    views = (build_posterior(), build_lateral_leg(), build_medial_leg(), build_anterior())
    return MappingProxyType({v.id: v for v in views})


def label_anchor(view_id: str, side: str) -> str:
    """Where a mark's label goes so it points away from the midline: "end" (to the viewer's
    left), "start" (to the right) or "below" (midline marks). On a view of the front the
    patient's left is on the viewer's right, so the anchors swap."""
    view = build_views().get(view_id)
    flipped = view is not None and view.left_on_viewer_right
    if side == "L":
        return "start" if flipped else "end"
    if side == "R":
        return "end" if flipped else "start"
    return "below"
