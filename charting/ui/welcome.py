"""First-run page: what to do next on an empty database."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget


class WelcomePage(QWidget):
    """Shown while there are no patients: three clear next steps.

    Signals:
        practitioner_requested(): add or edit the practitioner profile.
        new_patient_requested(): add the first patient.
        demo_requested(): fill the database with the fictional demo clinic.
    """

    practitioner_requested = Signal()
    new_patient_requested = Signal()
    demo_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcomePage")
        title = QLabel("Welcome to Charting")
        title.setStyleSheet("font-size: 22pt; font-weight: 600;")
        intro = QLabel(
            "Chart acupuncture for back and leg pain: patients, visits, the points you needle "
            "and how the patient responds. Everything is saved as you go."
        )
        intro.setWordWrap(True)
        self.practitioner_status = QLabel()
        self.practitioner_status.setObjectName("practitionerStatus")
        self.practitioner_button = QPushButton("1.  Add your practitioner profile")
        self.practitioner_button.setObjectName("welcomePractitioner")
        self.practitioner_button.clicked.connect(self.practitioner_requested)
        self.patient_button = QPushButton("2.  Add your first patient  (Ctrl+N)")
        self.patient_button.setObjectName("welcomeNewPatient")
        self.patient_button.clicked.connect(self.new_patient_requested)
        self.demo_button = QPushButton("Or explore: load the demo clinic (fictional patients)")
        self.demo_button.setObjectName("welcomeDemo")
        self.demo_button.setFlat(True)
        self.demo_button.setStyleSheet("text-decoration: underline; color: #1a5fb4;")
        self.demo_button.clicked.connect(self.demo_requested)
        for button in (self.practitioner_button, self.patient_button):
            button.setMinimumHeight(40)
            button.setStyleSheet("text-align: left; padding: 6px 14px; font-size: 11pt;")

        box = QVBoxLayout()
        box.setSpacing(12)
        box.addWidget(title)
        box.addWidget(intro)
        box.addSpacing(12)
        box.addWidget(self.practitioner_button)
        box.addWidget(self.practitioner_status)
        box.addWidget(self.patient_button)
        box.addSpacing(8)
        box.addWidget(self.demo_button, 0, Qt.AlignmentFlag.AlignLeft)
        holder = QWidget()
        holder.setLayout(box)
        holder.setFixedWidth(560)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(holder, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)

    def set_practitioner(self, name: str | None, step: str = "profile") -> None:
        """Show whether the signed-in practitioner's profile is complete.

        ``step`` is "profile" (the account treats patients), "accounts" (an admin who does
        not: the first step is adding the practitioners' accounts) or "" (no first step).
        """
        self.practitioner_button.setVisible(bool(step))
        self.practitioner_status.setVisible(bool(step))
        if step == "accounts":
            self.practitioner_button.setText("1.  Add accounts for the practitioners")
            self.practitioner_status.setText(
                "Each practitioner signs in with their own account and profile."
            )
        elif name:
            self.practitioner_button.setText("1.  Your practitioner profile \u2713")
            self.practitioner_status.setText(f"Charting as {name.rstrip('.')}.")
        else:
            self.practitioner_button.setText("1.  Add your practitioner profile")
            self.practitioner_status.setText("Visits are signed with this name and licence.")

    def set_permissions(self, *, can_add_patients: bool, can_load_demo: bool) -> None:
        """Offer only the steps the signed-in roles can take."""
        self.patient_button.setVisible(can_add_patients)
        self.demo_button.setVisible(can_load_demo)
