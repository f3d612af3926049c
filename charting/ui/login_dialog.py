"""Signing in: the login, the first admin account on a new database, and changing a password."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLayout,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from charting.policy import MAX_PASSWORD, MIN_PASSWORD
from charting.ui.forms import FieldForm, line

# The sign-in window shows before the database layer has loaded (charting.ui.app), so the
# database modules are imported where they are used, not here.
if TYPE_CHECKING:
    from charting.models.db import Database, DatabaseFileError
    from charting.services.access import Actor
    from charting.services.accounts import AccountInput

MESSAGE_STYLE = "color: #b3261e;"  # something went wrong, or needs the person's attention
NOTICE_STYLE = "color: #666;"  # just a moment: nothing is wrong (the secondary text grey)


def password_line(placeholder: str = "") -> QLineEdit:
    """A line edit that hides what is typed."""
    edit = line(placeholder, MAX_PASSWORD)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


def message_label(object_name: str) -> QLabel:
    """A wrapping message line (red for problems); hidden while it has nothing to say."""
    label = QLabel()
    label.setObjectName(object_name)
    label.setStyleSheet(MESSAGE_STYLE)
    label.setWordWrap(True)
    label.hide()
    return label


def show_message(label: QLabel, text: str, *, notice: bool = False) -> None:
    """Show ``text`` in ``label`` (hide it when empty): in red, or as a calm ``notice`` (a
    wait, which is no error)."""
    label.setStyleSheet(NOTICE_STYLE if notice else MESSAGE_STYLE)
    label.setText(text)
    label.setVisible(bool(text))


class WaitCountdown(QObject):
    """Keeps a button disabled for the back-off wait, counting down on its label.

    Signals:
        finished(): the wait is over and the button is usable again.
    """

    finished = Signal()
    #: One tick of the countdown (a test may shorten it).
    TICK_MS = 1000

    def __init__(self, button: QPushButton, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._button = button
        self._text = button.text()
        self._left = 0
        self._timer = QTimer(self)
        self._timer.setInterval(self.TICK_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

    @property
    def seconds_left(self) -> int:
        """Seconds until the button can be used again (0 when it can)."""
        return self._left

    def start(self, seconds: int) -> None:
        """Disable the button for ``seconds``."""
        self._left = max(0, int(seconds))
        if not self._left:
            self.stop()
            return
        self._timer.setInterval(self.TICK_MS)
        self._timer.start()
        self._show()

    def stop(self) -> None:
        """End the wait now."""
        self._timer.stop()
        self._left = 0
        self._button.setText(self._text)
        self._button.setEnabled(True)

    def _show(self) -> None:
        self._button.setEnabled(False)
        minutes, seconds = divmod(self._left, 60)
        left = f"{minutes}:{seconds:02d}" if minutes else f"{seconds} s"
        self._button.setText(f"{self._text.replace('&', '')} ({left})")

    @Slot()
    def _on_timer_timeout(self) -> None:
        self._left -= 1
        if self._left <= 0:
            self.stop()
            self.finished.emit()
        else:
            self._show()


def wait_for_file_check(database: Database, message: QLabel, buttons: QWidget) -> None:
    """Before the first write of a session, let the start-up check of the file finish.

    The check of a large clinic's file runs in the background while the sign-in window is
    up; if the person is quicker, they see why they wait, and the window stays painted.
    """
    check = database.integrity_check
    if check is None or check.finished or check.trusted_since is not None:
        return
    with waiting(message, buttons, "Checking the database file before signing in\u2026"):
        keep_painted_until(check.wait)


def keep_painted_until(finished: Callable[[float], bool]) -> None:
    """Wait until ``finished(timeout)`` returns True, windows painted, input held back."""
    while not finished(0.02):
        QGuiApplication.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)


@contextmanager
def waiting(message: QLabel, buttons: QWidget, text: str) -> Iterator[None]:
    """While the body runs: ``text`` in ``message``, ``buttons`` disabled, a busy cursor."""
    show_message(message, text, notice=True)
    buttons.setEnabled(False)
    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        QGuiApplication.restoreOverrideCursor()
        buttons.setEnabled(True)
        show_message(message, "")


def check_credentials(
    database: Database, username: str, password: str, action: str = "login"
) -> Actor:
    """Call the sign-in service with a busy cursor (hashing takes a moment).

    Raises:
        SignInError: as ``accounts.sign_in``.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from charting.services import accounts
    from charting.services.accounts import SignInError

    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        return accounts.sign_in(database, username, password, action=action)
    except SQLAlchemyError as exc:
        raise SignInError(f"The database cannot be reached: {getattr(exc, 'orig', exc)}") from None
    finally:
        QGuiApplication.restoreOverrideCursor()


def read_clinic_name(database: Database) -> str:
    """The clinic's name for the sign-in window ("" when unset or unreadable)."""
    from sqlalchemy.exc import SQLAlchemyError

    from charting.services.errors import ServiceError
    from charting.services.settings import load_settings

    try:
        with database.read() as session:
            name = load_settings(session).clinic_name
    except (ServiceError, SQLAlchemyError):
        return ""
    return "" if name == "Your clinic" else name


@runtime_checkable
class DatabaseSource(Protocol):
    """A database still opening (``charting.ui.app.DatabaseOpening``)."""

    @property
    def done(self) -> bool:
        """Whether it has finished opening (or failed to)."""

    def wait(self) -> Database:
        """The database, once open (windows stay painted meanwhile); raises its error."""


class LoginDialog(QDialog):
    """Username and password; a wrong one says so, and repeated ones make the button wait.

    At start-up the window shows while the database is still opening (``database`` is a
    :class:`DatabaseSource` and ``clinic_name`` the name remembered from the last sign-in).
    """

    def __init__(
        self,
        database: Database | DatabaseSource,
        parent: QWidget | None = None,
        username: str = "",
        clinic_name: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("loginDialog")
        self.setWindowTitle("Sign in \u2013 Charting")
        self._source = database
        self.actor: Actor | None = None
        self.damaged: DatabaseFileError | None = None

        title = QLabel("Sign in to Charting")
        title.setStyleSheet("font-size: 16pt; font-weight: 600;")
        self.clinic = QLabel()
        self.clinic.setObjectName("loginClinic")
        self.clinic.setStyleSheet("color: #555;")
        if clinic_name is None:
            clinic_name = read_clinic_name(self.database)
        self.show_clinic_name(clinic_name)
        self.username = line("", 60)
        self.username.setText(username)
        self.password = password_line()
        form = FieldForm()
        form.add("loginUsername", "&Username", self.username)
        form.add("loginPassword", "&Password", self.password)
        self.message = message_label("loginMessage")
        buttons = QDialogButtonBox()
        self.sign_in_button = buttons.addButton("&Sign in", QDialogButtonBox.ButtonRole.AcceptRole)
        self.sign_in_button.setObjectName("signInButton")
        self.sign_in_button.setDefault(True)
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.countdown = WaitCountdown(self.sign_in_button, self)
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(title)
        layout.addWidget(self.clinic)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)
        (self.password if username else self.username).setFocus()

    @property
    def database(self) -> Database:
        """The database signed in to (waits for it to open, if it is still opening)."""
        source = self._source
        return source.wait() if isinstance(source, DatabaseSource) else source

    def show_clinic_name(self, name: str) -> None:
        """Show the clinic's name under the title (nothing when it has none)."""
        self.clinic.setText(name)
        self.clinic.setVisible(bool(name))

    def _wait_for_database(self) -> Database:
        """The database; if it is still opening, the window says so and waits."""
        source = self._source
        if not isinstance(source, DatabaseSource) or source.done:
            return self.database
        with waiting(self.message, self.sign_in_button, "Opening the database\u2026"):
            return source.wait()

    @classmethod
    def ask(cls, parent: QWidget | None, database: Database, username: str = "") -> Actor | None:
        """Ask for a username and password until they are right; None if cancelled.

        Raises:
            DatabaseFileError: the start-up check found the file damaged.
        """
        dialog = cls(database, parent, username)
        dialog.exec()
        if dialog.damaged is not None:
            raise dialog.damaged
        return dialog.actor

    @Slot()
    def _on_buttons_accepted(self) -> None:
        if self.countdown.seconds_left:
            return
        username = self.username.text().strip()
        if not username:
            show_message(self.message, "Enter your username.")
            self.username.setFocus()
            return
        try:
            database = self._wait_for_database()
        except Exception:
            # It could not be opened: the caller, told by the same opening, explains.
            self.reject()
            return
        if not self.isVisible():
            return  # closed while the database opened (it needs its first admin)
        from charting.models.db import DatabaseFileError
        from charting.services.accounts import SignInError

        try:
            wait_for_file_check(database, self.message, self.sign_in_button)
            actor = check_credentials(database, username, self.password.text())
        except DatabaseFileError as exc:
            # Found damaged by the start-up check: the caller explains and closes.
            self.damaged = exc
            self.reject()
            return
        except SignInError as exc:
            show_message(self.message, str(exc))
            self.password.clear()
            self.password.setFocus()
            self.countdown.start(exc.wait_seconds)
            return
        self.actor = actor
        self.accept()


class FirstAdminDialog(QDialog):
    """The first start of a clinic's database: create the admin account and sign in with it."""

    def __init__(self, database: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("firstAdminDialog")
        self.setWindowTitle("Set up Charting")
        self.database = database
        self.actor: Actor | None = None
        self.damaged: DatabaseFileError | None = None

        title = QLabel("Welcome to Charting")
        title.setStyleSheet("font-size: 16pt; font-weight: 600;")
        intro = QLabel(
            "Nobody has an account on this database yet. Create the clinic's admin account: "
            "it adds the other accounts, reads the audit log and makes backups."
        )
        intro.setWordWrap(True)
        self.display_name = line("e.g. Ana Ruiz", 200)
        self.username_edit = line("e.g. ana (letters, digits, dots)", 60)
        self.password = password_line(f"At least {MIN_PASSWORD} characters")
        self.confirm = password_line("The same password again")
        self.treats = QCheckBox("I also treat patients (adds the Practitioner role)")
        self.treats.setObjectName("treatsPatients")
        self.treats.setChecked(True)
        self.credentials = line("e.g. L.Ac., Dipl. Ac. (NCCAOM)", 100)
        self.licence_number = line("State or national licence number", 60)
        self.form = FieldForm()
        self.form.add("display_name", "Your &name *", self.display_name)
        self.form.add("username", "&Username *", self.username_edit)
        self.form.add("password", "&Password *", self.password)
        self.form.add("confirm", "&Repeat password *", self.confirm)
        self.form.add("roles", "", self.treats)
        self.form.add("credentials", "&Credentials", self.credentials)
        self.form.add("licence_number", "&Licence number", self.licence_number)
        hint = QLabel(
            "A long password is a strong one: a short phrase you can remember works well. "
            "Nobody can look it up later, so keep it safe."
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #555;")
        self.message = message_label("firstAdminMessage")
        buttons = QDialogButtonBox()
        self.create_button = buttons.addButton(
            "Create account and sign in", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.create_button.setObjectName("createAdminButton")
        self.create_button.setDefault(True)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        self.treats.toggled.connect(self._on_treats_toggled)

        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addLayout(self.form)
        layout.addWidget(hint)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        # The window grows with its messages instead of squashing the fields under them.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        self.display_name.setMinimumWidth(340)
        self.form.set_validator(self._problems)
        self.display_name.setFocus()

    @classmethod
    def ask(cls, parent: QWidget | None, database: Database) -> Actor | None:
        """Create the first admin; return it signed in, or None if cancelled.

        Raises:
            DatabaseFileError: the start-up check found the file damaged.
        """
        dialog = cls(database, parent)
        dialog.exec()
        if dialog.damaged is not None:
            raise dialog.damaged
        return dialog.actor

    def reject(self) -> None:
        """Cancel asks first: without an admin account Charting cannot be used yet."""
        answer = QMessageBox.question(
            self,
            "Leave set-up?",
            "Charting needs the clinic's admin account before anyone can use it. Nothing has "
            "been saved yet; the next start asks again.\n\nLeave set-up and close Charting?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Yes:
            super().reject()

    def _problems(self) -> dict[str, str]:
        from charting.services import accounts

        errors = accounts.validate_account(self.collect(), new=True)
        if self.confirm.text() != self.password.text():
            errors["confirm"] = "The two passwords are not the same."
        return errors

    def collect(self) -> AccountInput:
        """The form's current values."""
        from charting.models import Role
        from charting.services.accounts import AccountInput

        treats = self.treats.isChecked()
        return AccountInput(
            username=self.username_edit.text(),
            display_name=self.display_name.text(),
            roles={Role.ADMIN, Role.PRACTITIONER} if treats else {Role.ADMIN},
            password=self.password.text(),
            credentials=self.credentials.text() if treats else "",
            licence_number=self.licence_number.text() if treats else "",
        )

    @Slot(bool)
    def _on_treats_toggled(self, checked: bool) -> None:
        self.form.set_row_visible("credentials", checked)
        self.form.set_row_visible("licence_number", checked)

    @Slot()
    def _on_buttons_accepted(self) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        from charting.models.db import DatabaseFileError
        from charting.services import accounts
        from charting.services.errors import ServiceError, ValidationError

        data = self.collect()
        errors = self._problems()
        self.form.show_errors(errors)
        show_message(self.message, "")
        if errors:
            return
        try:
            wait_for_file_check(self.database, self.message, self.create_button)
            with self.database.write() as session:
                actor = accounts.create_first_admin(session, data)
        except DatabaseFileError as exc:
            self.damaged = exc
            QDialog.reject(self)  # closes without asking: the caller explains the damage
            return
        except ValidationError as exc:
            self.form.show_errors(exc.errors)
            return
        except (ServiceError, SQLAlchemyError) as exc:
            show_message(self.message, str(exc))
            return
        self.actor = actor
        self.accept()


class ChangePasswordDialog(QDialog):
    """The signed-in person changes their own password (the current one is asked first)."""

    def __init__(self, database: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("changePasswordDialog")
        self.setWindowTitle("Change your password")
        self.database = database
        self.changed = False
        self.current = password_line()
        self.new = password_line(f"At least {MIN_PASSWORD} characters")
        self.confirm = password_line("The same password again")
        self.form = FieldForm()
        self.form.add("current", "&Current password", self.current)
        self.form.add("password", "&New password", self.new)
        self.form.add("confirm", "&Repeat new password", self.confirm)
        self.message = message_label("changePasswordMessage")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("Change password")
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)

    @classmethod
    def ask(cls, parent: QWidget | None, database: Database) -> bool | None:
        """Change the signed-in account's password; True when changed, None if cancelled."""
        dialog = cls(database, parent)
        dialog.exec()
        return True if dialog.changed else None

    @Slot()
    def _on_buttons_accepted(self) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        from charting.services import accounts
        from charting.services.errors import ServiceError, ValidationError

        errors = {}
        if self.new.text() != self.confirm.text():
            errors["confirm"] = "The two passwords are not the same."
        self.form.show_errors(errors)
        if errors:
            return
        try:
            with self.database.write() as session:
                accounts.change_own_password(session, self.current.text(), self.new.text())
        except ValidationError as exc:
            self.form.show_errors(exc.errors)
            return
        except (ServiceError, SQLAlchemyError) as exc:
            show_message(self.message, str(exc))
            return
        self.changed = True
        self.accept()
