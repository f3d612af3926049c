"""Render a body-map view's shapes to SVG text (used by tools/generate_bodymap.py)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from charting.bodymap.geometry import Point
from charting.bodymap.model import View
from charting.bodymap.style import FONT_FAMILY, RoleStyle, style_for
from charting.bodymap.types import Shape


def _num(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _path(points: tuple[Point, ...], closed: bool) -> str:
    head, *rest = points
    parts = [f"M{_num(head[0])} {_num(head[1])}"]
    parts += [f"L{_num(x)} {_num(y)}" for x, y in rest]
    if closed:
        parts.append("Z")
    return "".join(parts)


def _paint(style: RoleStyle) -> str:
    attrs = [f'fill="{style.fill or "none"}"']
    if style.stroke:
        attrs += [
            f'stroke="{style.stroke}"',
            f'stroke-width="{_num(style.width)}"',
            'stroke-linejoin="round"',
            'stroke-linecap="round"',
        ]
    if style.dash:
        attrs.append(f'stroke-dasharray="{" ".join(_num(d) for d in style.dash)}"')
    if style.opacity < 1:
        attrs.append(f'opacity="{style.opacity:g}"')
    return " ".join(attrs)


def _element(shape: Shape) -> str:
    style = style_for(shape.role)
    paint = _paint(style)
    role = f'class="{shape.role}"'
    if shape.kind == "circle":
        (cx, cy), r = shape.points[0], shape.radius or 1.0
        return f'<circle {role} cx="{_num(cx)}" cy="{_num(cy)}" r="{_num(r)}" {paint}/>'
    if shape.kind == "text":
        (x, y) = shape.points[0]
        weight = f' font-weight="{style.font_weight}"' if style.font_weight != "normal" else ""
        return (
            f'<text {role} x="{_num(x)}" y="{_num(y)}" font-size="{_num(shape.size or 8)}" '
            f'text-anchor="{shape.anchor}"{weight} {paint}>{escape(shape.text or "")}</text>'
        )
    closed = shape.kind == "polygon"
    return f'<path {role} d="{_path(shape.points, closed)}" {paint}/>'


def render_svg(view: View) -> str:
    """SVG document for ``view``; its viewBox is the view's model-unit extent."""
    w, h = _num(view.width), _num(view.height)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" '
        f'height="{h}" font-family="{FONT_FAMILY}">',
        f"<title>Charting body map: {escape(view.title)}</title>",
        f'<rect x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/>',
    ]
    lines += [_element(s) for s in view.shapes]
    lines.append("</svg>")
    return "\n".join(lines) + "\n"
