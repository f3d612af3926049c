"""Electroacupuncture pairs and adverse events of the open visit."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import (
    QModelIndex,
    QRegularExpression,
    QStringListModel,
    Qt,
    QTimer,
    Slot,
)
from PySide6.QtGui import QRegularExpressionValidator, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from charting.bodymap import BodyMap, load_bodymap
from charting.models import EAPair
from charting.services import clinical_lists as lists
from charting.services import visit_record
from charting.services.errors import ValidationError
from charting.services.marks import MarkRow
from charting.ui.forms import ErrorLabel
from charting.ui.mark_commands import AddEAPairCommand, DeleteEAPairCommand, EditEAPairCommand
from charting.ui.ops import OpRunner


def _spin(high: float, suffix: str, decimals: int = 1) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(0, high)
    spin.setDecimals(decimals)
    spin.setSuffix(suffix)
    spin.setSpecialValueText("not recorded")
    return spin


def pair_label(a: MarkRow, b: MarkRow, settings: visit_record.EASettings) -> str:
    """ "BL23 L \u2194 BL25 L \u00b7 Dense-disperse \u00b7 2/100 Hz \u00b7 1.5 mA \u00b7 20 min" """
    parts = [f"{a.label} \u2194 {b.label}"]
    if settings.waveform:
        parts.append(settings.waveform)
    if settings.frequency_text:
        parts.append(f"{settings.frequency_text} Hz")
    if settings.intensity_ma:
        parts.append(f"{settings.intensity_ma:g} mA")
    if settings.minutes:
        parts.append(f"{settings.minutes} min")
    return "  \u00b7  ".join(parts)


@dataclass(frozen=True)
class _ShownPair:
    id: int
    version: int
    settings: visit_record.EASettings
    label: str


#: The waveform two alternating frequencies ("2/100 Hz") are given with.
DENSE_DISPERSE = "Dense-disperse"


class EAPanel(QWidget):
    """The visit's electroacupuncture pairs, each with its own stimulation (STRICTA 2e).

    Select two needles and pair them; select a pair to see and change its waveform,
    frequency (one, or two for dense-disperse: "2/100"), intensity, minutes and device.
    Each change is stored as it is made (like every other field) through the visit's undo
    stack, and the panel always shows what the database holds.
    """

    def __init__(
        self,
        ops: OpRunner,
        selected: Callable[[], list[int]],
        undo_stack: QUndoStack | None = None,
        bodymap: BodyMap | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("eaPanel")
        self.ops = ops
        self._selected = selected
        self.undo_stack = undo_stack if undo_stack is not None else QUndoStack(self)
        self._bodymap = bodymap if bodymap is not None else load_bodymap()
        self.visit_id: int | None = None
        self._editable = False
        self._loading = False
        self._shown: list[_ShownPair] = []
        #: The last visit's last pair's settings, which a first pair today starts with.
        self.previous_settings: visit_record.EASettings | None = None
        self._pair_ids: list[int] = []
        self.model = QStringListModel(self)
        self.pairs = QListView()
        self.pairs.setObjectName("eaPairs")
        self.pairs.setModel(self.model)
        self.pairs.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.pairs.setWordWrap(True)
        self.title = QLabel("Select a pair to see and change its settings.")
        self.title.setObjectName("eaPairTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)
        self.waveform = QComboBox()
        self.waveform.setObjectName("eaWaveform")
        self.waveform.setEditable(True)
        self.waveform.addItem("")
        self.waveform.addItems(lists.EA_WAVEFORMS)
        self.frequency = QLineEdit()
        self.frequency.setObjectName("eaFrequency")
        self.frequency.setPlaceholderText("Hz, e.g. 2, or 2/100 for dense-disperse")
        self.frequency.setValidator(
            QRegularExpressionValidator(QRegularExpression(r"[0-9.,/ hHzZ]{0,20}"), self)
        )
        self.intensity = _spin(50, " mA")
        self.intensity.setObjectName("eaIntensity")
        self.minutes = QSpinBox()
        self.minutes.setObjectName("eaMinutes")
        self.minutes.setRange(0, 120)
        self.minutes.setSuffix(" min")
        self.minutes.setSpecialValueText("not recorded")
        self.device = QLineEdit()
        self.device.setObjectName("eaDevice")
        self.device.setMaxLength(120)
        self.device.setPlaceholderText("e.g. ITO ES-160")
        self.error = ErrorLabel("eaError")
        self.add_button = QPushButton("Pair the two selected needles")
        self.add_button.setObjectName("eaAdd")
        self.add_button.setToolTip(
            "Select two needled marks (Ctrl+click on the map or in the list), then pair them; "
            "the new pair starts with the last pair's settings"
        )
        self.remove_button = QPushButton("Remove pair")
        self.remove_button.setObjectName("eaRemove")
        self._fields = (self.waveform, self.frequency, self.intensity, self.minutes, self.device)
        form = QFormLayout()
        form.addRow(self.title)
        form.addRow("&Waveform", self.waveform)
        form.addRow("&Frequency", self.frequency)
        form.addRow("&Intensity", self.intensity)
        form.addRow("D&uration", self.minutes)
        form.addRow("De&vice", self.device)
        form.addRow(self.error)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pairs, 1)
        layout.addLayout(buttons)
        layout.addLayout(form)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(400)
        self.add_button.clicked.connect(self._on_add_button_clicked)
        self.remove_button.clicked.connect(self._on_remove_button_clicked)
        self.pairs.selectionModel().currentChanged.connect(self._on_pairs_current_changed)
        self.waveform.activated.connect(self._on_field_edited)
        waveform_text = self.waveform.lineEdit()
        assert waveform_text is not None  # the combo box is editable
        waveform_text.editingFinished.connect(self._on_field_edited)
        self.frequency.editingFinished.connect(self._on_field_edited)
        self.frequency.textEdited.connect(self._timer.start)
        self.device.editingFinished.connect(self._on_field_edited)
        self.device.textEdited.connect(self._timer.start)
        self.intensity.editingFinished.connect(self._on_field_edited)
        self.minutes.editingFinished.connect(self._on_field_edited)
        self._timer.timeout.connect(self._on_field_edited)
        self._show_settings(None)

    # -- showing -------------------------------------------------------------------------
    def show_pairs(
        self,
        visit_id: int,
        rows: Sequence[MarkRow],
        editable: bool,
        pairs: Sequence[EAPair] | None = None,
    ) -> list[tuple[int, int, str]]:
        """Show the visit's pairs (read here unless given); return (mark a, mark b, label)
        for the map. The selected pair stays selected and its settings are shown afresh."""
        if visit_id != self.visit_id:
            self._timer.stop()
        current = self.current_pair()
        self.visit_id = visit_id
        self._editable = editable
        by_id = {r.id: r for r in rows}
        if pairs is None:
            pairs = self.ops.read(lambda s: visit_record.ea_pairs(s, visit_id))
        lines: list[tuple[int, int, str]] = []
        shown: list[_ShownPair] = []
        for p in pairs:
            a, b = by_id.get(p.mark_a_id), by_id.get(p.mark_b_id)
            if a is None or b is None:
                continue
            settings = visit_record.settings_of(p)
            label = pair_label(a, b, settings)
            shown.append(_ShownPair(p.id, p.version, settings, f"{a.label} \u2194 {b.label}"))
            lines.append((a.id, b.id, label))
        self._shown = shown
        self._pair_ids = [p.id for p in shown]
        keep = next((i for i, p in enumerate(shown) if current and p.id == current.id), None)
        # Redrawing the list moves its current row; that is not the person choosing a pair
        # (which would store the fields first), so the list's signals wait.
        self._loading = True
        try:
            self.model.setStringList([line[2] for line in lines])
            if keep is not None:
                self.pairs.setCurrentIndex(self.model.index(keep))
        finally:
            self._loading = False
        self.add_button.setEnabled(editable)
        self._show_settings(shown[keep] if keep is not None else None)
        return lines

    def current_pair(self) -> _ShownPair | None:
        """The pair whose settings are shown (None when no pair is selected)."""
        row = self.pairs.currentIndex().row()
        return self._shown[row] if 0 <= row < len(self._shown) else None

    def select_pair(self, row: int) -> None:
        """Select the pair in ``row`` of the list and show its settings."""
        self.pairs.setCurrentIndex(self.model.index(row))

    def _show_settings(self, pair: _ShownPair | None) -> None:
        self.error.show_message(None)
        for widget in self._fields:
            widget.blockSignals(True)
            widget.setEnabled(pair is not None and self._editable)
        try:
            settings = pair.settings if pair is not None else visit_record.EASettings()
            self.title.setText(
                f"Settings of {pair.label}" if pair else "Select a pair to see its settings."
            )
            self.waveform.setCurrentText(settings.waveform)
            self.frequency.setText(settings.frequency_text)
            self.intensity.setValue(settings.intensity_ma or 0)
            self.minutes.setValue(settings.minutes or 0)
            self.device.setText(settings.device)
        finally:
            for widget in self._fields:
                widget.blockSignals(False)
        self.remove_button.setEnabled(pair is not None and self._editable)

    def typed_settings(self) -> visit_record.EASettings:
        """The settings as typed in the fields.

        Raises:
            ValidationError: the frequency is not one number or two separated by "/".
        """
        first, second = visit_record.parse_frequency(self.frequency.text())
        waveform = self.waveform.currentText().strip()
        if second is not None and not waveform:
            # Two frequencies typed ("2/100") alternate: that is the dense-disperse waveform,
            # chosen for the person (and shown) rather than refused.
            waveform = DENSE_DISPERSE
            self.waveform.setCurrentText(waveform)
        return visit_record.EASettings(
            waveform,
            first,
            self.intensity.value() or None,
            self.minutes.value() or None,
            self.device.text().strip(),
            second,
        )

    # -- editing -------------------------------------------------------------------------
    @Slot(QModelIndex, QModelIndex)
    def _on_pairs_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._loading:
            return
        self._on_field_edited()  # a pending edit of the previous pair is stored first
        row = current.row()
        self._show_settings(self._shown[row] if 0 <= row < len(self._shown) else None)

    @Slot()
    def _on_field_edited(self) -> None:
        self._timer.stop()
        pair = self.current_pair()
        if pair is None or not self._editable or self._loading:
            return
        try:
            new = self.typed_settings()
        except ValidationError as exc:
            self.error.show_message(next(iter(exc.errors.values())))
            return
        if new == pair.settings:
            self.error.show_message(None)
            return
        problems = visit_record.check_ea_settings(new)
        if problems:
            # Said beside the fields, and nothing stored: the pair keeps its stored values.
            self.error.show_message(" ".join(problems.values()))
            return
        self.error.show_message(None)
        command = EditEAPairCommand(
            self.ops, self._bodymap, pair.id, pair.settings, new, pair.version
        )
        command.parent_widget = self
        self.undo_stack.push(command)

    def _last_settings(self) -> visit_record.EASettings:
        """A new pair's settings: the last pair's today, else the last visit's (carried
        forward), else none."""
        if self._shown:
            return self._shown[-1].settings
        return self.previous_settings or visit_record.EASettings()

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
        command = AddEAPairCommand(
            self.ops, self._bodymap, self.visit_id, (ids[0], ids[1]), self._last_settings()
        )
        command.parent_widget = self
        self.undo_stack.push(command)
        if command.pair_id in self._pair_ids:
            self.select_pair(self._pair_ids.index(command.pair_id))
            self.waveform.setFocus()

    @Slot()
    def _on_remove_button_clicked(self) -> None:
        pair = self.current_pair()
        if pair is not None:
            command = DeleteEAPairCommand(self.ops, self._bodymap, pair.id)
            command.parent_widget = self
            self.undo_stack.push(command)


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
