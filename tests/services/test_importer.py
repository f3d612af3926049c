"""Importing: a patient list (CSV or FHIR) with mapping, problems and duplicates, and
Charting's own CSV export read back whole."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from charting.config import sqlite_url
from charting.models import Base, Patient, Role, Visit
from charting.models.db import Database
from charting.models.migrate import open_database
from charting.services import csv_tables
from charting.services.access import PermissionDeniedError
from charting.services.audit_keys import CLINIC_ID_SETTING
from charting.services.demo import DEMO_SETTING, create_demo_clinic
from charting.services.errors import ValidationError
from charting.services.exports import select_patient_ids, write_csv
from charting.services.importer import (
    ImportFileError,
    check_mapping,
    check_rows,
    import_export,
    import_patients,
    is_charting_export,
    open_source,
    parse_birth_date,
    parse_mapping,
    remembered_mapping,
    suggest_mapping,
)
from charting.services.marks import save_protocol
from charting.services.visit_record import acknowledge, amend, verify_signature
from tests.factories import add_account, sign_in_test_user
from tests.services.test_exports import BM, _acupoint, chart  # noqa: F401 (fixture)

LIST = (
    "Surname;First name;DOB;Gender;E-mail;Mobile\r\n"
    "Müller;Jörg;1980-04-02;m;jorg@example.org;+49 30 1234567\r\n"
    ";Anna;1990-01-01;f;;\r\n"
    "Nguyen;Lan;1986-02-30;f;;\r\n"
    "Okafor;Chidi;02/31/1975x;m;;\r\n"
    "Silva;Rita;1970-07-07;f;rita(at)example;\r\n"
    "Berg;Ole;1965-05-05;q;;\r\n"
    "Ruiz;Ana;1985-06-15;f;;\r\n"
)


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _checked(database: Database, path: Path) -> list[Any]:
    source = open_source(path)
    mapping = suggest_mapping(source.headers)
    with database.read() as session:
        return list(check_rows(session, source.rows(), mapping))


def test_mapping_is_suggested_from_header_names() -> None:
    """Common header names map to our fields; an unknown one is ignored."""
    mapping = suggest_mapping(["Surname", "First name", "DOB", "Gender", "Shoe size"])
    assert mapping == {
        "Surname": "family_name",
        "First name": "given_name",
        "DOB": "date_of_birth",
        "Gender": "sex",
        "Shoe size": "",
    }


def test_each_row_problem_is_named_per_column(database: Database, tmp_path: Path) -> None:
    """Missing name, impossible date, badly written date, bad e-mail and unknown sex are named."""
    rows = _checked(database, _write(tmp_path / "list.csv", LIST))
    by_line = {r.line: r.problems for r in rows}
    assert by_line[2] == {}
    assert by_line[3] == {"family_name": "Family name is required."}
    assert by_line[4]["date_of_birth"] == "1986-02-30 is not a date: February has no day 30."
    assert "is not written as a date" in by_line[5]["date_of_birth"]
    assert by_line[6] == {"email": "E-mail does not look like an address (name@example.org)."}
    assert "'q' is not a known sex" in by_line[7]["sex"]


def test_impossible_and_badly_written_dates_are_told_apart() -> None:
    """1986-02-30 is an impossible date; '30 Feb' is a badly written one; 13th months too."""
    assert parse_birth_date("1986-02-30")[1] == "1986-02-30 is not a date: February has no day 30."
    assert parse_birth_date("30.02.1986")[1] == "30.02.1986 is not a date: February has no day 30."
    assert "no month 13" in str(parse_birth_date("1986-13-01")[1])
    assert "not written as a date" in str(parse_birth_date("30 Feb 86")[1])
    assert parse_birth_date("15.06.1985") == (date(1985, 6, 15), None)


def test_duplicates_of_registered_patients_are_found(
    database: Database, make_patient, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A row with the same folded name and birth date as a registered patient is a duplicate."""
    make_patient(family_name="Ruiz", given_name="Ána", date_of_birth=date(1985, 6, 15))
    rows = _checked(database, _write(tmp_path / "list.csv", LIST))
    assert [r.line for r in rows if r.duplicate_of] == [8]
    assert rows[-1].duplicate_of == "000001"


def test_import_stores_good_rows_in_one_audited_transaction(
    database: Database, make_patient, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Good rows are stored, bad and duplicate rows skipped, the mapping remembered, audited."""
    make_patient(family_name="Ruiz", given_name="Ana", date_of_birth=date(1985, 6, 15))
    source = open_source(_write(tmp_path / "list.csv", LIST))
    mapping = suggest_mapping(source.headers)
    with database.write() as session:
        summary = import_patients(
            session, check_rows(session, source.rows(), mapping), mapping=mapping, source="x"
        )
    assert (summary.imported, summary.skipped, summary.duplicates) == (1, 6, 1)
    with database.read() as session:
        stored = session.scalars(select(Patient).where(Patient.family_name == "Müller")).one()
        assert (stored.chart_number, stored.sex, stored.email) == (
            "000002",
            "male",
            "jorg@example.org",
        )
        assert stored.family_key == "muller"
        assert remembered_mapping(session)["Surname"] == "family_name"
        from charting.models import AuditEvent

        entry = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "import.patients")
        ).one()
        assert entry.detail.startswith("1 imported")


def test_a_fixed_row_and_imported_duplicates(
    database: Database, make_patient, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A fix from the preview makes a bad row importable; duplicates import when chosen."""
    make_patient(family_name="Ruiz", given_name="Ana", date_of_birth=date(1985, 6, 15))
    source = open_source(_write(tmp_path / "list.csv", LIST))
    mapping = suggest_mapping(source.headers)
    fixes = {4: {"date_of_birth": "1986-02-28"}}
    with database.write() as session:
        summary = import_patients(
            session,
            check_rows(session, source.rows(), mapping, fixes),
            import_duplicates=True,
            skip=[2],
        )
    assert (summary.imported, summary.skipped, summary.duplicates) == (2, 5, 1)
    with database.read() as session:
        names = set(session.scalars(select(Patient.family_name)))
    assert names == {"Ruiz", "Nguyen"}


def test_nothing_is_stored_when_the_import_fails(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error halfway through rolls back every row already inserted (all or nothing)."""
    lines = ["family,given,dob"] + [f"Name{i},Given,1980-01-01" for i in range(2500)]
    source = open_source(_write(tmp_path / "big.csv", "\n".join(lines)))
    mapping = {"family": "family_name", "given": "given_name", "dob": "date_of_birth"}

    def rows():  # type: ignore[no-untyped-def]
        for i, row in enumerate(check_rows_session(source, mapping)):
            if i == 2200:
                raise RuntimeError("disk full")
            yield row

    def check_rows_session(src, mp):  # type: ignore[no-untyped-def]
        with database.read() as s:
            yield from list(check_rows(s, src.rows(), mp))

    with pytest.raises(RuntimeError), database.write() as session:
        import_patients(session, rows())
    with database.read() as session:
        assert session.scalar(select(Patient.id)) is None


def test_encodings_and_delimiters_are_detected(database: Database, tmp_path: Path) -> None:
    """UTF-8 with and without BOM and cp1252, comma and semicolon, read the same names."""
    text = "Surname,Given name,Date of birth\r\nMüller,Zoë,1980-04-02\r\n"
    for name, data, encoding in (
        ("utf8.csv", text, "utf-8"),
        ("bom.csv", "\ufeff" + text, "utf-8"),
        ("win.csv", text.replace(",", ";"), "cp1252"),
    ):
        source = open_source(_write(tmp_path / name, data, encoding))
        assert source.headers == ["Surname", "Given name", "Date of birth"]
        row = next(source.rows())
        assert (row["Surname"], row["Given name"]) == ("Müller", "Zoë"), name
    assert open_source(tmp_path / "win.csv").description == "Windows (cp1252), semicolon-separated"
    assert open_source(tmp_path / "bom.csv").description == "UTF-8 with BOM, comma-separated"
    # Excel's "Unicode text": UTF-16 with its byte-order mark, tab-separated.
    unicode_text = _write(tmp_path / "excel.txt", "\ufeff" + text.replace(",", "\t"), "utf-16-le")
    source = open_source(unicode_text)
    assert source.description == "UTF-16 (Unicode text), tab-separated"
    assert next(source.rows())["Given name"] == "Zoë"


def test_a_bad_file_is_refused_and_left_untouched(tmp_path: Path) -> None:
    """Binary, empty and duplicate-header files get one clear message; the file is unchanged."""
    cases = {
        "binary.csv": b"\x00\x01\x02PK",
        "empty.csv": b"",
        "twice.csv": b"name,name\r\na,b\r\n",
        "bundle.json": b'{"resourceType": "Observation"}',
        "list.json": b'[{"resourceType": "Patient"}]',
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        before = hashlib.sha256(path.read_bytes()).hexdigest()
        with pytest.raises(ImportFileError) as caught:
            open_source(path)
        assert "\n" not in str(caught.value)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    with pytest.raises(ImportFileError, match="is a JSON list, not a FHIR Bundle"):
        open_source(tmp_path / "list.json")


def test_rows_are_numbered_as_the_file_counts_its_lines(database: Database, tmp_path: Path) -> None:
    """A problem names the line a text editor shows, after blank lines and a cell that spans
    lines (an address over two lines is a normal CSV cell)."""
    text = (
        "Surname,Given name,Date of birth,Address\r\n"
        'Berg,Ole,1965-05-05,"Hauptstr. 1\r\n10115 Berlin"\r\n'
        "\r\n"
        "Silva,Rita,7.8.59,\r\n"
    )
    rows = _checked(database, _write(tmp_path / "list.csv", text))
    assert [r.line for r in rows] == [2, 5]
    assert rows[0].ok and rows[0].values["address"] == "Hauptstr. 1\r\n10115 Berlin"
    assert "date_of_birth" in rows[1].problems


def test_a_quotation_mark_never_closed_is_named_not_swallowed(
    database: Database, tmp_path: Path
) -> None:
    """A quote left open swallows the rows after it into one cell: a short file shows the
    swallowing on the row, a long one is refused with the line, never a traceback."""
    short = 'Surname,Given name,Date of birth\r\n"Smith,Jo,1970-01-01\r\nJones,Al,1980-02-02\r\n'
    (row,) = _checked(database, _write(tmp_path / "short.csv", short))
    assert "runs over more than one line" in row.problems["family_name"]
    long = (
        "Surname,Given name,Date of birth\r\n"
        + 'Oh,"Ann,1970-01-01\r\n'
        + ("Jones,Al,1980-02-02\r\n" * 8000)
    )
    path = _write(tmp_path / "long.csv", long)
    with pytest.raises(ImportFileError, match=r"from line 2 on .*quotation mark"):
        _checked(database, path)


def test_validation_messages_show_no_field_names() -> None:
    """What a person reads is the message, not the code's name for the field."""
    refused = ValidationError({"rows": "No row can be imported: nothing was stored."})
    assert str(refused) == "No row can be imported: nothing was stored."


def test_mapping_problems_are_named() -> None:
    """A field chosen twice, no names and no birth date are each named; --map text is checked."""
    assert check_mapping({"a": "family_name", "b": "family_name"}) == [
        "Family name is chosen for more than one column.",
        "Choose the columns with the family and given names.",
        "Choose the column with the date of birth.",
    ]
    assert parse_mapping("Surname=family_name, DOB = date_of_birth", ["Surname", "DOB", "X"]) == {
        "Surname": "family_name",
        "DOB": "date_of_birth",
        "X": "",
    }
    with pytest.raises(ValidationError, match="no column 'Nope'"):
        parse_mapping("Nope=family_name", ["Surname"])
    with pytest.raises(ValidationError, match="unknown field 'shoe'"):
        parse_mapping("Surname=shoe", ["Surname"])


def test_a_fhir_patient_bundle_imports(database: Database, tmp_path: Path) -> None:
    """Patients of a FHIR bundle (name, birthDate, gender, telecom) import like CSV rows."""
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": {
                    "resourceType": "Patient",
                    "name": [{"use": "official", "family": "Okafor", "given": ["Chidi"]}],
                    "birthDate": "1975-03-31",
                    "gender": "male",
                    "telecom": [{"system": "email", "value": "chidi@example.org"}],
                }
            },
            {"resource": {"resourceType": "Observation", "status": "final"}},
        ],
    }
    path = tmp_path / "patients.json"
    path.write_text(json.dumps(bundle))
    source = open_source(path)
    mapping = suggest_mapping(source.headers)
    assert check_mapping(mapping) == []
    with database.write() as session:
        summary = import_patients(session, check_rows(session, source.rows(), mapping))
    assert summary.imported == 1
    with database.read() as session:
        patient = session.scalars(select(Patient)).one()
    assert (patient.family_name, patient.date_of_birth, patient.email) == (
        "Okafor",
        date(1975, 3, 31),
        "chidi@example.org",
    )


def test_fhir_names_in_the_older_shapes_read_as_words(tmp_path: Path) -> None:
    """Older systems send ``family`` as a list and ``given`` as a string: the names read as
    words, never as "['Nowak']" or "J a n"."""
    patient = {
        "resourceType": "Patient",
        "name": [{"family": ["Nowak"], "given": "Jan"}],
        "birthDate": "1970-01-01",
    }
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "entry": [{"resource": patient}]}))
    row = next(open_source(path).rows())
    assert (row["family_name"], row["given_name"]) == ("Nowak", "Jan")


def test_only_an_admin_may_import(database: Database, tmp_path: Path) -> None:
    """A practitioner without the admin role is refused."""
    source = open_source(_write(tmp_path / "list.csv", LIST))
    mapping = suggest_mapping(source.headers)
    database.actor = add_account(database, "pat", Role.PRACTITIONER)
    with pytest.raises(PermissionDeniedError), database.write() as session:
        import_patients(session, check_rows(session, source.rows(), mapping))


# -- the round trip --------------------------------------------------------------------------------
def _all_rows(database: Database) -> dict[str, list[dict[str, Any]]]:
    tables = {}
    with database.read() as session:
        for item in csv_tables.TABLES:
            if not item.importable:
                continue
            columns = [c for c in item.table.columns if c.name not in ("search_key", "family_key")]
            query = select(*columns).order_by(*item.table.primary_key.columns)
            tables[item.file] = [dict(r._mapping) for r in session.execute(query)]
    return tables


def test_export_imported_into_an_empty_database_gives_back_every_record(
    database: Database,
    chart: dict[str, Any],  # noqa: F811 (the fixture)
    practitioner_id: int,
    tmp_path: Path,
) -> None:
    """The demo clinic plus a full record (EA, events, amendments, safety decisions,
    protocols, settings) exported to CSV and imported into an empty database compare equal,
    and the signed visits still verify."""
    with database.write() as session:
        # This test database holds the chart's patient and the demo's fictional ones: it is
        # marked as a demo clinic so the generator (which refuses a real clinic) fills it.
        session.add(csv_tables.ClinicSetting(key=DEMO_SETTING, value="fictional"))
        session.flush()
        create_demo_clinic(session, 150)
    with database.write() as session:
        visit = chart["visits"][0]
        amend(
            session,
            visit,
            practitioner_id,
            "chief_complaint",
            "Low back pain, left",
            "Side was missing",
        )
        save_protocol(session, "=Acute; back", [_acupoint("BL23", "L")])
        session.merge(csv_tables.ClinicSetting(key="clinic_name", value='Harbour; "Acu"'))
    with database.write() as session:
        draft = chart["visits"][1]
        acknowledge(
            session,
            draft,
            "needle.bl40",
            "bl40",
            "caution",
            "Vessels",
            practitioner_id,
            "Checked pulse",
        )
    with database.read() as session:
        ids = select_patient_ids(session)
        write_csv(session, ids, tmp_path / "csv", BM)
    empty = open_database(sqlite_url(tmp_path / "empty.sqlite3"), tmp_path / "b2").database
    empty.actor = sign_in_test_user(empty)
    with empty.write() as session:
        summary = import_export(session, tmp_path / "csv")
    assert summary.counts["patients.csv"] == 151
    before, after = _all_rows(database), _all_rows(empty)
    # The signed-in practitioner exists in both databases: matched by name and licence, its
    # own row (and registration time) is kept.
    for rows in (before, after):
        rows["practitioners.csv"][0].pop("created_at")
        # Each database keeps its own audit log and its id: an import never takes another's.
        rows["clinic_settings.csv"] = [
            r for r in rows["clinic_settings.csv"] if r["key"] != CLINIC_ID_SETTING
        ]
    for file in before:
        for old, new in zip(before[file], after[file], strict=True):
            assert old == new, (file, {k: (v, new[k]) for k, v in old.items() if new[k] != v})
    # Visits signed in the app carry a content hash (the demo's bulk-made ones have none);
    # kept ids and values make every hash verify after the import as before it.
    for db in (database, empty):
        with db.read() as session:
            hashed = session.scalars(select(Visit.id).where(Visit.content_hash != "")).all()
            assert hashed and all(verify_signature(session, v) for v in hashed)
    empty.dispose()


def test_every_table_of_the_schema_is_exported_or_said_why_not() -> None:
    """A new table must join the CSV export (a few lines in TABLES) or be listed as not exported."""
    exported = {t.table.name for t in csv_tables.TABLES}
    assert set(Base.metadata.tables) <= exported | set(csv_tables.NOT_EXPORTED)
    for item in csv_tables.TABLES:
        for column in item.columns:
            assert column.meaning, f"{item.file} {column.name} has no meaning"


def test_any_file_of_an_export_names_the_whole_export(database: Database, tmp_path: Path) -> None:
    """A file dialog picks files: the export's folder, its csv folder or any file in either
    is read as the whole export; a patient list beside other files is not."""
    with database.read() as session:
        write_csv(session, select_patient_ids(session), tmp_path / "export" / "csv")
    tables = tmp_path / "export" / "csv"
    (tmp_path / "export" / "manifest.json").write_text("{}")
    for picked in ("export", "export/csv", "export/manifest.json", "export/csv/visits.csv"):
        assert is_charting_export(tmp_path / picked) == tables, picked
    assert is_charting_export(_write(tmp_path / "list.csv", LIST)) is None
