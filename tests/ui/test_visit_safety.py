"""Safety warnings in the visit editor, acknowledgement, and signing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QGraphicsEllipseItem,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
)

from charting.bodymap import load_bodymap
from charting.models import Visit
from charting.models.db import Database
from charting.services import consent
from charting.services.marks import list_marks
from charting.services.visit_record import acknowledgements
from charting.ui.ops import OpRunner
from charting.ui.visit_chart import VisitChartPage
from tests.factories import make_visit

BM = load_bodymap()
#: A patient five months from her due date.
PREGNANT = {"pregnant": True, "pregnancy_due_date": date.today() + timedelta(days=150)}


def _page(qtbot, database: Database, visit_id: int) -> VisitChartPage:  # type: ignore[no-untyped-def]
    page = VisitChartPage(OpRunner(database), BM)
    qtbot.addWidget(page)
    page.resize(1400, 900)
    page.show()
    qtbot.waitExposed(page)
    page.open_visit(visit_id)
    return page


def _click(qtbot, page: VisitChartPage, code: str, side: str) -> None:  # type: ignore[no-untyped-def]
    views = BM.views_for(code)
    if page.map.view_id not in views:
        page.set_view(views[0])
    x, y = BM.position(code, side, page.map.view_id)  # type: ignore[arg-type, misc]
    qtbot.mouseClick(
        page.map.viewport(), Qt.MouseButton.LeftButton, pos=page.map.viewport_point(x, y)
    )


def _warning_keys(page: VisitChartPage) -> list[str]:
    return [w.warning.key for w in page.safety.warnings]


def test_pregnancy_point_warning_appears_and_is_acknowledged(
    qtbot,
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """Marking SP6 on a pregnant patient shows a warning; Acknowledge stores it with the visit."""
    made = make_visit(database, patient=PREGNANT, bare=True)
    pid, vid = made.patient_id, made.visit_id
    with database.write() as session:
        treatments = ["acupuncture", "pregnancy"]  # consented: only the point warning is left
        risks = [r.key for r in consent.risks_for(treatments)]
        consent.record_consent(session, consent.ConsentInput(pid, "", treatments, risks))
    page = _page(qtbot, database, vid)
    assert "No safety warnings" in page.safety.summary.text()
    _click(qtbot, page, "SP6", "L")
    assert "preg-point:SP6:L" in _warning_keys(page)
    assert "to acknowledge" in page.safety.summary.text()
    assert page.map.alert_count() == 1  # the warned mark is ringed on the map
    qtbot.waitUntil(
        lambda: any(w.isVisible() and "SP6" in w.text() for w in page.safety.findChildren(QLabel))
    )
    buttons = [
        b for b in page.safety.findChildren(QPushButton, "acknowledgeButton") if b.isVisible()
    ]
    qtbot.mouseClick(buttons[0], Qt.MouseButton.LeftButton)
    with database.read() as session:
        assert "preg-point:SP6:L" in acknowledgements(session, vid)
    assert "all acknowledged" in page.safety.summary.text()
    assert page.map.alert_count() == 0


def test_no_warnings_for_an_ordinary_patient(
    qtbot,
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """The same points on a patient without health flags raise no pregnancy or device warnings."""
    vid = make_visit(database, bare=True).visit_id
    page = _page(qtbot, database, vid)
    _click(qtbot, page, "SP6", "L")
    _click(qtbot, page, "BL25", "L")
    assert not [k for k in _warning_keys(page) if k.startswith(("preg", "device", "bleeding"))]


def test_device_with_electroacupuncture_blocks_signing_until_overridden(
    qtbot,
    database: Database,
    make_patient,
    practitioner_id: int,
    monkeypatch,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """Pacemaker + EA is a block: signing is refused until it is overridden with a reason."""
    vid = make_visit(database, patient={"implanted_device": "pacemaker"}, bare=True).visit_id
    page = _page(qtbot, database, vid)
    _click(qtbot, page, "BL25", "L")
    _click(qtbot, page, "BL25", "L")  # select it
    page.details.technique.setCurrentIndex(page.details.technique.findData("electro"))
    page.details.technique.activated.emit(page.details.technique.currentIndex())
    assert "device-ea" in _warning_keys(page)
    monkeypatch.setattr(
        QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes)
    )
    refused: list[str] = []
    when_modal(lambda box: (refused.append(box.text()), box.accept()))
    page.sign()
    assert refused and "safety blocks" in refused[0]
    with database.read() as session:
        assert session.get(Visit, vid).status == "draft"  # type: ignore[union-attr]

    seen: list[tuple[str, bool, str]] = []
    when_modal(lambda dialog: _refuse_then_override(qtbot, dialog, seen))
    block = next(w for w in page.safety.warnings if w.warning.key == "device-ea")
    page.safety.acknowledge_requested.emit(block.warning)
    assert seen == [("ok", True, "Say why this is safe to do (at least a few words).")]
    page.form.set_value("needles_out", 1)
    page.sign()
    with database.read() as session:
        visit = session.get(Visit, vid)
        assert visit is not None and visit.status == "signed" and visit.content_hash
    assert not page.form.bindings["chief_complaint"].widget.isEnabled()
    assert page.sign_button.text() == "Amend\u2026"


@pytest.mark.parametrize("flag", ["bleeding_disorder", "anticoagulant"])
def test_cupping_on_a_bleeding_risk_patient_is_warned(
    qtbot,
    database: Database,
    make_patient,
    practitioner_id: int,
    flag: str,  # type: ignore[no-untyped-def]
) -> None:
    """A cupping site on an anticoagulated or bleeding-disorder patient is warned about."""
    vid = make_visit(database, patient={flag: True}, bare=True).visit_id
    page = _page(qtbot, database, vid)
    page.set_mode("cupping")
    qtbot.mouseClick(
        page.map.viewport(), Qt.MouseButton.LeftButton, pos=page.map.viewport_point(380, 700)
    )
    with database.read() as session:
        assert [r.kind for r in list_marks(session, vid)] == ["cupping"]
    assert any(k.startswith("bleeding-cupping") for k in _warning_keys(page))


def test_wet_cupping_details_are_stored_and_block_on_anticoagulants(
    qtbot,
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """Choosing wet cupping for a cupping site stores it and turns the warning into a block."""
    vid = make_visit(database, patient={"anticoagulant": True}, bare=True).visit_id
    page = _page(qtbot, database, vid)
    page.set_mode("cupping")
    where = page.map.viewport_point(380, 700)
    qtbot.mouseClick(page.map.viewport(), Qt.MouseButton.LeftButton, pos=where)
    page.set_mode("point")
    qtbot.mouseClick(page.map.viewport(), Qt.MouseButton.LeftButton, pos=where)  # select it
    assert page.details._form.isRowVisible(page.details.cup_type)
    page.details.cup_type.setCurrentIndex(page.details.cup_type.findData("wet"))
    page.details.cup_type.activated.emit(page.details.cup_type.currentIndex())
    page.details.cup_count.setValue(4)
    page.details.cup_count.editingFinished.emit()
    with database.read() as session:
        (row,) = list_marks(session, vid)
    assert (row.spec.cup_type, row.spec.cup_count) == ("wet", 4)
    assert any(w.warning.severity == "block" for w in page.safety.warnings)


def test_amending_a_signed_visit_keeps_the_original(
    qtbot,
    database: Database,
    make_patient,
    practitioner_id: int,
    monkeypatch,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """Amend… on a signed visit adds a correction shown beside the untouched original."""
    from charting.services.visit_record import amendments, record

    vid = make_visit(database, bare=True, chief_complaint="Left sciatica").visit_id
    page = _page(qtbot, database, vid)
    monkeypatch.setattr(
        QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes)
    )
    page.sign()
    assert page.sign_button.text() == "Amend\u2026"

    def fill(dialog) -> None:  # type: ignore[no-untyped-def]
        dialog.field.setCurrentIndex(dialog.field.findData("chief_complaint"))
        assert dialog.original.text() == "Left sciatica"
        qtbot.keyClicks(dialog.corrected, "Right sciatica")
        qtbot.keyClicks(dialog.reason, "Side recorded wrongly")
        dialog._on_buttons_accepted()

    when_modal(fill)
    qtbot.mouseClick(page.sign_button, Qt.MouseButton.LeftButton)
    with database.read() as session:
        assert record(session, vid)["chief_complaint"] == "Left sciatica"
        (amendment,) = amendments(session, vid)
    assert amendment.corrected == "Right sciatica"
    assert "Right sciatica" in page.amendment_model.stringList()[0]
    assert "Left sciatica" in page.amendment_model.stringList()[0]


def test_safety_ring_follows_a_moved_mark_and_goes_when_acknowledged(
    qtbot,
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """The red ring around a warned mark moves with the mark when it is dragged, stays put
    while other marks are added, and disappears once the warning is acknowledged."""
    vid = make_visit(database, patient=PREGNANT, bare=True).visit_id
    page = _page(qtbot, database, vid)
    _click(qtbot, page, "SP6", "L")

    def ring_centres() -> list[tuple[float, float]]:
        return [
            (item.sceneBoundingRect().center().x(), item.sceneBoundingRect().center().y())
            for item in page.map.scene().items()
            if isinstance(item, QGraphicsEllipseItem) and "Safety:" in item.toolTip()
        ]

    (mark,) = page._rows
    assert ring_centres() == [pytest.approx((mark.spec.x, mark.spec.y), abs=0.5)]
    start = page.map.viewport_point(mark.spec.x, mark.spec.y)
    viewport = page.map.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 5):
        qtbot.mouseMove(viewport, start + QPoint(2 * step, 3 * step))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=start + QPoint(8, 12))
    (moved,) = page._rows
    assert (moved.spec.x, moved.spec.y) != (mark.spec.x, mark.spec.y)
    assert ring_centres() == [pytest.approx((moved.spec.x, moved.spec.y), abs=0.5)]
    _click(qtbot, page, "KI3", "R")  # same view, no pregnancy caution: no new ring
    assert len(page._rows) == 2
    assert ring_centres() == [pytest.approx((moved.spec.x, moved.spec.y), abs=0.5)]

    def buttons() -> list[QPushButton]:
        found = page.safety.findChildren(QPushButton, "acknowledgeButton")
        return [b for b in found if b.isVisible()]

    qtbot.waitUntil(lambda: bool(buttons()))
    qtbot.mouseClick(buttons()[0], Qt.MouseButton.LeftButton)
    assert ring_centres() == []


def _refuse_then_override(qtbot, dialog, seen: list[tuple[str, bool, str]]) -> None:  # type: ignore[no-untyped-def]
    """Press Override with a too-short reason (refused, typing kept), then a real one."""
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    reason = dialog.findChild(QPlainTextEdit, "overrideReason")
    qtbot.keyClicks(reason, "ok")
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)  # too short: refused, typing kept
    error = dialog.findChild(QLabel, "overrideReasonError")
    seen.append((reason.toPlainText(), dialog.isVisible(), error.text()))
    reason.clear()
    qtbot.keyClicks(reason, "Cardiologist cleared low-frequency EA in writing")
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)


def test_a_decision_stands_for_later_visits_until_its_point_changes(  # type: ignore[no-untyped-def]
    qtbot, database: Database, make_patient, practitioner_id: int
) -> None:
    """SP6 acknowledged for a pregnant patient at visit 1 is shown as carried over (and
    stored) at visit 2; SP6 on the other side comes back to be decided."""
    made = make_visit(database, patient=PREGNANT, bare=True)
    pid, first = made.patient_id, made.visit_id
    with database.write() as session:
        treatments = ["acupuncture", "pregnancy"]
        risks = [r.key for r in consent.risks_for(treatments)]
        consent.record_consent(session, consent.ConsentInput(pid, "", treatments, risks))
    page = _page(qtbot, database, first)
    _click(qtbot, page, "SP6", "L")
    page.safety.acknowledge_requested.emit(
        next(w.warning for w in page.safety.warnings if w.warning.key == "preg-point:SP6:L")
    )
    second = make_visit(database, patient_id=pid, bare=True).visit_id
    page.open_visit(second)
    _click(qtbot, page, "SP6", "L")
    (held,) = [w for w in page.safety.warnings if w.warning.key == "preg-point:SP6:L"]
    assert held.acknowledged and held.carried_from
    assert "carried over" in page.safety.counts.text()
    with database.read() as session:
        assert "preg-point:SP6:L" in acknowledgements(session, second)
    _click(qtbot, page, "SP6", "R")
    (fresh,) = [w for w in page.safety.warnings if w.warning.key == "preg-point:SP6:R"]
    assert fresh.needs_attention and not fresh.carried_from


def test_the_safety_heading_counts_what_needs_a_decision_and_names_advisories(
    qtbot, database: Database, make_patient, practitioner_id: int
) -> None:  # type: ignore[no-untyped-def]
    """The heading says how many need acknowledging; the counts say "advisories", not
    "advisorys"; the cards sit right under the heading with the spare room below them."""
    made = make_visit(database, patient=PREGNANT, bare=True)
    page = _page(qtbot, database, made.visit_id)
    _click(qtbot, page, "SP6", "L")
    from charting.ui.safety_panel import SafetyPanel

    panel = SafetyPanel()  # the page's warnings in a panel taller than they need
    qtbot.addWidget(panel)
    panel.show_warnings(page.safety.warnings)
    panel.resize(300, 1400)
    panel.show()
    qtbot.wait(10)
    summary = panel.summary.text()
    assert summary.startswith("Safety: ") and "to acknowledge" in summary
    for part in panel.counts.text().split("\u00b7"):
        n, noun = part.split(maxsplit=1)
        assert noun in (
            ("block", "warning", "advisory")
            if n == "1"
            else ("blocks", "warnings", "advisories", "carried over")
        ), part
    cards = [w for w in panel._rows if w.isVisible()]
    assert cards
    first = min(w.geometry().top() for w in cards)
    heading = sum(
        w.heightForWidth(w.width()) if w.hasHeightForWidth() else w.sizeHint().height()
        for w in (panel.summary, panel.counts, panel.acknowledge_all)
        if w.isVisible()
    )
    assert first - panel.summary.geometry().top() <= heading + 24, (first, heading)
