"""Small value types shared by the body-map model, catalogs and renderers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from charting.bodymap.geometry import Point, Polygon, point_in_polygon

Side = Literal["L", "R", "M"]
ShapeKind = Literal["polygon", "polyline", "circle", "text"]
TextAnchor = Literal["start", "middle", "end"]

SIDE_LABELS: dict[str, str] = {"L": "Patient's left", "R": "Patient's right", "M": "Midline"}


def side_label(side: str) -> str:
    """Plain-language label for a side code ("L" -> "Patient's left")."""
    return SIDE_LABELS[side]


@dataclass(frozen=True)
class Shape:
    """One drawing primitive of a view, in model units.

    Attributes:
        kind: "polygon" (closed), "polyline" (open), "circle" or "text".
        points: Vertices; for a circle or text, ``points[0]`` is the centre or anchor.
        role: Drawing role that selects the style (see :mod:`charting.bodymap.style`):
            "outline", "detail", "guide", "guide_dashed", "guide_label", "panel_label".
        text: The text of a "text" shape.
        radius: The radius of a "circle" shape.
        size: Font size of a "text" shape, in model units.
        anchor: Horizontal text anchor ("start", "middle", "end").
    """

    kind: ShapeKind
    points: tuple[Point, ...]
    role: str
    text: str | None = None
    radius: float | None = None
    size: float | None = None
    anchor: TextAnchor = "middle"


@dataclass(frozen=True)
class Frame:
    """A local measuring frame: an origin, a "down" axis, an "across" axis and a cun scale.

    Frames are stored for the patient's left side (the canonical side); the right side is
    obtained by mirroring the result about the view's mirror axis.

    Attributes:
        name: Frame id used by catalog definitions (e.g. "thigh_posterior").
        origin: Start landmark, in model units.
        axis: Unit vector pointing "down" the segment (towards its end landmark).
        across: Unit vector of positive "across" offsets (lateral or anterior).
        across_name: "lateral" on the posterior view, "anterior" on the leg views.
        units_per_cun: Model units per B-cun in this segment.
        length_cun: Proportional length between the start and end landmarks, if any.
    """

    name: str
    origin: Point
    axis: Point
    across: Point
    across_name: str
    units_per_cun: float
    length_cun: float | None = None

    def at(self, down_cun: float, across_cun: float) -> Point:
        """Point ``down_cun`` along the axis and ``across_cun`` across it, from the origin."""
        d = down_cun * self.units_per_cun
        a = across_cun * self.units_per_cun
        return (
            self.origin[0] + self.axis[0] * d + self.across[0] * a,
            self.origin[1] + self.axis[1] * d + self.across[1] * a,
        )

    def offset(self, point: Point, down_cun: float, across_cun: float) -> Point:
        """``point`` moved by offsets measured in this frame's directions and scale."""
        moved = Frame(
            self.name, point, self.axis, self.across, self.across_name, self.units_per_cun
        )
        return moved.at(down_cun, across_cun)


@dataclass(frozen=True)
class Landmark:
    """A named anatomical landmark (patient's left side) and the frame it is measured in."""

    name: str
    point: Point
    frame: str


@dataclass(frozen=True)
class ScaleZone:
    """Region of a view (patient's left side) where one frame's cun scale applies."""

    frame: str
    polygon: Polygon

    def contains(self, x: float, y: float) -> bool:
        """True when ``(x, y)`` is inside the zone."""
        return point_in_polygon(x, y, self.polygon)


def hypot_cun(dx: float, dy: float, units_per_cun: float) -> float:
    """Length of the vector ``(dx, dy)`` (model units) expressed in cun."""
    return math.hypot(dx, dy) / units_per_cun
