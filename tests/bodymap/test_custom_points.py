"""Custom points laid over the catalog: placement, hit-testing, search, refusals, and the one
symbol style the screen and paper draw them with."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from reportlab.graphics.shapes import Polygon, String
from reportlab.lib.colors import HexColor

from charting.bodymap import BodyMap, CatalogError, CustomPointData, load_bodymap
from charting.bodymap.style import MARK_KIND_ORDER, mark_style
from charting.reports.bodymap_drawing import bodymap_drawing, legend_drawing
from charting.services.marks import MarkRow, MarkSpec

CATALOG = load_bodymap()


def _near(code: str, side: str, dx: float, dy: float = 0.0) -> tuple[float, float]:
    pos = CATALOG.position(code, side, "posterior")  # type: ignore[arg-type]
    assert pos is not None
    return pos[0] + dx, pos[1] + dy


CALF = CustomPointData("C-CALF", "Calf knot point", "posterior", *_near("BL57", "R", 12, 8))
SACRUM = CustomPointData(
    "C-SAC", "Sacral point", "posterior", CATALOG.views["posterior"].mirror_axis, 800.0, "midline"
)
OLD = CustomPointData("C-OLD", "Old point", "posterior", *_near("BL40", "L", 0, 30), retired=True)


@pytest.fixture(scope="module")
def bm() -> BodyMap:
    """The catalog with three custom points (one retired)."""
    return CATALOG.with_custom_points([CALF, SACRUM, OLD])


def test_a_bilateral_custom_point_is_placed_on_both_sides_and_hit_there(bm: BodyMap) -> None:
    """Placed on the right, the point exists mirrored on the left; a click near either spot
    finds it with its side."""
    right = bm.position("C-CALF", "R", "posterior")
    left = bm.position("C-CALF", "L", "posterior")
    assert right == pytest.approx((CALF.x, CALF.y))
    assert left is not None and left[1] == pytest.approx(CALF.y) and left[0] < right[0]  # type: ignore[index]
    for side, (x, y) in (("R", right), ("L", left)):
        hit = bm.nearest_point("posterior", x + 2, y - 1)
        assert hit is not None and (hit.point.code, hit.side) == ("C-CALF", side)


def test_a_midline_custom_point_has_one_side(bm: BodyMap) -> None:
    """A point on the midline is charted once, side M."""
    assert bm.point("C-SAC").sides == ("M",)
    hit = bm.nearest_point("posterior", SACRUM.x, SACRUM.y)
    assert hit is not None and (hit.point.code, hit.side) == ("C-SAC", "M")


def test_custom_points_are_searched_by_code_and_name(bm: BodyMap) -> None:
    """Type-ahead finds a custom point by code or name; a near-miss code suggests it."""
    assert bm.search("c-calf")[0].code == "C-CALF"
    assert bm.search("calf knot")[0].code == "C-CALF"
    assert bm.nearest_matches("c-calv")[0].code == "C-CALF"


def test_a_retired_point_is_known_but_neither_drawn_hit_nor_searched(bm: BodyMap) -> None:
    """Its code still reads (for old marks); the map and search no longer offer it."""
    assert bm.point("C-OLD").retired and bm.is_custom("C-OLD")
    assert bm.search("c-old") == []
    assert all(p.code != "C-OLD" for p in bm.placed_points("posterior"))
    hit = bm.nearest_point("posterior", OLD.x, OLD.y)
    assert hit is None or hit.point.code != "C-OLD"


def test_the_catalog_itself_is_untouched(bm: BodyMap) -> None:
    """Laying custom points over a copy leaves the shared catalog without them."""
    assert not CATALOG.is_custom("C-CALF")
    with pytest.raises(KeyError):
        CATALOG.point("C-CALF")
    assert len(bm.points) == len(CATALOG.points) + 2
    assert "C-CALF" not in bm.catalog_codes and "BL57" in bm.catalog_codes


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (CustomPointData("BL57", "Mine", "posterior", CALF.x, CALF.y), "clashes"),
        (CustomPointData("C-X", "Mine", "posterior", 1.0, 1.0), "off the body"),
        (CustomPointData("C-X", "Mine", "dorsal", CALF.x, CALF.y), "unknown view"),
    ],
)
def test_bad_custom_points_are_refused(data: CustomPointData, words: str) -> None:
    """A catalog code, a spot off the body or an unknown view cannot be laid over the map."""
    with pytest.raises(CatalogError, match=words):
        CATALOG.with_custom_points([data])


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "contents", ()):
        yield from _walk(child)


def test_paper_draws_a_custom_mark_as_a_square_in_its_own_colour(bm: BodyMap) -> None:
    """A custom point's mark prints as a green square (not the acupoint's dot), labelled with
    its code; the legend explains the square as a custom point."""
    x, y = bm.position("C-CALF", "R", "posterior")  # type: ignore[misc]
    row = MarkRow(1, 1, MarkSpec("acupoint", "posterior", x, y, "R", "C-CALF"), custom=True)
    assert row.symbol == "custom" and mark_style("custom").shape == "square"
    d = bodymap_drawing(bm, "posterior", [row], width=300)
    green = HexColor(mark_style("custom").fill)
    squares = [
        n
        for n in _walk(d)
        if isinstance(n, Polygon) and len(n.points) == 8 and n.fillColor.hexval() == green.hexval()
    ]
    assert len(squares) == 1
    assert "C-CALF R" in [n.text for n in _walk(d) if isinstance(n, String)]
    legend = legend_drawing(300, ["acupoint", "custom"], False)
    assert "Custom point" in [n.text for n in _walk(legend) if isinstance(n, String)]
    assert "custom" in MARK_KIND_ORDER
