"""Typed entry: points typed as "bl23", "gb30 r", "shenshu b" or "bl23 bl25 b, gb30 r" become
marks on the map."""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import QStringListModel, Qt, Signal, Slot
from PySide6.QtWidgets import QCompleter, QLineEdit, QMenu, QWidget

from charting.bodymap import BodyMap
from charting.bodymap.catalog import Acupoint
from charting.services.marks import MarkSpec
from charting.ui.app_rules import plain_tooltip

_SIDE_SUFFIX = re.compile(r"^(?P<code>.+?)[\s/]+(?P<side>l|r|b|left|right|both|bilateral)$", re.I)


class PointEntry(QLineEdit):
    """A line where a point is typed (Ctrl+K on the visit page), with type-ahead.

    Enter adds the point: the side from a suffix (``l``, ``r``, ``b`` = both) or asked for a
    bilateral point. A code that names no point says why and offers the nearest matches.

    Signals:
        marks_requested(list specs, str text): marks to add for what was typed.
        changes_requested(list specs, list removals, str text): marks to add and marks to
            take off (``(code, side or None)``; a group typed with a leading minus, "-bl40 r")
            for what was typed, as one step.
    """

    marks_requested = Signal(list, str)
    changes_requested = Signal(list, list, str)

    def __init__(
        self,
        bodymap: BodyMap,
        current_view: Callable[[], str],
        show_view: Callable[[str], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("pointEntry")
        self.bodymap = bodymap
        self._current_view = current_view
        self._show_view = show_view
        self.setPlaceholderText("Type points: bl23 bl25 b, gb30 r, -bl40 r  (Ctrl+K)")
        self.setClearButtonEnabled(True)
        self._completions = QStringListModel(self)
        completer = QCompleter(self._completions, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionRole(Qt.ItemDataRole.DisplayRole)
        self.setCompleter(completer)
        self.refresh_points()
        self.suggestions: QMenu | None = None
        self.problem = ""
        self.returnPressed.connect(self._on_return_pressed)
        self.textEdited.connect(self._on_text_edited)

    def refresh_points(self) -> None:
        """Offer the body map's points again (after the clinic's custom points changed)."""
        self._completions.setStringList(
            [f"{p.code}  {p.pinyin}  {p.english}" for p in self.bodymap.points]
        )

    @Slot()
    def _on_return_pressed(self) -> None:
        text = self.text().strip()
        if not text:
            return
        parsed = self.parse(text)
        if parsed is None:
            return
        specs, removals = parsed
        if removals:
            self.changes_requested.emit(specs, removals, f"Chart {text}")
        elif specs:
            self.marks_requested.emit(specs, f"Mark {text}")

    @Slot(str)
    def _on_text_edited(self, _text: str) -> None:
        if self.problem:
            self._set_problem("")

    def _set_problem(self, problem: str) -> None:
        self.problem = problem
        self.setStyleSheet("border: 1px solid #b3261e;" if problem else "")
        self.setToolTip(plain_tooltip(problem) if problem else "")

    def specs_for_typed(self, text: str) -> list[MarkSpec] | None:
        """Marks to add for what was typed (see :meth:`parse`)."""
        parsed = self.parse(text)
        return None if parsed is None else parsed[0]

    def parse(self, text: str) -> tuple[list[MarkSpec], list[tuple[str, str | None]]] | None:
        """Marks to add, and marks to take off, for what was typed; asks the side if needed.

        One point ("bl23", "bl23 l", "shenshu both"), several sharing a side ("bl23 bl25
        bl40 b") or groups with their own sides separated by commas ("bl23 bl25 b, gb30 r").
        A code that names no point is refused with the reason and the nearest matches (a
        menu: choosing one puts it in the line, ready for Enter); nothing of the line is
        added then. A group with a leading minus ("-bl40 r", "-bl40" for every side) names
        marks to take off."""
        groups = [g.strip() for g in text.split(",") if g.strip()]
        parsed: list[tuple[list[Acupoint], str | None]] = []
        removals: list[tuple[str, str | None]] = []
        for group in groups:
            removing = group.startswith("-")
            found = self._parse_group(group.lstrip("-").strip())
            if found is None:
                return None
            if removing:
                points, side_word = found
                which: list[str | None] = (
                    ["L", "R"] if side_word == "b" else [side_word.upper() if side_word else None]
                )
                removals.extend((p.code, side) for p in points for side in which)
            else:
                parsed.append(found)
        self._set_problem("")
        specs: list[MarkSpec] = []
        for points, side_word in parsed:
            sides: list[str] | None = None
            if side_word in ("l", "r"):
                sides = [side_word.upper()]
            elif side_word == "b":
                sides = ["L", "R"]
            elif any(p.sides != ("M",) for p in points):
                # One question for the group: its bilateral points share the answer.
                sides = self.ask_side(" ".join(p.code for p in points if p.sides != ("M",)))
                if sides is None:
                    return None
            for point in points:
                specs.extend(self._specs(point, ["M"] if point.sides == ("M",) else sides or []))
        return specs, removals

    def show_problem(self, problem: str) -> None:
        """Say beside the line why what was typed was not done (in red, and in its tooltip)."""
        self._set_problem(problem)

    def _parse_group(self, text: str) -> tuple[list[Acupoint], str | None] | None:
        """The points of one group and its side word ("l", "r", "b" or None); None (with the
        reason shown) when a code names no point."""
        match = _SIDE_SUFFIX.match(text)
        point = self.bodymap.lookup(text)
        if point is not None:
            return [point], None
        if match:
            point = self.bodymap.lookup(match["code"])
            if point is not None:
                return [point], match["side"].lower()[0]
        point = self.bodymap.lookup(text.split("  ")[0])  # a completer line
        if point is not None:
            return [point], None
        codes = match["code"] if match else text
        side_word = match["side"].lower()[0] if match else None
        tokens = codes.split()
        points: list[Acupoint] = []
        for token in tokens if len(tokens) > 1 else [codes]:
            point = self.bodymap.lookup(token)
            if point is None:
                self._offer_nearest(token, match["side"] if match else "")
                return None
            points.append(point)
        return points, side_word

    def _specs(self, point: Acupoint, sides: list[str]) -> list[MarkSpec]:
        views = self.bodymap.views_for(point.code)
        current = self._current_view()
        view = current if current in views else views[0]
        if view != current:
            self._show_view(view)
        specs = []
        for side in sides:
            pos = self.bodymap.position(point.code, side, view)  # type: ignore[arg-type]
            if pos is not None:
                specs.append(MarkSpec("acupoint", view, pos[0], pos[1], side, point.code))
        return specs

    def _offer_nearest(self, typed: str, side: str) -> None:
        """Say why ``typed`` names no point and offer the nearest ones in a menu."""
        reason = self.bodymap.why_unknown(typed)
        near = self.bodymap.nearest_matches(typed, 5)
        self._set_problem(
            reason + (" Nearest: " + ", ".join(p.code for p in near) + "." if near else "")
        )
        menu = QMenu(self)
        menu.setObjectName("nearestPoints")
        title = menu.addAction(reason)
        title.setEnabled(False)
        menu.addSeparator()
        for point in near:
            action = menu.addAction(f"{point.code}  {point.pinyin}  \u00b7  {point.english}")
            action.triggered.connect(lambda _=False, c=point.code: self._take_suggestion(c, side))
        self.suggestions = menu
        menu.popup(self.mapToGlobal(self.rect().bottomLeft()))

    def _take_suggestion(self, code: str, side: str) -> None:
        self.setText(f"{code} {side}".strip())
        self._set_problem("")
        self.setFocus()

    def ask_side(self, code: str) -> list[str] | None:
        """Ask left, right or both for a bilateral point; B (both) is one key away."""
        menu = QMenu(self)
        menu.setObjectName("sideMenu")
        both = menu.addAction(f"&Both sides ({code} L + R)")
        left = menu.addAction("&Left (patient's left)")
        right = menu.addAction("&Right (patient's right)")
        menu.setActiveAction(both)
        pos = self.mapToGlobal(self.rect().bottomLeft())
        chosen = menu.exec(pos, both)
        return {both: ["L", "R"], left: ["L"], right: ["R"]}.get(chosen)
