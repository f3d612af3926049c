"""What runs behind the main window: today's backup, and the start-up check of the file."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from charting.config import backup_dir
from charting.models.db import Database
from charting.services.backup import daily_backup_if_due
from charting.services.settings import load_security
from charting.ui.ops import OpRunner
from charting.ui.workers import TaskRunner

#: How often the window looks whether the background file check has finished.
FILE_CHECK_POLL_MS = 250


class BackgroundChecks(QObject):
    """Today's backup in a worker thread, and the verdict of the file's background check.

    A trusted start (``models/file_checks.py``) writes while the file's full check still
    runs: this object watches for its verdict from the moment it is made, and says at once
    when it finds damage, so the window can stop.

    Signals:
        message_posted(str, int): a status-bar message and how long to show it (ms).
        file_damaged(str, str): the background check found damage; the file's path and
            the problem.
    """

    message_posted = Signal(str, int)
    file_damaged = Signal(str, str)

    def __init__(
        self, ops: OpRunner, backup_folder: Path | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.ops = ops
        self.database: Database = ops.database
        #: Where backups go when no folder is named (None: the data folder's).
        self.folder = backup_folder
        #: Whether the file check found damage (the app then exits with an error).
        self.damage_found = False
        self.daily_backup = TaskRunner(self)
        self.daily_backup.finished.connect(self._on_daily_backup_finished)
        self.daily_backup.failed.connect(self._on_daily_backup_failed)
        self._file_check_timer = QTimer(self)
        self._file_check_timer.setInterval(FILE_CHECK_POLL_MS)
        self._file_check_timer.timeout.connect(self._on_file_check_timer_timeout)
        check = self.database.integrity_check
        if check is not None and not check.finished:
            self._file_check_timer.start()

    def backup_folder(self) -> Path:
        """Where backups go: the folder given, else the data folder's."""
        return self.folder if self.folder is not None else backup_dir()

    def start_daily_backup(self, folder: Path | None = None, keep: int | None = None) -> None:
        """Make today's backup in the background if it is due (the result goes to the status
        bar, as does any problem). Only SQLite files are backed up this way."""
        if self.database.sqlite_path is None or self.daily_backup.is_running():
            return
        target = folder if folder is not None else self.backup_folder()
        if keep is None:
            keep = self.ops.read(load_security).backups_kept
        database = self.database

        def run(_progress: object) -> Path | None:
            return daily_backup_if_due(database, target, keep)

        self.daily_backup.start(run)

    def wait(self) -> None:
        """Wait for a backup under way to finish (the window is closing)."""
        self.daily_backup.wait()

    @Slot(object)
    def _on_daily_backup_finished(self, path: Path | None) -> None:
        if path is not None:
            self.message_posted.emit(f"Today's backup is saved ({path.name}).", 10_000)

    @Slot(str)
    def _on_daily_backup_failed(self, message: str) -> None:
        self.message_posted.emit(f"The daily backup failed: {message}", 30_000)

    @Slot()
    def _on_file_check_timer_timeout(self) -> None:
        check = self.database.integrity_check
        if check is None or not check.finished:
            return
        self._file_check_timer.stop()
        problem = check.problem
        if problem is None:
            return
        self.damage_found = True
        self.file_damaged.emit(str(check.path), problem)
