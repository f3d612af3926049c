"""Patient mode: the patient draws where it hurts on a full-screen page of their own.

The page fills the second screen when there is one (a monitor or tablet facing the patient),
else the whole screen; it has large controls for touch and pen, and nothing else of the
record: no names of other patients, no notes, no menus. It is modal, so the practitioner's
window cannot be reached from it; giving the screen back asks for the practitioner's password.
What the patient draws is kept as drawn by the patient, beside the practitioner's drawing.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeyEvent, QUndoStack
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from charting.bodymap import BodyMap
from charting.models.db import Database
from charting.services.access import Actor
from charting.services.accounts import SignInError
from charting.ui.login_dialog import check_credentials
from charting.ui.ops import OpRunner
from charting.ui.pain.panel import PainPanel


class HandBackDialog(QDialog):
    """The practitioner types their password to take the screen back."""

    def __init__(self, database: Database, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("handBackDialog")
        self.setWindowTitle("Back to the practitioner")
        self.database, self.actor = database, actor
        self.password = QLineEdit()
        self.password.setObjectName("handBackPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = QLabel()
        self.message.setObjectName("handBackMessage")
        self.message.setStyleSheet("color: #b3261e;")
        ok = QPushButton("Back to the chart")
        ok.setObjectName("handBackOk")
        ok.setDefault(True)
        cancel = QPushButton("Keep drawing")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{actor.display_name}, type your password to continue."))
        layout.addWidget(self.password)
        layout.addWidget(self.message)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(cancel)
        row.addWidget(ok)
        layout.addLayout(row)
        ok.clicked.connect(self._on_ok_clicked)
        cancel.clicked.connect(self.reject)
        self.password.returnPressed.connect(self._on_ok_clicked)

    @Slot()
    def _on_ok_clicked(self) -> None:
        try:
            check_credentials(self.database, self.actor.username, self.password.text(), "unlock")
        except SignInError as exc:
            self.message.setText(str(exc))
            self.password.clear()
            return
        self.accept()


class PatientModeWindow(QDialog):
    """Full-screen drawing for the patient; leaving asks for the practitioner's password."""

    def __init__(
        self,
        ops: OpRunner,
        bodymap: BodyMap,
        undo_stack: QUndoStack,
        visit_id: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("patientMode")
        self.setWindowTitle("Where does it hurt?")
        self.setModal(True)
        self.ops = ops
        self._may_close = False
        intro = QLabel(
            "Where does it hurt? Colour the places with your finger or the pen. Choose what "
            "it feels like and how strong it is (0 = no pain, 10 = the worst you can imagine)."
        )
        intro.setObjectName("patientModeIntro")
        intro.setWordWrap(True)
        intro.setStyleSheet("font-size: 18pt;")
        self.panel = PainPanel(ops, bodymap, undo_stack, self, drawn_by="patient", large=True)
        self.panel.patient_button.hide()
        self.panel.show_previous.hide()
        self.panel.measures.hide()
        for widget in (self.panel.quality, self.panel.intensity):
            widget.setMinimumHeight(56)
            widget.setStyleSheet("font-size: 16pt;")
        self.undo = QPushButton("Undo")
        self.undo.setObjectName("patientModeUndo")
        self.undo.setMinimumSize(160, 64)
        self.undo.clicked.connect(undo_stack.undo)
        self.done_button = QPushButton("I'm done")
        self.done_button.setObjectName("patientModeDone")
        self.done_button.setMinimumSize(220, 64)
        self.done_button.setStyleSheet("font-size: 18pt; font-weight: 600;")
        self.done_button.clicked.connect(self.hand_back)
        row = QHBoxLayout()
        row.addWidget(self.undo)
        row.addStretch(1)
        row.addWidget(self.done_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.panel, 1)
        layout.addLayout(row)
        self.panel.show_visit(visit_id, editable=True)

    def show_on_patient_screen(self) -> None:
        """Full screen on the second screen if there is one, else on this one."""
        screens = QGuiApplication.screens()
        owner = self.parentWidget()
        here = owner.screen() if owner is not None else None
        other = next((s for s in screens if s is not here), None)
        if other is not None:
            self.setScreen(other)
            self.setGeometry(other.geometry())
        self.showFullScreen()

    @Slot()
    def hand_back(self) -> None:
        """Ask the practitioner's password; on the right one, close patient mode."""
        actor = self.ops.database.actor
        if actor is None:
            return
        dialog = HandBackDialog(self.ops.database, actor, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._may_close = True
            self.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.hand_back()  # Esc cannot leave patient mode without the password
            return
        super().keyPressEvent(event)

    def reject(self) -> None:
        if self._may_close:
            super().reject()
        else:
            self.hand_back()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._may_close:
            super().closeEvent(event)
        else:
            event.ignore()
            self.hand_back()
