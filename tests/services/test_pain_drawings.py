"""Pain drawings: stored as vector shapes, measured on known shapes, and kept with the visit."""

from __future__ import annotations

import pytest

from charting.bodymap import load_bodymap
from charting.bodymap import regions as body_regions
from charting.models.db import Database
from charting.services.errors import ValidationError
from charting.services.guard import SignedVisitError
from charting.services.pain_drawings import (
    add_area,
    drawing,
    remove_area,
    restore_area,
    stored_measures,
)
from charting.services.pain_measures import AreaShape, PainMeasures, measure
from charting.services.visit_record import sign_visit
from charting.services.visits import start_visit
from tests.factories import count_needles_out

BM = load_bodymap()


def fill(region: str, side: str, view: str = "posterior", who: str = "practitioner") -> AreaShape:
    """A named region filled with the tap tool."""
    return AreaShape(view, "region", who, region=region, side=side, quality="aching", intensity=6)


def stroke(
    points: list[tuple[float, float]], width: float = 30.0, view: str = "posterior"
) -> AreaShape:
    """A brush stroke along ``points``."""
    return AreaShape(
        view, "stroke", "practitioner", tuple(points), width, quality="burning", intensity=5
    )


def test_filling_one_region_measures_exactly_that_region() -> None:
    """Shading exactly the left thigh on the back view shades 100% of that region's area
    there, its area is the shaded area, and the furthest extent down that leg is the thigh."""
    shape = body_regions.region_shapes(BM, "posterior")[("thigh", "L")]
    m = measure(BM, [fill("thigh", "L")])
    assert m.shaded_area == pytest.approx(shape.area, rel=1e-3)
    assert m.furthest == {"L": "thigh", "R": "none"}
    surface = sum(body_regions.body_surface(BM, v).area for v in BM.views)
    assert m.extent_percent == pytest.approx(100 * shape.area / surface, abs=0.01)
    thigh_total = sum(
        zones[("thigh", "L")].area
        for v in BM.views
        if ("thigh", "L") in (zones := body_regions.region_shapes(BM, v))
    )
    assert m.regions["thigh:L"] == pytest.approx(100 * shape.area / thigh_total, abs=0.01)
    assert m.regions["thigh:R"] == 0 and m.regions["lower_leg:L"] == 0


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("low_back", "back_only"),
        ("buttock", "buttock"),
        ("thigh", "thigh"),
        ("lower_leg", "below_knee"),
        ("foot", "foot"),
    ],
)
def test_the_furthest_extent_is_the_lowest_region_reached(region: str, expected: str) -> None:
    """Each region filled on the right side gives its own furthest extent down the right leg."""
    m = measure(BM, [fill("low_back", "R"), fill(region, "R")])
    assert m.furthest["R"] == expected and m.furthest["L"] == "none"


def test_identical_drawings_overlap_fully_and_disjoint_ones_not_at_all() -> None:
    """The Jaccard index is 1 for the same drawing, 0 for drawings that share nothing."""
    a = [fill("buttock", "L")]
    assert measure(BM, a, previous=a).overlap_previous == 1.0
    assert measure(BM, [fill("foot", "R")], previous=a).overlap_previous == 0.0


def test_pain_moving_up_the_leg_is_centralised_and_down_it_peripheralised() -> None:
    """From calf to buttock is centralisation; from thigh to foot is peripheralisation; the
    first visit is compared as well as the previous one."""
    calf = [fill("low_back", "L"), fill("lower_leg", "L")]
    buttock = [fill("low_back", "L"), fill("buttock", "L")]
    foot = [fill("low_back", "L"), fill("foot", "L")]
    assert measure(BM, buttock, previous=calf, first=calf).since_previous == "centralised"
    assert measure(BM, foot, previous=buttock, first=calf).since_previous == "peripheralised"
    assert measure(BM, foot, previous=buttock, first=calf).since_first == "peripheralised"
    assert measure(BM, calf, previous=calf).since_previous == "unchanged"


def test_an_eraser_takes_away_only_what_it_passes_over() -> None:
    """Erasing across a filled thigh leaves the thigh shaded less, never the other leg."""
    full = measure(BM, [fill("thigh", "L"), fill("thigh", "R")])
    zone = body_regions.region_shapes(BM, "posterior")[("thigh", "L")]
    x0, y0, _x1, y1 = zone.bounds
    eraser = AreaShape(
        "posterior",
        "erase",
        "practitioner",
        ((x0 - 10, (y0 + y1) / 2), (x0 + 40, (y0 + y1) / 2)),
        60.0,
    )
    erased = measure(BM, [fill("thigh", "L"), fill("thigh", "R"), eraser])
    assert erased.regions["thigh:L"] < full.regions["thigh:L"]
    assert erased.regions["thigh:R"] == full.regions["thigh:R"]


def test_shading_the_lateral_lower_leg_front_hints_l5() -> None:
    """Shading that lies in the anterolateral leg (the L5 zone of the lateral view) is
    hinted as following the L5 dermatome, worded as a hint."""
    l5 = body_regions.dermatome_shapes(BM, "lateral_leg")[("L5", "L")]
    shin = l5.intersection(body_regions.region_shapes(BM, "lateral_leg")[("lower_leg", "L")])
    inside = shin.representative_point()
    _minx, miny, _maxx, maxy = shin.bounds
    line = [(inside.x - 8, miny + 40), (inside.x - 8, maxy - 60)]
    m = measure(BM, [stroke(line, 16.0, "lateral_leg")])
    assert any("L5" in hint and "hint" in hint for hint in m.dermatome_hints)
    assert not measure(BM, [fill("thigh", "L")]).dermatome_hints


def test_measures_round_trip_through_their_stored_form() -> None:
    """What is kept with the visit reads back the same."""
    m = measure(BM, [fill("buttock", "R"), fill("lower_leg", "R")], previous=[fill("buttock", "R")])
    assert PainMeasures.from_json(m.to_json()) == m


@pytest.fixture
def visit_id(database: Database, make_patient, practitioner_id: int) -> int:  # type: ignore[no-untyped-def]
    """A draft visit."""
    with database.write() as session:
        vid, _ = start_visit(session, make_patient(), practitioner_id)
    return vid


def test_a_drawing_is_stored_as_shapes_measured_on_save_and_undone(
    database: Database, visit_id: int
) -> None:
    """A stroke and a fill are stored as vector shapes; the measures are kept with the visit
    on each save; removing the stroke and putting it back restores it exactly."""
    line = [(350.0, 1000.0), (352.0, 1100.0), (355.0, 1200.0)]
    with database.write() as session:
        sid, _ = add_area(session, BM, visit_id, stroke(line))
        add_area(session, BM, visit_id, fill("low_back", "L"))
    with database.read() as session:
        areas = drawing(session, visit_id)
        kept = stored_measures(session, [visit_id])[visit_id]
    assert [a.shape.kind for a in areas] == ["stroke", "region"]
    assert areas[0].shape.points == tuple(line) and areas[0].shape.width == 30.0
    assert kept.furthest["L"] == "thigh" and kept.extent_percent > 0
    with database.write() as session:
        snapshot, _ = remove_area(session, BM, sid)
    with database.read() as session:
        assert stored_measures(session, [visit_id])[visit_id].furthest["L"] == "back_only"
    with database.write() as session:
        restore_area(session, BM, snapshot)
    with database.read() as session:
        assert drawing(session, visit_id)[0].shape == areas[0].shape


def test_bad_strokes_are_refused_with_the_reason(database: Database, visit_id: int) -> None:
    """A stroke off the view, a brush too wide or a pain with no quality is refused."""
    bad = [
        (stroke([(5000.0, 10.0)]), "off the view"),
        (stroke([(300.0, 900.0)], width=900.0), "units wide"),
        (AreaShape("posterior", "region", "practitioner", region="thigh", side="L"), "feels like"),
        (
            AreaShape(
                "posterior",
                "region",
                "practitioner",
                region="wing",
                side="L",
                quality="aching",
                intensity=3,
            ),
            "not on this view",
        ),
    ]
    for shape, words in bad:
        with pytest.raises(ValidationError, match=words), database.write() as session:
            add_area(session, BM, visit_id, shape)


def test_a_signed_visits_drawing_is_closed_and_signed(
    database: Database, visit_id: int, practitioner_id: int
) -> None:
    """Once signed, nothing is added to the drawing, and the signature covers it: a drawing
    changed behind Charting's back shows as altered."""
    from charting.services.signatures import signature_problem

    with database.write() as session:
        add_area(session, BM, visit_id, fill("buttock", "R"))
        count_needles_out(session, visit_id)
        sign_visit(session, visit_id, practitioner_id)
    with pytest.raises(SignedVisitError), database.write() as session:
        add_area(session, BM, visit_id, fill("thigh", "R"))
    with database.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE pain_area SET intensity = 2 WHERE visit_id = {visit_id}")
    with database.read() as session:
        assert signature_problem(session, visit_id) is not None
