"""GB31 and EX-UE7 placed by their own definitions, measured from the model's landmarks."""

from __future__ import annotations

import math

from charting.bodymap import load_bodymap
from charting.bodymap.geometry import distance
from charting.bodymap.model import ARM, HAND_LANDMARKS, P_MID, P_TOP

BM = load_bodymap()


def _pos(code: str, view: str) -> tuple[float, float]:
    pos = BM.position(code, "L", view)  # type: ignore[arg-type]
    assert pos is not None
    return pos


def test_gb31_is_where_the_hanging_middle_fingertip_rests() -> None:
    """GB31 is level with the tip of the middle finger of the arm hanging straight down (the
    shoulder's height plus the arm's length, from the back view's arm), behind the
    iliotibial band like GB32, and above GB32 (7 B-cun above the popliteal crease)."""
    back = BM.views["posterior"]
    arm_length = distance(ARM.shoulder, ARM.fingertip)
    lateral = BM.views["lateral_leg"]
    # Both views are drawn at the same scale; the lateral view is shifted up by a constant,
    # read from a landmark both views share.
    shift = (
        back.landmarks["greater_trochanter"].point[1]
        - lateral.landmarks["greater_trochanter"].point[1]
    )
    gb31, gb32 = _pos("GB31", "lateral_leg"), _pos("GB32", "lateral_leg")
    # (within half a unit: the step behind the band follows the slightly slanted thigh)
    assert math.isclose(gb31[1] + shift, P_TOP + ARM.shoulder[1] + arm_length, abs_tol=0.5)
    assert gb31[1] < gb32[1]
    knee = lateral.landmarks["knee_lateral"].point
    trochanter = lateral.landmarks["greater_trochanter"].point
    cun = (knee[1] - trochanter[1]) / 19
    assert 7 < (knee[1] - gb31[1]) / cun < 9.5

    # Behind the band: the same distance behind the thigh's axis as GB32.
    def behind(p: tuple[float, float]) -> float:
        t = (p[1] - trochanter[1]) / (knee[1] - trochanter[1])
        return p[0] - (trochanter[0] + (knee[0] - trochanter[0]) * t)

    assert math.isclose(behind(gb31), behind(gb32), rel_tol=0.05)
    assert behind(gb31) > 0


def _hand(along: float, across: float) -> tuple[float, float]:
    x, y = ARM.hand(along, across)
    return (P_MID + x, P_TOP + y)


def _along(point: tuple[float, float]) -> float:
    """Distance of ``point`` from the wrist crease, along the hand's axis."""
    wrist = _hand(0, 0)
    tip = _hand(1, 0)
    return (point[0] - wrist[0]) * (tip[0] - wrist[0]) + (point[1] - wrist[1]) * (tip[1] - wrist[1])


def _across(q: tuple[float, float]) -> float:
    """Distance of ``q`` across the hand's axis (toward the thumb), from the wrist crease."""
    wrist, ahead = _hand(0, 0), _hand(1, 0)
    normal = (-(ahead[1] - wrist[1]), ahead[0] - wrist[0])
    return (q[0] - wrist[0]) * normal[0] + (q[1] - wrist[1]) * normal[1]


def _shaft_across(bone: str, along: float) -> float:
    """Where a metacarpal's shaft (base to head) is across the hand, ``along`` from the wrist."""
    base, head = HAND_LANDMARKS[f"metacarpal{bone}_base"], HAND_LANDMARKS[f"mcp{bone}"]
    t = (along - base[0]) / (head[0] - base[0])
    return _across(_hand(base[0] + (head[0] - base[0]) * t, base[1] + (head[1] - base[1]) * t))


def test_ex_ue7_is_midway_between_the_wrist_crease_and_the_knuckles() -> None:
    """Each EX-UE7 point lies halfway from the dorsal wrist crease to the line of the MCP
    joints (not from the metacarpal bases), between its two metacarpals."""
    for code, (a, b) in (("EX-UE7-1", ("2", "3")), ("EX-UE7-2", ("4", "5"))):
        p = _pos(code, "posterior")
        knuckles = (
            _along(_hand(*HAND_LANDMARKS[f"mcp{a}"])) + _along(_hand(*HAND_LANDMARKS[f"mcp{b}"]))
        ) / 2
        assert math.isclose(_along(p), knuckles / 2, rel_tol=0.01), code
        low, high = sorted((_shaft_across(a, _along(p)), _shaft_across(b, _along(p))))
        assert low < _across(p) < high, code
