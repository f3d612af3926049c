"""The audit log viewer: what it lists, its filters, loading on scroll, and the chain check."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QFileDialog
from sqlalchemy import text

from charting.models import Role
from charting.models.db import Database
from charting.services import accounts, audit
from charting.ui import documents
from charting.ui.audit_viewer import PAGE, AuditViewer
from charting.ui.main_window import MainWindow
from tests.factories import TEST_PASSWORD, add_account


def _viewer(qtbot, database: Database) -> AuditViewer:  # type: ignore[no-untyped-def]
    viewer = AuditViewer(database)
    qtbot.addWidget(viewer)
    viewer.show()
    return viewer


def _column(viewer: AuditViewer, column: int) -> list[str]:
    model = viewer.model
    return [model.index(r, column).data() for r in range(model.rowCount())]


def test_the_viewer_lists_the_chart_just_opened(
    qtbot,
    window: MainWindow,
    database: Database,
    make_patient,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """Opening a patient's chart, then Settings > Audit log: the newest entries are the
    viewer's own opening and the patient.view, with the patient's chart number and name."""
    pid = make_patient()
    window.patient_model.refresh()
    window.select_patient(pid)
    rows: list[list[str]] = []

    def read(viewer: AuditViewer) -> None:
        model = viewer.model
        rows.extend(
            [model.index(r, c).data() for c in range(model.columnCount())] for r in range(2)
        )
        viewer.reject()

    when_modal(read)
    window.audit_action.trigger()
    assert [r[3] for r in rows] == ["audit.view", "patient.view"]
    assert rows[1][2] == "ana"
    assert rows[1][4] == "000001 Lindqvist, Maja"
    assert rows[1][5] == f"patient {pid}"
    assert int(rows[0][0]) == int(rows[1][0]) + 1


def test_filters_by_user_action_patient_and_date(qtbot, database: Database, make_patient) -> None:  # type: ignore[no-untyped-def]
    """Choosing a user, an action family, a patient or dates lists only the matching entries."""
    first = make_patient()
    second = make_patient(family_name="Okafor", given_name="Chidi")
    add_account(database, "bob", Role.FRONT_DESK)
    accounts.sign_in(database, "bob", TEST_PASSWORD)
    with database.write() as session:
        audit.record_view(session, first)
        audit.record_view(session, second)
    viewer = _viewer(qtbot, database)
    users = [viewer.user.itemText(i) for i in range(viewer.user.count())]
    assert users[0] == "Anyone" and {"ana", "bob"} <= set(users)

    viewer.user.setCurrentIndex(viewer.user.findData("bob"))
    assert set(_column(viewer, 2)) == {"bob"} and _column(viewer, 3) == ["login"]

    viewer.user.setCurrentIndex(0)
    viewer.action.setCurrentIndex(viewer.action.findData("patient"))
    actions = _column(viewer, 3)
    assert actions and all(a.startswith("patient.") for a in actions)

    qtbot.keyClicks(viewer.patient, "okafor")
    qtbot.waitUntil(lambda: viewer.model.filter.patient_id == second, timeout=3000)
    assert set(_column(viewer, 4)) == {"000002 Okafor, Chidi"}
    assert "Okafor, Chidi" in viewer.patient_note.text()
    viewer.patient.clear()
    qtbot.keyClicks(viewer.patient, "nobody-of-that-name")
    qtbot.keyClick(viewer.patient, Qt.Key.Key_Return)
    assert viewer.model.rowCount() == 0
    assert "No patient matches" in viewer.patient_note.text()

    viewer.patient.clear()
    qtbot.keyClick(viewer.patient, Qt.Key.Key_Return)
    viewer.action.setCurrentIndex(0)
    everything = viewer.model.rowCount()
    viewer.since.setDate(QDate.currentDate().addDays(1))
    assert viewer.model.rowCount() == 0
    viewer.since.setDate(QDate(2000, 1, 1))
    viewer.until.setDate(QDate.currentDate())
    assert viewer.model.rowCount() == everything


def test_older_entries_load_as_the_table_scrolls(qtbot, qtmodeltester, database: Database) -> None:  # type: ignore[no-untyped-def]
    """A long log shows its newest page first and reads older pages when scrolled down."""
    with database.write() as session:
        for n in range(PAGE + 50):
            audit.record(session, "test.entry", detail=f"entry {n}")
    viewer = _viewer(qtbot, database)
    assert viewer.model.rowCount() == PAGE
    assert "scroll down" in viewer.count.text()
    viewer.table.scrollToBottom()
    qtbot.waitUntil(lambda: viewer.model.rowCount() > PAGE, timeout=3000)
    viewer.table.scrollToBottom()
    qtbot.waitUntil(lambda: not viewer.model.canFetchMore(), timeout=3000)
    seqs = [int(s) for s in _column(viewer, 0)]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == len(seqs)
    qtmodeltester.check(viewer.model)


def test_verify_chain_reports_ok_then_the_entry_edited_behind_its_back(
    qtbot, database: Database
) -> None:  # type: ignore[no-untyped-def]
    """ "Verify chain" says the log is intact, and names the entry changed with raw SQL."""
    viewer = _viewer(qtbot, database)
    qtbot.mouseClick(viewer.verify_button, Qt.MouseButton.LeftButton)
    with database.read() as session:
        count = len(audit.search(session, limit=10_000))
    assert f"intact: all {count} entries" in viewer.chain_report.text()
    assert "hash: " in viewer.chain_report.text()

    with database.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET detail = 'nothing to see' WHERE seq = 2"))
    qtbot.mouseClick(viewer.verify_button, Qt.MouseButton.LeftButton)
    report = viewer.chain_report.text()
    assert "tampered with at entry 2" in report
    assert "entry 2 was changed after it was written" in report


def test_the_viewer_refuses_accounts_that_may_not_see_the_log(
    qtbot, database: Database, when_modal
) -> None:  # type: ignore[no-untyped-def]
    """A front-desk account opening the viewer is refused, and the refusal is logged."""
    admin = database.actor
    database.actor = add_account(database, "bob", Role.FRONT_DESK)
    from charting.services.access import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        AuditViewer(database)
    with database.acting_as(admin).read() as session:
        assert audit.search(session, limit=1)[0].action == "denied.view_audit"


def test_saving_a_document_is_logged(
    qtbot, database: Database, make_patient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Saving a PDF with its audit details writes a document.save entry for the patient."""
    pid = make_patient()
    target = tmp_path / "course.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    record = documents.DocumentAudit(database, pid, "Course report")
    saved = documents.save_document(
        None, "course-report", lambda t: Path(t).write_bytes(b"%PDF"), record
    )  # type: ignore[arg-type]
    assert saved == target and target.exists()
    with database.read() as session:
        entry = audit.search(session, action="document", limit=1)[0]
    assert (entry.action, entry.patient_id) == ("document.save", pid)
    assert entry.detail.startswith("Course report")
