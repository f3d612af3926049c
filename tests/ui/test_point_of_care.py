"""The visit screen at the point of care: lumbar points apart, labels clear of each other,
region presets on keys, several points typed (and taken off) on one line."""

from __future__ import annotations

import itertools
import math

from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication, QMenu

from charting.bodymap import load_bodymap
from charting.services.marks import list_marks
from charting.services.visits import start_visit

BM = load_bodymap()


def _open(qtbot, window, make_patient, practitioner_id, size=(1280, 800)):  # type: ignore[no-untyped-def]
    pid = make_patient()
    with window.database.write() as session:
        vid, _ = start_visit(session, pid, practitioner_id)
    window.resize(*size)
    window.select_patient(pid)
    assert window.open_visit(vid)
    qtbot.wait(20)
    return window.visit_chart, vid


def _stored(database, vid: int) -> list[str]:  # type: ignore[no-untyped-def]
    with database.read() as session:
        return sorted(f"{r.spec.point_code} {r.spec.side}" for r in list_marks(session, vid, BM))


def test_lumbar_points_are_24_px_apart_at_the_default_zoom(  # type: ignore[no-untyped-def]
    qtbot, window, make_patient, practitioner_id
) -> None:
    """In a 1280x800 window the visit's map opens with BL23, BL25 and GV4 >= 24 px apart."""
    page, _ = _open(qtbot, window, make_patient, practitioner_id)
    view = page.map.view_id
    spots = {
        (code, side): page.map.viewport_point(*BM.position(code, side, view))  # type: ignore[misc]
        for code, side in (("BL23", "L"), ("BL25", "L"), ("GV4", "M"), ("BL23", "R"))
    }
    for (a, pa), (b, pb) in itertools.combinations(spots.items(), 2):
        gap = math.hypot(pa.x() - pb.x(), pa.y() - pb.y())
        assert gap >= 24, (a, b, gap)
        assert page.map.viewport().rect().contains(pa), a


def test_labels_of_many_marks_never_overlap(  # type: ignore[no-untyped-def]
    qtbot, window, make_patient, practitioner_id
) -> None:
    """With every low-back point marked, no two shown labels' rectangles intersect, and no
    label covers another mark's centre."""
    page, vid = _open(qtbot, window, make_patient, practitioner_id)
    page.point_entry.setFocus()
    qtbot.keyClicks(page.point_entry, "bl22 bl23 bl24 bl25 bl26 bl52 bl53 b, gv3 gv4 gv5")
    qtbot.keyClick(page.point_entry, Qt.Key.Key_Return)
    assert len(_stored(window.database, vid)) == 17
    for preset in ("low_back", "whole"):
        page.map_panel.zoom_to(preset)
        page.map.layout_labels()
        shown = [label for label in page.map.labels() if label.isVisible()]
        assert shown
        # A label's box is in screen pixels from its mark's centre (it ignores the zoom).
        view_rects = [
            label.box.translated(QPointF(page.map.mapFromScene(label.mark.scenePos())))
            for label in shown
        ]
        for (i, a), (j, b) in itertools.combinations(enumerate(view_rects), 2):
            assert not a.intersects(b), (shown[i].text, shown[j].text)
        centres = [QPointF(page.map.viewport_point(r.spec.x, r.spec.y)) for r in page._rows]
        for rect, label in zip(view_rects, shown, strict=True):
            own = QPointF(page.map.viewport_point(label.mark.row.spec.x, label.mark.row.spec.y))
            assert not any(rect.contains(c) for c in centres if c != own), label.text


def test_region_presets_are_on_keys(  # type: ignore[no-untyped-def]
    qtbot, window, make_patient, practitioner_id
) -> None:
    """F5 frames the whole view and F7 the low back again; the visit opens on the low back."""
    page, _ = _open(qtbot, window, make_patient, practitioner_id)
    assert page.map.region == "low_back"
    low_back_zoom = page.map.zoom()
    qtbot.keyClick(page.map, Qt.Key.Key_F5)
    assert page.map.region == "whole" and page.map.zoom() < low_back_zoom
    qtbot.keyClick(page.map, Qt.Key.Key_F7)
    assert page.map.region == "low_back"


def test_several_points_are_typed_on_one_line_and_taken_off_the_same_way(  # type: ignore[no-untyped-def]
    qtbot, window, make_patient, practitioner_id
) -> None:
    """'bl23 bl25 b, gb30 r' marks five points; '-bl25 l, gb34 r' takes one off and adds one,
    and one Undo puts the line back as it was."""
    page, vid = _open(qtbot, window, make_patient, practitioner_id)
    page.point_entry.setFocus()
    qtbot.keyClicks(page.point_entry, "bl23 bl25 b, gb30 r")
    qtbot.keyClick(page.point_entry, Qt.Key.Key_Return)
    assert _stored(window.database, vid) == ["BL23 L", "BL23 R", "BL25 L", "BL25 R", "GB30 R"]
    assert page.point_entry.text() == ""
    qtbot.keyClicks(page.point_entry, "-bl25 l, gb34 r")
    qtbot.keyClick(page.point_entry, Qt.Key.Key_Return)
    assert _stored(window.database, vid) == ["BL23 L", "BL23 R", "BL25 R", "GB30 R", "GB34 R"]
    page.undo_stack.undo()
    assert _stored(window.database, vid) == ["BL23 L", "BL23 R", "BL25 L", "BL25 R", "GB30 R"]


def test_an_unknown_code_says_why_and_offers_the_nearest(  # type: ignore[no-untyped-def]
    qtbot, window, make_patient, practitioner_id, when_modal
) -> None:
    """'bl99' adds nothing: the line says why and a menu offers the nearest points; taking
    one puts it in the line."""
    page, vid = _open(qtbot, window, make_patient, practitioner_id)
    page.point_entry.setFocus()
    qtbot.keyClicks(page.point_entry, "bl23 b, bl99 l")
    offered: list[str] = []

    def take(menu: QMenu) -> None:
        offered.extend(a.text() for a in menu.actions())
        menu.close()

    when_modal(take)
    qtbot.keyClick(page.point_entry, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(offered))
    assert _stored(window.database, vid) == []
    assert "BL99" in page.point_entry.problem and "Nearest" in page.point_entry.problem
    assert any(t.startswith("BL") for t in offered[1:])
    assert QApplication.activePopupWidget() is None
