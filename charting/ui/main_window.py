"""The main window: find a patient, see their chart, start a visit."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QItemSelectionModel, QModelIndex, QSettings, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from charting.models.db import Database
from charting.services import patients as patient_service
from charting.services import practitioners as practitioner_service
from charting.services import visits as visit_service
from charting.services.changes import Changes
from charting.services.demo import create_demo_clinic
from charting.services.errors import NotFoundError
from charting.ui.ops import OpRunner
from charting.ui.patient_dialog import PatientDialog
from charting.ui.patient_list import PatientListModel
from charting.ui.patient_panel import PatientPanel
from charting.ui.practitioner_dialog import PractitionerDialog
from charting.ui.visit_dialog import NewVisitDialog
from charting.ui.welcome import WelcomePage

if TYPE_CHECKING:
    from charting.ui.visit_chart import VisitChartPage

SEARCH_DELAY_MS = 120


class MainWindow(QMainWindow):
    """Patient list and search on the left; the selected patient's chart on the right."""

    def __init__(self, database: Database, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setObjectName("MainWindow")
        self.setWindowTitle("Charting")
        self.database = database
        self.settings = settings or QSettings()
        self.ops = OpRunner(database, self)
        self._patient_id: int | None = None

        self.search = QLineEdit()
        self.search.setObjectName("patientSearch")
        self.search.setPlaceholderText("Search name, chart number or birth date (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.patient_model = PatientListModel(database, self)
        self.patient_list = QTableView()
        self.patient_list.setObjectName("patientList")
        self.patient_list.setModel(self.patient_model)
        self.patient_list.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.patient_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.patient_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.patient_list.verticalHeader().hide()
        self.patient_list.verticalHeader().setDefaultSectionSize(26)
        self.patient_list.setAlternatingRowColors(True)
        self.patient_list.setWordWrap(False)
        header = self.patient_list.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 64), (2, 88), (3, 48), (4, 110)):
            header.resizeSection(column, width)
        self.result_count = QLabel()
        self.result_count.setObjectName("resultCount")
        self.result_count.setStyleSheet("color: #666;")
        left = self.patient_pane = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(6, 6, 0, 6)
        left_layout.addWidget(self.search)
        left_layout.addWidget(self.patient_list, 1)
        left_layout.addWidget(self.result_count)

        self.welcome = WelcomePage()
        self.no_selection = QLabel("Choose a patient on the left, or add one with Ctrl+N.")
        self.no_selection.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_selection.setStyleSheet("color: #666; font-size: 12pt;")
        self.patient_panel = PatientPanel()
        self.visit_chart: VisitChartPage | None = None  # made on first use (loads the body map)
        self._charted_patient: int | None = None
        self.pages = QStackedWidget()
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
        self.setCentralWidget(self.splitter)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)

        self._make_actions()
        self._connect()
        where = database.sqlite_path or database.url.render_as_string(hide_password=True)
        self.statusBar().showMessage(f"Database: {where}")
        self.patient_model.refresh()
        self._update_pages()
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
        self.demo_action = action("Load &demo clinic", None, "demoAction")
        self.export_action = action("&Export patient records\u2026", "Ctrl+Shift+E", "exportAction")
        self.clinic_action = action("&Clinic and handout settings\u2026", None, "clinicAction")
        self.find_action = action("&Find patient", "Ctrl+F", "findAction")
        self.quit_action = action(
            "&Quit", QKeySequence(QKeySequence.StandardKey.Quit), "quitAction"
        )

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.new_patient_action)
        file_menu.addAction(self.export_action)
        file_menu.addAction(self.demo_action)
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
        settings_menu = menu.addMenu("&Settings")
        settings_menu.addAction(self.practitioner_action)
        settings_menu.addAction(self.clinic_action)

        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for act in (self.new_patient_action, self.edit_patient_action, self.new_visit_action):
            toolbar.addAction(act)

    def _connect(self) -> None:
        self.search.textChanged.connect(self._on_search_text_changed)
        self.search.returnPressed.connect(self._on_search_return_pressed)
        self._search_timer.timeout.connect(self._on_search_timer_timeout)
        self.patient_list.selectionModel().currentRowChanged.connect(
            self._on_patient_list_current_row_changed
        )
        self.ops.changes_applied.connect(self._on_ops_changes_applied)
        self.new_patient_action.triggered.connect(self.new_patient)
        self.edit_patient_action.triggered.connect(self.edit_patient)
        self.new_visit_action.triggered.connect(self.new_visit)
        self.delete_patient_action.triggered.connect(self.delete_patient)
        self.practitioner_action.triggered.connect(self.edit_practitioner)
        self.demo_action.triggered.connect(self.load_demo)
        self.export_action.triggered.connect(self.export_records)
        self.clinic_action.triggered.connect(self.edit_clinic_settings)
        self.find_action.triggered.connect(self._on_find_action_triggered)
        self.quit_action.triggered.connect(self.close)
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
        return self._patient_id

    def _update_pages(self) -> None:
        charting = self.visit_chart is not None and self.pages.currentWidget() is self.visit_chart
        if charting and self._patient_id == self._charted_patient:
            return
        has_patient = self._patient_id is not None
        for act in (self.edit_patient_action, self.new_visit_action, self.delete_patient_action):
            act.setEnabled(has_patient)
        count = self.patient_model.rowCount()
        if has_patient:
            self.pages.setCurrentWidget(self.patient_panel)
        elif count == 0 and not self.patient_model.search_text:
            practitioners = self.ops.read(practitioner_service.list_practitioners)
            self.welcome.set_practitioner(practitioners[0].display_name if practitioners else None)
            self.pages.setCurrentWidget(self.welcome)
        else:
            self.pages.setCurrentWidget(self.no_selection)
        text = self.patient_model.search_text
        self.result_count.setText(
            f"{count:,} patient{'s' if count != 1 else ''}"
            + (f" matching \u201c{text}\u201d" if text else "")
        )

    def select_patient(self, patient_id: int | None) -> None:
        """Show ``patient_id``'s chart (and select it in the list when it is listed)."""
        self._patient_id = patient_id
        if patient_id is not None:
            row = self.patient_model.row_of(patient_id)
            if row is not None:
                index = self.patient_model.index(row, 0)
                self.patient_list.selectionModel().setCurrentIndex(
                    index,
                    QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows,
                )
                self.patient_list.scrollTo(index)
            self._load_patient_panel()
        self._update_pages()

    def _load_patient_panel(self) -> None:
        assert self._patient_id is not None
        with self.database.read() as session:
            try:
                patient = patient_service.get_patient(session, self._patient_id)
            except NotFoundError:
                self._patient_id = None
                return
            visits = visit_service.list_visits(session, patient.id)
            self.patient_panel.show_patient(patient, visits, date.today())

    # -- slots -------------------------------------------------------------------------
    @Slot(str)
    def _on_search_text_changed(self, _text: str) -> None:
        self._search_timer.start()

    @Slot()
    def _on_search_timer_timeout(self) -> None:
        self.patient_model.set_search(self.search.text())
        if self.patient_model.rowCount() == 1:
            self.select_patient(self.patient_model.patient_id(0))
        elif self._patient_id is not None and self.patient_model.row_of(self._patient_id) is None:
            self.select_patient(None)
        else:
            self.select_patient(self._patient_id)

    @Slot()
    def _on_search_return_pressed(self) -> None:
        if self._search_timer.isActive():
            self._search_timer.stop()
            self._on_search_timer_timeout()
        if self.patient_model.rowCount():
            self.select_patient(self.patient_model.patient_id(0))
            self.patient_list.setFocus()

    @Slot()
    def _on_find_action_triggered(self) -> None:
        self.patient_pane.show()
        self.search.setFocus()
        self.search.selectAll()

    @Slot(QModelIndex, QModelIndex)
    def _on_patient_list_current_row_changed(
        self, current: QModelIndex, _prev: QModelIndex
    ) -> None:
        pid = self.patient_model.patient_id(current.row()) if current.isValid() else None
        if pid is not None and pid != self._patient_id:
            self._patient_id = pid
            self._load_patient_panel()
            self._update_pages()

    @Slot(object)
    def _on_ops_changes_applied(self, changes: Changes) -> None:
        if changes.patients or changes.visits:
            self.patient_model.refresh()
        if self._patient_id is not None and self.patient_model.row_of(self._patient_id) is None:
            self._patient_id = None
        self.select_patient(self._patient_id)

    # -- actions -----------------------------------------------------------------------
    @Slot()
    def new_patient(self) -> None:
        """Ask for a new patient and show their chart."""
        data = PatientDialog.ask(self)
        if data is None:
            return
        result = self.ops.run(self, patient_service.create_patient, data)
        if result is not None:
            new_id, _changes = result
            if self.patient_model.row_of(new_id) is None:
                self.search.clear()
                self._search_timer.stop()
                self.patient_model.set_search("")
            self.select_patient(new_id)
            self.statusBar().showMessage("Patient added.", 5000)

    @Slot()
    def edit_patient(self) -> None:
        """Edit the selected patient's details."""
        if self._patient_id is None:
            return
        pid = self._patient_id
        with self.database.read() as session:
            initial = patient_service.PatientInput.from_patient(
                patient_service.get_patient(session, pid)
            )
        data = PatientDialog.ask(self, initial)
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
        )
        if result is not None:
            self.statusBar().showMessage("Visit started.", 5000)
            self.open_visit(result[0])

    def open_visit(self, visit_id: int) -> None:
        """Chart ``visit_id`` on the body map."""
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
        """Add the practitioner profile, or edit the first one."""
        existing = self.ops.read(practitioner_service.list_practitioners)
        initial = None
        if existing:
            p = existing[0]
            initial = practitioner_service.PractitionerInput(
                p.name, p.credentials, p.licence_number, p.style
            )
        data = PractitionerDialog.ask(self, initial)
        if data is not None:
            self.ops.run(
                self,
                practitioner_service.save_practitioner,
                data,
                existing[0].id if existing else None,
            )
            self._update_pages()

    @Slot()
    def load_demo(self) -> None:
        """Add 200 fictional patients to explore the app with."""
        answer = QMessageBox.question(
            self,
            "Load demo clinic",
            "Add 200 clearly fictional demo patients with visits to this database?",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return

        if self.ops.run(self, create_demo_clinic, 200) is not None:
            self.statusBar().showMessage("Demo clinic loaded: 200 fictional patients.", 5000)

    # -- persistence of the layout ---------------------------------------------------------
    def _restore_layout(self) -> None:
        geometry = self.settings.value("main/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        state = self.settings.value("main/splitter")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.splitter.restoreState(state)

    def save_layout(self) -> None:
        """Remember the window geometry and splitter position."""
        self.settings.setValue("main/geometry", self.saveGeometry())
        self.settings.setValue("main/splitter", self.splitter.saveState())
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.visit_chart is not None:
            self.visit_chart.form.flush()
        self.save_layout()
        super().closeEvent(event)
