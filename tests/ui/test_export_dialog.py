"""The admin export dialog and the clinic settings dialog."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from charting.models.db import Database
from charting.services.demo import create_demo_clinic
from charting.services.settings import load_settings
from charting.ui.export_dialog import ExportDialog
from charting.ui.main_window import MainWindow
from charting.ui.settings_dialog import ClinicSettingsDialog


def _dialog(qtbot, database: Database, out: Path, search: str = "") -> ExportDialog:  # type: ignore[no-untyped-def]
    dialog = ExportDialog(database, search)
    qtbot.addWidget(dialog)
    dialog.folder.setText(str(out))
    dialog.show()
    return dialog


def test_export_runs_in_the_background_with_progress(
    qtbot, database: Database, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Start exports CSV and FHIR for all patients; progress and the result are shown."""
    with database.write() as session:
        create_demo_clinic(session, 5, 2)
    dialog = _dialog(qtbot, database, tmp_path / "out")
    dialog.pdf.setChecked(False)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert not dialog.start_button.isEnabled() and dialog.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.export_result is not None, timeout=60_000)
    dialog.wait_until_idle()
    result = dialog.export_result
    assert result is not None and result.patients == 5
    assert (result.folder / "csv" / "visits.csv").exists()
    # The CSV box says it holds the whole record, and it does: the patients too.
    assert "patients" in dialog.csv.text()
    assert (result.folder / "csv" / "patients.csv").exists()
    assert len(list((result.folder / "fhir").glob("*.fhir.json"))) == 5
    assert "Exported 5 patients" in dialog.status.text()
    assert dialog.progress.value() == dialog.progress.maximum()


def test_cancel_leaves_no_files(qtbot, database: Database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Cancel during a PDF export stops it and leaves the export folder empty."""
    with database.write() as session:
        create_demo_clinic(session, 40, 4)
    out = tmp_path / "out"
    dialog = _dialog(qtbot, database, out)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.start_button.isEnabled(), timeout=60_000)
    dialog.wait_until_idle()
    assert "cancelled" in dialog.status.text().lower()
    assert list(out.iterdir()) == []


def test_search_result_selection(qtbot, database: Database, make_patient, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """ "Patients matching the search" exports only those patients."""
    make_patient(family_name="Silva")
    make_patient(family_name="Santos")
    dialog = _dialog(qtbot, database, tmp_path, "silva")
    dialog.search_result.setChecked(True)
    assert len(dialog.patient_ids()) == 1


def test_no_format_ticked_is_refused(
    qtbot, database: Database, make_patient, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """With no format ticked the dialog says so and starts nothing."""
    make_patient()
    dialog = _dialog(qtbot, database, tmp_path)
    for box in (dialog.pdf, dialog.csv, dialog.fhir):
        box.setChecked(False)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert "at least one format" in dialog.status.text()
    assert dialog.worker is None


def test_clinic_settings_are_saved_from_the_menu(
    qtbot,
    window: MainWindow,
    database: Database,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """Settings ▸ Clinic settings stores the letterhead and the edited handout wording."""

    def fill(dialog: ClinicSettingsDialog) -> None:
        dialog.edits["clinic_name"].clear()  # type: ignore[union-attr]
        qtbot.keyClicks(dialog.edits["clinic_name"], "Harbour Acupuncture")
        dialog.edits["handout_do"].setPlainText("Rest today.")  # type: ignore[union-attr]
        dialog._on_buttons_accepted()

    when_modal(fill)
    window.clinic_action.trigger()
    with database.read() as session:
        settings = load_settings(session)
    assert settings.clinic_name == "Harbour Acupuncture"
    assert settings.handout_do == "Rest today."


def test_clinic_settings_refuse_a_bad_phone(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A phone number that is not one is flagged beside the field and nothing is returned."""
    from charting.services.settings import ClinicSettings

    dialog = ClinicSettingsDialog(ClinicSettings(clinic_name="X"))
    qtbot.addWidget(dialog)
    dialog.edits["clinic_phone"].setText("call us")  # type: ignore[union-attr]
    dialog._on_buttons_accepted()
    assert dialog._result is None
    assert dialog.letter_form.errors["clinic_phone"].text()


def test_the_export_thread_ends_by_itself(qtbot, database: Database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """When the export is done its thread ends without this window's event loop: a window
    waiting for it (as closing does) never waits for itself, and the result then shows."""
    with database.write() as session:
        create_demo_clinic(session, 3, 1)
    dialog = _dialog(qtbot, database, tmp_path / "out")
    dialog.pdf.setChecked(False)
    dialog.fhir.setChecked(False)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert dialog.wait_until_idle(30_000)  # no events run here while it waits
    qtbot.waitUntil(lambda: dialog.export_result is not None)
    assert dialog.start_button.isEnabled() and "Exported 3 patients" in dialog.status.text()
