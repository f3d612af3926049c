"""Drawing styles per shape role, shared by the SVG, Qt and PDF renderers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RoleStyle:
    """How one shape role is painted.

    Attributes:
        stroke: Stroke colour (``#rrggbb``) or ``None`` for no stroke.
        fill: Fill colour or ``None``.
        width: Stroke width in model units.
        opacity: Overall opacity, 0 to 1.
        dash: Dash pattern in model units (empty for a solid line).
        font_weight: "normal" or "bold" (text roles).
    """

    stroke: str | None
    fill: str | None
    width: float
    opacity: float = 1.0
    dash: tuple[float, ...] = ()
    font_weight: str = "normal"


SKIN = "#f3e3d3"
INK = "#8a6f5c"

ROLE_STYLES: dict[str, RoleStyle] = {
    "outline": RoleStyle(stroke="#7a5f4d", fill=SKIN, width=2.0),
    "detail": RoleStyle(stroke="#b39580", fill=None, width=1.1, opacity=0.9),
    "guide": RoleStyle(stroke="#7d94ad", fill=None, width=0.8, opacity=0.55),
    "guide_dashed": RoleStyle(stroke="#7d94ad", fill=None, width=0.7, opacity=0.5, dash=(4.0, 3.0)),
    "guide_label": RoleStyle(stroke=None, fill="#5d7490", width=0.0, opacity=0.85),
    "panel_label": RoleStyle(stroke=None, fill="#4a3b31", width=0.0, font_weight="bold"),
}

FONT_FAMILY = "DejaVu Sans, Helvetica, Arial, sans-serif"


def style_for(role: str) -> RoleStyle:
    """The style of a role (unknown roles draw as guides)."""
    return ROLE_STYLES.get(role, ROLE_STYLES["guide"])
