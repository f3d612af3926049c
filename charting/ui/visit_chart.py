"""The visit page: the written record, the body map and the marks of one visit, side by side.

The page composes its parts and keeps them showing what the visit holds:

- the written record (:class:`~charting.ui.visit_form.VisitForm`, one phase at a time);
- the map column (:class:`~charting.ui.visit_parts.map_panel.MapPanel`);
- typed entry (:class:`~charting.ui.visit_parts.point_entry.PointEntry`), Repeat last visit,
  templates and protocols, undo and redo;
- the marks (a list sharing the map's model and selection model) and their details
  (:class:`~charting.ui.visit_parts.mark_details.MarkDetailsPanel`), EA pairs, adverse events,
  amendments;
- the safety column (:class:`~charting.ui.visit_parts.safety.SafetyColumn`);
- sign, amend and documents (:class:`~charting.ui.visit_parts.record_actions.RecordActions`).

Every change goes through the op runner; the page redraws from what it announces.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QStringListModel, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListView,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from charting.bodymap import BodyMap, CustomPointData
from charting.bodymap.presets import REGION_PRESETS
from charting.models import EAPair, MarkKind, Patient, Visit
from charting.services import custom_points, visit_record
from charting.services import marks as mark_service
from charting.services.access import Permission, actor_of
from charting.services.changes import Changes
from charting.services.marks import KIND_LABELS, MarkRow, MarkSpec
from charting.services.patients import health_flags
from charting.services.visit_safety import Decision, VisitWarning, decisions_for, visit_warnings
from charting.services.visit_templates import template_names
from charting.services.visits import VisitAccess, visit_access
from charting.ui.forms import Readout
from charting.ui.mark_commands import (
    AddMarksCommand,
    ApplyTemplateCommand,
    DeleteMarksCommand,
    MoveMarkCommand,
    RepeatVisitCommand,
)
from charting.ui.ops import OpRunner
from charting.ui.page_stack import PageStack
from charting.ui.pain.panel import PainPanel
from charting.ui.visit_extras import AdverseEventPanel, EAPanel
from charting.ui.visit_form import VisitForm
from charting.ui.visit_parts.map_panel import MODES, MapPanel
from charting.ui.visit_parts.mark_details import MarkDetailsPanel
from charting.ui.visit_parts.point_entry import PointEntry
from charting.ui.visit_parts.record_actions import RecordActions
from charting.ui.visit_parts.safety import SafetyColumn

#: Narrowest the three columns get (the page fits a 1024-pixel screen with room to spare).
FORM_MIN_WIDTH = 270
SIDE_MIN_WIDTH = 250


def _scrolling(widget: QWidget) -> QScrollArea:
    """``widget`` in a frameless scroll area that fills the room it is given."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(widget)
    return area


class _StepButton(QToolButton):
    """An undo or redo button with a steady label; the step it takes is in its tooltip."""

    def __init__(self, label: str, keys: str, action: QAction) -> None:
        super().__init__()
        self.setObjectName(f"{label.lower()}Button")
        self.setText(label)
        self._label, self._keys = label, keys
        self.clicked.connect(action.trigger)
        self.set_available(False)

    @Slot(bool)
    def set_available(self, available: bool) -> None:
        """Enable the button when there is a step to take."""
        self.setEnabled(available)

    @Slot(str)
    def set_step(self, text: str) -> None:
        """Name the step in the tooltip: "Undo Mark BL23 L (Ctrl+Z)"."""
        self.setToolTip(f"{self._label} {text} ({self._keys})" if text else "")


class VisitChartPage(QWidget):
    """The body map of one visit, with its written record and the list and details of its
    marks.

    Every click, typed point or edit is stored by a service the moment it is made, through
    the undo stack; the map and list are redrawn from what the visit holds.

    Signals:
        closed(): the user is done charting and wants the patient's chart back.
        message_posted(str): a short confirmation for the status bar.
    """

    closed = Signal()
    message_posted = Signal(str)

    def __init__(self, ops: OpRunner, bodymap: BodyMap, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("visitEditor")
        self.ops = ops
        # The page's own copy of the map: the clinic's custom points are laid over it (and
        # replaced when they change) without touching the shared catalog.
        self.bodymap = bodymap = bodymap.with_custom_points(bodymap.custom_points)
        self.visit_id: int | None = None
        self._rows: list[MarkRow] = []
        self._previous: list[MarkRow] = []
        self._decisions: dict[str, Decision] = {}
        self._signed = False
        self._editable = False
        self._practitioner_id: int | None = None
        self.undo_stack = QUndoStack(self)

        # -- header: who and what, save state, banner -------------------------------------
        self.title = QLabel()
        self.title.setObjectName("visitTitle")
        self.title.setStyleSheet("font-size: 14pt; font-weight: 600;")
        self.title.setWordWrap(True)
        self.subtitle = QLabel()
        self.subtitle.setStyleSheet("color: #555;")
        self.subtitle.setWordWrap(True)
        self.save_state = QLabel("All changes saved")
        self.save_state.setObjectName("saveState")
        self.save_state.setWordWrap(True)
        self.save_state.setStyleSheet("color: #555;")
        self.flags = QLabel()
        self.flags.setObjectName("visitFlags")
        self.flags.setStyleSheet("color: #8c1d18; font-weight: 600;")
        self.flags.setWordWrap(True)
        for label in (self.title, self.subtitle, self.save_state, self.flags):
            # Long names and complaints wrap; they never make the window wider.
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        # Says why a visit cannot be changed (signed, or a colleague's draft), always on top.
        self.banner = QFrame()
        self.banner.setObjectName("visitBanner")
        self.banner_text = QLabel()
        self.banner_text.setObjectName("visitBannerText")
        self.banner_text.setTextFormat(Qt.TextFormat.PlainText)
        self.banner_text.setWordWrap(True)
        self.banner_text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.take_over_button = QPushButton("Take over this draft")
        self.take_over_button.setObjectName("takeOverDraft")
        self.take_over_button.setToolTip(
            "Make this draft yours to continue and sign (recorded in the audit log)"
        )
        banner_row = QHBoxLayout(self.banner)
        banner_row.setContentsMargins(8, 4, 8, 4)
        banner_row.addWidget(self.banner_text, 1)
        banner_row.addWidget(self.take_over_button)
        self.banner.hide()

        # -- parts ---------------------------------------------------------------------------
        self.form = VisitForm(ops)
        self.form.setMinimumWidth(FORM_MIN_WIDTH)
        self.actions_bar = RecordActions(ops, bodymap, self.form)
        self.addAction(self.actions_bar.print_handout_action)
        back = QPushButton("\u2190 Back to chart")
        back.setObjectName("backToChart")
        back.clicked.connect(self._on_back_clicked)
        self.map_panel = MapPanel(bodymap)
        self.map = self.map_panel.map
        # The map for points, or the pain drawing of the same visit (F6).
        self.pain = PainPanel(ops, bodymap, self.undo_stack)
        self.centre_stack = PageStack()
        self.centre_stack.setObjectName("visitCentre")
        self.centre_stack.addWidget(self.map_panel)
        self.centre_stack.addWidget(self.pain)
        self.pain_button = QToolButton()
        self.pain_button.setObjectName("painDrawingButton")
        self.pain_button.setText("Pain drawing")
        self.pain_button.setCheckable(True)
        self.pain_button.setToolTip("Draw where it hurts (F6); back to the points with F6 again")
        self.point_entry = PointEntry(bodymap, lambda: self.map.view_id, self.set_view)
        self.show_previous = QCheckBox("Show last visit")
        self.show_previous.setObjectName("showPrevious")
        self.show_previous.setChecked(True)
        self.repeat_button = QPushButton("Repeat last visit")
        self.repeat_button.setObjectName("repeatLastVisit")
        self.protocol_button = QPushButton("Templates")
        self.protocol_button.setObjectName("protocolButton")
        self.protocol_button.setToolTip("Visit templates and your saved protocols")
        self.protocol_menu = QMenu(self.protocol_button)
        self.protocol_button.setMenu(self.protocol_menu)
        self.undo_action = self.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = self.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        for act in (self.undo_action, self.redo_action):
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(act)
        # Short, steady labels: a button that grew to "Undo Mark BL23 L" would shift the
        # row (and repaint the whole page) on every click. What it undoes is in its tooltip.
        self.undo_button = _StepButton("Undo", "Ctrl+Z", self.undo_action)
        self.undo_stack.canUndoChanged.connect(self.undo_button.set_available)
        self.undo_stack.undoTextChanged.connect(self.undo_button.set_step)
        self.redo_button = _StepButton("Redo", "Ctrl+Shift+Z", self.redo_action)
        self.undo_stack.canRedoChanged.connect(self.redo_button.set_available)
        self.undo_stack.redoTextChanged.connect(self.redo_button.set_step)

        self.mark_list = QListView()
        self.mark_list.setObjectName("markList")
        # The map's model and selection model: a mark selected in either is selected in both.
        self.mark_model = self.map.mark_model
        self.mark_list.setModel(self.mark_model)
        self.mark_list.setSelectionModel(self.map.selection)
        self.mark_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.mark_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.mark_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.mark_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.mark_list.setUniformItemSizes(True)
        # The list takes the room the details leave (it scrolls itself), never the other way
        # round: on a laptop screen the details' fields stay in view. Its own size hint is
        # ignored; at least three rows show.
        self.mark_list.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.mark_list.setMinimumHeight(3 * self.mark_list.fontMetrics().height() + 8)
        self.mark_count = Readout("markCount")
        self.details = MarkDetailsPanel(ops, bodymap, self.undo_stack, self._rows_with)
        self.ea_panel = EAPanel(ops, self.map.selected_mark_ids, self.undo_stack, bodymap)
        self.adverse_panel = AdverseEventPanel(ops)
        self.safety_column = SafetyColumn(ops)
        self.safety = self.safety_column.panel
        self.amendment_model = QStringListModel(self)
        self.amendment_list = QListView()
        self.amendment_list.setObjectName("amendmentList")
        self.amendment_list.setModel(self.amendment_model)
        self.amendment_list.setWordWrap(True)
        self.amendment_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)

        # -- layout --------------------------------------------------------------------------
        marks_tab = QWidget()
        marks_layout = QVBoxLayout(marks_tab)
        marks_layout.setContentsMargins(2, 2, 2, 2)
        marks_layout.setSpacing(4)
        marks_layout.addWidget(self.mark_count)
        marks_layout.addWidget(self.mark_list, 1)
        marks_layout.addWidget(self.details)
        self.side_tabs = QTabWidget()
        self.side_tabs.setObjectName("visitSideTabs")
        self.side_tabs.setUsesScrollButtons(False)
        # Each tab scrolls when the column is narrower than its content: the column never
        # sets the window's minimum width (a laptop screen is 1024 pixels wide).
        self.side_tabs.addTab(_scrolling(marks_tab), "&Marks")
        self.side_tabs.addTab(_scrolling(self.ea_panel), "&EA")
        self.side_tabs.addTab(_scrolling(self.adverse_panel), "Ad&verse")
        self.side_tabs.addTab(self.amendment_list, "Amend.")
        self.side_tabs.setTabToolTip(2, "Adverse events")
        self.side_tabs.setTabToolTip(3, "Amendments")
        self.side = QSplitter(Qt.Orientation.Vertical)
        self.side.setObjectName("safetySplitter")
        self.side.addWidget(self.safety_column)
        self.side.addWidget(self.side_tabs)
        self.side.setChildrenCollapsible(False)
        self.side.setStretchFactor(0, 1)
        self.side.setStretchFactor(1, 1)
        # Nearly half the column for the warnings: several show at once, never a strip.
        self.side.setSizes([450, 550])
        self.side.setMinimumWidth(SIDE_MIN_WIDTH)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("visitSplitter")
        self.splitter.addWidget(self.form)
        self.splitter.addWidget(self.centre_stack)
        self.splitter.addWidget(self.side)
        self.splitter.setChildrenCollapsible(False)
        # Extra room on a large screen goes to the map; the columns beside it keep theirs.
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setSizes([330, 600, 300])

        titles = QVBoxLayout()
        titles.setSpacing(0)
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        state_row = QHBoxLayout()
        state_row.addWidget(self.save_state, 1)
        state_row.addWidget(self.flags, 2)
        titles.addLayout(state_row)
        header = QHBoxLayout()
        header.addLayout(titles, 1)
        header.addWidget(self.actions_bar, 0, Qt.AlignmentFlag.AlignTop)
        header.addWidget(back, 0, Qt.AlignmentFlag.AlignTop)
        entry_row = QHBoxLayout()
        entry_row.addWidget(self.point_entry, 1)
        entry_row.addWidget(self.show_previous)
        entry_row.addWidget(self.repeat_button)
        entry_row.addWidget(self.protocol_button)
        entry_row.addWidget(self.pain_button)
        entry_row.addWidget(self.undo_button)
        entry_row.addWidget(self.redo_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(4)
        layout.addLayout(header)
        layout.addWidget(self.banner)
        layout.addLayout(entry_row)
        layout.addWidget(self.splitter, 1)
        self._shortcuts()
        self._connect()
        self.details.show_marks([], False)

    def _shortcuts(self) -> None:
        self._shortcut("Ctrl+K", self._on_focus_entry_triggered)
        for vid, key in self.map_panel.view_keys.items():
            self._shortcut(key, lambda _=False, v=vid: self.set_view(v))
        for mode, _title, key in MODES:
            self._shortcut(key, lambda _=False, m=mode: self.set_mode(m))
        for preset in REGION_PRESETS:
            region_key = self.map_panel.region_keys.get(preset.id)
            if region_key:
                self._shortcut(region_key, lambda _=False, p=preset.id: self.map_panel.zoom_to(p))
        self._shortcut("F6", lambda _=False: self.pain_button.toggle())
        self.addActions(self.form.phase_actions)

    def _shortcut(self, key: str, slot: Any) -> QAction:
        """A keyboard shortcut that works anywhere on this page."""
        action = QAction(self)
        action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _connect(self) -> None:
        self.form.save_failed.connect(self._on_form_save_failed)
        self.form.handout_given_requested.connect(self._on_form_handout_given_requested)
        self.form.save_state_changed.connect(self._on_form_save_state_changed)
        self.actions_bar.message_posted.connect(self.message_posted)
        self.actions_bar.reopen_requested.connect(self._on_actions_bar_reopen_requested)
        self.actions_bar.amended.connect(self._on_actions_bar_amended)
        self.take_over_button.clicked.connect(self.actions_bar.take_over)
        self.map.point_clicked.connect(self._on_map_point_clicked)
        self.map.trigger_clicked.connect(self._on_map_trigger_clicked)
        self.map.free_clicked.connect(self._on_map_free_clicked)
        self.map.custom_point_requested.connect(self._on_map_custom_point_requested)
        self.map.mark_moved.connect(self._on_map_mark_moved)
        self.map.delete_requested.connect(self._on_map_delete_requested)
        self.map.mark_activated.connect(self._on_map_mark_activated)
        self.map.selection_changed.connect(self._on_map_selection_changed)
        self.point_entry.marks_requested.connect(self._on_point_entry_marks_requested)
        self.point_entry.changes_requested.connect(self._on_point_entry_changes_requested)
        self.show_previous.toggled.connect(self.map.set_ghosts_visible)
        self.repeat_button.clicked.connect(self.repeat_last_visit)
        self.protocol_menu.aboutToShow.connect(self._on_protocol_menu_about_to_show)
        self.pain_button.toggled.connect(self._on_pain_button_toggled)
        self.pain.patient_mode_requested.connect(self._on_pain_patient_mode_requested)
        self.pain.drawing_loaded.connect(self.map_panel.show_pain)
        self.ops.changes_applied.connect(self._on_ops_changes_applied)
        self.ops.operation_failed.connect(self._on_ops_operation_failed)

    # -- compatibility names used by callers of the page ----------------------------------------
    @property
    def sign_button(self) -> QPushButton:
        """Sign visit… (Amend… on a signed visit)."""
        return self.actions_bar.sign_button

    @property
    def print_handout_action(self) -> QAction:
        """Documents ▸ Print aftercare handout (Ctrl+P)."""
        return self.actions_bar.print_handout_action

    def sign(self) -> None:
        """Sign the visit (or amend a signed one)."""
        self.actions_bar.sign()

    def print_handout(self) -> bool:
        """Print the aftercare handout and record that it was given."""
        return self.actions_bar.print_handout()

    def document_builder(self, kind: str) -> Any:
        """A function that writes this visit's handout or summary PDF to a target."""
        return self.actions_bar.document_builder(kind)

    def _document(self, kind: str, how: str) -> Any:
        return self.actions_bar.document(kind, how)

    def set_mode(self, mode: str) -> None:
        """Choose what a plain click places: "point", "ashi" or "cupping"."""
        self.map_panel.set_mode(mode)

    def set_view(self, view_id: str) -> None:
        """Switch the map to another view."""
        self.map_panel.set_view(view_id)

    def specs_for_typed(self, text: str) -> list[MarkSpec] | None:
        """Marks for a typed point (see PointEntry.specs_for_typed)."""
        return self.point_entry.specs_for_typed(text)

    # -- loading ---------------------------------------------------------------------------
    def open_visit(self, visit_id: int) -> None:
        """Show ``visit_id`` (its patient, marks and the previous visit's marks)."""
        self.visit_id = visit_id
        self.undo_stack.clear()
        # The clinic's custom points first: another workstation may have added one, and the
        # marks read below are told apart by them.
        self.reload_custom_points()

        def load(
            session: Any,
        ) -> tuple[str, str, tuple[str, ...], bool, list[MarkRow], VisitAccess, Any, Any]:
            visit = session.get(Visit, visit_id)
            patient: Patient = visit.patient
            title = f"{patient.full_name}  \u00b7  chart {patient.chart_number}"
            when = visit.started_at.astimezone().strftime("%Y-%m-%d %H:%M")
            sub = (
                f"Visit {visit.number}  \u00b7  {when}  \u00b7  "
                f"{visit.practitioner.display_name}  \u00b7  {visit.status}"
            )
            if visit.chief_complaint:
                sub += f"  \u00b7  {visit.chief_complaint}"
            previous = mark_service.previous_marks(session, visit_id, self.bodymap)
            flags = health_flags(patient)
            return (
                title,
                sub,
                flags,
                patient.pregnant,
                previous,
                visit_access(session, visit_id),
                decisions_for(session, visit_id),
                visit_record.previous_ea_settings(session, visit_id),
            )

        title, sub, flags, pregnant, previous, access, decisions, ea = self.ops.read(load)
        self.title.setText(title)
        self.subtitle.setText(sub)
        self.flags.setText("\u26a0 " + "  \u00b7  ".join(flags) if flags else "")
        self.flags.setVisible(bool(flags))
        self._signed = access.status != "draft"
        self._practitioner_id = access.practitioner_id
        self._previous = previous
        self._decisions = decisions
        self.ea_panel.previous_settings = ea
        self.map.set_pregnant(pregnant)
        self.map.set_ghost_marks(previous)
        self.map.set_ghosts_visible(self.show_previous.isChecked())
        self._apply_access(access)
        self._show_amendments()
        self.pain.show_visit(visit_id, access.editable)
        # The page's keys (Ctrl+K, Alt+1..., F2...) work from the moment it is shown.
        QTimer.singleShot(0, self._focus_map)

    def _apply_access(self, access: VisitAccess) -> None:
        """Make the page editable or read-only as the visit allows, and say why in the banner.

        Nothing on a read-only visit accepts input it would then refuse: the map only selects,
        the fields and details are disabled, and the banner says who signed (corrections are
        amendments) or whose draft it is (with "Take over this draft")."""
        vid = self.visit_id
        assert vid is not None
        self._editable = access.editable
        self.map.set_read_only(not access.editable)
        self.form.load(vid, editable=access.editable)
        self.point_entry.setEnabled(access.editable)
        self.protocol_button.setEnabled(access.editable)
        self.map_panel.set_editable(access.editable)
        self.safety_column.visit_id = vid
        self.safety_column.practitioner_id = self._practitioner_id
        self.actions_bar.show_visit(vid, self._practitioner_id, self._signed, access.editable)
        previous = self._previous
        self.repeat_button.setEnabled(access.editable and bool(previous))
        self.repeat_button.setToolTip(
            f"Copy the {len(previous)} marks of the last visit (one undoable step)"
            if previous
            else "This is the patient's first visit"
        )
        if self._signed:
            when = (
                access.signed_at.astimezone().strftime("%Y-%m-%d %H:%M") if access.signed_at else ""
            )
            text = (
                f"Signed by {access.signed_by or access.practitioner} on {when}. The signed "
                "record is closed and shown as signed; corrections are added as amendments "
                "(Amend\u2026), beside the original."
            )
            if access.signature_problem:
                text = (
                    f"WARNING: {access.signature_problem}. What is shown is not the record as "
                    f"signed by {access.signed_by or access.practitioner} on {when}: do not rely "
                    "on it. The audit log and a backup show what was signed."
                )
        else:
            text = "" if access.editable else access.reason
        self.banner_text.setText(text)
        state = "altered" if access.signature_problem else "signed" if self._signed else "locked"
        background, border = {
            "altered": ("#fde7e9", "#8c1d18"),
            "signed": ("#e8f0e8", "#7aa37a"),
            "locked": ("#fff4d6", "#c9a227"),
        }[state]
        self.banner.setProperty("state", state)
        self.banner.setStyleSheet(
            f"#visitBanner {{ background: {background}; border: 1px solid {border}; "
            "border-radius: 4px; }"
        )
        self.take_over_button.setVisible(access.can_take_over)
        self.banner.setVisible(bool(text))
        self.refresh()

    def refresh(self, changed_marks: frozenset[int] | None = None) -> None:
        """Redraw the map and list from what the visit holds.

        With ``changed_marks``, only those marks are read again (a click adds one mark to a
        visit that may hold hundreds); the safety rules still see every mark.
        """
        if self.visit_id is None:
            return
        vid = self.visit_id
        known = self._rows
        decisions = self._decisions

        def load(session: Any) -> tuple[list[MarkRow], list[EAPair], list[VisitWarning]]:
            if changed_marks is None:
                rows = mark_service.list_marks(session, vid, self.bodymap)
            else:
                fresh = mark_service.list_marks(session, vid, self.bodymap, changed_marks)
                kept = {r.id: r for r in known if r.id not in changed_marks}
                kept.update((r.id, r) for r in fresh)
                rows = [kept[i] for i in sorted(kept)]
            pairs = visit_record.ea_pairs(session, vid)
            warnings = visit_warnings(session, vid, self.bodymap, rows, pairs, decisions)
            return rows, pairs, warnings

        # One read for everything a click changes (on PostgreSQL each query is a round trip,
        # so it runs without a transaction around it: see OpRunner.read).
        self._rows, pairs, warnings = self.ops.read(load, autocommit=True)
        self.map.set_marks(self._rows)
        cupping = MarkKind.CUPPING.value  # once: an enum lookup is slow in a loop of hundreds
        cups = sum(1 for r in self._rows if r.spec.kind == cupping)
        self.form.set_needles_in(len(self._rows) - cups)
        self.map.set_ea_pairs(self.ea_panel.show_pairs(vid, self._rows, self._editable, pairs))
        if changed_marks is None:  # marks do not change the adverse events
            self.adverse_panel.show_events(vid, self._editable)
        self.safety.show_warnings(warnings, editable=self._editable)
        self.map.set_alert_marks(
            {
                mark_id: w.warning.title
                for w in warnings
                if w.needs_attention and w.warning.severity != "advisory"
                for mark_id in w.warning.mark_ids
            }
        )
        self.mark_count.setText(
            f"{len(self._rows) - cups} needle sites  \u00b7  {cups} cupping sites"
        )
        self._show_details()
        carry = [(w.warning.key, w.warning.message) for w in warnings if w.pending_carry]
        if carry and self._editable:
            # Decisions that stand from an earlier visit are recorded on this one (audited).
            self.ops.run(self, visit_record.carry_over_decisions, vid, carry)

    @Slot()
    def _focus_map(self) -> None:
        focus = QApplication.focusWidget()
        if self.isVisible() and (focus is None or not self.isAncestorOf(focus)):
            self.map.setFocus()

    def _rows_with(self, ids: Sequence[int]) -> list[MarkRow]:
        wanted = set(ids)
        return [r for r in self._rows if r.id in wanted]

    def _show_details(self) -> None:
        self.details.show_marks(self._rows_with(self.map.selected_mark_ids()), self._editable)

    # -- adding marks --------------------------------------------------------------------------
    def add_marks(self, specs: list[MarkSpec], text: str) -> list[int]:
        """Store marks as one undoable step; return their ids (empty if refused)."""
        if self.visit_id is None or not specs:
            return []
        command = AddMarksCommand(self.ops, self.bodymap, self.visit_id, specs, text)
        command.parent_widget = self
        self.undo_stack.push(command)
        return command.ids

    @Slot(str, str, str, float, float)
    def _on_map_point_clicked(self, view: str, code: str, side: str, x: float, y: float) -> None:
        spec = MarkSpec(MarkKind.ACUPOINT.value, view, x, y, side, point_code=code)
        self.add_marks([spec], f"Mark {code} {side}")

    @Slot(str, str, str, float, float)
    def _on_map_trigger_clicked(
        self, view: str, muscle: str, side: str, x: float, y: float
    ) -> None:
        spec = MarkSpec(MarkKind.TRIGGER_POINT.value, view, x, y, side, muscle_id=muscle)
        self.add_marks([spec], f"Trigger point ({self.bodymap.muscle(muscle).name})")

    def _apply_custom_points(self, custom: tuple[CustomPointData, ...], allowed: bool) -> None:
        """Lay the clinic's custom points over the page's body map, if they changed."""
        self.map.custom_points_allowed = allowed
        if custom == self.bodymap.custom_points:
            return
        self.bodymap.set_custom_points(custom)
        self.map.refresh_points()
        self.point_entry.refresh_points()

    def reload_custom_points(self) -> None:
        """Read the clinic's custom points again and show them (map, typed entry, list)."""
        custom, allowed = self.ops.read(
            lambda s: (
                custom_points.custom_point_data(s),
                actor_of(s).can(Permission.CUSTOM_POINTS),
            )
        )
        self._apply_custom_points(custom, allowed)

    @Slot(str, float, float)
    def _on_map_custom_point_requested(self, view: str, x: float, y: float) -> None:
        from charting.ui.custom_points_dialog import CustomPointEditor

        CustomPointEditor.add_at(self, self.ops, view, x, y)

    @Slot(str, str, str, float, float)
    def _on_map_free_clicked(self, kind: str, view: str, side: str, x: float, y: float) -> None:
        self.add_marks([MarkSpec(kind, view, x, y, side)], f"Add {KIND_LABELS[kind].lower()}")

    @Slot(list, str)
    def _on_point_entry_marks_requested(self, specs: list[MarkSpec], text: str) -> None:
        if self.add_marks(specs, text):
            self.point_entry.clear()

    @Slot(list, list, str)
    def _on_point_entry_changes_requested(
        self, specs: list[MarkSpec], removals: list[tuple[str, str | None]], text: str
    ) -> None:
        """Typed marks taken off and added, as one undoable step."""
        if self.visit_id is None or not self._editable:
            return
        ids: list[int] = []
        for code, side in removals:
            found = [
                r.id
                for r in self._rows
                if r.spec.point_code == code and (side is None or r.spec.side == side)
            ]
            if not found:
                self.point_entry.show_problem(
                    f"{code}{' ' + side if side else ''} is not marked on this visit: "
                    "nothing was changed."
                )
                return
            ids.extend(found)
        self.undo_stack.beginMacro(text)
        try:
            self.delete_marks(ids)
            if specs:
                self.add_marks(specs, text)
        finally:
            self.undo_stack.endMacro()
        self.point_entry.clear()

    def repeat_last_visit(self) -> None:
        """Copy the previous visit's marks (techniques, depths, cupping details) and its EA
        pairs with their settings, as one undoable step."""
        if not self._previous or self.visit_id is None or not self._editable:
            return
        retired = mark_service.retired_points(self.bodymap, self._previous)
        count = sum(1 for r in self._previous if r.spec.point_code not in retired)
        command = RepeatVisitCommand(
            self.ops,
            self.bodymap,
            self.visit_id,
            self._previous[0].visit_id,
            f"Repeat last visit ({count} mark{'' if count == 1 else 's'})",
        )
        command.parent_widget = self
        self.undo_stack.push(command)
        if retired and not command.isObsolete():
            self.message_posted.emit(
                f"Not repeated: {', '.join(retired)} (retired custom "
                f"point{'s' if len(retired) > 1 else ''} of this clinic)."
            )

    # -- templates and protocols ------------------------------------------------------------------
    @Slot()
    def _on_protocol_menu_about_to_show(self) -> None:
        menu = self.protocol_menu
        menu.clear()
        menu.addSection("Visit templates")
        for tid, name in template_names():
            act = menu.addAction(name)
            act.setObjectName(f"template_{tid}")
            act.triggered.connect(lambda _=False, t=tid, n=name: self.apply_template(t, n))
        save = menu.addAction("Save current marks as protocol\u2026")
        save.setEnabled(bool(self._rows))
        save.triggered.connect(self.save_protocol)
        protocols = self.ops.read(mark_service.list_protocols)
        if protocols:
            menu.addSection("Your protocols")
        for pid, name, count in protocols:
            act = menu.addAction(f"{name}  ({count} marks)")
            act.setData(pid)
            act.triggered.connect(lambda _=False, p=pid: self.apply_protocol(p))
        if protocols:
            delete = menu.addMenu("Delete protocol")
            for pid, name, _count in protocols:
                act = delete.addAction(name)
                act.triggered.connect(lambda _=False, p=pid, n=name: self._delete_protocol(p, n))

    def apply_template(self, template_id: str, name: str) -> None:
        """Apply a visit template (points, EA pairs, cupping, plan fields) in one undoable
        step."""
        if self.visit_id is None or not self._editable:
            return
        self.form.flush()
        command = ApplyTemplateCommand(
            self.ops, self.bodymap, self.visit_id, template_id, f"Apply template {name}"
        )
        command.parent_widget = self
        self.undo_stack.push(command)
        self.form.load(self.visit_id, self._editable)

    def save_protocol(self) -> None:
        """Ask for a name and save the current marks as a protocol."""
        name, ok = QInputDialog.getText(
            self, "Save protocol", "Protocol name (e.g. Acute low back pain):"
        )
        if ok and name.strip():
            specs = mark_service.as_specs(self._rows, keep_details=False)
            if self.ops.run(self, mark_service.save_protocol, name, specs):
                self.message_posted.emit(f"Protocol \u201c{name.strip()}\u201d saved.")

    def apply_protocol(self, protocol_id: int) -> None:
        """Add a protocol's marks to this visit in one undoable step."""
        specs = self.ops.read(lambda s: mark_service.protocol_specs(s, protocol_id))
        self.add_marks(specs, "Apply protocol")

    def _delete_protocol(self, protocol_id: int, name: str) -> None:
        answer = QMessageBox.question(
            self, "Delete protocol", f"Delete the protocol \u201c{name}\u201d?"
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.ops.run(self, mark_service.delete_protocol, protocol_id)

    # -- editing marks --------------------------------------------------------------------------
    @Slot(int, float, float)
    def _on_map_mark_moved(self, mark_id: int, x: float, y: float) -> None:
        row = next((r for r in self._rows if r.id == mark_id), None)
        if row is None:
            return
        command = MoveMarkCommand(
            self.ops, self.bodymap, mark_id, (row.spec.x, row.spec.y), (x, y), row.version
        )
        command.parent_widget = self
        # The move is announced by the op runner and redrawn from it (once), or refused and
        # redrawn from what is stored.
        self.undo_stack.push(command)

    @Slot(list)
    def _on_map_delete_requested(self, ids: list[int]) -> None:
        self.delete_marks(ids)

    def delete_marks(self, ids: list[int]) -> None:
        """Delete marks as one undoable step."""
        if not ids:
            return
        text = "Delete mark" if len(ids) == 1 else f"Delete {len(ids)} marks"
        command = DeleteMarksCommand(self.ops, self.bodymap, ids, text)
        command.parent_widget = self
        self.undo_stack.push(command)

    @Slot(int)
    def _on_map_mark_activated(self, mark_id: int) -> None:
        if mark_id not in self.map.selected_mark_ids():
            self.map.select_marks({mark_id})
        self.side_tabs.setCurrentIndex(0)
        self.details.focus()

    @Slot(list)
    def _on_map_selection_changed(self, _ids: list[int]) -> None:
        self._show_details()

    # -- the rest ---------------------------------------------------------------------------
    @Slot()
    def _on_actions_bar_reopen_requested(self) -> None:
        if self.visit_id is not None:
            self.open_visit(self.visit_id)

    @Slot()
    def _on_actions_bar_amended(self) -> None:
        self._show_amendments()
        self.side_tabs.setCurrentWidget(self.amendment_list)

    @Slot()
    def _on_form_handout_given_requested(self) -> None:
        self.actions_bar.handout_issued("by_hand")

    @Slot(str)
    def _on_form_save_failed(self, message: str) -> None:
        # Modeless, so a refused autosave never blocks the session; the text says what to do.
        box = QMessageBox(QMessageBox.Icon.Warning, "Not saved", message, parent=self)
        box.setObjectName("saveFailedMessage")
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.message_posted.emit(message.splitlines()[0])

    def _show_amendments(self) -> None:
        vid = self.visit_id
        if vid is None:
            return
        rows = self.ops.read(lambda s: visit_record.amendments(s, vid))
        self.amendment_model.setStringList(
            [
                f"{a.created_at.astimezone():%Y-%m-%d %H:%M} \u2014 "
                f"{visit_record.FIELDS[a.field].label}: \u201c{a.original}\u201d \u2192 "
                f"\u201c{a.corrected}\u201d (reason: {a.reason})"
                for a in rows
            ]
            or ["No amendments."]
        )

    @Slot(bool)
    def _on_pain_button_toggled(self, drawing: bool) -> None:
        self.centre_stack.setCurrentWidget(self.pain if drawing else self.map_panel)
        if drawing:
            self.pain.refresh()

    @Slot()
    def _on_pain_patient_mode_requested(self) -> None:
        vid = self.visit_id
        if vid is None or not self._editable:
            return
        from charting.ui.pain.patient_mode import PatientModeWindow

        window = PatientModeWindow(self.ops, self.bodymap, self.undo_stack, vid, self)
        window.show_on_patient_screen()
        window.exec()
        self.pain.refresh()

    @Slot(str, str)
    def _on_form_save_state_changed(self, state: str, text: str) -> None:
        self.save_state.setText(text)
        self.save_state.setStyleSheet(
            "color: #b3261e; font-weight: 600;" if state == "unsaved" else "color: #555;"
        )

    def may_leave(self, leaving: str) -> bool:
        """Whether the visit may be left (``leaving``: "close this visit", "quit" ...): when
        typing is not stored yet, say so; the person stays (Charting keeps trying) or takes a
        copy of what was typed and leaves."""
        self.form.flush()
        if not self.form.has_unsaved():
            return True
        typed = self.form.unsaved_text()
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Not saved yet",
            f"Some of what you typed in this visit is not saved yet "
            f"({self.form.save_state_text})\n\n{typed}",
            parent=self,
        )
        box.setObjectName("unsavedMessage")
        stay = box.addButton("Stay (keep trying)", QMessageBox.ButtonRole.RejectRole)
        copy = box.addButton(f"Copy it and {leaving}", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(stay)
        box.exec()
        if box.clickedButton() is copy:
            QApplication.clipboard().setText(typed)
            return True
        return False

    @Slot()
    def _on_back_clicked(self) -> None:
        if self.may_leave("close this visit"):
            self.closed.emit()

    @Slot()
    def _on_focus_entry_triggered(self) -> None:
        self.point_entry.setFocus()
        self.point_entry.selectAll()

    @Slot(str)
    def _on_ops_operation_failed(self, _message: str) -> None:
        # A refused edit (e.g. made from a stale copy) must not stay on screen: show what is
        # stored again.
        if self.visit_id is not None and self.isVisible():
            self.refresh()

    @Slot(object)
    def _on_ops_changes_applied(self, changes: Changes) -> None:
        if changes.origin is self.form:
            return  # the form's own typing: nothing else on the page shows it
        if changes.custom_points:
            self.reload_custom_points()
            if self.visit_id is not None:
                self.refresh()
        if self.visit_id is not None and (self.visit_id in changes.visits or changes.marks):
            self.refresh(changes.marks or None)
