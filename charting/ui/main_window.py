"""The main window: find a patient, see their chart, start a visit."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QModelIndex, QSettings, Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QToolBar,
    QWidget,
)

from charting.models import Visit
from charting.models.db import Database
from charting.services import audit
from charting.services import patients as patient_service
from charting.services import practitioners as practitioner_service
from charting.services import visits as visit_service
from charting.services.access import Actor, Permission
from charting.services.backup import RestoreResult
from charting.services.changes import Changes
from charting.services.demo import DEMO_CLINIC_NAME, DEMO_PASSWORD, DEMO_USERNAME, is_demo
from charting.services.errors import NotFoundError, ServiceError
from charting.services.settings import SecuritySettings
from charting.ui.app import damaged_file_text
from charting.ui.background_checks import BackgroundChecks
from charting.ui.clinic_day import ClinicDay
from charting.ui.demo_launch import launch_demo
from charting.ui.forms import resize_within_screen
from charting.ui.lock import LockPage
from charting.ui.login_dialog import ChangePasswordDialog
from charting.ui.ops import OpRunner
from charting.ui.page_stack import PageStack
from charting.ui.patient_dialog import PatientDialog
from charting.ui.patient_panel import PatientPanel
from charting.ui.patient_search import PatientSearch
from charting.ui.practitioner_dialog import PractitionerDialog
from charting.ui.session import Session
from charting.ui.visit_dialog import NewVisitDialog
from charting.ui.welcome import WelcomePage
from charting.ui.workers import TaskRunner

if TYPE_CHECKING:
    from charting.ui.visit_chart import VisitChartPage


class MainWindow(QMainWindow):
    """Patient list and search on the left; the selected patient's chart on the right.

    The window is a shell: it builds the menus, the toolbar and the page stack and wires
    the parts that do the work: :class:`PatientSearch` (the list pane), :class:`Session`
    (signing in and out, the idle lock), :class:`BackgroundChecks` (today's backup, the
    file check) and :class:`ClinicDay` (today's list and the Day menu).

    Whoever is signed in is ``database.actor``; the window shows only what their roles
    allow, and covers everything while locked or signed out. ``idle_lock_ms`` overrides
    the clinic's idle-lock setting (tests use a short one).
    """

    def __init__(
        self,
        database: Database,
        settings: QSettings | None = None,
        *,
        idle_lock_ms: int | None = None,
        backup_folder: Path | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("MainWindow")
        self.database = database
        with database.read() as session:
            # A demo clinic says so wherever it shows (title bar, status bar, printouts).
            self.demo = is_demo(session)
        self.setWindowTitle(f"Charting \u2014 {DEMO_CLINIC_NAME}" if self.demo else "Charting")
        self.settings = settings or QSettings()
        self.ops = OpRunner(database, self)
        self._viewed_patient: int | None = None  # the chart whose opening was last logged
        self._focus_before_lock: QWidget | None = None
        # Started now: a trusted start's file check is watched from the first moment.
        self.checks = BackgroundChecks(self.ops, backup_folder, self)

        left = self.patient_pane = self.patient_search = PatientSearch(database)
        # The pane's parts, by the names the rest of the window (and its tests) use.
        self.search = left.search
        self.patient_model = left.model
        self.patient_list = left.list
        self.result_count = left.result_count

        self.welcome = WelcomePage()
        self.no_selection = QLabel("Choose a patient on the left, or add one with Ctrl+N.")
        self.no_selection.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_selection.setStyleSheet("color: #666; font-size: 12pt;")
        self.patient_panel = PatientPanel()
        self.visit_chart: VisitChartPage | None = None  # made on first use (loads the body map)
        self._charted_patient: int | None = None
        # Pages are added here (welcome, no selection, the patient, a visit, ...); the stack
        # asks for the room of the page shown only.
        self.pages = PageStack()
        self.pages.setObjectName("pages")
        for page in (self.welcome, self.no_selection, self.patient_panel):
            self.pages.addWidget(page)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.pages)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([460, 820])
        self.splitter.setChildrenCollapsible(False)
        self.lock_page = LockPage(database)
        if self.demo:
            self.lock_page.hint = (
                f"Demo clinic: the account is {DEMO_USERNAME}, the password {DEMO_PASSWORD}."
            )
        self.central = PageStack()
        self.central.setObjectName("centralStack")
        self.central.addWidget(self.splitter)
        self.central.addWidget(self.lock_page)
        self.setCentralWidget(self.central)
        self.signed_in_label = QLabel()
        self.signed_in_label.setObjectName("signedInLabel")
        self.statusBar().addPermanentWidget(self.signed_in_label)
        self._permanent_labels = [self.signed_in_label]
        if self.demo:
            demo_label = QLabel(f"{DEMO_CLINIC_NAME}: fictional patients only")
            demo_label.setObjectName("demoLabel")
            demo_label.setStyleSheet("color: #8c1d18; font-weight: 600;")
            self.statusBar().addPermanentWidget(demo_label)
            self._permanent_labels.append(demo_label)
        self.statusBar().messageChanged.connect(self._on_status_bar_message_changed)
        self.session = Session(
            database,
            self.lock_page,
            owner=self,
            may_sign_out=self.close_visit,
            idle_lock_ms=idle_lock_ms,
        )
        self.idle = self.session.idle

        self._make_actions()
        self._connect()
        self.clinic_day = ClinicDay(self)  # today's list, the book, drafts, consent, billing
        where = database.sqlite_path or database.url.render_as_string(hide_password=True)
        # Where the records are: shown until another message, and never worth hiding who is
        # signed in for (see _on_status_bar_message_changed).
        self._standing_message = f"Database: {where}"
        self.statusBar().showMessage(self._standing_message)
        if database.actor is not None:
            self.patient_model.refresh()
        self.session.begin()
        self.apply_actor()
        self._restore_layout()

    # -- construction ------------------------------------------------------------------
    def _make_actions(self) -> None:
        def action(text: str, shortcut: QKeySequence | str | None, name: str) -> QAction:
            act = QAction(text, self)
            act.setObjectName(name)
            if shortcut:
                act.setShortcut(QKeySequence(shortcut))
                act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(act)
            return act

        self.new_patient_action = action("&New patient\u2026", "Ctrl+N", "newPatientAction")
        self.edit_patient_action = action("&Edit patient\u2026", "Ctrl+E", "editPatientAction")
        self.new_visit_action = action("New &visit\u2026", "Ctrl+Shift+V", "newVisitAction")
        self.delete_patient_action = action("&Delete patient\u2026", None, "deletePatientAction")
        self.practitioner_action = action("&Practitioner profile\u2026", None, "practitionerAction")
        self.demo_action = action("Explore the &demo clinic\u2026", None, "demoAction")
        self.demo_action.setToolTip(
            "Open a fictional demo clinic in its own window and file; your records are untouched"
        )
        self.export_action = action("&Export patient records\u2026", "Ctrl+Shift+E", "exportAction")
        self.import_action = action("&Import patients\u2026", None, "importAction")
        self.clinic_action = action("&Clinic and handout settings\u2026", None, "clinicAction")
        self.find_action = action("&Find patient", "Ctrl+F", "findAction")
        self.lock_action = action("&Lock screen", "Ctrl+L", "lockAction")
        self.sign_out_action = action("Sign &out", None, "signOutAction")
        self.change_password_action = action("Change &password\u2026", None, "changePasswordAction")
        self.accounts_action = action("&Accounts\u2026", None, "accountsAction")
        self.audit_action = action("Audit &log\u2026", None, "auditAction")
        self.backup_action = action("&Backups and security\u2026", None, "backupAction")
        self.custom_points_action = action("Custom &points\u2026", None, "customPointsAction")
        self.custom_points_action.setToolTip(
            "The clinic's own named points on the body map (practitioners and clinic admins)"
        )
        self.quit_action = action(
            "&Quit", QKeySequence(QKeySequence.StandardKey.Quit), "quitAction"
        )
        # What each action needs; the window hides what the signed-in roles cannot use.
        self._needs: dict[QAction, Permission] = {
            self.new_patient_action: Permission.EDIT_PATIENTS,
            self.edit_patient_action: Permission.EDIT_PATIENTS,
            self.new_visit_action: Permission.CHART,
            self.delete_patient_action: Permission.DELETE_PATIENTS,
            self.export_action: Permission.EXPORT,
            self.import_action: Permission.IMPORT,
            self.clinic_action: Permission.CLINIC_SETTINGS,
            self.accounts_action: Permission.MANAGE_ACCOUNTS,
            self.audit_action: Permission.VIEW_AUDIT,
            self.backup_action: Permission.BACKUP,
            self.custom_points_action: Permission.CUSTOM_POINTS,
            self.find_action: Permission.VIEW_PATIENTS,
        }
        self._patient_actions: tuple[QAction, ...] = (
            self.edit_patient_action,
            self.new_visit_action,
            self.delete_patient_action,
        )

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.new_patient_action)
        file_menu.addAction(self.export_action)
        file_menu.addAction(self.import_action)
        file_menu.addAction(self.demo_action)
        file_menu.addSeparator()
        file_menu.addAction(self.lock_action)
        file_menu.addAction(self.sign_out_action)
        file_menu.addAction(self.change_password_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        patient_menu = menu.addMenu("&Patient")
        for act in (
            self.find_action,
            self.edit_patient_action,
            self.new_visit_action,
            self.delete_patient_action,
        ):
            patient_menu.addAction(act)
        self.settings_menu = settings_menu = menu.addMenu("&Settings")
        settings_menu.addAction(self.practitioner_action)
        settings_menu.addAction(self.clinic_action)
        settings_menu.addAction(self.custom_points_action)
        settings_menu.addSeparator()
        settings_menu.addAction(self.accounts_action)
        settings_menu.addAction(self.audit_action)
        settings_menu.addAction(self.backup_action)

        self.toolbar = toolbar = QToolBar("Main")
        self.addToolBar(toolbar)
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for act in (self.new_patient_action, self.edit_patient_action, self.new_visit_action):
            toolbar.addAction(act)

    def _connect(self) -> None:
        self.patient_search.patient_chosen.connect(self._on_patient_search_patient_chosen)
        self.patient_search.patient_picked.connect(self._on_patient_search_patient_picked)
        self.ops.changes_applied.connect(self._on_ops_changes_applied)
        self.new_patient_action.triggered.connect(self.new_patient)
        self.edit_patient_action.triggered.connect(self.edit_patient)
        self.new_visit_action.triggered.connect(self.new_visit)
        self.delete_patient_action.triggered.connect(self.delete_patient)
        self.practitioner_action.triggered.connect(self.edit_practitioner)
        self.demo_action.triggered.connect(self.load_demo)
        self.export_action.triggered.connect(self.export_records)
        self.import_action.triggered.connect(self.import_patients)
        self.clinic_action.triggered.connect(self.edit_clinic_settings)
        self.find_action.triggered.connect(self._on_find_action_triggered)
        self.lock_action.triggered.connect(self._on_lock_action_triggered)
        self.sign_out_action.triggered.connect(self._on_sign_out_action_triggered)
        self.change_password_action.triggered.connect(self.change_password)
        self.accounts_action.triggered.connect(self.manage_accounts)
        self.audit_action.triggered.connect(self.show_audit_log)
        self.backup_action.triggered.connect(self.manage_backups)
        self.custom_points_action.triggered.connect(self.manage_custom_points)
        self.quit_action.triggered.connect(self.close)
        self.session.covered_changed.connect(self._on_session_covered_changed)
        self.session.locking.connect(self._on_session_locking)
        self.session.locked.connect(self._on_session_locked)
        self.session.unlocked.connect(self._on_session_unlocked)
        self.session.started.connect(self._on_session_started)
        self.session.signed_out.connect(self._on_session_signed_out)
        self.session.message_posted.connect(self._on_part_message_posted)
        self.lock_page.quit_requested.connect(self.close)
        self.checks.message_posted.connect(self._on_part_message_posted)
        self.checks.file_damaged.connect(self._on_checks_file_damaged)
        self.welcome.practitioner_requested.connect(self.edit_practitioner)
        self.welcome.new_patient_requested.connect(self.new_patient)
        self.welcome.demo_requested.connect(self.load_demo)
        self.patient_panel.edit_requested.connect(self.edit_patient)
        self.patient_panel.new_visit_requested.connect(self.new_visit)
        self.patient_panel.course_requested.connect(self.show_course)
        self.patient_panel.visits.activated.connect(self._on_visits_activated)

    # -- state -------------------------------------------------------------------------
    @property
    def current_patient_id(self) -> int | None:
        """The patient whose chart is shown."""
        return self.patient_search.shown_patient

    @property
    def _patient_id(self) -> int | None:
        # One record of the shown patient: the list pane's (it selects that row).
        return self.patient_search.shown_patient

    @property
    def actor(self) -> Actor | None:
        """Whoever is signed in (None while signed out)."""
        return self.session.actor

    @property
    def is_locked(self) -> bool:
        """Whether the lock page (locked or signed out) covers the window."""
        return self.session.is_covered

    @property
    def backup_folder(self) -> Path | None:
        """Where backups go (None: the data folder's)."""
        return self.checks.folder

    @backup_folder.setter
    def backup_folder(self, folder: Path | None) -> None:
        self.checks.folder = folder

    @property
    def daily_backup(self) -> TaskRunner:
        """Today's backup, run in the background."""
        return self.checks.daily_backup

    @property
    def file_damaged(self) -> bool:
        """Whether the background file check found damage (the window then closes)."""
        return self.checks.damage_found

    def can(self, permission: Permission) -> bool:
        """Whether the signed-in account may do ``permission``."""
        actor = self.actor
        return actor is not None and actor.can(permission)

    def apply_actor(self) -> None:
        """Show who is signed in, and only what their roles can use."""
        actor = self.actor
        self.signed_in_label.setText(
            f"Signed in as {actor.display_name} ({actor.roles_label or 'no role'})"
            if actor is not None
            else "Nobody is signed in"
        )
        for act, needed in self._needs.items():
            act.setVisible(self.can(needed))
        self.practitioner_action.setVisible(actor is not None and actor.practitioner_id is not None)
        self.settings_menu.menuAction().setVisible(
            any(a.isVisible() for a in self.settings_menu.actions() if not a.isSeparator())
        )
        self.patient_panel.set_permissions(
            can_edit=self.can(Permission.EDIT_PATIENTS),
            can_chart=self.can(Permission.CHART),
            can_view_clinical=self.can(Permission.VIEW_CLINICAL),
        )
        self.welcome.set_permissions(
            can_add_patients=self.can(Permission.EDIT_PATIENTS), can_load_demo=not self.demo
        )
        self.demo_action.setVisible(not self.demo)
        self.clinic_day.apply_actor()
        self._update_actions()
        if actor is not None and not self.is_locked:
            self._update_pages()

    def _update_actions(self) -> None:
        if self.is_locked:
            for act in self.actions():
                act.setEnabled(act is self.quit_action)
            return
        for act in self.actions():
            needed = self._needs.get(act)
            allowed = self.actor is not None and (needed is None or self.can(needed))
            if act in self._patient_actions:
                allowed = allowed and self._patient_id is not None
            act.setEnabled(allowed)

    def _update_pages(self) -> None:
        charting = self.visit_chart is not None and self.pages.currentWidget() is self.visit_chart
        if charting and self._patient_id == self._charted_patient:
            return
        has_patient = self._patient_id is not None
        self._update_actions()
        count = self.patient_model.rowCount()
        if has_patient:
            self.pages.setCurrentWidget(self.patient_panel)
        elif count == 0 and not self.patient_model.search_text and self.actor is not None:
            self.welcome.set_practitioner(self._own_practitioner_name(), self._practitioner_step())
            self.pages.setCurrentWidget(self.welcome)
        else:
            self.pages.setCurrentWidget(self.clinic_day.start_page or self.no_selection)
        self.patient_search.update_count()

    def _own_practitioner_name(self) -> str | None:
        actor = self.actor
        if actor is None or actor.practitioner_id is None:
            return None
        own = actor.practitioner_id
        found = [p for p in self.ops.read(practitioner_service.list_practitioners) if p.id == own]
        return found[0].display_name if found else None

    def _practitioner_step(self) -> str:
        """What the welcome page's first step offers this account."""
        actor = self.actor
        if actor is not None and actor.practitioner_id is not None:
            return "profile"
        return "accounts" if self.can(Permission.MANAGE_ACCOUNTS) else ""

    def select_patient(self, patient_id: int | None) -> None:
        """Show ``patient_id``'s chart (and select it in the list when it is listed)."""
        self.patient_search.show_patient(patient_id)
        if patient_id is not None:
            self._load_patient_panel()
        self._update_pages()

    def _load_patient_panel(self) -> None:
        assert self._patient_id is not None
        pid = self._patient_id
        if pid != self._viewed_patient:
            # Opening a chart is logged once per opening, not on every refresh of it.
            try:
                with self.database.write() as session:
                    audit.record_view(session, pid)
            except ServiceError as exc:
                self.patient_search.forget_shown()
                self.statusBar().showMessage(str(exc), 10_000)
                return
            self._viewed_patient = pid
        with self.database.read() as session:
            try:
                patient = patient_service.patient_view(session, pid)
            except NotFoundError:
                self.patient_search.forget_shown()
                return
            visits = visit_service.list_visits(session, patient.id)
            self.patient_panel.show_patient(patient, visits, date.today())

    # -- slots -------------------------------------------------------------------------
    @Slot(object)
    def _on_patient_search_patient_chosen(self, patient_id: int | None) -> None:
        self.select_patient(patient_id)

    @Slot(int)
    def _on_patient_search_patient_picked(self, _patient_id: int) -> None:
        self._load_patient_panel()
        self._update_pages()

    @Slot()
    def _on_find_action_triggered(self) -> None:
        self.patient_search.focus_search()

    @Slot(str)
    def _on_status_bar_message_changed(self, message: str) -> None:
        # On a laptop screen "Signed in as ..." (and the demo notice) left a message a few
        # words: they step aside while a message that needs their room is shown.
        bar = self.statusBar()
        labels = self._permanent_labels
        room = bar.width() - 40 - sum(label.sizeHint().width() + 12 for label in labels)
        needed = bar.fontMetrics().horizontalAdvance(message)
        standing = message == getattr(self, "_standing_message", None)
        for label in self._permanent_labels:
            label.setHidden(bool(message) and not standing and needed > room)

    @Slot(str, int)
    def _on_part_message_posted(self, message: str, timeout_ms: int) -> None:
        self.statusBar().showMessage(message, timeout_ms)

    @Slot(object)
    def _on_ops_changes_applied(self, changes: Changes) -> None:
        # The list shows patients' details and visit counts: a new visit names its patient.
        if changes.patients:
            self.patient_model.refresh()
        charting = self.visit_chart is not None and self.pages.currentWidget() is self.visit_chart
        if charting and not changes.patients:
            # A mark or the record of the open visit changed: the patient's chart behind
            # it is read again when "Back to chart" shows it, not on every click.
            return
        shown = self._patient_id
        if shown is not None and self.patient_model.row_of(shown) is None:
            shown = None
        self.select_patient(shown)

    # -- actions -----------------------------------------------------------------------
    @Slot()
    def new_patient(self) -> None:
        """Ask for a new patient and show their chart."""
        actor = self.database.actor
        clinical = isinstance(actor, Actor) and actor.can(Permission.VIEW_CLINICAL)
        data = PatientDialog.ask(self, clinical=clinical)
        if data is None:
            return
        result = self.ops.run(self, patient_service.create_patient, data)
        if result is not None:
            new_id, _changes = result
            if self.patient_model.row_of(new_id) is None:
                self.patient_search.clear_search()
            self.select_patient(new_id)
            self.statusBar().showMessage("Patient added.", 5000)

    @Slot()
    def edit_patient(self) -> None:
        """Edit the selected patient's details."""
        if self._patient_id is None:
            return
        pid = self._patient_id
        with self.database.read() as session:
            view = patient_service.patient_view(session, pid)
        initial = patient_service.PatientInput.from_patient(view)
        data = PatientDialog.ask(self, initial, clinical=view.clinical)
        if data is not None and self.ops.run(self, patient_service.update_patient, pid, data):
            self.statusBar().showMessage("Patient updated.", 5000)

    @Slot()
    def delete_patient(self) -> None:
        """Soft-delete the selected patient after confirmation."""
        if self._patient_id is None:
            return
        pid = self._patient_id
        name = self.patient_panel.title.text()
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Delete patient",
            f"Delete {name} from the patient list?",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setInformativeText(
            "The chart is hidden from lists and searches. No clinical record is erased, "
            "and an administrator can restore it."
        )
        delete = box.addButton("Delete patient", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is delete:
            self.ops.run(self, patient_service.delete_patient, pid)
            self.statusBar().showMessage("Patient deleted (hidden from lists).", 5000)

    @Slot()
    def new_visit(self) -> None:
        """Start a visit for the selected patient (asks for a practitioner profile first)."""
        if self._patient_id is None:
            return
        pid = self._patient_id
        practitioners = self.ops.read(practitioner_service.list_practitioners)
        if not practitioners:
            QMessageBox.information(
                self,
                "Practitioner profile needed",
                "Visits record who treated. Add your practitioner profile first.",
            )
            self.edit_practitioner()
            practitioners = self.ops.read(practitioner_service.list_practitioners)
            if not practitioners:
                return
        with self.database.read() as session:
            previous = visit_service.list_visits(session, pid)
        own = self.actor.practitioner_id if self.actor is not None else None
        # The signed-in practitioner first: they are the one treating, as a rule.
        practitioners.sort(key=lambda p: p.id != own)
        choice = NewVisitDialog.ask(
            self,
            [(p.id, p.display_name) for p in practitioners],
            previous[0].chief_complaint if previous else "",
        )
        if choice is None:
            return
        result = self.ops.run(
            self,
            visit_service.start_visit,
            pid,
            choice.practitioner_id,
            choice.started_at,
            choice.chief_complaint,
            carry_forward=True,
        )
        if result is not None:
            self.statusBar().showMessage("Visit started.", 5000)
            self.open_visit(result[0])

    def open_visit(self, visit_id: int) -> bool:
        """Chart ``visit_id`` on the body map; False (with the reason shown) if refused.

        Opening a visit is logged; an account that may not read clinical notes is refused.
        """
        try:
            with self.database.write() as session:
                visit = session.get(Visit, visit_id)
                if visit is None:
                    raise NotFoundError("That visit no longer exists.")
                audit.record_view(session, visit.patient_id, visit_id)
        except ServiceError as exc:
            self.statusBar().showMessage(str(exc), 10_000)
            return False
        if self.visit_chart is None:
            from charting.bodymap import load_bodymap
            from charting.ui.visit_chart import VisitChartPage

            self.visit_chart = VisitChartPage(self.ops, load_bodymap())
            self.visit_chart.closed.connect(self._on_visit_chart_closed)
            self.visit_chart.message_posted.connect(self._on_visit_chart_message_posted)
            self.pages.addWidget(self.visit_chart)
        self.visit_chart.open_visit(visit_id)
        self._charted_patient = self._patient_id
        # The map needs the room; the patient list comes back with "Back to chart".
        self.patient_pane.hide()
        self.pages.setCurrentWidget(self.visit_chart)
        self.visit_chart.map.setFocus()
        return True

    def close_visit(self) -> bool:
        """Save and close the open visit (its page is dropped with whatever it showed).

        False when typing is not saved yet and the person chose to stay with it.
        """
        chart = self.visit_chart
        if chart is None:
            return True
        if not chart.may_leave("close the visit"):
            return False
        charting = self.pages.currentWidget() is chart
        self.pages.removeWidget(chart)
        chart.hide()
        chart.deleteLater()
        self.visit_chart = None
        self._charted_patient = None
        if charting:
            self.patient_pane.show()
            self.pages.setCurrentWidget(self.patient_panel)
        return True

    @Slot(QModelIndex)
    def _on_visits_activated(self, index: QModelIndex) -> None:
        visit_id = self.patient_panel.visit_model.visit_id(index.row())
        if visit_id is not None:
            self.open_visit(visit_id)

    @Slot(str)
    def _on_visit_chart_message_posted(self, message: str) -> None:
        self.statusBar().showMessage(message, 5000)

    @Slot()
    def _on_visit_chart_closed(self) -> None:
        self.patient_pane.show()
        self.pages.setCurrentWidget(self.patient_panel)
        self.select_patient(self._patient_id)

    @Slot()
    def export_records(self) -> None:
        """Open the admin export (PDF, CSV, FHIR) for all, searched or recent patients."""
        from charting.ui.export_dialog import ExportDialog

        dialog = ExportDialog(self.database, self.patient_model.search_text, self)
        dialog.exec()
        dialog.wait_until_idle()

    @Slot()
    def import_patients(self) -> None:
        """Import a patient list (CSV or FHIR) or a Charting export (clinic admins)."""
        from charting.ui.import_dialog import ImportDialog

        dialog = ImportDialog(self.ops, self)
        dialog.imported.connect(self._on_import_dialog_imported)
        dialog.exec()

    @Slot(str)
    def _on_import_dialog_imported(self, summary: str) -> None:
        self.statusBar().showMessage(summary, 10_000)

    @Slot()
    def edit_clinic_settings(self) -> None:
        """Edit the letterhead and the standard aftercare wording."""
        from charting.services.settings import load_settings, save_settings
        from charting.ui.settings_dialog import ClinicSettingsDialog

        current = self.ops.read(load_settings)
        data = ClinicSettingsDialog.ask(self, current)
        if data is not None and self.ops.run(self, save_settings, data) is not None:
            self.statusBar().showMessage("Clinic settings saved.", 5000)

    @Slot()
    def show_course(self) -> None:
        """Show the selected patient's course: pain trend, outcomes, plan, points used."""
        if self._patient_id is None:
            return
        from charting.ui.course_view import CourseDialog

        dialog = CourseDialog(self.ops, self._patient_id, self.patient_panel.title.text(), self)
        dialog.exec()
        self.select_patient(self._patient_id)

    @Slot()
    def edit_practitioner(self) -> None:
        """Edit the signed-in practitioner's own profile (admins without one add accounts)."""
        actor = self.actor
        if actor is None:
            return
        own = actor.practitioner_id
        if own is None:
            if self.can(Permission.MANAGE_ACCOUNTS):
                self.manage_accounts()
            return
        found = [p for p in self.ops.read(practitioner_service.list_practitioners) if p.id == own]
        initial = None
        if found:
            p = found[0]
            initial = practitioner_service.PractitionerInput(
                p.name, p.credentials, p.licence_number, p.style, p.npi
            )
        data = PractitionerDialog.ask(self, initial)
        if data is not None:
            self.ops.run(self, practitioner_service.save_practitioner, data, own)
            self._update_pages()

    @Slot()
    def load_demo(self) -> None:
        """Open the fictional demo clinic in its own window, on its own database file (this
        clinic's records are not touched)."""
        if launch_demo(self):
            self.statusBar().showMessage(
                "The demo clinic opens in its own window. Your clinic's records are untouched.",
                8000,
            )

    # -- accounts, audit and backups ------------------------------------------------------
    @Slot()
    def change_password(self) -> None:
        """Change the signed-in account's own password."""
        if self.actor is not None and ChangePasswordDialog.ask(self, self.database):
            self.statusBar().showMessage("Your password is changed.", 5000)

    @Slot()
    def manage_accounts(self) -> None:
        """Add and edit accounts (clinic admins)."""
        from charting.ui.accounts_dialog import AccountsDialog

        if AccountsDialog.ask(self, self.database) is not None:
            self._update_pages()

    @Slot()
    def show_audit_log(self) -> None:
        """Read and check the audit log (clinic admins)."""
        from charting.ui.audit_viewer import AuditViewer

        try:
            viewer = AuditViewer(self.database, self)
        except ServiceError as exc:
            QMessageBox.warning(self, "Audit log", str(exc))
            return
        viewer.exec()

    @Slot()
    def manage_custom_points(self) -> None:
        """List, add, edit and retire the clinic's custom points (practitioners, admins)."""
        from charting.ui.custom_points_dialog import CustomPointsDialog

        CustomPointsDialog.show_for(self, self.ops)

    @Slot()
    def manage_backups(self) -> None:
        """Backups, restore and the security settings (clinic admins)."""
        from charting.ui.backup_dialog import BackupDialog

        dialog = BackupDialog(self.database, self.checks.backup_folder(), self)
        dialog.restore_started.connect(self._on_backup_dialog_restore_started)
        dialog.restored.connect(self._on_backup_dialog_restored)
        dialog.security_changed.connect(self._on_backup_dialog_security_changed)
        dialog.exec()
        dialog.wait_until_idle()

    @Slot()
    def _on_backup_dialog_restore_started(self) -> None:
        self.close_visit()

    @Slot(object)
    def _on_backup_dialog_restored(self, _result: RestoreResult) -> None:
        self.close_visit()
        self._viewed_patient = None
        self.patient_model.refresh()
        self.select_patient(None)
        self.statusBar().showMessage("The backup is restored.", 10_000)

    @Slot(object)
    def _on_backup_dialog_security_changed(self, settings: SecuritySettings) -> None:
        self.session.set_idle_minutes(settings.idle_lock_minutes)

    def start_daily_backup(self, folder: Path | None = None, keep: int | None = None) -> None:
        """Make today's backup in the background if it is due (see BackgroundChecks)."""
        self.checks.start_daily_backup(folder, keep)

    # -- locking and signing in and out (the Session decides; the window shows) --------------
    def lock(self, reason: str = "on request") -> bool:
        """Save what is being typed and cover the window until the password is typed again.

        ``reason`` is "idle" or "on request" (it goes into the audit log).
        """
        return self.session.lock(reason)

    def sign_out(self) -> None:
        """Save and close everything, log the sign-out, and show the signed-out page."""
        self.session.sign_out()

    def sign_in(self) -> bool:
        """Ask who is signing in and start their session; False if cancelled."""
        return self.session.sign_in()

    def start_session(self, actor: Actor) -> None:
        """Show the window to ``actor``, with what their roles allow."""
        self.session.start(actor)

    def _cover(self) -> None:
        """Hide everything behind the lock page; only Quit stays usable."""
        self.central.setCurrentWidget(self.lock_page)
        self.menuBar().hide()
        self.toolbar.hide()
        self.statusBar().clearMessage()
        self._update_actions()

    def _uncover(self) -> None:
        self.central.setCurrentWidget(self.splitter)
        self.menuBar().show()
        self.toolbar.show()

    def _forget_patients(self) -> None:
        """Drop the search, the selection and the list (the next person starts afresh)."""
        self.patient_search.reset()
        self._viewed_patient = None
        self.patient_pane.show()
        self.pages.setCurrentWidget(self.no_selection)

    @Slot(bool)
    def _on_session_covered_changed(self, covered: bool) -> None:
        if covered:
            self._cover()
        else:
            self._uncover()

    @Slot(str)
    def _on_session_locking(self, _reason: str) -> None:
        focus = QApplication.focusWidget()
        self._focus_before_lock = focus if focus is not None and self.isAncestorOf(focus) else None
        if self.visit_chart is not None:
            self.visit_chart.form.flush()

    @Slot(str)
    def _on_session_locked(self, _reason: str) -> None:
        # Leaving a line edit saves it too (the visit form saves on focus-out); flush again
        # for anything that only had its timer running.
        if self.visit_chart is not None:
            self.visit_chart.form.flush()
            if self.visit_chart.form.has_unsaved():
                # Kept and retried while locked; the person is told what is waiting.
                self.lock_page.explanation.setText(
                    self.lock_page.explanation.text()
                    + "\nSome typing in the open visit is not saved yet: Charting keeps "
                    "trying while locked."
                )

    @Slot(object)
    def _on_session_unlocked(self, _actor: Actor) -> None:
        self.apply_actor()
        focus, self._focus_before_lock = self._focus_before_lock, None
        if focus is not None and focus.isVisible():
            focus.setFocus(Qt.FocusReason.OtherFocusReason)

    @Slot(object)
    def _on_session_started(self, actor: Actor) -> None:
        self.patient_model.refresh()
        self.select_patient(None)
        self.apply_actor()
        self.statusBar().showMessage(f"Welcome, {actor.display_name}.", 5000)

    @Slot()
    def _on_session_signed_out(self) -> None:
        self._forget_patients()
        self.apply_actor()

    @Slot()
    def _on_lock_action_triggered(self) -> None:
        self.lock("on request")

    @Slot()
    def _on_sign_out_action_triggered(self) -> None:
        self.session.switch_user()

    # -- persistence of the layout ---------------------------------------------------------
    def _restore_layout(self) -> None:
        geometry = self.settings.value("main/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            resize_within_screen(self, 1280, 800)
        state = self.settings.value("main/splitter")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.splitter.restoreState(state)

    def save_layout(self) -> None:
        """Remember the window geometry and splitter position."""
        self.settings.setValue("main/geometry", self.saveGeometry())
        self.settings.setValue("main/splitter", self.splitter.saveState())
        self.settings.sync()

    @Slot(str, str)
    def _on_checks_file_damaged(self, path: str, problem: str) -> None:
        QMessageBox.critical(
            self,
            "The database file is damaged",
            damaged_file_text(
                path,
                problem,
                "The check Charting runs on the file in the background has found a problem, "
                "so Charting will close. ",
            ),
        )
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        chart = self.visit_chart
        if chart is not None and not self.file_damaged and not chart.may_leave("quit"):
            event.ignore()
            return
        self.session.stop()
        self.checks.wait()
        self.save_layout()
        super().closeEvent(event)
