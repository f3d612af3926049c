"""The visit's safety column: the warnings with their counts, and the override dialog."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from charting.services import visit_record
from charting.services.safety import SafetyWarning
from charting.ui.forms import ErrorLabel, resize_within_screen
from charting.ui.ops import OpRunner
from charting.ui.safety_panel import SafetyPanel

#: The reason for an override must say something (the service asks for a few words).
MIN_REASON = 5


class OverrideDialog(QDialog):
    """Why it is safe to go ahead despite a block: a reason, kept when refused."""

    def __init__(self, warning: SafetyWarning, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("overrideDialog")
        self.setWindowTitle("Override safety block")
        self.setMinimumSize(460, 300)
        title = QLabel(warning.title)
        title.setStyleSheet("font-weight: 600; color: #8c1d18;")
        title.setWordWrap(True)
        message = QLabel(warning.message)
        message.setWordWrap(True)
        self.reason = QPlainTextEdit()
        self.reason.setObjectName("overrideReason")
        self.reason.setTabChangesFocus(True)
        self.reason.setPlaceholderText(
            "Why is it safe to go ahead? e.g. cardiologist cleared EA below the waist, leads "
            "kept away from the chest"
        )
        self.error = ErrorLabel("overrideReasonError")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Override")
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        self.reason.textChanged.connect(self._on_reason_text_changed)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(message)
        layout.addWidget(QLabel("Reason for the override (kept in the record and audit log):"))
        layout.addWidget(self.reason, 1)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        resize_within_screen(self, 520, 340)

    @Slot()
    def _on_buttons_accepted(self) -> None:
        # An empty reason is refused here, keeping the dialog (and anything typed) open.
        if len(self.reason.toPlainText().strip()) < MIN_REASON:
            self.error.show_message("Say why this is safe to do (at least a few words).")
            self.reason.setFocus()
            return
        self.accept()

    @Slot()
    def _on_reason_text_changed(self) -> None:
        if len(self.reason.toPlainText().strip()) >= MIN_REASON:
            self.error.show_message(None)

    @classmethod
    def ask(cls, parent: QWidget | None, warning: SafetyWarning) -> str | None:
        """The reason typed, or None when cancelled."""
        dialog = cls(warning, parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.reason.toPlainText().strip()


class SafetyColumn(QScrollArea):
    """The safety panel in a scroll area that the page's splitter resizes; it keeps room for
    several warnings (never a one-warning strip).

    Decisions are stored through the op runner: one warning, all open warnings at once, or a
    block overridden with a reason; each also stands for the patient's later visits."""

    MIN_HEIGHT = 200

    def __init__(self, ops: OpRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("safetyColumn")
        self.ops = ops
        self.visit_id: int | None = None
        self.practitioner_id: int | None = None
        self.panel = SafetyPanel()
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(self.panel)
        self.setMinimumHeight(self.MIN_HEIGHT)
        self.panel.acknowledge_requested.connect(self._on_panel_acknowledge_requested)
        self.panel.acknowledge_all_requested.connect(self._on_panel_acknowledge_all_requested)

    @Slot(object)
    def _on_panel_acknowledge_requested(self, warning: SafetyWarning) -> None:
        reason = ""
        if warning.severity == "block":
            typed = OverrideDialog.ask(self, warning)
            if typed is None:
                return
            reason = typed
        self.ops.run(
            self,
            visit_record.acknowledge,
            self.visit_id,
            warning.key,
            warning.rule,
            warning.severity,
            warning.message,
            self.practitioner_id,
            reason,
        )

    @Slot(list)
    def _on_panel_acknowledge_all_requested(self, warnings: list[SafetyWarning]) -> None:
        self.ops.run(
            self,
            visit_record.acknowledge_all,
            self.visit_id,
            [(w.key, w.rule, w.severity, w.message) for w in warnings],
            self.practitioner_id,
        )
