"""Muscle regions on every view, shaped so the points WHO puts between or beside muscles
fall between or beside them."""

from __future__ import annotations

import pytest

from charting.bodymap import load_bodymap

BM = load_bodymap()


def _muscles(view: str, x: float, y: float) -> set[str]:
    return {hit.muscle.id for hit in BM.muscles_at(view, x, y)}


def _offset(code: str, view: str, frame: str, across_cun: float) -> tuple[float, float]:
    """The point ``across_cun`` from ``code`` across ``frame`` (lateral or anterior +)."""
    x, y = BM.position(code, "L", view)  # type: ignore[misc]
    f = BM.views[view].frames[frame]
    return f.offset((x, y), 0.0, across_cun)


@pytest.mark.parametrize(
    ("view", "muscles"),
    [
        ("posterior", {"hamstrings_medial", "biceps_femoris", "gastrocnemius", "soleus"}),
        (
            "lateral_leg",
            {
                "vastus_lateralis_itb",
                "fibularis_longus",
                "tibialis_anterior",
                "gastrocnemius",
                "soleus",
                "tensor_fasciae_latae",
            },
        ),
        ("medial_leg", {"gastrocnemius", "soleus"}),
        ("anterior", {"iliopsoas", "rectus_abdominis", "adductors", "tibialis_anterior"}),
    ],
)
def test_every_view_has_its_muscles(view: str, muscles: set[str]) -> None:
    """Each view carries muscle regions a trigger point can be placed on."""
    on_view = {m.id for m in BM.muscles if view in m.views}
    assert muscles <= on_view


def test_bl37_lies_between_biceps_femoris_and_semitendinosus() -> None:
    """BL37 is in neither hamstring; a cun to either side is in each."""
    x, y = BM.position("BL37", "L", "posterior")  # type: ignore[misc]
    assert not _muscles("posterior", x, y) & {"hamstrings_medial", "biceps_femoris"}
    assert "hamstrings_medial" in _muscles(
        "posterior", *_offset("BL37", "posterior", "thigh_posterior", -1.2)
    )
    assert "biceps_femoris" in _muscles(
        "posterior", *_offset("BL37", "posterior", "thigh_posterior", 1.2)
    )


@pytest.mark.parametrize("code", ["BL38", "BL39"])
def test_bl38_and_bl39_lie_just_medial_to_the_biceps_tendon(code: str) -> None:
    """BL38 and BL39 are outside biceps femoris, which lies just lateral to them."""
    x, y = BM.position(code, "L", "posterior")  # type: ignore[misc]
    assert "biceps_femoris" not in _muscles("posterior", x, y)
    assert "biceps_femoris" in _muscles(
        "posterior", *_offset(code, "posterior", "thigh_posterior", 0.9)
    )


@pytest.mark.parametrize("code", ["BL55", "BL56"])
def test_bl55_and_bl56_lie_between_the_heads_of_gastrocnemius(code: str) -> None:
    """BL55 and BL56 are between the two heads: in neither, with a head on each side."""
    x, y = BM.position(code, "L", "posterior")  # type: ignore[misc]
    assert "gastrocnemius" not in _muscles("posterior", x, y)
    for side in (-1.2, 1.2):
        assert "gastrocnemius" in _muscles(
            "posterior", *_offset(code, "posterior", "leg_posterior", side)
        )


def test_st36_is_on_tibialis_anterior_on_both_views() -> None:
    """ST36 lies on tibialis anterior, on the front and the lateral view."""
    for view in ("anterior", "lateral_leg"):
        assert "tibialis_anterior" in _muscles(view, *BM.position("ST36", "L", view))  # type: ignore[misc]


@pytest.mark.parametrize("code", ["GB31", "GB32"])
def test_gb31_and_gb32_are_just_behind_the_iliotibial_band(code: str) -> None:
    """GB31 and GB32 are outside the band's region, which starts just in front of them."""
    x, y = BM.position(code, "L", "lateral_leg")  # type: ignore[misc]
    assert "vastus_lateralis_itb" not in _muscles("lateral_leg", x, y)
    assert "vastus_lateralis_itb" in _muscles(
        "lateral_leg", *_offset(code, "lateral_leg", "thigh_lateral", 1.0)
    )


def test_front_muscles_that_refer_to_the_low_back() -> None:
    """Iliopsoas and rectus abdominis refer pain to the low back, drawn on the back view."""
    for muscle_id in ("iliopsoas", "rectus_abdominis"):
        zones = BM.muscle(muscle_id).referral_zones
        assert any("posterior" in z.views for z in zones), muscle_id
