"""The patient list pane: the search field, the result list and how many patients it found."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from charting.models.db import Database
from charting.ui.patient_list import PatientListModel, ReadableNames

#: How long typing pauses before the list is searched (a search per key would stutter).
SEARCH_DELAY_MS = 120


class PatientSearch(QWidget):
    """Search patients by name, chart number or birth date, and pick one from the list.

    The pane remembers which patient is shown (the window tells it with ``show_patient``)
    so that a search can say what to show next: the only match, nobody when the shown
    patient is no longer among the results, or the same patient.

    Signals:
        patient_chosen(object): after a search or Enter, the patient to show (an id, or None
            for nobody).
        patient_picked(int): the person moved the list's current row to another patient
            (the pane counts it as shown from then on).
    """

    patient_chosen = Signal(object)
    patient_picked = Signal(int)

    def __init__(self, database: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("patientPane")
        self._shown: int | None = None
        self.search = QLineEdit()
        self.search.setObjectName("patientSearch")
        self.search.setPlaceholderText("Search name, chart number or birth date (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.model = PatientListModel(database, self)
        self.list = QTableView()
        self.list.setObjectName("patientList")
        self.list.setModel(self.model)
        self.list.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.verticalHeader().hide()
        self.list.verticalHeader().setDefaultSectionSize(26)
        self.list.setAlternatingRowColors(True)
        self.list.setWordWrap(False)
        ReadableNames(self.list)
        self.result_count = QLabel()
        self.result_count.setObjectName("resultCount")
        self.result_count.setStyleSheet("color: #666;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 0, 6)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.result_count)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.search.returnPressed.connect(self._on_search_return_pressed)
        self._timer.timeout.connect(self._on_timer_timeout)
        self.list.selectionModel().currentRowChanged.connect(self._on_list_current_row_changed)

    # -- what the window asks ----------------------------------------------------------------
    @property
    def shown_patient(self) -> int | None:
        """The patient the window shows, as it last said."""
        return self._shown

    def show_patient(self, patient_id: int | None) -> None:
        """The window shows ``patient_id``: select its row when it is listed."""
        self._shown = patient_id
        if patient_id is None:
            return
        row = self.model.row_of(patient_id)
        if row is not None:
            index = self.model.index(row, 0)
            self.list.selectionModel().setCurrentIndex(
                index,
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
            self.list.scrollTo(index)

    def forget_shown(self) -> None:
        """The shown patient could not be shown after all (the selection stays as it is)."""
        self._shown = None

    def apply_search(self) -> None:
        """Search now for what the field says (without waiting for typing to pause)."""
        self._timer.stop()
        self.model.set_search(self.search.text())
        shown = self._shown
        if self.model.rowCount() == 1:
            self.patient_chosen.emit(self.model.patient_id(0))
        elif (
            shown is not None
            # Only the rows read so far: a large result is not read whole to find out.
            and self.model.row_of(shown, read_all=False) is None
        ):
            self.patient_chosen.emit(None)
        else:
            self.patient_chosen.emit(shown)

    def clear_search(self) -> None:
        """List everyone (the field is emptied at once, not after the typing pause)."""
        self.search.clear()
        self._timer.stop()
        self.model.set_search("")

    def reset(self) -> None:
        """Drop the search, the list and the shown patient (the next person starts afresh)."""
        self._timer.stop()
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.model.clear()
        self._shown = None

    def focus_search(self) -> None:
        """Show the pane and put the cursor in the search field, its text selected."""
        self.show()
        self.search.setFocus()
        self.search.selectAll()

    def update_count(self) -> None:
        """Say how many patients the list holds, and for which search."""
        count = self.model.rowCount()
        text = self.model.search_text
        self.result_count.setText(
            f"{count:,} patient{'s' if count != 1 else ''}"
            + (f" matching \u201c{text}\u201d" if text else "")
        )

    # -- slots -------------------------------------------------------------------------------
    @Slot(str)
    def _on_search_text_changed(self, _text: str) -> None:
        self._timer.start()

    @Slot()
    def _on_timer_timeout(self) -> None:
        self.apply_search()

    @Slot()
    def _on_search_return_pressed(self) -> None:
        if self._timer.isActive():
            self.apply_search()
        if self.model.rowCount():
            self.patient_chosen.emit(self.model.patient_id(0))
            self.list.setFocus()

    @Slot(QModelIndex, QModelIndex)
    def _on_list_current_row_changed(self, current: QModelIndex, _prev: QModelIndex) -> None:
        pid = self.model.patient_id(current.row()) if current.isValid() else None
        if pid is not None and pid != self._shown:
            self._shown = pid
            self.patient_picked.emit(pid)
