"""Sign, amend, take over and documents of the open visit (the buttons at the top right)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QMenu, QMessageBox, QPushButton, QWidget

from charting.bodymap import BodyMap
from charting.models import Visit
from charting.services import red_flags, visit_record
from charting.services.handouts import handout_issues, record_handout
from charting.services.report_data import visit_report
from charting.services.visit_safety import blocking_titles
from charting.services.visits import take_over_draft
from charting.ui.amend_dialog import AmendDialog
from charting.ui.documents import Build, DocumentAudit, open_document, print_document, save_document
from charting.ui.needle_dialog import NeedleCountDialog
from charting.ui.ops import OpRunner
from charting.ui.visit_form import VisitForm


class RecordActions(QWidget):
    """The Documents menu and the Sign (or Amend) button of the visit page.

    Signals:
        message_posted(str): a short confirmation for the status bar.
        reopen_requested(): the visit changed state (signed, taken over): show it again.
        amended(): an amendment was added.
    """

    message_posted = Signal(str)
    reopen_requested = Signal()
    amended = Signal()

    def __init__(
        self, ops: OpRunner, bodymap: BodyMap, form: VisitForm, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ops = ops
        self.bodymap = bodymap
        self.form = form
        self.visit_id: int | None = None
        self.practitioner_id: int | None = None
        self.signed = False
        self.documents_button = QPushButton("Documents")
        self.documents_button.setObjectName("documentsButton")
        documents = QMenu(self.documents_button)
        self.print_handout_action = documents.addAction(
            "&Print aftercare handout\u2026", self.print_handout
        )
        self.print_handout_action.setShortcut(QKeySequence.StandardKey.Print)
        self.print_handout_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        documents.addAction("Save handout as PDF\u2026", lambda: self.document("handout", "save"))
        documents.addAction("Open handout", lambda: self.document("handout", "open"))
        documents.addSeparator()
        documents.addAction(
            "Save treatment summary as PDF\u2026", lambda: self.document("summary", "save")
        )
        documents.addAction("Open treatment summary", lambda: self.document("summary", "open"))
        self.documents_button.setMenu(documents)
        self.sign_button = QPushButton("Sign visit\u2026")
        self.sign_button.setObjectName("signVisit")
        self.sign_button.clicked.connect(self.sign)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.documents_button)
        row.addWidget(self.sign_button)

    def show_visit(
        self, visit_id: int, practitioner_id: int | None, signed: bool, editable: bool
    ) -> None:
        """Offer what the visit allows: Sign (its practitioner, a draft) or Amend (signed)."""
        self.visit_id, self.practitioner_id, self.signed = visit_id, practitioner_id, signed
        self.sign_button.setText("Amend\u2026" if signed else "Sign visit\u2026")
        self.sign_button.setEnabled(signed or editable)
        self.show_handouts()

    # -- signing -----------------------------------------------------------------------------
    def sign(self) -> None:
        """Sign the visit as its practitioner (it becomes read-only), or amend a signed one."""
        if self.visit_id is None or self.practitioner_id is None:
            return
        if self.signed:
            self.amend()
            return
        self.form.flush()
        if self.form.has_unsaved():
            QMessageBox.warning(
                self,
                "Not signed",
                "Some of what you typed is not saved yet "
                f"({self.form.save_state_text}) The visit is signed only once everything is "
                "stored: sign again when it says All changes saved.",
            )
            return
        vid = self.visit_id
        blocks = self.ops.read(lambda s: blocking_titles(self.bodymap)(s, vid))
        if blocks:
            QMessageBox.warning(
                self,
                "Not signed",
                "Resolve or override these safety blocks first: " + "; ".join(blocks),
            )
            return
        record = self.ops.read(lambda s: visit_record.record(s, vid))
        referral = red_flags.referral_problem(
            record["red_flags"], record["referral_outcome"], record["referral_decision"]
        )
        if referral:
            QMessageBox.warning(self, "Not signed", referral)
            self.form.focus_field("referral_outcome")
            return
        count = self.ops.read(lambda s: visit_record.needle_count(s, vid))
        if count.problem and count.needles_out is None:
            QMessageBox.information(self, "Count the needles out", count.problem)
            self.form.focus_field("needles_out")
            return
        if count.problem:
            resolution = NeedleCountDialog.ask(self, count)
            if resolution is None:
                self.form.focus_field("needles_out")
                return
            resolved = self.ops.run(
                self,
                visit_record.resolve_needle_count,
                vid,
                resolution.outcome,
                resolution.note,
                resolution.patient_told,
                resolution.severity,
            )
            if resolved is None:
                return
        else:
            needles = (
                f"Needles: {count.needles_in} in, {count.needles_out} out.\n\n"
                if count.needles_in
                else ""
            )
            answer = QMessageBox.question(
                self,
                "Sign visit",
                f"{needles}Sign this visit? It becomes read-only; later corrections are added "
                "as amendments.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        result = self.ops.run(
            self, visit_record.sign_visit, vid, self.practitioner_id, blocking_titles(self.bodymap)
        )
        if result is not None:
            self.message_posted.emit("Visit signed.")
            self.reopen_requested.emit()

    def amend(self) -> None:
        """Add an amendment to the signed visit (the original stays untouched)."""
        vid = self.visit_id
        if vid is None or self.practitioner_id is None:
            return
        current = self.ops.read(lambda s: visit_record.record(s, vid))
        data = AmendDialog.ask(self, current)
        if data is None:
            return
        author = getattr(self.ops.database.actor, "practitioner_id", None)
        result = self.ops.run(
            self, visit_record.amend, vid, author, data.field, data.corrected, data.reason
        )
        if result is not None:
            self.message_posted.emit("Amendment added; the signed original is unchanged.")
            self.amended.emit()

    def take_over(self) -> None:
        """Take a colleague's draft over (after a confirmation), to continue and sign it."""
        vid = self.visit_id
        if vid is None:
            return
        answer = QMessageBox.question(
            self,
            "Take over this draft",
            "Take this draft over? It becomes yours to continue and sign, and its practitioner "
            "can no longer change it. The audit log records the hand-over.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        if self.ops.run(self, take_over_draft, vid) is not None:
            self.message_posted.emit("Draft taken over: it is yours to continue and sign.")
            self.reopen_requested.emit()

    # -- documents ---------------------------------------------------------------------------
    def document_builder(self, kind: str) -> Build:
        """A function that writes this visit's handout or summary PDF to a target."""
        vid = self.visit_id
        assert vid is not None
        self.form.flush()
        report = self.ops.read(lambda s: visit_report(s, vid, self.bodymap))
        # ReportLab loads on the first document, not with the chart (about 100 ms).
        from charting.reports.handout import build_handout
        from charting.reports.visit_summary import build_visit_summary

        builder = build_handout if kind == "handout" else build_visit_summary

        def build(target: Any) -> None:
            builder(report, self.bodymap, target)

        return build

    def print_handout(self) -> bool:
        """Print the aftercare handout (Ctrl+P) and record that it was given."""
        if self.visit_id is None:
            return False
        printed = print_document(
            self, "aftercare-handout", self.document_builder("handout"), self._audit("handout")
        )
        if printed:
            self.handout_issued("printed")
        return printed

    def document(self, kind: str, how: str) -> Path | None:
        """Save ("save") or open ("open") the handout or the treatment summary."""
        if self.visit_id is None:
            return None
        name = "aftercare-handout" if kind == "handout" else "treatment-summary"
        act = save_document if how == "save" else open_document
        path = act(self, name, self.document_builder(kind), self._audit(kind))
        if path is not None and kind == "handout":
            self.handout_issued("saved" if how == "save" else "opened")
        if path is not None and how == "save":
            self.message_posted.emit(f"Saved {path}")
        return path

    def _audit(self, kind: str) -> DocumentAudit:
        vid = self.visit_id

        def load(session: Any) -> tuple[int, int]:
            visit = session.get(Visit, vid)
            return visit.patient_id, visit.number

        patient_id, number = self.ops.read(load)
        title = "Aftercare handout" if kind == "handout" else "Treatment summary"
        return DocumentAudit(self.ops.database, patient_id, f"{title}, visit {number}")

    def handout_issued(self, how: str) -> None:
        """Record that the handout was given (an event beside the visit, signed or not)."""
        vid = self.visit_id
        if vid is None:
            return
        if self.ops.run(self, record_handout, vid, how) is not None:
            self.show_handouts()
            self.message_posted.emit("Aftercare handout given: recorded on the visit.")

    def show_handouts(self) -> None:
        """Show the handouts given in the form's After section."""
        vid = self.visit_id
        if vid is not None:
            given = self.ops.read(lambda s: handout_issues(s, vid))
            self.form.show_handouts([g.text for g in given])
