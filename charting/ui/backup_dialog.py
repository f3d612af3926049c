"""Backups and security (clinic admins): the backups kept, back up now, restore, and the lock."""

from __future__ import annotations

from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from charting.models.db import Database
from charting.services import backup
from charting.services.backup import BackupInfo, RestoreResult
from charting.services.errors import ServiceError, ValidationError
from charting.services.settings import (
    BACKUPS_KEPT_RANGE,
    IDLE_LOCK_RANGE,
    SecuritySettings,
    load_security,
    save_security,
)
from charting.ui.app_rules import plain_tooltip, rich_label
from charting.ui.forms import FieldForm, resize_within_screen
from charting.ui.table_models import RowsModel
from charting.ui.workers import TaskRunner

BACKUP_COLUMNS = ("Taken", "Kind", "Size")
_Index = QModelIndex | QPersistentModelIndex


def size_text(size: int) -> str:
    """A file size in words people read (kB, MB, GB)."""
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1000
    return f"{size} bytes"


def when_text(moment: datetime) -> str:
    """A moment in local time."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


class BackupListModel(RowsModel):
    """The backups in the backup folder, newest first."""

    COLUMNS = BACKUP_COLUMNS

    def backup(self, row: int) -> BackupInfo | None:
        """The backup listed at ``row``."""
        return self.item(row)

    def row_of(self, path: Path) -> int | None:
        """The row listing the file at ``path``."""
        return next((i for i, b in enumerate(self._rows) if b.path == path), None)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_tooltip(str(row.path))
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return (when_text(row.taken_at), row.label, size_text(row.size))[index.column()]


class BackupDialog(QDialog):
    """Backups of the clinic's database and the security settings (objectName ``backupDialog``).

    Signals:
        restore_started(): a restore is about to replace the records (close open visits now).
        restored(object): the RestoreResult, after the records were replaced.
        security_changed(object): the SecuritySettings were saved.
    """

    restore_started = Signal()
    restored = Signal(object)
    security_changed = Signal(object)

    def __init__(self, database: Database, folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("backupDialog")
        self.setWindowTitle("Backups and security")
        self.database = database
        self.folder = folder
        self.local = database.sqlite_path is not None
        self.last_backup: Path | None = None
        self.last_restore: RestoreResult | None = None
        self._task = ""
        self.runner = TaskRunner(self)
        self.runner.progressed.connect(self._on_runner_progressed)
        self.runner.finished.connect(self._on_runner_finished)
        self.runner.failed.connect(self._on_runner_failed)

        backups = QGroupBox("Backups")
        backups_layout = QVBoxLayout(backups)
        if self.local:
            where = QLabel(
                "Charting backs the database up on the first start of each day and keeps "
                "the newest daily copies. Back up by hand before big changes, and copy "
                "backups to a drive kept somewhere else now and then."
            )
        else:
            where = QLabel(
                "This clinic's records are on a database server (PostgreSQL). The server is "
                "backed up with its own tools (such as pg_dump) by whoever runs it, so "
                "Charting makes no copies here."
            )
        where.setObjectName("backupNote")
        where.setWordWrap(True)
        self.folder_label = rich_label(f"Backups are kept in <b>{escape(str(folder))}</b>")
        self.folder_label.setObjectName("backupFolder")
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder_label.setVisible(self.local)
        backups_layout.addWidget(where)
        backups_layout.addWidget(self.folder_label)
        self.model = BackupListModel(self)
        self.table = QTableView()
        self.table.setObjectName("backupList")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.back_up_button = QPushButton("&Back up now")
        self.back_up_button.setObjectName("backUpNowButton")
        self.restore_button = QPushButton("&Restore selected\u2026")
        self.restore_button.setObjectName("restoreButton")
        self.restore_file_button = QPushButton("Restore from a &file\u2026")
        self.restore_file_button.setObjectName("restoreFileButton")
        self.progress = QProgressBar()
        self.progress.setObjectName("backupProgress")
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.status = QLabel()
        self.status.setObjectName("backupStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        actions = QHBoxLayout()
        actions.addWidget(self.back_up_button)
        actions.addStretch(1)
        actions.addWidget(self.restore_button)
        actions.addWidget(self.restore_file_button)
        backups_layout.addWidget(self.table, 1)
        backups_layout.addLayout(actions)
        backups_layout.addWidget(self.progress)
        backups_layout.addWidget(self.status)
        for widget in (
            self.table,
            self.back_up_button,
            self.restore_button,
            self.restore_file_button,
        ):
            widget.setVisible(self.local)

        security = QGroupBox("Security")
        current = self._load_security()
        self.idle_minutes = QSpinBox()
        self.idle_minutes.setRange(*IDLE_LOCK_RANGE)
        self.idle_minutes.setSuffix(" minutes without use")
        self.idle_minutes.setValue(current.idle_lock_minutes)
        self.backups_kept = QSpinBox()
        self.backups_kept.setRange(*BACKUPS_KEPT_RANGE)
        self.backups_kept.setSuffix(" daily backups")
        self.backups_kept.setValue(current.backups_kept)
        for spin in (self.idle_minutes, self.backups_kept):
            spin.setFixedWidth(230)
        self.security_form = FieldForm()
        self.security_form.add("idle_lock_minutes", "&Lock the screen after", self.idle_minutes)
        self.security_form.add("backups_kept", "&Keep the newest", self.backups_kept)
        self.security_form.set_row_visible("backups_kept", self.local)
        self.save_security_button = QPushButton("&Save security settings")
        self.save_security_button.setObjectName("saveSecurityButton")
        self.security_status = QLabel()
        self.security_status.setObjectName("securityStatus")
        self.security_status.setStyleSheet("color: #2e7d32;")
        security_buttons = QHBoxLayout()
        security_buttons.addWidget(self.security_status, 1)
        security_buttons.addWidget(self.save_security_button)
        security_layout = QVBoxLayout(security)
        security_layout.addLayout(self.security_form)
        security_layout.addLayout(security_buttons)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(backups, 1)
        layout.addWidget(security)
        layout.addWidget(self.buttons)
        resize_within_screen(self, 760, 600 if self.local else 360)

        self.back_up_button.clicked.connect(self.back_up_now)
        self.restore_button.clicked.connect(self._on_restore_button_clicked)
        self.restore_file_button.clicked.connect(self._on_restore_file_button_clicked)
        self.save_security_button.clicked.connect(self.save_security_settings)
        self.reload()
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self._update_buttons()

    @classmethod
    def ask(cls, parent: QWidget | None, database: Database, folder: Path) -> RestoreResult | None:
        """Show backups and settings; return the restore's result if one was done."""
        dialog = cls(database, folder, parent)
        dialog.exec()
        return dialog.last_restore

    # -- state -----------------------------------------------------------------------------
    def _load_security(self) -> SecuritySettings:
        with self.database.read() as session:
            return load_security(session)

    @property
    def stem(self) -> str:
        """The database file's name without its suffix (backups are named after it)."""
        return backup.backup_stem(Path(self.database.sqlite_path or ""))

    def reload(self) -> None:
        """List the backups in the folder again."""
        if self.local:
            self.model.set_rows(backup.list_backups(self.folder, self.stem))

    def is_busy(self) -> bool:
        """Whether a backup or restore is running."""
        return self.runner.is_running()

    def selected_backup(self) -> BackupInfo | None:
        """The backup selected in the list."""
        rows = self.table.selectionModel().selectedRows()
        return self.model.backup(rows[0].row()) if rows else None

    @Slot()
    def _update_buttons(self) -> None:
        busy = self.is_busy()
        self.back_up_button.setEnabled(not busy)
        self.restore_button.setEnabled(not busy and self.selected_backup() is not None)
        self.restore_file_button.setEnabled(not busy)
        self.buttons.setEnabled(not busy)

    def _start(self, task: str, run: Any, text: str) -> None:
        self._task = task
        self.progress.setRange(0, 0)
        self.progress.show()
        self.status.setStyleSheet("")
        self.status.setText(text)
        self.runner.start(run)
        self._update_buttons()

    # -- backing up ------------------------------------------------------------------------
    @Slot()
    def back_up_now(self) -> None:
        """Copy the database into the backup folder, in the background."""
        if self.is_busy() or not self.local:
            return
        database, folder = self.database, self.folder

        def run(progress: Any) -> Path:
            return backup.back_up(database, folder, kind="manual", progress=progress)

        self._start("backup", run, "Backing up\u2026")

    # -- restoring -------------------------------------------------------------------------
    @Slot()
    def _on_restore_button_clicked(self) -> None:
        chosen = self.selected_backup()
        if chosen is not None:
            self.restore(chosen.path, f"the backup taken on {when_text(chosen.taken_at)}")

    @Slot()
    def _on_restore_file_button_clicked(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self,
            "Restore a backup",
            str(self.folder),
            "Charting backups (*.sqlite3);;All files (*)",
        )
        if path:
            changed = datetime.fromtimestamp(Path(path).stat().st_mtime).astimezone()
            self.restore(Path(path), f"the file {Path(path).name} (saved {when_text(changed)})")

    def restore(self, source: Path, described: str) -> None:
        """Ask for confirmation, then replace the records with ``source`` in the background."""
        if self.is_busy():
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Restore a backup",
            f"Replace every record with {described}?",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("restoreConfirmation")
        box.setInformativeText(
            "Everything entered after that backup is replaced, for everyone using this "
            "database. The database as it is now is saved first as a backup (\u201cBefore a "
            "restore\u201d), so this can be undone. Any open visit is closed."
        )
        confirm = box.addButton("Restore", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is not confirm:
            return
        self.restore_started.emit()
        database, folder = self.database, self.folder

        def run(progress: Any) -> RestoreResult:
            return backup.restore(database, source, folder, progress=progress)

        self._start("restore", run, f"Restoring {described}\u2026")

    # -- worker results --------------------------------------------------------------------
    @Slot(int, int)
    def _on_runner_progressed(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    @Slot(object)
    def _on_runner_finished(self, result: Any) -> None:
        self.progress.hide()
        self.reload()
        if isinstance(result, RestoreResult):
            self.last_restore = result
            upgraded = (
                " It was brought up to date with this version of Charting."
                if result.upgraded_from
                else ""
            )
            self.status.setText(
                f"Restored {result.restored_from.name}.{upgraded} The records as they were "
                f"are saved as {result.saved_current_as.name}."
            )
            self.restored.emit(result)
        elif isinstance(result, Path):
            self.last_backup = result
            row = self.model.row_of(result)
            if row is not None:
                self.table.selectRow(row)
            self.status.setText(f"Backed up to {result}.")
        self._update_buttons()

    @Slot(str)
    def _on_runner_failed(self, message: str) -> None:
        self.progress.hide()
        self.status.setStyleSheet("color: #b3261e;")
        self.status.setText(message)
        self.reload()
        self._update_buttons()

    # -- security settings -----------------------------------------------------------------
    @Slot()
    def save_security_settings(self) -> None:
        """Store the lock and backup settings."""
        wanted = SecuritySettings(self.idle_minutes.value(), self.backups_kept.value())
        try:
            with self.database.write() as session:
                save_security(session, wanted)
        except ValidationError as exc:
            self.security_form.show_errors(exc.errors)
            return
        except (ServiceError, SQLAlchemyError) as exc:
            self.security_status.setStyleSheet("color: #b3261e;")
            self.security_status.setText(str(exc))
            return
        self.security_form.show_errors({})
        self.security_status.setStyleSheet("color: #2e7d32;")
        self.security_status.setText("Saved.")
        self.security_changed.emit(wanted)

    def wait_until_idle(self, timeout_ms: int = 120_000) -> bool:
        """Block until a running backup or restore has ended."""
        return self.runner.wait(timeout_ms)

    def reject(self) -> None:
        if self.is_busy():
            return  # a backup or restore must finish; the buttons say so
        super().reject()
