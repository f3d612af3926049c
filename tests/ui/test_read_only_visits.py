"""Signed visits and colleagues' drafts look read-only and accept nothing they would refuse."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QLabel, QLineEdit, QMessageBox, QSpinBox

from charting.bodymap import load_bodymap
from charting.models import Role
from charting.models.db import Database
from charting.services.marks import add_marks, list_marks
from charting.services.visit_record import record, sign_visit
from charting.services.visits import start_visit
from charting.ui.ops import OpRunner
from charting.ui.visit_chart import VisitChartPage
from tests.factories import add_account, count_needles_out, point_spec

BM = load_bodymap()


@pytest.fixture
def visit_id(database: Database, make_patient, practitioner_id: int) -> int:  # type: ignore[no-untyped-def]
    """Ana's draft with BL23 on both sides."""
    with database.write() as session:
        vid, _ = start_visit(session, make_patient(), practitioner_id)
        add_marks(session, BM, vid, [point_spec("BL23", "L"), point_spec("BL23", "R")])
    return vid


def _page(qtbot, database: Database, visit_id: int) -> VisitChartPage:  # type: ignore[no-untyped-def]
    chart = VisitChartPage(OpRunner(database), BM)
    qtbot.addWidget(chart)
    chart.resize(1280, 800)
    chart.show()
    qtbot.waitExposed(chart)
    chart.open_visit(visit_id)
    return chart


@pytest.fixture
def lee(database: Database) -> Iterator[Database]:
    """Lee Chen, a second practitioner, on the same database."""
    yield database.acting_as(add_account(database, "lee", Role.PRACTITIONER, name="Lee Chen"))


def _labels(database: Database, visit_id: int) -> list[str]:
    with database.read() as session:
        return [r.label for r in list_marks(session, visit_id)]


def test_a_signed_visit_is_visibly_read_only(  # type: ignore[no-untyped-def]
    qtbot, database: Database, visit_id: int, practitioner_id: int
) -> None:
    """The banner says who signed and that corrections are amendments; a click on the map
    adds nothing, the fields and mark details are disabled, no refusal pops up."""
    with database.write() as session:
        count_needles_out(session, visit_id)
        sign_visit(session, visit_id, practitioner_id)
    page = _page(qtbot, database, visit_id)
    assert page.banner.isVisible()
    assert "Signed by Ana Ruiz" in page.banner_text.text()
    assert "amendments" in page.banner_text.text()
    assert not page.take_over_button.isVisible()
    x, y = BM.position("BL40", "R", "posterior")  # type: ignore[misc]
    qtbot.mouseClick(
        page.map.viewport(), Qt.MouseButton.LeftButton, pos=page.map.viewport_point(x, y)
    )
    assert _labels(database, visit_id) == ["BL23 L", "BL23 R"]
    pain = page.form.findChild(QSpinBox, "pain_now")
    complaint = page.form.findChild(QLineEdit, "chief_complaint")
    assert not pain.isEnabled() and not complaint.isEnabled()
    page.map.select_marks([page.mark_model.mark(0).id])  # type: ignore[union-attr]
    assert not page.details.note.isEnabled() and not page.details.technique.isEnabled()
    assert not page.point_entry.isEnabled()
    assert page.sign_button.text().startswith("Amend")


def test_a_colleagues_draft_is_read_only_until_taken_over(  # type: ignore[no-untyped-def]
    qtbot, database: Database, visit_id: int, lee: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lee sees Ana's draft read-only with the reason; "Take over this draft" makes it his,
    after which his clicks are stored."""
    page = _page(qtbot, lee, visit_id)
    assert "Ana Ruiz's visit" in page.banner_text.text()
    assert page.take_over_button.isVisible()
    assert not page.sign_button.isEnabled()
    x, y = BM.position("BL40", "R", "posterior")  # type: ignore[misc]
    where = page.map.viewport_point(x, y)
    qtbot.mouseClick(page.map.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert _labels(database, visit_id) == ["BL23 L", "BL23 R"]
    monkeypatch.setattr(QMessageBox, "question", lambda *_a, **_k: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(page.take_over_button, Qt.MouseButton.LeftButton)
    assert not page.banner.isVisible()
    assert page.sign_button.isEnabled()
    qtbot.mouseClick(page.map.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert _labels(database, visit_id) == ["BL23 L", "BL23 R", "BL40 R"]
    with database.read() as session:
        assert record(session, visit_id)["pain_now"] is None


def test_a_refused_mark_edit_shows_what_is_stored(  # type: ignore[no-untyped-def]
    qtbot,
    database: Database,
    visit_id: int,
    database_url: str,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another workstation changes a mark's note after this one read it: typing a note here
    is refused with a message, and the field then shows the stored note, not the refused one."""
    from charting.models.migrate import open_database
    from charting.services.marks import MarkDetails, update_details

    page = _page(qtbot, database, visit_id)
    first = page.mark_model.mark(0)
    assert first is not None
    other = open_database(database_url, tmp_path / "backups").database
    other.actor = database.actor
    try:
        with other.write() as session:
            update_details(session, first.id, MarkDetails("manual", note="from room 2"))
    finally:
        other.dispose()
    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a: told.append(a[2])))
    page.map.select_marks([first.id])
    page.details.note.setFocus()
    qtbot.keyClicks(page.details.note, "from room 1")
    qtbot.keyClick(page.details.note, Qt.Key.Key_Return)
    assert told and "was changed" in told[0]
    assert page.details.note.text() == "from room 2"


def test_an_altered_signed_visit_opens_with_a_warning(  # type: ignore[no-untyped-def]
    qtbot, database: Database, visit_id: int, practitioner_id: int
) -> None:
    """A signed visit changed behind Charting's back opens with a red warning that it no
    longer matches its signature, instead of the usual "Signed by" line."""
    with database.write() as session:
        count_needles_out(session, visit_id)
        sign_visit(session, visit_id, practitioner_id)
    with database.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE visit SET pain_now = 3 WHERE id = {visit_id}")
    page = _page(qtbot, database, visit_id)
    text = page.banner_text.text()
    assert text.startswith("WARNING:") and "changed after it was signed" in text
    assert page.banner.property("state") == "altered"


def test_signing_with_a_missing_needle_asks_what_happened(  # type: ignore[no-untyped-def]
    qtbot, database: Database, visit_id: int, when_modal
) -> None:
    """2 in, 1 out: Sign opens the needle dialog; recording an adverse event with what the
    patient was told signs the visit and lists the event."""
    from charting.models import Visit
    from charting.services.visit_record import adverse_events
    from charting.ui.needle_dialog import NeedleCountDialog

    page = _page(qtbot, database, visit_id)
    page.form.set_value("needles_out", 1)
    seen: list[str] = []

    def answer(dialog: NeedleCountDialog) -> None:
        seen.append(dialog.findChild(QLabel, "needleProblem").text())
        qtbot.mouseClick(dialog.adverse, Qt.MouseButton.LeftButton)
        qtbot.keyClicks(dialog.note, "Not found after searching the couch")
        qtbot.keyClicks(dialog.told, "Told to check the skin and call us")
        dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()

    when_modal(answer)
    page.sign()
    assert "2 needles went in and 1 came out" in seen[0]
    with database.read() as session:
        assert session.get_one(Visit, visit_id).status == "signed"
        (event,) = adverse_events(session, visit_id)
    assert event.kind == "forgotten_needle" and "call us" in event.patient_told
    assert "Signed by" in page.banner_text.text()
