"""What a click on the body map places: the one rule the screen's click, hover and tooltip use.

A click inside the body snaps to the nearest catalog acupoint within :data:`SNAP_CUN`; away
from points, over a muscle, it places a trigger point of that muscle at the exact spot. In
ashi or cupping mode (or with the "free" modifier, Shift on screen) it places an ashi point
or a cupping site at the exact spot. Outside the body nothing is placed.
"""

from __future__ import annotations

from dataclasses import dataclass

from charting.bodymap.catalog import BodyMap

#: Click modes: what a plain click places.
MODES: tuple[str, ...] = ("point", "ashi", "cupping")
#: Clicks snap to a catalog point within this distance, in local B-cun.
SNAP_CUN = 0.5


@dataclass(frozen=True)
class Placement:
    """What a click at a position would place.

    Attributes:
        kind: "acupoint", "trigger_point", "ashi" or "cupping" (the stored mark kinds).
        view: The view clicked.
        side: "L", "R" or "M" (the patient's side).
        x: Where the mark goes (a snapped point's catalog position, else the click).
        y: As ``x``.
        point_code: The acupoint's code (acupoints only).
        muscle_id: The muscle (trigger points only).
    """

    kind: str
    view: str
    side: str
    x: float
    y: float
    point_code: str = ""
    muscle_id: str = ""


def placement_at(
    bodymap: BodyMap, view_id: str, x: float, y: float, mode: str = "point", free: bool = False
) -> Placement | None:
    """What a click at model position ``(x, y)`` places on ``view_id`` (None: nothing).

    Args:
        bodymap: The body model and catalogs.
        view_id: The view clicked.
        x: Model x of the click.
        y: Model y of the click.
        mode: "point" (snap to an acupoint, else a trigger point), "ashi" or "cupping".
        free: Place an ashi point at the exact spot whatever the mode (Shift+click).

    Raises:
        ValueError: For an unknown mode.
    """
    if mode not in MODES:
        raise ValueError(f"Unknown body-map mode {mode!r}")
    if not bodymap.inside_outline(view_id, x, y):
        return None
    if free or mode == "ashi":
        return Placement("ashi", view_id, bodymap.side_at(view_id, x, y), x, y)
    if mode == "cupping":
        return Placement("cupping", view_id, bodymap.side_at(view_id, x, y), x, y)
    hit = bodymap.nearest_point(view_id, x, y, SNAP_CUN)
    if hit is not None:
        return Placement("acupoint", view_id, hit.side, hit.x, hit.y, point_code=hit.point.code)
    muscle = bodymap.muscle_at(view_id, x, y)
    if muscle is not None:
        return Placement("trigger_point", view_id, muscle.side, x, y, muscle_id=muscle.muscle.id)
    return None
