"""Application start-up: the sign-in window first, the database opening behind it, then the
main window.

This module imports only Qt and the standard library at the top: the database layer
(SQLAlchemy alone takes about 270 ms to import) loads in a worker thread once the sign-in
window is up, while the person types.
"""

from __future__ import annotations

import hashlib
import importlib
import sys
import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, QSettings, QTimer, Signal, Slot
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox

from charting import __version__
from charting.config import APP_AUTHOR, APP_NAME, DatabaseChoice, backup_dir, data_dir
from charting.resources import resource_path
from charting.ui.app_rules import install_app_rules

if TYPE_CHECKING:
    from charting.models.db import Database
    from charting.models.file_checks import FileCheckRecords
    from charting.models.migrate import OpenResult
    from charting.services.access import Actor
    from charting.ui.login_dialog import LoginDialog


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication, created once, with the names QSettings uses."""
    QCoreApplication.setOrganizationName(APP_AUTHOR)
    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setApplicationVersion(__version__)
    app = QApplication.instance()
    if isinstance(app, QApplication):
        install_app_rules(app)
        return app
    app = QApplication(argv if argv is not None else sys.argv[:1])
    install_app_rules(app)
    app.setWindowIcon(QIcon(str(resource_path("icons", "charting.png"))))
    app.setDesktopFileName("charting")
    return app


def _load_main_window_soon() -> None:
    """Import the main window's modules while the person types, not after they click."""
    QTimer.singleShot(0, lambda: importlib.import_module("charting.ui.main_window"))


def sign_in_at_start(database: Database) -> Actor | None:
    """Ask who is using Charting: the first admin on a new database, else a login.

    Returns the actor (also set as ``database.actor``), or None when the person cancelled.

    Raises:
        DatabaseFileError: the start-up check found the file damaged.
    """
    from charting.services.accounts import has_accounts
    from charting.ui.login_dialog import FirstAdminDialog, LoginDialog

    with database.read() as session:
        first_start = not has_accounts(session)
    _load_main_window_soon()
    ask = FirstAdminDialog.ask if first_start else LoginDialog.ask
    actor = ask(None, database)
    if actor is not None:
        database.actor = actor
    return actor


class DatabaseOpening(QObject):
    """Opens the database in a worker thread, so the sign-in window need not wait for it.

    The worker imports the database layer, runs ``open_database`` (the file's checks, a
    backup and the migration when the schema is older) and reads what the sign-in needs.

    Signals:
        ready(): the worker has finished, with a database or an error (in the GUI thread).
    """

    ready = Signal()

    def __init__(self, url: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.url = url
        self.opened: OpenResult | None = None
        self.records: FileCheckRecords | None = None
        self.error: BaseException | None = None
        self.first_start = False  # the database has no accounts yet
        self.clinic_name = ""
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._work, name="open-database", daemon=True)

    def start(self) -> None:
        """Start opening (once)."""
        if not self._thread.is_alive() and not self._done.is_set():
            self._thread.start()

    def _work(self) -> None:
        try:
            from charting.models.file_checks import RECORDS_FILENAME, FileCheckRecords
            from charting.models.migrate import open_database
            from charting.services.accounts import has_accounts
            from charting.ui.login_dialog import read_clinic_name

            records = FileCheckRecords(data_dir() / RECORDS_FILENAME)
            opened = open_database(
                self.url, backup_dir(), check_in_background=True, records=records
            )
            try:
                with opened.database.read() as session:
                    self.first_start = not has_accounts(session)
                self.clinic_name = read_clinic_name(opened.database)
            except BaseException:
                opened.database.dispose()
                raise
            self.records = records
            self.opened = opened
        except BaseException as exc:
            self.error = exc
        finally:
            self._done.set()
            self.ready.emit()

    @property
    def done(self) -> bool:
        """Whether the worker has finished."""
        return self._done.is_set()

    def wait(self) -> Database:
        """The opened database, once it is (the windows stay painted meanwhile).

        Raises:
            DatabaseError: as ``open_database``.
        """
        from charting.ui.login_dialog import keep_painted_until

        self.start()
        keep_painted_until(self._done.wait)
        if self.error is not None:
            raise self.error
        assert self.opened is not None
        return self.opened.database


def _remembered_key(url: str) -> str:
    # Hashed: a server URL may carry a password, which has no place in the settings file.
    return "signIn/" + hashlib.sha256(url.encode()).hexdigest()[:20]


def remembered_clinic(settings: QSettings, url: str) -> str | None:
    """The clinic name shown the last time someone signed in to ``url`` on this computer;
    None if nobody has (the database may still need its first admin account)."""
    value = settings.value(_remembered_key(url))
    return value if isinstance(value, str) else None


def remember_clinic(settings: QSettings, url: str, name: str) -> None:
    """Note that ``url`` has accounts, and its clinic name, for the next start."""
    settings.setValue(_remembered_key(url), name)
    settings.sync()


def damaged_file_text(path: str, problem: str, during: str = "") -> str:
    """What to tell a person whose database file cannot be used (``during``: what Charting
    was doing when it found out, as a sentence of its own)."""
    return (
        f"{path}\n\n{during}{problem[0].upper()}{problem[1:]}.\n\n"
        "Nothing more has been written to the file. Start Charting with --db to choose "
        "another database, or restore a backup (charting restore)."
    )


def _refuse(exc: BaseException) -> int:
    """Explain why the database cannot be used; the exit code."""
    from charting.models.db import BadDatabaseUrlError, DatabaseError, DatabaseFileError

    if not isinstance(exc, DatabaseError):
        raise exc
    print(f"charting: error: {exc}", file=sys.stderr)
    text = (
        damaged_file_text(exc.path, exc.problem) if isinstance(exc, DatabaseFileError) else str(exc)
    )
    QMessageBox.critical(None, "Charting cannot open the database", text)
    return 2 if isinstance(exc, BadDatabaseUrlError) else 1


class _SignInWhileOpening(QObject):
    """Ends the sign-in window early when the opened database cannot take a sign-in."""

    def __init__(self, dialog: LoginDialog, opening: DatabaseOpening) -> None:
        super().__init__(dialog)
        self.dialog = dialog
        self.opening = opening
        self.needs_first_admin = False
        opening.ready.connect(self._on_opening_ready)

    @Slot()
    def _on_opening_ready(self) -> None:
        if self.opening.error is not None or self.opening.first_start:
            # Cannot be opened, or nobody has an account yet (a new or replaced database).
            self.needs_first_admin = self.opening.error is None
            self.dialog.reject()
            return
        self.dialog.show_clinic_name(self.opening.clinic_name)
        _load_main_window_soon()


def _sign_in_while_opening(opening: DatabaseOpening, clinic: str) -> Actor | None:
    """The sign-in window shown at once, the database opening behind it.

    Raises:
        DatabaseError: the database could not be opened, or its file is damaged.
    """
    from charting.ui.login_dialog import FirstAdminDialog, LoginDialog

    dialog = LoginDialog(opening, None, clinic_name=clinic)
    watch = _SignInWhileOpening(dialog, opening)
    QTimer.singleShot(0, opening.start)  # once exec() has shown the window
    dialog.exec()
    if dialog.damaged is not None:
        raise dialog.damaged
    actor = dialog.actor
    if actor is None:
        database = opening.wait()  # raises what opening met
        if watch.needs_first_admin:
            actor = FirstAdminDialog.ask(None, database)
    if actor is not None:
        opening.wait().actor = actor
    return actor


def run_app(choice: DatabaseChoice) -> int:
    """Open the configured database and run the app until its window closes.

    On a database someone has signed in to from this computer before, the sign-in window
    shows at once and the database opens behind it. Otherwise (the first start: the
    database may need its first admin account) it is opened first. The file's page-by-page
    check runs in the background (5 to 30 s for a 2 GB clinic); signing in, the first write,
    waits for its verdict unless the file is as Charting left it (``file_checks.py``).
    """
    app = make_application()
    # One start-up window may give way to another (sign-in to first admin): closing the
    # first must not end the app.
    app.setQuitOnLastWindowClosed(False)
    settings = QSettings()
    clinic = remembered_clinic(settings, choice.url)
    opening = DatabaseOpening(choice.url)
    if clinic is None:
        try:
            database = opening.wait()
        except Exception as exc:
            return _refuse(exc)
    clean = False
    try:
        try:
            if clinic is None:
                actor = sign_in_at_start(database)
            else:
                actor = _sign_in_while_opening(opening, clinic)
        except Exception as exc:
            return _refuse(exc)
        database = opening.wait()
        if actor is None:
            clean = True
            return 0
        remember_clinic(settings, choice.url, opening.clinic_name)
        from charting.services.settings import load_security
        from charting.ui.main_window import MainWindow

        window = MainWindow(database, settings)
        assert opening.opened is not None
        if opening.opened.backup is not None:
            window.statusBar().showMessage(
                f"Database upgraded; the previous version was backed up to {opening.opened.backup}",
                15000,
            )
        window.show()
        _clean_up_interrupted_exports(database, window)
        with database.read() as session:
            keep = load_security(session).backups_kept
        window.start_daily_backup(backup_dir(), keep)
        app.setQuitOnLastWindowClosed(True)
        code = app.exec()
        clean = True
        return 1 if window.file_damaged else code
    finally:
        app.setQuitOnLastWindowClosed(True)
        if opening.opened is not None:
            # Only a clean close vouches for the file to the next start (file_checks.py).
            opening.opened.database.close(opening.records if clean else None)


def _clean_up_interrupted_exports(database: Database, window: QMainWindow) -> None:
    """Remove (and log) what an export killed half-way left behind on this computer."""
    from charting.jobs.export import cleanup_interrupted_exports
    from charting.models.db import DatabaseError
    from charting.services.errors import ServiceError

    try:
        removed = cleanup_interrupted_exports(database)
    except (DatabaseError, ServiceError, OSError):
        return  # tried again at the next start
    if removed:
        window.statusBar().showMessage(
            f"Removed {len(removed)} unfinished export folder(s) left by an interrupted "
            "export (logged in the audit log).",
            15000,
        )


def run_demo_app() -> int:
    """Open the fictional demo clinic (``demo.sqlite3`` in the data folder, made on first use)
    signed in as its demo account, until its window closes. It never opens the clinic's own
    database."""
    from charting.config import demo_database_path, sqlite_url
    from charting.services.demo import DemoRefusedError, prepare_demo
    from charting.ui.main_window import MainWindow

    app = make_application()
    path = demo_database_path()
    opening = DatabaseOpening(sqlite_url(path))
    try:
        database = opening.wait()
    except Exception as exc:
        return _refuse(exc)
    clean = False
    try:
        try:
            with database.write() as session:
                actor = prepare_demo(session)
        except DemoRefusedError as exc:
            QMessageBox.critical(None, "Demo clinic", f"{path}\n\n{exc}")
            return 1
        database.actor = actor
        window = MainWindow(database, QSettings())
        window.show()
        code = app.exec()
        clean = True
        return 1 if window.file_damaged else code
    finally:
        if opening.opened is not None:
            opening.opened.database.close(opening.records if clean else None)


__all__ = [
    "DatabaseOpening",
    "damaged_file_text",
    "make_application",
    "remember_clinic",
    "remembered_clinic",
    "run_app",
    "run_demo_app",
    "sign_in_at_start",
]
