"""The visit screen walked through as a practitioner would, counting every user action.

Two sessions of issue 17, driven with real clicks, key chords and typing through ``qtbot``
on the main window (nothing is called behind the screen's back):

- **first visit**: BL23, BL25 and BL40 both sides, GB30 right, a quadratus lumborum trigger
  point, one EA pair, cupping on the low back, pain 7 before and 3 after, needle type and
  lot, 20 minutes' retention, sign, print the handout;
- **follow-up**: Repeat last visit, drop one point and add another, pain before and after,
  sign, print the handout.

Each helper of :class:`Walk` is one user action (a click, a key chord, a wheel step), and
typed text is counted separately in characters. The walkthroughs return the counts; the
test in ``tests/ui/test_walkthrough.py`` asserts the targets and what was stored, and
``python -m benchmarks walkthrough`` writes them to ``benchmarks/results/walkthrough.json``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication, QPushButton, QWidget

from charting.bodymap import BodyMap
from charting.bodymap.clicks import placement_at

#: Targets of issue 17 (actions: clicks + key chords + wheel steps).
FIRST_VISIT_TARGET = 60
FOLLOW_UP_TARGET = 15


@dataclass
class Counts:
    """User actions of one walkthrough."""

    clicks: int = 0
    chords: int = 0
    wheel_steps: int = 0
    characters: int = 0
    steps: list[str] = field(default_factory=list)

    @property
    def actions(self) -> int:
        """Clicks, key chords and wheel steps (typed characters are counted apart)."""
        return self.clicks + self.chords + self.wheel_steps

    def as_dict(self) -> dict[str, Any]:
        """The counts with their total, for the results file."""
        return {**asdict(self), "actions": self.actions}


class Walk:
    """Drives the screen with one user action per call and counts them.

    Args:
        qtbot: pytest-qt's bot.
    """

    def __init__(self, qtbot: Any) -> None:
        self.qtbot = qtbot
        self.counts = Counts()

    def _settle(self, widget: QWidget) -> None:
        """Give the widget's window the focus back when a popup or dialog that closed left
        none active (a window manager does this by itself; the offscreen platform of the
        tests does not). Not a user action."""
        active = QApplication.activeWindow()
        window = widget.window()
        if active is window or QApplication.activePopupWidget() is not None:
            return
        if (active is None or not active.isVisible()) and window.isVisible():
            window.activateWindow()
            self.qtbot.waitActive(window)

    def _note(self, what: str) -> None:
        self.counts.steps.append(what)

    def click(
        self,
        widget: QWidget,
        pos: QPoint | None = None,
        modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
        what: str = "",
    ) -> None:
        """One mouse click (with Ctrl or Shift held if ``modifier``)."""
        self._settle(widget)
        self.counts.clicks += 1
        self._note(f"click {what or widget.objectName() or type(widget).__name__}")
        if pos is None:
            self.qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, modifier)
        else:
            self.qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, modifier, pos)

    def chord(
        self,
        widget: QWidget,
        key: Qt.Key,
        modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
        what: str = "",
    ) -> None:
        """One key chord (a key, with its modifiers) sent to the widget with focus."""
        if not widget.isWindow():
            self._settle(widget)
        self.counts.chords += 1
        self._note(f"key {what or key.name}")
        # Keys go where a keyboard's would: to an open popup (a completer's list) first.
        popup = QApplication.activePopupWidget()
        self.qtbot.keyClick(popup if popup is not None else widget, key, modifier)

    def type(self, widget: QWidget, text: str) -> None:
        """Typed text: counted in characters, not actions."""
        self.counts.characters += len(text)
        self._note(f"type {text!r}")
        for char in text:
            popup = QApplication.activePopupWidget()
            self.qtbot.keyClicks(popup if popup is not None else widget, char)

    def focused(self) -> QWidget:
        """The widget with keyboard focus (where a chord goes)."""
        widget = QApplication.focusWidget()
        assert widget is not None, "nothing has the keyboard focus"
        return widget

    def when_modal(self, handler: Callable[[QWidget], None], timeout_ms: int = 5000) -> None:
        """Act on the next modal dialog or popup (they run their own event loop)."""
        waited = [0]

        def poll() -> None:
            dialog = QApplication.activePopupWidget() or QApplication.activeModalWidget()
            if dialog is None:
                waited[0] += 20
                if waited[0] < timeout_ms:
                    QTimer.singleShot(20, poll)
                return
            handler(dialog)

        QTimer.singleShot(0, poll)

    def press_default(self, dialog: QWidget) -> None:
        """Enter in a dialog: its default button."""
        self.chord(dialog, Qt.Key.Key_Return, what=f"Enter in {dialog.windowTitle()!r}")

    def back_to(self, window: QWidget) -> None:
        """Give the window the focus back after a dialog closed (a window manager does this
        by itself; the offscreen platform of the tests does not). Not a user action."""
        window.activateWindow()
        self.qtbot.waitActive(window)


def spot(
    bodymap: BodyMap,
    view: str,
    kind: str,
    near: tuple[float, float],
    clear_of: tuple[tuple[float, float], ...] = (),
    room: float = 0.0,
    **want: str,
) -> Any:
    """Where a practitioner aims to place ``kind`` near ``near`` (model units): the nearest
    spot on a small grid where the map's own click rule places that (and ``want``), at least
    ``room`` from each of ``clear_of`` (marks already there)."""
    mode = {"cupping": "cupping", "ashi": "ashi"}.get(kind, "point")
    best = None
    x0, y0 = near
    for dx in range(-60, 61, 4):
        for dy in range(-60, 61, 4):
            placed = placement_at(bodymap, view, x0 + dx, y0 + dy, mode)
            if placed is None or placed.kind != kind:
                continue
            if any(getattr(placed, k) != v for k, v in want.items()):
                continue
            x, y = x0 + dx, y0 + dy
            if any((x - cx) ** 2 + (y - cy) ** 2 < room * room for cx, cy in clear_of):
                continue
            d = dx * dx + dy * dy
            if best is None or d < best[0]:
                best = (d, (x0 + dx, y0 + dy))
    assert best is not None, f"no spot for {kind} {want} near {near}"
    return best[1]


def _button(page: QWidget, name: str) -> QPushButton:
    button = page.findChild(QPushButton, name)
    assert button is not None, name
    return button


def start_visit(walk: Walk, window: Any) -> Any:
    """New visit on the patient's chart, Enter in the dialog: the visit page opens."""
    walk.when_modal(walk.press_default)
    walk.click(window.patient_panel.new_visit_button, what="New visit")
    walk.back_to(window)
    walk.qtbot.waitUntil(
        lambda: (
            window.visit_chart is not None
            and window.visit_chart.isVisible()
            and QApplication.focusWidget() is not None
        )
    )
    return window.visit_chart


def sign_and_print(walk: Walk, page: Any) -> None:
    """Sign (confirm with Enter), then Ctrl+P and Print in the print dialog."""
    walk.when_modal(walk.press_default)
    walk.click(page.sign_button, what="Sign visit")
    walk.back_to(page.window())
    walk.qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
    walk.when_modal(walk.press_default)
    walk.chord(walk.focused(), Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier, "Ctrl+P")


def pain(walk: Walk, page: Any, before: int, after: int) -> None:
    """Pain now (in consultation: Alt+1 unless shown; click the field), pain after (Alt+5)."""
    form = page.form
    if form.phase != "consultation":
        walk.chord(walk.focused(), Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier, "Alt+1")
    walk.click(form.bindings["pain_now"].widget, what="Pain now")
    walk.qtbot.wait(1)  # the field selects its text once the click is done
    walk.type(walk.focused(), str(before))
    walk.chord(walk.focused(), Qt.Key.Key_5, Qt.KeyboardModifier.AltModifier, "Alt+5")
    pa = form.bindings["pain_after"].widget
    if walk.focused() is not pa:  # (offscreen, a closed completer can keep the activation)
        walk.click(pa, what="Pain after")
    walk.qtbot.wait(1)
    walk.type(walk.focused(), str(after))


def needles_out(walk: Walk, page: Any) -> None:
    """Alt+4 (treatment) and All out."""
    walk.chord(walk.focused(), Qt.Key.Key_4, Qt.KeyboardModifier.AltModifier, "Alt+4")
    walk.click(_button(page.form, "allNeedlesOut"), what="All out")


def map_click(
    walk: Walk, page: Any, xy: tuple[float, float], ctrl: bool = False, what: str = ""
) -> None:
    """A click on the body map at model position ``xy``."""
    modifier = Qt.KeyboardModifier.ControlModifier if ctrl else Qt.KeyboardModifier.NoModifier
    walk.click(page.map.viewport(), page.map.viewport_point(*xy), modifier, what)


def first_visit(qtbot: Any, window: Any, bodymap: BodyMap) -> Counts:
    """The first visit of issue 17, from the patient's chart to the printed handout."""
    walk = Walk(qtbot)
    page = start_visit(walk, window)
    view = page.map.view_id
    pain_walk_before, pain_walk_after = 7, 3
    # Points typed: two groups, each with its side.
    walk.chord(walk.focused(), Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier, "Ctrl+K")
    walk.type(page.point_entry, "bl23 bl25 bl40 b, gb30 r")
    walk.chord(page.point_entry, Qt.Key.Key_Return, what="Enter")
    # A quadratus lumborum trigger point, clicked on the map.
    bl23 = bodymap.position("BL23", "L", view)
    assert bl23 is not None
    ql = spot(bodymap, view, "trigger_point", bl23, muscle_id="quadratus_lumborum")
    map_click(walk, page, ql, what="QL trigger point")
    # Cupping on the low back: F4, click.
    walk.chord(walk.focused(), Qt.Key.Key_F4, what="F4 cupping")
    needles = [
        p
        for code, side in (("BL23", "L"), ("BL23", "R"), ("BL25", "L"), ("BL25", "R"))
        if (p := bodymap.position(code, side, view)) is not None
    ]
    needles.append(ql)
    cup = spot(bodymap, view, "cupping", (bl23[0] - 20, bl23[1] + 20), tuple(needles), 30.0)
    map_click(walk, page, cup, what="cup on the low back")
    walk.chord(walk.focused(), Qt.Key.Key_F2, what="F2 points")
    # One EA pair: BL23 L and BL25 L selected on the map, paired, its settings typed.
    bl25 = bodymap.position("BL25", "L", view)
    assert bl25 is not None
    map_click(walk, page, bl23, what="select BL23 L")
    map_click(walk, page, bl25, ctrl=True, what="Ctrl+click BL25 L")
    walk.chord(walk.focused(), Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier, "Alt+E (EA tab)")
    ea = page.ea_panel
    walk.click(ea.add_button, what="Pair the two selected needles")
    walk.click(ea.frequency, what="EA frequency")
    walk.type(ea.frequency, "2/100")
    walk.click(ea.minutes, what="EA minutes")
    ea.minutes.lineEdit().selectAll()
    walk.type(ea.minutes, "20")
    walk.chord(ea.minutes, Qt.Key.Key_Return, what="Enter")
    # Needle type and lot, retention: the treatment section (Alt+4), tabbing through.
    walk.chord(walk.focused(), Qt.Key.Key_4, Qt.KeyboardModifier.AltModifier, "Alt+4")
    form = page.form
    for name, text in (
        ("needle_brand", "Seirin J-type"),
        ("needle_gauge", "0.20"),
        ("needle_length", "30 mm"),
        ("needle_lot", "L2291"),
    ):
        if walk.focused() is not form.bindings[name].widget:
            walk.chord(walk.focused(), Qt.Key.Key_Tab, what="Tab")
        assert walk.focused() is form.bindings[name].widget, name
        walk.type(walk.focused(), text)
    walk.click(form.bindings["retention_minutes"].widget, what="Retention")
    walk.qtbot.wait(1)
    walk.type(walk.focused(), "20")
    pain(walk, page, pain_walk_before, pain_walk_after)
    needles_out(walk, page)
    sign_and_print(walk, page)
    return walk.counts


def follow_up(qtbot: Any, window: Any, bodymap: BodyMap) -> Counts:
    """The follow-up of issue 17: Repeat last visit, drop BL40 R and add GB34 both sides,
    pain 5 before and 2 after, sign, print the handout."""
    walk = Walk(qtbot)
    page = start_visit(walk, window)
    walk.click(page.repeat_button, what="Repeat last visit")
    # One line takes BL40 R off and puts GB34 on both sides (one undoable step).
    walk.chord(walk.focused(), Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier, "Ctrl+K")
    walk.type(page.point_entry, "-bl40 r, gb34 b")
    walk.chord(page.point_entry, Qt.Key.Key_Return, what="Enter")
    pain(walk, page, 5, 2)
    needles_out(walk, page)
    sign_and_print(walk, page)
    return walk.counts
