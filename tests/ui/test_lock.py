"""The screen lock, signing out and in, and what each role's window offers."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QPlainTextEdit, QWidget

from charting.models import Role
from charting.models.db import Database
from charting.services import audit
from charting.services.access import Actor
from charting.services.visit_record import record
from charting.services.visits import start_visit
from charting.ui.login_dialog import LoginDialog
from charting.ui.main_window import MainWindow
from tests.factories import TEST_PASSWORD, add_account, make_visit

ADMIN = Actor(1, "ana", "Ana Ruiz", frozenset({Role.ADMIN}))


def _visible_texts(window: QWidget) -> str:
    """Every piece of text a person can see in the window."""
    texts = [label.text() for label in window.findChildren(QLabel) if label.isVisible()]
    texts += [box.toPlainText() for box in window.findChildren(QPlainTextEdit) if box.isVisible()]
    return "\n".join(texts)


def _entries(database: Database, action: str) -> list[audit.Entry]:
    """Audit entries of ``action``, newest first, read as the clinic admin."""
    with database.acting_as(ADMIN).read() as session:
        return audit.search(session, action=action)


def _open_visit(window: MainWindow, database: Database, make_patient, practitioner_id: int) -> int:  # type: ignore[no-untyped-def]
    made = make_visit(database, bare=True, chief_complaint="Low back pain")
    window.patient_model.refresh()
    window.select_patient(made.patient_id)
    assert window.open_visit(made.visit_id)
    return made.visit_id


def _unlock(qtbot, window: MainWindow, password: str) -> None:  # type: ignore[no-untyped-def]
    page = window.lock_page
    page.password.clear()
    qtbot.keyClicks(page.password, password)
    qtbot.keyClick(page.password, Qt.Key.Key_Return)


def test_ctrl_l_hides_the_chart_and_unlocking_restores_the_open_visit(
    qtbot,
    window: MainWindow,
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """Ctrl+L saves the typing, hides every patient detail, and the password brings it all back."""
    vid = _open_visit(window, database, make_patient, practitioner_id)
    chart = window.visit_chart
    assert chart is not None
    box = chart.form.bindings["assessment"].widget
    assert isinstance(box, QPlainTextEdit)
    box.setFocus()
    qtbot.keyClicks(box, "Qi and blood stagnation")
    assert "Lindqvist" in _visible_texts(window)

    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)

    assert window.is_locked
    assert window.lock_page.title.text() == "Locked \u2013 Ana Ruiz"
    assert not chart.isVisible() and not window.patient_list.isVisible()
    assert "Lindqvist" not in _visible_texts(window)
    assert not window.menuBar().isVisible()
    assert not window.new_patient_action.isEnabled()
    with database.read() as session:
        assert record(session, vid)["assessment"] == "Qi and blood stagnation"
    assert _entries(database, "lock")[0].detail == "on request"

    _unlock(qtbot, window, "not the password")
    assert window.is_locked
    assert "wrong" in window.lock_page.message.text()

    _unlock(qtbot, window, TEST_PASSWORD)
    assert not window.is_locked
    assert window.visit_chart is chart and chart.visit_id == vid
    assert chart.isVisible() and box.toPlainText() == "Qi and blood stagnation"
    assert window.current_patient_id is not None
    assert window.menuBar().isVisible() and window.new_patient_action.isEnabled()
    assert [e.outcome for e in _entries(database, "unlock")][:2] == ["ok", "failed"]


def test_the_screen_locks_itself_after_the_idle_time(
    qtbot, database: Database, settings: QSettings, make_patient
) -> None:  # type: ignore[no-untyped-def]
    """With nobody touching the computer, the window locks after the (short) idle interval."""
    make_patient()
    window = MainWindow(database, settings, idle_lock_ms=150)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.select_patient(window.patient_model.patient_id(0))
    qtbot.waitUntil(lambda: window.is_locked, timeout=5000)
    assert "Lindqvist" not in _visible_texts(window)
    assert _entries(database, "lock")[0].detail == "idle"
    assert not window.idle.is_running()


def test_the_idle_interval_comes_from_the_clinic_settings(window: MainWindow) -> None:
    """Without an override the window locks after the clinic's idle minutes (10 by default)."""
    assert window.idle.interval_ms == 10 * 60_000
    assert window.idle.is_running()


def test_sign_in_as_someone_else_adapts_the_window_to_their_roles(
    qtbot,
    window: MainWindow,
    database: Database,
    make_patient,
    practitioner_id: int,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """From the lock page a front-desk colleague signs in: the visit is closed, clinical and
    admin actions are gone, and the sign-out is in the audit log."""
    add_account(database, "bob", Role.FRONT_DESK, name="Bob Front")
    _open_visit(window, database, make_patient, practitioner_id)
    assert window.export_action.isVisible() and window.new_visit_action.isVisible()
    window.lock()

    def sign_in_as_bob(dialog: LoginDialog) -> None:
        qtbot.keyClicks(dialog.username, "bob")
        qtbot.keyClicks(dialog.password, TEST_PASSWORD)
        qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)

    when_modal(sign_in_as_bob)
    qtbot.mouseClick(window.lock_page.switch_button, Qt.MouseButton.LeftButton)

    assert not window.is_locked
    assert database.actor.username == "bob"
    assert window.visit_chart is None
    assert window.current_patient_id is None
    assert window.signed_in_label.text() == "Signed in as Bob Front (Front desk)"
    for action in (
        window.export_action,
        window.new_visit_action,
        window.accounts_action,
        window.audit_action,
        window.backup_action,
        window.clinic_action,
        window.delete_patient_action,
    ):
        assert not action.isVisible(), action.objectName()
    assert window.new_patient_action.isVisible() and window.new_patient_action.isEnabled()
    assert [e.username for e in _entries(database, "logout")] == ["ana"]


def test_cancelling_the_login_after_signing_out_leaves_the_window_signed_out(
    qtbot,
    window: MainWindow,
    database: Database,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """File > Sign out, then Cancel: the signed-out page stays, and "Sign in…" asks again."""
    when_modal(lambda dialog: dialog.reject())
    window.sign_out_action.trigger()
    assert window.is_locked and window.lock_page.is_signed_out
    assert database.actor is None
    assert window.signed_in_label.text() == "Nobody is signed in"
    assert window.patient_model.rowCount() == 0

    def sign_in_as_ana(dialog: LoginDialog) -> None:
        qtbot.keyClicks(dialog.username, "ana")
        qtbot.keyClicks(dialog.password, TEST_PASSWORD)
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)

    when_modal(sign_in_as_ana)
    qtbot.mouseClick(window.lock_page.sign_in_button, Qt.MouseButton.LeftButton)
    assert not window.is_locked
    assert window.signed_in_label.text().startswith("Signed in as Ana Ruiz")


def test_front_desk_cannot_open_a_visit_or_export(
    qtbot,
    database: Database,
    settings: QSettings,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """Front desk sees the patient and visit list, but no Export or New visit, and a
    double-clicked visit is refused with the reason in the status bar."""
    pid = make_patient()
    with database.write() as session:
        start_visit(session, pid, practitioner_id)
    database.actor = add_account(database, "bob", Role.FRONT_DESK, name="Bob Front")
    window = MainWindow(database, settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert not window.export_action.isVisible()
    assert not window.new_visit_action.isVisible()
    window.select_patient(pid)
    assert not window.patient_panel.new_visit_button.isVisible()
    assert not window.patient_panel.course_button.isVisible()
    visits = window.patient_panel.visits
    rect = visits.visualRect(window.patient_panel.visit_model.index(0, 0))
    # A real double-click starts with a press and release.
    qtbot.mouseClick(visits.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(visits.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.visit_chart is None
    assert window.pages.currentWidget() is window.patient_panel
    assert "cannot read clinical notes" in window.statusBar().currentMessage()
    assert _entries(database, "denied")[0].username == "bob"


def test_opening_a_chart_is_logged_once_per_opening(
    window: MainWindow, database: Database, make_patient
) -> None:  # type: ignore[no-untyped-def]
    """Selecting a patient logs one patient.view; refreshing the same chart logs nothing more."""
    pid = make_patient()
    window.patient_model.refresh()
    window.select_patient(pid)
    window.select_patient(pid)
    views = _entries(database, "patient.view")
    assert [(e.username, e.patient_id) for e in views] == [("ana", pid)]


def test_a_window_without_anyone_signed_in_shows_the_sign_in_page(
    qtbot, database: Database, settings: QSettings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A window made while nobody is signed in shows nothing but the signed-out page."""
    database.actor = None
    window = MainWindow(database, settings)
    qtbot.addWidget(window)
    window.show()
    assert window.is_locked and window.lock_page.is_signed_out
    assert not window.new_patient_action.isEnabled()
    assert QApplication.activeModalWidget() is None


def test_the_idle_lock_cancels_a_dialog_left_open(
    qtbot,
    database: Database,
    settings: QSettings,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """A patient form left open when the idle time passes is cancelled, so it shows nothing."""
    window = MainWindow(database, settings, idle_lock_ms=300)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    open_while_locking: list[bool] = []

    def wait_for_the_lock(dialog: QWidget) -> None:
        qtbot.keyClicks(dialog.findChild(QLineEdit, "family_name"), "Nakamura")
        qtbot.waitUntil(lambda: window.is_locked, timeout=5000)
        open_while_locking.append(dialog.isVisible())

    when_modal(wait_for_the_lock)
    window.new_patient_action.trigger()
    assert open_while_locking == [False]
    assert window.is_locked and QApplication.activeModalWidget() is None
    assert window.patient_model.rowCount() == 0
