"""The written part of a visit (consultation, examination, assessment, treatment, after,
outcomes), saved field by field as it is typed: there is no Save button.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from PySide6.QtCore import QDateTime, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from charting.models.db import RETRYABLE_ERRORS, Database, DatabaseError
from charting.services import clinical_lists as lists
from charting.services import red_flags, visit_record
from charting.services.changes import Changes
from charting.services.errors import ServiceError, ValidationError
from charting.services.validation import parse_date
from charting.ui.forms import ErrorLabel, Readout, WrappingCheckBox, text_box

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


class VisitForm(QScrollArea):
    """Every written field of a visit, autosaved.

    Signals:
        saved(Changes): after fields were stored.
        save_failed(str): the database refused a save (the message says why).
        handout_given_requested(): "Given by hand" was pressed for the aftercare handout.
        save_state_changed(str state, str text): "saved", "saving" or "unsaved" (typing the
            database could not take yet: it is kept and tried again), with words to show.
    """

    saved = Signal(object)
    save_failed = Signal(str)
    handout_given_requested = Signal()
    save_state_changed = Signal(str, str)

    def __init__(self, database: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("visitForm")
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.database = database
        self.visit_id: int | None = None
        # The visit's version when this form last read or saved it: a save from an older
        # copy is refused by the service (another workstation changed the visit).
        self._version: int | None = None
        self.bindings: dict[str, Binding] = {}
        self._dirty: set[str] = set()
        self._loading = False
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

        body = QWidget()
        self._layout = QVBoxLayout(body)
        self._layout.setContentsMargins(4, 4, 8, 4)
        self._consultation()
        self._examination()
        self._assessment()
        self._treatment()
        self._after()
        self._outcomes()
        self._layout.addStretch(1)
        self.setWidget(body)

    # -- building ----------------------------------------------------------------------------
    def _section(self, title: str) -> QFormLayout:
        box = QGroupBox(title)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        # Labels above their fields: the form lives in a narrow column beside the map.
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        form.setVerticalSpacing(4)
        self._layout.addWidget(box)
        return form

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
        caption = QLabel(label or visit_record.FIELDS[name].label)
        caption.setBuddy(widget)
        form.addRow(caption, holder)
        self.bindings[name] = Binding(name, widget, read, write, error)

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
        spin = QSpinBox()
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

    def _flag(self, form: QFormLayout, name: str, text: str) -> None:
        box = QCheckBox(text)
        box.toggled.connect(lambda _c, n=name: self._edited(n, at_once=True))
        self._bind(form, name, box, box.isChecked, lambda v: box.setChecked(bool(v)), "")

    def _consultation(self) -> None:
        form = self._section("Consultation (S)")
        self._line(form, "chief_complaint", "e.g. Low back pain radiating to the left calf")
        self._number(form, "pain_now", " / 10")
        self._number(form, "pain_best", " / 10")
        self._number(form, "pain_worst", " / 10")
        self._line(form, "onset", "e.g. 3 weeks ago, lifting a suitcase")
        self._line(form, "duration")
        self._line(form, "mechanism")
        self._line(form, "pain_quality", "dull, sharp, burning, electric…")
        self._line(form, "radiation", "e.g. left buttock to lateral calf")
        self._line(form, "aggravating", "sitting, bending, coughing…")
        self._line(form, "easing", "walking, heat, lying down…")
        self._line(form, "sleep")
        self._line(form, "current_medications")
        self._box(form, "response_since_last", "How did the last treatment go?")
        self._checks(form, "red_flags", lists.RED_FLAGS)
        self._choice(form, "referral_outcome", lists.REFERRAL_OUTCOMES)
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
        decision.currentTextChanged.connect(lambda _t: self._edited("referral_decision"))
        self._bind(
            form,
            "referral_decision",
            decision,
            decision.currentText,
            lambda v: decision.setCurrentText(v or ""),
        )

    def _choice(self, form: QFormLayout, name: str, choices: tuple[lists.Choice, ...]) -> None:
        """A drop-down of one of ``choices`` (or none), saved as soon as it is picked."""
        combo = QComboBox()
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

    def _examination(self) -> None:
        form = self._section("Examination (O)")
        self._line(form, "posture")
        self._line(form, "range_of_motion", "e.g. flexion 50%, painful extension")
        self._box(form, "palpation", "Trigger points come from the map; add other findings")
        self._line(form, "straight_leg_raise", "e.g. L positive at 45°, R negative")
        self._line(form, "reflexes")
        self._line(form, "sensation")
        self._line(form, "tongue")
        self._line(form, "pulse")

    def _assessment(self) -> None:
        form = self._section("Assessment (A)")
        self._checks(form, "tcm_patterns", tuple(lists.Choice(p, p) for p in lists.TCM_PATTERNS))
        self._box(form, "assessment", "Your assessment in words")
        self._checks(
            form,
            "icd10_codes",
            tuple(lists.Choice(c.id, f"{c.id}  {c.label}") for c in lists.ICD10_CODES),
            search=lists.match_codes,
        )

    def _treatment(self) -> None:
        form = self._section("Treatment (P)")
        self._choice(form, "patient_position", lists.PATIENT_POSITIONS)
        self._line(form, "needle_brand", "e.g. Seirin J-type")
        self._line(form, "needle_gauge", "e.g. 0.25 mm")
        self._line(form, "needle_length", "e.g. 40 mm")
        self._line(form, "needle_lot")
        expiry = QLineEdit()
        expiry.setPlaceholderText("YYYY-MM-DD")
        expiry.textEdited.connect(lambda _t: self._edited("needle_expiry"))
        expiry.editingFinished.connect(self.flush)
        self._bind(
            form,
            "needle_expiry",
            expiry,
            lambda: _date_or_text(expiry.text()),
            lambda v: expiry.setText(v.isoformat() if v else ""),
        )
        self.needles_in = Readout("needlesIn")
        self.needles_in.setText("0")
        form.addRow("Needles in (from the map)", self.needles_in)
        self._number(form, "needles_out")
        self.needle_warning = QLabel()
        self.needle_warning.setObjectName("needleCountWarning")
        self.needle_warning.setStyleSheet("color: #b3261e; font-weight: 600;")
        self.needle_warning.setWordWrap(True)
        self.needle_warning.hide()
        form.addRow(self.needle_warning)
        self._number(form, "retention_minutes", " min")
        self._line(form, "moxibustion")
        self._flag(form, "heat_lamp", "Heat lamp used")
        self._checks(form, "home_advice", lists.HOME_ADVICE)
        self._box(form, "home_advice_notes", "Other advice given")

    def _after(self) -> None:
        form = self._section("After treatment")
        self._number(form, "pain_after", " / 10")
        self._box(form, "patient_response", "How the patient felt")
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
        booked.toggled.connect(lambda _c: self._edited("next_appointment", at_once=True))
        when.dateTimeChanged.connect(lambda _d: self._edited("next_appointment"))

        def read() -> datetime | None:
            if not booked.isChecked():
                return None
            value = when.dateTime().toPython()
            assert isinstance(value, datetime)
            return value.astimezone()

        def write(value: datetime | None) -> None:
            booked.setChecked(value is not None)
            when.setEnabled(value is not None)
            shown = value if value is not None else datetime.now().astimezone()
            when.setDateTime(QDateTime.fromSecsSinceEpoch(int(shown.timestamp())))

        self._bind(form, "next_appointment", row, read, write)
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

    def _outcomes(self) -> None:
        form = self._section("Outcome measures")
        self._number(form, "odi_percent", " %")
        self._number(form, "rmdq_score", " / 24")
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
            activity.textEdited.connect(lambda _t: self._edited("psfs"))
            score.valueChanged.connect(lambda _v: self._edited("psfs"))
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

        self._bind(form, "psfs", holder, read, write, "PSFS (0 = unable, 10 = as before)")

    # -- loading and saving ------------------------------------------------------------------
    def load(self, visit_id: int, editable: bool = True) -> None:
        """Fill the form from the stored visit (saving anything pending first)."""
        self.flush()
        if visit_id != self.visit_id:
            self._forget_pending()
            self._set_state("saved", "All changes saved")
        self.visit_id = visit_id
        with self.database.read() as session:
            values = visit_record.record(session, visit_id)
            self._version = visit_record.current_version(session, visit_id)
            remembered = visit_record.remembered_values(session, visit_id) if editable else {}
        self._loading = True
        try:
            for name, binding in self.bindings.items():
                binding.write(values[name])
                binding.error.show_message(None)
                binding.widget.setEnabled(editable)
        finally:
            self._loading = False
        self._show_referral_hint()
        if remembered:
            for name, value in remembered.items():
                self.bindings[name].write(value)
            self._save(remembered)

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
        """Scroll to field ``name`` and put the cursor in it."""
        widget = self.bindings[name].widget
        self.ensureWidgetVisible(widget)
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

    def _show_referral_hint(self) -> None:
        """Say under the referral decision what signing will ask for (ticked red flags)."""
        read = {n: self.bindings[n].read() for n in REFERRAL_FIELDS}
        problem = red_flags.referral_problem(
            read["red_flags"], read["referral_outcome"], read["referral_decision"]
        )
        self.bindings["referral_outcome"].error.show_message(problem)

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
            with self.database.write(busy_timeout_ms=AUTOSAVE_WAIT_MS) as session:
                changes: Changes = visit_record.update_fields(
                    session, self.visit_id, attempt, expected_version=self._version
                )
                self._version = visit_record.current_version(session, self.visit_id)
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
        self.saved.emit(changes)

    def _forget_pending(self) -> None:
        self._pending = {}
        self._retries = 0
        self._retry.stop()


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
