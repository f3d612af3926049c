"""Data exports: CSV tables with a data dictionary, FHIR R4B bundles, and the export README.

Every file is written to a temporary name in the target folder and renamed into place, so a
failed export never leaves a half-written file, and plaintext PHI never passes through the
system's temporary folder. Output is deterministic: rows are sorted and
FHIR ids are uuid5 values derived from our database ids, so two exports of the same data are
byte-for-byte identical.

Choices made here:

* **Formula injection (OWASP ASVS 1.2.10).** A *text* cell starting with ``=``, ``+``, ``-``,
  ``@``, tab, carriage return or NUL is prefixed with ``'``. So is a text cell that already
  starts with ``'``, which makes the guard reversible: :func:`read_csv_rows` strips exactly one
  leading ``'``. Numbers we write ourselves (ints and floats from numeric columns) are never
  prefixed, so a negative coordinate stays numeric: a number cannot carry a formula.
* **Times are UTC** (ISO 8601 with a ``Z``); dates of birth and expiry dates are plain dates.
* **FHIR** follows HL7 FHIR R4B: Patient, Practitioner, Encounter, Procedure (one per
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
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache, partial
from pathlib import Path
from typing import IO, Any

import pydantic
from sqlalchemy import select
from sqlalchemy.orm import Session

from charting.bodymap import BodyMap
from charting.bodymap import regions as body_regions
from charting.models import (
    AdverseEvent,
    EAPair,
    Mark,
    MarkKind,
    PainSummary,
    Patient,
    Practitioner,
    Visit,
    VisitStatus,
)
from charting.services import clinical_lists as lists
from charting.services import csv_tables
from charting.services.access import Permission, require
from charting.services.csv_tables import Column
from charting.services.errors import ServiceError, ValidationError
from charting.services.patients import search_patient_ids

# -- canonical URLs ----------------------------------------------------------------------------
CHARTING_FHIR_BASE = "https://charting.example/fhir"
# There is no HL7 or SNOMED code system for acupoints (none in HL7's terminology): the WHO
# alphanumeric codes are published as our own local CodeSystem.
ACUPOINT_SYSTEM = f"{CHARTING_FHIR_BASE}/CodeSystem/acupoint"
#: The clinic's own points: a code system of their own, so no reader takes one for a standard
#: (WHO) acupoint code.
CUSTOM_POINT_SYSTEM = f"{CHARTING_FHIR_BASE}/CodeSystem/clinic-custom-point"
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

FLAG_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/flag-category"
ALLERGY_CLINICAL_SYSTEM = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
AE_SEVERITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
UCUM_SYSTEM = "http://unitsofmeasure.org"
HEALTH_FLAG_SYSTEM = f"{CHARTING_FHIR_BASE}/CodeSystem/health-flag"
OUTCOME_SYSTEM = f"{CHARTING_FHIR_BASE}/CodeSystem/outcome-measure"
# LOINC 97909-6 "Oswestry disability index score ODI", reported as a percent (loinc.org).
ODI_LOINC = "97909-6"
ODI_DISPLAY = "Oswestry disability index score ODI"

PAIN_LOINC = "72514-3"
PAIN_LOINC_DISPLAY = "Pain severity - 0-10 verbal numeric rating [Score] - Reported"
# CPT acupuncture codes, initial 15 minutes ([F8]). Only one initial code
# is reported per day (electro when any needle was stimulated); the add-on codes 97811/97814
# count one-on-one contact time, which the chart does not record, so they are not emitted.
CPT_MANUAL = "97810"
CPT_ELECTRO = "97813"

# Stable FHIR ids: uuid5 of "<kind>/<our id>" in a namespace of our own.
UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, CHARTING_FHIR_BASE)

LATERALITY = {"L": "left", "R": "right", "M": "midline"}
GENDER = {"female": "female", "male": "male", "intersex": "other", "unknown": "unknown"}
FORMATS = ("pdf", "csv", "fhir")

_URN_UUID = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


# -- atomic writes -----------------------------------------------------------------------------
@contextmanager
def atomic_writer(
    path: Path, *, newline: str | None = None, encoding: str = "utf-8", durable: bool = True
) -> Iterator[IO[str]]:
    """Open a temporary text file beside ``path``; on success it replaces ``path`` atomically.

    The temporary file lives in the target folder (so the rename never crosses file systems
    and PHI never lands in the system temp folder) and is created readable by its owner only.
    If the body raises, the temporary file is removed and ``path`` is left untouched.
    ``durable`` False leaves the flush to disk to the caller: a whole export's staging
    folder is synced once before it is renamed into place (see
    :func:`charting.jobs.export.run_export`), where a sync per bundle cost about 4 ms each.
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline=newline) as handle:
            yield handle
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(
    path: Path, text: str, *, encoding: str = "utf-8", durable: bool = True
) -> Path:
    """Write ``text`` to ``path`` through :func:`atomic_writer`; return the path."""
    with atomic_writer(path, newline="", encoding=encoding, durable=durable) as handle:
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


def _utc(value: datetime | None) -> str:
    """ISO 8601 in UTC with a Z, to the second ("2025-03-01T09:30:00Z")."""
    if value is None:
        return ""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


@lru_cache(maxsize=4096)
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
#: The files of the CSV export (the tables of :mod:`charting.services.csv_tables`, then the
#: data dictionary), with their columns.
CSV_TABLES: dict[str, tuple[Column, ...]] = {
    **{t.file: t.columns for t in csv_tables.TABLES},
    "data_dictionary.csv": csv_tables.DICTIONARY,
}
guard_cell = csv_tables.guard_cell


def _write_rows(
    path: Path,
    header: Sequence[str],
    blocks: Iterable[csv_tables.Block],
    durable: bool = True,
) -> Path:
    # A BOM lets spreadsheets detect UTF-8; it is written by hand because the utf-8-sig
    # codec encodes every row through Python (a tenth of the export's time). The csv module
    # quotes per RFC 4180.
    with atomic_writer(path, newline="", encoding="utf-8", durable=durable) as handle:
        handle.write("\ufeff")
        writer = csv_tables.csv_writer(handle)
        writer.writerow(header)
        for block in blocks:
            if isinstance(block, str):
                handle.write(block)  # rows made as CSV text by another process
            else:
                writer.writerows(block)
    return path


def write_csv(
    session: Session,
    patient_ids: Iterable[int] | None,
    folder: Path,
    bodymap: BodyMap | None = None,
    progress: Callable[[str], None] | None = None,
    premade: Callable[[str, int], csv_tables.MadeChunk | None] | None = None,
    durable: bool = True,
) -> list[Path]:
    """Write every table of the CSV export and its data dictionary into ``folder``.

    Each file is read with one statement per chunk of patients and streamed to disk, so
    memory stays flat at any clinic size. ``patient_ids`` None exports every patient.
    ``progress(file)`` is called after each chunk of patients of each file (and after the
    data dictionary): :func:`csv_steps` times in all. Files are UTF-8 with a BOM, RFC 4180
    quoting, text cells guarded against formula injection.

    ``premade(file, n)`` gives a file's n-th chunk made by another process
    (:func:`csv_tables.make_chunk`: the visits with their signatures checked), or None:
    those files are then written last, so that process makes them while this one writes
    the other files.
    ``durable`` False leaves syncing the files to disk to the caller (an export syncs its
    whole folder once).
    """
    require(session, Permission.EXPORT)
    folder = Path(folder)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    ids = None if patient_ids is None else list(patient_ids)
    paths = []
    tables = csv_tables.TABLES
    if premade is not None:
        tables = tuple(sorted(tables, key=lambda t: bool(t.checks)))
    for table in tables:
        made = None if premade is None else partial(premade, table.file)
        step = None if progress is None else partial(progress, table.file)
        blocks = csv_tables.stream_blocks(session, table, ids, bodymap, made, step)
        header = [c.name for c in table.columns]
        paths.append(_write_rows(folder / table.file, header, blocks, durable))
    header = [c.name for c in csv_tables.DICTIONARY]
    dictionary = [csv_tables.dictionary_rows()]
    paths.append(_write_rows(folder / "data_dictionary.csv", header, dictionary, durable))
    if progress:
        progress("data_dictionary.csv")
    return paths


def csv_steps(patient_ids: Sequence[int] | None) -> int:
    """How many times :func:`write_csv` reports progress for these patients: once per
    chunk of patients of each file, and once for the data dictionary (a large clinic's
    export says how far it is within its big files, not only between files)."""
    ids = None if patient_ids is None else list(patient_ids)
    return sum(len(csv_tables.chunks(t, ids)) for t in csv_tables.TABLES) + 1


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
    if bodymap.is_custom(code):
        display = f"{code} {pinyin} (clinic custom point, not a WHO standard point)"
        coding = {"system": CUSTOM_POINT_SYSTEM, "code": code, "display": display}
    else:
        coding = {
            "system": ACUPOINT_SYSTEM,
            "code": code,
            "display": f"{code} {_plain(pinyin)}".strip(),
        }
    return {"coding": [coding], "text": LATERALITY.get(mark.side, mark.side)}


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


# -- health flags, outcomes, EA and adverse events --------------------------------------------
#: Our health flags as FHIR Flag resources (code in our own CodeSystem, text in words). A metal
#: allergy is an AllergyIntolerance instead (below).
_FLAG_TEXTS = {
    "pregnant": "Pregnant",
    "bleeding_disorder": "Bleeding disorder",
    "anticoagulant": "Takes anticoagulants",
    "epilepsy": "Epilepsy",
    "diabetes": "Diabetes",
    "needle_fainting": "Has fainted with needles",
}
_DEVICE_TEXTS = {
    "pacemaker": "Pacemaker",
    "icd": "Implanted defibrillator (ICD)",
    "stimulator": "Implanted nerve or spinal cord stimulator",
    "pump": "Implanted drug pump",
    "other": "Other implanted electrical device",
}
_AE_SEVERITY = {"mild": "mild", "significant": "moderate", "serious": "severe"}


def _flag_resources(patient: Any, patient_url: str) -> list[tuple[str, dict[str, Any]]]:
    """The patient's health flags: Flag resources, and an AllergyIntolerance for metal."""
    out: list[tuple[str, dict[str, Any]]] = []
    flags = [(name, text) for name, text in _FLAG_TEXTS.items() if getattr(patient, name)]
    if patient.implanted_device and patient.implanted_device != "none":
        flags.append(
            (
                f"implanted_device_{patient.implanted_device}",
                "Implanted device: " + _DEVICE_TEXTS.get(patient.implanted_device, "other"),
            )
        )
    for code, text in flags:
        if code == "pregnant" and patient.pregnancy_due_date is not None:
            text += f" (due {patient.pregnancy_due_date.isoformat()})"
        resource: dict[str, Any] = {
            "resourceType": "Flag",
            "status": "active",
            "category": [
                {"coding": [{"system": FLAG_CATEGORY_SYSTEM, "code": "clinical",
                             "display": "Clinical"}]}
            ],
            "code": {"coding": [{"system": HEALTH_FLAG_SYSTEM, "code": code, "display": text}],
                     "text": text},
            "subject": _ref(patient_url),
        }  # fmt: skip
        out.append((fhir_uuid("Flag", patient.id, code), resource))
    if patient.metal_allergy:
        allergy = {
            "resourceType": "AllergyIntolerance",
            "clinicalStatus": {
                "coding": [{"system": ALLERGY_CLINICAL_SYSTEM, "code": "active",
                            "display": "Active"}]
            },
            "category": ["environment"],
            "code": {"text": "Metal (nickel) allergy"},
            "patient": _ref(patient_url),
            "note": [{"text": "Use needles the patient tolerates (e.g. nickel-free)."}],
        }  # fmt: skip
        out.append((fhir_uuid("AllergyIntolerance", patient.id, "metal"), allergy))
    return out


def _survey(code: dict[str, Any], visit: Any, refs: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {"coding": [{"system": OBSERVATION_CATEGORY_SYSTEM, "code": "survey",
                         "display": "Survey"}]}
        ],
        "code": code,
        "subject": _ref(refs["patient"]),
        "encounter": _ref(refs["encounter"]),
        "effectiveDateTime": _utc(visit.started_at),
    }  # fmt: skip


def _outcome_resources(visit: Any, refs: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """ODI (LOINC 97909-6), RMDQ and PSFS of a visit as survey Observations."""
    out = []
    if visit.odi_percent is not None:
        resource = _survey(
            {"coding": [{"system": LOINC_SYSTEM, "code": ODI_LOINC, "display": ODI_DISPLAY}],
             "text": "Oswestry Disability Index (%)"},
            visit,
            refs,
        )  # fmt: skip
        resource["valueQuantity"] = {
            "value": visit.odi_percent, "unit": "%", "system": UCUM_SYSTEM, "code": "%"
        }  # fmt: skip
        out.append((fhir_uuid("Observation", "odi", visit.id), resource))
    if visit.rmdq_score is not None:
        # LOINC has no code for the RMDQ total that we could confirm: our own code, in words.
        resource = _survey(
            {"coding": [{"system": OUTCOME_SYSTEM, "code": "rmdq",
                         "display": "Roland-Morris Disability Questionnaire total (0-24)"}],
             "text": "Roland-Morris Disability Questionnaire (0-24)"},
            visit,
            refs,
        )  # fmt: skip
        resource["valueInteger"] = visit.rmdq_score
        out.append((fhir_uuid("Observation", "rmdq", visit.id), resource))
    items = [i for i in visit.psfs or [] if isinstance(i, dict)]
    if items:
        resource = _survey(
            {"coding": [{"system": OUTCOME_SYSTEM, "code": "psfs",
                         "display": "Patient-Specific Functional Scale"}],
             "text": "Patient-Specific Functional Scale (0 unable - 10 as before)"},
            visit,
            refs,
        )  # fmt: skip
        resource["component"] = [
            {"code": {"text": str(i.get("activity", ""))}, "valueInteger": int(i.get("score", 0))}
            for i in items
        ]
        out.append((fhir_uuid("Observation", "psfs", visit.id), resource))
    return out


def _pain_drawing_resource(
    visit: Any, measures: dict[str, Any], refs: dict[str, Any]
) -> dict[str, Any]:
    """The measures of a visit's pain drawing as one Observation: the extent as its value,
    each leg's furthest reach, the overlap with and change since the previous and the first
    drawings, and the share of each region, as components (LOINC has no codes for pain
    drawing measures that we could confirm: our own codes, in words)."""
    resource = _survey(
        {"coding": [{"system": OUTCOME_SYSTEM, "code": "pain-drawing",
                     "display": "Pain drawing: extent of the body shown that is shaded"}],
         "text": "Pain drawing (extent, % of the body shown)"},
        visit,
        refs,
    )  # fmt: skip
    resource["valueQuantity"] = {
        "value": measures.get("extent_percent", 0.0), "unit": "%", "system": UCUM_SYSTEM,
        "code": "%",
    }  # fmt: skip

    def component(code: str, text: str, **value: Any) -> dict[str, Any]:
        return {"code": {"coding": [{"system": OUTCOME_SYSTEM, "code": code}], "text": text},
                **value}  # fmt: skip

    components = []
    for side, leg in (("L", "left"), ("R", "right")):
        level = (measures.get("furthest") or {}).get(side, "none")
        words = body_regions.EXTENT_LABELS.get(level, level)
        components.append(
            component(f"furthest-{leg}", f"Furthest extent down the {leg} leg",
                      valueCodeableConcept={"text": words})
        )  # fmt: skip
    if measures.get("overlap_previous") is not None:
        components.append(
            component("overlap-previous", "Overlap with the previous drawing (Jaccard index)",
                      valueQuantity={"value": measures["overlap_previous"], "unit": "1",
                                     "system": UCUM_SYSTEM, "code": "1"})
        )  # fmt: skip
    for key, text in (("since_previous", "since the previous drawing"),
                      ("since_first", "since the first drawing")):  # fmt: skip
        if measures.get(key):
            components.append(
                component(key.replace("_", "-"), f"Change {text}", valueString=measures[key])
            )
    for key, share in sorted((measures.get("regions") or {}).items()):
        if share:
            region, _, side = key.partition(":")
            components.append(
                component(f"region-{region}-{side}",
                          f"{body_regions.REGION_LABELS.get(region, region)}, {side}: shaded",
                          valueQuantity={"value": share, "unit": "%", "system": UCUM_SYSTEM,
                                         "code": "%"})
            )  # fmt: skip
    resource["component"] = components
    hints = measures.get("dermatome_hints") or []
    if hints:
        resource["note"] = [{"text": f"{h} (not a diagnosis)"} for h in hints]
    return resource


def _ea_note(pairs: Sequence[Any], marks_by_id: dict[int, Any], bodymap: BodyMap) -> str:
    """The electroacupuncture pairs with their stimulation, for Procedure.note."""
    parts = []
    for pair in pairs:
        ends = []
        for mark_id in (pair.mark_a_id, pair.mark_b_id):
            mark = marks_by_id.get(mark_id)
            if mark is None:
                ends.append("?")
            elif mark.point_code:
                ends.append(f"{mark.point_code} ({LATERALITY.get(mark.side, mark.side)})")
            else:
                ends.append(_other_mark_text(mark, bodymap))
        settings = [
            pair.waveform,
            f"{pair.frequency_hz:g} Hz" if pair.frequency_hz is not None else "",
            f"{pair.intensity_ma:g} mA" if pair.intensity_ma is not None else "",
            f"{pair.minutes} min" if pair.minutes is not None else "",
            pair.device,
        ]
        detail = ", ".join(x for x in settings if x)
        parts.append(f"{ends[0]} - {ends[1]}" + (f": {detail}" if detail else ""))
    return "Electroacupuncture: " + "; ".join(parts)


def _adverse_event_resource(event: Any, visit: Any, refs: dict[str, Any]) -> dict[str, Any]:
    kinds = {c.id: c.label for c in lists.ADVERSE_EVENT_KINDS}
    text = kinds.get(event.kind, event.kind)
    if event.note:
        text += f": {event.note}"
    if event.action:
        text += f". Action taken: {event.action}"
    severity = _AE_SEVERITY.get(event.severity, "moderate")
    return {
        "resourceType": "AdverseEvent",
        "actuality": "actual",
        "event": {"text": text},
        "subject": _ref(refs["patient"]),
        "encounter": _ref(refs["encounter"]),
        "date": _utc(visit.started_at),
        "recordedDate": _utc(event.created_at),
        "severity": {
            "coding": [{"system": AE_SEVERITY_SYSTEM, "code": severity,
                        "display": severity.capitalize()}]
        },
        "recorder": _ref(refs["practitioner"]),
    }  # fmt: skip


# -- building bundles, set-based ------------------------------------------------------------------
#: Patients whose records are read with one statement per table.
BUNDLE_CHUNK = 500


def _rows_by(
    session: Session, table: Any, column: Any, keys: Sequence[int], order: Any
) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = {}
    if not keys:
        return grouped
    statement = select(table).where(column.in_(keys)).order_by(column, *order)
    for row in session.execute(statement):
        grouped.setdefault(getattr(row, column.key), []).append(row)
    return grouped


def iter_bundles(
    session: Session, patient_ids: Iterable[int], bodymap: BodyMap
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(chart number, bundle)`` for each patient, in chart-number order.

    Each chunk of patients is read with one statement per table (patients, visits, marks,
    EA pairs, adverse events), not a query per visit.
    """
    require(session, Permission.EXPORT)
    practitioners = {p.id: p for p in session.execute(select(Practitioner.__table__))}
    ids = sorted(set(patient_ids))
    patient_table = Patient.__table__
    for start in range(0, len(ids), BUNDLE_CHUNK):
        chunk = ids[start : start + BUNDLE_CHUNK]
        patients = list(
            session.execute(
                select(patient_table)
                .where(patient_table.c.id.in_(chunk))
                .order_by(patient_table.c.chart_number)
            )
        )
        visits = _rows_by(
            session,
            Visit.__table__,
            Visit.__table__.c.patient_id,
            chunk,
            [Visit.__table__.c.number],
        )
        visit_ids = [v.id for vs in visits.values() for v in vs]
        marks: dict[int, list[Any]] = {}
        pairs: dict[int, list[Any]] = {}
        events: dict[int, list[Any]] = {}
        drawings: dict[int, list[Any]] = {}
        for begin in range(0, len(visit_ids), 5_000):
            part = visit_ids[begin : begin + 5_000]
            marks |= _rows_by(
                session, Mark.__table__, Mark.__table__.c.visit_id, part, [Mark.__table__.c.id]
            )
            pairs |= _rows_by(
                session,
                EAPair.__table__,
                EAPair.__table__.c.visit_id,
                part,
                [EAPair.__table__.c.id],
            )
            events |= _rows_by(
                session, AdverseEvent.__table__, AdverseEvent.__table__.c.visit_id, part,
                [AdverseEvent.__table__.c.id],
            )  # fmt: skip
            drawings |= _rows_by(
                session, PainSummary.__table__, PainSummary.__table__.c.visit_id, part, []
            )
        for patient in patients:
            yield (
                patient.chart_number,
                _bundle(
                    patient,
                    visits.get(patient.id, []),
                    marks,
                    pairs,
                    events,
                    practitioners,
                    bodymap,
                    drawings,
                ),
            )


def _bundle(
    patient: Any,
    visits: Sequence[Any],
    marks: dict[int, list[Any]],
    pairs: dict[int, list[Any]],
    events: dict[int, list[Any]],
    practitioners: dict[int, Any],
    bodymap: BodyMap,
    drawings: dict[int, list[Any]] | None = None,
) -> dict[str, Any]:
    patient_url = fhir_uuid("Patient", patient.id)
    entries = [_entry(patient_url, _patient_resource(patient))]
    entries.extend(_entry(url, resource) for url, resource in _flag_resources(patient, patient_url))
    practitioner_ids = sorted(
        {v.practitioner_id for v in visits} | {v.signed_by_id for v in visits if v.signed_by_id}
    )
    for practitioner_id in practitioner_ids:
        practitioner = practitioners.get(practitioner_id)
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
        visit_marks = marks.get(visit.id, [])
        visit_pairs = pairs.get(visit.id, [])
        if visit_marks:
            procedure = _procedure_resource(visit, visit_marks, bool(visit_pairs), bodymap, refs)
            if visit_pairs:
                by_id = {m.id: m for m in visit_marks}
                procedure.setdefault("note", []).append(
                    {"text": _ea_note(visit_pairs, by_id, bodymap)}
                )
            entries.append(_entry(fhir_uuid("Procedure", visit.id), procedure))
        for when, value in (("before", visit.pain_now), ("after", visit.pain_after)):
            if value is not None:
                url = fhir_uuid("Observation", "pain", when, visit.id)
                entries.append(_entry(url, _pain_resource(visit, value, when, refs)))
        entries.extend(_entry(url, r) for url, r in _outcome_resources(visit, refs))
        for summary in (drawings or {}).get(visit.id, []):
            url = fhir_uuid("Observation", "pain-drawing", visit.id)
            entries.append(_entry(url, _pain_drawing_resource(visit, summary.measures, refs)))
        for event in events.get(visit.id, []):
            url = fhir_uuid("AdverseEvent", event.id)
            entries.append(_entry(url, _adverse_event_resource(event, visit, refs)))
    return {
        "resourceType": "Bundle",
        "id": fhir_uuid("Bundle", patient.id).removeprefix("urn:uuid:"),
        "type": "collection",
        "entry": entries,
    }


def patient_bundle(session: Session, patient_id: int, bodymap: BodyMap) -> dict[str, Any]:
    """A FHIR R4B ``collection`` Bundle (as JSON-ready dict) of one patient's record.

    Raises:
        ServiceError: the patient does not exist.
    """
    for _chart, bundle in iter_bundles(session, [patient_id], bodymap):
        return bundle
    raise ServiceError("That patient no longer exists.")


def _format_error(error: Any) -> str:
    location = ".".join(str(part) for part in error.get("loc", ())) or "bundle"
    return f"{location}: {error.get('msg', 'invalid')}"


def _references(node: Any, found: list[str] | None = None) -> list[str]:
    """Every ``reference`` string under ``node``, in document order (a plain recursion into
    one list: nested generators cost a frame per level for every reference)."""
    found = [] if found is None else found
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                found.append(value)
            elif isinstance(value, dict | list):
                _references(value, found)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, dict | list):
                _references(item, found)
    return found


def _codings(concept: Any) -> list[dict[str, Any]]:
    if not isinstance(concept, dict):
        return []
    return [c for c in concept.get("coding") or [] if isinstance(c, dict)]


def _check_observation(where: str, resource: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    codes = [(c.get("system"), c.get("code")) for c in _codings(resource.get("code"))]
    if (LOINC_SYSTEM, PAIN_LOINC) in codes:
        low, high, value = 0, 10, resource.get("valueInteger")
        label = "a pain score"
    elif (LOINC_SYSTEM, ODI_LOINC) in codes:
        low, high, value = 0, 100, (resource.get("valueQuantity") or {}).get("value")
        label = "an ODI score"
    elif (OUTCOME_SYSTEM, "rmdq") in codes:
        low, high, value = 0, 24, resource.get("valueInteger")
        label = "an RMDQ score"
    elif (OUTCOME_SYSTEM, "pain-drawing") in codes:
        value = (resource.get("valueQuantity") or {}).get("value")
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
            problems.append(f"{where}: a pain drawing's extent {value!r} is not 0-100 %.")
        return problems
    elif (OUTCOME_SYSTEM, "psfs") in codes:
        components = resource.get("component") or []
        if not components:
            problems.append(f"{where}: a PSFS observation has no activities.")
        for index, component in enumerate(components):
            score = component.get("valueInteger") if isinstance(component, dict) else None
            if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
                problems.append(f"{where}: PSFS activity {index} score {score!r} is not 0-10.")
        return problems
    else:
        found = ", ".join(f"{s}|{c}" for s, c in codes) or "no coding"
        return [
            f"{where}: an observation must be a pain score (LOINC {PAIN_LOINC}), ODI (LOINC "
            f"{ODI_LOINC}), RMDQ, PSFS or a pain drawing (found {found})."
        ]
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(f"{where}: {label} must be a whole number.")
    elif not low <= value <= high:
        problems.append(f"{where}: {label} {value} is outside {low}-{high}.")
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
            if system == CUSTOM_POINT_SYSTEM:
                # The clinic's own point: not in the catalog by design; it must not reuse a
                # catalog code, and it says it is custom.
                text = site.get("text") if isinstance(site, dict) else None
                if not code or code in bodymap.catalog_codes:
                    problems.append(f"{at}: custom point code {code!r} is empty or a catalog code.")
                if "custom" not in str(coding.get("display", "")):
                    problems.append(f"{at}: custom point {code} does not say it is custom.")
                if text not in ("midline", "left", "right"):
                    problems.append(f"{at}: laterality {text!r} is not midline, left or right.")
                continue
            if system != ACUPOINT_SYSTEM:
                problems.append(
                    f"{at}: coding system {system} is not {ACUPOINT_SYSTEM} (nor the clinic's "
                    f"custom points, {CUSTOM_POINT_SYSTEM})."
                )
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


@lru_cache(maxsize=256)
def _resource_model(resource_type: str) -> Any:
    """The fhir.resources R4B class of a resource type, None for an unknown type. Looked up
    once per process: validating a Bundle looks up each entry's class by importing its module
    path again (about a tenth of the validation time)."""
    from fhir.resources.R4B import get_fhir_model_class

    try:
        return get_fhir_model_class(resource_type)
    except ValueError:
        return None


def _with_resource_models(bundle: dict[str, Any]) -> dict[str, Any]:
    """``bundle`` with each entry's resource validated by its own R4B class (raising its
    ValidationError), so that the Bundle's own validation takes the model as it is.

    An entry whose resource is not a dict naming a known type is left as it is, for the
    Bundle's validation to judge.
    """
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return bundle
    checked = []
    for entry in entries:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        model = _resource_model(kind) if isinstance(kind, str) else None
        if model is not None:
            entry = {**entry, "resource": model.model_validate(resource)}
        checked.append(entry)
    return {**bundle, "entry": checked}


def _structure_problems(bundle: dict[str, Any]) -> list[str]:
    """fhir.resources R4B's verdict on the bundle's structure, as readable lines.

    Each resource is validated by its own class first and the Bundle then takes the models
    as they are: the same classes check the same data as ``Bundle.model_validate(bundle)``,
    without its per-entry lookup. Whenever that fails, the whole bundle is validated the
    plain way, so the problems (and their locations) are exactly that validation's.
    """
    from fhir.resources.R4B.bundle import Bundle  # heavy import, only needed here

    try:
        Bundle.model_validate(_with_resource_models(bundle))
    except (pydantic.ValidationError, ValueError, TypeError, KeyError):
        pass
    else:
        return []
    problems: list[str] = []
    try:
        Bundle.model_validate(bundle)
    except pydantic.ValidationError as error:
        problems.extend(_format_error(e) for e in error.errors())
    except (ValueError, TypeError) as error:
        problems.append(f"bundle: {error}")
    except KeyError:
        # fhir.resources looks the entry's class up by its resourceType and lets the
        # KeyError of an unknown one through.
        unknown = [
            e["resource"]["resourceType"]
            for e in bundle.get("entry") or []
            if isinstance(e, dict)
            and isinstance(e.get("resource"), dict)
            and isinstance(e["resource"].get("resourceType"), str)
            and _resource_model(e["resource"]["resourceType"]) is None
        ]
        names = ", ".join(repr(kind) for kind in unknown) or "unknown"
        problems.append(f"bundle: resource type {names} is not a FHIR R4B resource.")
    return problems


def validate_bundle(bundle: dict[str, Any], bodymap: BodyMap) -> list[str]:
    """Problems of an exported bundle, as readable lines; empty when it is valid.

    Checks the R4B structure with fhir.resources, then our own rules, which fhir.resources
    does not check: pain scores are LOINC 72514-3 integers 0-10;
    diagnoses are current ICD-10-CM codes from our list; acupoint codings use our CodeSystem
    and catalog codes with a laterality; fullUrls are unique ``urn:uuid``; references resolve.
    """
    problems = _structure_problems(bundle)
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


def bundle_text(bundle: dict[str, Any]) -> str:
    """A bundle as written to its file: compact JSON (the C encoder; an indented file took
    five times longer to write), UTF-8 text, one line."""
    return json.dumps(bundle, ensure_ascii=False, separators=(",", ":")) + "\n"


def write_valid_bundles(
    session: Session,
    patient_ids: Iterable[int],
    folder: Path,
    bodymap: BodyMap,
    written: Callable[[], None] | None = None,
) -> int:
    """Build, validate and write ``<chart number>.fhir.json`` for each patient; return how many.

    ``folder`` is an export's staging folder (owner-only), which is synced, renamed into
    place or removed as a whole (see :func:`charting.jobs.export.run_export`), so the files
    are written straight into it, readable by their owner only. A whole export runs
    this in each worker process on its own share of the patients, so the reading, the
    building and the validation all run on every core. ``written()`` is called after each
    file.

    Raises:
        ServiceError: a bundle fails validation (its problems are listed); it is not written.
    """
    count = 0
    for chart, bundle in iter_bundles(session, patient_ids, bodymap):
        problems = validate_bundle(bundle, bodymap)
        if problems:
            raise fhir_refusal(chart, problems)
        # Straight into the staging folder, which is itself the temporary name: it is
        # renamed into place whole, or removed whole (a rename per file cost ~0.3 ms each).
        fd = os.open(
            Path(folder) / f"{chart}.fhir.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600
        )
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(bundle_text(bundle))
        count += 1
        if written is not None:
            written()
    return count


def fhir_refusal(chart: str, problems: Sequence[str]) -> ServiceError:
    """The error for a bundle that failed validation."""
    return ServiceError(
        f"The FHIR export of chart {chart} is not valid, so it was not written:\n"
        + "\n".join(problems)
    )


def write_fhir(
    session: Session, patient_ids: Iterable[int], folder: Path, bodymap: BodyMap
) -> list[Path]:
    """Write one ``<chart number>.fhir.json`` Bundle per patient into ``folder`` (in this
    process; whole exports validate on every core, see charting.jobs.export).

    Raises:
        ServiceError: a bundle fails validation (its problems are listed); nothing is written.
    """
    require(session, Permission.EXPORT)
    folder = Path(folder)
    texts = []
    for chart, bundle in iter_bundles(session, patient_ids, bodymap):
        problems = validate_bundle(bundle, bodymap)
        if problems:
            raise fhir_refusal(chart, problems)
        texts.append((chart, bundle_text(bundle)))
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return [atomic_write_text(folder / f"{chart}.fhir.json", text) for chart, text in texts]


# -- manifest ----------------------------------------------------------------------------------
MANIFEST = "manifest.json"


def write_manifest(
    folder: Path,
    formats: Sequence[str],
    patients: int,
    audit_anchor: dict[str, Any] | None = None,
) -> Path:
    """Write ``manifest.json``: every file of the export with its size and SHA-256, so a
    copy can be checked later, and the audit log's anchor.

    ``audit_anchor`` is the keyed audit log's head when the export was made (the content of
    ``audit-anchor.json``, which ``charting audit verify --anchor`` checks); None when the
    log is empty.
    """
    import hashlib

    from charting import __version__

    folder = Path(folder)
    files = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST):
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        files.append(
            {
                "path": path.relative_to(folder).as_posix(),
                "bytes": path.stat().st_size,
                "sha256": digest.hexdigest(),
            }
        )
    manifest = {
        "charting_version": __version__,
        "created_at": _utc(datetime.now(UTC)),
        "formats": list(formats),
        "patients": patients,
        "audit_anchor": audit_anchor,
        "files": files,
    }
    return atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2) + "\n")


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
The whole record of the exported patients, one file per table:

{files}

Rows are linked by ids: patient_id (patients.csv), practitioner_id (practitioners.csv),
visit_id (visits.csv) and mark_id (marks.csv). Signed visits show the values as signed;
corrections are in amendments.csv. Every column of every file, with its meaning, type and
allowed values or units, is listed in data_dictionary.csv. Charting imports this folder
back whole (File > Import patients, or `charting import patients FOLDER`).

Encoding: UTF-8 with a byte-order mark, comma-separated, quoted as in RFC 4180, CRLF line
ends. Times are UTC, with microseconds when they have any (2025-03-01T09:30:00.250000Z).
Lists inside one cell are separated by "; " (a ";" or "\\" inside an item is written
with a backslash before it); PSFS items are written "activity=score". Other structured
values (protocol items, account roles) are JSON.

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
                treatment" or "After treatment". Outcome measures, category survey:
                Oswestry Disability Index as LOINC {odi} (valueQuantity in %),
                Roland-Morris (valueInteger 0-24) and the Patient-Specific Functional
                Scale (one component per activity, 0-10) coded in our own CodeSystem
                {outcome} (no LOINC code for them was confirmed).
                A pain drawing's measures, code "pain-drawing" in the same CodeSystem:
                valueQuantity the extent (% of the body shown that is shaded); components
                furthest-left / furthest-right (how far down each leg), overlap-previous
                (Jaccard index), since-previous / since-first (centralised, peripheralised
                or unchanged) and region-<region>-<side> (% of that region shaded); a
                dermatome hint, if any, in the note (a hint, not a diagnosis).
  Flag          one per health flag (pregnancy with its due date, implanted electrical
                device, bleeding disorder, anticoagulants, epilepsy, diabetes, fainting
                with needles): status active, category clinical, coded in
                {flags}.
  AllergyIntolerance  a metal (nickel) allergy: clinicalStatus active, category
                environment.
  AdverseEvent  one per adverse event of a visit: actuality actual, what happened and the
                action taken in event.text, severity mild / moderate / severe (our mild,
                significant, serious), recorder = the visit's practitioner.
  Electroacupuncture settings (the pairs, waveform, frequency, intensity, minutes and
  device) are listed in the visit's Procedure.note.

Each file holds the bundle as compact JSON on one line. Each bundle was checked before it was
written: structure with the fhir.resources R4B models, plus pain scores 0-10 with LOINC
{loinc}, ODI 0-100, RMDQ 0-24 and PSFS 0-10, ICD-10-CM codes from a current list, acupoint
codes from our catalogue, unique fullUrls and resolvable references.
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
        files = (
            "\n".join(f"  {t.file:22} {t.description}" for t in csv_tables.TABLES)
            + f"\n  {'data_dictionary.csv':22} every column of every file: meaning, type, allowed"
        )
        parts.append(_README_CSV.format(files=files))
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
                odi=ODI_LOINC,
                outcome=OUTCOME_SYSTEM,
                flags=HEALTH_FLAG_SYSTEM,
            )
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(folder / "README.txt", "\n".join(parts))
