"""Tests of the printed body-map figures (charting.reports.bodymap_drawing)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Circle, Drawing, Line, String
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
)

from charting.bodymap import BodyMap, load_bodymap
from charting.reports.bodymap_drawing import (
    EA_COLOUR,
    LABEL_FONT_SIZE,
    bodymap_drawing,
    figures_for_visit,
    legend_drawing,
)
from charting.reports.fonts import SANS_BOLD
from charting.services.marks import MarkRow, MarkSpec

WIDTH = 300.0


@pytest.fixture(scope="module")
def bodymap() -> BodyMap:
    """The real body map."""
    return load_bodymap()


def _point(bm: BodyMap, mark_id: int, code: str, side: str, view: str = "posterior") -> MarkRow:
    pos = bm.position(code, side, view)  # type: ignore[arg-type]
    assert pos is not None, code
    spec = MarkSpec("acupoint", view, pos[0], pos[1], side, point_code=code)
    return MarkRow(mark_id, 1, spec)


def _mark(mark_id: int, kind: str, view: str, x: float, y: float, side: str, **kw: Any) -> MarkRow:
    return MarkRow(mark_id, 1, MarkSpec(kind, view, x, y, side, **kw))


def sample_marks(bm: BodyMap) -> tuple[list[MarkRow], list[tuple[int, int]]]:
    """A low-back-pain visit: lumbar and gluteal points, a QL trigger point, ashi, a cup, EA."""
    marks = [
        _point(bm, 1, "BL23", "L"),
        _point(bm, 2, "BL23", "R"),
        _point(bm, 3, "BL25", "L"),
        _point(bm, 4, "BL25", "R"),
        _point(bm, 5, "GV4", "M"),
        _point(bm, 6, "GB30", "L"),
        _point(bm, 7, "BL40", "L"),
        _point(bm, 8, "BL40", "R"),
    ]
    tp = bm.trigger_point_position("quadratus_lumborum", "ql_sup_lower", "L")
    marks.append(_mark(9, "trigger_point", "posterior", *tp, "L", muscle_id="quadratus_lumborum"))
    marks.append(_mark(10, "ashi", "posterior", 470.0, 812.0, "R"))
    marks.append(_mark(11, "cupping", "posterior", 522.0, 690.0, "R", technique="cupping"))
    marks += [
        _point(bm, 20, "GB34", "L", "lateral_leg"),
        _point(bm, 21, "GB34", "R", "lateral_leg"),
        _point(bm, 22, "GB39", "L", "lateral_leg"),
        _point(bm, 23, "BL60", "R", "lateral_leg"),
        _point(bm, 24, "ST36", "L", "lateral_leg"),
        _point(bm, 30, "SP6", "L", "medial_leg"),
        _point(bm, 31, "SP6", "R", "medial_leg"),
        _point(bm, 32, "KI3", "L", "medial_leg"),
    ]
    return marks, [(1, 3)]


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "contents", ()):
        yield from _walk(child)


def _strings(drawing: Drawing) -> list[str]:
    return [n.text for n in _walk(drawing) if isinstance(n, String)]


def _ea_lines(drawing: Drawing) -> list[Line]:
    teal = HexColor(EA_COLOUR)
    return [
        n
        for n in _walk(drawing)
        if isinstance(n, Line)
        and n.strokeColor is not None
        and n.strokeColor.hexval() == teal.hexval()
    ]


def test_marks_of_another_view_are_not_drawn(bodymap: BodyMap) -> None:
    """A figure of one view draws only that view's marks and labels."""
    marks, pairs = sample_marks(bodymap)
    d = bodymap_drawing(bodymap, "medial_leg", marks, pairs, width=WIDTH)
    assert set(d.mark_positions) == {30, 31, 32}
    strings = _strings(d)
    assert "SP6 L" in strings and "KI3 L" in strings
    assert "BL23 L" not in strings and "GB34 L" not in strings


def test_mark_label_appears_in_drawing_strings(bodymap: BodyMap) -> None:
    """Each mark's compact label is drawn as text, at a print-legible size."""
    marks, pairs = sample_marks(bodymap)
    d = bodymap_drawing(bodymap, "posterior", marks, pairs, width=WIDTH)
    strings = _strings(d)
    for label in ("BL23 L", "BL23 R", "GV4", "GB30 L", "TrP QL L", "Ashi R", "Cup R"):
        assert label in strings
    labels = [n for n in _walk(d) if isinstance(n, String) and n.text == "BL23 L"]
    assert labels[0].fontSize >= 6.5 and LABEL_FONT_SIZE >= 6.5


def test_labels_can_be_left_out(bodymap: BodyMap) -> None:
    """With labels off, marks are drawn but their labels are not."""
    marks, _ = sample_marks(bodymap)
    d = bodymap_drawing(bodymap, "posterior", marks, width=WIDTH, labels=False)
    assert "BL23 L" not in _strings(d)
    assert len(d.mark_positions) == 11


def test_ea_lead_drawn_only_for_pairs_on_this_view(bodymap: BodyMap) -> None:
    """An EA lead is drawn when both marks are on the view, never across views."""
    marks, _ = sample_marks(bodymap)
    on_view = bodymap_drawing(bodymap, "posterior", marks, [(1, 3)], width=WIDTH)
    across = bodymap_drawing(bodymap, "posterior", marks, [(1, 20)], width=WIDTH)
    none = bodymap_drawing(bodymap, "posterior", marks, [], width=WIDTH)
    assert len(_ea_lines(on_view)) == 1
    assert _ea_lines(across) == [] and _ea_lines(none) == []
    lead = _ea_lines(on_view)[0]
    ends = {(round(lead.x1, 3), round(lead.y1, 3)), (round(lead.x2, 3), round(lead.y2, 3))}
    expected = {tuple(round(v, 3) for v in on_view.mark_positions[i]) for i in (1, 3)}
    assert ends == expected


@pytest.mark.parametrize("view_id", ["posterior", "lateral_leg", "medial_leg"])
def test_drawing_keeps_aspect_ratio_and_fits_width(bodymap: BodyMap, view_id: str) -> None:
    """An uncropped figure is exactly the requested width with the view's aspect ratio."""
    view = bodymap.views[view_id]
    d = bodymap_drawing(bodymap, view_id, [], width=WIDTH, crop=False)
    assert d.width == pytest.approx(WIDTH)
    assert d.height / d.width == pytest.approx(view.height / view.width)


def test_drawing_fits_inside_width_and_height(bodymap: BodyMap) -> None:
    """Given a height too, the figure fits inside both and keeps its aspect ratio."""
    view = bodymap.views["posterior"]
    d = bodymap_drawing(bodymap, "posterior", [], width=WIDTH, height=200.0, crop=False)
    assert d.width <= WIDTH + 1e-6 and d.height == pytest.approx(200.0)
    assert d.height / d.width == pytest.approx(view.height / view.width)


def test_crop_keeps_all_marks_and_labels_inside(bodymap: BodyMap) -> None:
    """A cropped figure is smaller than the view yet holds every mark and label."""
    marks, pairs = sample_marks(bodymap)
    lumbar = [m for m in marks if m.id in (1, 2, 3, 4, 5, 9, 11)]
    d = bodymap_drawing(bodymap, "posterior", lumbar, pairs, width=WIDTH)
    x0, y0, x1, y1 = d.crop
    view = bodymap.views["posterior"]
    assert (y1 - y0) < view.height / 2
    assert d.width == pytest.approx(WIDTH)
    for row in lumbar:
        assert x0 < row.spec.x < x1 and y0 < row.spec.y < y1
        px, py = d.mark_positions[row.id]
        assert 0 < px < d.width and 0 < py < d.height
    for node in _walk(d):
        if isinstance(node, String) and node.fontName == SANS_BOLD:
            assert node.x >= -0.5 and node.y >= -0.5 and node.y <= d.height


def test_crop_adds_side_hints_when_panel_labels_are_cut(bodymap: BodyMap) -> None:
    """A crop that cuts off the top labels still names the patient's left and right."""
    marks, _ = sample_marks(bodymap)
    lumbar = [m for m in marks if m.id in (1, 2, 5)]
    cropped = _strings(bodymap_drawing(bodymap, "posterior", lumbar, width=WIDTH))
    assert "Patient's LEFT" in cropped and "Patient's RIGHT" in cropped
    narrow = _strings(bodymap_drawing(bodymap, "posterior", lumbar, width=90.0))
    assert "L" in narrow and "R" in narrow


def test_crop_keeps_a_minimum_height(bodymap: BodyMap) -> None:
    """A single mark still shows a recognisable stretch of the body."""
    marks, _ = sample_marks(bodymap)
    d = bodymap_drawing(bodymap, "posterior", marks[4:5], width=WIDTH)
    x0, y0, x1, y1 = d.crop
    assert y1 - y0 >= 400 and x1 - x0 >= 400


def test_uncropped_full_view_has_panel_labels(bodymap: BodyMap) -> None:
    """The full posterior view prints its side labels at a legible size."""
    d = bodymap_drawing(bodymap, "posterior", [], width=WIDTH, crop=False)
    labels = {n.text: n for n in _walk(d) if isinstance(n, String)}
    assert labels["Patient's LEFT"].fontSize >= 8 and labels["Patient's RIGHT"].fontSize >= 8
    assert labels["Patient's LEFT"].x < WIDTH / 2 < labels["Patient's RIGHT"].x


def test_mark_geometry_matches_the_model(bodymap: BodyMap) -> None:
    """BL23 lands at the same relative position in the figure as in the view."""
    marks, _ = sample_marks(bodymap)
    view = bodymap.views["posterior"]
    bl23 = marks[0]
    d = bodymap_drawing(bodymap, "posterior", marks, width=WIDTH, crop=False)
    px, py = d.mark_positions[1]
    assert px / d.width == pytest.approx(bl23.spec.x / view.width)
    assert 1 - py / d.height == pytest.approx(bl23.spec.y / view.height)
    cropped = bodymap_drawing(bodymap, "posterior", marks, width=WIDTH)
    assert cropped.to_model(*cropped.mark_positions[1]) == pytest.approx((bl23.spec.x, bl23.spec.y))
    blue = [
        n
        for n in _walk(cropped)
        if isinstance(n, Circle)
        and n.fillColor is not None
        and n.fillColor.hexval() == HexColor("#1f6fb2").hexval()
    ]
    assert any((n.cx, n.cy) == pytest.approx(cropped.mark_positions[1]) for n in blue)


def test_left_labels_sit_left_and_right_labels_right(bodymap: BodyMap) -> None:
    """Labels point away from the midline: L to the left, R to the right, midline below."""
    marks, _ = sample_marks(bodymap)
    d = bodymap_drawing(bodymap, "posterior", marks, width=WIDTH)
    labels = {n.text: n for n in _walk(d) if isinstance(n, String)}
    assert labels["BL23 L"].x < d.mark_positions[1][0]
    assert labels["BL23 R"].x > d.mark_positions[2][0]
    assert labels["GV4"].y < d.mark_positions[5][1]


def test_ghost_marks_are_drawn_without_labels(bodymap: BodyMap) -> None:
    """The previous visit's marks are drawn faded and unlabelled."""
    marks, _ = sample_marks(bodymap)
    d = bodymap_drawing(bodymap, "posterior", marks[:1], width=WIDTH, ghost=marks[1:2])
    assert "BL23 R" not in _strings(d)
    assert 2 not in d.mark_positions


def test_legend_contains_the_kinds_asked_for(bodymap: BodyMap) -> None:
    """The legend names exactly the kinds asked for, and EA leads when used."""
    strings = _strings(legend_drawing(WIDTH, ["acupoint", "cupping"], has_ea=True))
    assert strings == ["Acupoint", "Cupping site", "Electroacupuncture lead"]
    every = _strings(legend_drawing(120.0, ["ashi", "trigger_point", "acupoint"], False))
    assert every == ["Acupoint", "Trigger point", "Ashi point"]


def test_figures_for_visit_in_view_order(bodymap: BodyMap) -> None:
    """One figure per view with marks, posterior first, then lateral and medial leg."""
    marks, pairs = sample_marks(bodymap)
    titles = [t for t, _ in figures_for_visit(bodymap, marks, pairs, WIDTH)]
    assert titles == ["Posterior view", "Lateral leg", "Medial leg"]
    only_medial = [m for m in marks if m.spec.view == "medial_leg"]
    figures = figures_for_visit(bodymap, only_medial, pairs, WIDTH, max_height=150.0)
    assert [t for t, _ in figures] == ["Medial leg"]
    assert figures[0][1].height <= 150.0 + 1e-6


def test_rendered_pdf_has_label_text(bodymap: BodyMap, tmp_path: Path) -> None:
    """A figure rendered to PDF carries its labels as extractable text."""
    marks, pairs = sample_marks(bodymap)
    d = bodymap_drawing(bodymap, "posterior", marks, pairs, width=WIDTH)
    out = tmp_path / "figure.pdf"
    renderPDF.drawToFile(d, str(out))
    text = PdfReader(out).pages[0].extract_text()
    assert "BL23 L" in text and "TrP QL L" in text


def build_sample_page(bodymap: BodyMap, out: Path) -> None:
    """A two-page sample of the figures as a visit summary would print them."""
    marks, pairs = sample_marks(bodymap)
    styles = getSampleStyleSheet()
    title = styles["Heading2"].clone("t", fontName=SANS_BOLD)
    caption = styles["Normal"].clone("c", fontName=SANS_BOLD, fontSize=9)
    frame_w = A4[0] - 40 * mm
    figures = figures_for_visit(bodymap, marks, pairs, frame_w, max_height=A4[1] - 95 * mm)
    kinds = {m.kind for m in marks}
    story: list[Any] = [Paragraph("Body map — visit 12 (sample)", title)]
    posterior = figures[0]
    story += [Paragraph(posterior[0], caption), Spacer(1, 2 * mm), posterior[1], Spacer(1, 3 * mm)]
    story.append(legend_drawing(frame_w, kinds, has_ea=bool(pairs)))
    legs = [
        bodymap_drawing(bodymap, v, marks, pairs, width=frame_w / 2 - 6 * mm)
        for v in ("lateral_leg", "medial_leg")
    ]
    table = Table(
        [[Paragraph("Lateral leg", caption), Paragraph("Medial leg", caption)], legs],
        colWidths=[frame_w / 2, frame_w / 2],
    )
    table.setStyle([("VALIGN", (0, 0), (-1, -1), "TOP")])
    story += [Spacer(1, 6 * mm), KeepTogether([table])]
    doc = SimpleDocTemplate(
        str(out), pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, invariant=1
    )
    doc.build(story)


def test_sample_page_renders_every_view(bodymap: BodyMap, tmp_path: Path) -> None:
    """The sample page prints all three views with their labels and the legend."""
    out = tmp_path / "sample.pdf"
    build_sample_page(bodymap, out)
    text = "\n".join(p.extract_text() for p in PdfReader(out).pages)
    for label in ("BL23 L", "GV4", "GB34 R", "SP6 L", "KI3 L", "Electroacupuncture lead"):
        assert label in text


def test_outline_forms_carry_their_own_opacities(bodymap: BodyMap, tmp_path: Path) -> None:
    """The body outline, written once as a form and placed on several pages, names the
    graphics states (opacities) its guide lines use in its own resources, so every viewer
    draws the guides faint as on screen rather than borrowing whatever states the page has."""
    import re

    marks, pairs = sample_marks(bodymap)
    out = tmp_path / "pages.pdf"
    frame_w = A4[0] - 40 * mm
    story: list[Any] = []
    for scale in (1.0, 0.8, 1.0):  # the same outline on three pages, at two sizes
        story += [
            bodymap_drawing(bodymap, "posterior", marks, pairs, width=frame_w * scale / 2),
            PageBreak(),
        ]
    SimpleDocTemplate(str(out), pagesize=A4, invariant=1).build(story)
    forms = []
    for page in PdfReader(out).pages:
        for name, ref in (page["/Resources"].get("/XObject") or {}).items():
            if "BodyOutline" in name:
                forms.append(ref.get_object())
    assert forms
    for form in forms:
        used = set(re.findall(r"/(gRLs\d+) gs", form.get_data().decode("latin-1")))
        assert used, "the outline's guides are drawn translucent"
        named = set(form["/Resources"].get("/ExtGState", {}))
        assert {f"/{u}" for u in used} <= named
