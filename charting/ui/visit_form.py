"""The written part of a visit (consultation, examination, assessment, treatment, after,
outcomes), saved field by field as it is typed: there is no Save button.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from PySide6.QtCore import QDateTime, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QFocusEvent, QKeySequence, QMouseEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from charting.models.db import RETRYABLE_ERRORS, DatabaseError
from charting.services import clinical_lists as lists
from charting.services import red_flags, visit_record
from charting.services.changes import Changes
from charting.services.errors import ServiceError, ValidationError
from charting.services.validation import parse_date
from charting.services.visit_fields import PHASES, phase_fields
from charting.ui.forms import ErrorLabel, Readout, WrappingCheckBox, text_box
from charting.ui.ops import OpRunner

#: Typing is saved this long after the last keystroke (and at once when the field is left).
SAVE_DELAY_MS = 500
#: An autosave waits at most this long for another writer, then tries again later (the
#: screen never freezes for the full busy timeout).
AUTOSAVE_WAIT_MS = 800
#: Waits between tries while the database cannot take the typing (busy, unreachable).
RETRY_DELAYS_MS = (1_000, 2_000, 4_000, 8_000, 15_000)
NOT_RECORDED = -1
#: The fields the red-flag referral rule reads (services/red_flags.py).
REFERRAL_FIELDS = ("red_flags", "referral_outcome", "referral_decision")


@dataclass
class Binding:
    """One visit field: how to read and fill its widget, and where its message goes."""

    name: str
    widget: QWidget
    read: Callable[[], Any]
    write: Callable[[Any], None]
    error: ErrorLabel


#: How fields are shown (what a field is, its label and limits, comes from visit_fields.FIELDS):
#: a hint in the empty field, and which take several lines.
PLACEHOLDERS: dict[str, str] = {
    "chief_complaint": "e.g. Low back pain radiating to the left calf",
    "onset": "e.g. 3 weeks ago, lifting a suitcase",
    "pain_quality": "dull, sharp, burning, electric…",
    "radiation": "e.g. left buttock to lateral calf",
    "aggravating": "sitting, bending, coughing…",
    "easing": "walking, heat, lying down…",
    "response_since_last": "How did the last treatment go?",
    "range_of_motion": "e.g. flexion 50%, painful extension",
    "palpation": "Trigger points come from the map; add other findings",
    "straight_leg_raise": "e.g. L positive at 45°, R negative",
    "assessment": "Your assessment in words",
    "needle_brand": "e.g. Seirin J-type",
    "needle_gauge": "e.g. 0.25 mm",
    "needle_length": "e.g. 40 mm",
    "needle_expiry": "YYYY-MM-DD",
    "home_advice_notes": "Other advice given",
    "patient_response": "How the patient felt",
}
MULTILINE = frozenset(
    {"response_since_last", "palpation", "assessment", "home_advice_notes", "patient_response"}
)
SUFFIXES: dict[str, str] = {
    "pain_now": " / 10",
    "pain_best": " / 10",
    "pain_worst": " / 10",
    "pain_after": " / 10",
    "retention_minutes": " min",
    "odi_percent": " %",
    "rmdq_score": " / 24",
}
CHOICE_LISTS: dict[str, tuple[lists.Choice, ...]] = {
    "red_flags": lists.RED_FLAGS,
    "tcm_patterns": tuple(lists.Choice(p, p) for p in lists.TCM_PATTERNS),
    "icd10_codes": tuple(lists.Choice(c.id, f"{c.id}  {c.label}") for c in lists.ICD10_CODES),
    "home_advice": lists.HOME_ADVICE,
}
#: One-of drop-downs (kind "choice"): their choices.
ONE_OF: dict[str, tuple[lists.Choice, ...]] = {
    "referral_outcome": lists.REFERRAL_OUTCOMES,
    "patient_position": lists.PATIENT_POSITIONS,
}
#: Long lists with a search line above them: how typed words pick entries.
SEARCHES: dict[str, Callable[[str], list[lists.Choice]]] = {"icd10_codes": lists.match_codes}
#: Fields kept in the record but not typed on this form.
NOT_ON_FORM = frozenset({"notes"})
#: Short words for the phase buttons (the section title says the whole name).
PHASE_BUTTONS: dict[str, str] = {
    "consultation": "Consult",
    "examination": "Exam",
    "assessment": "Assess",
    "treatment": "Treat",
    "after": "After",
    "outcomes": "Outcomes",
}


#: Fields a phase's page shows first, where it differs from the record's order: the pain
#: scores are asked at the start of every visit, before the history is (re)taken.
FIRST_ON_PAGE: dict[str, tuple[str, ...]] = {
    "consultation": ("chief_complaint", "pain_now", "pain_best", "pain_worst"),
}


class NumberBox(QSpinBox):
    """A number field whose whole text is selected when it gets the focus, by click or key,
    so a number typed replaces "not recorded" (or the old value) instead of being refused."""

    _fresh = False

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.selectAll()
        # A click places the cursor when the button is released: select again then.
        self._fresh = event.reason() == Qt.FocusReason.MouseFocusReason

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        if self._fresh:
            self._fresh = False
            self.selectAll()


class VisitForm(QWidget):
    """Every written field of a visit, one phase of the session at a time, autosaved.

    The phases (consultation, examination, assessment, treatment, after, outcomes) come from
    ``visit_fields.PHASES`` and each field's phase from ``visit_fields.phase_fields``; Alt+1 …
    Alt+6 show a phase (the page adds :attr:`phase_actions` to itself so they work anywhere
    on it). Every save goes through the op runner (``OpRunner.attempt``), announced as a
    change from this form.

    Signals:
        save_failed(str): the database refused a save (the message says why).
        handout_given_requested(): "Given by hand" was pressed for the aftercare handout.
        save_state_changed(str state, str text): "saved", "saving" or "unsaved" (typing the
            database could not take yet: it is kept and tried again), with words to show.
        phase_changed(str phase): another phase is shown.
    """

    save_failed = Signal(str)
    handout_given_requested = Signal()
    save_state_changed = Signal(str, str)
    phase_changed = Signal(str)

    def __init__(self, ops: OpRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("visitForm")
        self.ops = ops
        self.visit_id: int | None = None
        # The visit's version when this form last read or saved it: a save from an older
        # copy is refused by the service (another workstation changed the visit).
        self._version: int | None = None
        self.bindings: dict[str, Binding] = {}
        self._captions: dict[str, QLabel] = {}
        self._dirty: set[str] = set()
        self._loading = False
        self._carried: list[str] = []
        self._editable = True
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_DELAY_MS)
        self._timer.timeout.connect(self.flush)
        # Typing the database could not take yet (busy, unreachable): kept, shown, retried.
        self._pending: dict[str, Any] = {}
        self._retries = 0
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.timeout.connect(self._on_retry_timeout)
        self.save_state = "saved"
        self.save_state_text = "All changes saved"

        # "From the last visit": what was carried forward, cleared in one click.
        self.carried = QFrame()
        self.carried.setObjectName("carriedForward")
        self.carried.setStyleSheet(
            "#carriedForward { background: #eef4fb; border: 1px solid #9db9d8; "
            "border-radius: 4px; }"
        )
        self.carried_text = QLabel()
        self.carried_text.setObjectName("carriedText")
        self.carried_text.setWordWrap(True)
        self.clear_carried_button = QPushButton("Clear")
        self.clear_carried_button.setObjectName("clearCarried")
        self.clear_carried_button.setToolTip("Empty every field taken from the last visit")
        self.clear_carried_button.clicked.connect(self.clear_carried)
        carried_row = QHBoxLayout(self.carried)
        carried_row.setContentsMargins(6, 3, 6, 3)
        carried_row.addWidget(self.carried_text, 1)
        carried_row.addWidget(self.clear_carried_button, 0, Qt.AlignmentFlag.AlignTop)
        self.carried.hide()

        self.phase_buttons = QButtonGroup(self)
        nav = QWidget()
        nav.setObjectName("phaseButtons")
        nav_grid = QGridLayout(nav)
        nav_grid.setContentsMargins(0, 0, 0, 0)
        nav_grid.setSpacing(2)
        self.pages = QStackedWidget()
        self.pages.setObjectName("phasePages")
        self.phase_actions: list[QAction] = []
        self._phase_scroll: dict[str, QScrollArea] = {}
        self._phase_ids = [phase for phase, _ in PHASES]
        self._layouts: dict[str, QFormLayout] = {}
        for i, (phase, title) in enumerate(PHASES):
            button = QToolButton()
            button.setObjectName(f"phase_{phase}")
            button.setText(f"{i + 1} {PHASE_BUTTONS.get(phase, title)}")
            button.setToolTip(f"{title} (Alt+{i + 1})")
            button.setCheckable(True)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            self.phase_buttons.addButton(button, i)
            nav_grid.addWidget(button, i // 3, i % 3)
            action = QAction(f"Show {title.lower()}", self)
            action.setShortcut(QKeySequence(f"Alt+{i + 1}"))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(lambda _=False, p=phase: self.show_phase(p, focus=True))
            self.addAction(action)
            self.phase_actions.append(action)
            self.pages.addWidget(self._phase_page(phase, title))
        self.phase_buttons.idClicked.connect(self._on_phase_buttons_id_clicked)
        for phase, names in phase_fields().items():
            form = self._layouts[phase]
            first = FIRST_ON_PAGE.get(phase, ())
            for name in [*first, *(n for n in names if n not in first)]:
                if name not in NOT_ON_FORM:
                    self._field(form, name)
            if phase == "after":
                self._handouts(form)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(nav)
        layout.addWidget(self.carried)
        layout.addWidget(self.pages, 1)
        self.show_phase(self._phase_ids[0])

    # -- phases --------------------------------------------------------------------------------
    def _phase_page(self, phase: str, title: str) -> QScrollArea:
        scroll = QScrollArea()
        scroll.setObjectName(f"phasePage_{phase}")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(2, 2, 8, 2)
        heading = QLabel(title)
        heading.setStyleSheet("font-size: 12pt; font-weight: 600;")
        column.addWidget(heading)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        # Labels above their fields: the form lives in a narrow column beside the map.
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        form.setVerticalSpacing(4)
        column.addLayout(form)
        column.addStretch(1)
        scroll.setWidget(body)
        self._layouts[phase] = form
        self._phase_scroll[phase] = scroll
        return scroll

    @property
    def phase(self) -> str:
        """The phase shown."""
        return self._phase_ids[self.pages.currentIndex()]

    def show_phase(self, phase: str, focus: bool = False) -> None:
        """Show one phase of the record (and, with ``focus``, put the cursor in its first
        field)."""
        index = self._phase_ids.index(phase)
        changed = index != self.pages.currentIndex()
        self.pages.setCurrentIndex(index)
        self.phase_buttons.button(index).setChecked(True)
        self._phase_scroll[phase].verticalScrollBar().setValue(0)
        if focus:
            first = next(
                (b for b in self.bindings.values() if self.phase_of(b.name) == phase), None
            )
            if first is not None and first.widget.isEnabled():
                first.widget.setFocus(Qt.FocusReason.ShortcutFocusReason)
        if changed:
            self.phase_changed.emit(phase)

    def phase_of(self, name: str) -> str:
        """The phase field ``name`` is shown in."""
        return next(p for p, names in phase_fields().items() if name in names)

    @Slot(int)
    def _on_phase_buttons_id_clicked(self, index: int) -> None:
        self.show_phase(self._phase_ids[index])

    # -- building ----------------------------------------------------------------------------
    def _bind(
        self,
        form: QFormLayout,
        name: str,
        widget: QWidget,
        read: Callable[[], Any],
        write: Callable[[Any], None],
        label: str | None = None,
    ) -> None:
        widget.setObjectName(name)
        error = ErrorLabel(f"{name}Error")
        holder = QWidget()
        box = QVBoxLayout(holder)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(1)
        box.addWidget(widget)
        box.addWidget(error)
        caption = QLabel(visit_record.FIELDS[name].label if label is None else label)
        caption.setBuddy(widget)
        form.addRow(caption, holder)
        self._captions[name] = caption
        self.bindings[name] = Binding(name, widget, read, write, error)

    def _field(self, form: QFormLayout, name: str) -> None:
        """Add field ``name`` with the widget its kind calls for."""
        special = {
            "referral_decision": self._referral,
            "needle_expiry": self._expiry,
            "needles_out": self._needles_out,
            "next_appointment": self._appointment,
            "psfs": self._psfs,
        }.get(name)
        if special is not None:
            special(form, name)
            return
        spec = visit_record.FIELDS[name]
        if spec.kind == "int":
            self._number(form, name, SUFFIXES.get(name, ""))
        elif spec.kind == "bool":
            self._flag(form, name, spec.label)
        elif spec.kind == "choice":
            self._choice(form, name, ONE_OF.get(name) or tuple(
                lists.Choice(c, c) for c in sorted(spec.choices)
            ))  # fmt: skip
        elif spec.kind == "choices":
            choices = CHOICE_LISTS.get(name) or tuple(
                lists.Choice(c, c) for c in sorted(spec.choices)
            )
            self._checks(form, name, choices, SEARCHES.get(name))
        elif name in MULTILINE:
            self._box(form, name, PLACEHOLDERS.get(name, ""))
        else:
            self._line(form, name, PLACEHOLDERS.get(name, ""))

    def _line(self, form: QFormLayout, name: str, placeholder: str = "") -> QLineEdit:
        edit = QLineEdit()
        edit.setPlaceholderText(placeholder)
        edit.textEdited.connect(lambda _t, n=name: self._edited(n))
        edit.editingFinished.connect(self.flush)
        self._bind(form, name, edit, edit.text, lambda v: edit.setText(v or ""))
        return edit

    def _box(self, form: QFormLayout, name: str, placeholder: str = "", lines: int = 2) -> None:
        box: QPlainTextEdit = text_box(placeholder, lines)
        box.textChanged.connect(lambda: self._edited(name))
        self._bind(form, name, box, box.toPlainText, lambda v: box.setPlainText(v or ""))

    def _number(self, form: QFormLayout, name: str, suffix: str = "") -> QSpinBox:
        spec = visit_record.FIELDS[name]
        spin = NumberBox()
        spin.setRange(NOT_RECORDED, spec.high)
        spin.setSpecialValueText("not recorded")
        spin.setSuffix(suffix)
        spin.setValue(NOT_RECORDED)
        spin.setMaximumWidth(150)
        spin.valueChanged.connect(lambda _v, n=name: self._edited(n))

        def read() -> int | None:
            return None if spin.value() == NOT_RECORDED else spin.value()

        self._bind(
            form, name, spin, read, lambda v: spin.setValue(NOT_RECORDED if v is None else int(v))
        )
        return spin

    def _checks(
        self,
        form: QFormLayout,
        name: str,
        choices: tuple[lists.Choice, ...],
        search: Callable[[str], list[lists.Choice]] | None = None,
    ) -> None:
        holder = QWidget()
        outer = QVBoxLayout(holder)
        outer.setContentsMargins(0, 0, 0, 0)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        boxes: dict[str, QCheckBox] = {}
        rows: dict[str, QWidget] = {}
        for i, choice in enumerate(choices):
            row = WrappingCheckBox(choice.label)  # long diagnoses wrap in a narrow form
            box = row.box
            box.setObjectName(f"{name}_{choice.id}")
            box.toggled.connect(lambda _c, n=name: self._edited(n, at_once=True))
            grid.addWidget(row, i, 0)
            boxes[choice.id] = box
            rows[choice.id] = row
        if search is not None:
            outer.addWidget(self._search_box(name, search, boxes, rows))
        outer.addLayout(grid)

        def write(values: list[str]) -> None:
            for key, box in boxes.items():
                box.setChecked(key in (values or []))

        self._bind(
            form, name, holder, lambda: [k for k, b in boxes.items() if b.isChecked()], write
        )

    @staticmethod
    def _search_box(
        name: str,
        search: Callable[[str], list[lists.Choice]],
        boxes: dict[str, QCheckBox],
        rows: dict[str, QWidget],
    ) -> QLineEdit:
        """A line that narrows a long list of checkboxes to what is typed (ticked entries
        stay in view); Enter ticks the first match and clears the line."""
        edit = QLineEdit()
        edit.setObjectName(f"{name}_filter")
        edit.setPlaceholderText("Type part of a code or its words, Enter to tick")
        edit.setClearButtonEnabled(True)

        def narrow(text: str) -> None:
            shown = {c.id for c in search(text)}
            for key, row in rows.items():
                row.setVisible(key in shown or boxes[key].isChecked())

        def pick() -> None:
            first = next((c.id for c in search(edit.text()) if not boxes[c.id].isChecked()), None)
            if edit.text().strip() and first is not None:
                boxes[first].setChecked(True)
                edit.clear()

        edit.textChanged.connect(narrow)
        edit.returnPressed.connect(pick)
        return edit

    def _choice(self, form: QFormLayout, name: str, choices: tuple[lists.Choice, ...]) -> None:
        """A drop-down of one of ``choices`` (or none), saved as soon as it is picked."""
        combo = QComboBox()
        combo.setObjectName(name)
        combo.addItem("Not recorded", "")
        for choice in choices:
            combo.addItem(choice.label, choice.id)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(12)
        combo.view().setMinimumWidth(combo.view().sizeHintForColumn(0) + 24)
        combo.currentIndexChanged.connect(lambda _i, n=name: self._edited(n, at_once=True))

        def write(value: str) -> None:
            combo.setCurrentIndex(max(0, combo.findData(value or "")))

        self._bind(form, name, combo, lambda: combo.currentData() or "", write)

    def _flag(self, form: QFormLayout, name: str, text: str) -> None:
        box = QCheckBox(text)
        box.toggled.connect(lambda _c, n=name: self._edited(n, at_once=True))
        self._bind(form, name, box, box.isChecked, lambda v: box.setChecked(bool(v)), "")

    def _referral(self, form: QFormLayout, name: str) -> None:
        decision = QComboBox()
        decision.setEditable(True)
        decision.addItem("")
        decision.addItems(lists.REFERRAL_DECISIONS)
        if (typed := decision.lineEdit()) is not None:
            typed.setPlaceholderText("To whom, how urgently, or why not referred")
        # As wide as the form allows, not as wide as the longest decision; the list that
        # drops down is wide enough to read each one whole.
        decision.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        decision.setMinimumContentsLength(12)
        decision.view().setMinimumWidth(decision.view().sizeHintForColumn(0) + 24)
        decision.currentTextChanged.connect(lambda _t: self._edited(name))
        self._bind(
            form, name, decision, decision.currentText, lambda v: decision.setCurrentText(v or "")
        )

    def _expiry(self, form: QFormLayout, name: str) -> None:
        expiry = QLineEdit()
        expiry.setPlaceholderText(PLACEHOLDERS.get(name, "YYYY-MM-DD"))
        expiry.textEdited.connect(lambda _t: self._edited(name))
        expiry.editingFinished.connect(self.flush)
        self._bind(
            form,
            name,
            expiry,
            lambda: _date_or_text(expiry.text()),
            lambda v: expiry.setText(v.isoformat() if v else ""),
        )

    def _needles_out(self, form: QFormLayout, name: str) -> None:
        self.needles_in = Readout("needlesIn")
        self.needles_in.setText("0")
        form.addRow("Needles in (from the map)", self.needles_in)
        spin = self._number(form, name)
        self.all_out_button = QPushButton("All out")
        self.all_out_button.setObjectName("allNeedlesOut")
        self.all_out_button.setToolTip("Every needle in has been counted out")
        self.all_out_button.clicked.connect(self._on_all_out_button_clicked)
        row = spin.parentWidget()
        assert row is not None
        line = QHBoxLayout()
        line.setContentsMargins(0, 0, 0, 0)
        layout = row.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.removeWidget(spin)
        line.addWidget(spin)
        line.addWidget(self.all_out_button)
        line.addStretch(1)
        layout.insertLayout(0, line)
        self.needle_warning = QLabel()
        self.needle_warning.setObjectName("needleCountWarning")
        self.needle_warning.setStyleSheet("color: #b3261e; font-weight: 600;")
        self.needle_warning.setWordWrap(True)
        self.needle_warning.hide()
        form.addRow(self.needle_warning)

    @Slot()
    def _on_all_out_button_clicked(self) -> None:
        self.set_value("needles_out", int(self.needles_in.text()))
        self._check_needles()

    def _appointment(self, form: QFormLayout, name: str) -> None:
        when = QDateTimeEdit()
        when.setDisplayFormat("yyyy-MM-dd HH:mm")
        when.setCalendarPopup(True)
        booked = QCheckBox("Booked")
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(booked)
        layout.addWidget(when, 1)
        booked.toggled.connect(when.setEnabled)
        booked.toggled.connect(lambda _c: self._edited(name, at_once=True))
        when.dateTimeChanged.connect(lambda _d: self._edited(name))

        def read() -> datetime | None:
            if not booked.isChecked():
                return None
            value = when.dateTime().toPython()
            assert isinstance(value, datetime)
            return value.astimezone()

        def write(value: datetime | None) -> None:
            booked.setChecked(value is not None)
            when.setEnabled(value is not None)
            # Not booked yet: offer a sensible slot (a week on, on the half hour, in hours).
            shown = value if value is not None else next_appointment_slot(datetime.now())
            when.setDateTime(QDateTime.fromSecsSinceEpoch(int(shown.timestamp())))

        self._bind(form, name, row, read, write)

    def _handouts(self, form: QFormLayout) -> None:
        # Handouts given are events beside the visit (also after signing), not a field of it.
        self.handout_label = QLabel("Not given yet.")
        self.handout_label.setObjectName("handoutsGiven")
        self.handout_label.setTextFormat(Qt.TextFormat.PlainText)
        self.handout_label.setWordWrap(True)
        self.handout_button = QPushButton("Given by hand")
        self.handout_button.setObjectName("handoutByHand")
        self.handout_button.setToolTip(
            "Record that a printed aftercare handout was handed over (printing, saving or "
            "opening it from Documents records it by itself)"
        )
        self.handout_button.clicked.connect(self.handout_given_requested)
        handouts = QWidget()
        handout_row = QHBoxLayout(handouts)
        handout_row.setContentsMargins(0, 0, 0, 0)
        handout_row.addWidget(self.handout_label, 1)
        handout_row.addWidget(self.handout_button, 0, Qt.AlignmentFlag.AlignTop)
        form.addRow("Aftercare handout", handouts)

    def show_handouts(self, given: list[str]) -> None:
        """Show the handouts given for the visit (texts such as "2026-12-04 10:31, printed")."""
        self.handout_label.setText("\n".join(given) if given else "Not given yet.")

    def _psfs(self, form: QFormLayout, name: str) -> None:
        holder = QWidget()
        grid = QGridLayout(holder)
        grid.setContentsMargins(0, 0, 0, 0)
        rows: list[tuple[QLineEdit, QSpinBox]] = []
        for i in range(5):
            activity = QLineEdit()
            activity.setPlaceholderText(f"Activity {i + 1} the patient finds hard")
            activity.setObjectName(f"psfs_activity_{i}")
            score = QSpinBox()
            score.setRange(NOT_RECORDED, 10)
            score.setSpecialValueText("–")
            score.setValue(NOT_RECORDED)
            score.setObjectName(f"psfs_score_{i}")
            activity.textEdited.connect(lambda _t: self._edited(name))
            score.valueChanged.connect(lambda _v: self._edited(name))
            grid.addWidget(activity, i, 0)
            grid.addWidget(score, i, 1)
            rows.append((activity, score))

        def read() -> list[dict[str, Any]]:
            return [
                {"activity": a.text().strip(), "score": s.value()}
                for a, s in rows
                if a.text().strip() or s.value() != NOT_RECORDED
            ]

        def write(items: list[dict[str, Any]]) -> None:
            for i, (activity, score) in enumerate(rows):
                item = items[i] if items and i < len(items) else None
                activity.setText(item["activity"] if item else "")
                score.setValue(item["score"] if item else NOT_RECORDED)

        self._bind(form, name, holder, read, write, "PSFS (0 = unable, 10 = as before)")

    # -- loading and saving ------------------------------------------------------------------
    def load(self, visit_id: int, editable: bool = True) -> None:
        """Fill the form from the stored visit (saving anything pending first). Another
        visit opens at its first phase (consultation)."""
        self.flush()
        opened_new = visit_id != self.visit_id
        if opened_new:
            self._forget_pending()
            self._set_state("saved", "All changes saved")
        self.visit_id = visit_id
        self._editable = editable

        def read(session: Any) -> tuple[dict[str, Any], int, list[str]]:
            return (
                visit_record.record(session, visit_id),
                visit_record.current_version(session, visit_id),
                visit_record.carried_fields(session, visit_id),
            )

        values, self._version, carried = self.ops.read(read)
        self._loading = True
        try:
            for name, binding in self.bindings.items():
                binding.write(values[name])
                binding.error.show_message(None)
                binding.widget.setEnabled(editable)
        finally:
            self._loading = False
        self.all_out_button.setEnabled(editable)
        self.handout_button.setEnabled(True)
        self._show_carried(carried if editable else [])
        self._show_referral_hint()
        if opened_new:
            self.show_phase(self._phase_ids[0])

    def _show_referral_hint(self) -> None:
        """Say under the referral decision what signing will ask for (ticked red flags)."""
        read = {n: self.bindings[n].read() for n in REFERRAL_FIELDS}
        problem = red_flags.referral_problem(
            read["red_flags"], read["referral_outcome"], read["referral_decision"]
        )
        self.bindings["referral_outcome"].error.show_message(problem)

    def _show_carried(self, carried: list[str]) -> None:
        """Mark the fields taken from the last visit, and offer to clear them."""
        self._carried = list(carried)
        for name, caption in self._captions.items():
            label = visit_record.FIELDS[name].label if name != "psfs" else caption.text()
            if name in carried:
                caption.setText(f"{label}  · from the last visit")
                caption.setStyleSheet("color: #1a4f86;")
            elif caption.styleSheet():
                caption.setText(label)
                caption.setStyleSheet("")
        names = ", ".join(visit_record.FIELDS[n].label for n in carried)
        self.carried_text.setText(f"From the last visit: {names}." if carried else "")
        self.carried.setVisible(bool(carried))

    @property
    def carried_fields(self) -> list[str]:
        """The fields shown as taken from the last visit."""
        return list(self._carried)

    @Slot()
    def clear_carried(self) -> None:
        """Empty every field taken from the last visit (one step)."""
        if self.visit_id is None or not self._carried:
            return
        self.flush()
        result = self.ops.run(
            self, visit_record.clear_carried, self.visit_id, self._version, origin=self
        )
        if result is not None:
            self.load(self.visit_id, self._editable)

    def set_value(self, name: str, value: Any) -> None:
        """Show ``value`` in field ``name`` and save it at once (e.g. "handout given")."""
        self.flush()
        self._loading = True
        try:
            self.bindings[name].write(value)
        finally:
            self._loading = False
        self._save({name: value})

    def focus_field(self, name: str) -> None:
        """Show field ``name``'s phase, scroll to it and put the cursor in it."""
        self.show_phase(self.phase_of(name))
        widget = self.bindings[name].widget
        self._phase_scroll[self.phase].ensureWidgetVisible(widget)
        widget.setFocus()

    def set_needles_in(self, count: int) -> None:
        """Show the needle count computed from the map, and warn if needles out differs."""
        self.needles_in.setText(str(count))
        self._check_needles()

    def _check_needles(self) -> None:
        out = self.bindings["needles_out"].read()
        count = int(self.needles_in.text())
        differs = out is not None and out != count
        self.needle_warning.setText(
            f"\u26a0 {count} needles in, {out} out: check for a forgotten needle before the "
            "patient leaves."
            if differs
            else ""
        )
        self.needle_warning.setVisible(differs)

    def _edited(self, name: str, at_once: bool = False) -> None:
        if self._loading or self.visit_id is None:
            return
        self._dirty.add(name)
        if not self._pending:
            self._set_state("saving", "Saving\u2026")
        if name == "needles_out":
            self._check_needles()
        if at_once:
            self.flush()
        else:
            self._timer.start()
        if name in REFERRAL_FIELDS:
            self._show_referral_hint()

    @Slot()
    def flush(self) -> None:
        """Save every edited field now (invalid ones are flagged next to the field instead)."""
        self._timer.stop()
        if not self._dirty or self.visit_id is None:
            return
        names, self._dirty = sorted(self._dirty), set()
        values: dict[str, Any] = {}
        for name in names:
            binding = self.bindings[name]
            value = binding.read()
            message = visit_record.validate_field(name, value)
            if isinstance(value, _BadDate):
                message = "Write the date as YYYY-MM-DD."
            binding.error.show_message(message)
            if message is None:
                values[name] = value
        self._save(values)

    def has_unsaved(self) -> bool:
        """Whether typing is not stored yet (being typed, or waiting for the database)."""
        return bool(self._pending or self._dirty)

    def unsaved_text(self) -> str:
        """What is typed but not stored yet, field by field (for the person to keep)."""
        self.flush()
        return "\n".join(
            f"{visit_record.FIELDS[name].label}: {_as_text(value)}"
            for name, value in self._pending.items()
        )

    def _set_state(self, state: str, text: str) -> None:
        if (state, text) != (self.save_state, self.save_state_text):
            self.save_state, self.save_state_text = state, text
            self.save_state_changed.emit(state, text)

    @Slot()
    def _on_retry_timeout(self) -> None:
        if self._pending:
            self._save({})

    def _save(self, values: dict[str, Any]) -> None:
        if self.visit_id is None:
            return
        # Anything still waiting for the database goes with it, older values first.
        attempt = {**self._pending, **values}
        if not attempt:
            return
        try:
            self._version, _changes = self.ops.attempt(
                _store_fields,
                self.visit_id,
                attempt,
                self._version,
                origin=self,
                busy_timeout_ms=AUTOSAVE_WAIT_MS,
            )
        except RETRYABLE_ERRORS as exc:
            # Kept, not dropped: shown as not saved yet, and tried again shortly.
            self._pending = attempt
            delay = RETRY_DELAYS_MS[min(self._retries, len(RETRY_DELAYS_MS) - 1)]
            self._retries += 1
            self._retry.start(delay)
            self._set_state(
                "unsaved",
                f"Not saved yet: {_first_sentence(exc)} Trying again in {delay // 1000} s.",
            )
            return
        except visit_record.ConcurrentEditError as exc:
            self._forget_pending()
            self._dirty.clear()
            self.load(self.visit_id)
            typed = "\n".join(
                f"{visit_record.FIELDS[name].label}: {_as_text(value)}"
                for name, value in attempt.items()
            )
            self.save_failed.emit(f"{exc}\n\nWhat you typed, which was not saved:\n{typed}")
            return
        except ValidationError as exc:
            for name, message in exc.errors.items():
                if name in self.bindings:
                    self.bindings[name].error.show_message(message)
            self._pending = {k: v for k, v in self._pending.items() if k not in exc.errors}
            ok = {k: v for k, v in attempt.items() if k not in exc.errors}
            if ok and ok != attempt:
                self._save(ok)
            elif not ok:
                self._set_state("saved", "All changes saved")
            return
        except (ServiceError, DatabaseError) as exc:
            self._forget_pending()
            self._set_state("saved", "All changes saved")
            self.save_failed.emit(str(exc))
            return
        self._forget_pending()
        if not self._dirty:
            self._set_state("saved", "All changes saved")
        if self._carried and set(attempt) & set(self._carried):
            self._show_carried([n for n in self._carried if n not in attempt])

    def _forget_pending(self) -> None:
        self._pending = {}
        self._retries = 0
        self._retry.stop()


def _store_fields(
    session: Any, visit_id: int, values: dict[str, Any], version: int | None
) -> tuple[int, Changes]:
    """Store typed fields (refused if the visit changed since ``version``); return the
    visit's new version with the changes."""
    changes = visit_record.update_fields(session, visit_id, values, expected_version=version)
    return visit_record.current_version(session, visit_id), changes


def next_appointment_slot(now: datetime) -> datetime:
    """A sensible next appointment: a week on, at the next half hour, within 08:00-18:00, and
    not on a Sunday (the practitioner changes it in two clicks when another suits)."""
    slot = (now + timedelta(days=7)).replace(second=0, microsecond=0)
    if slot.minute not in (0, 30):
        slot += timedelta(minutes=30 - slot.minute % 30)
    if slot.hour < 8:
        slot = slot.replace(hour=8, minute=0)
    elif slot.hour >= 18:
        slot = (slot + timedelta(days=1)).replace(hour=9, minute=0)
    if slot.weekday() == 6:
        slot += timedelta(days=1)
    return slot.astimezone()


def _first_sentence(exc: BaseException) -> str:
    text = str(exc)
    return text.split(". ", 1)[0].rstrip(".") + "."


def _as_text(value: Any) -> str:
    if value is None:
        return "(blank)"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value)


class _BadDate(str):
    """Text typed into a date field that is not a date (kept so the field can say why)."""


def _date_or_text(text: str) -> date | _BadDate | None:
    text = text.strip()
    if not text:
        return None
    parsed = parse_date(text)
    return parsed if parsed is not None else _BadDate(text)
