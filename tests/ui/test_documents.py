"""Printing, saving and opening the visit's documents from the editor."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QFileDialog

from charting.bodymap import load_bodymap
from charting.models.db import Database
from charting.services.handouts import handout_issues
from charting.services.marks import MarkSpec, add_marks
from charting.services.visits import start_visit
from charting.ui import documents
from charting.ui.ops import OpRunner
from charting.ui.visit_chart import VisitChartPage

BM = load_bodymap()


@pytest.fixture
def page(qtbot, database: Database, make_patient, practitioner_id: int) -> VisitChartPage:  # type: ignore[no-untyped-def]
    """The editor on a visit with cupping and two points."""
    x, y = BM.position("BL23", "L", "posterior")  # type: ignore[misc]
    with database.write() as session:
        vid, _ = start_visit(session, make_patient(), practitioner_id)
        add_marks(
            session,
            BM,
            vid,
            [
                MarkSpec("acupoint", "posterior", x, y, "L", "BL23"),
                MarkSpec("cupping", "posterior", 400, 700, "L"),
            ],
        )
    editor = VisitChartPage(OpRunner(database), BM)
    qtbot.addWidget(editor)
    editor.open_visit(vid)
    return editor


def test_print_pdf_sends_every_page_to_the_printer(tmp_path: Path, page: VisitChartPage) -> None:
    """A built handout printed to a (file) printer gives the same number of pages."""
    source = tmp_path / "handout.pdf"
    page.document_builder("handout")(source)
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    pages = documents.print_pdf(source, printer)
    assert pages == len(PdfReader(source).pages) >= 1
    assert len(PdfReader(tmp_path / "printed.pdf").pages) == pages


def test_print_handout_records_that_it_was_given(
    tmp_path: Path, page: VisitChartPage, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl+P prints through the print dialog and records the handout as given."""
    printed = tmp_path / "printed.pdf"

    class FakeDialog:
        DialogCode = QPrintDialog.DialogCode

        def __init__(self, printer: QPrinter, _parent: object) -> None:
            printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
            printer.setOutputFileName(str(printed))

        def setWindowTitle(self, _title: str) -> None:
            pass

        def exec(self) -> QPrintDialog.DialogCode:
            return QPrintDialog.DialogCode.Accepted

    monkeypatch.setattr(documents, "QPrintDialog", FakeDialog)
    page.print_handout_action.trigger()
    assert printed.exists() and len(PdfReader(printed).pages) >= 1
    with database.read() as session:
        given = handout_issues(session, page.visit_id)  # type: ignore[arg-type]
    assert [g.how for g in given] == ["printed"]
    assert "printed by Ana Ruiz" in page.form.handout_label.text()


def test_cancelled_print_records_nothing(
    page: VisitChartPage, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelling the print dialog prints nothing and records no handout."""
    monkeypatch.setattr(QPrintDialog, "exec", lambda self: QPrintDialog.DialogCode.Rejected)
    assert page.print_handout() is False
    with database.read() as session:
        assert handout_issues(session, page.visit_id) == []  # type: ignore[arg-type]


def test_save_summary_as_pdf(
    tmp_path: Path, page: VisitChartPage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Save treatment summary writes a PDF where the user chose, with the visit in it."""
    target = tmp_path / "summary"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    saved = page._document("summary", "save")
    assert saved == tmp_path / "summary.pdf"
    text = PdfReader(saved).pages[0].extract_text()
    assert "Treatment summary" in text and "BL23" in text
    assert not list(tmp_path.glob(".*partial"))


def test_open_handout_hands_the_pdf_to_the_viewer(
    page: VisitChartPage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Open handout builds the PDF privately and asks the system to open it."""
    opened: list[str] = []
    monkeypatch.setattr(
        documents.QDesktopServices,
        "openUrl",
        staticmethod(lambda url: opened.append(url.toLocalFile()) or True),
    )
    path = page._document("handout", "open")
    assert path is not None and opened == [str(path)]
    assert "After cupping" in "".join(p.extract_text() for p in PdfReader(path).pages)
