"""Data exports: selection, guarded CSV with its dictionary, FHIR R4B bundles, atomic writes."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pydantic
import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from charting.bodymap import load_bodymap
from charting.models import Patient, Practitioner, Visit
from charting.models.db import Database
from charting.services.errors import ServiceError, ValidationError
from charting.services.exports import (
    ACUPOINT_SYSTEM,
    CPT_ELECTRO,
    CPT_MANUAL,
    CPT_SYSTEM,
    CSV_TABLES,
    ICD10CM_SYSTEM,
    LOINC_SYSTEM,
    ODI_LOINC,
    PAIN_LOINC,
    _format_error,
    atomic_write_text,
    atomic_writer,
    patient_bundle,
    read_csv_rows,
    select_patient_ids,
    validate_bundle,
    write_csv,
    write_export_readme,
    write_fhir,
)
from charting.services.marks import MarkDetails, MarkSpec, add_marks, update_details
from charting.services.patients import delete_patient, get_patient
from charting.services.visit_record import (
    EASettings,
    add_adverse_event,
    add_ea_pair,
    sign_visit,
    update_fields,
)
from charting.services.visits import start_visit
from tests.factories import count_needles_out

BM = load_bodymap()
MARCH = datetime(2025, 3, 4, 15, 30, tzinfo=UTC)
JUNE = datetime(2025, 6, 10, 9, 0, tzinfo=UTC)


def _acupoint(code: str, side: str) -> MarkSpec:
    view = BM.views_for(code)[0]
    x, y = BM.position(code, side, view)  # type: ignore[arg-type, misc]
    return MarkSpec("acupoint", view, x, y, side, point_code=code)


@pytest.fixture
def chart(database: Database, make_patient, practitioner_id: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A patient with a signed March visit (marks, EA, adverse event) and a draft June visit."""
    pid = make_patient()
    with database.write() as session:
        first, _ = start_visit(session, pid, practitioner_id, MARCH, "Low back pain")
        tp_x, tp_y = BM.trigger_point_position("quadratus_lumborum", "ql_sup_upper", "R")
        mark_ids, _ = add_marks(
            session,
            BM,
            first,
            [
                _acupoint("BL23", "L"),
                _acupoint("BL23", "R"),
                _acupoint("GV4", "M"),
                MarkSpec(
                    "trigger_point",
                    "posterior",
                    tp_x,
                    tp_y,
                    "R",
                    muscle_id="quadratus_lumborum",
                ),
                MarkSpec("cupping", "posterior", 400, 700, "L", cup_type="dry", cup_count=4),
            ],
        )
        update_details(
            session,
            mark_ids[0],
            MarkDetails(technique="manual", depth_mm=25.5, response="de_qi", note="=HYPERLINK(1)"),
        )
        add_ea_pair(
            session, first, mark_ids[0], mark_ids[1], EASettings("Continuous", 2.0, 1.5, 20)
        )
        add_adverse_event(session, first, "bruising", "mild", "Pressure applied", "-small bruise")
        update_fields(
            session,
            first,
            {
                "pain_now": 7,
                "pain_after": 3,
                "icd10_codes": ["M54.50", "M54.42"],
                "psfs": [{"activity": "Walking", "score": 4}, {"activity": "Sitting", "score": 6}],
                "needle_expiry": date(2028, 5, 1),
                "heat_lamp": True,
                "notes": "@SUM(A1:A9)",
            },
        )
        count_needles_out(session, first)
        sign_visit(session, first, practitioner_id)
        second, _ = start_visit(session, pid, practitioner_id, JUNE)
        (bl40,), _ = add_marks(session, BM, second, [_acupoint("BL40", "L")])
        update_fields(session, second, {"pain_now": 4})
        chart_number = get_patient(session, pid).chart_number
    return {
        "patient_id": pid,
        "chart": chart_number,
        "visits": (first, second),
        "marks": mark_ids,
        "draft_mark": bl40,
    }


# -- selection ---------------------------------------------------------------------------------
def test_selection_by_chart_numbers_search_and_dates(
    database: Database,
    chart: dict[str, Any],
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """Chart numbers (any padding), a search and a visit date range each narrow the export."""
    other = make_patient(family_name="Okafor", given_name="Chidi")
    with database.write() as session:
        start_visit(session, other, practitioner_id, datetime(2024, 1, 5, tzinfo=UTC))
    with database.read() as session:
        everyone = select_patient_ids(session)
        by_chart = select_patient_ids(session, chart_numbers=[chart["chart"].lstrip("0")])
        by_search = select_patient_ids(session, search="okafor")
        since = select_patient_ids(session, since=date(2025, 1, 1))
        window = select_patient_ids(session, since=date(2025, 3, 5), until=date(2025, 6, 9))
        until = select_patient_ids(session, until=date(2024, 12, 31))
    assert sorted(everyone) == sorted([chart["patient_id"], other])
    assert by_chart == [chart["patient_id"]]
    assert by_search == [other]
    assert since == [chart["patient_id"]]
    assert window == []
    assert until == [other]


def test_unknown_chart_number_is_named(database: Database, chart: dict[str, Any]) -> None:
    """Asking for a chart number nobody has raises a ValidationError naming it."""
    with pytest.raises(ValidationError) as info, database.read() as session:
        select_patient_ids(session, chart_numbers=[chart["chart"], "999999"])
    assert "999999" in str(info.value)


def test_deleted_patients_are_left_out_unless_named(
    database: Database, chart: dict[str, Any]
) -> None:
    """A deleted patient is not in "everyone" but can still be exported by chart number."""
    with database.write() as session:
        delete_patient(session, chart["patient_id"])
    with database.read() as session:
        assert select_patient_ids(session) == []
        named = select_patient_ids(session, chart_numbers=[chart["chart"]])
    assert named == [chart["patient_id"]]


# -- CSV -----------------------------------------------------------------------------------------
def _export_csv(database: Database, chart: dict[str, Any], folder: Path) -> dict[str, Path]:
    with database.read() as session:
        paths = write_csv(session, [chart["patient_id"]], folder, BM)
    return {p.name: p for p in paths}


def test_csv_round_trip_of_a_visit_with_marks(
    database: Database, chart: dict[str, Any], tmp_path: Path
) -> None:
    """Visits, marks, EA pairs and adverse events come back from the CSV with their values."""
    files = _export_csv(database, chart, tmp_path / "out")
    assert set(files) == set(CSV_TABLES)
    assert files["visits.csv"].read_bytes().startswith(b"\xef\xbb\xbf")
    visits = read_csv_rows(files["visits.csv"])
    first = visits[0]
    assert [v["number"] for v in visits] == ["1", "2"]
    assert first["chart_number"] == chart["chart"]
    assert first["started_at"] == "2025-03-04T15:30:00Z"
    assert first["status"] == "signed" and len(first["content_hash"]) == 64
    assert visits[1]["status"] == "draft" and visits[1]["content_hash"] == ""
    assert first["practitioner"] == "Ana Ruiz, L.Ac."
    assert first["pain_now"] == "7" and first["pain_after"] == "3"
    assert first["icd10_codes"] == "M54.50; M54.42"
    assert first["psfs"] == "Walking=4; Sitting=6"
    assert first["needle_expiry"] == "2028-05-01" and first["heat_lamp"] == "true"
    assert first["chief_complaint"] == "Low back pain"
    assert first["notes"] == "@SUM(A1:A9)"

    marks = read_csv_rows(files["marks.csv"])
    assert [(m["kind"], m["point_code"], m["side"]) for m in marks[:3]] == [
        ("acupoint", "BL23", "L"),
        ("acupoint", "BL23", "R"),
        ("acupoint", "GV4", "M"),
    ]
    bl23 = marks[0]
    assert bl23["pinyin"] == BM.point("BL23").pinyin
    assert bl23["technique"] == "electro"  # an EA lead turned the needle electro
    assert float(bl23["depth_mm"]) == 25.5 and bl23["response"] == "de_qi"
    assert bl23["note"] == "=HYPERLINK(1)"
    assert float(bl23["x"]) == pytest.approx(BM.position("BL23", "L", bl23["view"])[0])
    trigger = marks[3]
    assert trigger["muscle"] == "quadratus_lumborum" and trigger["muscle_name"]
    cup = marks[4]
    assert (cup["cup_type"], cup["cup_count"]) == ("dry", "4")
    assert marks[5]["visit_id"] == str(chart["visits"][1])

    pairs = read_csv_rows(files["ea_pairs.csv"])
    assert [(p["mark_a_id"], p["mark_b_id"], p["frequency_hz"]) for p in pairs] == [
        (str(chart["marks"][0]), str(chart["marks"][1]), "2.0")
    ]
    events = read_csv_rows(files["adverse_events.csv"])
    assert [(e["kind"], e["severity"], e["note"]) for e in events] == [
        ("bruising", "mild", "-small bruise")
    ]


def test_injection_guard_prefixes_formula_cells(
    database: Database, chart: dict[str, Any], tmp_path: Path
) -> None:
    """Cells starting with =, +, - or @ are written with a leading apostrophe; numbers are not."""
    with database.write() as session:
        practitioner = session.get(
            Practitioner, session.get(Visit, chart["visits"][0]).practitioner_id
        )  # type: ignore[union-attr]
        assert practitioner is not None
        practitioner.name, practitioner.credentials = "+cmd", ""
    files = _export_csv(database, chart, tmp_path / "out")
    visits = read_csv_rows(files["visits.csv"], raw=True)
    marks = read_csv_rows(files["marks.csv"], raw=True)
    events = read_csv_rows(files["adverse_events.csv"], raw=True)
    assert visits[0]["practitioner"] == "'+cmd"
    assert visits[0]["notes"] == "'@SUM(A1:A9)"
    assert marks[0]["note"] == "'=HYPERLINK(1)"
    assert events[0]["note"] == "'-small bruise"
    text = files["marks.csv"].read_text(encoding="utf-8-sig")
    assert "\n=" not in text and ",=" not in text and ',"=' not in text
    # Our own numbers are plain numbers, never turned into text.
    assert not marks[0]["x"].startswith("'") and float(marks[0]["x"]) > 0
    assert read_csv_rows(files["visits.csv"])[0]["practitioner"] == "+cmd"


def test_the_database_formats_cells_as_the_python_rules_do(
    database: Database, make_patient
) -> None:  # type: ignore[no-untyped-def]
    """The injection guard and the UTC times made in SQL (for speed) give exactly what the
    Python rules give, for every character that starts a formula and for ordinary text."""
    from sqlalchemy import String as SqlString
    from sqlalchemy import literal, select, update

    from charting.services.csv_tables import (
        INJECTION_STARTS,
        _datetime_cell,
        guard_cell,
        guarded,
        utc_text,
    )

    pid = make_patient()
    with database.read() as session:
        dialect = session.connection().dialect.name
        texts = [start + "x" for start in INJECTION_STARTS if dialect == "sqlite" or start != "\0"]
        texts += ["Abc", "abc", "1 plus 1", "", " =x", "~x", "[x", "ß", "Ω=1", "'"]
        for text in texts:
            cell = session.scalar(select(guarded(literal(text, SqlString), dialect)))
            assert cell == guard_cell(text), repr(text)
    for when in (
        datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
        datetime(2025, 3, 1, 9, 30, 0, 250000, tzinfo=UTC),
    ):
        with database.write() as session:
            session.execute(update(Patient).where(Patient.id == pid).values(created_at=when))
        with database.read() as session:
            cell = session.scalar(
                select(utc_text(Patient.created_at, dialect)).where(Patient.id == pid)
            )
        assert cell == _datetime_cell(when)
    assert cell == "2025-03-01T09:30:00.250000Z"


def test_injection_guard_is_reversible_for_a_leading_apostrophe(
    database: Database, chart: dict[str, Any], tmp_path: Path
) -> None:
    """A note that itself starts with an apostrophe comes back unchanged."""
    with database.write() as session:
        update_details(session, chart["draft_mark"], MarkDetails(note="'quoted"))
    files = _export_csv(database, chart, tmp_path / "out")
    assert read_csv_rows(files["marks.csv"], raw=True)[5]["note"] == "''quoted"
    assert read_csv_rows(files["marks.csv"])[5]["note"] == "'quoted"


def test_data_dictionary_lists_every_column_of_every_csv(
    database: Database, chart: dict[str, Any], tmp_path: Path
) -> None:
    """Every header of every CSV file has a row in data_dictionary.csv, and nothing else does."""
    files = _export_csv(database, chart, tmp_path / "out")
    described = {(r["file"], r["column"]) for r in read_csv_rows(files["data_dictionary.csv"])}
    headers = set()
    for name, path in files.items():
        with path.open(encoding="utf-8-sig") as handle:
            headers |= {(name, column) for column in handle.readline().strip().split(",")}
    assert headers == described
    rows = {r["column"]: r for r in read_csv_rows(files["data_dictionary.csv"])}
    assert rows["pain_now"]["allowed"].startswith("0-10")
    assert "M54.50" in rows["icd10_codes"]["allowed"]


def test_two_exports_of_the_same_data_are_identical(
    database: Database, chart: dict[str, Any], tmp_path: Path
) -> None:
    """CSV and FHIR exports are byte-for-byte deterministic."""
    outputs = []
    for run in ("a", "b"):
        folder = tmp_path / run
        with database.read() as session:
            paths = write_csv(session, [chart["patient_id"]], folder, BM)
            paths += write_fhir(session, [chart["patient_id"]], folder, BM)
        outputs.append({p.name: p.read_bytes() for p in paths})
    assert outputs[0] == outputs[1]


# -- FHIR ------------------------------------------------------------------------------------------
def _bundle(database: Database, chart: dict[str, Any]) -> dict[str, Any]:
    with database.read() as session:
        return patient_bundle(session, chart["patient_id"], BM)


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_bundle_parses_as_r4b_and_passes_our_checks(
    database: Database, chart: dict[str, Any]
) -> None:
    """The bundle is R4B-valid, passes our rules and maps visits, pain and diagnoses."""
    bundle = _bundle(database, chart)
    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "collection"
    assert validate_bundle(bundle, BM) == []
    assert all(e["fullUrl"].startswith("urn:uuid:") for e in bundle["entry"])

    (patient,) = _resources(bundle, "Patient")
    assert patient["identifier"][0]["value"] == chart["chart"]
    assert patient["birthDate"] == "1978-05-17" and patient["gender"] == "female"
    (practitioner,) = _resources(bundle, "Practitioner")
    assert practitioner["identifier"][0]["value"] == "AC-1234"
    assert practitioner["qualification"][0]["code"]["text"] == "L.Ac."

    encounters = _resources(bundle, "Encounter")
    assert [e["status"] for e in encounters] == ["finished", "in-progress"]
    assert encounters[0]["class"]["code"] == "AMB"
    assert encounters[0]["period"]["start"] == "2025-03-04T15:30:00Z"

    pains = [
        o for o in _resources(bundle, "Observation") if o["code"]["coding"][0]["code"] == PAIN_LOINC
    ]
    assert [(o["valueInteger"], o["note"][0]["text"]) for o in pains] == [
        (7, "Before treatment"),
        (3, "After treatment"),
        (4, "Before treatment"),
    ]
    assert all(o["code"]["coding"][0]["code"] == PAIN_LOINC for o in pains)
    assert all(o["category"][0]["coding"][0]["code"] == "survey" for o in pains)

    conditions = _resources(bundle, "Condition")
    assert [c["code"]["coding"][0]["code"] for c in conditions] == ["M54.50", "M54.42"]
    assert all(c["code"]["coding"][0]["system"] == ICD10CM_SYSTEM for c in conditions)
    assert conditions[0]["category"][0]["coding"][0]["code"] == "encounter-diagnosis"

    procedures = _resources(bundle, "Procedure")
    assert [p["code"]["coding"] for p in procedures] == [
        [{"system": CPT_SYSTEM, "code": CPT_ELECTRO}],
        [{"system": CPT_SYSTEM, "code": CPT_MANUAL}],
    ]
    assert procedures[0]["code"]["text"] == "Acupuncture"
    assert "quadratus lumborum" in procedures[0]["note"][0]["text"].lower()


def test_bundle_carries_flags_outcomes_ea_and_adverse_events(
    database: Database, chart: dict[str, Any]
) -> None:
    """Health flags (Flag, AllergyIntolerance), ODI/RMDQ/PSFS, EA settings and adverse
    events are in the bundle, which stays R4B-valid and passes our checks."""
    with database.write() as session:
        patient = session.get(Patient, chart["patient_id"])
        assert patient is not None
        patient.metal_allergy = patient.anticoagulant = True
        patient.implanted_device = "pacemaker"
        visit = session.get(Visit, chart["visits"][1])
        assert visit is not None
        visit.odi_percent, visit.rmdq_score = 38, 11
    bundle = _bundle(database, chart)
    assert validate_bundle(bundle, BM) == []
    flags = {f["code"]["coding"][0]["code"]: f for f in _resources(bundle, "Flag")}
    assert set(flags) == {"anticoagulant", "implanted_device_pacemaker"}
    assert flags["implanted_device_pacemaker"]["code"]["text"] == "Implanted device: Pacemaker"
    (allergy,) = _resources(bundle, "AllergyIntolerance")
    assert allergy["code"]["text"] == "Metal (nickel) allergy"
    by_code = {o["code"]["coding"][0]["code"]: o for o in _resources(bundle, "Observation")}
    assert by_code[ODI_LOINC]["valueQuantity"]["value"] == 38
    assert by_code["rmdq"]["valueInteger"] == 11
    assert [(c["code"]["text"], c["valueInteger"]) for c in by_code["psfs"]["component"]] == [
        ("Walking", 4),
        ("Sitting", 6),
    ]
    procedure = _resources(bundle, "Procedure")[0]
    ea = procedure["note"][-1]["text"]
    assert ea == "Electroacupuncture: BL23 (left) - BL23 (right): Continuous, 2 Hz, 1.5 mA, 20 min"
    (event,) = _resources(bundle, "AdverseEvent")
    assert event["severity"]["coding"][0]["code"] == "mild"
    assert event["event"]["text"] == "Bruising: -small bruise. Action taken: Pressure applied"
    # Our checks hold the new observations to their ranges.
    by_code[ODI_LOINC]["valueQuantity"]["value"] = 140
    by_code["psfs"]["component"][0]["valueInteger"] = 12
    problems = validate_bundle(bundle, BM)
    assert any("ODI score 140 is outside 0-100" in p for p in problems)
    assert any("score 12 is not 0-10" in p for p in problems)


def test_body_site_per_acupoint_mark_with_side(database: Database, chart: dict[str, Any]) -> None:
    """Each acupoint mark is one bodySite in our CodeSystem, with laterality as its text."""
    procedure = _resources(_bundle(database, chart), "Procedure")[0]
    assert procedure["bodySite"] == [
        {
            "coding": [{"system": ACUPOINT_SYSTEM, "code": "BL23", "display": "BL23 Shenshu"}],
            "text": "left",
        },
        {
            "coding": [{"system": ACUPOINT_SYSTEM, "code": "BL23", "display": "BL23 Shenshu"}],
            "text": "right",
        },
        {
            "coding": [{"system": ACUPOINT_SYSTEM, "code": "GV4", "display": "GV4 Mingmen"}],
            "text": "midline",
        },
    ]


def _first(bundle: dict[str, Any], kind: str) -> dict[str, Any]:
    return _resources(bundle, kind)[0]


def test_our_checks_catch_a_pain_score_of_42(database: Database, chart: dict[str, Any]) -> None:
    """A pain value outside 0-10, which fhir.resources accepts, is reported."""
    bundle = copy.deepcopy(_bundle(database, chart))
    _first(bundle, "Observation")["valueInteger"] = 42
    Bundle.model_validate(bundle)  # shape is fine: only our rule catches it
    assert any("42 is outside 0-10" in p for p in validate_bundle(bundle, BM))


def test_our_checks_catch_a_swapped_loinc_code(database: Database, chart: dict[str, Any]) -> None:
    """A pain Observation coded with another LOINC code is reported."""
    bundle = copy.deepcopy(_bundle(database, chart))
    _first(bundle, "Observation")["code"]["coding"] = [{"system": LOINC_SYSTEM, "code": "38208-5"}]
    problems = validate_bundle(bundle, BM)
    assert any(PAIN_LOINC in p and "38208-5" in p for p in problems)


def test_our_checks_catch_the_deleted_code_m54_5(database: Database, chart: dict[str, Any]) -> None:
    """A Condition coded with the deleted ICD-10-CM M54.5 is reported."""
    bundle = copy.deepcopy(_bundle(database, chart))
    _first(bundle, "Condition")["code"]["coding"][0]["code"] = "M54.5"
    assert any("M54.5 is a deleted code" in p for p in validate_bundle(bundle, BM))


def test_our_checks_catch_an_unknown_acupoint(database: Database, chart: dict[str, Any]) -> None:
    """An acupoint code that is not in the catalog, or another system, is reported."""
    bundle = copy.deepcopy(_bundle(database, chart))
    sites = _first(bundle, "Procedure")["bodySite"]
    sites[0]["coding"][0]["code"] = "BL99"
    sites[1]["coding"][0]["system"] = "http://snomed.info/sct"
    problems = validate_bundle(bundle, BM)
    assert any("BL99 is not an acupoint" in p for p in problems)
    assert any("http://snomed.info/sct is not" in p for p in problems)


def test_our_checks_catch_a_dangling_reference(database: Database, chart: dict[str, Any]) -> None:
    """A reference to a resource outside the bundle, or a repeated fullUrl, is reported."""
    bundle = copy.deepcopy(_bundle(database, chart))
    _first(bundle, "Procedure")["encounter"]["reference"] = "Encounter/123"
    bundle["entry"][2]["fullUrl"] = bundle["entry"][1]["fullUrl"]
    problems = validate_bundle(bundle, BM)
    assert any("Encounter/123 does not resolve" in p for p in problems)
    assert any("used twice" in p for p in problems)


def test_structural_errors_are_readable(database: Database, chart: dict[str, Any]) -> None:
    """A pydantic error from fhir.resources comes back as one line naming the element."""
    bundle = copy.deepcopy(_bundle(database, chart))
    _first(bundle, "Encounter")["bogus"] = 1
    problems = validate_bundle(bundle, BM)
    assert any("bogus" in p and "resource" in p for p in problems)


def _plain_validation(bundle: dict[str, Any]) -> list[str]:
    """The problems of validating the whole bundle with fhir.resources the plain way."""
    try:
        Bundle.model_validate(bundle)
    except pydantic.ValidationError as error:
        return [_format_error(e) for e in error.errors()]
    except (ValueError, TypeError) as error:
        return [f"bundle: {error}"]
    return []


def _set(resource: dict[str, Any], key: str, value: Any) -> None:
    resource[key] = value


STRUCTURAL_ERRORS = {
    "an unknown element": ("Encounter", lambda r: _set(r, "bogus", 1)),
    "a code with a leading space": ("Encounter", lambda r: _set(r, "status", " finished")),
    "a missing required element": ("Observation", lambda r: r.pop("status")),
    "two values of one choice": ("Observation", lambda r: _set(r, "valueString", "seven")),
    "a null in a list of elements": ("Procedure", lambda r: r["bodySite"].append(None)),
    "a malformed date": ("Patient", lambda r: _set(r, "birthDate", "1980-13-45")),
    "a resource type the data does not fit": (
        "Condition",
        lambda r: _set(r, "resourceType", "Flag"),
    ),
    "a resource with no type": ("Practitioner", lambda r: r.pop("resourceType")),
    "a resource type fhir.resources does not know": (
        "Practitioner",
        lambda r: _set(r, "resourceType", 7),
    ),
}


@pytest.mark.parametrize("error", list(STRUCTURAL_ERRORS))
def test_each_structural_error_is_refused_as_the_whole_bundle_validation_names_it(
    database: Database, chart: dict[str, Any], error: str
) -> None:
    """Validating each resource with its own class first refuses every structural error a
    whole-bundle validation refuses, with the same lines."""
    kind, spoil = STRUCTURAL_ERRORS[error]
    bundle = copy.deepcopy(_bundle(database, chart))
    assert validate_bundle(copy.deepcopy(bundle), BM) == []
    spoil(_first(bundle, kind))
    expected = _plain_validation(copy.deepcopy(bundle))
    assert expected, error
    problems = validate_bundle(bundle, BM)
    assert problems[: len(expected)] == expected


def test_a_resource_type_that_does_not_exist_is_refused_in_words(
    database: Database, chart: dict[str, Any]
) -> None:
    """An entry whose resourceType FHIR R4B does not have is a readable problem, not a crash."""
    bundle = copy.deepcopy(_bundle(database, chart))
    _first(bundle, "Practitioner")["resourceType"] = "Acupuncturist"
    problems = validate_bundle(bundle, BM)
    assert "bundle: resource type 'Acupuncturist' is not a FHIR R4B resource." in problems


def test_resources_are_validated_by_the_classes_the_bundle_uses(
    database: Database, chart: dict[str, Any]
) -> None:
    """Each exported resource type is validated by the same R4B class the Bundle picks for it."""
    bundle = _bundle(database, chart)
    entries = Bundle.model_validate(copy.deepcopy(bundle)).entry or []
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "Encounter", "Procedure", "Observation", "Condition"} <= kinds
    for entry, validated in zip(bundle["entry"], entries, strict=True):
        assert type(validated.resource) is get_fhir_model_class(entry["resource"]["resourceType"])


def test_write_fhir_writes_one_file_per_patient(
    database: Database, chart: dict[str, Any], tmp_path: Path
) -> None:
    """write_fhir writes <chart>.fhir.json, which parses back into a valid R4B bundle."""
    with database.read() as session:
        (path,) = write_fhir(session, [chart["patient_id"]], tmp_path / "fhir", BM)
    assert path.name == f"{chart['chart']}.fhir.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert Bundle.model_validate(data).type == "collection"


def test_write_fhir_refuses_an_invalid_bundle(
    database: Database, chart: dict[str, Any], tmp_path: Path
) -> None:
    """A visit holding the deleted M54.5 (legacy data) makes write_fhir refuse and write nothing."""
    with database.write() as session:
        visit = session.get(Visit, chart["visits"][1])
        assert visit is not None
        visit.icd10_codes = ["M54.5"]  # bypasses the service, as old data might
    folder = tmp_path / "fhir"
    with pytest.raises(ServiceError) as info, database.read() as session:
        write_fhir(session, [chart["patient_id"]], folder, BM)
    assert "M54.5" in str(info.value)
    assert not folder.exists() or not any(folder.iterdir())


# -- README and atomic writes ---------------------------------------------------------------------
def test_readme_describes_the_formats_present(tmp_path: Path) -> None:
    """The README names the CSV guard and dictionary, the FHIR choices, and UTC times."""
    path = write_export_readme(tmp_path, ["csv", "fhir"])
    text = path.read_text(encoding="utf-8")
    for fragment in (
        "data_dictionary.csv",
        "ASVS 1.2.10",
        "R4B",
        ACUPOINT_SYSTEM,
        PAIN_LOINC,
        "ICD-10-CM",
        CPT_MANUAL,
        "UTC",
    ):
        assert fragment in text
    csv_only = write_export_readme(tmp_path / "c", ["csv"]).read_text(encoding="utf-8")
    assert "FHIR" not in csv_only
    with pytest.raises(ValidationError):
        write_export_readme(tmp_path, ["xml"])


def test_atomic_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    """After a successful write only the target file is in the folder."""
    target = tmp_path / "out.txt"
    atomic_write_text(target, "first")
    atomic_write_text(target, "second")
    assert target.read_text(encoding="utf-8") == "second"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_failure_mid_write_leaves_no_target_and_no_temporary_file(tmp_path: Path) -> None:
    """An error inside the writer removes the temporary file and never creates the target."""
    target = tmp_path / "visits.csv"
    with pytest.raises(RuntimeError), atomic_writer(target) as handle:
        handle.write("half a row,")
        raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_failure_mid_write_keeps_the_previous_file(tmp_path: Path) -> None:
    """A failed rewrite leaves the earlier complete file exactly as it was."""
    target = tmp_path / "visits.csv"
    atomic_write_text(target, "complete")
    with pytest.raises(RuntimeError), atomic_writer(target) as handle:
        handle.write("partial")
        raise RuntimeError("disk full")
    assert target.read_text(encoding="utf-8") == "complete"
    assert [p.name for p in tmp_path.iterdir()] == ["visits.csv"]


def test_visits_csv_says_whether_each_signature_still_holds(
    database: Database, chart: dict[str, Any], tmp_path: Path
) -> None:
    """The signature column says 'valid' for an intact signed visit, nothing for a draft, and
    'ALTERED AFTER SIGNING' once the signed record was changed behind Charting's back, so a
    stored hash is never passed off as a valid signature."""
    signed, draft = chart["visits"]
    rows = {
        int(r["visit_id"]): r
        for r in read_csv_rows(_export_csv(database, chart, tmp_path / "a")["visits.csv"])
    }
    assert rows[signed]["signature"] == "valid" and rows[draft]["signature"] == ""
    with database.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE visit SET pain_now = 1 WHERE id = {signed}")
    rows = {
        int(r["visit_id"]): r
        for r in read_csv_rows(_export_csv(database, chart, tmp_path / "b")["visits.csv"])
    }
    assert rows[signed]["signature"].startswith("ALTERED AFTER SIGNING: this record was changed")


def test_visit_chunks_made_elsewhere_are_used_only_while_the_visits_read_the_same(
    database: Database, chart: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Visits made ahead with their signatures checked (by the export's worker) are written
    as they are while the visits read the same, and made again once a visit changed or a
    signed visit's stored signature changed in between, so the file never holds rows or
    verdicts other than the exporting transaction's; the worker's file is removed."""
    from charting.services import csv_tables, signatures

    signed, draft = chart["visits"]
    visits = csv_tables.table("visits.csv")
    calls: list[list[int]] = []
    real = signatures.problems
    monkeypatch.setattr(
        signatures, "problems", lambda session, ids: calls.append(list(ids)) or real(session, ids)
    )

    def export(folder: Path, meanwhile: Any = None) -> dict[int, dict[str, str]]:
        part = tmp_path / f"{folder.name}.part"
        with database.read() as session:
            made = csv_tables.make_chunk(session, visits, [chart["patient_id"]], part)
        if meanwhile is not None:  # a change between the worker's reading and the export's
            meanwhile()
        calls.clear()
        with database.read() as session:
            paths = write_csv(
                session, [chart["patient_id"]], folder, BM, premade=lambda file, n: made
            )
        assert not part.exists()
        rows = read_csv_rows(next(p for p in paths if p.name == "visits.csv"))
        return {int(r["visit_id"]): r for r in rows}

    assert export(tmp_path / "a")[signed]["signature"] == "valid"
    assert calls == []  # the chunk made ahead was used

    def edit_draft() -> None:
        with database.write() as session:
            update_fields(session, draft, {"chief_complaint": "Changed meanwhile"})

    rows = export(tmp_path / "b", edit_draft)
    assert rows[draft]["chief_complaint"] == "Changed meanwhile" and calls

    def swap_stored_hash() -> None:
        with database.engine.begin() as conn:
            conn.exec_driver_sql(
                f"UPDATE visit SET content_hash = '{'0' * 64}' WHERE id = {signed}"
            )

    rows = export(tmp_path / "c", swap_stored_hash)
    assert rows[signed]["signature"].startswith("ALTERED AFTER SIGNING")
    assert calls and signed in calls[0]


def test_the_record_around_the_visit_is_exported_too(
    database: Database, chart: dict[str, Any], practitioner_id: int, tmp_path: Path
) -> None:
    """Handouts given, pain drawings with their measures, consents and appointments are
    exported with the visit they belong to."""
    from charting.services import handouts, pain_drawings
    from charting.services.pain_measures import AreaShape

    signed, draft = chart["visits"]
    with database.write() as session:
        handouts.record_handout(session, signed, "printed")
        pain_drawings.add_area(
            session,
            BM,
            draft,
            AreaShape("posterior", "region", "practitioner", region="low_back", side="L",
                      quality="aching", intensity=6),
        )  # fmt: skip
    files = _export_csv(database, chart, tmp_path / "out")
    (handout,) = read_csv_rows(files["handouts.csv"])
    assert int(handout["visit_id"]) == signed and handout["how"] == "printed"
    (area,) = read_csv_rows(files["pain_areas.csv"])
    assert int(area["visit_id"]) == draft and area["quality"] == "aching"
    (summary,) = read_csv_rows(files["pain_summaries.csv"])
    assert int(summary["visit_id"]) == draft and '"extent_percent"' in summary["measures"]
    assert {"consents.csv", "appointments.csv", "billing.csv", "needle_resolutions.csv"} <= set(
        files
    )


def test_a_pain_drawing_goes_into_the_bundle_as_an_observation_of_its_measures(
    database: Database, chart: dict[str, Any]
) -> None:
    """The drawing's extent is the Observation's value; each leg's furthest reach and the
    shaded regions are components; the bundle still passes the R4B model and our checks."""
    from charting.services import pain_drawings
    from charting.services.pain_measures import AreaShape

    _signed, draft = chart["visits"]
    with database.write() as session:
        pain_drawings.add_area(
            session,
            BM,
            draft,
            AreaShape("posterior", "region", "patient", region="thigh", side="L",
                      quality="burning", intensity=7),
        )  # fmt: skip
    with database.read() as session:
        bundle = patient_bundle(session, chart["patient_id"], BM)
        stored = pain_drawings.stored_measures(session, [draft])[draft]
    (drawing,) = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
        and e["resource"]["code"]["coding"][0]["code"] == "pain-drawing"
    ]
    assert drawing["valueQuantity"]["value"] == stored.extent_percent > 0
    parts = {c["code"]["coding"][0]["code"]: c for c in drawing["component"]}
    assert parts["furthest-left"]["valueCodeableConcept"]["text"] == "Thigh"
    assert parts["furthest-right"]["valueCodeableConcept"]["text"] == "No pain drawn"
    # The left thigh is shaded on the back view only: its share over all views that show it.
    assert parts["region-thigh-L"]["valueQuantity"]["value"] == stored.regions["thigh:L"] > 0
    assert "region-thigh-R" not in parts
    assert validate_bundle(bundle, BM) == []
