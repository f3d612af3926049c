"""Electroacupuncture pairs and adverse events of the open visit."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QStringListModel, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListView,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from charting.models import EAPair
from charting.services import clinical_lists as lists
from charting.services import visit_record
from charting.services.marks import MarkRow
from charting.ui.ops import OpRunner


def _spin(high: float, suffix: str, decimals: int = 1) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(0, high)
    spin.setDecimals(decimals)
    spin.setSuffix(suffix)
    spin.setSpecialValueText("not recorded")
    return spin


def pair_label(a: MarkRow, b: MarkRow, settings: visit_record.EASettings) -> str:
    """ "BL23 L \u2194 BL25 L \u00b7 2 Hz \u00b7 1.5 mA \u00b7 20 min" """
    parts = [f"{a.label} \u2194 {b.label}"]
    if settings.waveform:
        parts.append(settings.waveform)
    if settings.frequency_hz:
        parts.append(f"{settings.frequency_hz:g} Hz")
    if settings.intensity_ma:
        parts.append(f"{settings.intensity_ma:g} mA")
    if settings.minutes:
        parts.append(f"{settings.minutes} min")
    return "  \u00b7  ".join(parts)


class EAPanel(QWidget):
    """Join two selected needles with an EA lead and record the stimulation (STRICTA 2e)."""

    def __init__(
        self, ops: OpRunner, selected: Callable[[], list[int]], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("eaPanel")
        self.ops = ops
        self._selected = selected
        self.visit_id: int | None = None
        self._pair_ids: list[int] = []
        self.model = QStringListModel(self)
        self.pairs = QListView()
        self.pairs.setObjectName("eaPairs")
        self.pairs.setModel(self.model)
        self.pairs.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.waveform = QComboBox()
        self.waveform.setObjectName("eaWaveform")
        self.waveform.setEditable(True)
        self.waveform.addItems(lists.EA_WAVEFORMS)
        self.frequency = _spin(200, " Hz")
        self.frequency.setObjectName("eaFrequency")
        self.intensity = _spin(50, " mA")
        self.intensity.setObjectName("eaIntensity")
        self.minutes = QSpinBox()
        self.minutes.setObjectName("eaMinutes")
        self.minutes.setRange(0, 120)
        self.minutes.setSuffix(" min")
        self.minutes.setSpecialValueText("not recorded")
        self.device = QLineEdit()
        self.device.setObjectName("eaDevice")
        self.device.setPlaceholderText("e.g. ITO ES-160")
        self.add_button = QPushButton("Pair the two selected marks")
        self.add_button.setObjectName("eaAdd")
        self.add_button.setToolTip("Select two needled marks (Ctrl+click in the list), then pair")
        self.remove_button = QPushButton("Remove pair")
        self.remove_button.setObjectName("eaRemove")
        form = QFormLayout()
        form.addRow("Waveform", self.waveform)
        form.addRow("Frequency", self.frequency)
        form.addRow("Intensity", self.intensity)
        form.addRow("Duration", self.minutes)
        form.addRow("Device", self.device)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pairs, 1)
        layout.addLayout(form)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(self._on_add_button_clicked)
        self.remove_button.clicked.connect(self._on_remove_button_clicked)

    def show_pairs(
        self,
        visit_id: int,
        rows: Sequence[MarkRow],
        editable: bool,
        pairs: Sequence[EAPair] | None = None,
    ) -> list[tuple[int, int, str]]:
        """Show the visit's pairs (read here unless given); return (mark a, mark b, label)
        for the map."""
        self.visit_id = visit_id
        by_id = {r.id: r for r in rows}
        if pairs is None:
            pairs = self.ops.read(lambda s: visit_record.ea_pairs(s, visit_id))
        lines: list[tuple[int, int, str]] = []
        labels: list[str] = []
        self._pair_ids = []
        for p in pairs:
            a, b = by_id.get(p.mark_a_id), by_id.get(p.mark_b_id)
            if a is None or b is None:
                continue
            settings = visit_record.EASettings(
                p.waveform, p.frequency_hz, p.intensity_ma, p.minutes, p.device
            )
            label = pair_label(a, b, settings)
            labels.append(label)
            lines.append((a.id, b.id, label))
            self._pair_ids.append(p.id)
        self.model.setStringList(labels)
        for widget in (self.add_button, self.remove_button):
            widget.setEnabled(editable)
        return lines

    def settings(self) -> visit_record.EASettings:
        """The stimulation settings entered for the next pair."""
        return visit_record.EASettings(
            self.waveform.currentText().strip(),
            self.frequency.value() or None,
            self.intensity.value() or None,
            self.minutes.value() or None,
            self.device.text().strip(),
        )

    @Slot()
    def _on_add_button_clicked(self) -> None:
        ids = self._selected()
        if len(ids) != 2 or self.visit_id is None:
            QMessageBox.information(
                self,
                "Electroacupuncture pair",
                "Select exactly two needled marks (Ctrl+click them in the list or on the map), "
                "then pair them.",
            )
            return
        self.ops.run(self, visit_record.add_ea_pair, self.visit_id, ids[0], ids[1], self.settings())

    @Slot()
    def _on_remove_button_clicked(self) -> None:
        index = self.pairs.currentIndex()
        if index.isValid() and 0 <= index.row() < len(self._pair_ids):
            self.ops.run(self, visit_record.delete_ea_pair, self._pair_ids[index.row()])


class AdverseEventPanel(QWidget):
    """Adverse events of the visit: what happened, how serious, what was done."""

    def __init__(self, ops: OpRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("adverseEvents")
        self.ops = ops
        self.visit_id: int | None = None
        self._event_ids: list[int] = []
        self.model = QStringListModel(self)
        self.events = QListView()
        self.events.setObjectName("adverseEventList")
        self.events.setModel(self.model)
        self.events.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.kind = QComboBox()
        self.kind.setObjectName("adverseKind")
        for choice in lists.ADVERSE_EVENT_KINDS:
            self.kind.addItem(choice.label, choice.id)
        self.severity = QComboBox()
        self.severity.setObjectName("adverseSeverity")
        for choice in lists.ADVERSE_SEVERITIES:
            self.severity.addItem(choice.label, choice.id)
        self.action = QLineEdit()
        self.action.setObjectName("adverseAction")
        self.action.setPlaceholderText("What was done, e.g. pressure applied for 2 minutes")
        self.note = QLineEdit()
        self.note.setObjectName("adverseNote")
        self.note.setPlaceholderText("Details (required for Other)")
        self.add_button = QPushButton("Record adverse event")
        self.add_button.setObjectName("adverseAdd")
        self.remove_button = QPushButton("Remove")
        form = QFormLayout()
        form.addRow("What", self.kind)
        form.addRow("Severity", self.severity)
        form.addRow("Action", self.action)
        form.addRow("Details", self.note)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.events, 1)
        layout.addLayout(form)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(self._on_add_button_clicked)
        self.remove_button.clicked.connect(self._on_remove_button_clicked)

    def show_events(self, visit_id: int, editable: bool) -> None:
        """Show the visit's adverse events."""
        self.visit_id = visit_id
        events = self.ops.read(lambda s: visit_record.adverse_events(s, visit_id))
        kinds = {c.id: c.label for c in lists.ADVERSE_EVENT_KINDS}
        self._event_ids = [e.id for e in events]
        self.model.setStringList(
            [
                f"{kinds.get(e.kind, e.kind)} ({e.severity})"
                + (f" \u2014 {e.note}" if e.note else "")
                + (f" \u2014 action: {e.action}" if e.action else "")
                for e in events
            ]
        )
        for widget in (self.add_button, self.remove_button):
            widget.setEnabled(editable)

    @Slot()
    def _on_add_button_clicked(self) -> None:
        if self.visit_id is None:
            return
        result = self.ops.run(
            self,
            visit_record.add_adverse_event,
            self.visit_id,
            self.kind.currentData(),
            self.severity.currentData(),
            self.action.text(),
            self.note.text(),
        )
        if result is not None:
            self.action.clear()
            self.note.clear()

    @Slot()
    def _on_remove_button_clicked(self) -> None:
        index = self.events.currentIndex()
        if index.isValid() and 0 <= index.row() < len(self._event_ids):
            self.ops.run(self, visit_record.delete_adverse_event, self._event_ids[index.row()])
