"""The main window driven as a practitioner would: keyboard, clicks and dialogs."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QByteArray, Qt
from PySide6.QtWidgets import QDialogButtonBox, QLabel, QLineEdit, QMessageBox, QPushButton

from charting.models.db import Database
from charting.services.patients import search_patient_ids
from charting.ui.main_window import MainWindow
from charting.ui.patient_dialog import PatientDialog
from charting.ui.visit_dialog import NewVisitDialog


def _fill_patient(qtbot, dialog: PatientDialog, **values: str) -> None:  # type: ignore[no-untyped-def]
    for name, text in values.items():
        edit = dialog.findChild(QLineEdit, name)
        assert edit is not None, name
        edit.clear()
        qtbot.keyClicks(edit, text)


def _save(qtbot, dialog) -> None:  # type: ignore[no-untyped-def]
    box = dialog.findChild(QDialogButtonBox)
    qtbot.mouseClick(box.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton)


def test_empty_database_shows_the_welcome_steps(window: MainWindow) -> None:
    """A first start says what to do next: profile, first patient, or the demo clinic."""
    assert window.pages.currentWidget() is window.welcome
    texts = [b.text() for b in window.welcome.findChildren(QPushButton)]
    assert any("practitioner profile" in t for t in texts)
    assert any("first patient" in t for t in texts)
    assert any("demo clinic" in t for t in texts)


def test_create_patient_through_the_dialog_and_find_it(
    qtbot,
    window: MainWindow,
    database: Database,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """Ctrl+N, typing the form and Save stores the patient, shows their chart and lists them."""

    def fill(dialog: PatientDialog) -> None:
        _fill_patient(
            qtbot,
            dialog,
            family_name="Nakamura",
            given_name="Aiko",
            date_of_birth="1984-07-09",
            phone="+1 555 0199",
        )
        dialog.findChild(type(dialog.pregnant), "anticoagulant").setChecked(True)
        _save(qtbot, dialog)

    when_modal(fill)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)

    with database.read() as session:
        assert len(search_patient_ids(session, "nakamura")) == 1
    assert window.pages.currentWidget() is window.patient_panel
    assert window.patient_panel.title.text() == "Nakamura, Aiko"
    assert "Chart 000001" in window.patient_panel.subtitle.text()
    assert window.patient_panel.flag_texts() == ["\u26a0 Anticoagulant/antiplatelet"]

    qtbot.keyClicks(window.search, "naka")
    qtbot.waitUntil(lambda: window.patient_model.search_text == "naka")
    assert window.patient_model.rowCount() == 1
    assert window.patient_model.index(0, 1).data() == "Nakamura, Aiko"
    window.search.clear()
    qtbot.keyClicks(window.search, "000001")
    qtbot.waitUntil(lambda: window.patient_model.search_text == "000001")
    assert window.patient_model.index(0, 0).data() == "000001"


def test_invalid_patient_is_refused_with_messages_beside_fields(
    qtbot,
    window: MainWindow,
    database: Database,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """Save with a future birth date and no given name shows messages; nothing is stored."""
    seen: dict[str, str] = {}

    def fill(dialog: PatientDialog) -> None:
        _fill_patient(qtbot, dialog, family_name="Okafor", date_of_birth="2999-01-01")
        _save(qtbot, dialog)
        assert dialog.isVisible(), "an invalid form must stay open"
        for name in ("given_name", "date_of_birth"):
            label = dialog.findChild(QLabel, f"{name}Error")
            seen[name] = label.text() if label.isVisible() else ""
        seen["summary"] = dialog.summary.text()
        dialog.reject()

    when_modal(fill)
    window.new_patient_action.trigger()
    assert "required" in seen["given_name"]
    assert "future" in seen["date_of_birth"]
    assert "nothing has been saved" in seen["summary"]
    with database.read() as session:
        assert search_patient_ids(session, "okafor") == []


def test_start_a_visit_and_see_it_listed(
    qtbot,
    window: MainWindow,
    make_patient,
    practitioner_id: int,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """New visit asks for the complaint and the visit appears as number 1, draft."""
    make_patient(family_name="Costa", given_name="Rosa")
    window.patient_model.refresh()
    window.select_patient(window.patient_model.patient_id(0))

    def fill(dialog: NewVisitDialog) -> None:
        qtbot.keyClicks(dialog.chief_complaint, "Low back pain after gardening")
        qtbot.keyClick(dialog.chief_complaint, Qt.Key.Key_Return)

    when_modal(fill)
    qtbot.mouseClick(
        window.patient_panel.findChild(QPushButton, "newVisitButton"), Qt.MouseButton.LeftButton
    )
    model = window.patient_panel.visit_model
    assert model.rowCount() == 1
    row = [model.index(0, c).data() for c in range(model.columnCount())]
    assert row[0].startswith(date.today().isoformat()[:4])
    assert row[1:4] == ["1", "Draft", ""]
    assert row[4] == "Ana Ruiz"
    assert row[5] == "Low back pain after gardening"
    assert window.patient_model.index(0, 3).data() == "1"


def test_delete_patient_asks_first_and_hides_them(
    qtbot,
    window: MainWindow,
    make_patient,
    database: Database,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """Delete needs confirmation; Cancel keeps the patient, Delete hides them from the list."""
    make_patient()
    window.patient_model.refresh()
    window.select_patient(window.patient_model.patient_id(0))

    def press(label: str):  # type: ignore[no-untyped-def]
        def handler(box: QMessageBox) -> None:
            assert "No clinical record is erased" in box.informativeText()
            for button in box.buttons():
                if label in button.text():
                    button.click()

        return handler

    when_modal(press("Cancel"))
    window.delete_patient_action.trigger()
    assert window.patient_model.rowCount() == 1

    when_modal(press("Delete patient"))
    window.delete_patient_action.trigger()
    assert window.patient_model.rowCount() == 0
    assert window.current_patient_id is None
    with database.read() as session:
        assert search_patient_ids(session, "lindqvist") == []


def test_edit_patient_updates_the_chart(
    qtbot,
    window: MainWindow,
    make_patient,
    when_modal,  # type: ignore[no-untyped-def]
) -> None:
    """Editing the family name changes the chart header and the list, keeping the chart number."""
    make_patient()
    window.patient_model.refresh()
    window.select_patient(window.patient_model.patient_id(0))

    def fill(dialog: PatientDialog) -> None:
        assert dialog.family_name.text() == "Lindqvist"
        _fill_patient(qtbot, dialog, family_name="Åberg")
        _save(qtbot, dialog)

    when_modal(fill)
    qtbot.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert window.patient_panel.title.text() == "Åberg, Maja"
    assert window.patient_model.index(0, 1).data() == "Åberg, Maja"
    assert "Chart 000001" in window.patient_panel.subtitle.text()


def test_search_enter_opens_the_best_match(qtbot, window: MainWindow, make_patient) -> None:  # type: ignore[no-untyped-def]
    """Typing a name and pressing Enter opens the first match without touching the mouse."""
    make_patient(family_name="Silva", given_name="João")
    make_patient(family_name="Santos", given_name="Ana")
    window.patient_model.refresh()
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(window.search, "san")
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    assert window.patient_panel.title.text() == "Santos, Ana"


def test_window_layout_is_remembered(qtbot, database: Database, settings) -> None:  # type: ignore[no-untyped-def]
    """Window size and splitter position come back on the next start."""
    first = MainWindow(database, settings)
    qtbot.addWidget(first)
    first.show()
    first.resize(760, 560)  # within the offscreen test screen (800x600)
    first.splitter.setSizes([250, 500])
    first.close()
    assert isinstance(settings.value("main/geometry"), QByteArray)
    second = MainWindow(database, settings)
    qtbot.addWidget(second)
    second.show()
    assert second.size().width() == 760 and second.size().height() == 560
    assert abs(second.splitter.sizes()[0] - first.splitter.sizes()[0]) <= 2


def test_patient_list_model_is_a_well_behaved_qt_model(qtmodeltester, window, make_patient) -> None:  # type: ignore[no-untyped-def]
    """The lazy patient model passes Qt's model tester."""
    for name in ("Ana", "Ben", "Chloé"):
        make_patient(given_name=name)
    window.patient_model.refresh()
    qtmodeltester.check(window.patient_model)


def test_visit_model_is_a_well_behaved_qt_model(qtmodeltester, window) -> None:  # type: ignore[no-untyped-def]
    """The visit list model passes Qt's model tester."""
    qtmodeltester.check(window.patient_panel.visit_model)


def test_the_demo_clinic_opens_in_its_own_process_not_in_this_database(
    qtbot, window: MainWindow, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The welcome page's demo link starts `charting --demo` (its own window and file); the
    clinic's database gets no fictional patients."""
    from PySide6.QtCore import QProcess

    started: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(
        QProcess, "startDetached", staticmethod(lambda p, a: (started.append((p, a)), (True, 1))[1])
    )
    qtbot.mouseClick(window.welcome.demo_button, Qt.MouseButton.LeftButton)
    assert started and started[0][1][-1] == "--demo"
    assert "its own window" in window.statusBar().currentMessage()
    assert window.patient_model.rowCount() == 0
    with database.read() as session:
        assert search_patient_ids(session, "") == []


def test_a_demo_clinic_says_so_in_the_title_and_status_bar(qtbot, tmp_path, settings) -> None:  # type: ignore[no-untyped-def]
    """A window on the demo clinic's file is titled and labelled "Demo clinic (fictional)",
    and does not offer to open the demo again."""
    from charting.config import sqlite_url
    from charting.models.migrate import open_database
    from charting.services.demo import prepare_demo

    demo = open_database(sqlite_url(tmp_path / "demo.sqlite3"), tmp_path / "b").database
    try:
        with demo.write() as session:
            demo.actor = prepare_demo(session, patients=20)
        win = MainWindow(demo, settings)
        qtbot.addWidget(win)
        win.show()
        assert win.windowTitle() == "Charting \u2014 Demo clinic (fictional)"
        assert "fictional patients only" in win.findChild(QLabel, "demoLabel").text()
        assert not win.demo_action.isVisible()
        assert win.patient_model.rowCount() == 20
    finally:
        demo.dispose()


def test_a_large_result_is_read_a_chunk_at_a_time_and_shows_everyone(  # type: ignore[no-untyped-def]
    qtbot, qtmodeltester, window, database, monkeypatch
) -> None:
    """A whole-clinic list is counted, then read in chunks as it scrolls: every patient is
    listed once, in search order, and a patient far down the list can still be selected."""
    from charting.services.demo import create_demo_clinic
    from charting.services.patients import search_patient_ids
    from charting.ui import patient_list

    monkeypatch.setattr(patient_list, "EAGER_RESULTS", 20)
    monkeypatch.setattr(patient_list, "ID_CHUNK", 16)
    with database.write() as session:
        create_demo_clinic(session, 150, 0)
    with database.read() as session:
        expected = search_patient_ids(session, "")
    model = window.patient_model
    model.set_search("")
    assert model.rowCount() == 150
    # Only the first ids were read (to find out the result is large), then it was counted.
    assert sum(len(chunk) for chunk in model._ids._chunks.values()) <= 21
    window.patient_list.scrollToBottom()
    window.patient_list.viewport().repaint()
    listed = [model.patient_id(row) for row in range(model.rowCount())]
    assert listed == expected
    last = expected[-1]
    window.select_patient(last)
    assert window.patient_list.currentIndex().row() == 149
    assert window.patient_panel.title.text().startswith(
        model.data(model.index(149, 1)).split(" \u201c")[0]
    )
    qtmodeltester.check(model)


def test_patient_list_rows_show_born_visits_and_flags_read_in_one_go(  # type: ignore[no-untyped-def]
    window: MainWindow, database: Database, make_patient, practitioner_id: int
) -> None:
    """Each row shows the chart number, the name with a differing preferred name, the date
    of birth, the number of visits and the health flags (in red); the first screenful is read
    with the search, in two statements however many visits the patients have."""
    from sqlalchemy import event

    from charting.services.visits import start_visit

    busy = make_patient(
        family_name="Okafor",
        given_name="Chidinma",
        preferred_name="Chi",
        date_of_birth=date(1968, 2, 29),
        anticoagulant=True,
        diabetes=True,
    )
    make_patient(family_name="Okafor", given_name="Emeka", date_of_birth=date(1990, 7, 1))
    with database.write() as session:
        for _ in range(12):
            start_visit(session, busy, practitioner_id)
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        window.patient_model.set_search("okafor")
        window.patient_list.viewport().repaint()
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    assert sum(s.lstrip().upper().startswith("SELECT") for s in statements) == 2
    model = window.patient_model
    rows = {model.data(model.index(r, 1)): r for r in range(model.rowCount())}
    chi = rows["Okafor, Chidinma \u201cChi\u201d"]
    emeka = rows["Okafor, Emeka"]
    assert [model.data(model.index(chi, c)) for c in (2, 3, 4)] == [
        "1968-02-29",
        "12",
        "Anticoag \u00b7 DM",
    ]
    assert [model.data(model.index(emeka, c)) for c in (2, 3, 4)] == ["1990-07-01", "0", ""]
    assert model.data(model.index(chi, 4), Qt.ItemDataRole.ForegroundRole) is not None
    assert model.data(model.index(emeka, 4), Qt.ItemDataRole.ForegroundRole) is None


def test_a_birth_date_is_picked_on_a_calendar_and_a_wrong_one_is_told_apart(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, when_modal
) -> None:
    """'1986-02-30' is said to be impossible, '30.02.1986' badly written; a day picked on the
    calendar fills the field as YYYY-MM-DD."""
    from PySide6.QtCore import QDate
    from PySide6.QtWidgets import QCalendarWidget

    seen: dict[str, str] = {}

    def fill(dialog: PatientDialog) -> None:
        error = dialog.findChild(QLabel, "date_of_birthError")
        for text in ("1986-02-30", "30.02.1986"):
            _fill_patient(qtbot, dialog, family_name="Nguyen", date_of_birth=text)
            _save(qtbot, dialog)
            seen[text] = error.text()
        calendar = dialog.findChild(QCalendarWidget, "dateCalendar")
        calendar.clicked.emit(QDate(1986, 2, 28))
        seen["picked"] = dialog.findChild(QLineEdit, "date_of_birth").text()
        dialog.reject()

    when_modal(fill)
    window.new_patient_action.trigger()
    assert "not a date" in seen["1986-02-30"] and "28 days" in seen["1986-02-30"]
    assert "YYYY-MM-DD" in seen["30.02.1986"]
    assert seen["picked"] == "1986-02-28"


def test_a_status_message_gets_the_room_of_signed_in_as_on_a_laptop_screen(
    qtbot, window: MainWindow
) -> None:  # type: ignore[no-untyped-def]
    """At 1024 px a long message is shown whole ("Signed in as ..." steps aside while it is
    up), a short one leaves the label in place, and the label is back once the message
    goes."""
    window.resize(1024, 700)
    bar = window.statusBar()
    label = window.signed_in_label
    qtbot.waitUntil(lambda: bar.width() <= 1024)
    # A message longer than the room "Signed in as ..." leaves, shorter than the bar.
    room = bar.width() - 40 - label.sizeHint().width()
    message = "3 visits not signed, oldest 4 days (Day \u203a Visits not signed)"
    while bar.fontMetrics().horizontalAdvance(message) <= room:
        message += " and more"
    bar.showMessage(message)
    assert label.isHidden()
    assert bar.fontMetrics().horizontalAdvance(message) < bar.width() - 40
    bar.showMessage("Patient added.")
    assert not label.isHidden()
    bar.showMessage(message)
    bar.clearMessage()
    assert not label.isHidden() and label.text().startswith("Signed in as")
    # Where the database is (shown from the start, without a time limit) never hides it,
    # however long the path.
    window._standing_message = f"Database: /{'long/' * 60}clinic.sqlite3"
    bar.showMessage(window._standing_message)
    assert not label.isHidden()
