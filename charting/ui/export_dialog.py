"""The admin export: choose patients and formats, then export in the background with
progress, time left and Cancel, while the window stays responsive."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate, QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from charting.jobs.export import (
    ExportCancelled,
    ExportResult,
    Progress,
    prepare_workers,
    run_export,
)
from charting.models.db import Database
from charting.services.errors import ServiceError, ValidationError
from charting.services.exports import select_patient_ids


class ExportWorker(QObject):
    """Runs one export in a worker thread, with its own sessions; never touches widgets.

    Signals:
        progressed(object): a Progress.
        finished(object): the ExportResult.
        failed(str): why the export stopped (cancelled or failed; nothing was left behind).
    """

    progressed = Signal(object)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(
        self, database: Database, patient_ids: list[int], folder: Path, formats: list[str]
    ) -> None:
        super().__init__()
        self.database = database
        self.patient_ids = patient_ids
        self.folder = folder
        self.formats = formats
        self.cancel_flag = threading.Event()

    @Slot()
    def run(self) -> None:
        """Export; report progress and the outcome by signals."""
        try:
            result = run_export(
                self.database,
                self.patient_ids,
                self.folder,
                self.formats,
                progress=self.progressed.emit,
                cancelled=self.cancel_flag.is_set,
            )
        except ExportCancelled as exc:
            self.failed.emit(str(exc))
        except ValidationError as exc:
            self.failed.emit("; ".join(exc.errors.values()))
        except (ServiceError, OSError) as exc:
            self.failed.emit(f"The export failed and was removed: {exc}")
        else:
            self.finished.emit(result)


def _fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "estimating\u2026"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


class ExportDialog(QDialog):
    """Export patient records (objectName ``exportDialog``)."""

    def __init__(
        self, database: Database, search_text: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export patient records")
        # The export's worker processes get ready while the admin picks what to export.
        prepare_workers()
        self.database = database
        self.search_text = search_text
        self._thread: QThread | None = None
        self.worker: ExportWorker | None = None
        self.export_result: ExportResult | None = None

        self.all_patients = QRadioButton("&All patients")
        self.all_patients.setObjectName("exportAll")
        self.search_result = QRadioButton(
            f"Patients matching the search \u201c{search_text}\u201d"
            if search_text
            else "Patients matching a search (type one in the patient list first)"
        )
        self.search_result.setObjectName("exportSearch")
        self.search_result.setEnabled(bool(search_text))
        self.date_range = QRadioButton("Patients with a visit &between")
        self.date_range.setObjectName("exportRange")
        self.since = QDateEdit(QDate.currentDate().addMonths(-1))
        self.until = QDateEdit(QDate.currentDate())
        for edit in (self.since, self.until):
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setCalendarPopup(True)
        self.all_patients.setChecked(True)
        group = QButtonGroup(self)
        for button in (self.all_patients, self.search_result, self.date_range):
            group.addButton(button)
        dates = QHBoxLayout()
        dates.addWidget(self.date_range)
        dates.addWidget(self.since)
        dates.addWidget(QLabel("and"))
        dates.addWidget(self.until)
        dates.addStretch(1)
        who = QGroupBox("Patients")
        who_layout = QVBoxLayout(who)
        who_layout.addWidget(self.all_patients)
        who_layout.addWidget(self.search_result)
        who_layout.addLayout(dates)

        self.pdf = QCheckBox("PDF: course report and every visit summary, per patient")
        self.csv = QCheckBox(
            "CSV: every table of the record, patients included (+ data dictionary)"
        )
        self.fhir = QCheckBox("HL7 FHIR R4 JSON bundle, per patient")
        for box, name in (
            (self.pdf, "exportPdf"),
            (self.csv, "exportCsv"),
            (self.fhir, "exportFhir"),
        ):
            box.setObjectName(name)
            box.setChecked(True)
        what = QGroupBox("Formats")
        what_layout = QVBoxLayout(what)
        for box in (self.pdf, self.csv, self.fhir):
            what_layout.addWidget(box)

        self.folder = QLineEdit(str(Path.home()))
        self.folder.setObjectName("exportFolder")
        browse = QPushButton("Browse\u2026")
        browse.clicked.connect(self._on_browse_clicked)
        where = QHBoxLayout()
        where.addWidget(self.folder, 1)
        where.addWidget(browse)
        form = QFormLayout()
        form.addRow("Export into", where)

        self.progress = QProgressBar()
        self.progress.setObjectName("exportProgress")
        self.progress.setValue(0)
        self.status = QLabel("A new dated folder is created inside the chosen folder.")
        self.status.setObjectName("exportStatus")
        self.status.setWordWrap(True)
        self.start_button = QPushButton("Start export")
        self.start_button.setObjectName("exportStart")
        self.start_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel export")
        self.cancel_button.setObjectName("exportCancel")
        self.cancel_button.setEnabled(False)
        self.close_button = QPushButton("Close")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for push in (self.start_button, self.cancel_button, self.close_button):
            buttons.addWidget(push)

        layout = QVBoxLayout(self)
        layout.addWidget(who)
        layout.addWidget(what)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addStretch(1)  # a taller window keeps the progress beside its words
        layout.addLayout(buttons)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.reject)
        self.setMinimumWidth(560)

    def formats(self) -> list[str]:
        """The formats ticked."""
        return [
            f
            for f, box in (("pdf", self.pdf), ("csv", self.csv), ("fhir", self.fhir))
            if box.isChecked()
        ]

    def patient_ids(self) -> list[int]:
        """The patients the selection names."""
        since: date | None = None
        until: date | None = None
        search = None
        if self.search_result.isChecked():
            search = self.search_text
        if self.date_range.isChecked():
            since = self.since.date().toPython()  # type: ignore[assignment]
            until = self.until.date().toPython()  # type: ignore[assignment]
        with self.database.read() as session:
            return select_patient_ids(session, search=search, since=since, until=until)

    @Slot()
    def start(self) -> None:
        """Start the export in a background thread."""
        formats = self.formats()
        if not formats:
            self.status.setText("Tick at least one format.")
            return
        try:
            ids = self.patient_ids()
        except ValidationError as exc:
            self.status.setText("; ".join(exc.errors.values()))
            return
        if not ids:
            self.status.setText("No patients match the selection.")
            return
        self.export_result = None
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.setText(f"Exporting {len(ids):,} patient{'s' if len(ids) != 1 else ''}\u2026")
        self.worker = ExportWorker(self.database, ids, Path(self.folder.text()), formats)
        self._thread = QThread(self)
        self.worker.moveToThread(self._thread)
        self._thread.started.connect(self.worker.run)
        self.worker.progressed.connect(self._on_worker_progressed)
        self.worker.finished.connect(self._on_worker_finished)
        self.worker.failed.connect(self._on_worker_failed)
        # Quit the thread from the worker's side at once (as TaskRunner does). Queued to this
        # thread, the quit waited for this thread's event loop, so a window that waited for
        # the export to end (closing it, or a test) waited for itself, and a dialog freed
        # then took its running thread down with it (Qt aborts the program).
        self.worker.finished.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self.worker.failed.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._set_running(True)
        self._thread.start()

    @Slot()
    def cancel(self) -> None:
        """Ask the running export to stop; it removes what it wrote."""
        if self.worker is not None:
            self.worker.cancel_flag.set()
            self.status.setText("Cancelling\u2026")

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.close_button.setEnabled(not running)

    @Slot(object)
    def _on_worker_progressed(self, progress: Progress) -> None:
        self.progress.setRange(0, progress.total)
        self.progress.setValue(progress.done)
        self.status.setText(
            f"{progress.done} of {progress.total} steps \u00b7 {progress.stage} \u00b7 "
            f"time left {_fmt_seconds(progress.remaining_s)}"
        )

    @Slot(object)
    def _on_worker_finished(self, result: ExportResult) -> None:
        self.wait_until_idle()
        self.export_result = result
        self._set_running(False)
        self.progress.setValue(self.progress.maximum())
        self.status.setText(
            f"Exported {result.patients:,} patient{'s' if result.patients != 1 else ''} "
            f"({len(result.files)} files) to {result.folder} in {result.seconds:.1f} s."
        )

    @Slot(str)
    def _on_worker_failed(self, message: str) -> None:
        self.wait_until_idle()
        self._set_running(False)
        self.progress.setValue(0)
        self.status.setText(message)

    @Slot()
    def _on_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export into", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def wait_until_idle(self, timeout_ms: int = 60_000) -> bool:
        """Block until the worker thread has ended (used when closing)."""
        return self._thread.wait(timeout_ms) if self._thread is not None else True

    def reject(self) -> None:
        if self.worker is not None and self._thread is not None and self._thread.isRunning():
            self.cancel()
            return
        super().reject()
