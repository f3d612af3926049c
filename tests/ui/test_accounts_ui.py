"""Signing in at start, the first admin account, the accounts screen and changing a password."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit, QMessageBox, QPushButton

from charting.config import DatabaseChoice, sqlite_url
from charting.models import Role
from charting.models.db import Database
from charting.models.migrate import open_database
from charting.services import accounts
from charting.services.accounts import SignInError
from charting.ui.accounts_dialog import AccountFormDialog, AccountsDialog
from charting.ui.app import run_app, sign_in_at_start
from charting.ui.login_dialog import (
    MESSAGE_STYLE,
    ChangePasswordDialog,
    FirstAdminDialog,
    LoginDialog,
)
from charting.ui.main_window import MainWindow
from tests.factories import TEST_PASSWORD


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[Database]:
    """A new database file with no accounts yet (the first start of a clinic)."""
    database = open_database(sqlite_url(tmp_path / "new.sqlite3"), tmp_path / "b").database
    yield database
    database.dispose()


def _type(qtbot, edit: QLineEdit, text: str) -> None:  # type: ignore[no-untyped-def]
    edit.clear()
    qtbot.keyClicks(edit, text)


def _visible_windows() -> list[str]:
    return [w.objectName() for w in QApplication.topLevelWidgets() if w.isVisible()]


def test_a_wrong_password_is_refused_and_no_window_opens(
    qtbot,
    database: Database,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """At start a wrong password shows a message and keeps asking; Cancel opens nothing."""
    seen: list[str] = []

    def wrong_then_cancel(dialog: LoginDialog) -> None:
        _type(qtbot, dialog.username, "ana")
        _type(qtbot, dialog.password, "not my password")
        qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
        seen.append(dialog.message.text())
        assert dialog.isVisible() and dialog.message.isVisible()
        assert MESSAGE_STYLE in dialog.message.styleSheet()  # in red
        assert dialog.password.text() == ""
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)

    when_modal(wrong_then_cancel)
    assert sign_in_at_start(database) is None
    assert seen == ["The username or password is wrong."]
    assert "MainWindow" not in _visible_windows()


def test_five_wrong_passwords_make_sign_in_wait_with_a_countdown(qtbot, database: Database) -> None:  # type: ignore[no-untyped-def]
    """After the fifth wrong password the message asks to wait and the button counts down."""
    dialog = LoginDialog(database, None, "ana")
    qtbot.addWidget(dialog)
    dialog.show()
    for _ in range(5):
        _type(qtbot, dialog.password, "wrong wrong wrong")
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert "Too many tries: wait 30 seconds" in dialog.message.text()
    assert not dialog.sign_in_button.isEnabled()
    assert dialog.sign_in_button.text() == "Sign in (30 s)"
    assert dialog.countdown.seconds_left == 30
    qtbot.waitUntil(lambda: dialog.countdown.seconds_left < 30, timeout=3000)
    assert dialog.sign_in_button.text() == f"Sign in ({dialog.countdown.seconds_left} s)"
    # Even the right password waits: the account itself is waiting, not just the button.
    dialog.countdown.stop()
    _type(qtbot, dialog.password, TEST_PASSWORD)
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert dialog.actor is None and "Try again in" in dialog.message.text()


def test_the_countdown_gives_the_button_back(qtbot, database: Database) -> None:  # type: ignore[no-untyped-def]
    """When the wait is over the Sign in button is usable again with its own label."""
    dialog = LoginDialog(database)
    qtbot.addWidget(dialog)
    dialog.countdown.TICK_MS = 10
    with qtbot.waitSignal(dialog.countdown.finished, timeout=3000):
        dialog.countdown.start(3)
        assert not dialog.sign_in_button.isEnabled()
    assert dialog.sign_in_button.isEnabled()
    assert dialog.sign_in_button.text() == "&Sign in"


def test_first_start_creates_the_admin_and_signs_them_in(
    qtbot,
    empty_database: Database,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """On a database with no accounts the first-admin form creates an admin who treats patients
    and signs them in; mistakes are shown under their fields first."""
    shown: dict[str, str] = {}

    def fill(dialog: FirstAdminDialog) -> None:
        assert dialog.treats.isChecked() and dialog.credentials.isVisible()
        _type(qtbot, dialog.display_name, "Grace Okonkwo")
        _type(qtbot, dialog.username_edit, "grace")
        _type(qtbot, dialog.password, "willow-bark-tea-7")
        _type(qtbot, dialog.confirm, "willow-bark-tea-8")
        _type(qtbot, dialog.credentials, "L.Ac.")
        qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
        shown.update({k: e.text() for k, e in dialog.form.errors.items() if e.isVisible()})
        _type(qtbot, dialog.confirm, "willow-bark-tea-7")
        qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)

    when_modal(fill)
    actor = sign_in_at_start(empty_database)
    assert shown == {"confirm": "The two passwords are not the same."}
    assert actor is not None and empty_database.actor == actor
    assert actor.roles == {Role.ADMIN, Role.PRACTITIONER}
    assert actor.display_name == "Grace Okonkwo" and actor.practitioner_id is not None
    assert accounts.sign_in(empty_database, "grace", "willow-bark-tea-7").user_id == actor.user_id


def test_cancelling_set_up_asks_first_and_messages_go_once_fixed(
    qtbot,
    empty_database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Cancel asks before leaving set-up (No keeps the form); a message under a field goes
    as soon as the field is fixed, and the window grows with messages instead of squashing
    the fields."""
    dialog = FirstAdminDialog(empty_database)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    asked: list[str] = []

    def answer(button: QMessageBox.StandardButton):  # type: ignore[no-untyped-def]
        return lambda _parent, _title, text, *a, **k: (asked.append(text), button)[1]

    monkeypatch.setattr(
        QMessageBox, "question", staticmethod(answer(QMessageBox.StandardButton.No))
    )
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert asked and "admin account" in asked[0] and dialog.isVisible()
    field_height = dialog.display_name.height()
    _type(qtbot, dialog.display_name, "Grace Okonkwo")
    _type(qtbot, dialog.username_edit, "g")
    _type(qtbot, dialog.password, "short")
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    errors = {k for k, e in dialog.form.errors.items() if e.isVisible()}
    assert {"password", "confirm"} <= errors
    QApplication.processEvents()
    assert dialog.display_name.height() >= field_height  # nothing squashed
    assert dialog.password.height() >= dialog.password.minimumSizeHint().height()
    _type(qtbot, dialog.password, "willow-bark-tea-7")
    assert not dialog.form.errors["password"].isVisible()  # fixed: its message goes
    _type(qtbot, dialog.confirm, "willow-bark-tea")
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    assert dialog.form.errors["confirm"].isVisible()
    qtbot.keyClicks(dialog.confirm, "-")
    assert dialog.form.errors["confirm"].isVisible()  # still wrong: its message stays
    qtbot.keyClicks(dialog.confirm, "7")
    assert not dialog.form.errors["confirm"].isVisible()
    monkeypatch.setattr(
        QMessageBox, "question", staticmethod(answer(QMessageBox.StandardButton.Yes))
    )
    dialog.reject()
    assert not dialog.isVisible() and dialog.actor is None


def test_first_admin_who_does_not_treat_is_an_admin_only(
    qtbot,
    empty_database: Database,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """Unticking "I also treat patients" hides the licence fields and makes an admin only."""

    def fill(dialog: FirstAdminDialog) -> None:
        dialog.treats.setChecked(False)
        assert not dialog.credentials.isVisible()
        _type(qtbot, dialog.display_name, "Sam Office")
        _type(qtbot, dialog.username_edit, "x")
        _type(qtbot, dialog.password, "short")
        qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
        assert dialog.form.errors["password"].isVisible()
        assert "at least 10" in dialog.form.errors["password"].text()
        _type(qtbot, dialog.username_edit, "sam")
        _type(qtbot, dialog.password, "ledger-and-quill")
        _type(qtbot, dialog.confirm, "ledger-and-quill")
        qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)

    when_modal(fill)
    actor = sign_in_at_start(empty_database)
    assert actor is not None and actor.roles == {Role.ADMIN}
    assert actor.practitioner_id is None


def test_cancel_at_start_exits_cleanly(
    empty_database: Database,
    tmp_path: Path,
    when_modal,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Cancelling the first sign-in (and confirming) ends the app with exit code 0 and no
    window."""
    monkeypatch.setattr(
        QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes)
    )
    when_modal(lambda dialog: dialog.reject())
    url = sqlite_url(tmp_path / "new.sqlite3")
    assert run_app(DatabaseChoice(url, "--db")) == 0
    assert "MainWindow" not in _visible_windows()


def test_admin_adds_a_front_desk_account_that_can_sign_in(
    qtbot,
    window: MainWindow,
    database: Database,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """Settings > Accounts > Add: a front-desk account is listed, and its owner signs in to a
    window without clinical or admin actions."""
    listed: list[list[str]] = []

    def form(dialog: AccountFormDialog) -> None:
        assert not dialog.credentials.isVisible()
        _type(qtbot, dialog.display_name, "Bea Desk")
        _type(qtbot, dialog.username_edit, "bea")
        qtbot.mouseClick(dialog.role_boxes[Role.FRONT_DESK], Qt.MouseButton.LeftButton)
        _type(qtbot, dialog.password, "reception-desk-42")
        _type(qtbot, dialog.confirm, "reception-desk-42")
        save = dialog.findChild(QPushButton, "saveAccountButton")
        qtbot.mouseClick(save, Qt.MouseButton.LeftButton)

    def accounts_dialog(dialog: AccountsDialog) -> None:
        when_modal(form)
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
        model = dialog.model
        listed.extend(
            [model.index(r, c).data() for c in range(model.columnCount())]
            for r in range(model.rowCount())
        )
        dialog.reject()

    when_modal(accounts_dialog)
    window.accounts_action.trigger()
    assert ["Bea Desk", "bea", "Front desk", "Yes", "never"] in listed

    def sign_in_as_bea(dialog: LoginDialog) -> None:
        _type(qtbot, dialog.username, "bea")
        _type(qtbot, dialog.password, "reception-desk-42")
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)

    when_modal(sign_in_as_bea)
    window.sign_out_action.trigger()
    assert window.signed_in_label.text() == "Signed in as Bea Desk (Front desk)"
    assert not window.export_action.isVisible() and not window.accounts_action.isVisible()
    assert not window.settings_menu.menuAction().isVisible()


def test_account_form_shows_each_problem_under_its_field(qtbot, database: Database) -> None:  # type: ignore[no-untyped-def]
    """A blank name, no role and a taken username are each explained beside their field."""
    dialog = AccountFormDialog(database)
    qtbot.addWidget(dialog)
    dialog.show()
    _type(qtbot, dialog.username_edit, "ana")
    _type(qtbot, dialog.password, "long enough password")
    _type(qtbot, dialog.confirm, "long enough password")
    dialog._on_buttons_accepted()
    errors = {k: e.text() for k, e in dialog.form.errors.items() if e.isVisible()}
    assert set(errors) == {"display_name", "roles"}
    _type(qtbot, dialog.display_name, "Another Ana")
    dialog.role_boxes[Role.PRACTITIONER].setChecked(True)
    assert dialog.credentials.isVisible()
    dialog._on_buttons_accepted()
    errors = {k: e.text() for k, e in dialog.form.errors.items() if e.isVisible()}
    assert errors == {"username": "That username is taken."}
    assert dialog.result() != QDialog.DialogCode.Accepted


def test_editing_keeps_the_password_when_left_blank(qtbot, database: Database, when_modal) -> None:  # type: ignore[no-untyped-def]
    """Editing an account with the password left blank changes the name and keeps the password."""
    dialog = AccountsDialog(database)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.table.selectRow(0)

    def rename(form: AccountFormDialog) -> None:
        assert form.display_name.text() == "Ana Ruiz"
        assert form.role_boxes[Role.ADMIN].isChecked() and form.credentials.text() == "L.Ac."
        _type(qtbot, form.display_name, "Ana Ruiz Marin")
        form._on_buttons_accepted()

    when_modal(rename)
    qtbot.mouseClick(dialog.edit_button, Qt.MouseButton.LeftButton)
    assert dialog.model.index(0, 0).data() == "Ana Ruiz Marin"
    assert "saved" in dialog.status.text()
    assert accounts.sign_in(database, "ana", TEST_PASSWORD).display_name == "Ana Ruiz Marin"


def test_change_own_password(qtbot, window: MainWindow, database: Database, when_modal) -> None:  # type: ignore[no-untyped-def]
    """File > Change password asks for the current one; afterwards only the new one works."""

    def change(dialog: ChangePasswordDialog) -> None:
        _type(qtbot, dialog.current, "a wrong current one")
        _type(qtbot, dialog.new, "river-stone-path-9")
        _type(qtbot, dialog.confirm, "river-stone-path-9")
        dialog._on_buttons_accepted()
        assert dialog.form.errors["current"].text() == "That is not your current password."
        _type(qtbot, dialog.current, TEST_PASSWORD)
        dialog._on_buttons_accepted()

    when_modal(change)
    window.change_password_action.trigger()
    assert window.statusBar().currentMessage() == "Your password is changed."
    assert accounts.sign_in(database, "ana", "river-stone-path-9").username == "ana"
    with pytest.raises(SignInError):
        accounts.sign_in(database, "ana", TEST_PASSWORD)


def test_account_model_is_a_well_behaved_qt_model(qtmodeltester, database: Database) -> None:  # type: ignore[no-untyped-def]
    """The accounts table model passes Qt's model checks."""
    from charting.ui.accounts_dialog import AccountTableModel

    model = AccountTableModel(database)
    model.refresh()
    qtmodeltester.check(model)


def test_sign_in_waits_for_the_start_up_file_check_and_says_why(
    qtbot,
    database: Database,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """A large clinic's file is still being checked when the password is typed: the window
    says so, stays painted, and signs in once the check has passed."""
    import threading

    from PySide6.QtCore import QTimer

    from charting.models.db import IntegrityCheck

    gate = threading.Event()
    database.integrity_check = IntegrityCheck("clinic.sqlite3", lambda: (gate.wait(10), None)[1])
    seen: list[tuple[str, bool]] = []

    def sign_in(dialog: LoginDialog) -> None:
        _type(qtbot, dialog.username, "ana")
        _type(qtbot, dialog.password, TEST_PASSWORD)

        def look_then_finish() -> None:
            seen.append((dialog.message.text(), dialog.sign_in_button.isEnabled()))
            gate.set()

        QTimer.singleShot(100, look_then_finish)
        qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)

    when_modal(sign_in)
    actor = sign_in_at_start(database)
    assert actor is not None and actor.username == "ana"
    assert seen == [("Checking the database file before signing in\u2026", False)]


def test_a_file_found_damaged_at_sign_in_closes_with_the_reason_and_is_left_alone(
    qtbot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """The background check finds damage: signing in is refused with the reason, Charting
    closes with exit code 1, no window opens, and the file keeps every byte."""
    from charting.services.access import Actor
    from charting.services.demo import create_demo_clinic
    from charting.ui import app as app_module

    path = tmp_path / "clinic.sqlite3"
    database = open_database(sqlite_url(path)).database.acting_as(Actor.system("test"))
    with database.write() as session:
        accounts.create_first_admin(
            session, accounts.AccountInput("ana", "Ana Ruiz", {Role.ADMIN}, TEST_PASSWORD)
        )
    with database.write() as session:
        create_demo_clinic(session, 300, 4)
    database.dispose()
    data = bytearray(path.read_bytes())
    for offset in range(len(data) - 4 * 4096, len(data), 5):
        data[offset] = 0xA5
    path.write_bytes(bytes(data))
    shown: list[str] = []
    monkeypatch.setattr(
        app_module.QMessageBox, "critical", lambda _parent, _title, text: shown.append(text)
    )

    def sign_in(dialog: LoginDialog) -> None:
        _type(qtbot, dialog.username, "ana")
        _type(qtbot, dialog.password, TEST_PASSWORD)
        qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)

    when_modal(sign_in)
    assert run_app(DatabaseChoice(sqlite_url(path), "--db")) == 1
    assert len(shown) == 1 and "damaged" in shown[0] and str(path) in shown[0]
    assert "MainWindow" not in _visible_windows()
    assert path.read_bytes() == bytes(data)
