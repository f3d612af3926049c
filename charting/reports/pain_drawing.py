"""Pain drawings on paper: the shaded areas in vector on each view's artwork, a legend of
the qualities, and the measures in words (the same shapes and colours as on screen)."""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.graphics.shapes import Drawing, Group, Path, Rect, String
from reportlab.lib import colors
from reportlab.platypus import Flowable, KeepTogether
from shapely.geometry.base import BaseGeometry

from charting.bodymap import BodyMap
from charting.bodymap import regions as body_regions
from charting.reports.bodymap_drawing import VIEW_ORDER, BodyMapDrawing, bodymap_drawing
from charting.reports.common import figure_grid, p
from charting.reports.fonts import SANS, register_fonts
from charting.reports.painted import Painted
from charting.services.pain_drawings import QUALITIES, QUALITY_COLOURS, shade_opacity
from charting.services.pain_measures import AreaShape, PainMeasures, shape_of

CHANGE_WORDS = {
    "centralised": "centralised (moved up towards the spine)",
    "peripheralised": "peripheralised (moved down the leg)",
    "unchanged": "no change in how far down it reaches",
}


def _path(d: BodyMapDrawing, geometry: BaseGeometry, colour: str, opacity: float) -> Path:
    path = Path(
        fillColor=colors.HexColor(colour),
        fillOpacity=opacity,
        strokeColor=None,
        fillMode=0,  # even-odd: an erased hole stays a hole
    )
    for part in getattr(geometry, "geoms", [geometry]):
        if part.geom_type != "Polygon" or part.is_empty:
            continue
        for ring in (part.exterior, *part.interiors):
            coords = list(ring.coords)
            x, y = d.to_drawing(*coords[0])
            path.moveTo(x, y)
            for cx, cy in coords[1:]:
                path.lineTo(*d.to_drawing(cx, cy))
            path.closePath()
    return path


def pain_layer(bodymap: BodyMap, d: BodyMapDrawing, areas: Sequence[AreaShape]) -> Group:
    """The shaded areas of ``d``'s view (erasers applied), as a group to add to it."""
    group = Group()
    shapes: list[tuple[AreaShape, BaseGeometry]] = []
    for area in areas:
        if area.view != d.view_id:
            continue
        shape = shape_of(bodymap, area)
        if area.kind == "erase":
            shapes = [
                (a, g.difference(shape) if a.drawn_by == area.drawn_by else g) for a, g in shapes
            ]
        else:
            shapes.append((area, shape))
    for area, shape in shapes:
        if not shape.is_empty:
            group.add(
                _path(
                    d,
                    shape,
                    QUALITY_COLOURS.get(area.quality, "#d55e00"),
                    shade_opacity(area.intensity),
                )
            )
    return group


def pain_figures(
    bodymap: BodyMap, areas: Sequence[AreaShape], width: float, max_height: float
) -> list[tuple[str, Drawing]]:
    """One (view title, drawing) per view that has shading, in report order."""
    figures: list[tuple[str, Drawing]] = []
    drawn = {a.view for a in areas if a.kind != "erase"}
    for view_id in VIEW_ORDER:
        if view_id not in drawn or view_id not in bodymap.views:
            continue
        d = bodymap_drawing(
            bodymap, view_id, [], width=width, height=max_height, labels=False, crop=False
        )
        d.add(pain_layer(bodymap, d, areas))
        figures.append((bodymap.views[view_id].title, d))
    return figures


def pain_legend(width: float, qualities: Sequence[str]) -> Drawing:
    """The qualities drawn, each with its colour, on one or more centred lines."""
    register_fonts()
    entries = [(q, QUALITIES[q]) for q in QUALITIES if q in set(qualities)]
    size, line_h, box, gap = 7.5, 13.0, 8.0, 14.0
    rows: list[list[tuple[str, str, float]]] = [[]]
    x = 0.0
    for key, label in entries:
        w = box + 4 + len(label) * size * 0.55
        if rows[-1] and x + w > width:
            rows.append([])
            x = 0.0
        rows[-1].append((key, label, w))
        x += w + gap
    d = Drawing(width, line_h * len(rows) + 2)
    painted = Painted()
    for i, row in enumerate(rows):
        total = sum(w for _k, _l, w in row) + gap * (len(row) - 1)
        x = (width - total) / 2
        y = d.height - (i + 1) * line_h + 3
        for quality, label, w in row:
            painted.add(
                Rect(
                    x,
                    y,
                    box,
                    box,
                    fillColor=colors.HexColor(QUALITY_COLOURS[quality]),
                    strokeColor=None,
                )
            )
            painted.add(String(x + box + 4, y + 1, label, fontName=SANS, fontSize=size))
            x += w + gap
    if painted.contents:
        d.add(painted)
    return d


def measures_lines(m: PainMeasures | None) -> list[str]:
    """The measures in plain sentences (empty when nothing was drawn)."""
    if m is None or m.shaded_area <= 0:
        return []
    legs = "; ".join(
        f"{'left' if s == 'L' else 'right'} leg: "
        f"{body_regions.EXTENT_LABELS[m.furthest.get(s, 'none')].lower()}"
        for s in body_regions.SIDES
    )
    lines = [f"Pain extent {m.extent_percent:.1f}% of the body shown. Furthest down: {legs}."]
    if m.since_previous:
        overlap = (
            f" Overlap with the previous drawing {100 * m.overlap_previous:.0f}%."
            if m.overlap_previous is not None
            else ""
        )
        lines.append(f"Since the previous drawing: {CHANGE_WORDS[m.since_previous]}.{overlap}")
    if m.since_first:
        lines.append(f"Since the first drawing: {CHANGE_WORDS[m.since_first]}.")
    lines += [f"{hint}." for hint in m.dermatome_hints]
    return lines


def pain_story(
    bodymap: BodyMap,
    areas: Sequence[AreaShape],
    measures: PainMeasures | None,
    width: float,
    title: str = "Pain drawing",
) -> list[Flowable]:
    """The pain drawing section of a visit summary (nothing when nothing was drawn)."""
    if not any(a.kind != "erase" for a in areas):
        return []
    figures = pain_figures(bodymap, areas, width / 2 - 8, 340)
    qualities = sorted({a.quality for a in areas if a.kind != "erase"})
    by_patient = any(a.drawn_by == "patient" for a in areas)
    parts: list[Flowable] = [p(title, "h3")]
    if figures:
        parts.append(figure_grid(figures, width))
    parts.append(pain_legend(width, qualities))
    story: list[Flowable] = [KeepTogether(parts)]
    if by_patient:
        story.append(p("Includes areas drawn by the patient (patient mode).", "small"))
    story += [p(line, "body") for line in measures_lines(measures)]
    return story
