"""Printing, saving and opening the PDF documents (ReportLab builds them; QtPdf prints them)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from PySide6.QtCore import QRectF, QSize, QUrl
from PySide6.QtGui import QDesktopServices, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget
from sqlalchemy.exc import SQLAlchemyError

from charting.config import data_dir
from charting.models.db import Database, DatabaseError
from charting.services import audit
from charting.services.errors import ServiceError

Build = Callable[[str | Path | IO[bytes]], None]


@dataclass(frozen=True)
class DocumentAudit:
    """Who and what a document is about, so printing or saving it goes into the audit log."""

    database: Database
    patient_id: int | None
    title: str  # e.g. "Aftercare handout, visit 3"


def _record(parent: QWidget, how: str, record: DocumentAudit | None, note: str = "") -> bool:
    """Log that a document leaves the app; False (with a message) if that cannot be logged.

    A document that cannot be logged is not printed or saved: the log must list every copy.
    """
    if record is None:
        return True
    try:
        with record.database.write() as session:
            audit.record_document(session, how, record.title + note, record.patient_id)
    except (ServiceError, DatabaseError, SQLAlchemyError) as exc:
        QMessageBox.warning(parent, "Not done", f"The document was not made: {exc}")
        return False
    return True


#: Pages are rasterised at this resolution for printing (sharp text, sane memory use).
PRINT_DPI = 300


def print_pdf(pdf: Path, printer: QPrinter) -> int:
    """Print every page of a PDF on ``printer``; return the number of pages printed.

    Raises:
        OSError: the PDF cannot be read or the printer cannot be started.
    """
    document = QPdfDocument()
    document.load(str(pdf))
    pages = document.pageCount()
    if document.status() != QPdfDocument.Status.Ready or pages == 0:
        document.close()
        raise OSError(f"cannot read {pdf.name}")
    painter = QPainter()
    if not painter.begin(printer):
        document.close()
        raise OSError("the printer could not be started")
    try:
        for index in range(pages):
            if index:
                printer.newPage()
            size = document.pagePointSize(index)
            image = document.render(
                index,
                QSize(round(size.width() * PRINT_DPI / 72), round(size.height() * PRINT_DPI / 72)),
            )
            area = painter.viewport()
            scale = min(area.width() / image.width(), area.height() / image.height())
            painter.drawImage(QRectF(0, 0, image.width() * scale, image.height() * scale), image)
    finally:
        painter.end()
        document.close()
    return pages


def _scratch_pdf(name: str) -> Path:
    """A private file for a document being printed or opened (inside the data folder)."""
    folder = data_dir() / "documents"
    folder.mkdir(mode=0o700, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        dir=folder, prefix=f"{name}-", suffix=".pdf", delete=False
    ) as handle:
        return Path(handle.name)


def print_document(
    parent: QWidget, name: str, build: Build, record: DocumentAudit | None = None
) -> bool:
    """Build a document and print it through the system print dialog; True if printed.

    With ``record``, the printing is written to the audit log first.
    """
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle(f"Print {name.replace('-', ' ')}")
    if dialog.exec() != QPrintDialog.DialogCode.Accepted:
        return False
    path = _scratch_pdf(name)
    try:
        build(path)
        if not _record(parent, "print", record):
            return False
        print_pdf(path, printer)
    except OSError as exc:
        QMessageBox.warning(parent, "Not printed", f"The document could not be printed: {exc}")
        return False
    finally:
        path.unlink(missing_ok=True)
    return True


def save_document(
    parent: QWidget, name: str, build: Build, record: DocumentAudit | None = None
) -> Path | None:
    """Ask where to save a document and write it there; return the path.

    With ``record``, the saving is written to the audit log before the file appears.
    """
    suggested = str(Path.home() / f"{name}.pdf")
    target, _filter = QFileDialog.getSaveFileName(parent, "Save PDF", suggested, "PDF (*.pdf)")
    if not target:
        return None
    path = Path(target if target.lower().endswith(".pdf") else f"{target}.pdf")
    partial = path.with_name(f".{path.name}.partial")
    try:
        build(partial)
        if not _record(parent, "save", record, f" \u2192 {path}"):
            partial.unlink(missing_ok=True)
            return None
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        QMessageBox.warning(parent, "Not saved", f"The PDF could not be saved: {exc}")
        return None
    return path


def open_document(
    parent: QWidget, name: str, build: Build, record: DocumentAudit | None = None
) -> Path | None:
    """Build a document and open it in the system's PDF viewer.

    With ``record``, it is logged as saved (the viewer can print or save it on).
    """
    path = _scratch_pdf(name)
    try:
        build(path)
        if not _record(parent, "save", record, " (opened in the PDF viewer)"):
            path.unlink(missing_ok=True)
            return None
    except OSError as exc:
        QMessageBox.warning(parent, "Not opened", f"The PDF could not be made: {exc}")
        return None
    if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
        QMessageBox.information(parent, "PDF ready", f"The PDF is at {path}")
    return path
