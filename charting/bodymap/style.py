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


# --- Mark symbols: one style for the screen (charting.ui.bodymap) and paper (reports) ---------


@dataclass(frozen=True)
class MarkStyle:
    """How a kind of mark is drawn, wherever it is drawn.

    Attributes:
        shape: "dot" (acupoint), "cross" (trigger point), "diamond" (ashi point), "ring"
            (cupping site, drawn the cup's size) or "square" (the clinic's custom point).
        fill: Symbol colour.
        ink: Label text colour.
    """

    shape: str
    fill: str
    ink: str


MARK_STYLES: dict[str, MarkStyle] = {
    "acupoint": MarkStyle("dot", "#1f6fb2", "#123f6b"),
    "trigger_point": MarkStyle("cross", "#d62f3a", "#8e1820"),
    "ashi": MarkStyle("diamond", "#ef8a12", "#8a4a00"),
    "cupping": MarkStyle("ring", "#7d4cc2", "#4f2b86"),
    # Not a kind of mark but a kind of point: a mark of a clinic's own point is drawn apart
    # from the catalog's, so nobody reads it as a standard acupoint.
    "custom": MarkStyle("square", "#1b8a5a", "#0f5537"),
}
#: The order marks are explained in a legend.
MARK_KIND_ORDER: tuple[str, ...] = ("acupoint", "custom", "trigger_point", "ashi", "cupping")
#: Radius of an acupoint's dot, in local B-cun; the other symbols are drawn in proportion to
#: it (:data:`SYMBOL`). The screen and paper both draw this size (paper keeps it within
#: legible printed limits).
MARK_RADIUS_CUN = 0.34
#: Each symbol's parts as multiples of the dot's radius ``r``, for every renderer.
SYMBOL: dict[str, float] = {
    "dot_rim": 0.26,  # white rim of the dot (stroke width)
    "dot_outer": 1.13,  # thin dark ring around it (radius)
    "dot_outer_width": 0.09,
    "cross_arm": 0.95,  # half-length of each arm of the trigger point's cross
    "cross_halo": 0.72,  # white halo under the cross (stroke width)
    "cross_width": 0.36,
    "diamond": 1.3,  # half-diagonal of the ashi point's diamond
    "diamond_rim": 0.26,
    "square": 0.95,  # half-side of the custom point's square
    "square_rim": 0.26,
    "cup_halo": 0.7,  # white halo under the cup's ring (stroke width)
    "cup_width": 0.38,
    "cup_centre": 0.36,  # the dot at the cup's centre (radius)
}
#: How far a point symbol reaches, in dot radii (the diamond is the largest).
SYMBOL_EXTENT = 1.3
#: A cup of about 2.5 cun across (a medium glass cup on the back).
CUP_DIAMETER_CUN = 2.5
#: The previous visit's marks: grey and faint.
GHOST_COLOUR = "#7b7b7b"
GHOST_OPACITY = 0.35
#: Electroacupuncture leads between paired needles.
EA_COLOUR = "#0b7a75"
#: The depth-caution badge beside a label.
CAUTION_COLOUR = "#c26a00"
#: Points cautioned in pregnancy.
PREGNANCY_COLOUR = "#d6336c"
#: A mark with an open safety warning is ringed in this colour.
ALERT_COLOUR = "#d93025"


def mark_style(kind: str) -> MarkStyle:
    """The style of a mark kind (unknown kinds draw as ashi points)."""
    return MARK_STYLES.get(kind, MARK_STYLES["ashi"])


def mark_extent_cun(kind: str) -> float:
    """How far a mark's symbol reaches from its centre, in local B-cun."""
    return CUP_DIAMETER_CUN / 2 if kind == "cupping" else MARK_RADIUS_CUN * SYMBOL_EXTENT
