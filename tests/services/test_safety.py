"""Safety rules: each fires on its situation, stays quiet otherwise, never advises on medicine."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from charting.bodymap import CustomPointData, load_bodymap
from charting.services.marks import MarkRow, MarkSpec
from charting.services.safety import (
    RULES,
    CuppingInfo,
    EAPairInfo,
    PatientSafety,
    SafetyContext,
    SafetyWarning,
    evaluate,
    gestational_weeks,
    rule,
    trimester,
)

CATALOG = load_bodymap()


def _near(code: str, side: str, dx: float, dy: float = 0.0) -> tuple[float, float]:
    """A spot ``dx``, ``dy`` model units from a catalog point (posterior view)."""
    pos = CATALOG.position(code, side, "posterior")  # type: ignore[arg-type]
    assert pos is not None
    return pos[0] + dx, pos[1] + dy


#: The clinic's own points: one over the sacrum, one over the scapula (the lung), one on the
#: calf (no region rule), placed a little away from the catalog points they are near.
CUSTOM = (
    CustomPointData(
        "C-SACRUM",
        "Sacral knot point",
        "posterior",
        *_near("BL32", "L", -6, 4),
        cautions="Press before needling.",
        safe_depth_mm=20.0,
    ),
    CustomPointData("C-SCAP", "Scapular point", "posterior", *_near("BL42", "L", -14)),
    CustomPointData("C-CALF", "Calf point", "posterior", *_near("BL57", "L", -12, 10)),
)
BM = CATALOG.with_custom_points(CUSTOM)
TODAY = date(2025, 3, 3)
NONE = PatientSafety()
PREGNANT = PatientSafety(pregnant=True)
ANTICOAGULATED = PatientSafety(anticoagulant=True)


def point(mid: int, code: str, side: str, technique: str = "manual", view: str = "") -> MarkRow:
    """An acupoint mark exactly at its catalog position (first view the point is drawn on)."""
    view = view or BM.views_for(code)[0]
    pos = BM.position(code, side, view)  # type: ignore[arg-type]
    assert pos is not None
    spec = MarkSpec("acupoint", view, pos[0], pos[1], side, point_code=code, technique=technique)
    return MarkRow(mid, 1, spec, BM.point(code).flags, BM.point(code).custom)


def at(mid: int, kind: str, code: str, side: str, technique: str) -> MarkRow:
    """A non-acupoint mark (ashi, trigger point, cupping) placed where ``code`` is."""
    view = BM.views_for(code)[0]
    pos = BM.position(code, side, view)  # type: ignore[arg-type]
    assert pos is not None
    muscle = "iliocostalis_thoracis" if kind == "trigger_point" else None
    spec = MarkSpec(kind, view, pos[0], pos[1], side, muscle_id=muscle, technique=technique)
    return MarkRow(mid, 1, spec)


def deep(mid: int, code: str, side: str, depth_mm: float) -> MarkRow:
    """An acupoint mark needled to a recorded depth."""
    row = point(mid, code, side)
    return MarkRow(row.id, 1, replace(row.spec, depth_mm=depth_mm), row.flags)


def _with_skin(row: MarkRow, skin: str) -> MarkRow:
    """The same mark over skin noted as ``skin``."""
    return MarkRow(row.id, 1, replace(row.spec, skin=skin), row.flags)


def cup(mid: int, code: str = "BL25", side: str = "L") -> MarkRow:
    """A cupping mark over a point's position."""
    return at(mid, "cupping", code, side, "cupping")


def pair(a: MarkRow, b: MarkRow, pair_id: int | None = 1) -> EAPairInfo:
    """An EA lead between two marks."""
    return EAPairInfo(pair_id, a, b, frequency_hz=2.0, intensity_ma=1.0, minutes=20.0)


def ctx(patient: PatientSafety = NONE, *marks: MarkRow, **kwargs: object) -> SafetyContext:
    """A visit on TODAY with these marks (EA pairs, cupping and position as keywords)."""
    return SafetyContext(patient, marks, today=TODAY, **kwargs)  # type: ignore[arg-type]


def run(rule_id: str, context: SafetyContext) -> list[SafetyWarning]:
    """The warnings of one rule alone."""
    return rule(rule_id).run(context, BM)


def only(rule_id: str, context: SafetyContext) -> SafetyWarning:
    """The single warning one rule raises."""
    (warning,) = run(rule_id, context)
    return warning


def everything_on() -> SafetyContext:
    """A visit where every rule has something to say."""
    patient = PatientSafety(
        pregnant=True,
        pregnancy_due_date=TODAY + timedelta(days=120),
        implanted_device="pacemaker",
        bleeding_disorder=True,
        anticoagulant=True,
        epilepsy=True,
        diabetes=True,
        metal_allergy=True,
        needle_fainting=True,
        peripheral_neuropathy=True,
    )
    bl13_l, bl13_r = point(4, "BL13", "L", "electro"), point(5, "BL13", "R", "electro")
    marks = (
        point(1, "SP6", "L"),
        point(2, "LI4", "R"),
        point(3, "BL32", "L"),
        bl13_l,
        bl13_r,
        point(6, "BL23", "L"),
        point(7, "GV4", "M"),
        point(8, "BL40", "R"),
        point(9, "GB30", "L"),
        point(10, "KI3", "L"),
        cup(11, "BL25", "L"),
        cup(12, "BL25", "R"),
        deep(13, "BL17", "L", 30),
        _with_skin(point(14, "BL22", "L"), "broken"),
        _with_skin(point(15, "BL22", "R"), "tattoo"),
        point(16, "C-CALF", "R"),
    )
    return ctx(
        patient,
        *marks,
        ea_pairs=(pair(bl13_l, bl13_r),),
        cupping=(CuppingInfo(11, "dry"), CuppingInfo(12, "wet")),
        bloodletting=True,
        consented=frozenset(),
        position="seated",
    )


# --- device + electroacupuncture -------------------------------------------------------------


def test_device_ea_blocks_electroacupuncture_with_a_pacemaker() -> None:
    """A pacemaker and an EA pair BL23 L-BL25 L give one block naming both ends."""
    a, b = point(1, "BL23", "L"), point(2, "BL25", "L")
    w = only(
        "device-ea", ctx(PatientSafety(implanted_device="pacemaker"), a, b, ea_pairs=[pair(a, b)])
    )
    assert (w.key, w.severity, w.mark_ids) == ("device-ea", "block", (1, 2))
    assert "BL23 L" in w.message and "BL25 L" in w.message
    assert "pacemaker" in w.message and "reason" in w.message
    assert w.needs_reason


def test_device_ea_fires_on_an_electro_mark_without_a_pair() -> None:
    """A mark with the electro technique counts as electroacupuncture for any device."""
    w = only(
        "device-ea",
        ctx(PatientSafety(implanted_device="stimulator"), point(3, "GB34", "R", "electro")),
    )
    assert w.mark_ids == (3,) and "GB34 R" in w.message and "stimulator" in w.message


def test_device_ea_quiet_with_manual_needling_only() -> None:
    """A device patient with manual needling only raises no EA block."""
    context = ctx(
        PatientSafety(implanted_device="icd"), point(1, "BL23", "L"), point(2, "BL25", "R")
    )
    assert run("device-ea", context) == []


def test_device_ea_quiet_without_a_device() -> None:
    """EA for a patient without an implanted device raises no EA block."""
    a, b = point(1, "BL23", "L"), point(2, "BL25", "L")
    assert run("device-ea", ctx(NONE, a, b, ea_pairs=[pair(a, b)])) == []


# --- EA across the chest -----------------------------------------------------------------------


def test_ea_chest_fires_on_a_left_right_thoracic_pair() -> None:
    """BL15 L to BL15 R joins left and right at chest level: a warning keyed by its marks."""
    a, b = point(7, "BL15", "L", "electro"), point(3, "BL15", "R", "electro")
    w = only("ea-chest", ctx(NONE, a, b, ea_pairs=[pair(a, b)]))
    assert (w.key, w.severity, w.mark_ids) == ("ea-chest:3-7", "warning", (3, 7))
    assert "BL15 L" in w.message and "BL15 R" in w.message


def test_ea_chest_fires_at_the_t12_level() -> None:
    """A left-right pair of Jiaji points at T12 still counts as thoracic."""
    a, b = point(1, "EX-B2-T12", "L", "electro"), point(2, "EX-B2-T12", "R", "electro")
    assert only("ea-chest", ctx(NONE, a, b, ea_pairs=[pair(a, b)])).key == "ea-chest:1-2"


def test_ea_chest_fires_on_a_diagonal_pair_with_one_thoracic_end() -> None:
    """BL17 L to BL25 R crosses the midline with one end above T12."""
    a, b = point(1, "BL17", "L", "electro"), point(2, "BL25", "R", "electro")
    assert only("ea-chest", ctx(NONE, a, b, ea_pairs=[pair(a, b)])).mark_ids == (1, 2)


def test_ea_chest_fires_on_an_arm_to_arm_pair() -> None:
    """LI4 L to LI4 R sends current from hand to hand, across the chest."""
    a, b = point(1, "LI4", "L", "electro"), point(2, "LI4", "R", "electro")
    w = only("ea-chest", ctx(NONE, a, b, ea_pairs=[pair(a, b)]))
    assert "LI4 L" in w.message and "LI4 R" in w.message


def test_ea_chest_quiet_for_lumbar_pairs_across_the_spine() -> None:
    """Left-right pairs below T12 (BL23, BL25, Jiaji L4) do not fire."""
    pairs = []
    marks = []
    for i, code in enumerate(("BL23", "BL25", "EX-B2-L4", "EX-B2-L1")):
        a, b = point(10 * i + 1, code, "L", "electro"), point(10 * i + 2, code, "R", "electro")
        marks += [a, b]
        pairs.append(pair(a, b, i))
    assert run("ea-chest", ctx(NONE, *marks, ea_pairs=pairs)) == []


def test_ea_chest_quiet_for_same_side_and_midline_thoracic_pairs() -> None:
    """BL15 L to BL17 L and GV9 to BL17 L do not cross the midline."""
    a, b, m = (
        point(1, "BL15", "L", "electro"),
        point(2, "BL17", "L", "electro"),
        point(3, "GV9", "M"),
    )
    context = ctx(NONE, a, b, m, ea_pairs=[pair(a, b, 1), pair(m, b, 2)])
    assert run("ea-chest", context) == []


def test_ea_chest_quiet_for_leg_pairs_on_different_views() -> None:
    """GB34 L (lateral view) to KI3 R (medial view) is a leg pair, not a chest path."""
    a, b = point(1, "GB34", "L", "electro"), point(2, "KI3", "R", "electro")
    assert run("ea-chest", ctx(NONE, a, b, ea_pairs=[pair(a, b)])) == []


# --- epilepsy ----------------------------------------------------------------------------------


def test_epilepsy_ea_warns_on_electroacupuncture() -> None:
    """Epilepsy and an EA pair give one warning naming the ends."""
    a, b = point(1, "GB30", "L", "electro"), point(2, "GB34", "L", "electro")
    w = only("epilepsy-ea", ctx(PatientSafety(epilepsy=True), a, b, ea_pairs=[pair(a, b)]))
    assert (w.key, w.severity, w.mark_ids) == ("epilepsy-ea", "warning", (1, 2))
    assert "GB30 L" in w.message and "GB34 L" in w.message


def test_epilepsy_ea_quiet_with_manual_needling() -> None:
    """Epilepsy with manual needling only raises nothing from the EA rule."""
    assert run("epilepsy-ea", ctx(PatientSafety(epilepsy=True), point(1, "GB30", "L"))) == []


# --- pregnancy -----------------------------------------------------------------------------------


def test_preg_point_warns_once_per_point_and_side() -> None:
    """SP6 L and LI4 R in pregnancy give one warning each, keyed by code and side."""
    warnings = run("preg-point", ctx(PREGNANT, point(1, "SP6", "L"), point(2, "LI4", "R")))
    by_key = {w.key: w for w in warnings}
    assert set(by_key) == {"preg-point:SP6:L", "preg-point:LI4:R"}
    sp6 = by_key["preg-point:SP6:L"]
    assert sp6.severity == "warning" and sp6.mark_ids == (1,)
    assert "SP6 L" in sp6.message and "traditionally avoided in pregnancy" in sp6.message


def test_preg_point_quiet_without_preg_points_or_pregnancy() -> None:
    """A pregnant patient with BL23/BL25, or SP6 for a patient who is not pregnant: nothing."""
    assert run("preg-point", ctx(PREGNANT, point(1, "BL23", "L"), point(2, "BL25", "R"))) == []
    assert run("preg-point", ctx(NONE, point(1, "SP6", "L"))) == []


def test_preg_region_first_trimester_from_the_due_date() -> None:
    """BL32 at about 5 weeks is an advisory citing first-trimester guidance."""
    patient = replace(PREGNANT, pregnancy_due_date=TODAY + timedelta(days=245))
    w = only("preg-region", ctx(patient, point(1, "BL32", "L"), point(2, "GV3", "M")))
    assert (w.key, w.severity, w.mark_ids) == ("preg-region", "advisory", (1, 2))
    assert "BL32 L" in w.message and "GV3" in w.message
    assert "first trimester" in w.message and "5 weeks" in w.message


def test_preg_region_after_the_third_month() -> None:
    """At about 24 weeks the advisory cites the after-the-third-month guidance."""
    patient = replace(PREGNANT, pregnancy_due_date=TODAY + timedelta(days=112))
    w = only("preg-region", ctx(patient, point(1, "BL27", "R")))
    assert "second trimester" in w.message and "after the third month" in w.message


def test_preg_region_without_a_due_date_gives_both_stages() -> None:
    """With no due date the advisory asks for it and cites both stages."""
    w = only("preg-region", ctx(PREGNANT, point(1, "BL54", "L")))
    assert "due date" in w.message and "first trimester" in w.message
    assert "after the third month" in w.message


def test_preg_region_quiet_without_lumbosacral_points_or_pregnancy() -> None:
    """Upper-lumbar points in pregnancy, or BL32 when not pregnant: nothing."""
    assert run("preg-region", ctx(PREGNANT, point(1, "BL23", "L"), point(2, "GB34", "L"))) == []
    assert run("preg-region", ctx(NONE, point(1, "BL32", "L"))) == []


def test_preg_ea_warns_on_electroacupuncture_in_pregnancy() -> None:
    """A pregnant patient with an electro mark gets a warning naming it."""
    w = only("preg-ea", ctx(PREGNANT, point(4, "GB34", "L", "electro")))
    assert (w.key, w.severity, w.mark_ids) == ("preg-ea", "warning", (4,))
    assert "GB34 L" in w.message


def test_preg_ea_quiet_with_manual_needling() -> None:
    """Manual needling in pregnancy raises nothing from the EA rule."""
    assert run("preg-ea", ctx(PREGNANT, point(4, "GB34", "L"))) == []


def test_preg_cupping_advises_on_cupping_in_pregnancy() -> None:
    """Cupping in pregnancy is an advisory naming the cupping site."""
    w = only("preg-cupping", ctx(PREGNANT, cup(5)))
    assert (w.key, w.severity, w.mark_ids) == ("preg-cupping", "advisory", (5,))
    assert "Cup L" in w.message and "abdomen" in w.message


def test_preg_cupping_quiet_without_cupping() -> None:
    """Needling only in pregnancy raises nothing from the cupping rule."""
    assert run("preg-cupping", ctx(PREGNANT, point(1, "BL23", "L"))) == []


# --- bleeding ------------------------------------------------------------------------------------


def test_bleeding_cupping_warns_on_dry_cupping_with_an_anticoagulant() -> None:
    """Dry cupping for an anticoagulated patient is a warning naming the site."""
    context = ctx(ANTICOAGULATED, cup(5), cupping=[CuppingInfo(5, "dry")])
    w = only("bleeding-cupping", context)
    assert (w.key, w.severity, w.mark_ids) == ("bleeding-cupping", "warning", (5,))
    assert "Cup L" in w.message and "anticoagulant" in w.message
    assert "prescriber" in w.message


def test_bleeding_cupping_counts_cupping_not_tied_to_a_mark() -> None:
    """Cupping recorded without a mark still warns, with nothing to highlight."""
    context = ctx(PatientSafety(bleeding_disorder=True), cupping=[CuppingInfo(None, "fire")])
    w = only("bleeding-cupping", context)
    assert w.mark_ids == () and "bleeding disorder" in w.message


def test_bleeding_cupping_quiet_without_cupping_or_bleeding_risk() -> None:
    """An anticoagulated patient without cupping, or cupping without a bleeding risk: nothing."""
    assert run("bleeding-cupping", ctx(ANTICOAGULATED, point(1, "BL23", "L"))) == []
    assert run("bleeding-cupping", ctx(NONE, cup(5))) == []


def test_bleeding_wet_cupping_blocks() -> None:
    """Wet cupping for an anticoagulated patient is a block naming the wet site only."""
    context = ctx(
        ANTICOAGULATED,
        cup(5, "BL25", "L"),
        cup(6, "BL25", "R"),
        cupping=[CuppingInfo(5, "dry"), CuppingInfo(6, "wet")],
    )
    w = only("bleeding-wet-cupping", context)
    assert (w.key, w.severity, w.mark_ids) == ("bleeding-wet-cupping", "block", (6,))
    assert "Cup R" in w.message and "Cup L" not in w.message and "reason" in w.message
    assert only("bleeding-cupping", context).mark_ids == (5,)


def test_bleeding_wet_cupping_quiet_for_dry_cupping() -> None:
    """Dry cupping with a bleeding risk is not blocked; wet cupping without one is not either."""
    assert run("bleeding-wet-cupping", ctx(ANTICOAGULATED, cup(5), cupping=[CuppingInfo(5)])) == []
    assert run("bleeding-wet-cupping", ctx(NONE, cup(5), cupping=[CuppingInfo(5, "wet")])) == []


def test_bleeding_bloodletting_blocks_and_names_the_vessel_point() -> None:
    """Bloodletting at BL40 with a bleeding disorder is a block naming BL40."""
    context = ctx(PatientSafety(bleeding_disorder=True), point(8, "BL40", "R"), bloodletting=True)
    w = only("bleeding-bloodletting", context)
    assert (w.key, w.severity, w.mark_ids) == ("bleeding-bloodletting", "block", (8,))
    assert "BL40 R" in w.message and "reason" in w.message


def test_bleeding_bloodletting_quiet_without_bleeding_risk() -> None:
    """Bloodletting for a patient with no bleeding risk raises nothing."""
    assert run("bleeding-bloodletting", ctx(NONE, point(8, "BL40", "R"), bloodletting=True)) == []


def test_bleeding_vessel_warns_per_vessel_point() -> None:
    """BL40 L needled for an anticoagulated patient is a warning keyed by point and side."""
    w = only("bleeding-vessel", ctx(ANTICOAGULATED, point(2, "BL40", "L"), point(3, "BL23", "L")))
    assert (w.key, w.severity, w.mark_ids) == ("bleeding-vessel:BL40:L", "warning", (2,))
    assert "BL40 L" in w.message and "firm pressure" in w.message


def test_bleeding_vessel_quiet_without_vessel_points_or_risk() -> None:
    """Anticoagulated without VESSEL points, or BL40 without a bleeding risk: nothing."""
    assert run("bleeding-vessel", ctx(ANTICOAGULATED, point(3, "BL23", "L"))) == []
    assert run("bleeding-vessel", ctx(NONE, point(2, "BL40", "L"))) == []


def test_bleeding_nerve_advises_on_deep_points() -> None:
    """GB30 L for an anticoagulated patient is an advisory; BL40 is left to the vessel rule."""
    context = ctx(ANTICOAGULATED, point(1, "GB30", "L"), point(2, "BL40", "L"))
    w = only("bleeding-nerve", context)
    assert (w.key, w.severity, w.mark_ids) == ("bleeding-nerve", "advisory", (1,))
    assert "GB30 L" in w.message and "BL40" not in w.message


def test_bleeding_nerve_quiet_without_nerve_points_or_risk() -> None:
    """Anticoagulated with BL23 only, or GB30 without a bleeding risk: nothing."""
    assert run("bleeding-nerve", ctx(ANTICOAGULATED, point(1, "BL23", "L"))) == []
    assert run("bleeding-nerve", ctx(NONE, point(1, "GB30", "L"))) == []


def test_bleeding_needling_warns_with_a_bleeding_disorder() -> None:
    """Needling a patient with a bleeding disorder is a warning covering the needled marks."""
    context = ctx(PatientSafety(bleeding_disorder=True), point(1, "BL23", "L"), cup(2))
    w = only("bleeding-needling", context)
    assert (w.key, w.severity, w.mark_ids) == ("bleeding-needling", "warning", (1,))


def test_bleeding_needling_quiet_for_anticoagulants_or_cupping_only() -> None:
    """An anticoagulant alone, or a bleeding disorder with cupping only, raises nothing here."""
    assert run("bleeding-needling", ctx(ANTICOAGULATED, point(1, "BL23", "L"))) == []
    assert run("bleeding-needling", ctx(PatientSafety(bleeding_disorder=True), cup(2))) == []


# --- depth cautions ------------------------------------------------------------------------------


def test_lung_depth_covers_every_lung_mark_in_one_warning() -> None:
    """BL13 L/R and GB21 L give one "lung-depth" warning naming them all."""
    marks = (
        point(1, "BL13", "L"),
        point(2, "BL13", "R"),
        point(3, "GB21", "L"),
        point(4, "BL25", "L"),
    )
    w = only("lung-depth", ctx(NONE, *marks))
    assert (w.key, w.severity, w.mark_ids) == ("lung-depth", "warning", (1, 2, 3))
    assert all(label in w.message for label in ("BL13 L", "BL13 R", "GB21 L"))
    assert "pneumothorax" in w.message and "BL25" not in w.message


def test_lung_depth_covers_thoracic_ashi_and_trigger_points() -> None:
    """An ashi point and a trigger point needled beside T7 get the lung caution too."""
    marks = (
        at(1, "ashi", "BL17", "L", "manual"),
        at(2, "trigger_point", "BL46", "R", "trigger_point"),
    )
    w = only("lung-depth", ctx(NONE, *marks))
    assert w.mark_ids == (1, 2) and "Ashi L" in w.message


def test_lung_depth_quiet_for_lumbar_or_unneedled_marks() -> None:
    """Lumbar points, and moxa on BL13, raise no lung caution."""
    assert (
        run("lung-depth", ctx(NONE, point(1, "BL23", "L"), point(2, "BL13", "L", "moxibustion")))
        == []
    )


def test_kidney_depth_advises_on_kidney_points() -> None:
    """BL23 L and BL52 R give one kidney-depth advisory."""
    w = only("kidney-depth", ctx(NONE, point(1, "BL23", "L"), point(2, "BL52", "R")))
    assert (w.key, w.severity, w.mark_ids) == ("kidney-depth", "advisory", (1, 2))
    assert "BL23 L" in w.message and "BL52 R" in w.message


def test_kidney_depth_quiet_without_kidney_points() -> None:
    """BL25 and BL40 raise no kidney caution."""
    assert run("kidney-depth", ctx(NONE, point(1, "BL25", "L"), point(2, "BL40", "R"))) == []


def test_cord_depth_advises_on_midline_points_from_l2_up() -> None:
    """GV4 and a midline ashi point at T6 give one cord-depth advisory."""
    w = only("cord-depth", ctx(NONE, point(1, "GV4", "M"), at(2, "ashi", "GV10", "M", "manual")))
    assert (w.key, w.severity, w.mark_ids) == ("cord-depth", "advisory", (1, 2))
    assert "GV4" in w.message and "Ashi" in w.message


def test_cord_depth_quiet_below_l2() -> None:
    """GV3 and GV2 (below L2) raise no cord caution."""
    assert run("cord-depth", ctx(NONE, point(1, "GV3", "M"), point(2, "GV2", "M"))) == []


# --- other history -------------------------------------------------------------------------------


def test_fainting_lying_advises_treating_lying_down() -> None:
    """A fainting history with a prone treatment is an advisory to treat lying down."""
    w = only("fainting-lying", ctx(PatientSafety(needle_fainting=True), position="prone"))
    assert (w.key, w.severity, w.mark_ids) == ("fainting-lying", "advisory", ())
    assert "lying down" in w.message


def test_fainting_lying_quiet_without_history_or_when_seated() -> None:
    """No fainting history, or a seated treatment (the warning rule's case): nothing here."""
    assert run("fainting-lying", ctx(NONE, position="prone")) == []
    assert run("fainting-lying", ctx(PatientSafety(needle_fainting=True), position="seated")) == []


def test_fainting_seated_warns() -> None:
    """A fainting history with a seated treatment is a warning."""
    w = only("fainting-seated", ctx(PatientSafety(needle_fainting=True), position="seated"))
    assert (w.key, w.severity) == ("fainting-seated", "warning")
    assert "seated" in w.message and "lying down" in w.message


def test_fainting_seated_quiet_lying_down_or_without_history() -> None:
    """Side-lying with a fainting history, or seated without one: no warning."""
    assert (
        run("fainting-seated", ctx(PatientSafety(needle_fainting=True), position="side-lying"))
        == []
    )
    assert run("fainting-seated", ctx(NONE, position="seated")) == []


def test_diabetes_legs_advises_on_lower_leg_and_foot_points() -> None:
    """Diabetes with KI3 L and GB34 R is an advisory naming both, not the back point."""
    context = ctx(
        PatientSafety(diabetes=True),
        point(1, "KI3", "L"),
        point(2, "GB34", "R"),
        point(3, "BL23", "L"),
    )
    w = only("diabetes-legs", context)
    assert (w.key, w.severity, w.mark_ids) == ("diabetes-legs", "advisory", (1, 2))
    assert "KI3 L" in w.message and "GB34 R" in w.message and "BL23" not in w.message


def test_diabetes_legs_quiet_for_back_points_or_without_diabetes() -> None:
    """Diabetes with back points only, or leg points without diabetes: nothing."""
    assert run("diabetes-legs", ctx(PatientSafety(diabetes=True), point(1, "BL23", "L"))) == []
    assert run("diabetes-legs", ctx(NONE, point(1, "KI3", "L"))) == []


def test_metal_allergy_advises_on_needle_material() -> None:
    """A metal allergy with needling is an advisory about the needle material."""
    w = only("metal-allergy", ctx(PatientSafety(metal_allergy=True), point(1, "BL23", "L")))
    assert (w.key, w.severity, w.mark_ids) == ("metal-allergy", "advisory", (1,))
    assert "material" in w.message


def test_metal_allergy_quiet_without_needling_or_allergy() -> None:
    """Cupping only with a metal allergy, or needling without one: nothing."""
    assert run("metal-allergy", ctx(PatientSafety(metal_allergy=True), cup(1))) == []
    assert run("metal-allergy", ctx(NONE, point(1, "BL23", "L"))) == []


def test_device_cupping_advises_with_a_pacemaker() -> None:
    """Cupping for a patient with a pacemaker is an advisory naming the site."""
    w = only("device-cupping", ctx(PatientSafety(implanted_device="pacemaker"), cup(3)))
    assert (w.key, w.severity, w.mark_ids) == ("device-cupping", "advisory", (3,))
    assert "Cup L" in w.message


def test_device_cupping_quiet_without_cupping_or_pacemaker() -> None:
    """A pacemaker without cupping, or cupping without a pacemaker: nothing."""
    assert (
        run(
            "device-cupping",
            ctx(PatientSafety(implanted_device="pacemaker"), point(1, "BL23", "L")),
        )
        == []
    )
    assert run("device-cupping", ctx(NONE, cup(3))) == []


# --- the whole evaluation ------------------------------------------------------------------------


def test_every_rule_fires_in_the_everything_on_context() -> None:
    """The everything-on visit exercises every rule (so the message checks below cover all)."""
    fired = {w.rule for w in evaluate(everything_on(), BM)}
    assert fired == {r.id for r in RULES} - {"fainting-lying"}


def test_warnings_are_sorted_blocks_first() -> None:
    """evaluate lists blocks, then warnings, then advisories."""
    order = {"block": 0, "warning": 1, "advisory": 2}
    ranks = [order[w.severity] for w in evaluate(everything_on(), BM)]
    assert ranks == sorted(ranks) and ranks[0] == 0 and ranks[-1] == 2


def test_keys_are_stable_and_unique() -> None:
    """Two evaluations of the same visit, even with marks reordered, give the same keys."""
    context = everything_on()
    first = evaluate(context, BM)
    assert evaluate(context, BM) == first
    reordered = replace(context, marks=tuple(reversed(context.marks)))
    assert {w.key for w in evaluate(reordered, BM)} == {w.key for w in first}
    assert len({w.key for w in first}) == len(first)
    assert all(len(w.key) <= 120 for w in first)


def test_no_message_advises_on_medication() -> None:
    """No message tells anyone to stop, pause or change a medicine."""
    banned = re.compile(
        r"\b(stop\w*|discontinu\w*|withh[oe]ld\w*|cease\w*|pause\w*|skip\w*)\b"
        r"|change (your|the|their) medication|come off",
        re.IGNORECASE,
    )
    for w in evaluate(everything_on(), BM):
        assert not banned.search(w.message), w.message


def test_warnings_carry_their_rules_severity_source_and_key_prefix() -> None:
    """Each warning has its rule's severity and source, and a key starting with the rule id."""
    rules = {r.id: r for r in RULES}
    for w in evaluate(everything_on(), BM):
        r = rules[w.rule]
        assert (w.severity, w.source, w.title) == (r.severity, r.source, r.title)
        assert w.key == r.id or w.key.startswith(f"{r.id}:")


def test_every_rule_is_described_and_sourced() -> None:
    """RULES ids are unique and each rule has a title, a description and source keys."""
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    for r in RULES:
        assert r.title and r.description and r.severity in ("block", "warning", "advisory")
        assert r.source and all(
            re.fullmatch(r"[A-Z0-9]+(-[A-Z0-9]+)*", s) for s in r.source.split(", ")
        )


def test_a_routine_lumbar_visit_raises_nothing() -> None:
    """A healthy patient with lumbar points and a lumbar EA pair across the spine: no warnings."""
    a, b = point(1, "EX-B2-L4", "L", "electro"), point(2, "EX-B2-L4", "R", "electro")
    marks = (a, b, point(3, "BL25", "L"), point(4, "BL40", "R"), point(5, "GB34", "L"))
    assert evaluate(ctx(NONE, *marks, ea_pairs=[pair(a, b)], position="prone"), BM) == []


def test_flags_come_from_the_catalog_when_the_row_has_none() -> None:
    """A row listed without the body map (empty flags) still gets its point's caution flags."""
    bare = replace(point(1, "BL13", "L"), flags=frozenset())
    assert only("lung-depth", ctx(NONE, bare)).mark_ids == (1,)


def test_evaluate_uses_the_shared_body_map_by_default() -> None:
    """evaluate and Rule.run work without being handed a body map."""
    assert evaluate(ctx(NONE, point(1, "BL23", "L")))[0].key == "kidney-depth"
    assert rule("kidney-depth").run(ctx(NONE, point(1, "BL23", "L")))[0].mark_ids == (1,)


# --- inputs and helpers --------------------------------------------------------------------------


def test_gestational_weeks_and_trimester() -> None:
    """Weeks count back 280 days from the due date; trimesters split at 14 and 28 weeks."""
    assert gestational_weeks(TODAY + timedelta(days=280), TODAY) == 0
    assert gestational_weeks(TODAY, TODAY) == 40
    assert gestational_weeks(TODAY + timedelta(days=400), TODAY) is None
    assert gestational_weeks(TODAY - timedelta(days=60), TODAY) is None
    assert [trimester(w) for w in (0, 13, 14, 27, 28, 41)] == [1, 1, 2, 2, 3, 3]


def test_inputs_refuse_unknown_values() -> None:
    """Unknown device kinds, cup types and positions are refused; "" means no device."""
    with pytest.raises(ValueError, match="device"):
        PatientSafety(implanted_device="toaster")
    with pytest.raises(ValueError, match="cup type"):
        CuppingInfo(1, "hot")
    with pytest.raises(ValueError, match="position"):
        ctx(NONE, position="standing")
    assert not PatientSafety(implanted_device="").has_device


def test_patient_safety_from_a_patient_record() -> None:
    """from_patient copies the safety fields of a loaded patient."""
    record = SimpleNamespace(
        pregnant=True,
        pregnancy_due_date=TODAY,
        implanted_device="pump",
        bleeding_disorder=False,
        anticoagulant=True,
        epilepsy=False,
        diabetes=True,
        metal_allergy=False,
        needle_fainting=True,
        peripheral_neuropathy=True,
    )
    safety = PatientSafety.from_patient(record)
    assert safety == PatientSafety(
        True, TODAY, "pump", False, True, False, True, False, True, peripheral_neuropathy=True
    )
    assert safety.has_device and safety.bleeding_risk


def test_unknown_rule_id_is_a_key_error() -> None:
    """Asking for a rule that does not exist raises KeyError."""
    with pytest.raises(KeyError):
        rule("no-such-rule")


# --- the clinic's custom points ---------------------------------------------------------------


def test_custom_point_over_the_sacrum_gets_the_pregnancy_region_rule() -> None:
    """A custom point over the lumbosacral region in pregnancy raises the region advisory."""
    w = only("preg-region", ctx(PREGNANT, point(1, "C-SACRUM", "L")))
    assert w.mark_ids == (1,) and "C-SACRUM L" in w.message


def test_custom_point_away_from_the_regions_gets_no_region_rule() -> None:
    """A custom point on the calf in pregnancy: no region advisory (only the custom note)."""
    warnings = evaluate(ctx(PREGNANT, point(1, "C-CALF", "L")), BM)
    assert [w.rule for w in warnings] == ["custom-point"]


def test_custom_point_over_the_lung_gets_the_lung_caution() -> None:
    """A needled custom point over the scapula gets the lung-depth caution, as an ashi would."""
    w = only("lung-depth", ctx(NONE, point(1, "C-SCAP", "R")))
    assert w.mark_ids == (1,) and "C-SCAP R" in w.message


def test_custom_point_says_it_has_no_catalog_cautions_and_shows_its_own() -> None:
    """The custom-point advisory says there are no catalog cautions and quotes the clinic's."""
    w = only("custom-point", ctx(NONE, point(1, "C-SACRUM", "L"), point(2, "BL23", "L")))
    assert (w.severity, w.mark_ids) == ("advisory", (1,))
    assert "no catalog cautions" in w.message
    assert "C-SACRUM: Press before needling; safe depth 20 mm." in w.message


def test_custom_point_own_safe_depth_blocks_a_deeper_record() -> None:
    """A depth beyond the safe depth the clinic set for its point is a block."""
    row = point(1, "C-SACRUM", "L")
    deeper = MarkRow(1, 1, replace(row.spec, depth_mm=35.0), row.flags, True)
    w = only("depth-beyond-safe", ctx(NONE, deeper))
    assert "20 mm" in w.message and w.severity == "block"
    shallow = MarkRow(1, 1, replace(row.spec, depth_mm=15.0), row.flags, True)
    assert run("depth-beyond-safe", ctx(NONE, shallow)) == []
