"""Electroacupuncture pairs and adverse events, entered in the visit editor."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from charting.bodymap import load_bodymap
from charting.models.db import Database
from charting.services.marks import add_marks
from charting.services.visit_record import adverse_events, ea_pairs
from charting.services.visits import start_visit
from charting.ui.ops import OpRunner
from charting.ui.visit_chart import VisitChartPage
from tests.factories import point_spec

BM = load_bodymap()


@pytest.fixture
def charted(database: Database, make_patient, practitioner_id: int):  # type: ignore[no-untyped-def]
    """A visit with BL23 L, BL25 L and BL13 R (ids in that order)."""
    with database.write() as session:
        vid, _ = start_visit(session, make_patient(), practitioner_id)
        ids, _ = add_marks(
            session,
            BM,
            vid,
            [point_spec("BL23", "L"), point_spec("BL25", "L"), point_spec("BL13", "R")],
        )
    return vid, ids


@pytest.fixture
def page(qtbot, database: Database, charted) -> VisitChartPage:  # type: ignore[no-untyped-def]
    """The editor on that visit."""
    editor = VisitChartPage(OpRunner(database), BM)
    qtbot.addWidget(editor)
    editor.resize(1400, 900)
    editor.show()
    editor.open_visit(charted[0])
    return editor


def _pair(qtbot, page: VisitChartPage, a: int, b: int) -> None:  # type: ignore[no-untyped-def]
    page.map.select_marks([a, b])
    page.side_tabs.setCurrentIndex(1)  # EA
    qtbot.mouseClick(page.ea_panel.add_button, Qt.MouseButton.LeftButton)


def _type(qtbot, widget, text: str) -> None:  # type: ignore[no-untyped-def]
    """Replace a field's text by typing, then leave it with Tab (as a person does)."""
    widget.setFocus()
    widget.selectAll()
    qtbot.keyClicks(widget, text)
    qtbot.keyClick(widget, Qt.Key.Key_Tab)


def _stored_pair(database: Database, vid: int):  # type: ignore[no-untyped-def]
    with database.read() as session:
        (pair,) = ea_pairs(session, vid)
    return pair


def test_pairing_two_selected_marks_stores_the_stimulation(
    qtbot,
    page: VisitChartPage,
    database: Database,
    charted,  # type: ignore[no-untyped-def]
) -> None:
    """Two selected needles are joined, the new pair is selected, and the Hz, mA, minutes and
    device typed after pairing are stored on it and drawn as a lead."""
    vid, (bl23, bl25, _bl13) = charted
    _pair(qtbot, page, bl23, bl25)
    panel = page.ea_panel
    assert panel.current_pair() is not None and panel.frequency.isEnabled()
    _type(qtbot, panel.frequency, "2")
    _type(qtbot, panel.intensity.lineEdit(), "1.5")
    _type(qtbot, panel.minutes.lineEdit(), "20")
    _type(qtbot, panel.device, "ITO ES-160")
    pair = _stored_pair(database, vid)
    assert {pair.mark_a_id, pair.mark_b_id} == {bl23, bl25}
    assert (pair.frequency_hz, pair.intensity_ma, pair.minutes, pair.device) == (
        2.0,
        1.5,
        20,
        "ITO ES-160",
    )
    assert page.map.ea_line_count() == 1
    assert "2 Hz" in panel.model.stringList()[0]
    assert "ea-chest" not in " ".join(w.warning.key for w in page.safety.warnings)


def test_dense_disperse_stores_both_frequencies(
    qtbot,
    page: VisitChartPage,
    database: Database,
    charted,  # type: ignore[no-untyped-def]
) -> None:
    """ "2/100" with a dense-disperse waveform stores 2 Hz and 100 Hz (it used to store 21)."""
    vid, (bl23, bl25, _bl13) = charted
    _pair(qtbot, page, bl23, bl25)
    panel = page.ea_panel
    panel.waveform.setCurrentText("Dense-disperse")
    panel.waveform.activated.emit(panel.waveform.currentIndex())
    _type(qtbot, panel.frequency, "2/100")
    pair = _stored_pair(database, vid)
    assert (pair.waveform, pair.frequency_hz, pair.frequency2_hz) == ("Dense-disperse", 2, 100)
    assert "2/100 Hz" in panel.model.stringList()[0]
    assert panel.frequency.text() == "2/100"


def test_two_frequencies_without_dense_disperse_are_refused_beside_the_field(
    qtbot,
    page: VisitChartPage,
    database: Database,
    charted,  # type: ignore[no-untyped-def]
) -> None:
    """A continuous waveform with "2/100" says why beside the fields and stores nothing."""
    vid, (bl23, bl25, _bl13) = charted
    _pair(qtbot, page, bl23, bl25)
    panel = page.ea_panel
    panel.waveform.setCurrentText("Continuous")
    panel.waveform.activated.emit(panel.waveform.currentIndex())
    _type(qtbot, panel.frequency, "2/100")
    assert "dense-disperse" in panel.error.text()
    pair = _stored_pair(database, vid)
    assert (pair.frequency_hz, pair.frequency2_hz) == (None, None)


def test_an_existing_pair_is_edited_in_place_and_undone(
    qtbot,
    page: VisitChartPage,
    database: Database,
    charted,  # type: ignore[no-untyped-def]
) -> None:
    """A pair's minutes changed later are stored; Ctrl+Z puts the old value back, in the
    database and on screen; reopening the visit shows what is stored."""
    vid, (bl23, bl25, _bl13) = charted
    _pair(qtbot, page, bl23, bl25)
    panel = page.ea_panel
    _type(qtbot, panel.minutes.lineEdit(), "20")
    _type(qtbot, panel.minutes.lineEdit(), "30")
    assert _stored_pair(database, vid).minutes == 30
    page.undo_stack.undo()
    assert _stored_pair(database, vid).minutes is None  # the two quick edits merged
    page.undo_stack.redo()
    assert _stored_pair(database, vid).minutes == 30
    page.open_visit(vid)
    panel.select_pair(0)
    assert panel.minutes.value() == 30


def test_removing_a_pair_is_undoable_with_its_settings(
    qtbot,
    page: VisitChartPage,
    database: Database,
    charted,  # type: ignore[no-untyped-def]
) -> None:
    """Remove pair, then undo: the same pair comes back with its settings and its lead."""
    vid, (bl23, bl25, _bl13) = charted
    _pair(qtbot, page, bl23, bl25)
    _type(qtbot, page.ea_panel.device, "ITO ES-160")
    qtbot.mouseClick(page.ea_panel.remove_button, Qt.MouseButton.LeftButton)
    with database.read() as session:
        assert ea_pairs(session, vid) == []
    assert page.map.ea_line_count() == 0
    page.undo_stack.undo()
    assert _stored_pair(database, vid).device == "ITO ES-160"
    assert page.map.ea_line_count() == 1


def test_a_pair_across_the_upper_back_is_warned(
    qtbot,
    page: VisitChartPage,
    charted,  # type: ignore[no-untyped-def]
) -> None:
    """An EA lead from BL23 L to BL13 R crosses the thoracic midline and is warned about."""
    _vid, (bl23, _bl25, bl13) = charted
    page.map.select_marks([bl23, bl13])
    qtbot.mouseClick(page.ea_panel.add_button, Qt.MouseButton.LeftButton)
    assert any(w.warning.key.startswith("ea-chest") for w in page.safety.warnings)


def test_pairing_needs_exactly_two_marks(
    qtbot,
    page: VisitChartPage,
    database: Database,
    charted,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """With one mark selected the editor explains what to do and stores nothing."""
    vid, (bl23, _bl25, _bl13) = charted
    page.map.select_marks([bl23])
    told: list[str] = []
    when_modal(lambda box: (told.append(box.text()), box.accept()))
    qtbot.mouseClick(page.ea_panel.add_button, Qt.MouseButton.LeftButton)
    assert "exactly two" in told[0]
    with database.read() as session:
        assert ea_pairs(session, vid) == []


def test_adverse_event_is_recorded_with_severity_and_action(
    qtbot,
    page: VisitChartPage,
    database: Database,
    charted,  # type: ignore[no-untyped-def]
) -> None:
    """Choosing dizziness, mild, and the action taken records the event on the visit."""
    vid, _ids = charted
    panel = page.adverse_panel
    panel.kind.setCurrentIndex(panel.kind.findData("dizziness"))
    panel.severity.setCurrentIndex(panel.severity.findData("mild"))
    qtbot.keyClicks(panel.action, "Needles removed, patient lay flat, recovered in 5 minutes")
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    with database.read() as session:
        (event,) = adverse_events(session, vid)
    assert (event.kind, event.severity) == ("dizziness", "mild")
    assert event.action.startswith("Needles removed")
    assert panel.model.stringList()[0].startswith("Dizziness or fainting (mild)")


def test_other_adverse_event_needs_details(
    qtbot,
    page: VisitChartPage,
    database: Database,
    charted,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    """An "Other" event without details is refused with a message and not stored."""
    vid, _ids = charted
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a: shown.append(a[2])))
    panel = page.adverse_panel
    panel.kind.setCurrentIndex(panel.kind.findData("other"))
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    assert "Describe what happened" in shown[0]
    with database.read() as session:
        assert adverse_events(session, vid) == []


def test_an_unexpected_error_in_an_undo_step_is_reported_not_fatal(
    qtbot,
    page: VisitChartPage,
    database: Database,
    charted,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    """A bug inside a step (here: a service returning the wrong shape) shows a message and
    leaves the app running, instead of escaping into Qt and ending the program."""
    from charting.services import visit_record

    _vid, (bl23, bl25, _bl13) = charted
    _pair(qtbot, page, bl23, bl25)
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", staticmethod(lambda *a: shown.append(a[2])))
    monkeypatch.setattr(visit_record, "update_ea_pair", lambda *_a: visit_record.Changes())
    _type(qtbot, page.ea_panel.minutes.lineEdit(), "25")
    assert shown and "could not be completed" in shown[0]
    assert page.isVisible()
