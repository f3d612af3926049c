"""The list models checked by Qt's own model tester while they change as the screen changes
them (rows added, removed, replaced, searched)."""

from __future__ import annotations

from PySide6.QtTest import QAbstractItemModelTester

from charting.bodymap import load_bodymap
from charting.services.marks import MarkRow, MarkSpec
from charting.ui.bodymap.marks_model import MarkListModel
from charting.ui.patient_list import PatientListModel

BM = load_bodymap()


def _row(mark_id: int, code: str, side: str) -> MarkRow:
    x, y = BM.position(code, side, "posterior")  # type: ignore[arg-type, misc]
    spec = MarkSpec("acupoint", "posterior", x, y, side, code)
    return MarkRow(mark_id, 1, spec)


def test_the_mark_list_model_passes_the_model_tester(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Marks added one by one, removed from the middle and replaced keep a consistent model,
    and the rows it shows are the marks given, in order."""
    model = MarkListModel(BM)
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    rows = [_row(i, c, s) for i, (c, s) in enumerate([("BL23", "L"), ("BL23", "R"), ("GV4", "M")])]
    for n in range(1, 4):
        model.set_rows(rows[:n])
    model.set_rows([rows[0], rows[2]])
    model.set_rows([_row(7, "BL25", "L"), *rows])
    model.set_rows([])
    model.set_rows(rows)
    shown = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert len(shown) == 3 and shown[0].startswith("BL23 L") and shown[2].startswith("GV4")


def test_the_patient_list_model_passes_the_model_tester(  # type: ignore[no-untyped-def]
    qtbot, database, make_patient
) -> None:
    """Searching and refreshing the patient list keeps a consistent model."""
    for name in ("Okafor", "Okada", "Nguyen"):
        make_patient(family_name=name)
    model = PatientListModel(database)
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    model.refresh()
    qtbot.waitUntil(lambda: model.rowCount() == 3)
    model.set_search("oka")
    qtbot.waitUntil(lambda: model.rowCount() == 2)
    model.set_search("")
    qtbot.waitUntil(lambda: model.rowCount() == 3)
