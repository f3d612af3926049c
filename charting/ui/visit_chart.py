"""Charting a visit on the body map: click, type or repeat marks; edit details; undo anything."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QStringListModel,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from charting.bodymap import BodyMap
from charting.models import EAPair, MarkKind, Patient, Visit
from charting.services import clinical_lists as lists
from charting.services import marks as mark_service
from charting.services import red_flags, visit_record
from charting.services.changes import Changes
from charting.services.handouts import handout_issues, record_handout
from charting.services.marks import (
    KIND_LABELS,
    RESPONSES,
    TECHNIQUES,
    MarkDetails,
    MarkRow,
    MarkSpec,
)
from charting.services.patients import health_flags
from charting.services.report_data import visit_report
from charting.services.safety import SafetyWarning
from charting.services.visit_safety import VisitWarning, blocking_titles, visit_warnings
from charting.services.visits import VisitAccess, take_over_draft, visit_access
from charting.ui.amend_dialog import AmendDialog
from charting.ui.app_rules import esc, plain_tooltip, rich_label
from charting.ui.bodymap_view import BodyMapView
from charting.ui.documents import (
    Build,
    DocumentAudit,
    open_document,
    print_document,
    save_document,
)
from charting.ui.forms import Readout
from charting.ui.mark_commands import (
    AddMarksCommand,
    DeleteMarksCommand,
    EditDetailsCommand,
    MoveMarkCommand,
    RepeatVisitCommand,
)
from charting.ui.needle_dialog import NeedleCountDialog
from charting.ui.ops import OpRunner
from charting.ui.pain.panel import PainPanel
from charting.ui.safety_panel import SafetyPanel
from charting.ui.visit_extras import AdverseEventPanel, EAPanel
from charting.ui.visit_form import VisitForm

MarkIdRole = Qt.ItemDataRole.UserRole + 1
_Index = QModelIndex | QPersistentModelIndex
VIEW_TITLES = (
    ("posterior", "Back && legs", "Ctrl+1"),
    ("lateral_leg", "Lateral leg", "Ctrl+2"),
    ("medial_leg", "Medial leg", "Ctrl+3"),
    ("anterior", "Front", "Ctrl+4"),
)
MODES = (
    ("point", "Point / trigger point", "F2"),
    ("ashi", "Ashi point", "F3"),
    ("cupping", "Cupping site", "F4"),
)
_SIDE_SUFFIX = re.compile(r"^(?P<code>.+?)[\s/]+(?P<side>l|r|b|left|right|both|bilateral)$", re.I)


def _optional_spin(name: str, high: int, suffix: str) -> QSpinBox:
    """A whole-number box where 0 means "not recorded"."""
    spin = QSpinBox()
    spin.setObjectName(name)
    spin.setRange(0, high)
    spin.setSuffix(suffix)
    spin.setSpecialValueText("not recorded")
    return spin


class MarkListModel(QAbstractListModel):
    """The visit's marks as a list beside the map (same rows the map draws)."""

    def __init__(self, bodymap: BodyMap, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._bodymap = bodymap
        self._rows: list[MarkRow] = []

    def set_rows(self, rows: list[MarkRow]) -> None:
        """Show ``rows``. Only the run of rows that differs is removed and inserted (a click
        adds one mark to a list of hundreds; the view keeps its place and selection)."""
        old, new = self._rows, list(rows)
        shorter = min(len(old), len(new))
        head = 0
        while head < shorter and old[head].id == new[head].id:
            head += 1
        tail = 0
        while tail < shorter - head and old[-1 - tail].id == new[-1 - tail].id:
            tail += 1
        if len(old) - tail > head:
            self.beginRemoveRows(QModelIndex(), head, len(old) - tail - 1)
            self._rows = old[:head] + old[len(old) - tail :]
            self.endRemoveRows()
        if len(new) - tail > head:
            self.beginInsertRows(QModelIndex(), head, len(new) - tail - 1)
            self._rows = new
            self.endInsertRows()
        self._rows = new
        # Kept rows whose details changed (same mark, new technique or note) are repainted.
        offset = len(old) - len(new)
        changed = [
            i
            for i in [*range(head), *range(len(new) - tail, len(new))]
            if old[i + (offset if i >= head else 0)] != new[i]
        ]
        if changed:
            self.dataChanged.emit(self.index(min(changed)), self.index(max(changed)))

    def row_of(self, mark_id: int) -> int | None:
        """List row of a mark id."""
        for i, row in enumerate(self._rows):
            if row.id == mark_id:
                return i
        return None

    def mark(self, row: int) -> MarkRow | None:
        """The mark at ``row``."""
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == MarkIdRole:
            return row.id
        if role == Qt.ItemDataRole.DisplayRole:
            parts = [row.label]
            if row.spec.point_code:
                parts.append(self._bodymap.point(row.spec.point_code).pinyin)
            elif row.spec.muscle_id:
                parts.append(self._bodymap.muscle(row.spec.muscle_id).name)
            else:
                parts.append(KIND_LABELS[row.kind])
            if row.spec.technique:
                parts.append(TECHNIQUES.get(row.spec.technique, row.spec.technique))
            return "  \u00b7  ".join(parts)
        if role == Qt.ItemDataRole.ToolTipRole and row.flags:
            return "Cautions: " + ", ".join(sorted(row.flags))
        return None


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
    """The body map of one visit, with the list and details of its marks.

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
        self.bodymap = bodymap
        self.visit_id: int | None = None
        self._rows: list[MarkRow] = []
        self._previous: list[MarkRow] = []
        self._signed = False
        self._editable = False
        self._practitioner_id: int | None = None
        self._syncing = False
        self.undo_stack = QUndoStack(self)

        self.title = QLabel()
        self.title.setObjectName("visitTitle")
        self.title.setStyleSheet("font-size: 15pt; font-weight: 600;")
        self.subtitle = QLabel()
        self.subtitle.setStyleSheet("color: #555;")
        self.save_state = QLabel("All changes saved")
        self.save_state.setObjectName("saveState")
        self.save_state.setWordWrap(True)
        self.save_state.setStyleSheet("color: #555;")
        self.flags = QLabel()
        self.flags.setObjectName("visitFlags")
        self.flags.setStyleSheet("color: #8c1d18; font-weight: 600;")
        self.flags.setWordWrap(True)
        # Says why a visit cannot be changed (signed, or a colleague's draft), always on top.
        self.banner = QFrame()
        self.banner.setObjectName("visitBanner")
        self.banner_text = QLabel()
        self.banner_text.setObjectName("visitBannerText")
        self.banner_text.setTextFormat(Qt.TextFormat.PlainText)
        self.banner_text.setWordWrap(True)
        self.take_over_button = QPushButton("Take over this draft")
        self.take_over_button.setObjectName("takeOverDraft")
        self.take_over_button.setToolTip(
            "Make this draft yours to continue and sign (recorded in the audit log)"
        )
        self.take_over_button.clicked.connect(self.take_over)
        banner_row = QHBoxLayout(self.banner)
        banner_row.setContentsMargins(8, 4, 8, 4)
        banner_row.addWidget(self.banner_text, 1)
        banner_row.addWidget(self.take_over_button)
        self.banner.hide()
        self.documents_button = QPushButton("Documents")
        self.documents_button.setObjectName("documentsButton")
        documents = QMenu(self.documents_button)
        self.print_handout_action = documents.addAction(
            "&Print aftercare handout\u2026", self.print_handout
        )
        self.print_handout_action.setShortcut(QKeySequence.StandardKey.Print)
        self.print_handout_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.addAction(self.print_handout_action)
        documents.addAction("Save handout as PDF\u2026", lambda: self._document("handout", "save"))
        documents.addAction("Open handout", lambda: self._document("handout", "open"))
        documents.addSeparator()
        documents.addAction(
            "Save treatment summary as PDF\u2026", lambda: self._document("summary", "save")
        )
        documents.addAction("Open treatment summary", lambda: self._document("summary", "open"))
        self.documents_button.setMenu(documents)
        self.sign_button = QPushButton("Sign visit\u2026")
        self.sign_button.setObjectName("signVisit")
        self.sign_button.clicked.connect(self.sign)
        back = QPushButton("\u2190 Back to chart")
        back.setObjectName("backToChart")
        back.clicked.connect(self._on_back_clicked)

        self.map = BodyMapView(bodymap)
        view_row = QHBoxLayout()
        self.view_buttons = self._button_group(
            view_row,
            "view",
            VIEW_TITLES,
            lambda title, key: f"{title.replace('&&', '&')} ({key})",
            self.set_view,
        )
        view_row.addSpacing(16)
        self.mode_buttons = self._button_group(
            view_row,
            "mode",
            MODES,
            lambda title, key: f"Click places: {title.lower()} ({key}; Shift+click = ashi)",
            self.set_mode,
        )
        view_row.addStretch(1)
        self.pain_button = QToolButton()
        self.pain_button.setObjectName("painDrawingButton")
        self.pain_button.setText("Pain drawing")
        self.pain_button.setCheckable(True)
        self.pain_button.setToolTip("Draw where it hurts (F6); back to the points with F6 again")
        view_row.addWidget(self.pain_button)

        self.point_entry = QLineEdit()
        self.point_entry.setObjectName("pointEntry")
        self.point_entry.setPlaceholderText("Type a point: bl23, gb30 r, shenshu b  (Ctrl+K)")
        self.point_entry.setClearButtonEnabled(True)
        self._completions = QStringListModel(self)
        completer = QCompleter(self._completions, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionRole(Qt.ItemDataRole.DisplayRole)
        self.point_entry.setCompleter(completer)
        self._completions.setStringList(
            [f"{p.code}  {p.pinyin}  {p.english}" for p in bodymap.points]
        )
        self.show_previous = QCheckBox("Show last visit")
        self.show_previous.setObjectName("showPrevious")
        self.show_previous.setChecked(True)
        self.repeat_button = QPushButton("Repeat last visit")
        self.repeat_button.setObjectName("repeatLastVisit")
        self.protocol_button = QPushButton("Protocols")
        self.protocol_button.setObjectName("protocolButton")
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
        entry_row = QHBoxLayout()
        entry_row.addWidget(self.point_entry, 2)
        entry_row.addWidget(self.show_previous)
        entry_row.addWidget(self.repeat_button)
        entry_row.addWidget(self.protocol_button)
        entry_row.addWidget(self.undo_button)
        entry_row.addWidget(self.redo_button)
        self._shortcut("Ctrl+K", self._on_focus_entry_triggered)

        self.mark_model = MarkListModel(bodymap, self)
        self.mark_list = QListView()
        self.mark_list.setObjectName("markList")
        self.mark_list.setModel(self.mark_model)
        self.mark_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.mark_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.mark_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.mark_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.mark_list.setUniformItemSizes(True)
        self.mark_count = Readout("markCount")

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
        self.note = QLineEdit()
        self.note.setObjectName("markNote")
        self.note.setMaxLength(2000)
        self.note.setPlaceholderText("e.g. needled obliquely toward the spine")
        self.detail_title = rich_label("Select a mark to edit its details.")
        self.detail_title.setWordWrap(True)
        self.detail_info = rich_label()
        self.detail_info.setWordWrap(True)
        self.detail_info.setStyleSheet("color: #555;")
        details = QGroupBox("Mark details")
        form = QFormLayout(details)
        form.addRow(self.detail_title)
        form.addRow(self.detail_info)
        form.addRow("&Technique", self.technique)
        form.addRow("&Depth", self.depth_box)
        form.addRow("&Response", self.response)
        form.addRow("&Note", self.note)
        # The skin at the site as found before treatment (safety rules read it).
        self.skin = QComboBox()
        self.skin.setObjectName("skinAtSite")
        self.skin.addItem("Not noted", "")
        for choice in lists.SKIN_STATES:
            self.skin.addItem(choice.label, choice.id)
        form.addRow("S&kin at site", self.skin)
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
        self._cup_rows = []
        for label, widget in (
            ("Cupping", self.cup_type),
            ("Cups", self.cup_count),
            ("Time", self.cup_minutes),
            ("Skin", self.skin_response),
        ):
            form.addRow(label, widget)
            self._cup_rows.append(widget)
        self._detail_widgets = (
            self.technique,
            self.depth_box,
            self.response,
            self.note,
            self.skin,
            self.cup_type,
            self.cup_count,
            self.cup_minutes,
            self.skin_response,
        )
        self._detail_form = form
        self._note_timer = QTimer(self)
        self._note_timer.setSingleShot(True)
        self._note_timer.setInterval(400)

        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        self.safety = SafetyPanel()
        self.safety.acknowledge_requested.connect(self._on_safety_acknowledge_requested)
        safety_scroll = QScrollArea()
        safety_scroll.setWidgetResizable(True)
        safety_scroll.setFrameShape(QFrame.Shape.NoFrame)
        safety_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        safety_scroll.setWidget(self.safety)
        safety_scroll.setMinimumHeight(120)
        side_layout.addWidget(safety_scroll, 1)
        marks_tab = QWidget()
        marks_layout = QVBoxLayout(marks_tab)
        marks_layout.setContentsMargins(4, 4, 4, 4)
        marks_layout.addWidget(self.mark_count)
        marks_layout.addWidget(self.mark_list, 1)
        marks_layout.addWidget(details)
        self.ea_panel = EAPanel(ops, self.map.selected_mark_ids, self.undo_stack, bodymap)
        self.adverse_panel = AdverseEventPanel(ops)
        self.side_tabs = QTabWidget()
        self.side_tabs.setObjectName("visitSideTabs")
        self.side_tabs.addTab(marks_tab, "&Marks")
        self.side_tabs.addTab(self.ea_panel, "&EA pairs")
        self.side_tabs.addTab(self.adverse_panel, "Ad&verse events")
        self.amendment_model = QStringListModel(self)
        self.amendment_list = QListView()
        self.amendment_list.setObjectName("amendmentList")
        self.amendment_list.setModel(self.amendment_model)
        self.amendment_list.setWordWrap(True)
        self.amendment_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.side_tabs.addTab(self.amendment_list, "Amendments")
        side_layout.addWidget(self.side_tabs, 3)
        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        centre_layout.addLayout(view_row)
        # The map for points, or the pain drawing of the same visit.
        self.pain = PainPanel(ops, bodymap, self.undo_stack)
        self.pain.patient_mode_requested.connect(self._on_pain_patient_mode_requested)
        self.centre_stack = QStackedWidget()
        self.centre_stack.setObjectName("visitCentre")
        self.centre_stack.addWidget(self.map)
        self.centre_stack.addWidget(self.pain)
        centre_layout.addWidget(self.centre_stack, 1)
        self.pain_button.toggled.connect(self._on_pain_button_toggled)
        self._shortcut("F6", lambda _=False: self.pain_button.toggle())
        self.form = VisitForm(ops.database)
        self.form.setMinimumWidth(300)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("visitSplitter")
        self.splitter.addWidget(self.form)
        self.splitter.addWidget(centre)
        self.splitter.addWidget(side)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 4)
        self.splitter.setStretchFactor(2, 2)
        self.splitter.setSizes([380, 640, 300])

        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        titles.addWidget(self.save_state)
        titles.addWidget(self.flags)
        header.addLayout(titles, 1)
        header.addWidget(self.documents_button, 0, Qt.AlignmentFlag.AlignTop)
        header.addWidget(self.sign_button, 0, Qt.AlignmentFlag.AlignTop)
        header.addWidget(back, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.banner)
        layout.addLayout(entry_row)
        layout.addWidget(self.splitter, 1)
        self._connect()
        self._show_details(None)

    def _connect(self) -> None:
        self.form.save_failed.connect(self._on_form_save_failed)
        self.form.handout_given_requested.connect(self._on_form_handout_given_requested)
        self.form.save_state_changed.connect(self._on_form_save_state_changed)
        self.map.point_clicked.connect(self._on_map_point_clicked)
        self.map.trigger_clicked.connect(self._on_map_trigger_clicked)
        self.map.free_clicked.connect(self._on_map_free_clicked)
        self.map.mark_moved.connect(self._on_map_mark_moved)
        self.map.delete_requested.connect(self._on_map_delete_requested)
        self.map.mark_activated.connect(self._on_map_mark_activated)
        self.map.selection_changed.connect(self._on_map_selection_changed)
        self.view_buttons.idClicked.connect(self._on_view_buttons_id_clicked)
        self.mode_buttons.idClicked.connect(self._on_mode_buttons_id_clicked)
        self.point_entry.returnPressed.connect(self._on_point_entry_return_pressed)
        self.show_previous.toggled.connect(self.map.set_ghosts_visible)
        self.repeat_button.clicked.connect(self.repeat_last_visit)
        self.protocol_menu.aboutToShow.connect(self._on_protocol_menu_about_to_show)
        self.mark_list.selectionModel().selectionChanged.connect(
            self._on_mark_list_selection_changed
        )
        self.ops.changes_applied.connect(self._on_ops_changes_applied)
        self.ops.operation_failed.connect(self._on_ops_operation_failed)
        self.technique.activated.connect(self._on_detail_edited)
        self.response.activated.connect(self._on_detail_edited)
        self.skin.activated.connect(self._on_detail_edited)
        self.depth_box.editingFinished.connect(self._on_detail_edited)
        self.note.textEdited.connect(self._note_timer.start)
        self.note.editingFinished.connect(self._on_detail_edited)
        self._note_timer.timeout.connect(self._on_detail_edited)
        self.cup_type.activated.connect(self._on_detail_edited)
        self.cup_count.editingFinished.connect(self._on_detail_edited)
        self.cup_minutes.editingFinished.connect(self._on_detail_edited)
        self.skin_response.editingFinished.connect(self._on_detail_edited)

    # -- loading ---------------------------------------------------------------------------
    def open_visit(self, visit_id: int) -> None:
        """Show ``visit_id`` (its patient, marks and the previous visit's marks)."""
        self.visit_id = visit_id
        self.undo_stack.clear()

        def load(
            session: Any,
        ) -> tuple[str, str, tuple[str, ...], bool, list[MarkRow], VisitAccess]:
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
            return title, sub, flags, patient.pregnant, previous, visit_access(session, visit_id)

        title, sub, flags, pregnant, previous, access = self.ops.read(load)
        self.title.setText(title)
        self.subtitle.setText(sub)
        self.flags.setText("\u26a0 " + "  \u00b7  ".join(flags) if flags else "")
        self.flags.setVisible(bool(flags))
        self._signed = access.status != "draft"
        self._practitioner_id = access.practitioner_id
        self._previous = previous
        self.map.set_pregnant(pregnant)
        self.map.set_ghost_marks(previous)
        self.map.set_ghosts_visible(self.show_previous.isChecked())
        self._apply_access(access)
        self._show_amendments()
        self._show_handouts()
        self.pain.show_visit(visit_id, access.editable)
        self.refresh()

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
        for widget in (self.point_entry, self.protocol_button, *self.mode_buttons.buttons()):
            widget.setEnabled(access.editable)
        previous = self._previous
        self.repeat_button.setEnabled(access.editable and bool(previous))
        self.repeat_button.setToolTip(
            f"Copy the {len(previous)} marks of the last visit (one undoable step)"
            if previous
            else "This is the patient's first visit"
        )
        if self._signed:
            self.sign_button.setText("Amend\u2026")
            self.sign_button.setEnabled(True)
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
            self.sign_button.setText("Sign visit\u2026")
            self.sign_button.setEnabled(access.editable)
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

        def load(session: Any) -> tuple[list[MarkRow], list[EAPair], list[VisitWarning]]:
            if changed_marks is None:
                rows = mark_service.list_marks(session, vid, self.bodymap)
            else:
                fresh = mark_service.list_marks(session, vid, self.bodymap, changed_marks)
                kept = {r.id: r for r in known if r.id not in changed_marks}
                kept.update((r.id, r) for r in fresh)
                rows = [kept[i] for i in sorted(kept)]
            pairs = visit_record.ea_pairs(session, vid)
            return rows, pairs, visit_warnings(session, vid, self.bodymap, rows, pairs)

        # One read for everything a click changes (on PostgreSQL each query is a round trip).
        self._rows, pairs, warnings = self.ops.read(load)
        selected = set(self.map.selected_mark_ids())
        self._syncing = True
        try:
            self.map.set_marks(self._rows)
            self.mark_model.set_rows(self._rows)
            self._select(selected & {r.id for r in self._rows})
        finally:
            self._syncing = False
        cupping = MarkKind.CUPPING.value  # once: an enum lookup is slow in a loop of hundreds
        cups = sum(1 for r in self._rows if r.spec.kind == cupping)
        self.form.set_needles_in(len(self._rows) - cups)
        vid_ = self.visit_id
        self.map.set_ea_pairs(self.ea_panel.show_pairs(vid_, self._rows, self._editable, pairs))
        if changed_marks is None:  # marks do not change the adverse events
            self.adverse_panel.show_events(vid_, self._editable)
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
        self._show_details(self._single_selected())

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

    @Slot(str, str, str, float, float)
    def _on_map_free_clicked(self, kind: str, view: str, side: str, x: float, y: float) -> None:
        self.add_marks([MarkSpec(kind, view, x, y, side)], f"Add {KIND_LABELS[kind].lower()}")

    @Slot()
    def _on_point_entry_return_pressed(self) -> None:
        text = self.point_entry.text().strip()
        if not text:
            return
        specs = self.specs_for_typed(text)
        if specs is None:
            return
        if self.add_marks(specs, f"Mark {text}"):
            self.point_entry.clear()

    def specs_for_typed(self, text: str) -> list[MarkSpec] | None:
        """Marks for a typed point ("bl23", "bl23 l", "shenshu both"); asks the side if needed."""
        side_word = None
        match = _SIDE_SUFFIX.match(text)
        point = self.bodymap.lookup(text)
        if point is None and match:
            point = self.bodymap.lookup(match["code"])
            side_word = match["side"].lower()[0]
        if point is None:
            point = self.bodymap.lookup(text.split("  ")[0])  # a completer line
        if point is None:
            self.point_entry.setStyleSheet("border: 1px solid #b3261e;")
            self.point_entry.setToolTip(plain_tooltip(f"No acupoint called \u201c{text}\u201d."))
            return None
        self.point_entry.setStyleSheet("")
        self.point_entry.setToolTip("")
        if point.sides == ("M",):
            sides = ["M"]
        elif side_word in ("l", "r"):
            sides = [side_word.upper()]
        elif side_word == "b":
            sides = ["L", "R"]
        else:
            chosen = self.ask_side(point.code)
            if chosen is None:
                return None
            sides = chosen
        views = self.bodymap.views_for(point.code)
        view = self.map.view_id if self.map.view_id in views else views[0]
        if view != self.map.view_id:
            self.set_view(view)
        specs = []
        for side in sides:
            pos = self.bodymap.position(point.code, side, view)  # type: ignore[arg-type]
            if pos is not None:
                specs.append(MarkSpec("acupoint", view, pos[0], pos[1], side, point.code))
        return specs

    def ask_side(self, code: str) -> list[str] | None:
        """Ask left, right or both for a bilateral point; B (both) is one key away."""
        menu = QMenu(self)
        menu.setObjectName("sideMenu")
        both = menu.addAction(f"&Both sides ({code} L + R)")
        left = menu.addAction("&Left (patient's left)")
        right = menu.addAction("&Right (patient's right)")
        menu.setActiveAction(both)
        pos = self.point_entry.mapToGlobal(self.point_entry.rect().bottomLeft())
        chosen = menu.exec(pos, both)
        return {both: ["L", "R"], left: ["L"], right: ["R"]}.get(chosen)

    def repeat_last_visit(self) -> None:
        """Copy the previous visit's marks (techniques, depths, cupping details) and its EA
        pairs with their settings, as one undoable step."""
        if not self._previous or self.visit_id is None or not self._editable:
            return
        command = RepeatVisitCommand(
            self.ops,
            self.bodymap,
            self.visit_id,
            self._previous[0].visit_id,
            f"Repeat last visit ({len(self._previous)} marks)",
        )
        command.parent_widget = self
        self.undo_stack.push(command)

    # -- protocols ---------------------------------------------------------------------------
    @Slot()
    def _on_protocol_menu_about_to_show(self) -> None:
        self.protocol_menu.clear()
        save = self.protocol_menu.addAction("Save current marks as protocol\u2026")
        save.setEnabled(bool(self._rows))
        save.triggered.connect(self.save_protocol)
        protocols = self.ops.read(mark_service.list_protocols)
        if protocols:
            self.protocol_menu.addSection("Apply")
        for pid, name, count in protocols:
            act = self.protocol_menu.addAction(f"{name}  ({count} marks)")
            act.setData(pid)
            act.triggered.connect(lambda _=False, p=pid: self.apply_protocol(p))
        if protocols:
            delete = self.protocol_menu.addMenu("Delete protocol")
            for pid, name, _count in protocols:
                act = delete.addAction(name)
                act.triggered.connect(lambda _=False, p=pid, n=name: self._delete_protocol(p, n))

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
        self.undo_stack.push(command)
        self.refresh()

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
        self._select({mark_id})
        self.technique.setFocus()

    @Slot(list)
    def _on_map_selection_changed(self, ids: list[int]) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            self._select_in_list(set(ids))
        finally:
            self._syncing = False
        self._show_details(self._single_selected())

    @Slot()
    def _on_mark_list_selection_changed(self) -> None:
        if self._syncing:
            return
        ids = {index.data(MarkIdRole) for index in self.mark_list.selectionModel().selectedRows()}
        self._syncing = True
        try:
            self.map.select_marks(ids)
        finally:
            self._syncing = False
        self._show_details(self._single_selected())

    def _select(self, ids: set[int]) -> None:
        if set(self.map.selected_mark_ids()) != ids:
            self.map.select_marks(ids)
        self._select_in_list(ids)
        self._show_details(self._single_selected())

    def _select_in_list(self, ids: set[int]) -> None:
        selection = self.mark_list.selectionModel()
        selection.clearSelection()
        for mark_id in ids:
            row = self.mark_model.row_of(mark_id)
            if row is not None:
                selection.select(
                    self.mark_model.index(row), QItemSelectionModel.SelectionFlag.Select
                )

    def _single_selected(self) -> MarkRow | None:
        ids = self.map.selected_mark_ids()
        if len(ids) != 1:
            return None
        return next((r for r in self._rows if r.id == ids[0]), None)

    def _show_details(self, row: MarkRow | None) -> None:
        for widget in self._detail_widgets:
            widget.setEnabled(row is not None and self._editable)
            widget.blockSignals(True)
        try:
            if row is None:
                self.detail_title.setText("Select a mark to edit its details.")
                self.detail_info.setText("")
                self.technique.setCurrentIndex(0)
                self.depth_box.setValue(0)
                self.response.setCurrentIndex(0)
                self.skin.setCurrentIndex(0)
                self.note.clear()
                self._show_cup_rows(False)
                return
            self._show_cup_rows(row.kind == MarkKind.CUPPING.value)
            self.cup_type.setCurrentIndex(max(0, self.cup_type.findData(row.spec.cup_type)))
            self.cup_count.setValue(row.spec.cup_count or 0)
            self.cup_minutes.setValue(row.spec.cup_minutes or 0)
            if self.skin_response.text() != row.spec.skin_response:
                self.skin_response.setText(row.spec.skin_response)
            self.detail_title.setText(f"<b>{esc(row.label)}</b> \u2014 {KIND_LABELS[row.kind]}")
            self.detail_info.setText(self._describe(row))
            self.technique.setCurrentIndex(max(0, self.technique.findData(row.spec.technique)))
            self.depth_box.setValue(row.spec.depth_mm or 0)
            self.response.setCurrentIndex(max(0, self.response.findData(row.spec.response)))
            self.skin.setCurrentIndex(max(0, self.skin.findData(row.spec.skin)))
            if self.note.text() != row.spec.note:
                self.note.setText(row.spec.note)
        finally:
            for widget in self._detail_widgets:
                widget.blockSignals(False)

    def _show_cup_rows(self, visible: bool) -> None:
        for widget in self._cup_rows:
            self._detail_form.setRowVisible(widget, visible)

    def _describe(self, row: MarkRow) -> str:
        if row.spec.point_code:
            point = self.bodymap.point(row.spec.point_code)
            text = esc(f"{point.pinyin} {point.hanzi} \u00b7 {point.english}")
            if point.flags:
                text += (
                    "<br><span style='color:#8c1d18'>Cautions: "
                    f"{esc(', '.join(sorted(point.flags)))}"
                )
                text += f" \u2014 {esc(point.cautions)}</span>" if point.cautions else "</span>"
            return text
        if row.spec.muscle_id:
            return esc(self.bodymap.muscle(row.spec.muscle_id).referral)
        return ""

    @Slot()
    def _on_detail_edited(self) -> None:
        self._note_timer.stop()
        row = self._single_selected()
        if row is None:
            return
        old = mark_service.details_of(row.spec)
        new = MarkDetails(
            self.technique.currentData() or "",
            self.depth_box.value() or None,
            self.response.currentData() or "",
            self.note.text().strip(),
            self.cup_type.currentData() or "",
            self.cup_count.value() or None,
            self.cup_minutes.value() or None,
            self.skin_response.text().strip(),
            self.skin.currentData() or "",
        )
        if new != old:
            command = EditDetailsCommand(self.ops, self.bodymap, row.id, old, new, row.version)
            command.parent_widget = self
            self.undo_stack.push(command)

    # -- view and mode -------------------------------------------------------------------------
    def _button_group(
        self,
        row: QHBoxLayout,
        prefix: str,
        items: tuple[tuple[str, str, str], ...],
        tooltip: Any,
        pick: Any,
    ) -> QButtonGroup:
        """Exclusive tool buttons (first one checked), each with its page-wide shortcut."""
        group = QButtonGroup(self)
        for i, (name, title, key) in enumerate(items):
            button = QToolButton()
            button.setText(title)
            button.setCheckable(True)
            button.setObjectName(f"{prefix}_{name}")
            button.setToolTip(tooltip(title, key))
            self._shortcut(key, lambda _=False, n=name: pick(n))
            group.addButton(button, i)
            row.addWidget(button)
        group.button(0).setChecked(True)
        return group

    def _shortcut(self, key: str, slot: Any) -> QAction:
        """A keyboard shortcut that works anywhere on this page."""
        action = QAction(self)
        action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def set_mode(self, mode: str) -> None:
        """Choose what a plain click places: "point", "ashi" or "cupping"."""
        self.map.set_mode(mode)
        for i, (name, _title, _key) in enumerate(MODES):
            if name == mode:
                self.mode_buttons.button(i).setChecked(True)

    def set_view(self, view_id: str) -> None:
        """Switch the map to another view."""
        self.map.set_view(view_id)
        for i, (vid, _title, _key) in enumerate(VIEW_TITLES):
            if vid == view_id:
                self.view_buttons.button(i).setChecked(True)

    @Slot(int)
    def _on_view_buttons_id_clicked(self, index: int) -> None:
        self.map.set_view(VIEW_TITLES[index][0])

    @Slot(int)
    def _on_mode_buttons_id_clicked(self, index: int) -> None:
        self.map.set_mode(MODES[index][0])

    @Slot(object)
    def _on_safety_acknowledge_requested(self, warning: SafetyWarning) -> None:
        reason = ""
        if warning.severity == "block":
            reason, ok = QInputDialog.getText(
                self,
                "Override safety block",
                f"{warning.title}\n\n{warning.message}\n\nWhy is it safe to go ahead?",
            )
            if not ok:
                return
        self.ops.run(
            self,
            visit_record.acknowledge,
            self.visit_id,
            warning.key,
            warning.rule,
            warning.severity,
            warning.message,
            self._practitioner_id,
            reason,
        )

    def sign(self) -> None:
        """Sign the visit as its practitioner (it becomes read-only), or amend a signed one."""
        if self.visit_id is None or self._practitioner_id is None:
            return
        if self._signed:
            self.amend()
            return
        self.form.flush()
        if self.form.has_unsaved():
            QMessageBox.warning(
                self,
                "Not signed",
                "Some of what you typed is not saved yet "
                f"({self.form.save_state_text}) The visit is signed only once everything is "
                "stored: sign again when it says All changes saved.",
            )
            return
        vid = self.visit_id
        blocks = self.ops.read(lambda s: blocking_titles(self.bodymap)(s, vid))
        if blocks:
            QMessageBox.warning(
                self,
                "Not signed",
                "Resolve or override these safety blocks first: " + "; ".join(blocks),
            )
            return
        record = self.ops.read(lambda s: visit_record.record(s, vid))
        referral = red_flags.referral_problem(
            record["red_flags"], record["referral_outcome"], record["referral_decision"]
        )
        if referral:
            QMessageBox.warning(self, "Not signed", referral)
            self.form.focus_field("referral_outcome")
            return
        count = self.ops.read(lambda s: visit_record.needle_count(s, vid))
        if count.problem and count.needles_out is None:
            QMessageBox.information(self, "Count the needles out", count.problem)
            self.form.focus_field("needles_out")
            return
        if count.problem:
            resolution = NeedleCountDialog.ask(self, count)
            if resolution is None:
                self.form.focus_field("needles_out")
                return
            resolved = self.ops.run(
                self,
                visit_record.resolve_needle_count,
                vid,
                resolution.outcome,
                resolution.note,
                resolution.patient_told,
                resolution.severity,
            )
            if resolved is None:
                return
        else:
            needles = (
                f"Needles: {count.needles_in} in, {count.needles_out} out.\n\n"
                if count.needles_in
                else ""
            )
            answer = QMessageBox.question(
                self,
                "Sign visit",
                f"{needles}Sign this visit? It becomes read-only; later corrections are added "
                "as amendments.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        result = self.ops.run(
            self,
            visit_record.sign_visit,
            self.visit_id,
            self._practitioner_id,
            blocking_titles(self.bodymap),
        )
        if result is not None:
            self.message_posted.emit("Visit signed.")
            self.open_visit(self.visit_id)

    # -- documents ---------------------------------------------------------------------------
    def document_builder(self, kind: str) -> Build:
        """A function that writes this visit's handout or summary PDF to a target."""
        vid = self.visit_id
        assert vid is not None
        self.form.flush()
        report = self.ops.read(lambda s: visit_report(s, vid, self.bodymap))
        # ReportLab loads on the first document, not with the chart (about 100 ms).
        from charting.reports.handout import build_handout
        from charting.reports.visit_summary import build_visit_summary

        builder = build_handout if kind == "handout" else build_visit_summary

        def build(target: Any) -> None:
            builder(report, self.bodymap, target)

        return build

    def print_handout(self) -> bool:
        """Print the aftercare handout (Ctrl+P) and record that it was given."""
        if self.visit_id is None:
            return False
        printed = print_document(
            self,
            "aftercare-handout",
            self.document_builder("handout"),
            self._document_audit("handout"),
        )
        if printed:
            self._handout_issued("printed")
        return printed

    def _document(self, kind: str, how: str) -> Path | None:
        if self.visit_id is None:
            return None
        name = "aftercare-handout" if kind == "handout" else "treatment-summary"
        act = save_document if how == "save" else open_document
        path = act(self, name, self.document_builder(kind), self._document_audit(kind))
        if path is not None and kind == "handout":
            self._handout_issued("saved" if how == "save" else "opened")
        if path is not None and how == "save":
            self.message_posted.emit(f"Saved {path}")
        return path

    def _document_audit(self, kind: str) -> DocumentAudit:
        vid = self.visit_id

        def load(session: Any) -> tuple[int, int]:
            visit = session.get(Visit, vid)
            return visit.patient_id, visit.number

        patient_id, number = self.ops.read(load)
        title = "Aftercare handout" if kind == "handout" else "Treatment summary"
        return DocumentAudit(self.ops.database, patient_id, f"{title}, visit {number}")

    def take_over(self) -> None:
        """Take a colleague's draft over (after a confirmation), to continue and sign it."""
        vid = self.visit_id
        if vid is None:
            return
        answer = QMessageBox.question(
            self,
            "Take over this draft",
            "Take this draft over? It becomes yours to continue and sign, and its practitioner "
            "can no longer change it. The audit log records the hand-over.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        if self.ops.run(self, take_over_draft, vid) is not None:
            self.message_posted.emit("Draft taken over: it is yours to continue and sign.")
            self.open_visit(vid)

    def _handout_issued(self, how: str) -> None:
        """Record that the handout was given (an event beside the visit, signed or not)."""
        vid = self.visit_id
        if vid is None:
            return
        if self.ops.run(self, record_handout, vid, how) is not None:
            self._show_handouts()
            self.message_posted.emit("Aftercare handout given: recorded on the visit.")

    def _show_handouts(self) -> None:
        vid = self.visit_id
        if vid is not None:
            given = self.ops.read(lambda s: handout_issues(s, vid))
            self.form.show_handouts([g.text for g in given])

    @Slot()
    def _on_form_handout_given_requested(self) -> None:
        self._handout_issued("by_hand")

    @Slot(str)
    def _on_form_save_failed(self, message: str) -> None:
        # Modeless, so a refused autosave never blocks the session; the text says what to do.
        box = QMessageBox(QMessageBox.Icon.Warning, "Not saved", message, parent=self)
        box.setObjectName("saveFailedMessage")
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.message_posted.emit(message.splitlines()[0])

    def amend(self) -> None:
        """Add an amendment to the signed visit (the original stays untouched)."""
        vid = self.visit_id
        if vid is None or self._practitioner_id is None:
            return
        current = self.ops.read(lambda s: visit_record.record(s, vid))
        data = AmendDialog.ask(self, current)
        if data is None:
            return
        author = getattr(self.ops.database.actor, "practitioner_id", None)
        result = self.ops.run(
            self,
            visit_record.amend,
            vid,
            author,
            data.field,
            data.corrected,
            data.reason,
        )
        if result is not None:
            self.message_posted.emit("Amendment added; the signed original is unchanged.")
            self._show_amendments()
            self.side_tabs.setCurrentWidget(self.amendment_list)

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
        self.centre_stack.setCurrentWidget(self.pain if drawing else self.map)
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
        if self.visit_id is not None and (self.visit_id in changes.visits or changes.marks):
            self.refresh(changes.marks or None)
