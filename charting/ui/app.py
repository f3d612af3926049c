"""Application start-up: open the database (explaining any problem), then the main window."""

from __future__ import annotations

import importlib
import sys

from PySide6.QtCore import QCoreApplication, QSettings, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from charting import __version__
from charting.config import APP_AUTHOR, APP_NAME, DatabaseChoice, backup_dir, data_dir
from charting.models.db import Database, DatabaseError
from charting.models.file_checks import RECORDS_FILENAME, FileCheckRecords
from charting.models.migrate import DatabaseFileError, open_database
from charting.resources import resource_path
from charting.services.access import Actor
from charting.services.accounts import has_accounts
from charting.services.settings import load_security


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication, created once, with the names QSettings uses."""
    QCoreApplication.setOrganizationName(APP_AUTHOR)
    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setApplicationVersion(__version__)
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setWindowIcon(QIcon(str(resource_path("icons", "charting.png"))))
    app.setDesktopFileName("charting")
    return app


def sign_in_at_start(database: Database) -> Actor | None:
    """Ask who is using Charting: the first admin on a new database, else a login.

    Returns the actor (also set as ``database.actor``), or None when the person cancelled.

    Raises:
        DatabaseFileError: the start-up check found the file damaged.
    """
    from charting.ui.login_dialog import FirstAdminDialog, LoginDialog

    with database.read() as session:
        first_start = not has_accounts(session)
    # The main window's modules load while the person types, not after they click.
    QTimer.singleShot(0, lambda: importlib.import_module("charting.ui.main_window"))
    ask = FirstAdminDialog.ask if first_start else LoginDialog.ask
    actor = ask(None, database)
    if actor is not None:
        database.actor = actor
    return actor


def damaged_file_text(path: str, problem: str, during: str = "") -> str:
    """What to tell a person whose database file cannot be used (``during``: what Charting
    was doing when it found out, as a sentence of its own)."""
    return (
        f"{path}\n\n{during}{problem[0].upper()}{problem[1:]}.\n\n"
        "Nothing more has been written to the file. Start Charting with --db to choose "
        "another database, or restore a backup (charting restore)."
    )


def _refuse_file(exc: DatabaseFileError) -> int:
    print(f"charting: error: {exc}", file=sys.stderr)
    QMessageBox.critical(
        None, "Charting cannot open the database", damaged_file_text(exc.path, exc.problem)
    )
    return 1


def run_app(choice: DatabaseChoice) -> int:
    """Open the configured database and run the app until its window closes.

    The file's page-by-page check runs in the background (15 s for a 2 GB clinic), so the
    sign-in window shows at once; signing in, the first write, waits for its verdict.
    """
    app = make_application()
    try:
        records = FileCheckRecords(data_dir() / RECORDS_FILENAME)
        opened = open_database(choice.url, backup_dir(), check_in_background=True, records=records)
    except DatabaseFileError as exc:
        return _refuse_file(exc)
    except DatabaseError as exc:
        print(f"charting: error: {exc}", file=sys.stderr)
        QMessageBox.critical(None, "Charting cannot open the database", str(exc))
        return 1
    database = opened.database
    clean = False
    try:
        try:
            if sign_in_at_start(database) is None:
                clean = True
                return 0
        except DatabaseFileError as exc:
            return _refuse_file(exc)
        from charting.ui.main_window import MainWindow

        window = MainWindow(database, QSettings())
        if opened.backup is not None:
            window.statusBar().showMessage(
                f"Database upgraded; the previous version was backed up to {opened.backup}",
                15000,
            )
        window.show()
        with database.read() as session:
            keep = load_security(session).backups_kept
        window.start_daily_backup(backup_dir(), keep)
        code = app.exec()
        clean = True
        return code
    finally:
        # Only a clean close vouches for the file to the next start (file_checks.py).
        database.close(records if clean else None)
