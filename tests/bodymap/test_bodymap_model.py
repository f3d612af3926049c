"""Tests of the proportional body model: landmark rows, segment scales and outlines."""

from __future__ import annotations

import math

import pytest

from charting.bodymap import VIEW_IDS, build_views, load_bodymap
from charting.bodymap.geometry import PolygonTest, distance, is_simple_polygon, point_in_polygon
from charting.bodymap.model import BACK_UPC


def _pos(code: str, side: str = "L", view: str = "posterior") -> tuple[float, float]:
    pos = load_bodymap().position(code, side, view)  # type: ignore[arg-type]
    assert pos is not None, code
    return pos


def test_l2_row_shares_level_at_0_1_5_and_3_cun() -> None:
    """BL23, GV4 and BL52 share the L2 level at 0, 1.5 and 3 cun from the midline."""
    view = build_views()["posterior"]
    gv4, bl23, bl52 = _pos("GV4", "M"), _pos("BL23"), _pos("BL52")
    assert gv4[1] == bl23[1] == bl52[1] == view.level_y("L2")
    assert gv4[0] == view.mirror_axis
    assert math.isclose(view.mirror_axis - bl23[0], 1.5 * BACK_UPC)
    assert math.isclose(view.mirror_axis - bl52[0], 3.0 * BACK_UPC)


def test_bl25_and_gv3_sit_on_the_iliac_crest_line() -> None:
    """BL25 and GV3 lie on the line joining the iliac crest tops (L4)."""
    view = build_views()["posterior"]
    crest_y = view.landmarks["iliac_crest_top"].point[1]
    assert _pos("BL25")[1] == _pos("GV3", "M")[1] == crest_y == view.level_y("L4")


def test_bl40_is_the_midpoint_of_the_popliteal_crease() -> None:
    """BL40 is the popliteal-crease midpoint landmark."""
    view = build_views()["posterior"]
    assert distance(_pos("BL40"), view.landmarks["popliteal_crease_mid"].point) < 1e-9


def test_bl36_is_on_the_gluteal_fold() -> None:
    """BL36 is the midpoint of the gluteal fold."""
    view = build_views()["posterior"]
    assert distance(_pos("BL36"), view.landmarks["gluteal_fold_mid"].point) < 1e-9
    assert _pos("BL36")[1] == view.level_y("gluteal_fold")


def test_bl37_is_6_thigh_cun_below_bl36() -> None:
    """BL37 is 6 posterior-thigh cun (14 cun fold to crease) below BL36."""
    frame = build_views()["posterior"].frames["thigh_posterior"]
    upc = distance(_pos("BL36"), _pos("BL40")) / 14
    assert math.isclose(frame.units_per_cun, upc)
    assert math.isclose(distance(_pos("BL36"), _pos("BL37")), 6 * upc)


def test_segments_are_scaled_between_their_own_landmarks() -> None:
    """Each segment frame has its WHO length in cun and its own scale."""
    views = build_views()
    assert views["posterior"].frames["leg_posterior"].length_cun == 16
    assert views["lateral_leg"].frames["thigh_lateral"].length_cun == 19
    assert views["medial_leg"].frames["leg_medial"].length_cun == 15
    scales = {views["posterior"].units_per_cun(*_pos(c)) for c in ("BL23", "BL37", "BL57")}
    assert len(scales) == 3


def test_sp6_is_3_cun_above_the_medial_malleolus() -> None:
    """SP6 lies 3 medial-leg cun above the medial malleolus, behind the tibial border."""
    view = build_views()["medial_leg"]
    malleolus = view.landmarks["medial_malleolus"].point
    sp6 = _pos("SP6", view="medial_leg")
    upc = view.frames["leg_medial"].units_per_cun
    assert math.isclose(malleolus[1] - sp6[1], 3 * upc, rel_tol=0.02)


@pytest.mark.parametrize("view_id", VIEW_IDS)
def test_outlines_are_simple_closed_polygons(view_id: str) -> None:
    """Each view's body outline is a dense, non-self-intersecting polygon."""
    for outline in build_views()[view_id].outline_polygons:
        assert len(outline) > 200
        assert is_simple_polygon(outline)


def test_leg_views_have_two_mirrored_panels() -> None:
    """The leg views draw the left leg on the viewer's left and its mirror on the right."""
    for view_id in ("lateral_leg", "medial_leg"):
        view = build_views()[view_id]
        left, right = view.outline_polygons
        assert max(x for x, _ in left) < view.mirror_axis < min(x for x, _ in right)
        labels = {s.text for s in view.shapes if s.role == "panel_label"}
        assert labels == {"Left leg", "Right leg"}


def test_every_view_has_outline_and_guides() -> None:
    """Views expose outline, guide and label shapes with the posterior level labels."""
    posterior = build_views()["posterior"]
    roles = {s.role for s in posterior.shapes}
    assert {"outline", "guide", "guide_label", "panel_label"} <= roles
    texts = {s.text for s in posterior.shapes if s.kind == "text"}
    assert {"C7", "T1", "T12", "L1", "L5", "Iliac crest (L4)", "Gluteal fold"} <= texts
    assert point_in_polygon(posterior.mirror_axis, 700, posterior.outline_polygons[0])


def test_banded_outline_test_agrees_with_the_plain_one_everywhere() -> None:
    """Whether a click is on the body is answered from the outline's edge bands; on a grid
    over and around every view (edges, vertices and far outside included) the answer is
    the same as testing every edge."""
    for view in build_views().values():
        for polygon in view.outline_polygons:
            banded = PolygonTest(polygon)
            points = list(polygon[::7])  # on the outline itself
            points += [
                (x * view.width / 60, y * view.height / 120)
                for x in range(-3, 64)
                for y in range(-3, 124)
            ]
            for x, y in points:
                assert banded.contains(x, y) == point_in_polygon(x, y, polygon), (view.id, x, y)
