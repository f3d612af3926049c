"""Rules every screen follows, installed once on the application (one event filter).

* **The mouse wheel changes a value only in the field being edited.** Scrolling a long form
  passes over spin boxes and drop-down lists; Qt lets each of them take the wheel and change
  its value (pain 7 became 4, and was saved). A spin box, combo box or slider takes the wheel
  only while it has keyboard focus; otherwise the wheel scrolls the form holding it.
* **What a person typed is shown as text, never as markup.** A QLabel guesses by default
  whether its text is HTML (Qt's "AutoText"), so a preferred name written ``<font size=40>``
  drew a giant glyph. Every label is plain text unless its code chose rich text explicitly
  (:func:`rich_label`), and then it escapes what it shows with :func:`esc`. Tooltips that carry
  typed text go through :func:`plain_tooltip`.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLabel,
    QScrollBar,
    QWidget,
)

_VALUE_WIDGETS = (QAbstractSpinBox, QComboBox, QAbstractSlider)


def _value_widget(obj: QObject) -> QWidget | None:
    """The spin box, combo box or slider ``obj`` belongs to (itself, or its line edit)."""
    widget: QObject | None = obj
    for _ in range(3):
        if isinstance(widget, QScrollBar):
            return None
        if isinstance(widget, _VALUE_WIDGETS):
            return widget
        widget = widget.parent() if widget is not None else None
    return None


class AppRules(QObject):
    """The event filter (see the module's docstring)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Polish:
            if isinstance(watched, QLabel):
                plain_unless_rich(watched)
            elif isinstance(watched, _VALUE_WIDGETS):
                # Qt gives these focus on a wheel (WheelFocus), which would defeat the rule.
                no_wheel_focus(watched)
            return False
        if event.type() != QEvent.Type.Wheel:
            return False
        widget = _value_widget(watched)
        if widget is None or widget.hasFocus():
            return False
        area = widget.parentWidget()
        while area is not None and not isinstance(area, QAbstractScrollArea):
            area = area.parentWidget()
        if area is not None:
            QApplication.sendEvent(area.verticalScrollBar(), event)
        return True  # the value is not changed by a wheel it did not ask for


_rules: AppRules | None = None


def install_app_rules(app: QApplication) -> None:
    """Install the rules on ``app`` (once)."""
    global _rules
    if _rules is None:
        _rules = AppRules(app)
        app.installEventFilter(_rules)


def plain_unless_rich(label: QLabel) -> None:
    """Show ``label``'s text as plain text unless rich text was chosen for it explicitly."""
    if label.textFormat() == Qt.TextFormat.AutoText:
        label.setTextFormat(Qt.TextFormat.PlainText)


def rich_label(text: str = "") -> QLabel:
    """A label that shows markup on purpose; put typed text in it only through :func:`esc`."""
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setText(text)
    return label


def esc(text: object) -> str:
    """``text`` made safe to place inside markup (shown exactly as typed)."""
    return html.escape(str(text), quote=False)


def plain_tooltip(text: str) -> str:
    """A tooltip showing ``text`` exactly (Qt would otherwise render markup it contains)."""
    return f"<p style='white-space:pre-wrap'>{esc(text)}</p>" if text else ""


def no_wheel_focus(widget: QWidget) -> None:
    """Value widgets get focus by click or Tab only (Qt's default also focuses on a wheel)."""
    if widget.focusPolicy() == Qt.FocusPolicy.WheelFocus:
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
