"""The needle-lot recall screen (clinic admins): search by lot or brand and size, save the CSV."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate, QModelIndex, QPersistentModelIndex, Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from charting.services import recall
from charting.services.changes import Changes
from charting.services.recall import RecallQuery, RecallRow
from charting.ui.forms import resize_within_screen
from charting.ui.ops import OpRunner
from charting.ui.table_models import RowsModel


class RecallModel(RowsModel):
    """The visits found (RecallRow)."""

    COLUMNS = ("Visit date", "Patient", "Chart", "Phone", "Needles", "Lot", "Practitioner")

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if role != Qt.ItemDataRole.DisplayRole or not index.isValid():
            return None
        r = self.rows[index.row()]
        return (
            f"{r.visit_date.astimezone():%Y-%m-%d}",
            r.patient_name,
            r.chart_number,
            r.phone,
            " ".join(x for x in (r.needle_brand, r.needle_size) if x),
            r.needle_lot,
            r.practitioner,
        )[index.column()]


class RecallDialog(QDialog):
    """Find every visit treated with a recalled lot (or brand and size) and save the list."""

    def __init__(self, ops: OpRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recallDialog")
        self.setWindowTitle("Needle-lot recall")
        self.ops = ops
        self.query: RecallQuery | None = None
        self.lot = QLineEdit()
        self.lot.setObjectName("recallLot")
        self.lot.setPlaceholderText("e.g. L2291")
        self.brand = QLineEdit()
        self.brand.setObjectName("recallBrand")
        self.gauge = QLineEdit()
        self.gauge.setPlaceholderText("gauge, e.g. 0.25 mm")
        self.length = QLineEdit()
        self.length.setPlaceholderText("length, e.g. 40 mm")
        size = QHBoxLayout()
        size.addWidget(self.gauge)
        size.addWidget(self.length)
        self.use_since = QCheckBox("from")
        self.since = QDateEdit(QDate.currentDate().addYears(-1))
        self.use_until = QCheckBox("to")
        self.until = QDateEdit(QDate.currentDate())
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        dates = QHBoxLayout()
        for widget in (self.use_since, self.since, self.use_until, self.until):
            dates.addWidget(widget)
        dates.addStretch(1)
        form = QFormLayout()
        form.addRow("&Lot number", self.lot)
        form.addRow("or &brand", self.brand)
        form.addRow("and si&ze", size)
        form.addRow("Visits", dates)
        self.search_button = QPushButton("&Search")
        self.search_button.setObjectName("recallSearchButton")
        self.search_button.setDefault(True)
        self.summary = QLabel()
        self.summary.setObjectName("recallSummary")
        self.model = RecallModel(self)
        self.table = QTableView()
        self.table.setObjectName("recallTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.save_button = QPushButton("Save &CSV\u2026")
        self.save_button.setObjectName("recallSaveButton")
        self.save_button.setEnabled(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.search_button)
        row.addWidget(self.summary, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addWidget(QLabel("The search and every saved list are written to the audit log."))
        layout.addWidget(buttons)
        self.search_button.clicked.connect(self._on_search_button_clicked)
        self.save_button.clicked.connect(self._on_save_button_clicked)
        resize_within_screen(self, 900, 560)

    def current_query(self) -> RecallQuery:
        """The criteria as entered."""

        def day(box: QCheckBox, edit: QDateEdit) -> date | None:
            return edit.date().toPython() if box.isChecked() else None  # type: ignore[return-value]

        return RecallQuery(
            self.lot.text(),
            self.brand.text(),
            self.gauge.text(),
            self.length.text(),
            day(self.use_since, self.since),
            day(self.use_until, self.until),
        )

    @Slot()
    def _on_search_button_clicked(self) -> None:
        query = self.current_query()
        result = self.ops.run(self, lambda s: (recall.find(s, query), Changes()))
        if result is None:
            return
        rows: list[RecallRow] = result[0]
        self.query = query
        self.model.set_rows(rows)
        patients = len({r.patient_id for r in rows})
        self.summary.setText(
            f"{len(rows)} visit{'s' if len(rows) != 1 else ''} of {patients} "
            f"patient{'s' if patients != 1 else ''} ({query.describe()})"
        )
        self.save_button.setEnabled(bool(rows))

    def save_to(self, path: Path) -> bool:
        """Write the list found to ``path`` (audited); False if refused."""
        if self.query is None:
            return False
        query, rows = self.query, self.model.rows
        return (
            self.ops.run(self, lambda s: (recall.write_csv(s, rows, path, query), Changes()))
            is not None
        )

    @Slot()
    def _on_save_button_clicked(self) -> None:
        name = f"recall-{(self.query.lot if self.query else '') or 'needles'}.csv"
        chosen, _filter = QFileDialog.getSaveFileName(
            self, "Save recall list", str(Path.home() / name), "CSV (*.csv)"
        )
        if chosen and self.save_to(Path(chosen)):
            QMessageBox.information(self, "Saved", f"The recall list was saved to {chosen}.")
