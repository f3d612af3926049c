"""The further back-and-leg points (KI7, KI10, GB20, GB25, GB26, BL10, BL61, BL63, BL66, GV1,
GV16, GV20, EX-B3, EX-B5, SI6, TE5), each measured from the landmarks its definition names."""

from __future__ import annotations

import math

from charting.bodymap import load_bodymap
from charting.bodymap.geometry import distance

BM = load_bodymap()
BACK = BM.views["posterior"]
#: Back cun: the medial borders of the scapulae are 6 B-cun apart.
BACK_CUN = (BACK.mirror_axis - BACK.landmarks["scapular_spine_medial"].point[0]) / 3


def _at(code: str, view: str, side: str = "L") -> tuple[float, float]:
    pos = BM.position(code, side, view)  # type: ignore[arg-type]
    assert pos is not None, code
    return pos


def _lm(view: str, name: str) -> tuple[float, float]:
    return BM.views[view].landmarks[name].point


def test_ki7_is_2_cun_above_the_medial_malleolus_in_front_of_the_tendon() -> None:
    """KI7: 2 B-cun (15 from the knee crease to the malleolus) above the malleolus, between
    the malleolus and the calcaneal tendon, just in front of the tendon."""
    malleolus, knee = _lm("medial_leg", "medial_malleolus"), _lm("medial_leg", "knee_medial")
    tendon = _lm("medial_leg", "calcaneal_tendon")
    cun = distance(knee, malleolus) / 15
    ki7 = _at("KI7", "medial_leg")
    assert math.isclose(malleolus[1] - ki7[1], 2 * cun, rel_tol=0.01)
    assert tendon[0] < ki7[0] < malleolus[0]


def test_ki10_is_in_the_popliteal_crease_at_the_back_of_the_knee() -> None:
    """KI10 is level with the popliteal crease, behind the knee's axis."""
    knee = _lm("medial_leg", "knee_medial")
    ki10 = _at("KI10", "medial_leg")
    # (within a unit: the step back is square to the slightly slanted leg)
    assert math.isclose(ki10[1], knee[1], abs_tol=1.0)
    assert ki10[0] < knee[0]  # the back of the left leg is to the viewer's left here


def test_neck_points_are_measured_from_the_posterior_hairline() -> None:
    """The posterior hairline is 3 B-cun above C7; GV16 is 1 cun within it on the midline,
    GB20 level with GV16 off the midline, BL10 half a cun within it 1.3 cun lateral."""
    hairline = BACK.level_y("C7") - 3 * BACK_CUN
    gv16, gb20, bl10 = (
        _at("GV16", "posterior", "M"),
        _at("GB20", "posterior"),
        _at("BL10", "posterior"),
    )
    assert gv16[0] == BACK.mirror_axis
    assert math.isclose(hairline - gv16[1], BACK_CUN)
    assert gb20[1] == gv16[1] and gb20[0] < gv16[0]
    assert math.isclose(hairline - bl10[1], 0.5 * BACK_CUN)
    assert math.isclose(BACK.mirror_axis - bl10[0], 1.3 * BACK_CUN)


def test_gv20_is_at_the_vertex() -> None:
    """GV20 is on the midline within half a cun of the top of the head."""
    gv20 = _at("GV20", "posterior", "M")
    top = min(y for x, y in BACK.outline_polygons[0] if abs(x - BACK.mirror_axis) < 5)
    assert gv20[0] == BACK.mirror_axis
    assert 0 < gv20[1] - top < 0.5 * BACK_CUN


def test_gb25_is_below_the_free_end_of_the_12th_rib_at_the_flank() -> None:
    """GB25 lies just below the 12th rib's free end, in the outer part of the waist."""
    rib = _lm("posterior", "rib12_tip")
    gb25 = _at("GB25", "posterior")
    assert gb25[0] == rib[0] and 0 < gb25[1] - rib[1] < BACK_CUN
    assert BACK.mirror_axis - gb25[0] > 5 * BACK_CUN


def test_gb26_is_below_the_11th_rib_level_with_the_umbilicus() -> None:
    """GB26: straight below the 11th rib's free end, level with the umbilicus (8 of the 13
    B-cun from the xiphoid to the pubic symphysis)."""
    xiphoid, pubis = _lm("anterior", "xiphoid"), _lm("anterior", "pubic_symphysis")
    umbilicus_y = xiphoid[1] + 8 * (pubis[1] - xiphoid[1]) / 13
    gb26 = _at("GB26", "anterior")
    assert math.isclose(gb26[1], umbilicus_y)
    assert math.isclose(gb26[0], _lm("anterior", "rib11_tip")[0])


def test_lateral_foot_points_follow_their_landmarks() -> None:
    """BL61 is straight below BL60 (1.5 foot cun, the malleolus to the sole being 3); BL63
    lies between BL62 and the 5th metatarsal's tuberosity; BL66 just past the 5th MTP joint
    toward the little toe."""
    foot = BM.views["lateral_leg"]
    medial = BM.views["medial_leg"]  # the 3 cun run from the medial malleolus to the sole
    sole = max(y for _, y in medial.outline_polygons[0])
    foot_cun = (sole - medial.landmarks["medial_malleolus"].point[1]) / 3
    bl60, bl61 = _at("BL60", "lateral_leg"), _at("BL61", "lateral_leg")
    assert math.isclose(bl61[0], bl60[0])
    assert math.isclose(bl61[1] - bl60[1], 1.5 * foot_cun, rel_tol=0.1)
    bl62, bl63 = _at("BL62", "lateral_leg"), _at("BL63", "lateral_leg")
    tuberosity = foot.landmarks["metatarsal5_tuberosity"].point
    assert math.isclose(
        distance(bl62, bl63) + distance(bl63, tuberosity), distance(bl62, tuberosity)
    )
    mtp5, nail = foot.landmarks["mtp5"].point, foot.landmarks["little_toe_nail"].point
    bl66 = _at("BL66", "lateral_leg")
    assert distance(mtp5, bl66) < distance(bl66, nail)
    assert math.isclose(distance(mtp5, bl66) + distance(bl66, nail), distance(mtp5, nail))


def test_gv1_is_just_below_the_tip_of_the_coccyx() -> None:
    """GV1 is on the midline below the coccyx tip, within a cun of it."""
    tip = _lm("posterior", "coccyx_tip")
    gv1 = _at("GV1", "posterior", "M")
    assert gv1[0] == tip[0] and 0 < gv1[1] - tip[1] < BACK_CUN


def test_extra_back_points_sit_at_their_vertebral_levels() -> None:
    """EX-B3 is 1.5 cun lateral to the lower border of T8; EX-B5 below L3 on the midline."""
    ex_b3, ex_b5 = _at("EX-B3", "posterior"), _at("EX-B5", "posterior", "M")
    assert ex_b3[1] == BACK.level_y("T8")
    assert math.isclose(BACK.mirror_axis - ex_b3[0], 1.5 * BACK_CUN)
    assert ex_b5 == (BACK.mirror_axis, BACK.level_y("L3"))


def test_forearm_points_are_their_cun_above_the_wrist_crease() -> None:
    """SI6 and TE5 are 1 and 2 B-cun (12 from the elbow to the wrist crease) above the
    dorsal wrist crease; SI6 on the ulnar side of the forearm's axis, TE5 on it."""
    elbow, wrist = _lm("posterior", "elbow_crease"), _lm("posterior", "wrist_crease")
    cun = distance(elbow, wrist) / 12
    si6, te5 = _at("SI6", "posterior"), _at("TE5", "posterior")

    def along(p: tuple[float, float]) -> float:
        u = (
            (wrist[0] - elbow[0]) / distance(elbow, wrist),
            (wrist[1] - elbow[1]) / distance(elbow, wrist),
        )
        return (wrist[0] - p[0]) * u[0] + (wrist[1] - p[1]) * u[1]

    assert math.isclose(along(te5), 2 * cun)
    assert math.isclose(along(si6), 1 * cun)
    # TE5 on the axis; SI6 toward the trunk (the ulnar side, the little finger's).
    cross = (wrist[0] - elbow[0]) * (te5[1] - elbow[1]) - (wrist[1] - elbow[1]) * (
        te5[0] - elbow[0]
    )
    assert abs(cross) / distance(elbow, wrist) < 1e-6
    assert si6[0] > te5[0]
