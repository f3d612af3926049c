"""One rule for the mouse wheel, app-wide: it changes a value only in the field being edited.

Scrolling a long form with the wheel passes over spin boxes and drop-down lists; Qt lets each
of them take the wheel and change its value (pain 7 became 4, and was saved). Installed once on
the application, this filter lets a spin box, combo box or slider take the wheel only while it
has keyboard focus; otherwise the wheel scrolls whatever scroll area holds it, as a person
expects.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
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


class WheelGuard(QObject):
    """The event filter (see the module's docstring)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Polish and isinstance(watched, _VALUE_WIDGETS):
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


_guard: WheelGuard | None = None


def install_wheel_guard(app: QApplication) -> None:
    """Install the rule on ``app`` (once)."""
    global _guard
    if _guard is None:
        _guard = WheelGuard(app)
        app.installEventFilter(_guard)


def no_wheel_focus(widget: QWidget) -> None:
    """Value widgets get focus by click or Tab only (Qt's default also focuses on a wheel)."""
    if widget.focusPolicy() == Qt.FocusPolicy.WheelFocus:
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
