"""Tests of the acupoint and trigger-point catalogs and their placement on the views."""

from __future__ import annotations

import json
from typing import Any

import pytest

from charting.bodymap import ALLOWED_FLAGS, CatalogError, load_bodymap, resource_path
from charting.bodymap.catalog import (
    MUSCLE_FIELDS,
    POINT_FIELDS,
    validate_muscles,
    validate_points,
)
from charting.bodymap.geometry import is_simple_polygon, polygon_area

REQUIRED_CODES = (
    [f"BL{n}" for n in (*range(11, 61), 62, 64, 65, 67)]
    + [f"GB{n}" for n in (21, *range(29, 42))]
    + [f"GV{n}" for n in range(2, 15)]
    + ["KI3", "SP6", "ST36", "LI4", "SI3", "EX-B1", "EX-B4", "EX-B6", "EX-B7", "EX-B8", "EX-B9"]
    + [f"EX-B2-T{n}" for n in range(1, 13)]
    + [f"EX-B2-L{n}" for n in range(1, 6)]
)


def _json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(resource_path("bodymap", name).read_text("utf-8"))
    return data


def test_catalog_json_validates() -> None:
    """Both catalogs pass validation and carry every required field."""
    points, muscles = _json("acupoints.json"), _json("trigger_points.json")
    validate_points(points)
    validate_muscles(muscles)
    assert all(set(POINT_FIELDS) <= set(p) for p in points["points"])
    assert all(set(MUSCLE_FIELDS) <= set(m) for m in muscles["muscles"])


def test_validation_rejects_missing_fields_and_bad_flags() -> None:
    """Validation fails on a missing field, an unknown flag or a duplicate code."""
    good = _json("acupoints.json")["points"][0]
    with pytest.raises(CatalogError):
        validate_points({"points": [{k: v for k, v in good.items() if k != "pinyin"}]})
    with pytest.raises(CatalogError):
        validate_points({"points": [{**good, "flags": ["DANGER"]}]})
    with pytest.raises(CatalogError):
        validate_points({"points": [good, good]})


def test_required_points_are_present() -> None:
    """Every point of the reference list (WHO 2008 back-and-leg points) is in the catalog."""
    codes = {p.code for p in load_bodymap().points}
    assert set(REQUIRED_CODES) - {"BL61", "BL63", "BL66"} <= codes
    assert {"Huanzhong", "EX-UE7-1", "EX-UE7-2"} <= codes


def test_codes_are_unique() -> None:
    """No two catalog points share a code."""
    codes = [p.code for p in load_bodymap().points]
    assert len(codes) == len(set(codes))


def test_flags_are_from_the_allowed_set() -> None:
    """Every caution flag is one of the domain flags."""
    for point in load_bodymap().points:
        assert point.flags <= ALLOWED_FLAGS, point.code


def test_key_flags_are_set() -> None:
    """Spot-check flags: lung, kidney, cord, pregnancy, nerve, vessel, sacral, controversial."""
    bm = load_bodymap()
    assert "LUNG" in bm.point("GB21").flags and "PREG" in bm.point("GB21").flags
    assert "KIDNEY" in bm.point("BL23").flags
    assert "CORD" in bm.point("GV4").flags and "CORD" not in bm.point("GV3").flags
    assert {"VESSEL", "NERVE"} <= bm.point("BL40").flags
    assert "SACRAL" in bm.point("BL32").flags
    assert {"CTRL", "NERVE"} <= bm.point("GB30").flags


def test_every_point_is_inside_the_outline_on_each_of_its_views() -> None:
    """Each placed point (both sides, every view) lies inside the body outline."""
    bm = load_bodymap()
    for view_id in bm.views:
        for placed in bm.placed_points(view_id):
            assert bm.inside_outline(view_id, placed.x, placed.y), placed


def test_variants_are_placed_and_inside() -> None:
    """GB30 and EX-B7 keep their variants, each placed inside the outline."""
    bm = load_bodymap()
    assert bm.point("GB30").variants and len(bm.point("EX-B7").variants) == 2
    for code in ("GB30", "EX-B7", "GB31"):
        for variant in bm.point(code).variants:
            for view_id in variant.locations:
                pos = bm.position(code, "L", view_id, variant.name)
                assert pos is not None and bm.inside_outline(view_id, *pos)


def test_bilateral_points_mirror_and_midline_points_do_not() -> None:
    """Left and right positions mirror about the axis; midline points have one position."""
    bm = load_bodymap()
    view = bm.views["posterior"]
    left, right = bm.position("BL23", "L", "posterior"), bm.position("BL23", "R", "posterior")
    assert left and right and left[0] < view.mirror_axis < right[0] and left[1] == right[1]
    assert bm.position("GV4", "M", "posterior") == (view.mirror_axis, left[1])
    assert bm.position("BL23", "M", "posterior") is None


def test_views_for_lists_the_views_of_a_point() -> None:
    """views_for gives the drawing views of a point, empty for an unknown code."""
    bm = load_bodymap()
    assert bm.views_for("BL60") == ("posterior", "lateral_leg")
    assert bm.views_for("KI3") == ("medial_leg",)
    assert bm.views_for("ST36") == ("anterior", "lateral_leg")
    assert bm.views_for("XX1") == ()


def test_there_are_at_least_14_muscles_with_trigger_points_and_zones() -> None:
    """The trigger-point catalog covers the 14 muscles with sites and referral zones."""
    muscles = load_bodymap().muscles
    assert len(muscles) >= 14
    for muscle in muscles:
        assert muscle.trigger_points and muscle.referral_zones and muscle.source


def _all_polygons() -> list[tuple[str, str, tuple[tuple[float, float], ...]]]:
    bm = load_bodymap()
    out = []
    for muscle in bm.muscles:
        for view_id in muscle.views:
            out += [(muscle.id, view_id, p) for p in bm.muscle_regions(muscle.id, view_id, "L")]
        for zone in muscle.referral_zones:
            for view_id in zone.views:
                for side in ("L", "R"):
                    polys = bm.referral_polygons(muscle.id, zone.id, view_id, side)
                    out += [(zone.id, view_id, p) for p in polys]
    return out


def test_muscle_regions_and_referral_zones_are_valid_and_inside() -> None:
    """Every region and zone polygon is simple, non-empty and at least 90% inside."""
    bm = load_bodymap()
    for name, view_id, poly in _all_polygons():
        assert len(poly) >= 3 and polygon_area(poly) > 50, name
        assert is_simple_polygon(poly), name
        inside = sum(bm.inside_outline(view_id, x, y) for x, y in poly)
        assert inside / len(poly) >= 0.9, name


def test_trigger_points_are_inside_their_muscle_view() -> None:
    """Typical trigger-point sites lie inside the outline of their view on both sides."""
    bm = load_bodymap()
    for muscle in bm.muscles:
        for tp in muscle.trigger_points:
            for side in ("L", "R"):
                x, y = bm.trigger_point_position(muscle.id, tp.id, side)
                assert bm.inside_outline(tp.view, x, y), tp.id
