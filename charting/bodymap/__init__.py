"""Qt-free body map: the proportional B-cun model, the catalogs and hit-testing queries."""

from charting.bodymap.catalog import (
    ALLOWED_FLAGS,
    Acupoint,
    BodyMap,
    CatalogError,
    CustomPointData,
    Muscle,
    MuscleHit,
    PlacedPoint,
    PointHit,
    ReferralZone,
    TriggerPoint,
    Variant,
    load_bodymap,
)
from charting.bodymap.model import VIEW_IDS, View, build_views, label_anchor
from charting.bodymap.resources import resource_path
from charting.bodymap.style import ROLE_STYLES, RoleStyle, style_for
from charting.bodymap.svg import render_svg
from charting.bodymap.types import SIDE_LABELS, Shape, Side, side_label

__all__ = [
    "ALLOWED_FLAGS",
    "ROLE_STYLES",
    "SIDE_LABELS",
    "VIEW_IDS",
    "Acupoint",
    "BodyMap",
    "CatalogError",
    "CustomPointData",
    "Muscle",
    "MuscleHit",
    "PlacedPoint",
    "PointHit",
    "ReferralZone",
    "RoleStyle",
    "Shape",
    "Side",
    "TriggerPoint",
    "Variant",
    "View",
    "build_views",
    "label_anchor",
    "load_bodymap",
    "render_svg",
    "resource_path",
    "side_label",
    "style_for",
]
