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


def test_pairing_two_selected_marks_stores_the_stimulation(
    qtbot,
    page: VisitChartPage,
    database: Database,
    charted,  # type: ignore[no-untyped-def]
) -> None:
    """Two selected needles are joined with the entered Hz, mA and minutes, and drawn as a lead."""
    vid, (bl23, bl25, _bl13) = charted
    page.map.select_marks([bl23, bl25])
    page.side_tabs.setCurrentWidget(page.ea_panel)
    page.ea_panel.frequency.setValue(2)
    page.ea_panel.intensity.setValue(1.5)
    page.ea_panel.minutes.setValue(20)
    page.ea_panel.device.setText("ITO ES-160")
    qtbot.mouseClick(page.ea_panel.add_button, Qt.MouseButton.LeftButton)
    with database.read() as session:
        (pair,) = ea_pairs(session, vid)
    assert {pair.mark_a_id, pair.mark_b_id} == {bl23, bl25}
    assert (pair.frequency_hz, pair.intensity_ma, pair.minutes, pair.device) == (
        2.0,
        1.5,
        20,
        "ITO ES-160",
    )
    assert page.map.ea_line_count() == 1
    assert "2 Hz" in page.ea_panel.model.stringList()[0]
    assert "ea-chest" not in " ".join(w.warning.key for w in page.safety.warnings)


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
