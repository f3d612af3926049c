"""Clinic settings: the letterhead on every document and the aftercare handout's wording."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from charting.services.settings import (
    PAPER_SIZES,
    TEXT_FIELDS,
    ClinicSettings,
    validate_settings,
)
from charting.ui.forms import FieldForm, line, resize_within_screen, text_box

HANDOUT_SECTIONS = (
    ("handout_expect", "What to expect"),
    ("handout_do", "What to do"),
    ("handout_cupping", "After cupping (only printed when cupping was done)"),
    ("handout_call", "When to call the clinic"),
    ("handout_emergency", "When to get emergency help"),
)


class ClinicSettingsDialog(QDialog):
    """Letterhead and handout wording; the handout defaults are plain and claim nothing."""

    def __init__(self, current: ClinicSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("clinicSettingsDialog")
        self.setWindowTitle("Clinic and handout settings")
        self._result: ClinicSettings | None = None
        self._current = current
        self.edits: dict[str, QLineEdit | QPlainTextEdit] = {}

        letterhead = QWidget()
        self.letter_form = FieldForm()
        for name, label in (
            ("clinic_name", "Clinic &name *"),
            ("clinic_phone", "&Phone"),
            ("clinic_email", "&E-mail"),
            ("clinic_website", "&Website"),
            ("clinic_tax_id", "&Tax ID (EIN)"),
        ):
            edit = line("", 200)
            edit.setText(getattr(current, name))
            self.letter_form.add(name, label, edit)
            self.edits[name] = edit
        address = text_box("Street, town, postcode", 3)
        address.setPlainText(current.clinic_address)
        self.letter_form.add("clinic_address", "&Address", address)
        self.edits["clinic_address"] = address
        logo = line("PNG or JPEG, printed at the top left", 500)
        logo.setText(current.logo_path)
        browse = QPushButton("Browse\u2026")
        browse.clicked.connect(self._on_browse_clicked)
        logo_row = QWidget()
        row = QHBoxLayout(logo_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(logo, 1)
        row.addWidget(browse)
        self.letter_form.add("logo_path", "&Logo", logo_row, logo)
        self.edits["logo_path"] = logo
        paper = QComboBox()
        paper.setObjectName("paper_size")
        for size, text in zip(
            PAPER_SIZES, ("A4 (210 x 297 mm)", "US Letter (8.5 x 11 in)"), strict=True
        ):
            paper.addItem(text, size)
        paper.setCurrentIndex(max(0, paper.findData(current.paper_size)))
        self.letter_form.add("paper_size", "Pa&per size", paper)
        self.paper = paper
        letter_layout = QVBoxLayout(letterhead)
        letter_layout.addLayout(self.letter_form)
        letter_layout.addStretch(1)

        handout = QWidget()
        self.handout_form = FieldForm()
        for name, label in HANDOUT_SECTIONS:
            box = text_box("", 5)
            box.setPlainText(getattr(current, name))
            self.handout_form.add(name, label, box)
            self.edits[name] = box
        handout_layout = QVBoxLayout(handout)
        handout_layout.addLayout(self.handout_form)
        handout_layout.addStretch(1)

        tabs = QTabWidget()
        tabs.addTab(letterhead, "Letterhead")
        tabs.addTab(handout, "Aftercare handout wording")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).setText(
            "Restore standard handout wording"
        )
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(
            self._on_restore_clicked
        )
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(buttons)
        resize_within_screen(self, 720, 620)

    @classmethod
    def ask(cls, parent: QWidget | None, current: ClinicSettings) -> ClinicSettings | None:
        """Show the settings; return the new settings, or None if cancelled."""
        dialog = cls(current, parent)
        dialog.exec()
        return dialog._result

    def collect(self) -> ClinicSettings:
        """The settings as edited."""
        values: dict[str, Any] = {}
        for name in TEXT_FIELDS:
            if name == "paper_size":
                values[name] = self.paper.currentData()
                continue
            edit = self.edits[name]
            values[name] = edit.toPlainText() if isinstance(edit, QPlainTextEdit) else edit.text()
        return replace(self._current, **values)

    @Slot()
    def _on_restore_clicked(self) -> None:
        defaults = ClinicSettings()
        for name, _label in HANDOUT_SECTIONS:
            edit = self.edits[name]
            assert isinstance(edit, QPlainTextEdit)
            edit.setPlainText(getattr(defaults, name))

    @Slot()
    def _on_browse_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Clinic logo", "", "Images (*.png *.jpg *.jpeg)"
        )
        if path:
            edit = self.edits["logo_path"]
            assert isinstance(edit, QLineEdit)
            edit.setText(path)

    @Slot()
    def _on_buttons_accepted(self) -> None:
        data = self.collect()
        errors = validate_settings(data)
        self.letter_form.show_errors(errors)
        self.handout_form.show_errors(errors)
        if not errors:
            self._result = data
            self.accept()
