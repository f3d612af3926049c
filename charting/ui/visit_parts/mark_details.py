"""Mark details: technique, depth, response and note of one mark, or of many marks at once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QResizeEvent, QUndoStack
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QWidget,
)

from charting.bodymap import BodyMap
from charting.models import MarkKind
from charting.services import clinical_lists as lists
from charting.services import marks as mark_service
from charting.services.marks import RESPONSES, TECHNIQUES, MarkRow, kind_label
from charting.ui.app_rules import plain_tooltip
from charting.ui.mark_commands import EditDetailsCommand
from charting.ui.ops import OpRunner

#: What a box shows when the selected marks differ in it (choosing a value sets it for all).
MIXED = "(mixed)"


def _optional_spin(name: str, high: int, suffix: str) -> QSpinBox:
    """A whole-number box where 0 means "not recorded"."""
    spin = QSpinBox()
    spin.setObjectName(name)
    spin.setRange(0, high)
    spin.setSuffix(suffix)
    spin.setSpecialValueText("not recorded")
    return spin


class OneLine(QLabel):
    """Plain text on one line, shortened with "…" to the width it is given (the whole text
    is then its tooltip): it never widens its column nor grows taller."""

    def __init__(self, name: str, style: str = "", bold: bool = False) -> None:
        super().__init__()
        self.setObjectName(name)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        if style:
            self.setStyleSheet(style)
        if bold:
            font = self.font()
            font.setBold(True)
            self.setFont(font)
        self._full = ""

    @property
    def full_text(self) -> str:
        """The whole text (what :meth:`text` shows may be shortened)."""
        return self._full

    def set_full_text(self, text: str) -> None:
        """Show ``text``, shortened to fit."""
        self._full = text
        self._fit()

    def _fit(self) -> None:
        width = max(self.contentsRect().width(), 1)
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, width)
        self.setText(shown)
        self.setToolTip(plain_tooltip(self._full) if shown != self._full else "")

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()


class MarkDetailsPanel(QGroupBox):
    """The details of the selected marks, edited in place as undoable steps.

    With one mark selected every detail shows and can change. With several, technique, depth
    and response show the common value (or "(mixed)") and a value chosen is set on every
    selected mark as one undoable step (cupping details likewise when all are cupping sites).
    """

    def __init__(
        self,
        ops: OpRunner,
        bodymap: BodyMap,
        undo_stack: QUndoStack,
        rows_of: Callable[[Sequence[int]], list[MarkRow]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Mark details", parent)
        self.setObjectName("markDetails")
        self.ops = ops
        self.bodymap = bodymap
        self.undo_stack = undo_stack
        self._rows_of = rows_of
        self._rows: list[MarkRow] = []
        self._editable = True

        self.technique = QComboBox()
        self.technique.setObjectName("markTechnique")
        for key, label in TECHNIQUES.items():
            self.technique.addItem(label, key)
        self.depth_box = QDoubleSpinBox()
        self.depth_box.setObjectName("markDepth")
        self.depth_box.setRange(0, mark_service.MAX_DEPTH_MM)
        self.depth_box.setDecimals(0)
        self.depth_box.setSuffix(" mm")
        self.depth_box.setSpecialValueText("not recorded")
        self.response = QComboBox()
        self.response.setObjectName("markResponse")
        for key, label in RESPONSES.items():
            self.response.addItem(label, key)
        # The skin at the site as found before treatment (the safety rules read it).
        self.skin = QComboBox()
        self.skin.setObjectName("skinAtSite")
        self.skin.addItem("Not noted", "")
        for choice in lists.SKIN_STATES:
            self.skin.addItem(choice.label, choice.id)
        self.note = QLineEdit()
        self.note.setObjectName("markNote")
        self.note.setMaxLength(2000)
        self.note.setPlaceholderText("e.g. needled obliquely toward the spine")
        # One line each, so the fields below always show on a laptop screen (at 1024 x 768
        # the column is about 300 px tall): the point's names, then its cautions, each
        # shortened to fit with the whole text as its tooltip.
        self.detail_title = OneLine("markDetailTitle", bold=True)
        self.detail_info = OneLine("markDetailInfo", "color: #555;")
        self.detail_caution = OneLine("markDetailCaution", "color: #8c1d18;")
        for combo in (self.technique, self.response, self.skin):
            # A long choice never makes the side column (and the window) wider: the box
            # shortens its text and the drop-down shows it whole.
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(10)
        form = self._form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setContentsMargins(6, 4, 6, 4)
        form.setVerticalSpacing(2)
        form.addRow(self.detail_title)
        form.addRow(self.detail_info)
        form.addRow(self.detail_caution)
        form.addRow("&Technique", self.technique)
        form.addRow("&Depth", self.depth_box)
        form.addRow("&Response", self.response)
        form.addRow("S&kin at site", self.skin)
        form.addRow("&Note", self.note)
        self.cup_type = QComboBox()
        self.cup_type.setObjectName("cupType")
        self.cup_type.addItem("Not recorded", "")
        for choice in lists.CUP_TYPES:
            self.cup_type.addItem(choice.label, choice.id)
        self.cup_count = _optional_spin("cupCount", 30, " cups")
        self.cup_minutes = _optional_spin("cupMinutes", 60, " min")
        self.skin_response = QLineEdit()
        self.skin_response.setObjectName("skinResponse")
        self.skin_response.setPlaceholderText("e.g. dark red marks, no blistering")
        self._cup_rows: list[QWidget] = []
        for label, widget in (
            ("Cupping", self.cup_type),
            ("Cups", self.cup_count),
            ("Time", self.cup_minutes),
            ("Skin", self.skin_response),
        ):
            form.addRow(label, widget)
            self._cup_rows.append(widget)
        self._widgets: tuple[QWidget, ...] = (
            self.technique,
            self.depth_box,
            self.response,
            self.skin,
            self.note,
            self.cup_type,
            self.cup_count,
            self.cup_minutes,
            self.skin_response,
        )
        self._note_timer = QTimer(self)
        self._note_timer.setSingleShot(True)
        self._note_timer.setInterval(400)
        self.technique.activated.connect(lambda _i: self._edited("technique"))
        self.response.activated.connect(lambda _i: self._edited("response"))
        self.skin.activated.connect(lambda _i: self._edited("skin"))
        self.depth_box.editingFinished.connect(lambda: self._edited("depth_mm"))
        self.note.textEdited.connect(self._note_timer.start)
        self.note.editingFinished.connect(lambda: self._edited("note"))
        self._note_timer.timeout.connect(lambda: self._edited("note"))
        self.cup_type.activated.connect(lambda _i: self._edited("cup_type"))
        self.cup_count.editingFinished.connect(lambda: self._edited("cup_count"))
        self.cup_minutes.editingFinished.connect(lambda: self._edited("cup_minutes"))
        self.skin_response.editingFinished.connect(lambda: self._edited("skin_response"))
        self.show_marks([], True)

    # -- showing -----------------------------------------------------------------------------
    @property
    def marks(self) -> list[MarkRow]:
        """The marks whose details are shown."""
        return list(self._rows)

    def show_marks(self, rows: Sequence[MarkRow], editable: bool) -> None:
        """Show the details of ``rows`` (none, one or many selected marks)."""
        self._rows = list(rows)
        self._editable = editable
        for widget in self._widgets:
            widget.setEnabled(bool(rows) and editable)
            widget.blockSignals(True)
        try:
            self._show(self._rows)
        finally:
            for widget in self._widgets:
                widget.blockSignals(False)

    def _show(self, rows: list[MarkRow]) -> None:
        cupping = MarkKind.CUPPING.value
        if not rows:
            self.detail_title.set_full_text("Select a mark to edit its details.")
            self.detail_info.set_full_text("")
            self._set_caution("")
            self._choose(self.technique, "")
            self.depth_box.setValue(0)
            self._choose(self.response, "")
            self._choose(self.skin, "")
            self.note.clear()
            self._show_cup_rows(False)
            return
        all_cups = all(r.kind == cupping for r in rows)
        self._show_cup_rows(all_cups)
        if len(rows) == 1:
            row = rows[0]
            self.detail_title.set_full_text(f"{row.label} \u2014 {kind_label(row)}")
            names, cautions = self._describe(row)
            self.detail_info.set_full_text(names)
            self._set_caution(cautions)
            self.note.setEnabled(self._editable)
            if self.note.text() != row.spec.note:
                self.note.setText(row.spec.note)
        else:
            names = ", ".join(r.label for r in rows[:6]) + ("\u2026" if len(rows) > 6 else "")
            self.detail_title.set_full_text(f"{len(rows)} marks: a value chosen is set on all")
            self.detail_info.set_full_text(names)
            self._set_caution("")
            self.note.clear()
            self.note.setEnabled(False)  # notes are about one mark
        self._choose(self.technique, self._common(rows, "technique"))
        self._choose(self.response, self._common(rows, "response"))
        self._choose(self.skin, self._common(rows, "skin"))
        depth = self._common(rows, "depth_mm")
        self.depth_box.setSpecialValueText(
            MIXED if self._mixed(rows, "depth_mm") else "not recorded"
        )
        self.depth_box.setValue(0 if depth is None else float(depth))  # type: ignore[arg-type]
        if all_cups:
            self._choose(self.cup_type, self._common(rows, "cup_type"))
            count = None if self._mixed(rows, "cup_count") else rows[0].spec.cup_count
            self.cup_count.setValue(count or 0)
            self.cup_minutes.setValue(
                0 if self._mixed(rows, "cup_minutes") else (rows[0].spec.cup_minutes or 0)
            )
            skin = "" if self._mixed(rows, "skin_response") else rows[0].spec.skin_response
            if self.skin_response.text() != skin:
                self.skin_response.setText(skin)

    @staticmethod
    def _mixed(rows: Sequence[MarkRow], attr: str) -> bool:
        return len({getattr(r.spec, attr) for r in rows}) > 1

    def _common(self, rows: Sequence[MarkRow], attr: str) -> object:
        """The value the marks share, or None when they differ."""
        return None if self._mixed(rows, attr) else getattr(rows[0].spec, attr)

    @staticmethod
    def _choose(combo: QComboBox, value: object) -> None:
        """Select ``value`` in a combo; None (marks differ) shows "(mixed)"."""
        mixed = combo.findText(MIXED)
        if value is None:
            if mixed < 0:
                combo.addItem(MIXED, None)
                mixed = combo.count() - 1
            combo.setCurrentIndex(mixed)
            return
        if mixed >= 0:
            combo.removeItem(mixed)
        combo.setCurrentIndex(max(0, combo.findData(value)))

    def _show_cup_rows(self, visible: bool) -> None:
        for widget in self._cup_rows:
            self._form.setRowVisible(widget, visible)

    def _set_caution(self, text: str) -> None:
        self.detail_caution.set_full_text(text)
        self._form.setRowVisible(self.detail_caution, bool(text))

    def _describe(self, row: MarkRow) -> tuple[str, str]:
        """The mark's names (or a trigger point's referral) and its point's cautions."""
        if row.spec.point_code:
            point = self.bodymap.point(row.spec.point_code)
            names = f"{point.pinyin} {point.hanzi} \u00b7 {point.english}"
            cautions = ""
            if point.flags:
                cautions = f"\u26a0 {', '.join(sorted(point.flags))}"
                cautions += f" \u2014 {point.cautions}" if point.cautions else ""
            return names, cautions
        if row.spec.muscle_id:
            return self.bodymap.muscle(row.spec.muscle_id).referral, ""
        return "", ""

    def focus(self) -> None:
        """Put the cursor in the technique box."""
        self.technique.setFocus()

    # -- editing ------------------------------------------------------------------------------
    def _value(self, attr: str) -> object:
        if attr == "technique":
            return self.technique.currentData()
        if attr == "response":
            return self.response.currentData()
        if attr == "skin":
            return self.skin.currentData()
        if attr == "depth_mm":
            return self.depth_box.value() or None
        if attr == "note":
            return self.note.text().strip()
        if attr == "cup_type":
            return self.cup_type.currentData()
        if attr == "cup_count":
            return self.cup_count.value() or None
        if attr == "cup_minutes":
            return self.cup_minutes.value() or None
        return self.skin_response.text().strip()

    @Slot()
    def _edited(self, attr: str) -> None:
        """Store what changed in one box, on every shown mark, as one undoable step."""
        self._note_timer.stop()
        rows = self._rows_of([r.id for r in self._rows])
        if not rows or not self._editable:
            return
        value = self._value(attr)
        if value is None and attr in ("technique", "response", "skin", "cup_type"):
            return  # "(mixed)" chosen again: nothing to set
        if attr == "depth_mm" and len(rows) > 1 and value is None:
            return  # left at "(mixed)"
        commands = []
        for row in rows:
            old = mark_service.details_of(row.spec)
            new = replace(old, **{attr: value})  # type: ignore[arg-type]
            if new != old:
                command = EditDetailsCommand(self.ops, self.bodymap, row.id, old, new, row.version)
                command.parent_widget = self
                commands.append(command)
        if not commands:
            return
        if len(commands) == 1:
            self.undo_stack.push(commands[0])
            return
        self.undo_stack.beginMacro(f"Set {_NAMES[attr]} on {len(commands)} marks")
        try:
            for command in commands:
                self.undo_stack.push(command)
        finally:
            self.undo_stack.endMacro()


_NAMES = {
    "technique": "technique",
    "response": "response",
    "skin": "skin at the site",
    "depth_mm": "depth",
    "note": "note",
    "cup_type": "cupping method",
    "cup_count": "cups",
    "cup_minutes": "cupping time",
    "skin_response": "skin response",
}
