"""Tests of the Qt-free queries: nearest point, muscle and side at a position, look-up."""

from __future__ import annotations

from charting.bodymap import load_bodymap, side_label


def test_nearest_point_snaps_within_tolerance() -> None:
    """A click 0.3 cun from BL23 returns BL23 on the left side with its exact position."""
    bm = load_bodymap()
    x, y = bm.position("BL23", "L", "posterior") or (0, 0)
    upc = bm.units_per_cun("posterior", x, y)
    hit = bm.nearest_point("posterior", x, y + 0.3 * upc)
    assert hit is not None and hit.point.code == "BL23" and hit.side == "L"
    assert (hit.x, hit.y) == (x, y) and abs(hit.distance_cun - 0.3) < 1e-9


def test_nearest_point_returns_none_beyond_tolerance() -> None:
    """A click 0.7 cun from BL23 (away from other points) is not snapped at 0.5 cun."""
    bm = load_bodymap()
    x, y = bm.position("BL23", "L", "posterior") or (0, 0)
    upc = bm.units_per_cun("posterior", x, y)
    assert bm.nearest_point("posterior", x, y + 0.7 * upc) is None
    assert bm.nearest_point("posterior", 5, 5) is None


def test_tolerance_is_measured_in_local_cun() -> None:
    """The same cun offset snaps on the back and on the thigh although units per cun differ."""
    bm = load_bodymap()
    results = {}
    for code in ("BL23", "BL37"):
        x, y = bm.position(code, "L", "posterior") or (0, 0)
        upc = bm.units_per_cun("posterior", x, y)
        results[code] = upc
        near = bm.nearest_point("posterior", x, y + 0.45 * upc, tolerance_cun=0.5)
        far = bm.nearest_point("posterior", x, y + 0.55 * upc, tolerance_cun=0.5)
        assert near is not None and near.point.code == code
        assert far is None
    assert abs(results["BL23"] - results["BL37"]) > 0.5


def test_nearest_point_prefers_the_closer_point_and_midline_side() -> None:
    """A click on the midline at L2 returns GV4 with side "M"."""
    bm = load_bodymap()
    x, y = bm.position("GV4", "M", "posterior") or (0, 0)
    hit = bm.nearest_point("posterior", x + 1, y)
    assert hit is not None and hit.point.code == "GV4" and hit.side == "M"


def test_side_at_follows_the_viewer_convention() -> None:
    """On the posterior view the viewer's left is the patient's left; midline is "M"."""
    bm = load_bodymap()
    axis = bm.views["posterior"].mirror_axis
    assert bm.side_at("posterior", axis - 100, 700) == "L"
    assert bm.side_at("posterior", axis + 100, 700) == "R"
    assert bm.side_at("posterior", axis + 1, 700) == "M"
    assert bm.side_at("lateral_leg", 100, 500) == "L"
    assert bm.side_at("medial_leg", 700, 300) == "R"
    assert side_label("L") == "Patient's left"


def test_muscle_at_finds_quadratus_lumborum_beside_l3() -> None:
    """A click 3.5 cun lateral to L3 on either side is quadratus lumborum of that side."""
    bm = load_bodymap()
    view = bm.views["posterior"]
    y = view.level_y("L3")
    for side, sign in (("L", -1), ("R", 1)):
        hit = bm.muscle_at("posterior", view.mirror_axis + sign * 3.5 * 23, y)
        assert hit is not None and hit.muscle.id == "quadratus_lumborum" and hit.side == side


def test_muscle_at_finds_piriformis_in_the_buttock() -> None:
    """A click in the mid-buttock between sacrum and trochanter is piriformis."""
    bm = load_bodymap()
    view = bm.views["posterior"]
    hit = bm.muscle_at("posterior", view.mirror_axis - 3.8 * 23, view.level_y("S3+0.4"))
    assert hit is not None and hit.muscle.id == "piriformis" and hit.side == "L"
    names = [
        h.muscle.id
        for h in bm.muscles_at("posterior", view.mirror_axis - 3.8 * 23, view.level_y("S3+0.4"))
    ]
    assert "gluteus_maximus" in names


def test_muscle_at_outside_the_body_is_none() -> None:
    """No muscle is reported outside the outline."""
    assert load_bodymap().muscle_at("posterior", 5, 5) is None


def test_lookup_by_code_in_several_spellings() -> None:
    """Codes match regardless of case, spaces and hyphens."""
    bm = load_bodymap()
    for text in ("bl23", "BL 23", "BL-23", "Bl23"):
        found = bm.lookup(text)
        assert found is not None and found.code == "BL23"
    found = bm.lookup("ex-b7")
    assert found is not None and found.code == "EX-B7"


def test_lookup_by_pinyin_with_and_without_tones() -> None:
    """Pinyin matches with or without tone marks, case-insensitively."""
    bm = load_bodymap()
    for text in ("shenshu", "Shènshū", "SHENSHU"):
        found = bm.lookup(text)
        assert found is not None and found.code == "BL23"
    found = bm.lookup("weizhong")
    assert found is not None and found.code == "BL40"
    assert bm.lookup("zzzz") is None


def test_search_orders_exact_before_prefix_matches() -> None:
    """Type-ahead returns the exact code first, then prefix matches, up to the limit."""
    bm = load_bodymap()
    assert [p.code for p in bm.search("bl2", limit=5)] == ["BL20", "BL21", "BL22", "BL23", "BL24"]
    assert bm.search("bl23", limit=3)[0].code == "BL23"
    assert bm.search("yangg", limit=3)[0].code in {"BL48", "GV3"}
    jiaji = bm.search("jiaji", limit=20)
    assert len(jiaji) == 17 and jiaji[0].code == "EX-B2-T1"
    assert bm.search("yang", limit=50)
