"""The referral decision on the visit page: asked for under the red flags, picked from the
keyboard, and signing is refused with the reason until it is recorded."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QMessageBox

from charting.bodymap import load_bodymap
from charting.models.db import Database
from charting.services.visit_record import record
from charting.services.visits import start_visit
from charting.ui.ops import OpRunner
from charting.ui.visit_chart import VisitChartPage
from tests.factories import count_needles_out

BM = load_bodymap()


@pytest.fixture
def page(qtbot, database: Database, make_patient, practitioner_id: int) -> VisitChartPage:  # type: ignore[no-untyped-def]
    """The visit page on a draft whose needles are counted."""
    with database.write() as session:
        vid, _ = start_visit(session, make_patient(), practitioner_id)
        count_needles_out(session, vid)
    chart = VisitChartPage(OpRunner(database), BM)
    qtbot.addWidget(chart)
    chart.resize(1280, 800)
    chart.show()
    qtbot.waitExposed(chart)
    chart.open_visit(vid)
    return chart


def test_a_ticked_flag_asks_for_a_decision_and_signing_waits_for_it(  # type: ignore[no-untyped-def]
    qtbot, page: VisitChartPage, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ticking "saddle numbness" shows the request under the decision; Sign is refused with
    the reason and puts the cursor in the decision; picking "urgent referral" with the
    keyboard stores it, clears the request, and the visit then signs."""
    vid = page.visit_id
    assert vid is not None
    form = page.form
    form.findChild(QCheckBox, "red_flags_ces_saddle").click()
    hint = form.bindings["referral_outcome"].error
    assert hint.isVisible() and "Saddle numbness" in hint.text()
    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a: told.append(a[2])))
    monkeypatch.setattr(QMessageBox, "question", lambda *_a, **_k: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(page.sign_button, Qt.MouseButton.LeftButton)
    assert told and "Record a referral decision" in told[0]
    outcome = form.findChild(QComboBox, "referral_outcome")
    assert QApplication.focusWidget() is outcome
    qtbot.keyClick(outcome, Qt.Key.Key_Down)
    with database.read() as session:
        assert record(session, vid)["referral_outcome"] == "urgent"
    assert not hint.isVisible()
    qtbot.mouseClick(page.sign_button, Qt.MouseButton.LeftButton)
    assert page.sign_button.text().startswith("Amend")


def test_skin_at_a_site_is_noted_in_the_mark_details(  # type: ignore[no-untyped-def]
    qtbot, database: Database, make_patient, practitioner_id: int
) -> None:
    """Choosing "Broken" for the skin at BL23 from the keyboard stores it with the mark, and
    the visit then carries a block naming the broken skin."""
    from charting.services.marks import add_marks, list_marks
    from charting.services.visit_safety import visit_warnings
    from tests.factories import point_spec

    with database.write() as session:
        vid, _ = start_visit(session, make_patient(), practitioner_id)
        add_marks(session, BM, vid, [point_spec("BL23", "L")])
    chart = VisitChartPage(OpRunner(database), BM)
    qtbot.addWidget(chart)
    chart.resize(1280, 800)
    chart.show()
    qtbot.waitExposed(chart)
    chart.open_visit(vid)
    chart.map.select_marks([chart.mark_model.mark(0).id])  # type: ignore[union-attr]
    skin = chart.findChild(QComboBox, "skinAtSite")
    skin.setFocus()
    qtbot.keyClick(skin, Qt.Key.Key_Down)
    qtbot.keyClick(skin, Qt.Key.Key_Down)
    assert skin.currentData() == "broken"
    with database.read() as session:
        (mark,) = list_marks(session, vid, BM)
        blocks = [w for w in visit_warnings(session, vid, BM) if w.warning.rule == "skin-no-go"]
    assert mark.spec.skin == "broken"
    assert blocks and "broken skin" in blocks[0].warning.message
