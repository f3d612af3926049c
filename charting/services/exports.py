"""Data exports: CSV tables with a data dictionary, FHIR R4B bundles, and the export README.

Every file is written to a temporary name in the target folder and renamed into place, so a
failed export never leaves a half-written file, and plaintext PHI never passes through the
system's temporary folder (reliability.md §3.6). Output is deterministic: rows are sorted and
FHIR ids are uuid5 values derived from our database ids, so two exports of the same data are
byte-for-byte identical.

Choices made here:

* **Formula injection (OWASP ASVS 1.2.10).** A *text* cell starting with ``=``, ``+``, ``-``,
  ``@``, tab, carriage return or NUL is prefixed with ``'``. So is a text cell that already
  starts with ``'``, which makes the guard reversible: :func:`read_csv_rows` strips exactly one
  leading ``'``. Numbers we write ourselves (ints and floats from numeric columns) are never
  prefixed, so a negative coordinate stays numeric: a number cannot carry a formula.
* **Times are UTC** (ISO 8601 with a ``Z``); dates of birth and expiry dates are plain dates.
* **FHIR** follows reliability.md §4.1: Patient, Practitioner, Encounter, Procedure (one per
  visit with marks, one ``bodySite`` per acupoint mark), Observation (LOINC 72514-3 pain before
  and after) and Condition (ICD-10-CM). fhir.resources checks shape only, so
  :func:`validate_bundle` adds our own code and range rules.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
import unicodedata
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import IO, Any

import pydantic
from sqlalchemy import select
from sqlalchemy.orm import Session

from charting.bodymap import BodyMap, load_bodymap
from charting.models import (
    AdverseEvent,
    Amendment,
    EAPair,
    Mark,
    MarkKind,
    Patient,
    Practitioner,
    Visit,
    VisitStatus,
)
from charting.services import clinical_lists as lists
from charting.services import signatures
from charting.services.access import Permission, require
from charting.services.errors import ServiceError, ValidationError
from charting.services.marks import RESPONSES, SKIN_IDS, TECHNIQUES
from charting.services.patients import search_patient_ids
from charting.services.visit_record import FIELDS

# -- canonical URLs ----------------------------------------------------------------------------
CHARTING_FHIR_BASE = "https://charting.example/fhir"
# There is no HL7 or SNOMED code system for acupoints (reliability.md §4.1): the WHO
# alphanumeric codes are published as our own local CodeSystem.
ACUPOINT_SYSTEM = f"{CHARTING_FHIR_BASE}/CodeSystem/acupoint"
CHART_NUMBER_SYSTEM = f"{CHARTING_FHIR_BASE}/NamingSystem/chart-number"
LICENCE_SYSTEM = f"{CHARTING_FHIR_BASE}/NamingSystem/practitioner-licence"
LOINC_SYSTEM = "http://loinc.org"
ICD10CM_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
CPT_SYSTEM = "http://www.ama-assn.org/go/cpt"
ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
OBSERVATION_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-category"
FHIR_R4B_SPEC = "https://hl7.org/fhir/R4B/"

PAIN_LOINC = "72514-3"
PAIN_LOINC_DISPLAY = "Pain severity - 0-10 verbal numeric rating [Score] - Reported"
# CPT acupuncture codes, initial 15 minutes (reliability.md §4.1, [F8]). Only one initial code
# is reported per day (electro when any needle was stimulated); the add-on codes 97811/97814
# count one-on-one contact time, which the chart does not record, so they are not emitted.
CPT_MANUAL = "97810"
CPT_ELECTRO = "97813"

# Stable FHIR ids: uuid5 of "<kind>/<our id>" in a namespace of our own.
UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, CHARTING_FHIR_BASE)

LATERALITY = {"L": "left", "R": "right", "M": "midline"}
GENDER = {"female": "female", "male": "male", "intersex": "other", "unknown": "unknown"}
FORMATS = ("pdf", "csv", "fhir")

# OWASP ASVS 1.2.10 triggers, plus NUL (reliability.md §3.6); "'" makes the guard reversible.
_INJECTION_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0", "'")
_URN_UUID = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


# -- atomic writes -----------------------------------------------------------------------------
@contextmanager
def atomic_writer(
    path: Path, *, newline: str | None = None, encoding: str = "utf-8"
) -> Iterator[IO[str]]:
    """Open a temporary text file beside ``path``; on success it replaces ``path`` atomically.

    The temporary file lives in the target folder (so the rename never crosses file systems
    and PHI never lands in the system temp folder) and is created readable by its owner only.
    If the body raises, the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline=newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` through :func:`atomic_writer`; return the path."""
    with atomic_writer(path, newline="", encoding=encoding) as handle:
        handle.write(text)
    return Path(path)


# -- selection ---------------------------------------------------------------------------------
def _normalise_chart_number(text: str) -> str:
    text = text.strip().lstrip("#")
    return text.zfill(6) if text.isdigit() else text


def select_patient_ids(
    session: Session,
    *,
    chart_numbers: Sequence[str] = (),
    search: str | None = None,
    since: date | None = None,
    until: date | None = None,
    tz: tzinfo = UTC,
) -> list[int]:
    """Ids of the patients to export, in chart-number order.

    With no chart numbers and no search, every live (not deleted) patient. Chart numbers
    ("42", "#42" or "000042") name patients explicitly, deleted ones included, since records
    are kept after a patient is hidden. A search uses the patient list's own search. When
    both are given, a patient must match both. ``since``/``until`` (inclusive days in ``tz``,
    UTC by default) keep only patients with a visit in that range.

    Raises:
        ValidationError: a chart number is unknown, or ``since`` is after ``until``.
    """
    if since is not None and until is not None and since > until:
        raise ValidationError({"since": "The start date is after the end date."})
    query = select(Patient.id)
    if chart_numbers:
        wanted = {_normalise_chart_number(c): c for c in chart_numbers}
        found = {
            chart: pid
            for chart, pid in session.execute(
                select(Patient.chart_number, Patient.id).where(Patient.chart_number.in_(wanted))
            )
        }
        unknown = [original for norm, original in wanted.items() if norm not in found]
        if unknown:
            raise ValidationError(
                {"chart_numbers": "No patient has chart number " + ", ".join(sorted(unknown)) + "."}
            )
        query = query.where(Patient.id.in_(found.values()))
    else:
        query = query.where(Patient.deleted_at.is_(None))
    if search is not None and search.strip():
        query = query.where(Patient.id.in_(search_patient_ids(session, search)))
    if since is not None or until is not None:
        visits = select(Visit.patient_id)
        if since is not None:
            visits = visits.where(Visit.started_at >= datetime.combine(since, time(), tz))
        if until is not None:
            end = datetime.combine(until + timedelta(days=1), time(), tz)
            visits = visits.where(Visit.started_at < end)
        query = query.where(Patient.id.in_(visits))
    return list(session.scalars(query.order_by(Patient.chart_number)))


# -- loading -------------------------------------------------------------------------------------
def _patients(session: Session, patient_ids: Iterable[int]) -> list[Patient]:
    ids = set(patient_ids)
    if not ids:
        return []
    query = select(Patient).where(Patient.id.in_(ids)).order_by(Patient.chart_number)
    return list(session.scalars(query))


def _visits(session: Session, patient_id: int) -> list[Visit]:
    query = select(Visit).where(Visit.patient_id == patient_id).order_by(Visit.number)
    return list(session.scalars(query))


def _marks(session: Session, visit_id: int) -> list[Mark]:
    return list(session.scalars(select(Mark).where(Mark.visit_id == visit_id).order_by(Mark.id)))


def _pairs(session: Session, visit_id: int) -> list[EAPair]:
    query = select(EAPair).where(EAPair.visit_id == visit_id).order_by(EAPair.id)
    return list(session.scalars(query))


def _events(session: Session, visit_id: int) -> list[AdverseEvent]:
    query = select(AdverseEvent).where(AdverseEvent.visit_id == visit_id).order_by(AdverseEvent.id)
    return list(session.scalars(query))


def _amendments(session: Session, visit_id: int) -> list[Amendment]:
    query = select(Amendment).where(Amendment.visit_id == visit_id).order_by(Amendment.id)
    return list(session.scalars(query))


def _utc(value: datetime | None) -> str:
    """ISO 8601 in UTC with a Z, to the second ("2025-03-01T09:30:00Z")."""
    if value is None:
        return ""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _plain(text: str) -> str:
    """Pinyin without tone marks ("Shènshū" -> "Shenshu"), case kept."""
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def _point_names(bodymap: BodyMap, code: str | None) -> tuple[str, str]:
    """(pinyin, english) of a catalog point, empty for an unknown code."""
    if not code:
        return "", ""
    try:
        point = bodymap.point(code)
    except KeyError:
        return "", ""
    return point.pinyin, point.english


def _muscle_name(bodymap: BodyMap, muscle_id: str | None) -> str:
    if not muscle_id:
        return ""
    try:
        return bodymap.muscle(muscle_id).name
    except KeyError:
        return ""


# -- CSV -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    """One column of an exported CSV file, as the data dictionary describes it."""

    name: str
    meaning: str
    type: str
    allowed: str = ""


def _choices(values: Iterable[str]) -> str:
    return "; ".join(sorted(v for v in values if v))


_SIDES = "L (left); R (right); M (midline)"
_VISIT_KEYS = (
    Column("chart_number", "Patient's chart number", "text", "six digits"),
    Column("visit_id", "Visit id (unique in this export)", "integer"),
)
_UNITS = {
    "pain_now": "0-10 numeric rating scale (before treatment)",
    "pain_best": "0-10 numeric rating scale",
    "pain_worst": "0-10 numeric rating scale",
    "pain_after": "0-10 numeric rating scale (after treatment)",
    "retention_minutes": "minutes",
    "odi_percent": "percent (Oswestry Disability Index total)",
    "rmdq_score": "points (Roland-Morris total)",
    "needles_out": "needles",
}


def _field_column(name: str) -> Column:
    spec = FIELDS[name]
    if spec.kind == "int":
        unit = _UNITS.get(name, "")
        return Column(name, spec.label, "integer", f"{spec.low}-{spec.high} {unit}".strip())
    if spec.kind == "date":
        return Column(name, spec.label, "date (YYYY-MM-DD)")
    if spec.kind == "datetime":
        return Column(name, spec.label, "date-time (ISO 8601, UTC)")
    if spec.kind == "bool":
        return Column(name, spec.label, "boolean", "true; false")
    if spec.kind == "choices":
        allowed = _choices(spec.choices) if spec.choices else "free entries"
        return Column(name, spec.label, "list separated by '; '", allowed)
    if spec.kind == "psfs":
        return Column(
            name,
            "Patient-Specific Functional Scale items",
            "list of activity=score separated by '; '",
            "score 0 (unable) - 10 (as before the problem)",
        )
    return Column(name, spec.label, "text")


VISIT_COLUMNS: tuple[Column, ...] = (
    *_VISIT_KEYS,
    Column("number", "Visit number in the patient's course", "integer", "1 or more"),
    Column("started_at", "When the visit started", "date-time (ISO 8601, UTC)"),
    Column("practitioner", "Treating practitioner", "text"),
    Column("status", "Whether the visit is signed", "text", _choices(v.value for v in VisitStatus)),
    Column("signed_at", "When the visit was signed", "date-time (ISO 8601, UTC)"),
    Column(
        "content_hash", "SHA-256 of the signed content", "text", "64 hex digits, empty if draft"
    ),
    Column(
        "signature",
        "Whether the signed content still matches its signature (checked at export)",
        "text",
        "valid; ALTERED: what is wrong; empty if draft",
    ),
    *(_field_column(name) for name in FIELDS),
)
MARK_COLUMNS: tuple[Column, ...] = (
    *_VISIT_KEYS,
    Column("mark_id", "Mark id (unique in this export)", "integer"),
    Column("kind", "What the mark records", "text", _choices(k.value for k in MarkKind)),
    Column("point_code", "WHO acupoint code (acupoint marks)", "text", "codes of the catalog"),
    Column("pinyin", "Acupoint name in pinyin", "text"),
    Column("english", "Acupoint name in English (translations vary)", "text"),
    Column("side", "Side of the body", "text", _SIDES),
    Column("view", "Body-map view the mark was made on", "text"),
    Column("x", "Horizontal position in body-model units of the view", "number"),
    Column("y", "Vertical position in body-model units of the view", "number"),
    Column("location_variant", "Alternative point location used", "text"),
    Column("muscle", "Muscle id (trigger points)", "text", "ids of the muscle catalog"),
    Column("muscle_name", "Muscle name (trigger points)", "text"),
    Column("technique", "Technique used", "text", _choices(TECHNIQUES)),
    Column("depth_mm", "Needling depth", "number", "above 0 up to 150 mm"),
    Column("response", "Response obtained", "text", _choices(RESPONSES)),
    Column("note", "Practitioner's note on the mark", "text"),
    Column("cup_type", "Cupping type", "text", _choices(lists.ids(lists.CUP_TYPES))),
    Column("cup_count", "Number of cups", "integer", "cups"),
    Column("cup_minutes", "Cup retention", "integer", "minutes"),
    Column("skin_response", "Skin response to cupping", "text"),
    Column("skin", "Skin at the site before treatment", "text", _choices(SKIN_IDS)),
)
EA_COLUMNS: tuple[Column, ...] = (
    *_VISIT_KEYS,
    Column("pair_id", "EA pair id", "integer"),
    Column("mark_a_id", "First needle (mark_id in marks.csv)", "integer"),
    Column("mark_b_id", "Second needle (mark_id in marks.csv)", "integer"),
    Column("waveform", "Stimulation waveform", "text", _choices(lists.EA_WAVEFORMS)),
    Column(
        "frequency_hz", "Stimulation frequency (the first of two)", "number", "above 0 up to 200 Hz"
    ),
    Column(
        "frequency2_hz",
        "Second frequency of a dense-disperse waveform (e.g. 100 in 2/100 Hz)",
        "number",
        "above 0 up to 200 Hz; empty for one frequency",
    ),
    Column("intensity_ma", "Stimulation intensity", "number", "0-50 mA"),
    Column("minutes", "Stimulation time", "integer", "above 0 up to 120 minutes"),
    Column("device", "Stimulator device", "text"),
)
EVENT_COLUMNS: tuple[Column, ...] = (
    *_VISIT_KEYS,
    Column("event_id", "Adverse event id", "integer"),
    Column("recorded_at", "When the event was recorded", "date-time (ISO 8601, UTC)"),
    Column("kind", "What happened", "text", _choices(lists.ids(lists.ADVERSE_EVENT_KINDS))),
    Column("severity", "Severity", "text", _choices(lists.ids(lists.ADVERSE_SEVERITIES))),
    Column("action", "Action taken", "text"),
    Column("note", "Description", "text"),
    Column("patient_told", "What the patient was told", "text"),
)
AMENDMENT_COLUMNS: tuple[Column, ...] = (
    *_VISIT_KEYS,
    Column("amendment_id", "Amendment id", "integer"),
    Column("created_at", "When the amendment was made", "date-time (ISO 8601, UTC)"),
    Column("author", "Practitioner who amended", "text"),
    Column("field", "Visit field corrected (a column of visits.csv)", "text"),
    Column("original", "Value as signed", "text"),
    Column("corrected", "Corrected value", "text"),
    Column("reason", "Reason for the amendment", "text"),
)
DICTIONARY_COLUMNS: tuple[Column, ...] = (
    Column("file", "CSV file name", "text"),
    Column("column", "Column name (first row of the file)", "text"),
    Column("meaning", "What the column holds", "text"),
    Column("type", "Value type", "text"),
    Column("allowed", "Allowed values or units", "text"),
)
CSV_TABLES: dict[str, tuple[Column, ...]] = {
    "visits.csv": VISIT_COLUMNS,
    "marks.csv": MARK_COLUMNS,
    "ea_pairs.csv": EA_COLUMNS,
    "adverse_events.csv": EVENT_COLUMNS,
    "amendments.csv": AMENDMENT_COLUMNS,
    "data_dictionary.csv": DICTIONARY_COLUMNS,
}


def guard_cell(text: str) -> str:
    """Neutralise a text cell a spreadsheet would run as a formula (OWASP ASVS 1.2.10)."""
    return "'" + text if text.startswith(_INJECTION_STARTS) else text


def _cell(value: Any) -> str:
    """A value as written to CSV: numbers stay numeric, text is guarded against formulas."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, date):
        return value.isoformat()
    return guard_cell(str(value))


def _field_value(name: str, value: Any) -> Any:
    kind = FIELDS[name].kind
    if kind == "choices":
        return "; ".join(value or [])
    if kind == "psfs":
        return "; ".join(f"{item['activity']}={item['score']}" for item in value or [])
    return value


def _signature_cell(session: Session, visit: Visit) -> str:
    """ "valid", "ALTERED: ..." (checked now, so an altered visit is never exported as signed),
    or "" for a draft."""
    if visit.status != VisitStatus.SIGNED.value:
        return ""
    problem = signatures.signature_problem(session, visit.id)
    return "valid" if problem is None else f"ALTERED: {problem}"


def _write_table(path: Path, columns: Sequence[Column], rows: Iterable[dict[str, Any]]) -> Path:
    names = [c.name for c in columns]
    # utf-8-sig writes a BOM so spreadsheets detect UTF-8; the csv module quotes per RFC 4180.
    with atomic_writer(path, newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(names)
        for row in rows:
            writer.writerow([_cell(row.get(name)) for name in names])
    return path


def _csv_rows(
    session: Session, patients: Sequence[Patient], bodymap: BodyMap
) -> dict[str, list[dict[str, Any]]]:
    practitioners = {p.id: p.display_name for p in session.scalars(select(Practitioner))}
    tables: dict[str, list[dict[str, Any]]] = {name: [] for name in CSV_TABLES}
    for patient in patients:
        for visit in _visits(session, patient.id):
            keys = {"chart_number": patient.chart_number, "visit_id": visit.id}
            tables["visits.csv"].append(
                {
                    **keys,
                    "number": visit.number,
                    "started_at": visit.started_at,
                    "practitioner": practitioners.get(visit.practitioner_id, ""),
                    "status": visit.status,
                    "signed_at": visit.signed_at,
                    "content_hash": visit.content_hash,
                    "signature": _signature_cell(session, visit),
                    **{name: _field_value(name, getattr(visit, name)) for name in FIELDS},
                }
            )
            for mark in _marks(session, visit.id):
                pinyin, english = _point_names(bodymap, mark.point_code)
                tables["marks.csv"].append(
                    {
                        **keys,
                        "mark_id": mark.id,
                        **{
                            c: getattr(mark, c)
                            for c in (
                                "kind",
                                "point_code",
                                "side",
                                "view",
                                "x",
                                "y",
                                "location_variant",
                                "technique",
                                "depth_mm",
                                "response",
                                "note",
                                "cup_type",
                                "cup_count",
                                "cup_minutes",
                                "skin_response",
                                "skin",
                            )
                        },
                        "pinyin": pinyin,
                        "english": english,
                        "muscle": mark.muscle_id,
                        "muscle_name": _muscle_name(bodymap, mark.muscle_id),
                    }
                )
            for pair in _pairs(session, visit.id):
                tables["ea_pairs.csv"].append(
                    {
                        **keys,
                        "pair_id": pair.id,
                        **{c.name: getattr(pair, c.name) for c in EA_COLUMNS[3:]},
                    }
                )
            for event in _events(session, visit.id):
                tables["adverse_events.csv"].append(
                    {
                        **keys,
                        "event_id": event.id,
                        "recorded_at": event.created_at,
                        "kind": event.kind,
                        "severity": event.severity,
                        "action": event.action,
                        "note": event.note,
                        "patient_told": event.patient_told,
                    }
                )
            for amendment in _amendments(session, visit.id):
                tables["amendments.csv"].append(
                    {
                        **keys,
                        "amendment_id": amendment.id,
                        "created_at": amendment.created_at,
                        "author": practitioners.get(amendment.author_id, ""),
                        "field": amendment.field,
                        "original": amendment.original,
                        "corrected": amendment.corrected,
                        "reason": amendment.reason,
                    }
                )
    tables["data_dictionary.csv"] = [
        {"file": file, "column": c.name, "meaning": c.meaning, "type": c.type, "allowed": c.allowed}
        for file, columns in CSV_TABLES.items()
        for c in columns
    ]
    return tables


def write_csv(
    session: Session,
    patient_ids: Iterable[int],
    folder: Path,
    bodymap: BodyMap | None = None,
) -> list[Path]:
    """Write the CSV tables and their data dictionary into ``folder``; return the paths.

    Files: visits, marks, ea_pairs, adverse_events, amendments and data_dictionary (``.csv``),
    UTF-8 with a BOM, RFC 4180 quoting, text cells guarded against formula injection.
    """
    require(session, Permission.EXPORT)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tables = _csv_rows(session, _patients(session, patient_ids), bodymap or load_bodymap())
    return [_write_table(folder / name, CSV_TABLES[name], tables[name]) for name in CSV_TABLES]


def read_csv_rows(path: Path, *, raw: bool = False) -> list[dict[str, str]]:
    """Rows of an exported CSV file as dicts of strings.

    Unless ``raw``, the injection guard is undone (one leading ``'`` removed), so the
    values are the ones that were exported.
    """
    with Path(path).open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if raw:
        return rows
    return [{k: v[1:] if v.startswith("'") else v for k, v in row.items()} for row in rows]


# -- FHIR R4B ------------------------------------------------------------------------------------
def fhir_uuid(kind: str, *key: object) -> str:
    """The stable ``urn:uuid:`` of one exported resource (uuid5 of its kind and our ids)."""
    name = "/".join([kind, *(str(k) for k in key)])
    return f"urn:uuid:{uuid.uuid5(UUID_NAMESPACE, name)}"


def _ref(full_url: str) -> dict[str, str]:
    return {"reference": full_url}


def _entry(full_url: str, resource: dict[str, Any]) -> dict[str, Any]:
    # The resource id repeats the uuid, so the resource keeps its identity outside the bundle.
    head = {"resourceType": resource["resourceType"], "id": full_url.removeprefix("urn:uuid:")}
    return {"fullUrl": full_url, "resource": {**head, **resource}}


def _patient_resource(patient: Patient) -> dict[str, Any]:
    names: list[dict[str, Any]] = [
        {"use": "official", "family": patient.family_name, "given": [patient.given_name]}
    ]
    if patient.preferred_name and patient.preferred_name != patient.given_name:
        names.append({"use": "usual", "given": [patient.preferred_name]})
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [
            {"use": "usual", "system": CHART_NUMBER_SYSTEM, "value": patient.chart_number}
        ],
        "active": patient.deleted_at is None,
        "name": names,
        "gender": GENDER.get(patient.sex, "unknown"),
    }
    telecom = [
        {"system": system, "value": value}
        for system, value in (("phone", patient.phone), ("email", patient.email))
        if value
    ]
    if telecom:
        resource["telecom"] = telecom
    if patient.date_of_birth is not None:
        resource["birthDate"] = patient.date_of_birth.isoformat()
    if patient.address:
        resource["address"] = [{"text": patient.address}]
    return resource


def _practitioner_resource(practitioner: Practitioner) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Practitioner",
        "name": [{"text": practitioner.name}],
    }
    if practitioner.licence_number:
        resource["identifier"] = [
            {
                "type": {"text": "Licence number"},
                "system": LICENCE_SYSTEM,
                "value": practitioner.licence_number,
            }
        ]
    if practitioner.credentials:
        resource["qualification"] = [{"code": {"text": practitioner.credentials}}]
    return resource


def _acupoint_site(mark: Mark, bodymap: BodyMap) -> dict[str, Any]:
    code = mark.point_code or ""
    pinyin, _ = _point_names(bodymap, code)
    display = f"{code} {_plain(pinyin)}".strip()
    return {
        "coding": [{"system": ACUPOINT_SYSTEM, "code": code, "display": display}],
        "text": LATERALITY.get(mark.side, mark.side),
    }


def _other_mark_text(mark: Mark, bodymap: BodyMap) -> str:
    side = LATERALITY.get(mark.side, mark.side)
    if mark.kind == MarkKind.TRIGGER_POINT.value:
        return f"Trigger point, {_muscle_name(bodymap, mark.muscle_id) or mark.muscle_id} ({side})"
    if mark.kind == MarkKind.CUPPING.value:
        details = [mark.cup_type]
        if mark.cup_count is not None:
            details.append(f"{mark.cup_count} cups")
        if mark.cup_minutes is not None:
            details.append(f"{mark.cup_minutes} min")
        extra = ", ".join(d for d in details if d)
        return f"Cupping site ({side})" + (f": {extra}" if extra else "")
    return f"Ashi point ({side})"


def _procedure_resource(
    visit: Visit,
    marks: Sequence[Mark],
    has_ea: bool,
    bodymap: BodyMap,
    refs: dict[str, Any],
) -> dict[str, Any]:
    needled = [m for m in marks if m.kind != MarkKind.CUPPING.value]
    electro = has_ea or any(m.technique == "electro" for m in marks)
    manual = any(m.technique == "manual" for m in marks)
    codings = []
    if electro:
        codings.append({"system": CPT_SYSTEM, "code": CPT_ELECTRO})
    elif manual:
        codings.append({"system": CPT_SYSTEM, "code": CPT_MANUAL})
    code: dict[str, Any] = {"text": "Acupuncture" if needled else "Cupping therapy"}
    if codings:
        code["coding"] = codings
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "status": "completed",
        "code": code,
        "subject": _ref(refs["patient"]),
        "encounter": _ref(refs["encounter"]),
        "performedDateTime": _utc(visit.started_at),
        "performer": [{"actor": _ref(refs["practitioner"])}],
    }
    if refs["conditions"]:
        resource["reasonReference"] = [_ref(u) for u in refs["conditions"]]
    sites = [_acupoint_site(m, bodymap) for m in marks if m.kind == MarkKind.ACUPOINT.value]
    if sites:
        resource["bodySite"] = sites
    others = [_other_mark_text(m, bodymap) for m in marks if m.kind != MarkKind.ACUPOINT.value]
    if others:
        resource["note"] = [{"text": "Also treated: " + "; ".join(others)}]
    return resource


def _pain_resource(visit: Visit, value: int, when: str, refs: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {
                "coding": [
                    {"system": OBSERVATION_CATEGORY_SYSTEM, "code": "survey", "display": "Survey"}
                ]
            }
        ],
        "code": {
            "coding": [{"system": LOINC_SYSTEM, "code": PAIN_LOINC, "display": PAIN_LOINC_DISPLAY}],
            "text": f"Pain severity (0-10), {when} treatment",
        },
        "subject": _ref(refs["patient"]),
        "encounter": _ref(refs["encounter"]),
        # The chart records the visit's start only; both scores carry it, the note tells them apart.
        "effectiveDateTime": _utc(visit.started_at),
        "valueInteger": value,
        "note": [{"text": f"{when.capitalize()} treatment"}],
    }


def _condition_resource(code: str, visit: Visit, refs: dict[str, Any]) -> dict[str, Any]:
    labels = {c.id: c.label for c in lists.ICD10_CODES}
    coding: dict[str, str] = {"system": ICD10CM_SYSTEM, "code": code}
    if code in labels:
        coding["display"] = labels[code]
    return {
        "resourceType": "Condition",
        "category": [
            {
                "coding": [
                    {
                        "system": CONDITION_CATEGORY_SYSTEM,
                        "code": "encounter-diagnosis",
                        "display": "Encounter Diagnosis",
                    }
                ]
            }
        ],
        "code": {"coding": [coding], "text": labels.get(code, code)},
        "subject": _ref(refs["patient"]),
        "encounter": _ref(refs["encounter"]),
        "recordedDate": _utc(visit.started_at),
        "recorder": _ref(refs["practitioner"]),
    }


def patient_bundle(session: Session, patient_id: int, bodymap: BodyMap) -> dict[str, Any]:
    """A FHIR R4B ``collection`` Bundle (as JSON-ready dict) of one patient's record.

    Raises:
        ServiceError: the patient does not exist.
    """
    require(session, Permission.EXPORT)
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise ServiceError("That patient no longer exists.")
    visits = _visits(session, patient_id)
    patient_url = fhir_uuid("Patient", patient.id)
    entries = [_entry(patient_url, _patient_resource(patient))]
    practitioner_ids = sorted(
        {v.practitioner_id for v in visits} | {v.signed_by_id for v in visits if v.signed_by_id}
    )
    for practitioner_id in practitioner_ids:
        practitioner = session.get(Practitioner, practitioner_id)
        if practitioner is not None:
            entries.append(
                _entry(
                    fhir_uuid("Practitioner", practitioner_id), _practitioner_resource(practitioner)
                )
            )
    for visit in visits:
        encounter_url = fhir_uuid("Encounter", visit.id)
        codes = list(dict.fromkeys(visit.icd10_codes or []))
        refs: dict[str, Any] = {
            "patient": patient_url,
            "encounter": encounter_url,
            "practitioner": fhir_uuid("Practitioner", visit.practitioner_id),
            "conditions": [fhir_uuid("Condition", visit.id, code) for code in codes],
        }
        encounter: dict[str, Any] = {
            "resourceType": "Encounter",
            "status": "finished" if visit.status == VisitStatus.SIGNED.value else "in-progress",
            "class": {"system": ACT_CODE_SYSTEM, "code": "AMB", "display": "ambulatory"},
            "subject": _ref(patient_url),
            "participant": [
                {
                    "type": [
                        {
                            "coding": [
                                {
                                    "system": PARTICIPATION_TYPE_SYSTEM,
                                    "code": "PPRF",
                                    "display": "primary performer",
                                }
                            ]
                        }
                    ],
                    "individual": _ref(refs["practitioner"]),
                }
            ],
            "period": {"start": _utc(visit.started_at)},
        }
        if visit.chief_complaint:
            encounter["reasonCode"] = [{"text": visit.chief_complaint}]
        if refs["conditions"]:
            encounter["diagnosis"] = [{"condition": _ref(u)} for u in refs["conditions"]]
        entries.append(_entry(encounter_url, encounter))
        for code, url in zip(codes, refs["conditions"], strict=True):
            entries.append(_entry(url, _condition_resource(code, visit, refs)))
        marks = _marks(session, visit.id)
        if marks:
            procedure = _procedure_resource(
                visit, marks, bool(_pairs(session, visit.id)), bodymap, refs
            )
            entries.append(_entry(fhir_uuid("Procedure", visit.id), procedure))
        for when, value in (("before", visit.pain_now), ("after", visit.pain_after)):
            if value is not None:
                url = fhir_uuid("Observation", "pain", when, visit.id)
                entries.append(_entry(url, _pain_resource(visit, value, when, refs)))
    return {
        "resourceType": "Bundle",
        "id": fhir_uuid("Bundle", patient.id).removeprefix("urn:uuid:"),
        "type": "collection",
        "entry": entries,
    }


def _format_error(error: Any) -> str:
    location = ".".join(str(part) for part in error.get("loc", ())) or "bundle"
    return f"{location}: {error.get('msg', 'invalid')}"


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def _codings(concept: Any) -> list[dict[str, Any]]:
    if not isinstance(concept, dict):
        return []
    return [c for c in concept.get("coding") or [] if isinstance(c, dict)]


def _check_observation(where: str, resource: dict[str, Any]) -> list[str]:
    problems = []
    codes = [(c.get("system"), c.get("code")) for c in _codings(resource.get("code"))]
    if (LOINC_SYSTEM, PAIN_LOINC) not in codes:
        found = ", ".join(f"{s}|{c}" for s, c in codes) or "no coding"
        problems.append(f"{where}: a pain score must be coded LOINC {PAIN_LOINC} (found {found}).")
    value = resource.get("valueInteger")
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(f"{where}: a pain score must be a valueInteger.")
    elif not 0 <= value <= 10:
        problems.append(f"{where}: pain score {value} is outside 0-10.")
    return problems


def _check_condition(where: str, resource: dict[str, Any]) -> list[str]:
    problems = []
    known = lists.ids(lists.ICD10_CODES)
    codings = _codings(resource.get("code"))
    if not any(c.get("system") == ICD10CM_SYSTEM for c in codings):
        problems.append(f"{where}: the diagnosis has no ICD-10-CM coding ({ICD10CM_SYSTEM}).")
    for coding in codings:
        code = coding.get("code")
        if coding.get("system") != ICD10CM_SYSTEM:
            continue
        if code in lists.DELETED_ICD10:
            problems.append(f"{where}: ICD-10-CM {code} is a deleted code.")
        elif code not in known:
            problems.append(f"{where}: ICD-10-CM {code} is not in the clinic's code list.")
    return problems


def _check_body_sites(where: str, resource: dict[str, Any], bodymap: BodyMap) -> list[str]:
    problems = []
    for index, site in enumerate(resource.get("bodySite") or []):
        at = f"{where} bodySite {index}"
        codings = _codings(site)
        if not codings:
            problems.append(f"{at}: no acupoint coding.")
        for coding in codings:
            system, code = coding.get("system"), coding.get("code")
            if system != ACUPOINT_SYSTEM:
                problems.append(f"{at}: coding system {system} is not {ACUPOINT_SYSTEM}.")
                continue
            try:
                point = bodymap.point(str(code))
            except KeyError:
                problems.append(f"{at}: {code} is not an acupoint of the catalog.")
                continue
            text = site.get("text") if isinstance(site, dict) else None
            allowed = ("midline",) if point.laterality == "midline" else ("left", "right")
            if text not in allowed:
                problems.append(f"{at}: laterality {text!r} should be one of {', '.join(allowed)}.")
    return problems


def validate_bundle(bundle: dict[str, Any], bodymap: BodyMap) -> list[str]:
    """Problems of an exported bundle, as readable lines; empty when it is valid.

    Checks the R4B structure with fhir.resources, then our own rules, which fhir.resources
    does not check (reliability.md §4.2): pain scores are LOINC 72514-3 integers 0-10;
    diagnoses are current ICD-10-CM codes from our list; acupoint codings use our CodeSystem
    and catalog codes with a laterality; fullUrls are unique ``urn:uuid``; references resolve.
    """
    from fhir.resources.R4B.bundle import Bundle  # heavy import, only needed here

    problems: list[str] = []
    try:
        Bundle.model_validate(bundle)
    except pydantic.ValidationError as error:
        problems.extend(_format_error(e) for e in error.errors())
    except (ValueError, TypeError) as error:
        problems.append(f"bundle: {error}")
    if bundle.get("type") != "collection":
        problems.append("bundle: type must be 'collection'.")
    entries = [e for e in bundle.get("entry") or [] if isinstance(e, dict)]
    urls: set[str] = set()
    for index, entry in enumerate(entries):
        url = entry.get("fullUrl")
        if not isinstance(url, str) or not _URN_UUID.match(url):
            problems.append(f"entry {index}: fullUrl {url!r} is not a urn:uuid.")
        elif url in urls:
            problems.append(f"entry {index}: fullUrl {url} is used twice.")
        else:
            urls.add(url)
    for index, entry in enumerate(entries):
        resource = entry.get("resource")
        if not isinstance(resource, dict):
            problems.append(f"entry {index}: no resource.")
            continue
        kind = resource.get("resourceType")
        where = f"entry {index} ({kind})"
        if kind == "Observation":
            problems.extend(_check_observation(where, resource))
        elif kind == "Condition":
            problems.extend(_check_condition(where, resource))
        elif kind == "Procedure":
            problems.extend(_check_body_sites(where, resource, bodymap))
        for reference in _references(resource):
            if reference not in urls:
                problems.append(f"{where}: reference {reference} does not resolve in the bundle.")
    return problems


def write_fhir(
    session: Session, patient_ids: Iterable[int], folder: Path, bodymap: BodyMap
) -> list[Path]:
    """Write one ``<chart number>.fhir.json`` Bundle per patient into ``folder``.

    Every bundle is built and validated before any file is written.

    Raises:
        ServiceError: a bundle fails validation (its problems are listed); nothing is written.
    """
    require(session, Permission.EXPORT)
    folder = Path(folder)
    bundles = []
    for patient in _patients(session, patient_ids):
        bundle = patient_bundle(session, patient.id, bodymap)
        problems = validate_bundle(bundle, bodymap)
        if problems:
            raise ServiceError(
                f"The FHIR export of chart {patient.chart_number} is not valid, so it was not "
                "written:\n" + "\n".join(problems)
            )
        bundles.append((patient.chart_number, bundle))
    folder.mkdir(parents=True, exist_ok=True)
    return [
        atomic_write_text(
            folder / f"{chart}.fhir.json",
            json.dumps(bundle, indent=2, ensure_ascii=False) + "\n",
        )
        for chart, bundle in bundles
    ]


# -- README ----------------------------------------------------------------------------------------
_README_INTRO = """\
Charting data export
====================

This folder holds patient records exported from Charting. It contains personal health
information: store and send it only as your privacy obligations allow, and delete copies you
no longer need.

All times are in UTC (ISO 8601, for example 2025-03-01T09:30:00Z). Dates of birth and
expiry dates are plain dates (YYYY-MM-DD).

audit-anchor.json records the newest entry of the clinic's audit log when this export was
made (its number and keyed hash). Keep it: `charting audit verify --anchor audit-anchor.json`
later shows whether the log still reaches that entry unchanged.
"""

_README_CSV = """\
CSV tables
----------
Files: {files}.

One row per visit (visits.csv), per body-map mark (marks.csv), per electroacupuncture pair
(ea_pairs.csv), per adverse event (adverse_events.csv) and per amendment of a signed visit
(amendments.csv). Rows are linked by chart_number, visit_id and mark_id. Signed visits show
the values as signed; corrections are in amendments.csv.

Every column of every file, with its meaning, type and allowed values or units, is listed in
data_dictionary.csv.

Encoding: UTF-8 with a byte-order mark, comma-separated, quoted as in RFC 4180, CRLF line
ends. Lists inside one cell are separated by "; "; PSFS items are written "activity=score".

Formula-injection guard (OWASP ASVS 1.2.10): a text cell that begins with =, +, -, @, a tab,
a carriage return, a NUL or an apostrophe is written with one extra apostrophe (') in front,
so a spreadsheet shows it as text instead of running it. Remove that one apostrophe to get
the stored value. Numeric columns (for example x, y, depth_mm) are written as plain numbers
and are never prefixed.
"""

_README_PDF = """\
PDF documents
-------------
Files: <chart number>.pdf, one per patient: the course report (visits of the period, pain
and outcome trends, points used, plan against sessions done) followed by every visit's
treatment summary (SOAP, STRICTA details, body map, safety acknowledgements, signature and
amendments). Signed visits print their SHA-256 content hash; drafts say DRAFT.

"""

_README_FHIR = """\
FHIR bundles
------------
Files: <chart number>.fhir.json, one per patient.

Each file is a FHIR R4B (4.3.0) Bundle of type "collection" in JSON ({spec}). Every entry has
a fullUrl "urn:uuid:..." (stable: the same record exports with the same ids), and references
point to those fullUrls inside the same file.

  Patient       identifier = chart number (system {chart}); name, birthDate, gender, telecom.
  Practitioner  identifier = licence number (system {licence}); name; qualification text.
  Encounter     one per visit: status finished (signed) or in-progress (draft); class AMB;
                period.start; participant; diagnosis -> Condition.
  Condition     one per diagnosis of a visit, category encounter-diagnosis, coded in
                ICD-10-CM ({icd}). The deleted code M54.5 is never exported.
  Procedure     one per visit with marks: status completed, code text "Acupuncture" with a
                CPT coding ({cpt}): {manual} manual or {electro} electroacupuncture, initial
                15 minutes; add-on codes are not given because contact time is not recorded.
                One bodySite per acupoint needled, coded in our own CodeSystem
                {acupoint}
                (code = WHO standard acupuncture point code, e.g. BL23; display "BL23 Shenshu"),
                with text left, right or midline. Trigger points, ashi points and cupping sites
                are described in Procedure.note.
  Observation   pain before and after treatment: status final, category survey, LOINC
                {loinc} "{loinc_display}", valueInteger 0-10; the note says "Before
                treatment" or "After treatment".

Each bundle was checked before it was written: structure with the fhir.resources R4B models,
plus pain scores 0-10 with LOINC {loinc}, ICD-10-CM codes from a current list, acupoint codes
from our catalogue, unique fullUrls and resolvable references.
"""


def write_export_readme(folder: Path, formats: Iterable[str]) -> Path:
    """Write ``README.txt`` describing the export formats present in ``folder``.

    Raises:
        ValidationError: an unknown format is named.
    """
    wanted = list(dict.fromkeys(formats))
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown:
        raise ValidationError({"formats": "Unknown export format: " + ", ".join(unknown)})
    parts = [_README_INTRO]
    if "pdf" in wanted:
        parts.append(_README_PDF)
    if "csv" in wanted:
        parts.append(_README_CSV.format(files=", ".join(CSV_TABLES)))
    if "fhir" in wanted:
        parts.append(
            _README_FHIR.format(
                spec=FHIR_R4B_SPEC,
                chart=CHART_NUMBER_SYSTEM,
                licence=LICENCE_SYSTEM,
                icd=ICD10CM_SYSTEM,
                cpt=CPT_SYSTEM,
                manual=CPT_MANUAL,
                electro=CPT_ELECTRO,
                acupoint=ACUPOINT_SYSTEM,
                loinc=PAIN_LOINC,
                loinc_display=PAIN_LOINC_DISPLAY,
            )
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(folder / "README.txt", "\n".join(parts))
