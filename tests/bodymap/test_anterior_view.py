"""The anterior view: lower ribs to toes, facing the patient, with its points placed by
their WHO 2008 / WHO 1991 landmark definitions (each test measures from the landmarks, not
from the point's own catalog entry)."""

from __future__ import annotations

import math

import pytest

from charting.bodymap import load_bodymap
from charting.bodymap.geometry import distance

BM = load_bodymap()
VIEW = BM.views["anterior"]
LM = {name: mark.point for name, mark in VIEW.landmarks.items()}
#: The thigh's cun: upper border of the pubic symphysis to the base of the patella = 18.
THIGH_CUN = (LM["patella_base"][1] - LM["pubic_symphysis"][1]) / 18
#: The leg's cun: apex of the patella to the medial malleolus = 15.
MEDIAL_LEG_CUN = (LM["medial_malleolus"][1] - LM["patella_apex"][1]) / 15


def _at(code: str, side: str = "L") -> tuple[float, float]:
    pos = BM.position(code, side, "anterior")  # type: ignore[arg-type]
    assert pos is not None, code
    return pos


def _cross(a: tuple[float, float], b: tuple[float, float], p: tuple[float, float]) -> float:
    """Distance of ``p`` from the line through ``a`` and ``b``."""
    return abs((b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])) / distance(a, b)


def test_the_view_faces_the_patient() -> None:
    """The patient's left is on the viewer's right; the midline is side M; a left point's
    right twin is its mirror image."""
    assert VIEW.side_at(VIEW.mirror_axis + 100, 800) == "L"
    assert VIEW.side_at(VIEW.mirror_axis - 100, 800) == "R"
    assert VIEW.side_at(VIEW.mirror_axis, 300) == "M"
    left, right = _at("ST36", "L"), _at("ST36", "R")
    assert left[0] > VIEW.mirror_axis > right[0]
    assert math.isclose(left[0] - VIEW.mirror_axis, VIEW.mirror_axis - right[0])
    hit = BM.nearest_point("anterior", *left, 0.5)
    assert hit is not None and (hit.point.code, hit.side) == ("ST36", "L")


def test_the_view_reaches_from_the_lower_ribs_to_the_toes() -> None:
    """The xiphoid (lower end of the ribs' front) is inside the top of the view and the toe
    tips are below the ankle, with every point of the view inside the body outline."""
    assert 0 < LM["xiphoid"][1] < 120
    lowest = max(y for outline in VIEW.outline_polygons for _, y in outline)
    assert lowest - LM["ankle_front"][1] > 150
    for point in BM.points:
        if "anterior" in point.views:
            for side in point.sides:
                assert BM.inside_outline("anterior", *_at(point.code, side)), point.code


@pytest.mark.parametrize(("code", "cun"), [("ST36", 3), ("ST37", 6), ("ST38", 8), ("ST39", 9)])
def test_stomach_leg_points_are_on_the_st35_st41_line(code: str, cun: int) -> None:
    """ST36-ST39 lie on the line from ST35 to ST41, which is 16 B-cun long, at their cun."""
    st35, st41 = _at("ST35"), _at("ST41")
    leg_cun = distance(st35, st41) / 16
    p = _at(code)
    assert _cross(st35, st41, p) < 1e-6
    assert math.isclose(distance(st35, p), cun * leg_cun)


def test_st40_is_8_cun_above_the_lateral_malleolus_lateral_to_st38() -> None:
    """ST40 is level with the point 8 B-cun above the ankle on the ST35-ST41 line (16 cun,
    crease to malleolus), one cun lateral to it, i.e. one finger-breadth lateral to ST38."""
    st35, st41, st40 = _at("ST35"), _at("ST41"), _at("ST40")
    leg_cun = distance(st35, st41) / 16
    axis = ((st41[0] - st35[0]) / distance(st35, st41), (st41[1] - st35[1]) / distance(st35, st41))
    along = (st41[0] - st40[0]) * axis[0] + (st41[1] - st40[1]) * axis[1]
    assert math.isclose(along, 8 * leg_cun)
    assert math.isclose(_cross(st35, st41, st40), leg_cun)
    assert st40[0] > _at("ST38")[0]  # lateral: away from the midline on the patient's left


def test_st41_is_at_the_front_of_the_ankle_level_with_the_lateral_malleolus() -> None:
    """ST41 sits between the malleoli, level with the lateral malleolus' prominence."""
    st41 = _at("ST41")
    assert st41[1] == LM["lateral_malleolus"][1]
    assert LM["medial_malleolus"][0] < st41[0] < LM["lateral_malleolus"][0]


def test_st35_and_the_knee_eyes_flank_the_patellar_ligament() -> None:
    """ST35 and lateral Xiyan are lateral to the patellar ligament, Neixiyan and medial
    Xiyan medial to it, all below the apex of the patella and above the tibial tuberosity."""
    ligament_x = LM["patella_apex"][0]
    for code in ("ST35", "EX-LE5-2"):
        assert _at(code)[0] > ligament_x
    for code in ("EX-LE4", "EX-LE5-1"):
        assert _at(code)[0] < ligament_x
    for code in ("ST35", "EX-LE4", "EX-LE5-1", "EX-LE5-2"):
        assert LM["patella_apex"][1] < _at(code)[1] < LM["tibial_tuberosity"][1]


def test_st31_is_on_the_asis_patella_line_level_with_the_lower_pubic_border() -> None:
    """ST31: the line from the ASIS to the lateral end of the patella's base, where it
    crosses the level of the lower border of the pubic symphysis."""
    st31 = _at("ST31")
    assert _cross(LM["asis"], LM["patella_base_lateral"], st31) < 1e-6
    assert math.isclose(st31[1], LM["pubic_symphysis_lower"][1])


@pytest.mark.parametrize(("code", "cun"), [("ST32", 6), ("ST33", 3), ("ST34", 2)])
def test_stomach_thigh_points_are_their_cun_above_the_patella(code: str, cun: int) -> None:
    """ST32, ST33 and ST34 lie on the ASIS-patella line, 6, 3 and 2 thigh cun (18 cun pubis
    to patella) above the lateral end of the patella's base."""
    p = _at(code)
    assert _cross(LM["asis"], LM["patella_base_lateral"], p) < 1e-6
    assert math.isclose(distance(LM["patella_base_lateral"], p), cun * THIGH_CUN)


def test_sp10_is_2_cun_above_the_medial_end_of_the_patella() -> None:
    """SP10: 2 thigh cun above the medial end of the base of the patella."""
    sp10, base = _at("SP10"), LM["patella_base_medial"]
    assert math.isclose(sp10[0], base[0])
    assert math.isclose(base[1] - sp10[1], 2 * THIGH_CUN)


def test_sp9_is_13_cun_above_the_medial_malleolus_on_both_views() -> None:
    """SP9 (lower border of the medial tibial condyle) is 13 B-cun above the medial malleolus
    (15 from the patella's apex), on the front and the medial view alike."""
    sp9 = _at("SP9")
    assert math.isclose(LM["medial_malleolus"][1] - sp9[1], 13 * MEDIAL_LEG_CUN)
    assert sp9[0] < LM["patella_apex"][0]  # medial: toward the midline on this side
    medial = BM.views["medial_leg"]
    malleolus = medial.landmarks["medial_malleolus"].point
    knee = medial.landmarks["knee_medial"].point
    sp9m = BM.position("SP9", "L", "medial_leg")
    assert sp9m is not None
    assert math.isclose(malleolus[1] - sp9m[1], 13 * (malleolus[1] - knee[1]) / 15, rel_tol=1e-3)


def test_lr3_is_between_the_first_two_metatarsals_distal_to_their_bases() -> None:
    """LR3 lies between the 1st and 2nd metatarsals, distal to the junction of their bases
    and in the proximal half of the space."""
    lr3 = _at("LR3")
    b1, h1, b2, h2 = (LM[n] for n in ("metatarsal1_base", "mtp1", "metatarsal2_base", "mtp2"))

    def x_on(a: tuple[float, float], b: tuple[float, float], y: float) -> float:
        return a[0] + (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1])

    assert x_on(b1, h1, lr3[1]) < lr3[0] < x_on(b2, h2, lr3[1])
    bases, heads = max(b1[1], b2[1]), min(h1[1], h2[1])
    assert bases < lr3[1] < (bases + heads) / 2


def test_heding_is_at_the_middle_of_the_upper_border_of_the_patella() -> None:
    """EX-LE2 Heding: just above the midpoint of the patella's upper border."""
    heding, base = _at("EX-LE2"), LM["patella_base"]
    assert math.isclose(heding[0], base[0])
    assert 0 < base[1] - heding[1] < 0.5 * THIGH_CUN


def test_required_anterior_points_are_on_the_view() -> None:
    """Every point the issue lists is drawn on the anterior view, on both sides."""
    wanted = [f"ST{n}" for n in range(31, 42)] + ["SP9", "SP10", "LR3"]
    wanted += ["EX-LE2", "EX-LE4", "EX-LE5-1", "EX-LE5-2"]
    for code in wanted:
        assert "anterior" in BM.views_for(code), code
        assert _at(code, "L") != _at(code, "R")


def test_pain_regions_on_the_front_start_at_the_groin() -> None:
    """The front view's pain regions are thigh, lower leg and foot on each side (no low back
    or buttock), each on its own side of the midline."""
    from charting.bodymap.regions import region_shapes

    regions = region_shapes(BM, "anterior")
    assert {name for name, _ in regions} == {"thigh", "lower_leg", "foot"}
    for (_name, side), shape in regions.items():
        x = shape.centroid.x
        assert (x > VIEW.mirror_axis) == (side == "L")
