"""Today's list, the appointment book and the day's dialogs, driven as a user would."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from PySide6.QtCore import Qt, QTime
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from charting.models import Role
from charting.models.db import Database
from charting.services import appointments as book
from charting.services import billing
from charting.services.appointments import AppointmentInput
from charting.services.audit import search
from charting.services.consent import list_consents
from charting.services.visits import start_visit
from charting.ui.appointment_book import AppointmentBook, BookingDialog, SlotGridModel
from charting.ui.billing_dialog import BillingDialog
from charting.ui.consent_dialog import ConsentDialog
from charting.ui.day_list import DayListModel
from charting.ui.main_window import MainWindow
from charting.ui.recall_dialog import RecallDialog
from tests.factories import add_account, make_visit


def _today_at(hour: int, minute: int = 0) -> datetime:
    return datetime.combine(datetime.now().date(), time(hour, minute)).astimezone()


def _book(database: Database, pid: int, practitioner_id: int, start: datetime, **kw: object) -> int:
    with database.write() as session:
        return book.book(
            session, AppointmentInput(pid, practitioner_id, start, 45, "Follow-up"), **kw
        )[0]  # type: ignore[arg-type]


def test_todays_list_is_the_start_page_and_enter_starts_the_visit(
    qtbot,
    window: MainWindow,
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """The practitioner's start page lists today's appointments with first visit / follow-up
    and flags; Enter on one opens its visit on the body map and marks the patient arrived."""
    new = make_patient(family_name="Okafor", given_name="Chidi", anticoagulant=True)
    known = make_patient()
    with database.write() as session:
        start_visit(session, known, practitioner_id, datetime.now(UTC) - timedelta(days=8))
    first = _book(database, new, practitioner_id, _today_at(9))
    _book(database, known, practitioner_id, _today_at(10))
    window.clinic_day.show_today()
    day = window.clinic_day.day_list
    assert window.pages.currentWidget() is day
    model = day.model
    texts = [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(2)]
    assert texts[0][1].startswith("Okafor, Chidi") and texts[0][2] == "First visit"
    assert texts[0][3] == "Anticoag" and texts[0][5] == "Not started"
    assert "Anticoagulant/antiplatelet" in model.index(0, 3).data(Qt.ItemDataRole.ToolTipRole)
    assert texts[1][2] == "Follow-up"
    day.table.setFocus()
    day.table.selectRow(0)
    qtbot.keyClick(day.table, Qt.Key.Key_Return)
    assert window.visit_chart is not None and window.pages.currentWidget() is window.visit_chart
    with database.read() as session:
        row = book.get_row(session, first)
    assert row.status == "arrived" and row.visit_id == window.visit_chart.visit_id
    assert row.visit_state == "draft"


def test_front_desk_sees_the_clinic_day_without_clinical_columns(
    qtbot,
    window: MainWindow,
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """Front desk opens on the whole clinic's day, without health flags or visit state, and
    can mark an arrival but not start a visit."""
    pid = make_patient(pregnant=True)
    aid = _book(database, pid, practitioner_id, _today_at(11))
    window.start_session(add_account(database, "desk", Role.FRONT_DESK))
    day = window.clinic_day.day_list
    assert window.pages.currentWidget() is day
    assert day.practitioner.currentText() == "Whole clinic"
    assert day.table.isColumnHidden(3) and day.table.isColumnHidden(5)
    assert not day.start_button.isVisible()
    assert day.model.index(0, 3).data() == ""
    day.table.selectRow(0)
    qtbot.mouseClick(day.arrived_button, Qt.MouseButton.LeftButton)
    with database.read() as session:
        assert book.get_row(session, aid).status == "arrived"
    assert day.model.index(0, 4).data() == "Arrived"


def test_open_drafts_show_at_sign_in(
    qtbot,
    window: MainWindow,
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """Unsigned visits from earlier days are announced at sign-in and on today's list."""
    pid = make_patient()
    with database.write() as session:
        start_visit(session, pid, practitioner_id, datetime.now().astimezone() - timedelta(days=4))
        start_visit(session, pid, practitioner_id, datetime.now().astimezone() - timedelta(days=2))
    actor = database.actor
    window.sign_out()
    window.start_session(actor)
    day = window.clinic_day.day_list
    assert "2 visits not signed, oldest 4 days" in day.drafts_link.text()
    assert day.drafts_link.isVisible()
    qtbot.waitUntil(
        lambda: "2 visits not signed, oldest 4 days" in window.statusBar().currentMessage()
    )


def test_booking_from_the_week_view_with_the_keyboard(
    qtbot,
    database: Database,
    make_patient,
    practitioner_id: int,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """Enter on a free slot of the week opens the booking dialog at that time; a booking
    into a taken slot asks first, and No stores nothing; a free slot is booked at once."""
    from charting.ui.ops import OpRunner

    make_patient(family_name="Okafor", given_name="Chidi")
    taken = make_patient()
    monday = book.week_start(datetime.now().date()) + timedelta(days=7)
    start = datetime.combine(monday, time(9)).astimezone()
    first = _book(database, taken, practitioner_id, start)
    widget = AppointmentBook(OpRunner(database))
    qtbot.addWidget(widget)
    widget.set_permissions(can_chart=True, own_practitioner=practitioner_id)
    widget.show_week(practitioner_id, monday)
    widget.show()
    qtbot.waitExposed(widget)
    index = widget.model.index_of(first)
    assert index.isValid() and "Lindqvist, Maja" in index.data()
    ten = widget.model.index(index.row() + 4, index.column())
    questions: list[str] = []

    def decline(box: QMessageBox) -> None:
        questions.append(box.text())
        box.button(QMessageBox.StandardButton.No).click()

    def fill(dialog: BookingDialog, when: QTime, then: object = None) -> None:
        qtbot.keyClicks(dialog.search, "okafor")
        assert dialog.chosen.text().startswith("Okafor, Chidi")
        assert dialog.when.dateTime().time() == QTime(10, 0)
        dialog.when.setTime(when)
        if then is not None:
            when_modal(then)
        dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()

    widget.table.setCurrentIndex(ten)
    widget.table.setFocus()
    when_modal(lambda d: fill(d, QTime(9, 15), decline))  # into the 09:00 appointment
    qtbot.keyClick(widget.table, Qt.Key.Key_Return)
    assert questions and "Maja Lindqvist" in questions[0]
    with database.read() as session:
        assert len(book.week_rows(session, practitioner_id, monday)) == 1
    widget.table.setCurrentIndex(ten)
    when_modal(lambda d: fill(d, QTime(10, 0)))
    qtbot.keyClick(widget.table, Qt.Key.Key_Return)
    with database.read() as session:
        rows = book.week_rows(session, practitioner_id, monday)
    assert [(r.local_start.hour, r.patient) for r in rows] == [
        (9, "Lindqvist, Maja"),
        (10, "Okafor, Chidi"),
    ]
    assert "Okafor" in (widget.table.currentIndex().data() or "")


def test_double_booking_is_stored_when_confirmed(
    qtbot,
    database: Database,
    make_patient,
    practitioner_id: int,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """Saying Yes to the double-booking question stores the second appointment."""
    from charting.ui.appointment_book import run_booking
    from charting.ui.ops import OpRunner

    first, second = make_patient(), make_patient(family_name="Okafor")
    start = _today_at(9) + timedelta(days=1)
    _book(database, first, practitioner_id, start)
    ops = OpRunner(database)
    questions: list[str] = []

    def answer(box: QMessageBox) -> None:
        questions.append(box.text())
        box.button(QMessageBox.StandardButton.Yes).click()

    when_modal(answer)
    new_id = run_booking(None, ops, AppointmentInput(second, practitioner_id, start, 30))
    assert new_id is not None and "Maja Lindqvist" in questions[0]
    with database.read() as session:
        history = book.history(session, new_id)
    assert history[0].after.endswith("(double booked)")


def test_clinic_day_view_has_a_column_per_practitioner(
    qtbot,
    qtmodeltester,
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """The day view puts each practitioner's appointments in their own column."""
    from charting.ui.ops import OpRunner

    lee = add_account(database, "lee", Role.PRACTITIONER, name="Lee Chen")
    pid = make_patient()
    _book(database, pid, practitioner_id, _today_at(9))
    _book(database, make_patient(family_name="Okafor"), int(lee.practitioner_id), _today_at(9))  # type: ignore[arg-type]
    widget = AppointmentBook(OpRunner(database))
    qtbot.addWidget(widget)
    widget.set_permissions(can_chart=True, own_practitioner=practitioner_id)
    widget.show_day(datetime.now().date())
    headers = [widget.model.headerData(c, Qt.Orientation.Horizontal) for c in range(2)]
    assert headers == ["Ana Ruiz, L.Ac.", "Lee Chen, L.Ac."]
    row = widget.model.index_of(1).row()
    assert "Lindqvist" in widget.model.index(row, 0).data()
    assert "Okafor" in widget.model.index(row, 1).data()
    qtmodeltester.check(widget.model)


def test_calendar_file_is_saved_from_the_day_list(
    qtbot,
    window: MainWindow,
    database: Database,
    make_patient,
    practitioner_id: int,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """The day list's calendar file holds the appointment in UTC and is audited."""
    from charting.ui.appointment_book import save_calendar_file

    pid = make_patient()
    start = _today_at(15, 30)
    _book(database, pid, practitioner_id, start)
    window.clinic_day.show_today()
    day = window.clinic_day.day_list
    day.table.selectRow(0)
    assert day.ics_action.isEnabled()
    out = save_calendar_file(day, day.ops, day.current_row(), tmp_path / "visit.ics")  # type: ignore[arg-type]
    assert out is not None
    text = out.read_text(encoding="utf-8")
    assert f"DTSTART:{start.astimezone(UTC):%Y%m%dT%H%M%SZ}" in text
    with database.read() as session:
        assert any("calendar file" in e.detail for e in search(session, action="document"))


def test_consent_is_recorded_from_the_consent_screen(
    qtbot,
    database: Database,
    make_patient,  # type: ignore[no-untyped-def]
) -> None:
    """Ticking a treatment shows its risks; recording needs them ticked, then lists it."""
    from charting.ui.ops import OpRunner

    pid = make_patient()
    dialog = ConsentDialog(OpRunner(database), database, pid, "Lindqvist, Maja", can_record=True)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.mouseClick(dialog.treatment_boxes["cupping"], Qt.MouseButton.LeftButton)
    assert dialog.risk_boxes["cup_marks"].isVisible() and not dialog.risk_boxes["lung"].isVisible()
    qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)
    assert "risk" in dialog.error.text()
    for key in ("cup_marks", "cup_skin"):
        dialog.risk_boxes[key].box.click()
    qtbot.keyClicks(dialog.course, "Low back pain")
    qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)
    with database.read() as session:
        (row,) = list_consents(session, pid)
    assert row.treatments == ("cupping",) and row.course == "Low back pain"
    assert dialog.model.rowCount() == 1 and "Cupping" in dialog.model.index(0, 2).data()


def test_billing_screen_suggests_and_confirms_codes(
    qtbot,
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """23 minutes with one re-insertion suggests 97810 + 97811; confirming stores them."""
    from charting.ui.ops import OpRunner

    vid = make_visit(database, bare=True, fields={"icd10_codes": ["M54.50"]}).visit_id
    dialog = BillingDialog(OpRunner(database), database, vid, "Visit 1", can_confirm=True)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.contact.setValue(23)
    assert dialog.suggestion.text().startswith("97810 \u00d7 1")
    dialog.reinsertions.setValue(1)
    assert dialog.suggestion.text().startswith("97810 \u00d7 1, 97811 \u00d7 1")
    qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    with database.read() as session:
        state = billing.billing_state(session, vid)
    assert [(x.code, x.units) for x in state.lines] == [("97810", 1), ("97811", 1)]
    assert state.times.contact_minutes == 23 and state.confirmed_by == "Ana Ruiz, L.Ac."
    assert dialog.superbill_button.isEnabled()


def test_recall_screen_finds_and_saves_the_lot(
    qtbot,
    database: Database,
    make_patient,
    practitioner_id: int,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """Searching a lot lists its visits; saving writes the CSV."""
    from charting.ui.ops import OpRunner

    make_visit(database, bare=True, fields={"needle_lot": "L2291"})
    dialog = RecallDialog(OpRunner(database))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.lot, "L2291")
    qtbot.mouseClick(dialog.search_button, Qt.MouseButton.LeftButton)
    assert dialog.model.rowCount() == 1 and "1 visit of 1 patient" in dialog.summary.text()
    assert dialog.save_to(tmp_path / "recall.csv")
    assert "L2291" in (tmp_path / "recall.csv").read_text(encoding="utf-8-sig")


def test_day_models_are_well_behaved_qt_models(
    qtmodeltester,
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """The day list and the slot grid pass Qt's model tester with rows in them."""
    _book(database, make_patient(), practitioner_id, _today_at(9))
    with database.read() as session:
        rows = book.day_rows(session, datetime.now().date())
    day_model = DayListModel()
    day_model.set_rows(rows, True)
    qtmodeltester.check(day_model)
    grid = SlotGridModel()
    grid.set_rows([("Today", datetime.now().date())], "day", rows)
    qtmodeltester.check(grid)


def test_the_drafts_list_opens_a_draft_and_an_admin_sees_the_clinics(
    qtbot,
    window: MainWindow,
    database: Database,
    make_patient,
    practitioner_id: int,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """Day › Visits not signed lists every practitioner's old drafts for an admin; Open
    visit opens the chosen one on the body map."""
    lee = add_account(database, "lee", Role.PRACTITIONER, name="Lee Chen")
    pid = make_patient()
    old = datetime.now().astimezone() - timedelta(days=3)
    with database.write() as session:
        mine, _ = start_visit(session, pid, practitioner_id, old)
    with database.acting_as(lee).write() as session:  # a visit is started in one's own name
        start_visit(session, pid, int(lee.practitioner_id), old + timedelta(hours=1))  # type: ignore[arg-type]
    seen: list[list[str]] = []

    def open_first(dialog) -> None:  # type: ignore[no-untyped-def]
        model = dialog.table.model()
        seen.append([model.index(r, 4).data() for r in range(model.rowCount())])
        dialog.table.selectRow(0)
        qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)

    when_modal(open_first)
    window.clinic_day.drafts_action.trigger()
    assert seen == [["Ana Ruiz", "Lee Chen"]]
    assert window.visit_chart is not None and window.visit_chart.visit_id == mine


def test_a_bad_npi_is_refused_in_the_practitioner_profile() -> None:
    """An NPI with a wrong check digit gets a message naming the check digit."""
    from charting.services.practitioners import PractitionerInput, validate_practitioner

    errors = validate_practitioner(PractitionerInput("Ana Ruiz", npi="1234567890"))
    assert "check digit" in errors["npi"]
    assert "npi" not in validate_practitioner(PractitionerInput("Ana Ruiz", npi="1234567893"))


def test_the_book_fits_a_1024_pixel_screen_with_a_long_practitioner_name(
    qtbot, database: Database, make_patient, practitioner_id: int
) -> None:  # type: ignore[no-untyped-def]
    """Week and day views of the book need no more than 1000 px, however long the name."""
    from charting.ui.ops import OpRunner

    long = add_account(
        database, "mira", Role.PRACTITIONER, name="Dr. Maximiliana Castellanos-Wolfeschlegel"
    )
    _book(database, make_patient(), int(long.practitioner_id), _today_at(9))  # type: ignore[arg-type]
    widget = AppointmentBook(OpRunner(database))
    qtbot.addWidget(widget)
    widget.set_permissions(can_chart=True, own_practitioner=int(long.practitioner_id))  # type: ignore[arg-type]
    widget.show_week(int(long.practitioner_id), datetime.now().date())  # type: ignore[arg-type]
    widget.resize(1000, 700)
    widget.show()
    qtbot.wait(10)
    assert widget.minimumSizeHint().width() <= 1000
    assert widget.width() <= 1000
    assert "Week of" in widget.title.text()
    widget.show_day(datetime.now().date())
    qtbot.wait(10)
    assert widget.minimumSizeHint().width() <= 1000
