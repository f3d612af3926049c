"""Every safety rule, from one table: the situation that makes it fire, and the nearest
situation in which it stays silent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from charting.services.marks import MarkRow
from charting.services.safety import RULES, CuppingInfo, PatientSafety, SafetyContext
from tests.services.test_safety import (
    ANTICOAGULATED,
    NONE,
    PREGNANT,
    at,
    ctx,
    cup,
    deep,
    pair,
    point,
    run,
)

Case = Callable[[], SafetyContext]
PACEMAKER = PatientSafety(implanted_device="pacemaker")
FAINTS = PatientSafety(needle_fainting=True)
NEUROPATHY = PatientSafety(peripheral_neuropathy=True)


def _skin(mid: int, code: str, skin: str, kind: str = "acupoint", how: str = "manual") -> MarkRow:
    """A mark at ``code`` (needled ``how``, or a cup) over skin noted as ``skin``."""
    row = point(mid, code, "L", how) if kind == "acupoint" else cup(mid, code, "L")
    return MarkRow(row.id, 1, replace(row.spec, skin=skin), row.flags)


def _ea(a: str, b: str, side_a: str = "L", side_b: str = "R") -> SafetyContext:
    one, two = point(1, a, side_a, "electro"), point(2, b, side_b, "electro")
    return ctx(NONE, one, two, ea_pairs=(pair(one, two),))


#: (rule, case, fires, stays silent)
TABLE: list[tuple[str, str, Case, Case]] = [
    (
        "device-ea",
        "pacemaker and EA",
        lambda: ctx(PACEMAKER, point(1, "BL23", "L", "electro")),
        lambda: ctx(PACEMAKER, point(1, "BL23", "L", "manual")),
    ),
    (
        "bleeding-wet-cupping",
        "anticoagulant and wet cupping",
        lambda: ctx(ANTICOAGULATED, cup(1), cupping=(CuppingInfo(1, "wet"),)),
        lambda: ctx(ANTICOAGULATED, cup(1), cupping=(CuppingInfo(1, "dry"),)),
    ),
    (
        "bleeding-bloodletting",
        "anticoagulant and pricking to bleed",
        lambda: ctx(ANTICOAGULATED, point(1, "BL40", "R", "bloodletting"), bloodletting=True),
        lambda: ctx(NONE, point(1, "BL40", "R", "bloodletting"), bloodletting=True),
    ),
    (
        "depth-beyond-safe",
        "lung point at 25 mm (safe 18)",
        lambda: ctx(NONE, deep(1, "BL17", "L", 25)),
        lambda: ctx(NONE, deep(1, "BL17", "L", 15)),
    ),
    (
        "depth-beyond-safe",
        "GB21 at 16 mm (safe 14, over the lung's apex)",
        lambda: ctx(NONE, deep(1, "GB21", "L", 16)),
        lambda: ctx(NONE, deep(1, "GB21", "L", 12)),
    ),
    (
        "depth-beyond-safe",
        "kidney point at 35 mm (safe 30)",
        lambda: ctx(NONE, deep(1, "BL23", "L", 35)),
        lambda: ctx(NONE, deep(1, "BL23", "L", 28)),
    ),
    (
        "depth-beyond-safe",
        "midline above L2 at 30 mm (safe 25)",
        lambda: ctx(NONE, deep(1, "GV4", "M", 30)),
        lambda: ctx(NONE, deep(1, "GV3", "M", 30)),
    ),
    (
        "neuropathy-legs",
        "neuropathy and a needle on the front of the leg",
        lambda: ctx(NEUROPATHY, point(1, "ST36", "L", view="anterior")),
        lambda: ctx(NEUROPATHY, point(1, "BL23", "L")),
    ),
    (
        "neuropathy-legs",
        "neuropathy and moxa on the foot",
        lambda: ctx(NEUROPATHY, point(1, "KI3", "L", "moxibustion")),
        lambda: ctx(NONE, point(1, "KI3", "L", "moxibustion")),
    ),
    (
        "preg-point",
        "pregnancy and SP6",
        lambda: ctx(PREGNANT, point(1, "SP6", "L")),
        lambda: ctx(PREGNANT, point(1, "BL23", "L")),
    ),
    (
        "preg-ea",
        "pregnancy and EA",
        lambda: ctx(PREGNANT, point(1, "BL23", "L", "electro")),
        lambda: ctx(PREGNANT, point(1, "BL23", "L")),
    ),
    (
        "ea-chest",
        "EA across the thorax",
        lambda: _ea("BL13", "BL13"),
        lambda: _ea("BL25", "BL25"),
    ),
    (
        "epilepsy-ea",
        "epilepsy and EA",
        lambda: ctx(PatientSafety(epilepsy=True), point(1, "BL23", "L", "electro")),
        lambda: ctx(PatientSafety(epilepsy=True), point(1, "BL23", "L")),
    ),
    (
        "bleeding-needling",
        "bleeding disorder and needling",
        lambda: ctx(PatientSafety(bleeding_disorder=True), point(1, "BL23", "L")),
        lambda: ctx(PatientSafety(bleeding_disorder=True), cup(1)),
    ),
    (
        "bleeding-cupping",
        "anticoagulant and dry cupping",
        lambda: ctx(ANTICOAGULATED, cup(1), cupping=(CuppingInfo(1, "dry"),)),
        lambda: ctx(ANTICOAGULATED, point(1, "BL23", "L")),
    ),
    (
        "bleeding-vessel",
        "anticoagulant and LR3 (over the dorsalis pedis artery)",
        lambda: ctx(ANTICOAGULATED, point(1, "LR3", "L")),
        lambda: ctx(ANTICOAGULATED, point(1, "ST36", "L")),
    ),
    (
        "lung-depth",
        "a lung point",
        lambda: ctx(NONE, point(1, "EX-B3", "L")),
        lambda: ctx(NONE, point(1, "EX-B5", "M")),
    ),
    (
        "fainting-seated",
        "fainting history, seated",
        lambda: ctx(FAINTS, point(1, "BL23", "L"), position="seated"),
        lambda: ctx(FAINTS, point(1, "BL23", "L"), position="prone"),
    ),
    (
        "preg-region",
        "pregnancy and a sacral point",
        lambda: ctx(PREGNANT, point(1, "BL32", "L")),
        lambda: ctx(PREGNANT, point(1, "BL23", "L")),
    ),
    (
        "preg-region",
        "pregnancy and an ashi point over the sacrum",
        lambda: ctx(PREGNANT, at(1, "ashi", "BL32", "L", "manual")),
        lambda: ctx(PREGNANT, at(1, "ashi", "BL23", "L", "manual")),
    ),
    (
        "preg-region",
        "pregnancy and a trigger point at the lumbosacral junction",
        lambda: ctx(PREGNANT, at(1, "trigger_point", "BL26", "L", "trigger_point")),
        lambda: ctx(PREGNANT, at(1, "trigger_point", "BL20", "L", "trigger_point")),
    ),
    (
        "preg-region",
        "pregnancy and cupping over the low back",
        lambda: ctx(PREGNANT, cup(1, "BL27", "L")),
        lambda: ctx(PREGNANT, cup(1, "BL20", "L")),
    ),
    (
        "preg-region",
        "pregnancy and cupping on the abdomen",
        lambda: ctx(PREGNANT, at(1, "cupping", "GB26", "L", "cupping")),
        lambda: ctx(PREGNANT, at(1, "cupping", "ST32", "L", "cupping")),
    ),
    (
        "preg-cupping",
        "pregnancy and cupping",
        lambda: ctx(PREGNANT, cup(1)),
        lambda: ctx(PREGNANT, point(1, "BL23", "L")),
    ),
    (
        "device-cupping",
        "pacemaker and cupping",
        lambda: ctx(PACEMAKER, cup(1)),
        lambda: ctx(NONE, cup(1)),
    ),
    (
        "bleeding-nerve",
        "anticoagulant and GB30",
        lambda: ctx(ANTICOAGULATED, point(1, "GB30", "L")),
        lambda: ctx(ANTICOAGULATED, point(1, "BL25", "L")),
    ),
    (
        "kidney-depth",
        "a kidney point",
        lambda: ctx(NONE, point(1, "GB25", "L")),
        lambda: ctx(NONE, point(1, "BL25", "L")),
    ),
    (
        "cord-depth",
        "the midline above L2",
        lambda: ctx(NONE, point(1, "GV16", "M")),
        lambda: ctx(NONE, point(1, "EX-B5", "M")),
    ),
    (
        "fainting-lying",
        "fainting history, lying down",
        lambda: ctx(FAINTS, point(1, "BL23", "L"), position="prone"),
        lambda: ctx(FAINTS, point(1, "BL23", "L"), position="seated"),
    ),
    (
        "diabetes-legs",
        "diabetes and a foot point",
        lambda: ctx(PatientSafety(diabetes=True), point(1, "LR3", "R")),
        lambda: ctx(PatientSafety(diabetes=True), point(1, "BL23", "R")),
    ),
    (
        "skin-no-go",
        "a needle through broken skin",
        lambda: ctx(NONE, _skin(1, "BL23", "broken")),
        lambda: ctx(NONE, _skin(1, "BL23", "intact")),
    ),
    (
        "skin-no-go",
        "a cup over infected skin",
        lambda: ctx(NONE, _skin(1, "BL25", "infected", "cupping")),
        lambda: ctx(NONE, _skin(1, "BL25", "scar", "cupping")),
    ),
    (
        "skin-care",
        "a cup over a keloid scar",
        lambda: ctx(NONE, _skin(1, "BL25", "keloid", "cupping")),
        lambda: ctx(NONE, _skin(1, "BL25", "", "cupping")),
    ),
    (
        "skin-care",
        "a needle through a tattoo (moxa over it is not)",
        lambda: ctx(NONE, _skin(1, "ST36", "tattoo")),
        lambda: ctx(NONE, _skin(1, "ST36", "tattoo", how="moxibustion")),
    ),
    (
        "consent",
        "cupping with consent to acupuncture only",
        lambda: ctx(NONE, point(1, "BL23", "L"), cup(2), consented=frozenset({"acupuncture"})),
        lambda: ctx(
            NONE, point(1, "BL23", "L"), cup(2), consented=frozenset({"acupuncture", "cupping"})
        ),
    ),
    (
        "metal-allergy",
        "metal allergy and needling",
        lambda: ctx(PatientSafety(metal_allergy=True), point(1, "BL23", "L")),
        lambda: ctx(PatientSafety(metal_allergy=True), cup(1)),
    ),
    (
        "custom-point",
        "a needled custom point of the clinic (a cup over it is not needled)",
        lambda: ctx(NONE, point(1, "C-CALF", "L")),
        lambda: ctx(NONE, point(1, "C-CALF", "L", "cupping")),
    ),
    (
        "preg-region",
        "pregnancy and a custom point over the sacrum (not one on the calf)",
        lambda: ctx(PREGNANT, point(1, "C-SACRUM", "L")),
        lambda: ctx(PREGNANT, point(1, "C-CALF", "L")),
    ),
    (
        "lung-depth",
        "a custom point over the scapula (not one over the sacrum)",
        lambda: ctx(NONE, point(1, "C-SCAP", "L")),
        lambda: ctx(NONE, point(1, "C-SACRUM", "L")),
    ),
]


def test_the_table_covers_every_rule() -> None:
    """Each rule has at least one row in the table (a new rule needs one)."""
    assert {row[0] for row in TABLE} == {r.id for r in RULES}


@pytest.mark.parametrize(
    ("rule_id", "fires", "silent"),
    [pytest.param(r, f, s, id=f"{r}: {case}") for r, case, f, s in TABLE],
)
def test_each_rule_fires_and_stays_silent(rule_id: str, fires: Case, silent: Case) -> None:
    """The rule warns in its situation and says nothing in the nearest harmless one."""
    assert run(rule_id, fires()), "should fire"
    assert run(rule_id, silent()) == [], "should stay silent"
