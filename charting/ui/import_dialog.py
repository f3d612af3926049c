"""File ▸ Import patients…: map a patient list's columns, preview its first rows with every
problem named, fix or skip rows, and import them in one transaction (clinic admins)."""

from __future__ import annotations

from itertools import islice
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from charting.services import importer
from charting.services.importer import FIELD_LABELS, CheckedRow, ImportFileError, Source
from charting.ui.forms import resize_within_screen
from charting.ui.ops import OpRunner

_PROBLEM = QBrush(QColor("#f9dedc"))
_DUPLICATE = QBrush(QColor("#fff4ce"))
_SKIPPED = QBrush(QColor("#8a8a8a"))
_ModelIndex = QModelIndex | QPersistentModelIndex


def _count(n: int, noun: str) -> str:
    """``n`` and the noun, plural where it is not one ("1 column", "7 columns")."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


class PreviewModel(QAbstractTableModel):
    """The first rows of the file as they would be imported: one column per mapped field,
    a Skip box, and the row's status; cells with a problem are tinted and explain it.

    Editing a cell stores a fix for that row and checks the row again.

    Signals:
        rows_checked(): the rows (or their problems) changed.
    """

    rows_checked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[CheckedRow] = []
        self.fields: list[str] = []
        self.fixes: dict[int, dict[str, str]] = {}
        self.skipped: set[int] = set()
        self.known: dict[tuple[str, str, str], str] = {}

    def load(self, rows: list[CheckedRow], fields: list[str]) -> None:
        """Show ``rows`` with the columns ``fields``."""
        self.beginResetModel()
        self.rows, self.fields = rows, fields
        self.endResetModel()
        self.rows_checked.emit()

    def rowCount(self, parent: _ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.fields) + 3

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        if section == 0:
            return "Line"
        if section == 1:
            return "Skip"
        if section == 2:
            return "Status"
        return FIELD_LABELS[self.fields[section - 3]]

    def status(self, row: CheckedRow) -> str:
        """What will happen to a row, in a few words (the problems are listed below)."""
        if row.line in self.skipped:
            return "Skipped by you"
        if row.problems:
            count = len(row.problems)
            return f"{count} problem{'s' if count > 1 else ''}: skipped"
        if row.duplicate_of:
            return f"Duplicate of {row.duplicate_of}?"
        return "Ready"

    def problem_lines(self) -> list[str]:
        """Every problem of the shown rows, one line each ("Line 4, Date of birth: ...")."""
        lines = []
        for row in self.rows:
            if row.line in self.skipped:
                continue
            for name, message in row.problems.items():
                lines.append(f"Line {row.line}, {FIELD_LABELS.get(name, name)}: {message}")
            if row.duplicate_of and not row.problems:
                lines.append(
                    f"Line {row.line}: same name and date of birth as {row.duplicate_of} "
                    "(skipped unless duplicates are imported)"
                )
        return lines

    def data(self, index: _ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = index.column()
        last = 2  # the status column
        if column == 1:
            if role == Qt.ItemDataRole.CheckStateRole:
                skipped = row.line in self.skipped
                return Qt.CheckState.Checked if skipped else Qt.CheckState.Unchecked
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if column == 0:
                return str(row.line)
            if column == last:
                return self.status(row)
            return row.values.get(self.fields[column - 3], "")
        name = self.fields[column - 3] if column > last else ""
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == last:
                return self.status(row)
            return row.problems.get(name) or None
        if role == Qt.ItemDataRole.BackgroundRole:
            if name in row.problems:
                return _PROBLEM
            if column == last and row.problems:
                return _PROBLEM
            if column == last and row.duplicate_of:
                return _DUPLICATE
        if role == Qt.ItemDataRole.ForegroundRole and row.line in self.skipped:
            return _SKIPPED
        return None

    def flags(self, index: _ModelIndex) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == 1:
            return base | Qt.ItemFlag.ItemIsUserCheckable
        if index.column() >= 3:
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def setData(self, index: _ModelIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        row = self.rows[index.row()]
        if index.column() == 1 and role == Qt.ItemDataRole.CheckStateRole:
            if Qt.CheckState(value) == Qt.CheckState.Checked:
                self.skipped.add(row.line)
            else:
                self.skipped.discard(row.line)
        elif role == Qt.ItemDataRole.EditRole and index.column() >= 3:
            name = self.fields[index.column() - 3]
            self.fixes.setdefault(row.line, {})[name] = str(value).strip()
            values = {**row.values, name: str(value).strip()}
            checked = importer.check_values(values)
            checked.line = row.line
            if checked.patient is not None:
                key = importer.identity(
                    checked.patient.family_name,
                    checked.patient.given_name,
                    checked.patient.date_of_birth,
                )
                checked.duplicate_of = self.known.get(key, "")
            self.rows[index.row()] = checked
        else:
            return False
        self.dataChanged.emit(
            self.index(index.row(), 0), self.index(index.row(), self.columnCount() - 1)
        )
        self.rows_checked.emit()
        return True


class ImportDialog(QDialog):
    """Import patients from a CSV or FHIR file, or a Charting export (objectName
    ``importDialog``).

    Signals:
        imported(str): the summary of a finished import.
    """

    imported = Signal(str)

    def __init__(self, ops: OpRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importDialog")
        self.setWindowTitle("Import patients")
        self.ops = ops
        self.source: Source | None = None
        self.export_folder: Path | None = None
        self.combos: dict[str, QComboBox] = {}

        self.path = QLineEdit()
        self.path.setObjectName("importPath")
        self.path.setReadOnly(True)
        self.path.setPlaceholderText(
            "A CSV file, a FHIR Patient bundle (.json) or a Charting export"
        )
        browse = QPushButton("Choose file\u2026")
        browse.setObjectName("importBrowse")
        browse.clicked.connect(self._on_browse_clicked)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path, 1)
        file_row.addWidget(browse)
        self.file_info = QLabel(
            "Choose the file to import. Nothing is stored until you press Import."
        )
        self.file_info.setObjectName("importFileInfo")
        self.file_info.setWordWrap(True)

        self.mapping_box = QGroupBox("Columns: which of ours each column fills")
        self.mapping_form = QFormLayout()
        mapping_inner = QWidget()
        mapping_inner.setLayout(self.mapping_form)
        scroll = QScrollArea()
        scroll.setWidget(mapping_inner)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.mapping_scroll = scroll
        self.mapping_problems = QLabel()
        self.mapping_problems.setObjectName("importMappingProblems")
        self.mapping_problems.setWordWrap(True)
        self.mapping_problems.setStyleSheet("color: #b3261e;")
        box_layout = QVBoxLayout(self.mapping_box)
        box_layout.addWidget(scroll, 1)
        box_layout.addWidget(self.mapping_problems)

        self.model = PreviewModel(self)
        self.model.rows_checked.connect(self._on_model_rows_checked)
        self.preview = QTableView()
        self.preview.setObjectName("importPreview")
        self.preview.setModel(self.model)
        self.preview.setAlternatingRowColors(True)
        self.preview.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.preview.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.preview.verticalHeader().hide()
        self.preview.horizontalHeader().setStretchLastSection(True)
        preview_box = QGroupBox("Preview of the first rows (double-click a cell to fix it)")
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.addWidget(self.preview, 1)
        self.counts = QLabel()
        self.counts.setObjectName("importCounts")
        self.counts.setWordWrap(True)
        preview_layout.addWidget(self.counts)
        self.problems = QPlainTextEdit()
        self.problems.setObjectName("importProblems")
        self.problems.setReadOnly(True)
        self.problems.setPlaceholderText("No problems in the rows shown.")
        self.problems.setMaximumHeight(self.fontMetrics().lineSpacing() * 6 + 12)
        preview_layout.addWidget(self.problems)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.mapping_box)
        splitter.addWidget(preview_box)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)

        self.duplicates = QCheckBox("Also import rows that look like patients already registered")
        self.duplicates.setObjectName("importDuplicates")
        self.summary = QLabel()
        self.summary.setObjectName("importSummary")
        self.summary.setWordWrap(True)
        self.import_button = QPushButton("Import")
        self.import_button.setObjectName("importButton")
        self.import_button.setDefault(True)
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self._on_import_button_clicked)
        self.close_button = QPushButton("Cancel")
        self.close_button.setObjectName("importClose")
        self.close_button.clicked.connect(self._on_close_button_clicked)
        self.done_text = ""
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addLayout(file_row)
        layout.addWidget(self.file_info)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.duplicates)
        layout.addLayout(buttons)
        resize_within_screen(self, 1100, 640)

    # -- loading --------------------------------------------------------------------------------
    def load(self, path: Path) -> bool:
        """Open ``path``; show its mapping and preview, or say why it cannot be read."""
        self.path.setText(str(path))
        self.source, self.export_folder = None, None
        self.model.load([], [])
        self._clear_mapping()
        self.summary.clear()
        folder = importer.is_charting_export(Path(path))
        if folder is not None:
            self.export_folder = folder
            self.file_info.setText(
                "This is a Charting CSV export: the whole record (patients, practitioners, "
                "visits, marks and every other table) will be imported, with its ids where "
                "they are free here."
            )
            self.mapping_box.setEnabled(False)
            self.counts.setText(
                "An export is imported as it was written: nothing to map, preview or fix. "
                "Patients already registered here stop the import unless the box below is "
                "ticked."
            )
            self.import_button.setEnabled(True)
            return True
        try:
            source = importer.open_source(Path(path))
        except (ImportFileError, OSError) as exc:
            self.file_info.setText(f"Cannot import this file: {exc}")
            self.import_button.setEnabled(False)
            return False
        self.source = source
        self.mapping_box.setEnabled(True)
        self.file_info.setText(
            f"{Path(path).name}: {source.description}, {_count(len(source.headers), 'column')}."
        )
        remembered = self.ops.read(importer.remembered_mapping)
        mapping = importer.suggest_mapping(source.headers, remembered)
        choices = [
            ("(ignore)", importer.IGNORE),
            *((label, name) for name, label in FIELD_LABELS.items()),
        ]
        for header in source.headers:
            combo = QComboBox()
            combo.setObjectName(f"importMap:{header}")
            for label, name in choices:
                combo.addItem(label, name)
            combo.setCurrentIndex(max(0, combo.findData(mapping.get(header, ""))))
            combo.currentIndexChanged.connect(self._on_combo_current_index_changed)
            self.combos[header] = combo
            caption = QLabel(header or "(unnamed)")
            self.mapping_form.addRow(caption, combo)
            # A layout shows the widgets added to a visible window only when the event loop
            # next runs, and counts none of them in its size until then: show them now, so
            # the width measured below is the width they need.
            caption.show()
            combo.show()
        inner = self.mapping_scroll.widget()
        assert inner is not None  # set in __init__
        inner.adjustSize()
        self.mapping_box.setMinimumWidth(
            inner.sizeHint().width()
            + self.mapping_scroll.verticalScrollBar().sizeHint().width()
            + 24
        )
        self._recheck()
        return True

    def _clear_mapping(self) -> None:
        while self.mapping_form.rowCount():
            self.mapping_form.removeRow(0)
        self.combos.clear()
        self.mapping_problems.clear()

    @property
    def mapping(self) -> dict[str, str]:
        """The mapping as chosen in the combo boxes."""
        return {header: combo.currentData() for header, combo in self.combos.items()}

    def _recheck(self) -> None:
        if self.source is None:
            return
        mapping = self.mapping
        problems = importer.check_mapping(mapping)
        self.mapping_problems.setText(" ".join(problems))
        if problems:
            self.model.load([], [])
            self.counts.setText("The preview shows once the columns on the left are chosen.")
            self.import_button.setEnabled(False)
            return
        fields = [f for f in FIELD_LABELS if f in mapping.values() and f != "full_name"]
        if "full_name" in mapping.values():
            fields = [
                "family_name",
                "given_name",
                *[f for f in fields if f not in ("family_name", "given_name")],
            ]
        source = self.source

        def preview(session: Any) -> tuple[list[CheckedRow], dict[tuple[str, str, str], str]]:
            known = importer.existing_identities(session)
            rows = importer.check_rows(
                session, source.rows(), mapping, self.model.fixes, known=dict(known)
            )
            return list(islice(rows, importer.PREVIEW_ROWS)), known

        try:
            rows, known = self.ops.read(preview)
        except ImportFileError as exc:
            self.model.load([], [])
            self.file_info.setText(f"Cannot import this file: {exc}")
            self.counts.setText("")
            self.import_button.setEnabled(False)
            return
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            self.file_info.setText(f"Cannot read this file: {exc}")
            self.import_button.setEnabled(False)
            return
        self.model.known = known
        self.model.load(rows, fields)
        self.preview.resizeColumnsToContents()
        header = self.preview.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        if not rows:
            self.counts.setText("The file has no rows below its column names: nothing to import.")
        self.import_button.setEnabled(bool(rows))

    # -- slots ------------------------------------------------------------------------------------
    @Slot()
    def _on_browse_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Import patients from",
            self.path.text(),
            "Patient lists (*.csv *.txt *.json);;All files (*)",
        )
        if path:
            self.load(Path(path))

    @Slot(int)
    def _on_combo_current_index_changed(self, _index: int) -> None:
        self._recheck()

    @Slot()
    def _on_model_rows_checked(self) -> None:
        rows = self.model.rows
        self.problems.setPlainText("\n".join(self.model.problem_lines()))
        if not rows:
            self.counts.setText("")
            return
        # Each row is counted once: skipped by the admin, else with problems, else a likely
        # duplicate, else ready.
        skipped = sum(1 for r in rows if r.line in self.model.skipped)
        kept = [r for r in rows if r.line not in self.model.skipped]
        bad = sum(1 for r in kept if r.problems)
        dup = sum(1 for r in kept if r.duplicate_of and not r.problems)
        shown = (
            f"The first {len(rows):,} rows"
            if len(rows) == importer.PREVIEW_ROWS
            else "The only row"
            if len(rows) == 1
            else f"All {len(rows):,} rows"
        )
        self.counts.setText(
            f"{shown}: {len(rows) - bad - dup - skipped:,} ready, {bad:,} with problems "
            f"(skipped unless fixed), {_count(dup, 'likely duplicate')}, "
            f"{skipped:,} skipped by you. "
            "Rows further down are checked the same way when you import."
        )

    @Slot()
    def _on_import_button_clicked(self) -> None:
        if self.export_folder is not None:
            result = self.ops.run(
                self,
                importer.import_export_folder,
                self.export_folder,
                import_duplicates=self.duplicates.isChecked(),
            )
            if result is not None:
                self._done(f"Imported the Charting export: {result[0].text}.")
            return
        if self.source is None:
            return
        result = self.ops.run(
            self,
            importer.import_from_source,
            self.source,
            self.mapping,
            self.model.fixes,
            sorted(self.model.skipped),
            self.duplicates.isChecked(),
        )
        if result is not None:
            self._done(f"Imported from {self.source.path.name}: {result[0].text}.")

    @Slot()
    def _on_close_button_clicked(self) -> None:
        if self.done_text:
            self.accept()
        else:
            self.reject()

    def _done(self, text: str) -> None:
        self.done_text = text
        self.summary.setText(text)
        self.import_button.setEnabled(False)
        self.close_button.setText("Close")
        self.imported.emit(text)
