"""File ▸ Import patients…: map, preview with problems, fix a row, skip a row, import."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QMessageBox
from sqlalchemy import select

from charting.models import Patient, Role
from charting.models.db import Database
from charting.ui.import_dialog import ImportDialog
from charting.ui.main_window import MainWindow
from tests.factories import add_account

LIST = (
    "Surname;First name;Geb. am;Gender;E-mail\r\n"
    "Müller;Jörg;1980-04-02;m;jorg@example.org\r\n"
    "Nguyen;Lan;1986-02-30;f;\r\n"
    "Silva;Rita;1970-07-07;f;rita(at)example\r\n"
    "Ruiz;Ana;1985-06-15;f;\r\n"
    "Berg;Ole;1965-05-05;m;\r\n"
)


def _open(qtbot, window: MainWindow, tmp_path: Path) -> ImportDialog:  # type: ignore[no-untyped-def]
    path = tmp_path / "list.csv"
    path.write_bytes(LIST.encode("cp1252"))
    dialog = ImportDialog(window.ops, window)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.load(path)
    return dialog


def test_map_preview_fix_and_import(
    qtbot, window: MainWindow, make_patient, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The admin maps "Geb. am", sees each problem in the preview, fixes a date by typing,
    skips a row, and imports: the summary names imported, skipped and duplicates."""
    make_patient(family_name="Ruiz", given_name="Ana", date_of_birth=date(1985, 6, 15))
    dialog = _open(qtbot, window, tmp_path)
    assert dialog.combos["Surname"].currentData() == "family_name"
    # "Geb. am" is not a known header: no preview until the date of birth is mapped.
    assert "date of birth" in dialog.mapping_problems.text()
    assert not dialog.import_button.isEnabled()
    combo: QComboBox = dialog.combos["Geb. am"]
    combo.setFocus()
    qtbot.keyClicks(combo, "Date of birth")
    assert combo.currentData() == "date_of_birth"
    assert dialog.mapping_problems.text() == ""
    model = dialog.model
    assert model.rowCount() == 5
    status = 2
    texts = [model.index(r, status).data() for r in range(5)]
    assert texts == [
        "Ready",
        "1 problem: skipped",
        "1 problem: skipped",
        "Duplicate of 000001?",
        "Ready",
    ]
    listed = dialog.problems.toPlainText().splitlines()
    assert listed[:2] == [
        "Line 3, Date of birth: 1986-02-30 is not a date: February has no day 30.",
        "Line 4, E-mail: E-mail does not look like an address (name@example.org).",
    ]
    assert listed[2].startswith("Line 5: same name and date of birth as 000001")
    born = model.fields.index("date_of_birth") + 3
    # Fix line 3's date by typing into the preview.
    cell = model.index(1, born)
    dialog.preview.setCurrentIndex(cell)
    dialog.preview.setFocus()
    qtbot.keyClick(dialog.preview, Qt.Key.Key_F2)
    editor = dialog.preview.focusWidget()
    assert isinstance(editor, QLineEdit)
    editor.selectAll()
    qtbot.keyClicks(editor, "1986-02-28")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    # The view commits the edit from its event loop.
    qtbot.waitUntil(lambda: model.index(1, status).data() == "Ready")
    # Skip Berg with a click on the Skip box.
    rect = dialog.preview.visualRect(model.index(4, 1))
    qtbot.mouseClick(dialog.preview.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert model.index(4, status).data() == "Skipped by you"
    # Each row is counted once; the two that will be imported are the ready ones.
    assert dialog.counts.text().startswith(
        "All 5 rows: 2 ready, 1 with problems (skipped unless fixed), 1 likely duplicate, "
        "1 skipped by you."
    )
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert dialog.summary.text().startswith(
        "Imported from list.csv: 2 imported (chart numbers 000002-000003), 3 skipped, "
        "1 likely duplicate(s) skipped"
    )
    with window.database.read() as session:
        names = set(session.scalars(select(Patient.family_name)))
        nguyen = session.scalars(select(Patient).where(Patient.family_name == "Nguyen")).one()
    assert names == {"Ruiz", "Müller", "Nguyen"}
    assert nguyen.date_of_birth == date(1986, 2, 28)
    # The mapping is remembered for the next file.
    again = _open(qtbot, window, tmp_path)
    assert again.combos["Geb. am"].currentData() == "date_of_birth"


def test_a_bad_file_is_named_and_cannot_be_imported(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A binary file shows why it cannot be imported; the Import button stays off."""
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\x00\x00")
    dialog = ImportDialog(window.ops, window)
    qtbot.addWidget(dialog)
    assert not dialog.load(path)
    assert "not a text file" in dialog.file_info.text()
    assert not dialog.import_button.isEnabled()
    assert path.read_bytes() == b"\x89PNG\x00\x00"


def test_the_menu_action_is_for_admins_only(qtbot, database: Database, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """File ▸ Import patients… shows for an admin and is hidden from a practitioner."""
    assert window.import_action.isVisible()
    assert window.import_action in window.menuBar().actions()[0].menu().actions()
    database.actor = add_account(database, "pat", Role.PRACTITIONER)
    window.apply_actor()
    assert not window.import_action.isVisible()


def test_a_long_file_previews_its_first_rows_and_imports_all(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A 3,000-row list shows only its first 200 rows, and Import stores all 3,000."""
    lines = ["family,given,dob"] + [
        f"Name{i:05d},Given,1980-01-{i % 28 + 1:02d}" for i in range(3000)
    ]
    path = tmp_path / "long.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    dialog = ImportDialog(window.ops, window)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.load(path)
    assert dialog.model.rowCount() == 200
    assert dialog.counts.text().startswith("The first 200 rows: 200 ready")
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert "3,000 imported" in dialog.summary.text()
    with window.database.read() as session:
        assert len(session.scalars(select(Patient.id)).all()) == 3000


def test_every_column_mapping_can_be_seen_whole(qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Once a file is chosen, each column's name and its whole choice box show beside the
    preview: the mapping pane widens to them instead of hiding them behind the preview."""
    dialog = _open(qtbot, window, tmp_path)
    viewport = dialog.mapping_scroll.viewport()
    for header, combo in dialog.combos.items():
        qtbot.waitUntil(combo.isVisible)
        left = combo.mapTo(viewport, combo.rect().topLeft())
        right = combo.mapTo(viewport, combo.rect().topRight())
        assert left.x() >= 0 and right.x() < viewport.width(), header
        assert combo.width() >= combo.sizeHint().width(), header


def test_an_empty_preview_says_why(qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """No rows in the preview is never "no problems": it names the missing column choice, or
    a file holding column names only, and Import stays off."""
    dialog = _open(qtbot, window, tmp_path)  # "Geb. am" is not mapped yet
    assert dialog.model.rowCount() == 0
    assert "columns on the left" in dialog.counts.text()
    assert not dialog.import_button.isEnabled()
    header_only = tmp_path / "header.csv"
    header_only.write_text("Surname,First name,Date of birth\n", encoding="utf-8")
    assert dialog.load(header_only)
    assert dialog.model.rowCount() == 0
    assert "no rows below its column names" in dialog.counts.text()
    assert not dialog.import_button.isEnabled()


def test_an_export_already_imported_is_refused_until_duplicates_are_asked_for(
    qtbot, window: MainWindow, make_patient, tmp_path: Path, when_modal
) -> None:  # type: ignore[no-untyped-def]
    """Picking a table file of an export reads the whole export; its patients being here
    already stops the import with a message (nothing stored), and the duplicates box lets it
    through on purpose."""
    from charting.services.exports import select_patient_ids, write_csv

    make_patient(family_name="Ruiz", given_name="Ana", date_of_birth=date(1985, 6, 15))
    with window.database.read() as session:
        write_csv(session, select_patient_ids(session), tmp_path / "export" / "csv")
    dialog = ImportDialog(window.ops, window)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.load(tmp_path / "export" / "csv" / "visits.csv")
    assert "Charting CSV export" in dialog.file_info.text()
    assert "nothing to map" in dialog.counts.text()
    seen: list[str] = []

    def read_and_close(box: QMessageBox) -> None:
        seen.append(box.text())
        box.accept()

    when_modal(read_and_close)
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert len(seen) == 1
    assert seen[0].startswith("1 of the export's 1 patient is already registered here")
    assert "Ruiz, Ana (chart 000001 here)" in seen[0]
    with window.database.read() as session:
        assert len(session.scalars(select(Patient.id)).all()) == 1
    dialog.duplicates.setChecked(True)
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert dialog.summary.text() == "Imported the Charting export: 1 practitioner, 1 patient."
    with window.database.read() as session:
        assert len(session.scalars(select(Patient.id)).all()) == 2
