"""The written visit record: typed from the keyboard, saved as it is typed, never lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit, QSpinBox

from charting.models.db import Database
from charting.models.migrate import open_database
from charting.services.visit_record import record, update_fields
from charting.services.visits import start_visit
from charting.ui.ops import OpRunner
from charting.ui.visit_form import SAVE_DELAY_MS, VisitForm
from tests.factories import TEST_PASSWORD, TEST_USERNAME, count_needles_out


@pytest.fixture
def visit_id(database: Database, make_patient, practitioner_id: int) -> int:  # type: ignore[no-untyped-def]
    """A draft visit."""
    with database.write() as session:
        vid, _ = start_visit(session, make_patient(), practitioner_id)
    return vid


@pytest.fixture
def form(qtbot, database: Database, visit_id: int) -> VisitForm:  # type: ignore[no-untyped-def]
    """The form on that visit."""
    widget = VisitForm(OpRunner(database))
    qtbot.addWidget(widget)
    widget.resize(420, 900)
    widget.show()
    widget.load(visit_id)
    return widget


def _stored(database: Database, visit_id: int) -> dict[str, object]:
    with database.read() as session:
        return record(session, visit_id)


def test_typing_is_saved_within_a_second(
    qtbot, form: VisitForm, database: Database, visit_id: int
) -> None:  # type: ignore[no-untyped-def]
    """Text typed into the chief complaint is in the database within a second, no Save needed."""
    edit = form.findChild(QLineEdit, "chief_complaint")
    qtbot.keyClicks(edit, "Sciatica after gardening")
    qtbot.waitUntil(
        lambda: _stored(database, visit_id)["chief_complaint"] == "Sciatica after gardening",
        timeout=SAVE_DELAY_MS + 1000,
    )


def test_keyboard_entry_of_pain_flags_and_outcomes(
    qtbot,
    form: VisitForm,
    database: Database,
    visit_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """Pain scores, a red flag with its referral decision, ODI and PSFS are stored as entered."""
    pain = form.findChild(QSpinBox, "pain_now")
    pain.setFocus()
    pain.lineEdit().selectAll()
    qtbot.keyClicks(pain, "7")
    qtbot.keyClick(pain, Qt.Key.Key_Tab)
    form.findChild(QCheckBox, "red_flags_night_pain").click()
    odi = form.findChild(QSpinBox, "odi_percent")
    odi.setValue(42)
    qtbot.keyClicks(form.findChild(QLineEdit, "psfs_activity_0"), "Putting on socks")
    form.findChild(QSpinBox, "psfs_score_0").setValue(3)
    form.flush()
    stored = _stored(database, visit_id)
    assert stored["pain_now"] == 7
    assert stored["red_flags"] == ["night_pain"]
    assert stored["odi_percent"] == 42
    assert stored["psfs"] == [{"activity": "Putting on socks", "score": 3}]


def test_a_bad_value_is_flagged_beside_its_field_and_the_rest_saves(
    qtbot,
    form: VisitForm,
    database: Database,
    visit_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """An impossible expiry date gets a message beside it; the lot number still saves."""
    form.focus_field("needle_expiry")
    qtbot.keyClicks(form.findChild(QLineEdit, "needle_expiry"), "2027-13-45")
    qtbot.keyClicks(form.findChild(QLineEdit, "needle_lot"), "L2291")
    form.flush()
    message = form.findChild(QLabel, "needle_expiryError")
    assert message.isVisible() and "YYYY-MM-DD" in message.text()
    stored = _stored(database, visit_id)
    assert stored["needle_lot"] == "L2291" and stored["needle_expiry"] is None


def test_needle_count_mismatch_is_warned(qtbot, form: VisitForm) -> None:  # type: ignore[no-untyped-def]
    """Needles out different from needles in shows a forgotten-needle warning."""
    form.focus_field("needles_out")
    form.set_needles_in(12)
    form.findChild(QSpinBox, "needles_out").setValue(11)
    assert form.needle_warning.isVisible()
    assert "12 needles in, 11 out" in form.needle_warning.text()
    form.findChild(QSpinBox, "needles_out").setValue(12)
    assert not form.needle_warning.isVisible()


def test_signed_visit_form_is_read_only(
    qtbot, database: Database, visit_id: int, practitioner_id: int
) -> None:  # type: ignore[no-untyped-def]
    """A signed visit opens with every field disabled."""
    from charting.services.visit_record import sign_visit

    with database.write() as session:
        count_needles_out(session, visit_id)
        sign_visit(session, visit_id, practitioner_id)
    widget = VisitForm(OpRunner(database))
    qtbot.addWidget(widget)
    widget.load(visit_id, editable=False)
    assert not widget.findChild(QLineEdit, "chief_complaint").isEnabled()


CHILD = textwrap.dedent(
    """
    import os, sys, time
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtTest import QTest
    from charting.models.migrate import open_database
    from charting.ui.app import make_application
    from charting.services.accounts import sign_in
    from charting.ui.ops import OpRunner
    from charting.ui.visit_form import VisitForm
    app = make_application()
    db = open_database(sys.argv[1]).database
    db.actor = sign_in(db, sys.argv[3], sys.argv[4])
    form = VisitForm(OpRunner(db))
    form.show()
    form.load(int(sys.argv[2]))
    edit = form.bindings["assessment"].widget
    edit.setFocus()
    QTest.keyClicks(edit, "Qi and Blood stagnation, left side")
    deadline = time.monotonic() + 1.2   # keep typing-idle for a little over a second
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    print("typed", flush=True)
    while True:   # the parent kills us here, mid-session, without any clean-up
        app.processEvents()
        time.sleep(0.01)
    """
)


def test_a_killed_app_loses_at_most_the_last_second(
    tmp_path: Path, database_url: str, database: Database, visit_id: int
) -> None:
    """SIGKILL a process a second after typing: reopening the visit shows what was typed."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    with subprocess.Popen(
        [sys.executable, str(script), database_url, str(visit_id), TEST_USERNAME, TEST_PASSWORD],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "typed"
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert _stored(database, visit_id)["assessment"] == "Qi and Blood stagnation, left side"


def test_a_change_made_on_another_workstation_is_not_overwritten(
    qtbot, form: VisitForm, database: Database, visit_id: int, database_url: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Typing over a visit someone else just saved: told, their text shown, ours quoted."""
    other = open_database(database_url, tmp_path / "backups").database
    other.actor = database.actor  # the practitioner, charting from another room
    try:
        with other.write() as session:
            update_fields(session, visit_id, {"chief_complaint": "Room 2: sciatica, right"})
    finally:
        other.dispose()
    edit = form.findChild(QLineEdit, "chief_complaint")
    with qtbot.waitSignal(form.save_failed, timeout=SAVE_DELAY_MS + 2000) as told:
        qtbot.keyClicks(edit, "Ana: low back pain")
    message = told.args[0]
    assert "changed on another workstation" in message and "not saved" in message
    assert "Chief complaint: Ana: low back pain" in message
    assert edit.text() == "Room 2: sciatica, right"
    assert _stored(database, visit_id)["chief_complaint"] == "Room 2: sciatica, right"
    qtbot.keyClicks(edit, " and left")  # working on from their version saves normally
    qtbot.waitUntil(
        lambda: (
            _stored(database, visit_id)["chief_complaint"] == "Room 2: sciatica, right and left"
        ),
        timeout=SAVE_DELAY_MS + 1000,
    )


def test_the_form_fits_a_narrow_column_and_long_diagnoses_wrap(  # type: ignore[no-untyped-def]
    qtbot, form: VisitForm, database: Database, visit_id: int
) -> None:
    """In the narrow column beside the body map nothing is cut off at the right: the longest
    diagnosis and referral labels wrap or shorten, and clicking a wrapped label ticks it."""
    from charting.ui.forms import WrappingCheckBox

    form.resize(240, 700)
    form.focus_field("icd10_codes")
    page = form._phase_scroll[form.phase]
    qtbot.waitUntil(lambda: page.viewport().width() < 240)
    assert page.widget().minimumSizeHint().width() <= page.viewport().width()
    assert page.widget().width() <= page.viewport().width()
    box = form.findChild(QCheckBox, "icd10_codes_M54.41")
    row = box.parentWidget()
    assert isinstance(row, WrappingCheckBox)
    assert "Lumbago with sciatica, right side" in row.text()
    qtbot.waitUntil(lambda: row.label.height() > row.label.fontMetrics().height() * 1.5)
    qtbot.mouseClick(row.label, Qt.MouseButton.LeftButton)
    assert box.isChecked()
    form.flush()
    assert _stored(database, visit_id)["icd10_codes"] == ["M54.41"]


def test_icd_codes_are_picked_by_typing(
    qtbot, form: VisitForm, database: Database, visit_id: int
) -> None:  # type: ignore[no-untyped-def]
    """Typing words narrows the ICD-10-CM list to the matching codes (ticked ones stay in
    view); typing part of a code and Enter ticks it and stores it."""
    form.show_phase("assessment")
    search = form.findChild(QLineEdit, "icd10_codes_filter")
    sacro = form.findChild(QCheckBox, "icd10_codes_M46.1")
    disc = form.findChild(QCheckBox, "icd10_codes_M51.26")
    disc.click()
    qtbot.keyClicks(search, "sacroil")
    assert sacro.isVisible() and disc.isVisible()
    assert not form.findChild(QCheckBox, "icd10_codes_M54.50").isVisible()
    search.clear()
    qtbot.keyClicks(search, "g5702")
    qtbot.keyClick(search, Qt.Key.Key_Return)
    assert search.text() == ""
    assert _stored(database, visit_id)["icd10_codes"] == ["M51.26", "G57.02"]


def test_the_next_appointment_defaults_to_a_week_on_in_working_hours() -> None:
    """Unbooked, the next appointment offered is a week on, on the half hour, 08:00-18:00,
    never a Sunday."""
    from datetime import datetime

    from charting.ui.visit_form import next_appointment_slot

    slot = next_appointment_slot(datetime(2026, 12, 4, 17, 47))  # a Friday, late
    assert (slot.day, slot.hour, slot.minute) == (12, 9, 0)  # 18:00 is closed: next morning
    early = next_appointment_slot(datetime(2026, 12, 1, 6, 5))
    assert (early.day, early.hour, early.minute) == (8, 8, 0)
    saturday = next_appointment_slot(datetime(2026, 12, 5, 10, 10))  # a week on is Saturday
    assert (saturday.day, saturday.hour, saturday.minute) == (12, 10, 30)
    sunday = next_appointment_slot(datetime(2026, 12, 6, 10, 0))
    assert sunday.weekday() == 0 and (sunday.hour, sunday.minute) == (10, 0)
