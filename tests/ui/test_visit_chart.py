"""Charting a visit on the body map, driven with real clicks and keys."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QInputDialog, QMenu, QPushButton, QSpinBox
from sqlalchemy import event, select

from charting.bodymap import load_bodymap
from charting.models import AuditEvent, Visit
from charting.models.db import Database
from charting.services import visit_record
from charting.services.marks import MarkSpec, add_marks, list_marks, list_protocols
from charting.services.visits import start_visit
from charting.ui.main_window import MainWindow
from charting.ui.ops import OpRunner
from charting.ui.visit_chart import VisitChartPage
from tests.factories import make_visit, point_spec

BM = load_bodymap()


@pytest.fixture
def visits(database: Database, make_patient, practitioner_id: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """A patient's first visit (with BL23 L, BL23 R and GV4) and their second, empty visit."""
    points = [("BL23", "L"), ("BL23", "R"), ("GV4", "M")]
    first = make_visit(database, bare=True, points=points)
    second = make_visit(database, patient_id=first.patient_id, bare=True)
    return first.visit_id, second.visit_id


@pytest.fixture
def page(qtbot, database: Database, visits: tuple[int, int]) -> Iterator[VisitChartPage]:  # type: ignore[no-untyped-def]
    """The charting page on the second (empty) visit, shown at a practical size."""
    chart = VisitChartPage(OpRunner(database), BM)
    qtbot.addWidget(chart)
    chart.resize(1200, 900)
    chart.show()
    qtbot.waitExposed(chart)
    chart.open_visit(visits[1])
    yield chart


def _stored(database: Database, visit_id: int) -> list[str]:
    with database.read() as session:
        return [row.label for row in list_marks(session, visit_id)]


def _click(
    qtbot, page: VisitChartPage, x: float, y: float, modifier=Qt.KeyboardModifier.NoModifier
) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(
        page.map.viewport(), Qt.MouseButton.LeftButton, modifier, page.map.viewport_point(x, y)
    )


def _click_point(qtbot, page: VisitChartPage, code: str, side: str) -> None:  # type: ignore[no-untyped-def]
    x, y = BM.position(code, side, page.map.view_id)  # type: ignore[arg-type, misc]
    _click(qtbot, page, x, y)


def test_clicking_points_stores_them_on_the_right_side(
    qtbot,
    page: VisitChartPage,
    database: Database,
    visits,  # type: ignore[no-untyped-def]
) -> None:
    """Clicks on BL23 left, BL40 right and GV4 store exactly those marks, listed and drawn."""
    _click_point(qtbot, page, "BL23", "L")
    _click_point(qtbot, page, "BL40", "R")
    _click_point(qtbot, page, "GV4", "M")
    assert _stored(database, visits[1]) == ["BL23 L", "BL40 R", "GV4"]
    assert page.mark_model.rowCount() == 3
    assert page.map.mark_item_count() == 3
    assert "3 needle sites" in page.mark_count.text()


def test_click_over_a_muscle_places_a_trigger_point(
    qtbot,
    page: VisitChartPage,
    database: Database,
    visits,  # type: ignore[no-untyped-def]
) -> None:
    """A click on the buttock away from any acupoint stores a trigger point with its muscle."""
    muscle = BM.muscle("piriformis")
    x, y = BM.trigger_point_position(muscle.id, muscle.trigger_points[0].id, "R")
    assert BM.nearest_point("posterior", x, y) is None
    _click(qtbot, page, x, y)
    with database.read() as session:
        (row,) = list_marks(session, visits[1])
    assert row.kind == "trigger_point"
    assert BM.muscle_at("posterior", row.spec.x, row.spec.y).muscle.id == row.spec.muscle_id  # type: ignore[union-attr]
    assert row.spec.side == "R"


def test_shift_click_places_an_ashi_point(
    qtbot,
    page: VisitChartPage,
    database: Database,
    visits,  # type: ignore[no-untyped-def]
) -> None:
    """Shift+click marks a tender (ashi) point where clicked, even next to an acupoint."""
    x, y = BM.position("BL25", "L", "posterior")  # type: ignore[misc]
    _click(qtbot, page, x, y, Qt.KeyboardModifier.ShiftModifier)
    assert _stored(database, visits[1]) == ["Ashi L"]


def test_undo_and_redo_go_through_the_database(
    qtbot,
    page: VisitChartPage,
    database: Database,
    visits,  # type: ignore[no-untyped-def]
) -> None:
    """Ctrl+Z removes the last mark from the visit; Ctrl+Shift+Z puts it back."""
    _click_point(qtbot, page, "BL23", "L")
    _click_point(qtbot, page, "BL25", "R")
    page.map.setFocus()
    qtbot.keyClick(page.map, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert _stored(database, visits[1]) == ["BL23 L"]
    assert page.map.mark_item_count() == 1
    qtbot.keyClick(
        page.map,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert _stored(database, visits[1]) == ["BL23 L", "BL25 R"]


def test_delete_key_removes_the_selected_mark_and_undo_restores_it(
    qtbot,
    page: VisitChartPage,
    database: Database,
    visits,  # type: ignore[no-untyped-def]
) -> None:
    """Selecting a mark and pressing Delete removes it; undo brings back the same mark."""
    _click_point(qtbot, page, "BL40", "L")
    (before,) = page._rows
    _click_point(qtbot, page, "BL40", "L")  # clicking a mark selects it, adds nothing
    assert _stored(database, visits[1]) == ["BL40 L"]
    assert page.map.selected_mark_ids() == [before.id]
    qtbot.keyClick(page.map, Qt.Key.Key_Delete)
    assert _stored(database, visits[1]) == []
    page.undo_stack.undo()
    with database.read() as session:
        assert list_marks(session, visits[1]) == [before]


def test_dragging_a_mark_stores_the_new_position(
    qtbot,
    page: VisitChartPage,
    database: Database,
    visits,  # type: ignore[no-untyped-def]
) -> None:
    """Dragging BL23 a little moves the stored position; undo moves it back."""
    _click_point(qtbot, page, "BL23", "L")
    x, y = BM.position("BL23", "L", "posterior")  # type: ignore[misc]
    start = page.map.viewport_point(x, y)
    end = start + QPoint(12, 18)
    viewport = page.map.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 7):
        qtbot.mouseMove(viewport, start + (end - start) * step / 6)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    with database.read() as session:
        (row,) = list_marks(session, visits[1])
    assert row.spec.point_code == "BL23" and row.spec.side == "L"
    nx, ny = page.map.model_position(end)
    assert row.spec.x == pytest.approx(nx, abs=2) and row.spec.y == pytest.approx(ny, abs=2)
    page.undo_stack.undo()
    with database.read() as session:
        (row,) = list_marks(session, visits[1])
    assert (row.spec.x, row.spec.y) == pytest.approx((x, y))


def test_typing_a_code_marks_it_with_the_side_asked(
    qtbot,
    page: VisitChartPage,
    database: Database,
    visits,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """Typing "bl23" + Enter asks the side and B marks both; "gv4" needs no side."""

    def choose_both(menu: QMenu) -> None:
        qtbot.keyClick(menu, Qt.Key.Key_B)

    when_modal(choose_both)
    qtbot.keyClicks(page.point_entry, "bl23")
    qtbot.keyClick(page.point_entry, Qt.Key.Key_Return)
    assert _stored(database, visits[1]) == ["BL23 L", "BL23 R"]
    assert page.point_entry.text() == ""
    qtbot.keyClicks(page.point_entry, "gv4")
    qtbot.keyClick(page.point_entry, Qt.Key.Key_Return)
    qtbot.keyClicks(page.point_entry, "Zhibian r")
    qtbot.keyClick(page.point_entry, Qt.Key.Key_Return)
    assert _stored(database, visits[1]) == ["BL23 L", "BL23 R", "GV4", "BL54 R"]


def test_unknown_typed_point_is_flagged_and_nothing_stored(
    qtbot,
    page: VisitChartPage,
    database: Database,
    visits,  # type: ignore[no-untyped-def]
) -> None:
    """A code that names no point says why, offers the nearest points, and stores nothing;
    choosing a suggestion puts it in the line, and Enter then charts it."""
    qtbot.keyClicks(page.point_entry, "bl233 r")
    qtbot.keyClick(page.point_entry, Qt.Key.Key_Return)
    assert _stored(database, visits[1]) == []
    assert "The Bladder channel has points 1 to 67" in page.point_entry.toolTip()
    menu = page.point_entry.suggestions
    assert menu is not None
    offered = [a.text().split()[0] for a in menu.actions() if a.isEnabled() and a.text()]
    assert "BL23" in offered
    next(a for a in menu.actions() if a.text().startswith("BL23")).trigger()
    assert page.point_entry.text() == "BL23 r"
    qtbot.keyClick(page.point_entry, Qt.Key.Key_Return)
    assert _stored(database, visits[1]) == ["BL23 R"]


def test_typed_leg_point_switches_to_its_view(
    qtbot,
    page: VisitChartPage,
    database: Database,
    visits,  # type: ignore[no-untyped-def]
) -> None:
    """Typing a point drawn only on another view switches the map there and marks it."""
    qtbot.keyClicks(page.point_entry, "ki3 l")
    qtbot.keyClick(page.point_entry, Qt.Key.Key_Return)
    assert page.map.view_id == "medial_leg"
    with database.read() as session:
        (row,) = list_marks(session, visits[1])
    assert (row.spec.point_code, row.spec.view) == ("KI3", "medial_leg")


def test_marks_stay_on_their_view(qtbot, page: VisitChartPage) -> None:  # type: ignore[no-untyped-def]
    """A mark made on the back is not drawn on the leg views, and comes back on the back."""
    _click_point(qtbot, page, "BL23", "L")
    qtbot.keyClick(page, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert page.map.view_id == "lateral_leg"
    assert page.map.mark_item_count() == 0
    qtbot.keyClick(page, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert page.map.mark_item_count() == 1


def test_repeat_last_visit_is_one_undoable_step(
    qtbot,
    page: VisitChartPage,
    database: Database,
    visits,  # type: ignore[no-untyped-def]
) -> None:
    """Repeat last visit copies the three marks of visit 1; one undo removes all three."""
    qtbot.mouseClick(page.repeat_button, Qt.MouseButton.LeftButton)
    assert _stored(database, visits[1]) == ["BL23 L", "BL23 R", "GV4"]
    page.undo_stack.undo()
    assert _stored(database, visits[1]) == []


def test_repeat_last_visit_copies_ea_pairs_and_cupping_as_one_step(  # type: ignore[no-untyped-def]
    qtbot, database: Database, make_patient, practitioner_id: int
) -> None:
    """The last visit's EA pair (with its dense-disperse settings, drawn as a lead) and its
    cupping site (with method, cups and minutes) come across with its marks; one undo takes
    all of it off, one redo puts all of it back."""
    from charting.services.marks import MarkDetails, update_details
    from charting.services.visit_record import EASettings, add_ea_pair, ea_pairs

    pid = make_patient()
    with database.write() as session:
        first, _ = start_visit(session, pid, practitioner_id)
        (a, b), _ = add_marks(
            session, BM, first, [point_spec("BL23", "L"), point_spec("BL25", "L")]
        )
        x, y = BM.position("BL26", "R", "posterior")  # type: ignore[misc]
        (cup,), _ = add_marks(session, BM, first, [MarkSpec("cupping", "posterior", x, y, "R")])
        update_details(
            session, cup, MarkDetails("cupping", cup_type="fire", cup_count=4, cup_minutes=8)
        )
        settings = EASettings("Dense-disperse", 2, 1.5, 20, "ITO ES-160", frequency2_hz=100)
        add_ea_pair(session, first, a, b, settings)
        second, _ = start_visit(session, pid, practitioner_id)
    chart = VisitChartPage(OpRunner(database), BM)
    qtbot.addWidget(chart)
    chart.resize(1280, 800)
    chart.show()
    chart.open_visit(second)

    def stored() -> tuple[list[str], list[tuple], list[tuple]]:
        with database.read() as session:
            rows = list_marks(session, second)
            pairs = [
                (p.waveform, p.frequency_hz, p.frequency2_hz, p.intensity_ma, p.minutes, p.device)
                for p in ea_pairs(session, second)
            ]
        cups = [
            (r.spec.cup_type, r.spec.cup_count, r.spec.cup_minutes)
            for r in rows
            if r.kind == "cupping"
        ]
        return [r.label for r in rows], pairs, cups

    qtbot.mouseClick(chart.repeat_button, Qt.MouseButton.LeftButton)
    assert stored() == (
        ["BL23 L", "BL25 L", "Cup R"],
        [("Dense-disperse", 2, 100, 1.5, 20, "ITO ES-160")],
        [("fire", 4, 8)],
    )
    assert chart.map.ea_line_count() == 1
    chart.undo_stack.undo()
    assert stored() == ([], [], [])
    assert chart.map.ea_line_count() == 0
    chart.undo_stack.redo()
    assert stored()[1] == [("Dense-disperse", 2, 100, 1.5, 20, "ITO ES-160")]
    assert chart.map.ea_line_count() == 1


def test_repeat_last_visit_leaves_out_a_retired_custom_point_and_says_so(  # type: ignore[no-untyped-def]
    qtbot, database: Database, make_patient, practitioner_id: int
) -> None:
    """A custom point the clinic retired since the last visit is not charted again by Repeat
    last visit: the other marks come across, and the page says which point was left out."""
    from charting.services import custom_points as cp

    x, y = BM.position("BL57", "L", "posterior")  # type: ignore[misc]
    entry = cp.CustomPointInput(
        code="C-CALF", name="Calf knot point", view="posterior", x=x - 12, y=y + 8
    )
    pid = make_patient()
    with database.write() as session:
        point_id, _ = cp.add_custom_point(session, entry)
        bodymap = cp.clinic_bodymap(session)
        first, _ = start_visit(session, pid, practitioner_id)
        spot = bodymap.position("C-CALF", "L", "posterior")
        assert spot is not None
        custom = MarkSpec("acupoint", "posterior", *spot, "L", point_code="C-CALF")
        add_marks(session, bodymap, first, [custom, point_spec("BL23", "R")])
        cp.retire_custom_point(session, point_id)
        second, _ = start_visit(session, pid, practitioner_id)
    with database.read() as session:
        bodymap = cp.clinic_bodymap(session)
    chart = VisitChartPage(OpRunner(database), bodymap)
    qtbot.addWidget(chart)
    chart.resize(1280, 800)
    chart.show()
    chart.open_visit(second)
    messages: list[str] = []
    chart.message_posted.connect(messages.append)
    qtbot.mouseClick(chart.repeat_button, Qt.MouseButton.LeftButton)
    assert _stored(database, second) == ["BL23 R"]
    assert messages == ["Not repeated: C-CALF (retired custom point of this clinic)."]
    assert chart.undo_stack.undoText() == "Repeat last visit (1 mark)"


def test_previous_visit_shown_faded_and_toggled(qtbot, page: VisitChartPage) -> None:  # type: ignore[no-untyped-def]
    """The last visit's marks are drawn faded and the toggle hides them."""
    assert page.map.ghost_item_count() == 3
    page.show_previous.setChecked(False)
    assert page.map.ghost_item_count() == 0
    page.show_previous.setChecked(True)
    assert page.map.ghost_item_count() == 3


def test_save_and_apply_a_protocol(
    qtbot,
    page: VisitChartPage,
    database: Database,
    visits,
    when_modal,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    """Marks saved as a named protocol are applied to a visit in one click."""
    _click_point(qtbot, page, "BL25", "L")
    _click_point(qtbot, page, "BL25", "R")
    monkeypatch.setattr(
        QInputDialog, "getText", staticmethod(lambda *a, **k: ("Acute low back pain", True))
    )
    page.save_protocol()
    with database.read() as session:
        ((_id, name, count),) = list_protocols(session)
    assert (name, count) == ("Acute low back pain", 2)
    page.undo_stack.undo()
    page.undo_stack.undo()
    assert _stored(database, visits[1]) == []
    page._on_protocol_menu_about_to_show()
    apply = next(
        a for a in page.protocol_menu.actions() if a.text() == "Acute low back pain  (2 marks)"
    )
    apply.trigger()
    assert _stored(database, visits[1]) == ["BL25 L", "BL25 R"]


def test_mark_details_are_saved_from_the_side_panel(
    qtbot,
    page: VisitChartPage,
    database: Database,
    visits,  # type: ignore[no-untyped-def]
) -> None:
    """Choosing electroacupuncture, 30 mm and de qi for the selected mark stores them."""
    _click_point(qtbot, page, "BL23", "L")
    _click_point(qtbot, page, "BL23", "L")  # select it
    page.details.technique.setCurrentIndex(page.details.technique.findData("electro"))
    page.details.technique.activated.emit(page.details.technique.currentIndex())
    page.details.depth_box.setValue(30)
    page.details.depth_box.editingFinished.emit()
    page.details.response.setCurrentIndex(page.details.response.findData("de_qi"))
    page.details.response.activated.emit(page.details.response.currentIndex())
    qtbot.keyClicks(page.details.note, "Oblique toward spine")
    qtbot.keyClick(page.details.note, Qt.Key.Key_Return)
    with database.read() as session:
        (row,) = list_marks(session, visits[1])
    assert (row.spec.technique, row.spec.depth_mm, row.spec.response, row.spec.note) == (
        "electro",
        30,
        "de_qi",
        "Oblique toward spine",
    )


def test_starting_a_visit_opens_the_body_map(
    qtbot,
    window: MainWindow,
    make_patient,
    practitioner_id: int,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """After New visit the body map is shown for that visit; Back returns to the chart."""
    make_patient()
    window.patient_model.refresh()
    window.select_patient(window.patient_model.patient_id(0))
    when_modal(lambda dialog: dialog._on_buttons_accepted())
    window.new_visit_action.trigger()
    assert window.visit_chart is not None
    assert window.pages.currentWidget() is window.visit_chart
    assert window.visit_chart.findChild(type(window.visit_chart.map), "bodyMap") is not None
    qtbot.mouseClick(
        window.visit_chart.findChild(type(window.visit_chart.repeat_button), "backToChart"),
        Qt.MouseButton.LeftButton,
    )
    assert window.pages.currentWidget() is window.patient_panel


def test_back_to_chart_shows_what_was_charted(
    qtbot,
    window: MainWindow,
    make_patient,
    database: Database,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """The patient's chart is not re-read on every click while a visit is charted, but
    "Back to chart" shows the pain just recorded, and the patient list still has its row."""
    made = make_visit(database, bare=True)
    pid, vid = made.patient_id, made.visit_id
    window.patient_model.refresh()
    window.select_patient(pid)
    assert window.open_visit(vid)
    page = window.visit_chart
    assert page is not None
    _click_point(qtbot, page, "BL23", "L")
    pain = page.form.findChild(QSpinBox, "pain_now")
    pain.setValue(6)
    qtbot.mouseClick(page.findChild(QPushButton, "backToChart"), Qt.MouseButton.LeftButton)
    assert window.pages.currentWidget() is window.patient_panel
    model = window.patient_panel.visit_model
    assert model.visit_id(0) == vid
    assert "6" in model.index(0, 3).data()
    assert window.patient_model.row_of(pid) is not None


def _listed(page: VisitChartPage) -> list[str]:
    model = page.mark_model
    return [str(model.index(i).data()).split("  \u00b7  ")[0] for i in range(model.rowCount())]


def test_list_and_map_match_the_stored_marks_after_every_kind_of_edit(
    qtbot,
    page: VisitChartPage,
    database: Database,
    visits,  # type: ignore[no-untyped-def]
) -> None:
    """After clicks, a details edit, a drag, a delete and undo/redo, the list and the map
    show exactly what the visit holds (only the changed marks are read again)."""

    def check() -> None:
        with database.read() as session:
            stored = list_marks(session, visits[1], BM)
        assert page._rows == stored
        assert _listed(page) == [row.label for row in stored]
        assert page.map.mark_item_count() == sum(r.spec.view == "posterior" for r in stored)
        for row in stored:
            item = page.map.mark_item(row.id)
            assert (item.pos().x(), item.pos().y()) == pytest.approx((row.spec.x, row.spec.y))

    for code, side in (("BL23", "L"), ("BL25", "R"), ("GV4", "M"), ("BL40", "L")):
        _click_point(qtbot, page, code, side)
        check()
    _click_point(qtbot, page, "BL25", "R")  # select it
    page.details.technique.setCurrentIndex(page.details.technique.findData("electro"))
    page.details.technique.activated.emit(page.details.technique.currentIndex())
    check()
    assert "Electroacupuncture" in page.mark_model.index(1).data()
    x, y = BM.position("BL23", "L", "posterior")  # type: ignore[misc]
    start = page.map.viewport_point(x, y)
    viewport = page.map.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 5):
        qtbot.mouseMove(viewport, start + QPoint(3 * step, 4 * step))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=start + QPoint(12, 16))
    check()
    page.map.select_marks([page._rows[2].id])
    qtbot.keyClick(page.map, Qt.Key.Key_Delete)
    check()
    assert _listed(page) == ["BL23 L", "BL25 R", "BL40 L"]
    for _ in range(3):
        page.undo_stack.undo()
        check()
    page.undo_stack.redo()
    check()


def test_adding_a_typed_point_keeps_the_selection_and_the_list_place(
    qtbot,
    page: VisitChartPage,
    database: Database,
    visits,  # type: ignore[no-untyped-def]
) -> None:
    """A point typed while a mark far down a long list is selected is added without losing
    the selection or the list's scroll position."""
    placed = [p for p in BM.placed_points("posterior") if p.code != "GV4"][:60]
    with database.write() as session:
        add_marks(session, BM, visits[1], [point_spec(p.code, p.side) for p in placed])
    page.refresh()
    row = 40
    page.mark_list.setCurrentIndex(page.mark_model.index(row))
    page.mark_list.scrollTo(page.mark_model.index(row))
    scroll = page.mark_list.verticalScrollBar().value()
    assert scroll > 0  # the list really is scrolled
    selected_id = page._rows[row].id
    assert page.map.selected_mark_ids() == [selected_id]
    qtbot.keyClicks(page.point_entry, "GV4")
    qtbot.keyClick(page.point_entry, Qt.Key.Key_Return)
    assert _listed(page)[-1] == "GV4"
    assert page.mark_list.verticalScrollBar().value() == scroll
    selected = page.mark_list.selectionModel().selectedRows()
    assert [i.row() for i in selected] == [row]
    assert page.map.selected_mark_ids() == [selected_id]


def test_undo_button_keeps_its_place_and_names_the_step(
    qtbot,
    page: VisitChartPage,
    database: Database,
    visits,  # type: ignore[no-untyped-def]
) -> None:
    """The Undo button says "Undo" (the row beside it does not shift as marks are added);
    its tooltip names the step, and clicking it takes the step back."""
    assert not page.undo_button.isEnabled()
    QApplication.processEvents()
    entry = page.point_entry.geometry()
    _click_point(qtbot, page, "BL23", "L")
    _click_point(qtbot, page, "GB30", "R")
    QApplication.processEvents()
    assert page.point_entry.geometry() == entry
    assert page.undo_button.text() == "Undo"
    assert "Mark GB30 R" in page.undo_button.toolTip()
    qtbot.mouseClick(page.undo_button, Qt.MouseButton.LeftButton)
    assert _stored(database, visits[1]) == ["BL23 L"]
    assert page.redo_button.isEnabled()
    assert "Mark GB30 R" in page.redo_button.toolTip()
    qtbot.mouseClick(page.redo_button, Qt.MouseButton.LeftButton)
    assert _stored(database, visits[1]) == ["BL23 L", "GB30 R"]
    assert "2 needle sites" in page.mark_count.text()


def _statements_of_a_click(
    qtbot, page: VisitChartPage, database: Database, code: str, side: str
) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        _click_point(qtbot, page, code, side)
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    return seen


def test_a_click_costs_the_same_few_statements_however_many_marks_the_visit_holds(  # type: ignore[no-untyped-def]
    qtbot, page: VisitChartPage, database: Database, visits
) -> None:
    """Storing and showing a click reads the visit's EA pairs once and the visit once per
    transaction, with no statement per mark (each is a round trip on PostgreSQL); its audit
    entry still names the patient."""
    few = _statements_of_a_click(qtbot, page, database, "BL23", "L")
    placed = [p for p in BM.placed_points("posterior") if p.code not in ("BL23", "BL40")]
    specs = [
        MarkSpec("acupoint", "posterior", p.x, p.y, p.side, point_code=p.code) for p in placed[:60]
    ]
    with database.write() as session:
        add_marks(session, BM, visits[1], specs)
    page.open_visit(visits[1])
    many = _statements_of_a_click(qtbot, page, database, "BL40", "R")
    assert page.mark_model.rowCount() == 62
    assert len(many) == len(few)
    assert sum("FROM ea_pair" in s for s in many) == 1
    assert sum(s.lstrip().startswith("SELECT visit.") for s in many) == 2  # the write, the read
    with database.read() as session:
        patient = session.scalar(select(Visit.patient_id).where(Visit.id == visits[1]))
        entry = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert entry is not None
    assert (entry.action, entry.detail, entry.patient_id) == ("mark.add", "BL40 R", patient)


def test_a_click_on_the_front_of_the_hip_places_an_iliopsoas_trigger_point(
    qtbot,
    page: VisitChartPage,
    database: Database,
    visits,  # type: ignore[no-untyped-def]
) -> None:
    """On the front view, a click in the groin stores an iliopsoas trigger point on the
    patient's left, which is the viewer's right there."""
    page.set_view("anterior")
    muscle = BM.muscle("iliopsoas")
    x, y = BM.trigger_point_position(muscle.id, muscle.trigger_points[0].id, "L")
    assert x > BM.views["anterior"].mirror_axis
    assert BM.nearest_point("anterior", x, y) is None
    _click(qtbot, page, x, y)
    with database.read() as session:
        (row,) = list_marks(session, visits[1])
    assert (row.kind, row.spec.muscle_id, row.spec.side, row.spec.view) == (
        "trigger_point",
        "iliopsoas",
        "L",
        "anterior",
    )


def test_ctrl_4_shows_the_front_view(qtbot, page: VisitChartPage) -> None:  # type: ignore[no-untyped-def]
    """Ctrl+4 switches the map to the anterior view and its button shows it is on."""
    page.map.setFocus()
    qtbot.keyClick(page, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert page.map.view_id == "anterior"
    assert [b.text() for b in page.map_panel.view_buttons.buttons() if b.isChecked()] == ["Front"]


def test_a_technique_set_for_several_selected_marks_is_stored_for_each(  # type: ignore[no-untyped-def]
    qtbot, page: VisitChartPage, database: Database, visits
) -> None:
    """Ctrl+click two marks, choose a technique once: both store it, in one undoable step."""
    page.repeat_last_visit()
    _click_point(qtbot, page, "BL23", "L")
    x, y = BM.position("BL23", "R", page.map.view_id)  # type: ignore[misc]
    _click(qtbot, page, x, y, Qt.KeyboardModifier.ControlModifier)
    assert len(page.map.selected_mark_ids()) == 2
    assert page.details.technique.isEnabled()
    index = page.details.technique.findData("electro")
    page.details.technique.setCurrentIndex(index)
    page.details.technique.activated.emit(index)
    with database.read() as session:
        techniques = {r.label: r.spec.technique for r in list_marks(session, visits[1])}
    assert techniques["BL23 L"] == techniques["BL23 R"] == "electro"
    assert techniques["GV4"] != "electro"
    page.undo_stack.undo()
    with database.read() as session:
        assert {r.spec.technique for r in list_marks(session, visits[1])} != {"electro"}


def test_a_template_sets_points_ea_and_plan_in_one_undoable_step(  # type: ignore[no-untyped-def]
    qtbot, page: VisitChartPage, database: Database, visits
) -> None:
    """Templates ▸ Acute low back pain adds its points and EA pair; one Undo removes them."""
    page._on_protocol_menu_about_to_show()
    action = next(a for a in page.protocol_menu.actions() if a.text() == "Acute low back pain")
    action.trigger()
    stored = _stored(database, visits[1])
    assert "BL23 L" in stored and len(stored) >= 4
    with database.read() as session:
        assert visit_record.ea_pairs(session, visits[1])
    page.undo_stack.undo()
    assert _stored(database, visits[1]) == []
    with database.read() as session:
        assert not visit_record.ea_pairs(session, visits[1])


def test_a_new_visit_carries_forward_what_repeats_and_clears_it_in_one_click(  # type: ignore[no-untyped-def]
    qtbot, database: Database, make_patient, practitioner_id: int
) -> None:
    """Needle lot and retention come from the last visit, shown as such; Clear empties them."""
    fields = {"needle_lot": "L2291", "retention_minutes": 20}
    pid = make_visit(database, bare=True, fields=fields).patient_id
    with database.write() as session:
        second, _ = start_visit(session, pid, practitioner_id, carry_forward=True)
    chart = VisitChartPage(OpRunner(database), BM)
    qtbot.addWidget(chart)
    chart.resize(1200, 900)
    chart.show()
    chart.open_visit(second)
    assert chart.form.phase == "consultation"
    assert chart.form.carried.isVisible()
    with database.read() as session:
        stored = visit_record.record(session, second)
    assert (stored["needle_lot"], stored["retention_minutes"]) == ("L2291", 20)
    qtbot.mouseClick(chart.form.clear_carried_button, Qt.MouseButton.LeftButton)
    chart.form.flush()
    with database.read() as session:
        stored = visit_record.record(session, second)
    assert (stored["needle_lot"], stored["retention_minutes"]) == ("", None)
    assert not chart.form.carried.isVisible()


def test_alt_and_a_digit_show_each_phase_of_the_record(  # type: ignore[no-untyped-def]
    qtbot, page: VisitChartPage
) -> None:
    """The visit opens at consultation; Alt+4 shows treatment with the cursor in its first
    field, Alt+5 the after phase, from anywhere on the page (here the map)."""
    assert page.form.phase == "consultation"
    page.activateWindow()
    qtbot.waitActive(page)
    page.map.setFocus()
    qtbot.keyClick(page.map, Qt.Key.Key_4, Qt.KeyboardModifier.AltModifier)
    assert page.form.phase == "treatment"
    assert page.form.bindings["needle_brand"].widget.hasFocus()
    qtbot.keyClick(page.map, Qt.Key.Key_5, Qt.KeyboardModifier.AltModifier)
    assert page.form.phase == "after"
    assert not page.form.bindings["needle_brand"].widget.isVisible()
    assert page.form.bindings["pain_after"].widget.isVisible()
