"""Patient service: validation, chart numbers, soft delete and search."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from charting.models import Patient
from charting.models.db import Database
from charting.services.errors import ValidationError
from charting.services.patients import (
    count_patients,
    count_search,
    create_patient,
    delete_patient,
    get_patient,
    health_flags,
    search_patient_ids,
    update_patient,
    validate_patient,
)
from tests.factories import patient_input

TODAY = date(2026, 11, 21)


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"family_name": "  "}, "family_name", "required"),
        ({"given_name": ""}, "given_name", "required"),
        ({"given_name": "1234"}, "given_name", "letter"),
        ({"date_of_birth": None}, "date_of_birth", "required"),
        ({"date_of_birth": TODAY + timedelta(days=1)}, "date_of_birth", "future"),
        ({"date_of_birth": date(1890, 1, 1)}, "date_of_birth", "120 years"),
        ({"phone": "call me"}, "phone", "phone number"),
        ({"phone": "12"}, "phone", "phone number"),
        ({"email": "maja@"}, "email", "address"),
        ({"pregnancy_due_date": TODAY}, "pregnancy_due_date", "Pregnant"),
        ({"sex": "robot"}, "sex", "listed"),
    ],
)
def test_invalid_patient_input_is_named_field_by_field(
    overrides: dict[str, object], field: str, fragment: str
) -> None:
    """Each bad value is reported against its own field with a readable message."""
    errors = validate_patient(patient_input(**overrides), TODAY)
    assert field in errors
    assert fragment in errors[field]


def test_plausible_contact_details_pass() -> None:
    """Ordinary international phone numbers and addresses are accepted."""
    for phone in ("+44 20 7946 0958", "(555) 010-0147", "0049 30 1234567 ext 12"):
        assert "phone" not in validate_patient(patient_input(phone=phone), TODAY)
    assert validate_patient(patient_input(), TODAY) == {}


def test_nothing_is_stored_when_invalid(database: Database) -> None:
    """A rejected patient leaves no row behind and uses no chart number."""
    with pytest.raises(ValidationError), database.write() as session:
        create_patient(session, patient_input(family_name=""))
    with database.read() as session:
        assert count_patients(session) == 0
    with database.write() as session:
        pid, _ = create_patient(session, patient_input())
    with database.read() as session:
        assert get_patient(session, pid).chart_number == "000001"


def test_chart_numbers_are_unique_and_sequential(make_patient, database: Database) -> None:  # type: ignore[no-untyped-def]
    """Each new patient gets the next six-digit chart number."""
    ids = [make_patient(given_name=name) for name in ("Ana", "Ben", "Chloé")]
    with database.read() as session:
        numbers = [get_patient(session, i).chart_number for i in ids]
    assert numbers == ["000001", "000002", "000003"]


def test_names_in_any_script_are_stored_verbatim_and_found(
    make_patient,
    database: Database,  # type: ignore[no-untyped-def]
) -> None:
    """Accented, Chinese and apostrophe names round-trip and are found accent-insensitively."""
    a = make_patient(family_name="Müller-Lüdenscheidt", given_name="Zoë")
    b = make_patient(family_name="王", given_name="小明")
    c = make_patient(family_name="O'Brien", given_name="Siobhán")
    with database.read() as session:
        assert get_patient(session, a).family_name == "Müller-Lüdenscheidt"
        assert search_patient_ids(session, "muller") == [a]
        assert search_patient_ids(session, "ZOE") == [a]
        assert search_patient_ids(session, "王") == [b]
        assert search_patient_ids(session, "o'bri") == [c]
        assert search_patient_ids(session, "siob brien") == [c]


def test_search_by_chart_number_and_birth_date(make_patient, database: Database) -> None:  # type: ignore[no-untyped-def]
    """Digits search chart numbers; dates (ISO or day.month.year) search birth dates."""
    a = make_patient(date_of_birth=date(1961, 2, 3))
    b = make_patient(given_name="Ben", date_of_birth=date(1990, 12, 31))
    with database.read() as session:
        assert search_patient_ids(session, "2") == [b]
        assert search_patient_ids(session, "#000001") == [a]
        assert search_patient_ids(session, "1990-12-31") == [b]
        assert search_patient_ids(session, "03.02.1961") == [a]


def test_chart_number_prefixes_match_exactly_what_starts_with_them(
    make_patient, database: Database
) -> None:  # type: ignore[no-untyped-def]
    """A chart-number search (a range on the index) lists exactly the charts that start
    with the digits typed, in chart order, plus the zero-padded chart they may stand for;
    runs of nines and seven-digit charts included."""
    numbers = ["000049", "000050", "000099", "000100", "000490", "004999", "005000", "090000",
               "099999", "100000", "999999", "1000000", "000009"]  # fmt: skip
    ids = {}
    for number in numbers:
        pid = make_patient(family_name=f"Chart{number}")
        with database.write() as session:
            session.get(Patient, pid).chart_number = number  # type: ignore[union-attr]
        ids[number] = pid
    with database.write() as session:
        delete_patient(session, ids["000050"])  # deleted charts are never found
    live = sorted(n for n in numbers if n != "000050")
    for typed in ("0", "00", "0004", "00049", "000049", "0049", "005", "09", "099", "0999",
                  "1", "10", "9", "99", "999999", "49", "9999999", "1000000"):  # fmt: skip
        padded = typed.lstrip("0").zfill(6)
        expected = [ids[n] for n in live if n.startswith(typed) or n == padded]
        with database.read() as session:
            assert search_patient_ids(session, typed) == expected, typed
            assert count_search(session, typed) == len(expected), typed
    with database.read() as session:  # a pasted run of digits finds nobody, and says so
        assert search_patient_ids(session, "0" * 5000 + "1") == []


def test_family_name_prefix_matches_come_first(make_patient, database: Database) -> None:  # type: ignore[no-untyped-def]
    """Typing "li" lists Li and Lindqvist before a given-name match like Elias."""
    elias = make_patient(family_name="Abbott", given_name="Elias")
    lind = make_patient(family_name="Lindqvist", given_name="Maja")
    li = make_patient(family_name="Li", given_name="Wei")
    with database.read() as session:
        assert search_patient_ids(session, "li") == [li, lind, elias]


def test_sql_looking_text_is_just_text(make_patient, database: Database) -> None:  # type: ignore[no-untyped-def]
    """Search text with SQL wildcards or quotes matches literally."""
    pid = make_patient(family_name="Drop'); --", given_name="Robert")
    make_patient(family_name="Percent", given_name="Ann")
    with database.read() as session:
        assert search_patient_ids(session, "drop');") == [pid]
        assert search_patient_ids(session, "%") == []
        assert search_patient_ids(session, "_") == []


def test_soft_delete_hides_but_keeps_the_record(make_patient, database: Database) -> None:  # type: ignore[no-untyped-def]
    """A deleted patient disappears from search and counts but the row is still there."""
    pid = make_patient()
    with database.write() as session:
        delete_patient(session, pid)
    with database.read() as session:
        assert search_patient_ids(session, "lindqvist") == []
        assert count_patients(session) == 0
        row = session.get(Patient, pid)
        assert row is not None and row.deleted_at is not None


def test_update_keeps_chart_number_and_refreshes_search(
    make_patient,
    database: Database,  # type: ignore[no-untyped-def]
) -> None:
    """Editing a patient's name changes what search finds, not their chart number."""
    pid = make_patient()
    with database.write() as session:
        update_patient(session, pid, patient_input(family_name="Åberg"))
    with database.read() as session:
        assert search_patient_ids(session, "aberg") == [pid]
        assert search_patient_ids(session, "lindqvist") == []
        assert get_patient(session, pid).chart_number == "000001"


def test_health_flags_are_listed_most_serious_first(make_patient, database: Database) -> None:  # type: ignore[no-untyped-def]
    """The flags the safety checks use are summarised for the chart header."""
    pid = make_patient(
        pregnant=True,
        pregnancy_due_date=date.today() + timedelta(days=90),
        implanted_device="pacemaker",
        anticoagulant=True,
        metal_allergy=True,
    )
    with database.read() as session:
        flags = health_flags(get_patient(session, pid))
    assert flags[0].startswith("Pregnant (due ")
    assert flags[1:] == (
        "Implanted device: Pacemaker",
        "Anticoagulant/antiplatelet",
        "Metal allergy",
    )


def test_one_letter_lists_family_names_starting_with_it(make_patient, database: Database) -> None:  # type: ignore[no-untyped-def]
    """Typing "m" lists Müller and Mendes (family names), not every name containing an m."""
    muller = make_patient(family_name="Müller", given_name="Ana")
    mendes = make_patient(family_name="Mendes", given_name="Rui")
    make_patient(family_name="Santos", given_name="Mateo")
    with database.read() as session:
        assert search_patient_ids(session, "M") == [mendes, muller]


@pytest.mark.parametrize("text", ["", "a", "ll", "00", "garcia ana"])
def test_search_pages_add_up_to_the_whole_result(database: Database, text: str) -> None:
    """Reading a search a page at a time gives the same patients, in the same order, as
    reading it whole; and the count says how many there are."""
    from charting.services.demo import create_demo_clinic
    from charting.services.patients import count_search

    with database.write() as session:
        create_demo_clinic(session, 400, 0)
    with database.read() as session:
        whole = search_patient_ids(session, text)
        pages: list[int] = []
        for offset in range(0, len(whole) + 7, 7):
            pages += search_patient_ids(session, text, limit=7, offset=offset)
        assert pages == whole
        assert count_search(session, text) == len(whole)
    assert whole or text == "garcia ana"
