"""Custom points from the screen: the Custom points dialog, "Add a custom point here…" on the
visit map, and marking one by clicking its spot."""

from __future__ import annotations

import itertools

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLineEdit, QWidget

from charting.bodymap import load_bodymap
from charting.models import Role
from charting.models.db import Database
from charting.services import custom_points as cp
from charting.services.marks import add_marks, list_marks
from charting.services.visits import start_visit
from charting.ui.custom_points_dialog import CustomPointEditor, CustomPointsDialog
from charting.ui.main_window import MainWindow
from charting.ui.ops import OpRunner
from charting.ui.visit_chart import VisitChartPage
from tests.factories import add_account, point_spec

BM = load_bodymap()
LEFT = Qt.MouseButton.LeftButton


def _spot() -> tuple[float, float]:
    """A spot on the left calf, away from the catalog points near it."""
    pos = BM.position("BL57", "L", "posterior")
    assert pos is not None
    return pos[0] - 12.0, pos[1] + 8.0


def _fill_and_save(editor: QWidget, code: str, name: str) -> None:
    """Type a code and a name into the custom point editor and press Save."""
    assert isinstance(editor, CustomPointEditor)
    editor.findChild(QLineEdit, "code").setText(code)  # type: ignore[union-attr]
    editor.findChild(QLineEdit, "name").setText(name)  # type: ignore[union-attr]
    buttons = editor.findChild(QDialogButtonBox, "customPointButtons")
    buttons.button(QDialogButtonBox.StandardButton.Save).click()  # type: ignore[union-attr]


def test_the_menu_offers_custom_points_to_practitioners_not_front_desk(  # type: ignore[no-untyped-def]
    qtbot, database: Database, window: MainWindow
) -> None:
    """Settings › Custom points… is there for a practitioner and hidden from front desk."""
    assert window.custom_points_action.isVisible()
    window.database.actor = add_account(database, "desk", Role.FRONT_DESK)
    window.apply_actor()
    assert not window.custom_points_action.isVisible()


def test_add_a_custom_point_from_the_dialog_by_clicking_the_small_map(  # type: ignore[no-untyped-def]
    qtbot, database: Database, when_modal
) -> None:
    """Add… opens the editor; a click on the small map places the point, Save stores it at
    that spot and the list shows it."""
    dialog = CustomPointsDialog(OpRunner(database))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    x, y = _spot()

    def place(editor: QWidget) -> None:
        assert isinstance(editor, CustomPointEditor)
        editor.resize(1000, 700)
        qtbot.waitUntil(lambda: editor.map.isVisible())
        pixel = editor.map.mapFromScene(x, y)
        qtbot.mouseClick(editor.map.viewport(), LEFT, pos=pixel)
        _fill_and_save(editor, "c-calf", "Calf knot point")

    when_modal(place)
    qtbot.mouseClick(dialog.add_button, LEFT)
    with database.read() as session:
        (row,) = cp.list_custom_points(session)
    assert (row.code, row.name, row.view) == ("C-CALF", "Calf knot point", "posterior")
    upc = BM.units_per_cun("posterior", x, y)
    assert abs(row.x - x) < 0.2 * upc and abs(row.y - y) < 0.2 * upc
    assert dialog.model.rowCount() == 1
    assert dialog.model.index(0, 0).data() == "C-CALF"


def test_a_bad_custom_point_shows_the_message_under_its_field(  # type: ignore[no-untyped-def]
    qtbot, database: Database, when_modal
) -> None:
    """Saving a catalog code shows why under the code field and keeps the editor open."""
    editor = CustomPointEditor(OpRunner(database), None, ("posterior", *_spot()))
    qtbot.addWidget(editor)
    editor.show()
    _fill_and_save(editor, "BL57", "Mine")
    error = editor.form.errors["code"]
    assert editor.isVisible() and not error.isHidden()
    assert "BL57 is a catalog point" in error.text()
    with database.read() as session:
        assert cp.list_custom_points(session) == []


@pytest.fixture
def page(qtbot, database: Database, make_patient, practitioner_id: int) -> VisitChartPage:  # type: ignore[no-untyped-def]
    """The visit page on a draft with BL23 L."""
    with database.write() as session:
        vid, _ = start_visit(session, make_patient(), practitioner_id)
        add_marks(session, BM, vid, [point_spec("BL23", "L")])
    chart = VisitChartPage(OpRunner(database), BM)
    qtbot.addWidget(chart)
    chart.resize(1280, 800)
    chart.show()
    qtbot.waitExposed(chart)
    chart.open_visit(vid)
    return chart


# The offscreen platform cannot raise a popup or grab the keyboard for it.
@pytest.mark.qt_log_ignore("This plugin does not support")
def test_add_a_custom_point_from_the_map_then_mark_it_by_clicking(  # type: ignore[no-untyped-def]
    qtbot, database: Database, page: VisitChartPage, when_modal
) -> None:
    """Right-click on the body › "Add a custom point here…" stores it at the spot; the map
    draws it at once; a click there marks it, listed as a custom point."""
    x, y = _spot()
    pixel = page.map.viewport_point(x, y)
    event = QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, pixel, page.map.viewport().mapToGlobal(pixel)
    )
    QApplication.sendEvent(page.map.viewport(), event)
    menu = page.map.context_menu
    assert menu is not None
    (action,) = [a for a in menu.actions() if a.text() == "Add a custom point here…"]
    when_modal(lambda editor: _fill_and_save(editor, "C-CALF", "Calf knot point"))
    action.trigger()  # the menu goes once the editor opens
    with database.read() as session:
        (row,) = cp.list_custom_points(session)
    assert (row.code, row.view) == ("C-CALF", "posterior")
    assert abs(row.x - x) < 1.0 and abs(row.y - y) < 1.0
    scene = page.map._scene
    assert any(abs(c.x() - x) < 1 and abs(c.y() - y) < 1 for c in scene.points_layer.custom_centres)
    # A click a little off the spot snaps to the custom point, like a catalog point.
    qtbot.mouseClick(page.map.viewport(), LEFT, pos=pixel + QPoint(2, 1))
    with database.read() as session:
        marks = list_marks(session, page.visit_id, cp.clinic_bodymap(session))  # type: ignore[arg-type]
    assert [(m.spec.point_code, m.spec.side, m.custom) for m in marks] == [
        ("BL23", "L", False),
        ("C-CALF", "L", True),
    ]
    assert (marks[1].spec.x, marks[1].spec.y) == pytest.approx((row.x, row.y))
    listed = [page.mark_model.index(i, 0).data() for i in range(page.mark_model.rowCount())]
    assert any("Calf knot point (custom point)" in text for text in listed)
    item = page.map.mark_item(marks[1].id)
    assert item is not None and item.colors()[0] == "#1b8a5a"


@pytest.mark.qt_log_ignore("This plugin does not support")
def test_typing_a_custom_code_marks_it_and_a_near_miss_suggests_it(  # type: ignore[no-untyped-def]
    qtbot, database: Database, page: VisitChartPage
) -> None:
    """After the clinic adds C-CALF, typing "c-calf l" marks it; "c-calv" is not taken for
    any point and suggests C-CALF."""
    with database.write() as session:
        cp.add_custom_point(
            session, cp.CustomPointInput("C-CALF", "Calf knot point", "posterior", *_spot())
        )
    page.reload_custom_points()
    specs = page.specs_for_typed("c-calf l")
    assert specs is not None and [(s.point_code, s.side) for s in specs] == [("C-CALF", "L")]
    page.point_entry.setFocus()
    qtbot.keyClicks(page.point_entry, "c-calv l")
    qtbot.keyClick(page.point_entry, Qt.Key.Key_Return)
    menu = page.point_entry.suggestions
    assert menu is not None
    offered = [a.text().split()[0] for a in menu.actions() if a.isEnabled() and a.text()]
    assert offered[0] == "C-CALF"
    menu.close()


def test_a_custom_mark_beside_catalog_marks_keeps_its_label_clear(  # type: ignore[no-untyped-def]
    qtbot, database: Database, page: VisitChartPage
) -> None:
    """A custom point marked between BL57 and BL58 gets a label that overlaps none of theirs."""
    with database.write() as session:
        cp.add_custom_point(
            session, cp.CustomPointInput("C-CALF", "Calf knot point", "posterior", *_spot())
        )
    page.reload_custom_points()
    page.point_entry.setFocus()
    qtbot.keyClicks(page.point_entry, "bl57 l, bl58 l, c-calf l, bl56 l")
    qtbot.keyClick(page.point_entry, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(page._rows) == 5)
    page.map_panel.zoom_to("lower_leg")
    page.map.layout_labels()
    shown = [label for label in page.map.labels() if label.isVisible()]
    assert "C-CALF L" in [label.text for label in shown]
    rects = [
        label.box.translated(QPointF(page.map.mapFromScene(label.mark.scenePos())))
        for label in shown
    ]
    for (i, a), (j, b) in itertools.combinations(enumerate(rects), 2):
        assert not a.intersects(b), (shown[i].text, shown[j].text)
