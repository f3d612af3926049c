"""Plane geometry helpers for the body map: smooth splines, point-in-polygon, mirroring."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

Point = tuple[float, float]
Polygon = tuple[Point, ...]

#: Samples taken on each spline span; dense enough that the outline looks smooth at print size.
SAMPLES_PER_SPAN = 14


def distance(a: Point, b: Point) -> float:
    """Euclidean distance between two points."""
    return math.hypot(a[0] - b[0], a[1] - b[1])


def lerp(a: Point, b: Point, t: float) -> Point:
    """Point at fraction ``t`` of the way from ``a`` to ``b``."""
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def unit(a: Point, b: Point) -> Point:
    """Unit vector pointing from ``a`` to ``b``."""
    length = distance(a, b)
    if length == 0:
        raise ValueError("zero-length direction")
    return ((b[0] - a[0]) / length, (b[1] - a[1]) / length)


def _knot(t: float, a: Point, b: Point) -> float:
    # Centripetal parameterisation (alpha = 0.5) never loops or cusps inside a span.
    return t + max(distance(a, b), 1e-6) ** 0.5


def _span(p0: Point, p1: Point, p2: Point, p3: Point, samples: int) -> list[Point]:
    """Sample one centripetal Catmull-Rom span from ``p1`` to ``p2`` (``p2`` excluded)."""
    t0 = 0.0
    t1 = _knot(t0, p0, p1)
    t2 = _knot(t1, p1, p2)
    t3 = _knot(t2, p2, p3)
    out: list[Point] = []
    for i in range(samples):
        t = t1 + (t2 - t1) * i / samples
        a1 = _blend(p0, p1, t0, t1, t)
        a2 = _blend(p1, p2, t1, t2, t)
        a3 = _blend(p2, p3, t2, t3, t)
        b1 = _blend(a1, a2, t0, t2, t)
        b2 = _blend(a2, a3, t1, t3, t)
        out.append(_blend(b1, b2, t1, t2, t))
    return out


def _blend(a: Point, b: Point, ta: float, tb: float, t: float) -> Point:
    w = (t - ta) / (tb - ta)
    return (a[0] + (b[0] - a[0]) * w, a[1] + (b[1] - a[1]) * w)


def open_spline(points: Sequence[Point], samples: int = SAMPLES_PER_SPAN) -> list[Point]:
    """Smooth open curve through ``points`` (end points included)."""
    if len(points) < 3:
        return list(points)
    first = lerp(points[1], points[0], 2.0)
    last = lerp(points[-2], points[-1], 2.0)
    padded = [first, *points, last]
    out: list[Point] = []
    for i in range(1, len(padded) - 2):
        out.extend(_span(padded[i - 1], padded[i], padded[i + 1], padded[i + 2], samples))
    out.append(points[-1])
    return out


def closed_spline(points: Sequence[Point], samples: int = SAMPLES_PER_SPAN) -> list[Point]:
    """Smooth closed curve through ``points`` (returned without repeating the first point)."""
    n = len(points)
    out: list[Point] = []
    for i in range(n):
        out.extend(
            _span(points[i - 1], points[i], points[(i + 1) % n], points[(i + 2) % n], samples)
        )
    return out


def outline_with_corners(controls: Sequence[tuple[float, float, bool]]) -> Polygon:
    """Closed smooth outline through control points, kept sharp where flagged as corners.

    Args:
        controls: ``(x, y, is_corner)`` in drawing order. The curve is split at the corners
            into open splines, so a crotch or a finger cleft stays crisp while every other
            stretch is smooth.

    Returns:
        The densely sampled polygon.
    """
    corners = [i for i, c in enumerate(controls) if c[2]]
    pts = [(c[0], c[1]) for c in controls]
    if not corners:
        return tuple(closed_spline(pts))
    start = corners[0]
    rotated = pts[start:] + pts[:start]
    marks = [(i - start) % len(pts) for i in corners] + [len(pts)]
    rotated.append(rotated[0])
    out: list[Point] = []
    for a, b in pairwise(marks):
        piece = open_spline(rotated[a : b + 1])
        out.extend(piece[:-1])
    return tuple(out)


def point_in_polygon(x: float, y: float, polygon: Sequence[Point]) -> bool:
    """Even-odd rule test of whether ``(x, y)`` lies inside ``polygon``."""
    inside = False
    n = len(polygon)
    j = n - 1
    for i in range(n):
        xi, yi = polygon[i]
        xj, yj = polygon[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


class PolygonTest:
    """``point_in_polygon`` for a fixed polygon with many vertices (a body outline).

    The edges are sorted into horizontal bands once, so a test walks only the edges of the
    band its point lies in, instead of every edge: the same even-odd rule, about a tenth
    of the work on an outline of a thousand points.
    """

    def __init__(self, polygon: Sequence[Point], bands: int = 64) -> None:
        ys = [p[1] for p in polygon]
        self._top, self._bottom = min(ys), max(ys)
        self._height = (self._bottom - self._top) / bands or 1.0
        self._bands: list[list[tuple[float, float, float, float]]] = [[] for _ in range(bands)]
        j = len(polygon) - 1
        for i in range(len(polygon)):
            (xi, yi), (xj, yj) = polygon[i], polygon[j]
            for band in range(self._band(min(yi, yj)), self._band(max(yi, yj)) + 1):
                self._bands[band].append((xi, yi, xj, yj))
            j = i

    def _band(self, y: float) -> int:
        return min(len(self._bands) - 1, max(0, int((y - self._top) / self._height)))

    def contains(self, x: float, y: float) -> bool:
        """True when ``(x, y)`` lies inside (even-odd rule, as ``point_in_polygon``)."""
        if not self._top <= y <= self._bottom:
            return False
        inside = False
        for xi, yi, xj, yj in self._bands[self._band(y)]:
            if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
                inside = not inside
        return inside


def polygon_area(polygon: Sequence[Point]) -> float:
    """Unsigned area of a simple polygon (shoelace formula)."""
    total = 0.0
    n = len(polygon)
    for i in range(n):
        x1, y1 = polygon[i]
        x2, y2 = polygon[(i + 1) % n]
        total += x1 * y2 - x2 * y1
    return abs(total) / 2.0


def bounds(points: Sequence[Point]) -> tuple[float, float, float, float]:
    """Bounding box ``(min_x, min_y, max_x, max_y)``."""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return (min(xs), min(ys), max(xs), max(ys))


def mirror_point(point: Point, axis_x: float) -> Point:
    """Reflect a point about the vertical line ``x = axis_x``."""
    return (2 * axis_x - point[0], point[1])


def mirror_points(points: Sequence[Point], axis_x: float) -> tuple[Point, ...]:
    """Reflect every point about the vertical line ``x = axis_x``."""
    return tuple(mirror_point(p, axis_x) for p in points)


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _segments_cross(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    d1 = _cross(q1, q2, p1)
    d2 = _cross(q1, q2, p2)
    d3 = _cross(p1, p2, q1)
    d4 = _cross(p1, p2, q2)
    return d1 * d2 < 0 and d3 * d4 < 0


def is_simple_polygon(polygon: Sequence[Point]) -> bool:
    """True when no two non-adjacent edges of ``polygon`` cross each other."""
    n = len(polygon)
    edges = [(polygon[i], polygon[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue
            if _segments_cross(*edges[i], *edges[j]):
                return False
    return True
