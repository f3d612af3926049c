"""Live safety warnings for the open visit, each acknowledged (or overridden) in place."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from charting.services.safety import SafetyWarning
from charting.services.visit_safety import VisitWarning
from charting.ui.app_rules import esc, rich_label


def _count(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural when n is not 1 ("1 advisory", "3 advisories")."""
    if n == 1:
        return f"1 {noun}"
    return f"{n} {noun[:-1]}ies" if noun.endswith("y") else f"{n} {noun}s"


COLOURS = {
    "block": ("#fde7e9", "#8c1d18", "BLOCK"),
    "warning": ("#fff4e0", "#7a4b00", "WARNING"),
    "advisory": ("#e8f1fb", "#1a4f86", "ADVISORY"),
}


class SafetyPanel(QFrame):
    """The warnings that apply now, most serious first.

    The summary counts the warnings by severity and says how many still need a decision.
    A decision made at an earlier visit that still holds (a standing decision) is shown as
    carried over, with the visit it was made at.

    Signals:
        acknowledge_requested(object): the user acknowledges (or overrides) a SafetyWarning.
        acknowledge_all_requested(list): the user acknowledges every open warning that is not
            a block (blocks are overridden one by one, each with its reason).
    """

    acknowledge_requested = Signal(object)
    acknowledge_all_requested = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("safetyPanel")
        # Follow the width of the column it sits in; long messages wrap instead.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self.summary = QLabel()
        self.summary.setObjectName("safetySummary")
        self.summary.setStyleSheet("font-weight: 600;")
        self.summary.setWordWrap(True)
        self.counts = QLabel()
        self.counts.setObjectName("safetyCounts")
        self.counts.setWordWrap(True)
        self.acknowledge_all = QPushButton("Acknowledge all warnings")
        self.acknowledge_all.setObjectName("acknowledgeAll")
        self.acknowledge_all.setToolTip(
            "Acknowledge every open warning and advisory shown (blocks need their own "
            "override with a reason)"
        )
        self.acknowledge_all.clicked.connect(self._on_acknowledge_all_clicked)
        self._layout.addWidget(self.summary)
        self._layout.addWidget(self.counts)
        self._layout.addWidget(self.acknowledge_all)
        self._layout.addStretch(1)
        self._rows: list[QWidget] = []
        self.warnings: list[VisitWarning] = []
        self._open_warnings: list[SafetyWarning] = []
        self._editable = True

    def show_warnings(self, warnings: list[VisitWarning], editable: bool = True) -> None:
        """Replace the warnings shown."""
        if warnings == self.warnings and editable == self._editable and self._rows:
            return  # most clicks change no warning: keep the rows (and any focus in them)
        self._editable = editable
        for row in self._rows:
            row.deleteLater()
        self._rows = []
        self.warnings = list(warnings)
        open_count = sum(1 for w in warnings if w.needs_attention)
        if not warnings:
            self.summary.setText("\u2713 No safety warnings for these points and techniques")
            self.summary.setStyleSheet("font-weight: 600; color: #2e7d32;")
        else:
            # Advisories and blocks are counted on the line below; the summary only says what
            # still needs a decision ("1 warning" over a lone advisory read as a contradiction).
            self.summary.setText(
                f"Safety: {open_count} to acknowledge"
                if open_count
                else f"Safety: {_count(len(warnings), 'item')}, all acknowledged"
            )
            self.summary.setStyleSheet(
                "font-weight: 600; color: #8c1d18;" if open_count else "font-weight: 600;"
            )
        by_severity = {
            severity: sum(1 for w in warnings if w.warning.severity == severity)
            for severity in COLOURS
        }
        self.counts.setText(
            "  \u00b7  ".join(_count(n, COLOURS[s][2].lower()) for s, n in by_severity.items() if n)
            + (
                f"  \u00b7  {sum(1 for w in warnings if w.carried_from)} carried over"
                if any(w.carried_from for w in warnings)
                else ""
            )
        )
        self.counts.setVisible(bool(warnings))
        open_warnings = [w for w in warnings if w.needs_attention and w.warning.severity != "block"]
        self.acknowledge_all.setVisible(editable and len(open_warnings) > 1)
        self._open_warnings = [w.warning for w in open_warnings]
        for item in warnings:
            row = self._row(item, editable)
            # Before the closing stretch: spare height stays below the last card instead of
            # opening gaps between the heading and the cards.
            self._layout.insertWidget(self._layout.count() - 1, row)
            self._rows.append(row)

    def _row(self, item: VisitWarning, editable: bool) -> QWidget:
        warning = item.warning
        background, ink, tag = COLOURS[warning.severity]
        row = QFrame()
        row.setObjectName("safetyWarning")
        row.setProperty("warningKey", warning.key)
        row.setStyleSheet(
            f"QFrame#safetyWarning {{ background: {background}; border-radius: 6px; }}"
        )
        layout = QVBoxLayout(row)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(2)
        title = rich_label(f"<b style='color:{ink}'>{tag}</b> &nbsp;<b>{esc(warning.title)}</b>")
        title.setWordWrap(True)
        message = QLabel(warning.message)
        message.setWordWrap(True)
        layout.addWidget(title)
        layout.addWidget(message)
        footer = QHBoxLayout()
        if item.acknowledged:
            done = "\u2713 Overridden: " + item.reason if item.reason else "\u2713 Acknowledged"
            if item.carried_from:
                done += f" (carried over from {item.carried_from})"
            status = QLabel(done)
            status.setWordWrap(True)
            status.setStyleSheet("color: #2e7d32;")
            footer.addWidget(status, 1)
        elif editable:
            button = QPushButton("Override\u2026" if warning.severity == "block" else "Acknowledge")
            button.setObjectName("acknowledgeButton")
            button.clicked.connect(lambda _=False, w=warning: self._request(w))
            footer.addStretch(1)
            footer.addWidget(button)
        layout.addLayout(footer)
        return row

    def _request(self, warning: SafetyWarning) -> None:
        self.acknowledge_requested.emit(warning)

    def _on_acknowledge_all_clicked(self) -> None:
        self.acknowledge_all_requested.emit(list(self._open_warnings))
