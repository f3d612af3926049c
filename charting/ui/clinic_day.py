"""The clinic's day in the main window: today's list as the start page, and the Day menu.

Everything about appointments, open drafts, consent, billing and recalls reaches the main
window through this one object, so the window itself needs only a few lines: make it,
ask it for the start page, and tell it when the signed-in account changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QVBoxLayout, QWidget

from charting.models import Visit
from charting.services import drafts as draft_service
from charting.services.access import Permission
from charting.ui.appointment_book import AppointmentBook, BookingDialog, run_booking
from charting.ui.day_list import DayList, DraftsDialog

if TYPE_CHECKING:
    from charting.ui.main_window import MainWindow


class AppointmentBookDialog(QDialog):
    """The appointment book in its own (modal) window, as large as the main window."""

    def __init__(self, book: AppointmentBook, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("appointmentBookDialog")
        self.setWindowTitle("Appointment book")
        self.book = book
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(book, 1)
        layout.addWidget(buttons)
        book.visit_requested.connect(self.accept)


class ClinicDay(QObject):
    """Today's list, the appointment book and the day's other screens, for one main window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.day_list = DayList(window.ops)
        window.pages.addWidget(self.day_list)
        self._session_user: object = None
        self._opened_visit: int | None = None

        def action(text: str, shortcut: str | None, name: str, needs: Permission) -> QAction:
            act = QAction(text, window)
            act.setObjectName(name)
            if shortcut:
                act.setShortcut(QKeySequence(shortcut))
                act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            window.addAction(act)
            window._needs[act] = needs  # the window hides and disables what roles cannot use
            return act

        self.today_action = action(
            "&Today's list", "Ctrl+T", "todayAction", Permission.VIEW_PATIENTS
        )
        self.book_action = action(
            "Appointment &book\u2026", "Ctrl+B", "bookAction", Permission.BOOK
        )
        self.new_booking_action = action(
            "Book an &appointment\u2026", "Ctrl+Shift+B", "newBookingAction", Permission.BOOK
        )
        self.drafts_action = action(
            "Visits not &signed\u2026", None, "draftsAction", Permission.VIEW_CLINICAL
        )
        self.consent_action = action(
            "&Consent\u2026", "Ctrl+Shift+K", "consentAction", Permission.VIEW_CLINICAL
        )
        self.billing_action = action(
            "B&illing codes and superbill\u2026", None, "billingAction", Permission.VIEW_CLINICAL
        )
        self.recall_action = action(
            "Needle-lot &recall\u2026", None, "recallAction", Permission.EXPORT
        )
        self.billing_export_action = action(
            "&Export billing codes (CSV)\u2026", None, "billingExportAction", Permission.EXPORT
        )
        # Consent needs a patient on screen, like editing one does.
        window._patient_actions = (*window._patient_actions, self.consent_action)
        menu = window.menuBar().addMenu("&Day")
        for act in (self.today_action, self.book_action, self.new_booking_action):
            menu.addAction(act)
        menu.addSeparator()
        for act in (self.drafts_action, self.consent_action, self.billing_action):
            menu.addAction(act)
        menu.addSeparator()
        menu.addAction(self.recall_action)
        menu.addAction(self.billing_export_action)
        window.toolbar.addSeparator()
        window.toolbar.addAction(self.today_action)
        window.toolbar.addAction(self.book_action)

        self.today_action.triggered.connect(self.show_today)
        self.book_action.triggered.connect(self.show_book)
        self.new_booking_action.triggered.connect(self.book_for_patient)
        self.drafts_action.triggered.connect(self.show_drafts)
        self.consent_action.triggered.connect(self.show_consent)
        self.billing_action.triggered.connect(self.show_billing)
        self.recall_action.triggered.connect(self.show_recall)
        self.billing_export_action.triggered.connect(self.export_billing)
        self.day_list.visit_requested.connect(self.open_visit)
        self.day_list.drafts_requested.connect(self.show_drafts)
        self.day_list.book_requested.connect(self.show_book)

    # -- what the main window asks -----------------------------------------------------------
    @property
    def start_page(self) -> QWidget | None:
        """Today's list, for accounts that may see patients (else None)."""
        return self.day_list if self.window.can(Permission.VIEW_PATIENTS) else None

    def apply_actor(self) -> None:
        """Open today's list on the signed-in account's own day; say how many drafts wait."""
        actor = self.window.actor
        if actor is None:
            self._session_user = None
            return
        self.day_list.set_actor(
            own_practitioner=actor.practitioner_id,
            can_chart=actor.can(Permission.CHART),
            clinical=actor.can(Permission.VIEW_CLINICAL),
        )
        self.billing_action.setEnabled(self.window.can(Permission.VIEW_CLINICAL))
        if self._session_user != actor.user_id:
            self._session_user = actor.user_id
            # After the window's own "Welcome" message, which would cover it.
            QTimer.singleShot(0, self.announce_drafts)

    @Slot()
    def announce_drafts(self) -> str:
        """Put "3 visits not signed, oldest 4 days" in the status bar; return it."""
        actor = self.window.actor
        if actor is None or actor.practitioner_id is None or not actor.can(Permission.CHART):
            return ""
        own = actor.practitioner_id
        text = self.window.ops.read(
            lambda s: draft_service.summary(draft_service.open_drafts(s, own))
        )
        if text:
            self.window.statusBar().showMessage(f"{text} (Day \u203a Visits not signed)", 30_000)
        return text

    # -- actions -------------------------------------------------------------------------------
    @Slot()
    def show_today(self) -> None:
        """Close any open visit (saved) and show today's list."""
        window = self.window
        window.close_visit()
        window.patient_pane.show()
        window.select_patient(None)
        self.day_list.refresh()
        window.pages.setCurrentWidget(self.day_list)
        self.day_list.table.setFocus()

    def make_book(self) -> AppointmentBookDialog:
        """The appointment book dialog, on the signed-in practitioner's week."""
        book = AppointmentBook(self.window.ops)
        actor = self.window.actor
        book.set_permissions(
            can_chart=self.window.can(Permission.CHART),
            own_practitioner=actor.practitioner_id if actor is not None else None,
        )
        if actor is not None and actor.practitioner_id is None:
            book.show_day()  # front desk starts on the clinic's day
        dialog = AppointmentBookDialog(book, self.window)
        dialog.resize(self.window.size())
        book.visit_requested.connect(self.open_visit)
        return dialog

    @Slot()
    def show_book(self) -> None:
        """Open the appointment book."""
        dialog = self.make_book()
        dialog.exec()
        dialog.deleteLater()

    @Slot()
    def book_for_patient(self) -> None:
        """Book an appointment (for the patient on screen, if any)."""
        from charting.services.appointments import AppointmentInput

        window = self.window
        actor = window.actor
        initial = AppointmentInput(
            patient_id=window.current_patient_id,
            practitioner_id=actor.practitioner_id if actor is not None else None,
        )
        label = window.patient_panel.title.text() if window.current_patient_id else ""
        data = BookingDialog.ask(window, window.ops, initial, label)
        if data is not None and run_booking(window, window.ops, data) is not None:
            window.statusBar().showMessage("Appointment booked.", 5000)

    @Slot(int)
    def open_visit(self, visit_id: int) -> None:
        """Open a visit on the body map (its patient's chart behind it)."""
        window = self.window
        patient_id = window.ops.read(lambda s: s.get_one(Visit, visit_id).patient_id)
        window.select_patient(patient_id)
        window.open_visit(visit_id)

    @Slot()
    def show_drafts(self) -> None:
        """List visits not signed: the practitioner's own, or the clinic's for an admin."""
        window = self.window
        actor = window.actor
        if actor is None:
            return
        # An admin sees the whole clinic's list (their own drafts among them); a
        # practitioner their own.
        admin = actor.can(Permission.MANAGE_ACCOUNTS)
        whose = None if admin else actor.practitioner_id
        if whose is None and not admin:
            return
        dialog = DraftsDialog(window.ops, whose, window)
        dialog.visit_requested.connect(self.open_visit)
        dialog.exec()
        dialog.deleteLater()

    @Slot()
    def show_consent(self) -> None:
        """The consent screen of the patient on screen."""
        from charting.ui.consent_dialog import ConsentDialog

        window = self.window
        pid = window.current_patient_id
        if pid is None:
            return
        dialog = ConsentDialog(
            window.ops,
            window.database,
            pid,
            window.patient_panel.title.text(),
            can_record=window.can(Permission.CHART),
            parent=window,
        )
        dialog.exec()
        dialog.deleteLater()

    def billing_visit(self) -> int | None:
        """The visit billing is about: the open one, else the one chosen in the chart."""
        window = self.window
        chart = window.visit_chart
        if chart is not None and window.pages.currentWidget() is chart and chart.visit_id:
            return chart.visit_id
        panel = window.patient_panel
        index = panel.visits.currentIndex()
        if window.current_patient_id is not None and index.isValid():
            return panel.visit_model.visit_id(index.row())
        return None

    @Slot()
    def show_billing(self) -> None:
        """The billing screen of the open (or chosen) visit."""
        from charting.ui.billing_dialog import BillingDialog

        window = self.window
        visit_id = self.billing_visit()
        if visit_id is None:
            window.statusBar().showMessage(
                "Open a visit, or choose one in the patient's chart, to see its billing codes.",
                8000,
            )
            return
        number = window.ops.read(lambda s: s.get_one(Visit, visit_id).number)
        dialog = BillingDialog(
            window.ops,
            window.database,
            visit_id,
            f"{window.patient_panel.title.text()}, visit {number}",
            can_confirm=window.can(Permission.CHART),
            parent=window,
        )
        dialog.exec()
        dialog.deleteLater()

    @Slot()
    def show_recall(self) -> None:
        """The needle-lot recall search (admins)."""
        from charting.ui.recall_dialog import RecallDialog

        dialog = RecallDialog(self.window.ops, self.window)
        dialog.exec()
        dialog.deleteLater()

    @Slot()
    def export_billing(self) -> None:
        """Export confirmed billing codes for a billing system (admins)."""
        from charting.ui.billing_dialog import BillingExportDialog

        dialog = BillingExportDialog(self.window.ops, self.window)
        dialog.exec()
        dialog.deleteLater()
