"""Small form helpers shared by dialogs: a field with its error message beneath it, a check
box whose long label wraps, a one-line readout for counts that change on every click, and a
window's first size kept within its screen."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QDate, QSize, Qt
from PySide6.QtGui import QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QCalendarWidget,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)

ERROR_STYLE = "color: #b3261e; font-size: 90%;"

# Room a window's frame and title bar take around the size given to ``resize``.
FRAME_ROOM = QSize(16, 48)


def resize_within_screen(window: QWidget, width: int, height: int) -> None:
    """Give ``window`` its first size, ``width`` x ``height``, or as much of it as the screen it
    opens on has room for: a dialog sized for a desktop monitor would otherwise open on a
    1024x768 laptop with its buttons off the edge."""
    anchor = window.parentWidget() or window
    area = anchor.screen().availableGeometry().size() - FRAME_ROOM
    window.resize(min(width, area.width()), min(height, area.height()))


class ErrorLabel(QLabel):
    """A red message that sits right under the field it is about; hidden when empty."""

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setStyleSheet(ERROR_STYLE)
        self.setWordWrap(True)
        self.hide()

    def show_message(self, message: str | None) -> None:
        """Show ``message``, or hide the label when it is None or empty."""
        self.setText(message or "")
        self.setVisible(bool(message))


class FieldForm(QFormLayout):
    """A form layout whose rows each carry a hidden error label under the widget.

    A message shown under a field goes as soon as the field is fixed: when the person edits
    a field that has one, the form's validator (:meth:`set_validator`) is asked again, and
    without one the message is cleared (the next submit checks again).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.errors: dict[str, ErrorLabel] = {}
        self.rows: dict[str, QWidget] = {}
        self.inputs: dict[str, QWidget] = {}
        self._validator: Callable[[], dict[str, str]] | None = None
        self.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

    def add(self, name: str, label: str, widget: QWidget, field: QWidget | None = None) -> QWidget:
        """Add ``widget`` under ``label``; its errors are reported under the key ``name``.

        ``field`` is the input inside ``widget`` when ``widget`` is a composite row; it gets
        the object name ``name`` and the label's keyboard shortcut.
        """
        (field or widget).setObjectName(name)
        holder = QWidget()
        box = QVBoxLayout(holder)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(widget)
        error = ErrorLabel(f"{name}Error")
        box.addWidget(error)
        self.errors[name] = error
        self.rows[name] = holder
        self.inputs[name] = field or widget
        self._watch(name, field or widget)
        caption = QLabel(label)
        caption.setBuddy(field or widget)
        self.addRow(caption, holder)
        return widget

    def set_row_visible(self, name: str, visible: bool) -> None:
        """Show or hide the row of field ``name`` (its label too)."""
        self.setRowVisible(self.rows[name], visible)

    def show_errors(self, errors: dict[str, str]) -> None:
        """Show each message under its field and clear the others; the window grows to fit
        them rather than squash the fields (wrapped messages need more than Qt's minimum)."""
        for name, label in self.errors.items():
            label.show_message(errors.get(name))
        if errors:
            self._grow_window()

    def _grow_window(self) -> None:
        parent = self.parentWidget()
        window = parent.window() if parent is not None else None
        if window is None or window.isMaximized() or window.isFullScreen():
            return
        layout = window.layout()
        if layout is not None:
            layout.activate()
        width = window.width()
        needed = (
            window.heightForWidth(width)
            if window.hasHeightForWidth()
            else window.sizeHint().height()
        )
        if needed > window.height():
            window.resize(width, needed)

    def set_validator(self, validate: Callable[[], dict[str, str]]) -> None:
        """Check the form (``{field: message}``) again as fields with a message are edited."""
        self._validator = validate

    def _watch(self, name: str, widget: QWidget) -> None:
        signal = None
        if isinstance(widget, QLineEdit | QPlainTextEdit):
            signal = widget.textChanged
        elif isinstance(widget, QComboBox):
            signal = widget.currentIndexChanged
        elif isinstance(widget, QAbstractButton):
            signal = widget.toggled
        elif isinstance(widget, QAbstractSpinBox):
            signal = widget.editingFinished
        if signal is not None:
            signal.connect(lambda *_args, n=name: self._on_field_edited(n))

    def _on_field_edited(self, name: str) -> None:
        shown = [n for n, label in self.errors.items() if not label.isHidden()]
        if name not in shown:
            return
        if self._validator is None:
            self.errors[name].show_message(None)
            return
        fresh = self._validator()
        # Only messages already shown are updated (a field is not scolded while typed in).
        for n in shown:
            self.errors[n].show_message(fresh.get(n))


def with_calendar(edit: QLineEdit) -> QWidget:
    """``edit`` (a YYYY-MM-DD date typed by hand) with a button that opens a calendar; a day
    picked there is written into the field. The calendar opens on the typed date if it is one
    (else on 1980 for a birth date: few patients are born this year)."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(4)
    button = QToolButton()
    button.setObjectName(f"{edit.objectName() or 'date'}Calendar")
    button.setText("Calendar\u2026")
    button.setToolTip("Pick the date on a calendar")
    button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    menu = QMenu(button)
    calendar = QCalendarWidget()
    calendar.setObjectName("dateCalendar")
    calendar.setMaximumDate(QDate.currentDate())
    calendar.setGridVisible(True)
    holder = QWidgetAction(menu)
    holder.setDefaultWidget(calendar)
    menu.addAction(holder)
    button.setMenu(menu)

    def show_typed() -> None:
        typed = QDate.fromString(edit.text().strip(), "yyyy-MM-dd")
        calendar.setSelectedDate(typed if typed.isValid() else QDate(1980, 1, 1))

    def picked(day: QDate) -> None:
        edit.setText(day.toString("yyyy-MM-dd"))
        edit.textEdited.emit(edit.text())
        menu.close()
        edit.setFocus()

    menu.aboutToShow.connect(show_typed)
    calendar.clicked.connect(picked)
    calendar.activated.connect(picked)
    layout.addWidget(edit, 1)
    layout.addWidget(button)
    return row


def line(placeholder: str = "", max_length: int = 200) -> QLineEdit:
    """A line edit with a placeholder and a length limit."""
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    edit.setMaxLength(max_length)
    edit.setClearButtonEnabled(False)
    return edit


def text_box(placeholder: str = "", lines: int = 3) -> QPlainTextEdit:
    """A plain-text box about ``lines`` lines tall; Tab moves focus instead of typing a tab."""
    box = QPlainTextEdit()
    box.setPlaceholderText(placeholder)
    box.setTabChangesFocus(True)
    box.setFixedHeight(box.fontMetrics().lineSpacing() * lines + 14)
    return box


class WrappingCheckBox(QWidget):
    """A check box whose label wraps onto more lines instead of widening the form (a QCheckBox
    never wraps its text: one long diagnosis label would push a narrow form off the screen).

    ``box`` is the real check box (give it the object name); clicking the label ticks it too.
    """

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.box = QCheckBox()
        self.box.setAccessibleName(text)
        self.label = _ToggleLabel(text, self.box)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.box, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.label, 1)

    def text(self) -> str:
        """The label."""
        return self.label.text()


class _ToggleLabel(QLabel):
    """The label of a :class:`WrappingCheckBox`: wraps, and a click on it ticks the box."""

    def __init__(self, text: str, box: QCheckBox) -> None:
        super().__init__(text)
        self._box = box
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)  # its height then follows its width (height-for-width)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            event.accept()  # the release that follows ticks the box
        else:
            super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            super().mouseReleaseEvent(event)
            return
        event.accept()
        if self._box.isEnabled() and self.rect().contains(event.position().toPoint()):
            self._box.setFocus(Qt.FocusReason.MouseFocusReason)
            self._box.click()


class Readout(QWidget):
    """One line of text that changes often, such as a count beside the body map.

    A QLabel asks every layout up to the window to recompute itself whenever its text
    changes (several milliseconds in the visit screen, on every click). A readout keeps its
    size and only repaints itself; text that does not fit is elided.
    """

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._text = ""

    def text(self) -> str:
        """The text shown."""
        return self._text

    def setText(self, text: str) -> None:
        """Show ``text`` (a repaint only, no new layout)."""
        if text != self._text:
            self._text = text
            self.setAccessibleName(text)
            self.update()

    def sizeHint(self) -> QSize:
        # The same whatever the text: the width comes from the layout (Ignored policy).
        return QSize(0, self.fontMetrics().height() + 4)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().windowText().color())
        shown = self.fontMetrics().elidedText(self._text, Qt.TextElideMode.ElideRight, self.width())
        painter.drawText(
            self.rect(), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, shown
        )
