"""What a shared PostgreSQL server asks of the services that one SQLite file let pass.

Every test here runs on both backends (``CHARTING_TEST_DATABASE=postgresql`` for the server).
"""

from __future__ import annotations

import threading
from datetime import date

import pytest

from charting.bodymap import load_bodymap
from charting.models.db import Database
from charting.services.errors import ValidationError
from charting.services.marks import add_marks, list_marks, save_protocol
from charting.services.patients import get_patient, search_patient_ids, update_patient
from charting.services.practitioners import (
    PractitionerInput,
    list_practitioners,
    save_practitioner,
)
from charting.services.visit_record import EASettings, add_ea_pair
from charting.services.visits import list_visits, start_visit
from tests.factories import patient_input, point_spec


def test_names_that_grow_when_folded_are_stored_and_found(database: Database, make_patient) -> None:  # type: ignore[no-untyped-def]
    """A family name of 120 letters "ß" (240 once folded to "ss") is stored and found.

    PostgreSQL enforces the length of the search-key columns; SQLite never did.
    """
    pid = make_patient(family_name="ß" * 120, given_name="Straßburg" * 13)
    with database.read() as session:
        assert get_patient(session, pid).family_name == "ß" * 120
        assert search_patient_ids(session, "ss") == [pid]
        assert search_patient_ids(session, "strassburg") == [pid]


def test_visits_started_together_on_two_workstations_are_numbered_in_turn(
    database: Database,
    make_patient,  # type: ignore[no-untyped-def]
    practitioner_id: int,
) -> None:
    """A visit started while another workstation's start is still open becomes number 2."""
    pid = make_patient()
    reaching_database = threading.Event()
    outcome: list[object] = []

    def other_workstation() -> None:
        reaching_database.set()
        try:
            with database.write() as session:
                outcome.append(start_visit(session, pid, practitioner_id)[0])
        except Exception as exc:  # handed to the test below
            outcome.append(exc)

    other = threading.Thread(target=other_workstation)
    with database.write() as session:
        start_visit(session, pid, practitioner_id)
        other.start()
        assert reaching_database.wait(10)
        other.join(0.5)  # the other start waits for this transaction to end
    other.join(30)
    assert not other.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], int), outcome
    with database.read() as session:
        assert [row.number for row in list_visits(session, pid)] == [2, 1]


def test_text_with_a_nul_character_is_refused_with_a_message(
    database: Database,
    make_patient,  # type: ignore[no-untyped-def]
    practitioner_id: int,
) -> None:
    """A protocol name or EA device holding a NUL character is refused, not a crash.

    PostgreSQL cannot store NUL in text at all; SQLite stored it silently.
    """
    bodymap = load_bodymap()
    with database.write() as session:
        vid, _ = start_visit(session, make_patient(), practitioner_id)
        add_marks(session, bodymap, vid, [point_spec("BL23", "L"), point_spec("BL23", "R")])
    with database.read() as session:
        marks = list_marks(session, vid)
    with pytest.raises(ValidationError, match="control"), database.write() as session:
        save_protocol(session, "Back\x00pain", [m.spec for m in marks])
    with pytest.raises(ValidationError, match="control"), database.write() as session:
        add_ea_pair(session, vid, marks[0].id, marks[1].id, EASettings(device="ITO\x00"))


def test_practitioners_with_one_name_keep_their_order_after_an_edit(database: Database) -> None:
    """Two profiles with the same name are listed oldest first, even after the first changes."""
    with database.write() as session:
        first, _ = save_practitioner(session, PractitionerInput("Ana Ruiz", "L.Ac."))
        second, _ = save_practitioner(session, PractitionerInput("Ana Ruiz", "Dipl. Ac."))
    with database.write() as session:
        save_practitioner(session, PractitionerInput("Ana Ruiz", "L.Ac., MSc"), first)
    with database.read() as session:
        listed = [p.id for p in list_practitioners(session)]
    assert [pid for pid in listed if pid in (first, second)] == [first, second]


def test_namesakes_born_on_one_day_are_listed_oldest_record_first(
    database: Database,
    make_patient,  # type: ignore[no-untyped-def]
) -> None:
    """A birth-date search lists two identical names in a fixed order, even after an edit."""
    born = date(1978, 5, 17)
    first, second = make_patient(date_of_birth=born), make_patient(date_of_birth=born)
    for typo_and_fix in (born.replace(day=18), born):
        with database.write() as session:
            update_patient(session, first, patient_input(date_of_birth=typo_and_fix))
    with database.read() as session:
        assert search_patient_ids(session, born.isoformat()) == [first, second]
