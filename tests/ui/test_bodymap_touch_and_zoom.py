"""The body map on a touch screen (tap, pinch, drag) and what a zoom paints."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from charting.bodymap import BodyMap, load_bodymap
from charting.bodymap.style import mark_style
from charting.services.marks import MarkRow, MarkSpec, list_marks
from charting.services.visits import start_visit
from charting.ui.bodymap import BodyMapView

BM = load_bodymap()
#: Qt keeps input devices for the whole run: one touch screen for every test.
TOUCH = QTest.createTouchDevice()


@pytest.fixture
def view(qtbot) -> Iterator[BodyMapView]:  # type: ignore[no-untyped-def]
    """The body map, shown at 700 x 900 on the posterior view."""
    widget = BodyMapView(BM)
    qtbot.addWidget(widget)
    widget.resize(700, 900)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget


def _row(bm: BodyMap, mark_id: int, code: str, side: str) -> MarkRow:
    pos = bm.position(code, side, "posterior")  # type: ignore[arg-type]
    assert pos is not None
    spec = MarkSpec("acupoint", "posterior", pos[0], pos[1], side, point_code=code)
    return MarkRow(mark_id, 1, spec, bm.point(code).flags)


def _touch(view: BodyMapView):  # type: ignore[no-untyped-def]
    return QTest.touchEvent(view.viewport(), TOUCH)


def _pinch(view: BodyMapView, centre: QPoint, start: int, end: int, steps: int = 4) -> None:
    """Two fingers placed ``start`` px either side of ``centre`` and moved to ``end`` px."""
    vp = view.viewport()
    _touch(view).press(0, centre - QPoint(start, 0), vp).press(1, centre + QPoint(start, 0), vp)
    _touch(view).commit()
    for i in range(1, steps + 1):
        d = start + (end - start) * i // steps
        _touch(view).move(0, centre - QPoint(d, 0), vp).move(1, centre + QPoint(d, 0), vp).commit()
    _touch(view).release(0, centre - QPoint(end, 0), vp).release(1, centre + QPoint(end, 0), vp)
    _touch(view).commit()
    QApplication.processEvents()


def test_two_fingers_moving_apart_zoom_in_about_their_centre(view: BodyMapView) -> None:
    """A pinch outwards zooms in, and the body spot between the fingers stays between them."""
    before = view.zoom()
    x, y = BM.position("BL40", "L", "posterior")  # type: ignore[misc]
    centre = view.viewport_point(x, y)
    _pinch(view, centre, 40, 120)
    assert view.zoom() == pytest.approx(before * 3, rel=0.1)
    after = view.viewport_point(x, y)
    assert abs(after.x() - centre.x()) <= 3 and abs(after.y() - centre.y()) <= 3


def test_two_fingers_moving_together_zoom_out(view: BodyMapView) -> None:
    """A pinch inwards zooms out, and places nothing."""
    placed: list[object] = []
    view.point_clicked.connect(lambda *a: placed.append(a))
    view.zoom_in()
    view.zoom_in()
    before = view.zoom()
    _pinch(view, view.viewport().rect().center(), 120, 60)
    assert view.zoom() < before * 0.7
    assert placed == []


def test_a_tap_places_like_a_click_and_a_drag_pans(view: BodyMapView) -> None:
    """A tap on BL23 asks for BL23 L; a one-finger drag pans the map and places nothing."""
    placed: list[tuple[object, ...]] = []
    view.point_clicked.connect(lambda *a: placed.append(a))
    vp = view.viewport()
    spot = view.viewport_point(*BM.position("BL23", "L", "posterior"))  # type: ignore[misc]
    _touch(view).press(0, spot, vp).commit()
    _touch(view).release(0, spot, vp).commit()
    assert [(p[1], p[2]) for p in placed] == [("BL23", "L")]
    view.zoom_in()
    before = view.viewport_point(*BM.position("BL23", "L", "posterior"))  # type: ignore[misc]
    _touch(view).press(0, spot, vp).commit()
    for dy in (20, 40, 60, 80):
        _touch(view).move(0, spot + QPoint(0, dy), vp).commit()
    _touch(view).release(0, spot + QPoint(0, 80), vp).commit()
    after = view.viewport_point(*BM.position("BL23", "L", "posterior"))  # type: ignore[misc]
    assert after.y() - before.y() == pytest.approx(80, abs=3)
    assert len(placed) == 1


def test_a_tap_on_the_visit_page_stores_the_point(  # type: ignore[no-untyped-def]
    qtbot, window, make_patient, practitioner_id
) -> None:
    """On the visit page a finger's tap on BL25 right stores BL25 R, like a click."""
    pid = make_patient()
    with window.database.write() as session:
        vid, _ = start_visit(session, pid, practitioner_id)
    window.resize(1280, 800)
    window.select_patient(pid)
    assert window.open_visit(vid)
    qtbot.wait(20)
    page_map = window.visit_chart.map
    spot = page_map.viewport_point(*BM.position("BL25", "R", page_map.view_id))  # type: ignore[misc]
    _touch(page_map).press(0, spot, page_map.viewport()).commit()
    _touch(page_map).release(0, spot, page_map.viewport()).commit()
    QApplication.processEvents()
    with window.database.read() as session:
        stored = [(r.spec.point_code, r.spec.side) for r in list_marks(session, vid, BM)]
    assert stored == [("BL25", "R")]


# --- what a zoom paints -----------------------------------------------------------------------


def _close(a: QColor, b: QColor, tolerance: int = 24) -> bool:
    return all(abs(p - q) <= tolerance for p, q in zip(a.getRgb()[:3], b.getRgb()[:3], strict=True))


def test_marks_are_painted_on_their_points_at_every_zoom(view: BodyMapView) -> None:
    """Each mark's dot is painted on its point after zoom steps in and out, and settled."""
    rows = [
        _row(BM, i, code, side)
        for i, (code, side) in enumerate(
            [("BL23", "L"), ("BL25", "R"), ("BL40", "L"), ("GB30", "R")], start=1
        )
    ]
    view.set_marks(rows)
    fill = QColor(mark_style("acupoint").fill)
    for step in (view.zoom_in, view.zoom_in, view.zoom_out, view.layout_labels, view.zoom_in):
        step()
        image = view.viewport().grab().toImage()
        for row in rows:
            at = view.viewport_point(row.spec.x, row.spec.y)
            if view.viewport().rect().contains(at):
                assert _close(image.pixelColor(at), fill), (row.label, view.zoom())


def _difference(a: QImage, b: QImage) -> float:
    """Share of pixels that differ noticeably between two images of the same size."""
    assert a.size() == b.size()
    differ = 0
    for x, y in itertools.product(range(0, a.width(), 3), range(0, a.height(), 3)):
        if not _close(a.pixelColor(x, y), b.pixelColor(x, y), 40):
            differ += 1
    return differ / ((a.width() // 3 + 1) * (a.height() // 3 + 1))


def test_a_settled_zoom_paints_as_crisply_as_a_fresh_map(qtbot, view: BodyMapView) -> None:  # type: ignore[no-untyped-def]
    """Once the wheel stops, the map looks as it does freshly opened at that zoom, and its
    labels are clear of each other."""
    rows = [
        _row(BM, i, code, "L")
        for i, code in enumerate(["BL22", "BL23", "BL24", "BL25", "BL26", "BL52", "BL53"], start=1)
    ]
    view.set_marks(rows)
    for _ in range(3):
        view.zoom_in()
    qtbot.waitUntil(lambda: not view.scene().artwork.moving, timeout=2000)  # type: ignore[attr-defined]
    settled = view.viewport().grab().toImage()

    fresh = BodyMapView(BM)
    qtbot.addWidget(fresh)
    fresh.resize(700, 900)
    fresh.show()
    qtbot.waitExposed(fresh)
    fresh.set_marks(rows)
    fresh.setTransform(view.transform())
    fresh.horizontalScrollBar().setValue(view.horizontalScrollBar().value())
    fresh.verticalScrollBar().setValue(view.verticalScrollBar().value())
    fresh.layout_labels()
    assert _difference(settled, fresh.viewport().grab().toImage()) < 0.002

    shown = view.labels()
    assert len(shown) == len(rows)
    boxes = [
        label.box.translated(QPointF(view.mapFromScene(label.mark.scenePos()))) for label in shown
    ]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.intersects(b)


def test_no_label_covers_another_including_the_guides(  # type: ignore[no-untyped-def]
    qtbot, window, make_patient, practitioner_id
) -> None:
    """With the low back charted, no two label rectangles intersect on the whole body or the
    low back, counting the landmark guides' words (T1..L5, PSIS, ...); no word covers a mark."""
    pid = make_patient()
    with window.database.write() as session:
        vid, _ = start_visit(session, pid, practitioner_id)
    window.resize(1280, 800)
    window.select_patient(pid)
    assert window.open_visit(vid)
    page = window.visit_chart
    page.point_entry.setFocus()
    qtbot.keyClicks(page.point_entry, "bl22 bl23 bl24 bl25 bl26 bl52 bl53 b, gv3 gv4 gv5 gb30 b")
    qtbot.keyClick(page.point_entry, Qt.Key.Key_Return)
    for preset in ("whole", "low_back"):
        page.map_panel.zoom_to(preset)
        page.map.layout_labels()
        marks = [
            label.box.translated(QPointF(page.map.mapFromScene(label.mark.scenePos())))
            for label in page.map.labels()
        ]
        guides = page.map.guide_label_rects()
        assert marks and len(guides) >= 5, preset
        for a, b in itertools.combinations(marks + guides, 2):
            assert not a.intersects(b), (preset, a, b)
        centres = [QPointF(page.map.viewport_point(r.spec.x, r.spec.y)) for r in page._rows]
        for rect in guides:
            assert not any(rect.contains(c) for c in centres), (preset, rect)


def test_mark_details_fit_a_laptop_screen_without_scrolling(  # type: ignore[no-untyped-def]
    qtbot, window, make_patient, practitioner_id
) -> None:
    """At 1024x768, with a cautioned point selected, the mark details' fields all show:
    nothing in the Marks tab has to be scrolled to."""
    pid = make_patient()
    with window.database.write() as session:
        vid, _ = start_visit(session, pid, practitioner_id)
    window.resize(1024, 768)
    window.select_patient(pid)
    assert window.open_visit(vid)
    page = window.visit_chart
    page.point_entry.setFocus()
    qtbot.keyClicks(page.point_entry, "bl23 b, bl25 b, gv4, bl40 b, gb30 l, bl57 l, ki3 l")
    qtbot.keyClick(page.point_entry, Qt.Key.Key_Return)
    page.map.select_marks([page._rows[0].id])
    qtbot.wait(50)
    details = page.details
    assert details.detail_caution.isVisible()  # BL23 is over the kidney
    area = page.side_tabs.widget(0)
    assert not area.verticalScrollBar().isVisible()
    for field in (
        details.technique,
        details.depth_box,
        details.response,
        details.skin,
        details.note,
    ):
        assert field.visibleRegion().boundingRect() == field.rect(), field.objectName()


def test_the_leg_views_and_the_front_open_whole(qtbot) -> None:  # type: ignore[no-untyped-def]
    """The map framed on the low back opens the leg views and the front whole, so their leg
    points (GB34, KI3, ST36) are in sight; the back view keeps its low-back framing."""
    view = BodyMapView(BM, default_region="low_back")
    qtbot.addWidget(view)
    view.resize(700, 700)
    view.show()
    qtbot.waitExposed(view)
    assert view.region == "low_back"
    for view_id, code in (("lateral_leg", "GB34"), ("medial_leg", "KI3"), ("anterior", "ST36")):
        view.set_view(view_id)
        assert view.region == "whole", view_id
        spot = view.viewport_point(*BM.position(code, "L", view_id))  # type: ignore[misc]
        assert view.viewport().rect().contains(spot), (view_id, code)
    view.set_view("posterior")
    assert view.region == "low_back"


def test_a_click_beside_a_leader_line_charts_instead_of_selecting(qtbot, view: BodyMapView) -> None:  # type: ignore[no-untyped-def]
    """Only a label's box picks its mark: a click in the space its leader line spans (away
    from every mark and label) places a point instead of selecting the labelled mark."""
    codes = ["BL22", "BL23", "BL24", "BL25", "BL26", "BL52", "GV3", "GV4", "BL53", "BL31"]
    rows = []
    for code in codes:
        for side in BM.point(code).sides:
            rows.append(_row(BM, len(rows) + 1, code, side))
    view.set_marks(rows)
    view.layout_labels()
    placed: list[object] = []
    for signal in (view.point_clicked, view.trigger_clicked, view.free_clicked):
        signal.connect(lambda *a: placed.append(a))
    led = [label for label in view.labels() if label.has_leader]
    assert led
    for label in led:
        centre = QPointF(view.mapFromScene(label.mark.scenePos()))
        span = label.boundingRect().translated(centre)
        box = label.box.translated(centre)
        for fx, fy in itertools.product((0.1, 0.3, 0.5, 0.7, 0.9), repeat=2):
            spot = QPointF(span.left() + fx * span.width(), span.top() + fy * span.height())
            near = [QPointF(view.mapFromScene(r.spec.x, r.spec.y)) for r in rows]
            clear = all((spot - c).manhattanLength() > 14 for c in near) and not any(
                other.box.translated(QPointF(view.mapFromScene(other.mark.scenePos())))
                .adjusted(-3, -3, 3, 3)
                .contains(spot)
                for other in view.labels()
            )
            if clear and not box.contains(spot):
                qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=spot.toPoint())
                assert view.selected_mark_ids() == [], label.text
                assert placed, label.text
                return
    pytest.fail("no clear spot beside a leader line")
