"""The body map driven with real mouse clicks, drags, keys and the wheel."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QContextMenuEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from charting.bodymap import BodyMap, load_bodymap
from charting.services.marks import MarkRow, MarkSpec
from charting.ui.bodymap import BodyMapView

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def bm() -> BodyMap:
    """The shared body model."""
    return load_bodymap()


@pytest.fixture
def view(qtbot, bm: BodyMap) -> Iterator[BodyMapView]:  # type: ignore[no-untyped-def]
    """The body map, shown at 700 x 900 on the posterior view."""
    widget = BodyMapView(bm)
    qtbot.addWidget(widget)
    widget.resize(700, 900)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget


def _point_row(bm: BodyMap, mark_id: int, code: str, side: str, view_id: str) -> MarkRow:
    pos = bm.position(code, side, view_id)  # type: ignore[arg-type]
    assert pos is not None
    spec = MarkSpec("acupoint", view_id, pos[0], pos[1], side, point_code=code)
    return MarkRow(mark_id, 1, spec, bm.point(code).flags)


def _free_row(mark_id: int, kind: str, x: float, y: float, side: str) -> MarkRow:
    return MarkRow(mark_id, 1, MarkSpec(kind, "posterior", x, y, side))


def _click(qtbot, view: BodyMapView, x: float, y: float, shift: bool = False) -> None:  # type: ignore[no-untyped-def]
    modifier = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    qtbot.mouseClick(view.viewport(), LEFT, modifier, view.viewport_point(x, y))


def _pixel(view: BodyMapView) -> float:
    """One screen pixel in model units at the current zoom."""
    return 1.0 / view.zoom()


def _muscle_spot(bm: BodyMap, muscle_id: str, side: str) -> tuple[float, float]:
    """A spot inside a muscle region, well away from every catalog point."""
    poly = bm.muscle_regions(muscle_id, "posterior", side)[0]  # type: ignore[arg-type]
    xs, ys = [p[0] for p in poly], [p[1] for p in poly]
    best: tuple[float, float] | None = None
    for i in range(1, 20):
        for j in range(1, 20):
            x = min(xs) + (max(xs) - min(xs)) * i / 20
            y = min(ys) + (max(ys) - min(ys)) * j / 20
            around = [(x + dx, y + dy) for dx in (-4, 0, 4) for dy in (-4, 0, 4)]
            hits = [bm.muscle_at("posterior", ax, ay) for ax, ay in around]
            if any(h is None or h.muscle.id != muscle_id for h in hits):
                continue
            if bm.nearest_point("posterior", x, y, tolerance_cun=1.0) is None:
                best = (x, y)
                break
        if best:
            break
    assert best is not None, f"no free spot on {muscle_id}"
    return best


class _Recorder:
    """Collects every placement signal of a view."""

    def __init__(self, view: BodyMapView) -> None:
        self.calls: list[tuple[str, tuple[object, ...]]] = []
        for name in ("point_clicked", "trigger_clicked", "free_clicked", "mark_moved"):
            getattr(view, name).connect(lambda *a, n=name: self.calls.append((n, a)))


# --- clicks ---------------------------------------------------------------------------------


def test_click_on_bl23_left_snaps_to_the_catalog_point(qtbot, view: BodyMapView, bm) -> None:  # type: ignore[no-untyped-def]
    """Clicking BL23 on the patient's left charts BL23 L at the catalog position."""
    x, y = bm.position("BL23", "L", "posterior")
    with qtbot.waitSignal(view.point_clicked, timeout=1000) as blocker:
        _click(qtbot, view, x, y)
    assert blocker.args[:3] == ["posterior", "BL23", "L"]
    assert blocker.args[3:] == pytest.approx([x, y])


def test_click_slightly_off_still_snaps(qtbot, view: BodyMapView, bm) -> None:  # type: ignore[no-untyped-def]
    """A click 0.3 cun lateral of BL23 still charts BL23 at its exact position."""
    x, y = bm.position("BL23", "L", "posterior")
    upc = bm.units_per_cun("posterior", x, y)
    with qtbot.waitSignal(view.point_clicked, timeout=1000) as blocker:
        _click(qtbot, view, x - 0.3 * upc, y)
    assert blocker.args[:3] == ["posterior", "BL23", "L"]
    assert blocker.args[3:] == pytest.approx([x, y])


def test_click_on_the_right_gives_side_r_and_midline_gives_m(qtbot, view: BodyMapView, bm) -> None:  # type: ignore[no-untyped-def]
    """The patient's right BL23 is side R; GV4 on the midline is side M."""
    with qtbot.waitSignal(view.point_clicked, timeout=1000) as blocker:
        _click(qtbot, view, *bm.position("BL23", "R", "posterior"))
    assert blocker.args[1:3] == ["BL23", "R"]
    with qtbot.waitSignal(view.point_clicked, timeout=1000) as blocker:
        _click(qtbot, view, *bm.position("GV4", "M", "posterior"))
    assert blocker.args[1:3] == ["GV4", "M"]


@pytest.mark.parametrize(
    ("muscle_id", "side"), [("quadratus_lumborum", "L"), ("gluteus_maximus", "R")]
)
def test_click_over_a_muscle_charts_a_trigger_point_at_the_click(  # type: ignore[no-untyped-def]
    qtbot, view: BodyMapView, bm, muscle_id: str, side: str
) -> None:
    """A click over a muscle away from points is a trigger point exactly where clicked."""
    x, y = _muscle_spot(bm, muscle_id, side)
    pixel = view.viewport_point(x, y)
    with qtbot.waitSignal(view.trigger_clicked, timeout=1000) as blocker:
        qtbot.mouseClick(view.viewport(), LEFT, pos=pixel)
    assert blocker.args[:3] == ["posterior", muscle_id, side]
    assert blocker.args[3:] == pytest.approx(list(view.model_position(pixel)))
    assert blocker.args[3] == pytest.approx(x, abs=_pixel(view))
    assert blocker.args[4] == pytest.approx(y, abs=_pixel(view))


def test_shift_click_and_modes_place_free_marks(qtbot, view: BodyMapView, bm) -> None:  # type: ignore[no-untyped-def]
    """Shift+click places an ashi point; the ashi and cupping modes place their kinds."""
    x, y = bm.position("BL23", "L", "posterior")
    with qtbot.waitSignal(view.free_clicked, timeout=1000) as blocker:
        _click(qtbot, view, x, y, shift=True)
    assert blocker.args[:3] == ["ashi", "posterior", "L"]
    assert blocker.args[3] == pytest.approx(x, abs=_pixel(view))
    for mode in ("ashi", "cupping"):
        view.set_mode(mode)
        assert view.mode == mode
        with qtbot.waitSignal(view.free_clicked, timeout=1000) as blocker:
            _click(qtbot, view, *bm.position("BL25", "R", "posterior"))
        assert blocker.args[:3] == [mode, "posterior", "R"]


def test_click_outside_the_body_does_nothing(qtbot, view: BodyMapView) -> None:  # type: ignore[no-untyped-def]
    """A click on the white paper beside the figure charts nothing."""
    recorder = _Recorder(view)
    _click(qtbot, view, 60.0, 1300.0)
    _click(qtbot, view, 60.0, 1300.0, shift=True)
    assert recorder.calls == []


# --- marks ----------------------------------------------------------------------------------


def test_marks_are_drawn_on_their_own_view_only(view: BodyMapView, bm) -> None:  # type: ignore[no-untyped-def]
    """Each view shows its own marks with their labels; marks never bleed between views."""
    rows = [
        _point_row(bm, 1, "BL23", "L", "posterior"),
        _point_row(bm, 2, "GV4", "M", "posterior"),
        _point_row(bm, 3, "GB34", "L", "lateral_leg"),
    ]
    view.set_marks(rows)
    assert view.mark_item_count() == 2
    assert view.mark_item(1).label.text == "BL23 L"
    assert view.mark_item(2).label.text == "GV4"
    assert view.mark_item(3) is None
    with_signal: list[str] = []
    view.view_changed.connect(with_signal.append)
    view.set_view("lateral_leg")
    assert with_signal == ["lateral_leg"]
    assert view.mark_item_count() == 1
    assert view.mark_item(3).label.text == "GB34 L"
    assert view.mark_item(1) is None
    view.set_view("posterior")
    assert view.mark_item_count() == 2


def test_set_marks_updates_only_the_changed_items(view: BodyMapView, bm) -> None:  # type: ignore[no-untyped-def]
    """Adding, moving or removing one of 300 marks touches only that mark's item."""
    x, y = bm.position("BL23", "L", "posterior")
    rows = [_free_row(i, "ashi", x + (i % 20), y + (i // 20), "L") for i in range(1, 301)]
    view.set_marks(rows)
    assert view.mark_item_count() == 300
    before = {i: view.mark_item(i) for i in range(1, 301)}
    moved = _free_row(5, "ashi", x + 30, y + 30, "L")
    rows2 = [*rows[:4], moved, *rows[5:], _free_row(301, "cupping", x, y + 60, "L")]
    view.set_marks(rows2[1:])  # drop mark 1
    assert view.mark_item_count() == 300
    assert view.mark_item(1) is None
    assert all(view.mark_item(i) is before[i] for i in range(2, 301))
    assert (view.mark_item(5).pos().x(), view.mark_item(5).pos().y()) == (x + 30, y + 30)
    assert view.mark_item(301).label.text == "Cup L"


def test_lung_points_carry_a_depth_caution_badge(view: BodyMapView, bm) -> None:  # type: ignore[no-untyped-def]
    """A marked point over the lung (BL13) shows the caution badge; BL23 does not."""
    view.set_marks(
        [_point_row(bm, 1, "BL13", "L", "posterior"), _point_row(bm, 2, "BL23", "L", "posterior")]
    )
    assert view.mark_item(1).label.has_caution_badge
    assert not view.mark_item(2).label.has_caution_badge


def test_drag_a_mark_to_a_new_place(qtbot, view: BodyMapView, bm) -> None:  # type: ignore[no-untyped-def]
    """Dragging a mark and releasing it on the body reports its new position once."""
    x, y = bm.position("BL23", "L", "posterior")
    view.set_marks([_point_row(bm, 7, "BL23", "L", "posterior")])
    start = view.viewport_point(x, y)
    end = start + QPoint(-30, 25)
    moves: list[tuple[int, float, float]] = []
    view.mark_moved.connect(lambda *a: moves.append(a))
    qtbot.mousePress(view.viewport(), LEFT, pos=start)
    qtbot.mouseMove(view.viewport(), pos=start + QPoint(-10, 8))
    qtbot.mouseMove(view.viewport(), pos=end)
    qtbot.mouseRelease(view.viewport(), LEFT, pos=end)
    assert len(moves) == 1
    mark_id, nx, ny = moves[0]
    ex, ey = view.model_position(end)
    assert mark_id == 7
    assert nx == pytest.approx(ex, abs=1.5 * _pixel(view))
    assert ny == pytest.approx(ey, abs=1.5 * _pixel(view))


def test_drag_off_the_body_snaps_back(qtbot, view: BodyMapView, bm) -> None:  # type: ignore[no-untyped-def]
    """A mark dropped on the paper beside the figure returns to its place, unreported."""
    x, y = bm.position("BL40", "L", "posterior")
    view.set_marks([_point_row(bm, 8, "BL40", "L", "posterior")])
    recorder = _Recorder(view)
    start = view.viewport_point(x, y)
    end = view.viewport_point(40.0, y)
    qtbot.mousePress(view.viewport(), LEFT, pos=start)
    qtbot.mouseMove(view.viewport(), pos=start + QPoint(-12, 0))
    qtbot.mouseMove(view.viewport(), pos=end)
    qtbot.mouseRelease(view.viewport(), LEFT, pos=end)
    assert recorder.calls == []
    item = view.mark_item(8)
    assert (item.pos().x(), item.pos().y()) == pytest.approx((x, y))


def test_click_a_mark_selects_it_and_delete_asks_to_delete(qtbot, view: BodyMapView, bm) -> None:  # type: ignore[no-untyped-def]
    """Clicking a mark selects it (no new mark); Delete asks to delete it; Escape clears."""
    x, y = bm.position("BL23", "L", "posterior")
    view.set_marks([_point_row(bm, 3, "BL23", "L", "posterior")])
    recorder = _Recorder(view)
    with qtbot.waitSignal(view.selection_changed, timeout=1000) as blocker:
        _click(qtbot, view, x, y)
    assert blocker.args == [[3]]
    assert recorder.calls == []
    with qtbot.waitSignal(view.delete_requested, timeout=1000) as blocker:
        qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert blocker.args == [[3]]
    with qtbot.waitSignal(view.selection_changed, timeout=1000) as blocker:
        qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert blocker.args == [[]]
    assert view.selected_mark_ids() == []


def test_click_on_a_label_selects_its_mark(qtbot, view: BodyMapView, bm) -> None:  # type: ignore[no-untyped-def]
    """Clicking a mark's label selects that mark instead of charting a new one."""
    view.set_marks([_point_row(bm, 4, "BL40", "R", "posterior")])
    label = view.mark_item(4).label
    centre = label.mapToScene(label.boundingRect().center())
    recorder = _Recorder(view)
    qtbot.mouseClick(view.viewport(), LEFT, pos=view.mapFromScene(centre))
    assert view.selected_mark_ids() == [4]
    assert recorder.calls == []


# The offscreen platform cannot raise a popup or grab the keyboard for it.
@pytest.mark.qt_log_ignore("This plugin does not support")
def test_double_click_and_context_menu_open_details(qtbot, view: BodyMapView, bm) -> None:  # type: ignore[no-untyped-def]
    """Double-click or "Edit details…" activates a mark; the menu's Delete asks to delete."""
    x, y = bm.position("BL25", "R", "posterior")
    view.set_marks([_point_row(bm, 9, "BL25", "R", "posterior")])
    pixel = view.viewport_point(x, y)
    with qtbot.waitSignal(view.mark_activated, timeout=1000) as blocker:
        qtbot.mouseDClick(view.viewport(), LEFT, pos=pixel)
    assert blocker.args == [9]
    event = QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, pixel, view.viewport().mapToGlobal(pixel)
    )
    QApplication.sendEvent(view.viewport(), event)
    menu = view.context_menu
    assert menu is not None
    actions = {a.text(): a for a in menu.actions()}
    assert set(actions) == {"Edit details…", "Delete"}
    with qtbot.waitSignal(view.delete_requested, timeout=1000) as blocker:
        actions["Delete"].trigger()
    assert blocker.args == [[9]]
    with qtbot.waitSignal(view.mark_activated, timeout=1000) as blocker:
        actions["Edit details…"].trigger()
    assert blocker.args == [9]
    menu.close()


def test_ghost_marks_are_faded_and_not_selectable(qtbot, view: BodyMapView, bm) -> None:  # type: ignore[no-untyped-def]
    """Last visit's marks show faded, let clicks through to the body, and can be hidden."""
    x, y = bm.position("BL23", "L", "posterior")
    view.set_ghost_marks(
        [_point_row(bm, 50, "BL23", "L", "posterior"), _point_row(bm, 51, "BL40", "L", "posterior")]
    )
    assert view.ghost_item_count() == 2
    assert view.mark_item_count() == 0
    ghost = view.ghost_item(50)
    assert ghost.isVisible()
    assert ghost.opacity() < 0.5
    assert not ghost.flags() & ghost.GraphicsItemFlag.ItemIsSelectable
    with qtbot.waitSignal(view.point_clicked, timeout=1000) as blocker:
        _click(qtbot, view, x, y)
    assert blocker.args[1:3] == ["BL23", "L"]
    assert view.selected_mark_ids() == []
    view.set_ghosts_visible(False)
    assert not ghost.isVisible()
    view.set_ghosts_visible(True)
    assert ghost.isVisible()


# --- zoom, hover, pregnancy ------------------------------------------------------------------


def test_zoom_keys_buttons_and_fit(qtbot, view: BodyMapView) -> None:  # type: ignore[no-untyped-def]
    """Zoom in and out change the scale; Ctrl+= and Ctrl+0 zoom and fit again."""
    fitted = view.zoom()
    view.zoom_in()
    assert view.zoom() == pytest.approx(fitted * 1.25)
    view.zoom_out()
    assert view.zoom() == pytest.approx(fitted)
    qtbot.keyClick(view, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom() > fitted
    qtbot.keyClick(view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom() < fitted
    qtbot.keyClick(view, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom() == pytest.approx(fitted)


def test_wheel_zooms_around_the_cursor(view: BodyMapView, bm) -> None:  # type: ignore[no-untyped-def]
    """The wheel zooms in while the body spot under the cursor stays under it."""
    fitted = view.zoom()
    x, y = bm.position("BL40", "L", "posterior")
    pixel = view.viewport_point(x, y)
    event = QWheelEvent(
        QPointF(pixel),
        QPointF(view.viewport().mapToGlobal(pixel)),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), event)
    assert view.zoom() == pytest.approx(fitted * 1.25**2)
    after = view.viewport_point(x, y)
    assert abs(after.x() - pixel.x()) <= 2
    assert abs(after.y() - pixel.y()) <= 2


def test_hovering_a_muscle_shows_its_referral_pattern(qtbot, view: BodyMapView, bm) -> None:  # type: ignore[no-untyped-def]
    """Hovering quadratus lumborum draws its referral zones; leaving the body removes them."""
    x, y = _muscle_spot(bm, "quadratus_lumborum", "L")
    texts: list[str] = []
    view.hover_text_changed.connect(texts.append)
    qtbot.mouseMove(view.viewport(), pos=view.viewport_point(x, y))
    qtbot.waitUntil(lambda: view.referral_item_count() > 0, timeout=1000)
    assert any("Quadratus lumborum" in t for t in texts)
    assert "Quadratus lumborum" in view.tooltip_at(view.viewport_point(x, y))
    qtbot.mouseMove(view.viewport(), pos=view.viewport_point(40.0, 1300.0))
    qtbot.waitUntil(lambda: view.referral_item_count() == 0, timeout=1000)


def test_hovering_near_a_point_shows_where_a_click_snaps(qtbot, view: BodyMapView, bm) -> None:  # type: ignore[no-untyped-def]
    """Near BL23 the snap target is ringed and its tooltip gives names and cautions."""
    x, y = bm.position("BL23", "L", "posterior")
    pixel = view.viewport_point(x - 5, y + 3)
    qtbot.mouseMove(view.viewport(), pos=pixel)
    qtbot.waitUntil(lambda: view.hovered_point() == "BL23 L", timeout=1000)
    assert view.referral_item_count() == 0
    tip = view.tooltip_at(pixel)
    for text in ("BL23", "Shènshū", "肾俞", "Kidney Transporter", "Low back pain", "KIDNEY"):
        assert text in tip


def _has_pink(view: BodyMapView, x: float, y: float, reach: int) -> bool:
    image = view.viewport().grab().toImage()
    centre = view.viewport_point(x, y)
    for dx in range(-reach, reach + 1):
        for dy in range(-reach, reach + 1):
            c = QColor(image.pixel(centre.x() + dx, centre.y() + dy))
            if c.red() > 190 and c.green() < 140 and c.blue() > 80:
                return True
    return False


def test_pregnancy_highlights_cautioned_points(qtbot, view: BodyMapView, bm) -> None:  # type: ignore[no-untyped-def]
    """With a pregnant patient SP6 is ringed in pink; without, it is not."""
    view.set_view("medial_leg")
    x, y = bm.position("SP6", "L", "medial_leg")
    reach = round(0.7 * bm.units_per_cun("medial_leg", x, y) * view.zoom())
    assert view.pregnancy_highlights() == []
    assert not _has_pink(view, x, y, reach)
    view.set_pregnant(True)
    assert ("SP6", "L") in view.pregnancy_highlights()
    assert _has_pink(view, x, y, reach)
    view.set_view("posterior")
    assert ("GB21", "R") in view.pregnancy_highlights()
