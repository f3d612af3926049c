"""Region presets: the parts of a view a practitioner zooms to, found from the view's landmarks.

A preset names landmarks; on a view, its rectangle is the bounding box of those of its landmarks
the view has (both sides), widened by a margin in the view's local cun. A view offers the
presets for which it has at least two landmarks, so a new view (or new landmarks) brings its
presets with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from charting.bodymap.model import View

#: Margin around a region's landmarks, in B-cun of the region's first landmark.
MARGIN_CUN = 1.5


@dataclass(frozen=True)
class RegionPreset:
    """A named part of the body to zoom to.

    Attributes:
        id: Stable id ("whole", "low_back", ...).
        title: What the button says.
        landmarks: Landmark ids (or vertebral levels "level:L1") whose box is the region.
        margin_cun: Extra room around the landmarks, in local B-cun.
    """

    id: str
    title: str
    landmarks: tuple[str, ...] = ()
    margin_cun: float = MARGIN_CUN


REGION_PRESETS: tuple[RegionPreset, ...] = (
    RegionPreset("whole", "Whole view"),
    RegionPreset(
        "low_back",
        "Low back && buttock",
        (
            "level:T12",
            "iliac_crest_top",
            "psis",
            "greater_trochanter",
            "gluteal_fold_mid",
            "coccyx_tip",
            "asis",
        ),
        1.0,
    ),
    RegionPreset(
        "thigh",
        "Thigh",
        (
            "gluteal_fold_mid",
            "greater_trochanter",
            "popliteal_crease_mid",
            "knee_lateral",
            "knee_medial",
            "lateral_epicondyle",
            "patella_top",
        ),
    ),
    RegionPreset(
        "lower_leg",
        "Lower leg",
        (
            "popliteal_crease_mid",
            "lateral_malleolus",
            "medial_malleolus",
            "fibular_head",
            "knee_medial",
            "medial_tibial_condyle",
            "calcaneal_tendon",
        ),
    ),
)


def _landmark_points(view: View, names: tuple[str, ...]) -> list[tuple[float, float, float]]:
    """(x, y, units per cun) of each named landmark present, on both sides of the body."""
    out: list[tuple[float, float, float]] = []
    for name in names:
        if name.startswith("level:"):
            level = name.split(":", 1)[1]
            if level in view.levels:
                y = view.levels[level]
                out.append((view.mirror_axis, y, view.units_per_cun(view.mirror_axis, y)))
            continue
        mark = view.landmarks.get(name)
        if mark is None:
            continue
        upc = view.frames[mark.frame].units_per_cun if mark.frame in view.frames else 10.0
        for side in ("L", "R"):
            x, y = view.to_side(mark.point, side)
            out.append((x, y, upc))
    return out


def presets_for(view: View) -> tuple[RegionPreset, ...]:
    """The presets ``view`` offers (always "whole"; others when it has their landmarks)."""
    return tuple(p for p in REGION_PRESETS if not p.landmarks or _count(view, p.landmarks) >= 2)


def _count(view: View, names: tuple[str, ...]) -> int:
    return sum(
        1
        for n in names
        if (n.startswith("level:") and n.split(":", 1)[1] in view.levels) or n in view.landmarks
    )


def region_rect(view: View, preset_id: str) -> tuple[float, float, float, float]:
    """The rectangle ``(x0, y0, x1, y1)`` of a preset on ``view``, in model units.

    Raises:
        KeyError: For a preset the view does not offer.
    """
    preset = next((p for p in presets_for(view) if p.id == preset_id), None)
    if preset is None:
        raise KeyError(preset_id)
    if not preset.landmarks:
        return 0.0, 0.0, view.width, view.height
    points = _landmark_points(view, preset.landmarks)
    margin = preset.margin_cun * max(upc for _, _, upc in points)
    x0 = max(0.0, min(x for x, _, _ in points) - margin)
    x1 = min(view.width, max(x for x, _, _ in points) + margin)
    y0 = max(0.0, min(y for _, y, _ in points) - margin)
    y1 = min(view.height, max(y for _, y, _ in points) + margin)
    return x0, y0, x1, y1
