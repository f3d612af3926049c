"""Drawing where it hurts with real mouse, touch and key events; what is stored is checked."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog

from charting.bodymap import load_bodymap
from charting.bodymap import regions as body_regions
from charting.models.db import Database
from charting.services.pain_drawings import drawing, stored_measures
from charting.services.visits import start_visit
from charting.ui.ops import OpRunner
from charting.ui.pain.patient_mode import HandBackDialog, PatientModeWindow
from charting.ui.visit_chart import VisitChartPage
from tests.factories import TEST_PASSWORD

BM = load_bodymap()


@pytest.fixture
def page(qtbot, database: Database, make_patient, practitioner_id: int) -> VisitChartPage:  # type: ignore[no-untyped-def]
    """A draft visit open, the pain drawing shown (F6)."""
    with database.write() as session:
        vid, _ = start_visit(session, make_patient(), practitioner_id)
    chart = VisitChartPage(OpRunner(database), BM)
    qtbot.addWidget(chart)
    chart.resize(1280, 800)
    chart.show()
    qtbot.waitExposed(chart)
    chart.open_visit(vid)
    chart.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is chart)
    qtbot.keyClick(chart, Qt.Key.Key_F6)
    assert chart.centre_stack.currentWidget() is chart.pain
    return chart


def _drag(qtbot, canvas, points: list[tuple[float, float]]) -> None:  # type: ignore[no-untyped-def]
    """A real press, moves and release along model points."""
    where = [canvas.viewport_point(x, y).toPoint() for x, y in points]
    viewport = canvas.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=where[0])
    for p in where[1:]:
        QTest.mouseMove(viewport, p)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=where[-1])


def _stored(database: Database, page: VisitChartPage):  # type: ignore[no-untyped-def]
    with database.read() as session:
        return [a.shape for a in drawing(session, page.visit_id)]  # type: ignore[arg-type]


def test_a_brush_stroke_is_stored_as_its_path_with_quality_and_intensity(  # type: ignore[no-untyped-def]
    qtbot, page: VisitChartPage, database: Database
) -> None:
    """Dragging across the left calf stores one stroke along the path (model units), with
    the chosen quality, intensity and brush size; it shows on the layer, and the measures
    say the pain reaches below the left knee; Ctrl+Z takes it off."""
    panel = page.pain
    panel.quality.setCurrentIndex(panel.quality.findData("burning"))
    panel.intensity.setValue(8)
    canvas = panel.canvases["posterior"]
    calf = body_regions.region_shapes(BM, "posterior")[("lower_leg", "L")]
    x = calf.representative_point().x
    _drag(qtbot, canvas, [(x, 1300.0), (x, 1360.0), (x + 4, 1420.0)])
    (stroke,) = _stored(database, page)
    assert (stroke.kind, stroke.quality, stroke.intensity, stroke.drawn_by) == (
        "stroke",
        "burning",
        8,
        "practitioner",
    )
    assert stroke.view == "posterior" and len(stroke.points) >= 3
    assert abs(stroke.points[0][1] - 1300) < 5 and abs(stroke.points[-1][1] - 1420) < 5
    assert canvas.layer.area_count == 1
    assert "below the knee" in panel.measures.text()
    page.undo_stack.undo()
    assert _stored(database, page) == [] and canvas.layer.area_count == 0


def test_a_tap_fills_the_region_and_the_eraser_takes_part_away(  # type: ignore[no-untyped-def]
    qtbot, page: VisitChartPage, database: Database
) -> None:
    """With "Fill a region", a tap on the right buttock fills it; an eraser stroke across it
    is stored and lowers the shaded share of that region."""
    panel = page.pain
    canvas = panel.canvases["posterior"]
    qtbot.mouseClick(
        panel.findChild(type(panel.tools.button(0)), "painTool_region"), Qt.MouseButton.LeftButton
    )
    buttock = body_regions.region_shapes(BM, "posterior")[("buttock", "R")]
    spot = buttock.representative_point()
    qtbot.mouseClick(
        canvas.viewport(),
        Qt.MouseButton.LeftButton,
        pos=canvas.viewport_point(spot.x, spot.y).toPoint(),
    )
    with database.read() as session:
        full = stored_measures(session, [page.visit_id])[page.visit_id]  # type: ignore[index]
    assert full.regions["buttock:R"] == pytest.approx(
        100
        * buttock.area
        / sum(
            z[("buttock", "R")].area
            for v in BM.views
            if ("buttock", "R") in (z := body_regions.region_shapes(BM, v))
        ),
        abs=0.1,
    )
    qtbot.mouseClick(
        panel.findChild(type(panel.tools.button(0)), "painTool_erase"), Qt.MouseButton.LeftButton
    )
    minx, miny, maxx, maxy = buttock.bounds
    _drag(qtbot, canvas, [(minx, (miny + maxy) / 2), (maxx, (miny + maxy) / 2)])
    kinds = [a.kind for a in _stored(database, page)]
    assert kinds == ["region", "erase"]
    with database.read() as session:
        erased = stored_measures(session, [page.visit_id])[page.visit_id]  # type: ignore[index]
    assert erased.regions["buttock:R"] < full.regions["buttock:R"]


def test_a_finger_draws_like_the_mouse(qtbot, page: VisitChartPage, database: Database) -> None:  # type: ignore[no-untyped-def]
    """A touch drag on a touch screen stores a stroke too (Qt turns the touch into presses)."""
    canvas = page.pain.canvases["posterior"]
    device = QTest.createTouchDevice()
    thigh = body_regions.region_shapes(BM, "posterior")[("thigh", "R")]
    x = thigh.representative_point().x
    points = [canvas.viewport_point(x, y).toPoint() for y in (1020.0, 1080.0, 1140.0)]
    QTest.touchEvent(canvas.viewport(), device).press(0, points[0], canvas.viewport()).commit()
    for p in points[1:]:
        QTest.touchEvent(canvas.viewport(), device).move(0, p, canvas.viewport()).commit()
    QTest.touchEvent(canvas.viewport(), device).release(0, points[-1], canvas.viewport()).commit()
    QApplication.processEvents()
    stored = _stored(database, page)
    assert len(stored) == 1 and stored[0].kind == "stroke"


def test_patient_mode_keeps_the_patients_drawing_and_asks_the_password_to_leave(  # type: ignore[no-untyped-def]
    qtbot, page: VisitChartPage, database: Database, when_modal
) -> None:
    """In patient mode the stroke is kept as drawn by the patient; Esc asks the practitioner's
    password, a wrong one keeps patient mode, the right one ends it."""
    window = PatientModeWindow(page.ops, BM, page.undo_stack, page.visit_id or 0, page)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    canvas = window.panel.canvases["posterior"]
    calf = body_regions.region_shapes(BM, "posterior")[("lower_leg", "R")]
    x = calf.representative_point().x
    _drag(qtbot, canvas, [(x, 1300.0), (x, 1400.0)])
    assert [a.drawn_by for a in _stored(database, page)] == ["patient"]

    def wrong(dialog: HandBackDialog) -> None:
        qtbot.keyClicks(dialog.password, "not the password")
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
        assert dialog.message.text()
        dialog.reject()

    when_modal(wrong)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert window.isVisible()

    def right(dialog: HandBackDialog) -> None:
        qtbot.keyClicks(dialog.password, TEST_PASSWORD)
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)

    when_modal(right)
    qtbot.mouseClick(window.done_button, Qt.MouseButton.LeftButton)
    assert not window.isVisible() and window.result() == QDialog.DialogCode.Accepted


def test_a_signed_visits_drawing_cannot_be_drawn_on(  # type: ignore[no-untyped-def]
    qtbot, database: Database, make_patient, practitioner_id: int
) -> None:
    """On a signed visit a drag on the canvas stores nothing."""
    from charting.services.visit_record import sign_visit

    with database.write() as session:
        vid, _ = start_visit(session, make_patient(), practitioner_id)
        sign_visit(session, vid, practitioner_id)
    chart = VisitChartPage(OpRunner(database), BM)
    qtbot.addWidget(chart)
    chart.resize(1280, 800)
    chart.show()
    chart.open_visit(vid)
    chart.pain_button.click()
    canvas = chart.pain.canvases["posterior"]
    _drag(qtbot, canvas, [(350.0, 1300.0), (350.0, 1400.0)])
    with database.read() as session:
        assert drawing(session, vid) == []


def test_the_drawing_lies_under_the_points_shown_hidden_or_dimmed(  # type: ignore[no-untyped-def]
    qtbot, page: VisitChartPage
) -> None:
    """A region tapped on the drawing appears under the point map once Pain is pressed there,
    dimmed at first and at full strength when its menu's Dimmed is unticked; Pain again hides
    it."""
    canvas = page.pain.canvases["posterior"]
    qtbot.mouseClick(page.pain.tools.button(1), Qt.MouseButton.LeftButton)  # fill a region
    zone = body_regions.region_shapes(BM, "posterior")[("thigh", "L")].representative_point()
    qtbot.mouseClick(
        canvas.viewport(),
        Qt.MouseButton.LeftButton,
        pos=canvas.viewport_point(zone.x, zone.y).toPoint(),
    )
    qtbot.keyClick(page, Qt.Key.Key_F6)  # back to the points
    panel = page.map_panel
    layer = panel.map.pain_layer("posterior")
    assert panel.pain_shown.isEnabled() and not layer.isVisible()
    qtbot.mouseClick(panel.pain_shown, Qt.MouseButton.LeftButton)
    assert layer.isVisible() and layer.area_count == 1 and layer.dimmed
    panel.pain_dimmed.trigger()  # the Pain button's menu: "Dimmed behind the points"
    assert not layer.dimmed
    qtbot.mouseClick(panel.pain_shown, Qt.MouseButton.LeftButton)
    assert not layer.isVisible() and not panel.pain_dimmed.isEnabled()
