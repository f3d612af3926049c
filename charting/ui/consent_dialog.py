"""The consent screen: a patient's consents, recording a new one, withdrawal, the printed form."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Slot
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from charting.models.db import Database
from charting.reports.consent_form import build_consent_form
from charting.services import consent as consent_service
from charting.services.consent import RISKS, TREATMENTS, ConsentInput, ConsentRow
from charting.ui.app_rules import rich_label
from charting.ui.documents import DocumentAudit, save_document
from charting.ui.forms import ErrorLabel, WrappingCheckBox, resize_within_screen, text_box
from charting.ui.ops import OpRunner
from charting.ui.table_models import RowsModel


class ConsentModel(RowsModel):
    """A patient's consents (ConsentRow), newest first."""

    COLUMNS = ("Recorded", "Course", "Treatments", "Taken by", "Status")

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            status = (
                "Active" if row.active else f"Withdrawn {row.withdrawn_at.astimezone():%Y-%m-%d}"
            )
            return (
                f"{row.taken_at.astimezone():%Y-%m-%d %H:%M}",
                row.course,
                row.treatment_labels,
                row.taken_by,
                status,
            )[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole and not row.active:
            return f"Withdrawn by {row.withdrawn_by}: {row.withdrawal_reason}"
        if role == Qt.ItemDataRole.ForegroundRole and not row.active:
            return QBrush(QColor("#777777"))
        return None


class ConsentDialog(QDialog):
    """Record, review and withdraw a patient's consents, and print the form to sign."""

    def __init__(
        self,
        ops: OpRunner,
        database: Database,
        patient_id: int,
        patient_name: str,
        *,
        can_record: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("consentDialog")
        self.setWindowTitle(f"Consent \u2014 {patient_name}")
        self.ops = ops
        self.database = database
        self.patient_id = patient_id
        self.patient_name = patient_name

        self.model = ConsentModel(self)
        self.table = QTableView()
        self.table.setObjectName("consentTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.print_button = QPushButton("Consent &form (PDF)\u2026")
        self.print_button.setObjectName("consentFormButton")
        self.withdraw_button = QPushButton("&Withdraw\u2026")
        self.withdraw_button.setObjectName("withdrawConsentButton")
        list_buttons = QHBoxLayout()
        list_buttons.addWidget(self.print_button)
        list_buttons.addWidget(self.withdraw_button)
        list_buttons.addStretch(1)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(rich_label("<b>Consents on record</b>"))
        top_layout.addWidget(self.table, 1)
        top_layout.addLayout(list_buttons)

        self.form = QGroupBox("Record a new consent")
        self.form.setObjectName("newConsent")
        self.course = QLineEdit()
        self.course.setObjectName("consentCourse")
        self.course.setMaxLength(200)
        self.course.setPlaceholderText("Course, e.g. Low back pain, from December 2026")
        self.treatment_boxes: dict[str, QCheckBox] = {}
        treatments = QWidget()
        t_layout = QVBoxLayout(treatments)
        t_layout.setContentsMargins(0, 0, 0, 0)
        t_layout.setSpacing(2)
        for key, label in TREATMENTS.items():
            box = QCheckBox(label)
            box.setObjectName(f"treatment_{key}")
            box.toggled.connect(self._on_treatment_toggled)
            self.treatment_boxes[key] = box
            t_layout.addWidget(box)
        self.risk_boxes: dict[str, WrappingCheckBox] = {}
        risks = QWidget()
        r_layout = QVBoxLayout(risks)
        r_layout.setContentsMargins(0, 0, 0, 0)
        r_layout.setSpacing(2)
        for risk in RISKS:
            risk_box = WrappingCheckBox(risk.text)
            risk_box.box.setObjectName(f"risk_{risk.key}")
            risk_box.hide()
            self.risk_boxes[risk.key] = risk_box
            r_layout.addWidget(risk_box)
        self.risk_hint = QLabel("Tick a treatment to see the risks to explain.")
        self.risk_hint.setStyleSheet("color: #666;")
        r_layout.addWidget(self.risk_hint)
        self.note = text_box("Questions asked, interpreter used, anything else", 2)
        self.note.setObjectName("consentNote")
        self.error = ErrorLabel("consentError")
        self.record_button = QPushButton("&Record consent")
        self.record_button.setObjectName("recordConsentButton")
        columns = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(QLabel("The patient agrees to:"))
        left.addWidget(treatments)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(QLabel("Risks explained (tick each one you explained):"))
        right.addWidget(risks)
        right.addStretch(1)
        columns.addLayout(left, 2)
        columns.addLayout(right, 3)
        form_layout = QVBoxLayout(self.form)
        form_layout.addWidget(self.course)
        form_layout.addLayout(columns)
        form_layout.addWidget(self.note)
        form_layout.addWidget(self.error)
        form_layout.addWidget(self.record_button, 0, Qt.AlignmentFlag.AlignRight)
        self.form.setVisible(can_record)
        self.withdraw_button.setVisible(can_record)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(self.form)
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 2)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(close)

        self.record_button.clicked.connect(self._on_record_button_clicked)
        self.withdraw_button.clicked.connect(self._on_withdraw_button_clicked)
        self.print_button.clicked.connect(self._on_print_button_clicked)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_row_changed)
        self.refresh()
        resize_within_screen(self, 860, 640)

    def refresh(self) -> None:
        """Read the patient's consents again."""
        pid = self.patient_id
        self.model.set_rows(self.ops.read(lambda s: consent_service.list_consents(s, pid)))
        if self.model.rows:
            self.table.selectRow(0)
        self._update_buttons()

    def current(self) -> ConsentRow | None:
        """The selected consent."""
        index = self.table.currentIndex()
        return self.model.rows[index.row()] if index.isValid() else None

    def _update_buttons(self) -> None:
        row = self.current()
        self.print_button.setEnabled(row is not None)
        self.withdraw_button.setEnabled(row is not None and row.active)

    def collect(self) -> ConsentInput:
        """The new consent form's values."""
        return ConsentInput(
            self.patient_id,
            self.course.text(),
            [k for k, box in self.treatment_boxes.items() if box.isChecked()],
            [k for k, w in self.risk_boxes.items() if w.box.isChecked() and not w.isHidden()],
            self.note.toPlainText(),
        )

    @Slot(bool)
    def _on_treatment_toggled(self, _checked: bool) -> None:
        chosen = {k for k, box in self.treatment_boxes.items() if box.isChecked()}
        for risk in RISKS:
            self.risk_boxes[risk.key].setVisible(risk.treatment in chosen)
        self.risk_hint.setVisible(not chosen)

    @Slot(QModelIndex, QModelIndex)
    def _on_table_current_row_changed(self, _current: QModelIndex, _prev: QModelIndex) -> None:
        self._update_buttons()

    @Slot()
    def _on_record_button_clicked(self) -> None:
        data = self.collect()
        errors = consent_service.validate(data)
        self.error.show_message("; ".join(errors.values()))
        if errors:
            return
        if self.ops.run(self, consent_service.record_consent, data) is None:
            return
        for box in (*self.treatment_boxes.values(), *(w.box for w in self.risk_boxes.values())):
            box.setChecked(False)
        self.note.clear()
        self.refresh()

    @Slot()
    def _on_withdraw_button_clicked(self) -> None:
        row = self.current()
        if row is None:
            return
        reason, ok = QInputDialog.getText(
            self, "Withdraw consent", "What did the patient say? (recorded with the withdrawal)"
        )
        if ok and self.ops.run(self, consent_service.withdraw, row.id, reason) is not None:
            self.refresh()

    @Slot()
    def _on_print_button_clicked(self) -> None:
        row = self.current()
        if row is None:
            return
        clinic, patient, consent = self.ops.read(lambda s: consent_service.form_data(s, row.id))
        save_document(
            self,
            f"consent-{patient.chart_number}",
            lambda target: build_consent_form(clinic, patient, consent, target),
            DocumentAudit(self.database, self.patient_id, "Consent form"),
        )
