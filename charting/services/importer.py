"""Importing patients: a clinic's patient list from another system (CSV or a FHIR Patient
bundle), and Charting's own CSV export back, the whole record.

A patient list goes through four steps, the same from the app and the command line:

1. :func:`open_source` reads the file: UTF-8 (with or without a BOM) or the Windows code page
   cp1252, comma- or semicolon-separated (detected), or a FHIR JSON bundle of Patients.
   A file that is not one of these is refused with one readable line; it is never changed.
2. :func:`suggest_mapping` maps its columns to our fields from the header names (or the
   mapping remembered in the clinic settings from the last import).
3. :func:`check_rows` turns each row into a :class:`CheckedRow`: the patient it would create
   and every problem named per column (missing name, an impossible date of birth such as
   1986-02-30 told apart from a badly written one, a bad e-mail, an unknown sex value), and
   whether it looks like a patient already registered (same folded name and date of birth).
4. :func:`import_patients` stores the rows the admin kept in one transaction (all or nothing),
   with one audit entry and a :class:`ImportSummary`.

Rows are read lazily, so a 100,000-row file is checked and stored without being held in
memory at once; the preview reads only the first rows.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from charting.models import (
    ClinicSetting,
    Counter,
    CustomPoint,
    ImplantedDevice,
    Patient,
    Practitioner,
    Sex,
)
from charting.services import audit, csv_tables, guard
from charting.services.access import Permission, require
from charting.services.changes import Changes
from charting.services.errors import ServiceError, ValidationError
from charting.services.patients import (
    CHART_COUNTER,
    FAMILY_KEY_LENGTH,
    SEARCH_KEY_LENGTH,
    PatientInput,
    format_chart_number,
    validate_patient,
)
from charting.services.text import fold

#: Clinic setting that remembers the last column mapping (header -> field).
MAPPING_SETTING = "import_mapping"
#: Rows shown in a preview.
PREVIEW_ROWS = 200
#: Rows inserted per statement.
BATCH = 1_000

#: Our fields a patient list can fill, with what the admin sees.
FIELD_LABELS: dict[str, str] = {
    "family_name": "Family name",
    "given_name": "Given name",
    "preferred_name": "Preferred name",
    "date_of_birth": "Date of birth",
    "sex": "Sex",
    "phone": "Phone",
    "email": "E-mail",
    "address": "Address",
    "emergency_contact": "Emergency contact",
    "emergency_phone": "Emergency phone",
    "medical_history": "Medical history",
    "medications": "Medications",
    "full_name": "Full name (Family, Given)",
}
IGNORE = ""

# Header words of the patient lists we have seen (English, German, French, Spanish), folded.
_ALIASES: dict[str, tuple[str, ...]] = {
    "family_name": (
        "family name",
        "family_name",
        "surname",
        "last name",
        "lastname",
        "nachname",
        "name",
        "nom",
        "apellido",
        "apellidos",
        "family",
    ),
    "given_name": (
        "given name",
        "given_name",
        "first name",
        "firstname",
        "forename",
        "vorname",
        "prenom",
        "nombre",
        "given",
    ),
    "preferred_name": ("preferred name", "preferred_name", "nickname", "known as", "rufname"),
    "date_of_birth": (
        "date of birth",
        "date_of_birth",
        "dob",
        "birth date",
        "birthdate",
        "birthday",
        "born",
        "geburtsdatum",
        "date de naissance",
        "fecha de nacimiento",
    ),
    "sex": ("sex", "gender", "geschlecht", "sexe", "sexo"),
    "phone": (
        "phone",
        "telephone",
        "tel",
        "mobile",
        "cell",
        "phone number",
        "telefon",
        "handy",
        "telefono",
    ),
    "email": ("email", "e-mail", "e mail", "mail", "email address", "courriel", "correo"),
    "address": ("address", "street", "adresse", "anschrift", "direccion", "postal address"),
    "emergency_contact": (
        "emergency contact",
        "emergency_contact",
        "next of kin",
        "notfallkontakt",
    ),
    "emergency_phone": ("emergency phone", "emergency_phone", "emergency number", "notfallnummer"),
    "medical_history": ("medical history", "medical_history", "history", "anamnese"),
    "medications": ("medications", "medication", "medicines", "drugs", "medikamente"),
    "full_name": ("full name", "patient name", "patient", "client", "client name"),
}

_SEX_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ("f", "female", "w", "weiblich", "woman", "femme", "mujer", "femenino"), Sex.FEMALE.value
    ),
    **dict.fromkeys(
        ("m", "male", "mannlich", "man", "homme", "hombre", "masculino", "h"), Sex.MALE.value
    ),
    **dict.fromkeys(("x", "d", "divers", "intersex", "diverse", "other", "o"), Sex.INTERSEX.value),
    **dict.fromkeys(("", "u", "unknown", "unbekannt", "not stated", "?"), Sex.UNKNOWN.value),
}

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


class ImportFileError(ServiceError):
    """The file cannot be read as a patient list; it was not changed."""


# -- reading the file ---------------------------------------------------------------------------
class FileRow(dict[str, str]):
    """A row of a CSV file as ``{header: text}``, with the line of the file it starts on."""

    def __init__(self, values: Iterable[tuple[str, str]], line: int) -> None:
        super().__init__(values)
        self.line = line


@dataclass
class Source:
    """An opened patient list: its columns and a way to read its rows (again) lazily."""

    path: Path
    kind: str  # "csv" or "fhir"
    headers: list[str]
    encoding: str = "utf-8"
    delimiter: str = ","
    _fhir_rows: list[dict[str, str]] = field(default_factory=list, repr=False)

    def rows(self) -> Iterator[dict[str, str]]:
        """Every data row as ``{header: text}``, read from the file as needed.

        A CSV row is a :class:`FileRow` that knows the line of the file it starts on (blank
        lines and cells spanning lines are counted as a text editor counts them).

        Raises:
            ImportFileError: the CSV cannot be read past some line (a quotation mark opened
                and never closed is the usual cause).
        """
        if self.kind == "fhir":
            yield from self._fhir_rows
            return
        with self.path.open(encoding=self.encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=self.delimiter)
            start = 1
            try:
                next(reader, None)
                start = reader.line_num + 1
                for values in reader:
                    line, start = start, reader.line_num + 1
                    if not any(v.strip() for v in values):
                        continue  # blank line
                    values += [""] * (len(self.headers) - len(values))
                    yield FileRow(zip(self.headers, values, strict=False), line=line)
            except csv.Error as exc:
                raise ImportFileError(
                    f"{self.path.name} cannot be read from line {start} on ({exc}). A quotation "
                    "mark that opens a cell there and is never closed is the usual cause."
                ) from None

    @property
    def description(self) -> str:
        """How the file was read, in words ("UTF-8, semicolon-separated")."""
        if self.kind == "fhir":
            return "FHIR Patient bundle (JSON)"
        names = {
            "utf-8-sig": "UTF-8 with BOM",
            "utf-8": "UTF-8",
            "cp1252": "Windows (cp1252)",
            "utf-16": "UTF-16 (Unicode text)",
        }
        separator = {",": "comma", ";": "semicolon", "\t": "tab"}[self.delimiter]
        return f"{names.get(self.encoding, self.encoding)}, {separator}-separated"


def _detect_encoding(path: Path) -> str:
    with path.open("rb") as handle:
        start = handle.read(3)
        if start == codecs.BOM_UTF8:
            return "utf-8-sig"
        if start[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return "utf-16"  # Excel's "Unicode text"; the BOM gives the byte order
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


def open_source(path: Path) -> Source:
    """Open a patient list (CSV or FHIR JSON bundle) for mapping and checking.

    Raises:
        ImportFileError: the file is missing, empty, binary, or not a CSV or FHIR bundle.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise ImportFileError(f"{path} is not a file.")
    try:
        with path.open("rb") as handle:
            head = handle.read(65_536)
    except OSError as exc:
        raise ImportFileError(f"Cannot read {path}: {exc.strerror}") from None
    if not head.strip():
        raise ImportFileError(f"{path.name} is empty.")
    encoding = _detect_encoding(path)
    if encoding == "utf-16":
        try:
            head = path.read_text(encoding="utf-16")[:65_536].encode("utf-8")
        except UnicodeDecodeError:
            raise ImportFileError(
                f"{path.name} starts as UTF-16 text but cannot be read as it."
            ) from None
    if b"\0" in head:
        raise ImportFileError(f"{path.name} is not a text file (CSV or FHIR JSON).")
    start = head.lstrip(codecs.BOM_UTF8).lstrip()
    if start.startswith(b"{"):
        return _open_fhir(path, encoding)
    if start.startswith(b"[") and _is_json(path, encoding):
        raise ImportFileError(
            f"{path.name} is a JSON list, not a FHIR Bundle: export the patients from the other "
            "system as a FHIR Bundle (or as CSV)."
        )
    if encoding == "cp1252":
        try:
            path.read_bytes().decode("cp1252")
        except UnicodeDecodeError:
            raise ImportFileError(
                f"{path.name} is neither UTF-8 nor Windows (cp1252) text."
            ) from None
    first = (
        head.decode("utf-8", errors="replace")
        if encoding == "utf-16"
        else head.decode(encoding, errors="replace")
    )
    header_line = first.splitlines()[0] if first.splitlines() else ""
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    delimiter = max(counts, key=lambda d: counts[d])
    if counts[delimiter] == 0:
        delimiter = ","
    try:
        headers = next(csv.reader(io.StringIO(header_line), delimiter=delimiter))
    except csv.Error as exc:
        raise ImportFileError(f"{path.name}: the first line is not a CSV header ({exc}).") from None
    headers = [h.strip() for h in headers]
    if not any(headers):
        raise ImportFileError(f"{path.name} has no column names in its first line.")
    if len(set(headers)) != len(headers):
        twice = sorted({h for h in headers if headers.count(h) > 1})
        raise ImportFileError(f"{path.name} names a column twice: {', '.join(twice)}.")
    return Source(path, "csv", headers, encoding, delimiter)


def _is_json(path: Path, encoding: str) -> bool:
    try:
        json.loads(path.read_text(encoding="utf-16" if encoding == "utf-16" else "utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False
    return True


def _open_fhir(path: Path, encoding: str = "utf-8-sig") -> Source:
    try:
        data = json.loads(
            path.read_text(encoding="utf-16" if encoding == "utf-16" else "utf-8-sig")
        )
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportFileError(f"{path.name} is not valid JSON ({exc}).") from None
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise ImportFileError(f"{path.name} is JSON but not a FHIR Bundle.")
    rows = []
    for entry in data.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "Patient":
            rows.append(_fhir_patient_row(resource))
    if not rows:
        raise ImportFileError(f"{path.name} holds no Patient resources.")
    headers = [f for f in FIELD_LABELS if f != "full_name"]
    return Source(path, "fhir", headers, _fhir_rows=rows)


def _words(value: Any) -> str:
    """A FHIR name part as text: R4 gives ``family`` as a string and ``given`` as a list;
    older systems send either shape for either part."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(str(v) for v in value if isinstance(v, str | int | float) and str(v))
    return ""


def _fhir_patient_row(resource: Mapping[str, Any]) -> dict[str, str]:
    names = [n for n in resource.get("name") or [] if isinstance(n, dict)]
    official = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    usual = next((n for n in names if n.get("use") == "usual"), {})
    telecom = [t for t in resource.get("telecom") or [] if isinstance(t, dict)]
    address: Any = next(iter(resource.get("address") or []), {})
    if isinstance(address, dict) and not address.get("text"):
        parts = [*(address.get("line") or []), address.get("postalCode"), address.get("city")]
        address = {"text": ", ".join(str(p) for p in parts if p)}
    gender = str(resource.get("gender") or "")
    return {
        "family_name": _words(official.get("family")),
        "given_name": _words(official.get("given")),
        "preferred_name": _words(usual.get("given")),
        "date_of_birth": str(resource.get("birthDate") or ""),
        "sex": {"other": "intersex"}.get(gender, gender),
        "phone": next((str(t.get("value")) for t in telecom if t.get("system") == "phone"), ""),
        "email": next((str(t.get("value")) for t in telecom if t.get("system") == "email"), ""),
        "address": str(address.get("text") or "") if isinstance(address, dict) else "",
        "emergency_contact": "",
        "emergency_phone": "",
        "medical_history": "",
        "medications": "",
    }


# -- mapping ------------------------------------------------------------------------------------
def suggest_mapping(
    headers: Sequence[str], remembered: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``{header: field}`` for every column (``""`` = ignored), from the header names.

    A header remembered from an earlier import keeps its field; each field is used once.
    """
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for header in headers:
        choice = (remembered or {}).get(header)
        if choice in FIELD_LABELS and choice not in used:
            mapping[header] = choice
            used.add(choice)
    for header in headers:
        if header in mapping:
            continue
        key = fold(header).replace("_", " ").replace("-", " ").strip()
        key_dash = fold(header).strip()
        for name, aliases in _ALIASES.items():
            if name not in used and (key in aliases or key_dash in aliases):
                mapping[header] = name
                used.add(name)
                break
        else:
            mapping[header] = IGNORE
    return mapping


def parse_mapping(text: str, headers: Sequence[str]) -> dict[str, str]:
    """A ``"Surname=family_name,Born=date_of_birth"`` mapping, checked against the file.

    Raises:
        ValidationError: a part is not ``column=field``, or names an unknown column or field.
    """
    mapping = dict.fromkeys(headers, IGNORE)
    for part in filter(None, (p.strip() for p in text.split(","))):
        column, sep, name = part.rpartition("=")
        column, name = column.strip(), name.strip()
        if not sep or not column:
            raise ValidationError({"map": f"{part!r} is not COLUMN=FIELD."})
        if column not in mapping:
            raise ValidationError(
                {"map": f"the file has no column {column!r} (it has {', '.join(headers)})."}
            )
        if name and name not in FIELD_LABELS and name != "ignore":
            raise ValidationError(
                {"map": f"unknown field {name!r} (choose from {', '.join(FIELD_LABELS)})."}
            )
        mapping[column] = "" if name == "ignore" else name
    return mapping


def check_mapping(mapping: Mapping[str, str]) -> list[str]:
    """What is wrong with a mapping as a whole (a field used twice, no name, no birth date)."""
    chosen = [f for f in mapping.values() if f]
    problems = [
        f"{FIELD_LABELS[f]} is chosen for more than one column."
        for f in sorted(set(chosen))
        if chosen.count(f) > 1
    ]
    has_names = {"family_name", "given_name"} <= set(chosen) or "full_name" in chosen
    if not has_names:
        problems.append("Choose the columns with the family and given names.")
    if "date_of_birth" not in chosen:
        problems.append("Choose the column with the date of birth.")
    return problems


def remembered_mapping(session: Session) -> dict[str, str]:
    """The mapping saved by the last import (empty if none)."""
    stored = session.get(ClinicSetting, MAPPING_SETTING)
    try:
        data = json.loads(stored.value) if stored is not None else {}
    except json.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def remember_mapping(session: Session, mapping: Mapping[str, str]) -> None:
    """Save the mapping in the clinic settings, merged with what was remembered before."""
    merged = {**remembered_mapping(session), **{k: v for k, v in mapping.items() if k}}
    value = json.dumps(merged, ensure_ascii=False, sort_keys=True)
    stored = session.get(ClinicSetting, MAPPING_SETTING)
    if stored is None:
        session.add(ClinicSetting(key=MAPPING_SETTING, value=value))
    elif stored.value != value:
        stored.value = value


# -- checking rows ------------------------------------------------------------------------------
def parse_birth_date(text: str) -> tuple[date | None, str | None]:
    """A date of birth written as YYYY-MM-DD, DD.MM.YYYY, DD/MM/YYYY or YYYYMMDD.

    Returns the date, or None with the problem: an impossible date ("1986-02-30 is not a
    date: February has no day 30") is told apart from one written in an unknown way.
    """
    text = text.strip()
    if not text:
        return None, "Date of birth is missing."
    match = _ISO.match(text) or _COMPACT.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    elif match := _DAY_FIRST.match(text):
        day, month, year = (int(g) for g in match.groups())
    else:
        return None, f"{text!r} is not written as a date (use YYYY-MM-DD or DD.MM.YYYY)."
    if not 1 <= month <= 12:
        return None, f"{text} is not a date: there is no month {month}."
    try:
        return date(year, month, day), None
    except ValueError:
        month_name = date(2000, month, 1).strftime("%B")
        return None, f"{text} is not a date: {month_name} has no day {day}."


@dataclass
class CheckedRow:
    """One row of the file as it would be imported, with its problems per column."""

    line: int  # line in the file (the header is line 1)
    values: dict[str, str]  # field -> text as read (after fixes)
    patient: PatientInput | None
    problems: dict[str, str]  # field -> message
    duplicate_of: str = ""  # chart number of a likely duplicate, "" if none

    @property
    def ok(self) -> bool:
        """Whether the row can be imported as it is."""
        return not self.problems


def row_values(row: Mapping[str, str], mapping: Mapping[str, str]) -> dict[str, str]:
    """The row's text per field of ours, through the mapping."""
    values = {f: "" for f in FIELD_LABELS}
    for header, name in mapping.items():
        if name:
            values[name] = (row.get(header) or "").strip()
    if values["full_name"] and not (values["family_name"] or values["given_name"]):
        family, sep, given = values["full_name"].partition(",")
        if not sep:  # "Ana Ruiz": the last word is the family name
            given, _, family = values["full_name"].rpartition(" ")
        values["family_name"], values["given_name"] = family.strip(), given.strip()
    return values


# Fields that never hold a line break: one there means a cell ran on over the next lines.
_ONE_LINE = (
    "family_name",
    "given_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "phone",
    "email",
    "emergency_phone",
)


def check_values(values: Mapping[str, str], today: date | None = None) -> CheckedRow:
    """Check one row's values; the row number and duplicate are filled in by the caller."""
    today = today or date.today()
    problems: dict[str, str] = {}
    for name in _ONE_LINE:
        if "\n" in values.get(name, "") or "\r" in values.get(name, ""):
            problems[name] = (
                f"{FIELD_LABELS[name]} runs over more than one line of the file: a quotation "
                "mark that is never closed has probably swallowed the rows after it."
            )
    born, problem = parse_birth_date(values.get("date_of_birth", ""))
    if problem:
        problems["date_of_birth"] = problem
    sex_text = fold(values.get("sex", ""))
    sex = _SEX_WORDS.get(sex_text)
    if sex is None:
        problems["sex"] = (
            f"{values['sex']!r} is not a known sex (female, male, intersex or unknown; F/M/X/U)."
        )
    texts: dict[str, Any] = {
        f.name: values.get(f.name, "")
        for f in fields(PatientInput)
        if f.name in FIELD_LABELS and f.name not in ("date_of_birth", "sex")
    }
    data = PatientInput(
        **texts,
        date_of_birth=born,
        sex=sex or Sex.UNKNOWN.value,
    )
    for name, message in validate_patient(data, today).items():
        if name == "date_of_birth" and "date_of_birth" in problems:
            continue
        problems.setdefault(name, message)
    return CheckedRow(0, dict(values), None if problems else data, problems)


def identity(family: str, given: str, born: date | None) -> tuple[str, str, str]:
    """What two records of one person share: folded family and given names, date of birth."""
    return fold(family), fold(given), born.isoformat() if born else ""


def existing_identities(session: Session) -> dict[tuple[str, str, str], str]:
    """Folded (family, given, date of birth) of every patient -> chart number."""
    query = select(
        Patient.family_name, Patient.given_name, Patient.date_of_birth, Patient.chart_number
    )
    return {identity(f, g, b): chart for f, g, b, chart in session.execute(query)}


def check_rows(
    session: Session,
    rows: Iterable[Mapping[str, str]],
    mapping: Mapping[str, str],
    fixes: Mapping[int, Mapping[str, str]] | None = None,
    today: date | None = None,
    known: dict[tuple[str, str, str], str] | None = None,
) -> Iterator[CheckedRow]:
    """Check every row lazily: problems per column and likely duplicates.

    ``fixes`` maps a line number to corrected field values (from the preview). A duplicate is
    a registered patient, or an earlier row of the file, with the same folded family and
    given names and date of birth.
    """
    known = existing_identities(session) if known is None else known
    seen: dict[tuple[str, str, str], str] = {}
    for index, row in enumerate(rows):
        line = row.line if isinstance(row, FileRow) else index + 2
        values = row_values(row, mapping)
        if fixes and line in fixes:
            values.update(fixes[line])
        checked = check_values(values, today)
        checked.line = line
        if checked.patient is not None:
            key = identity(
                checked.patient.family_name,
                checked.patient.given_name,
                checked.patient.date_of_birth,
            )
            if key in known:
                checked.duplicate_of = known[key]
            elif key in seen:
                checked.duplicate_of = seen[key]
            else:
                seen[key] = f"line {line} of the file"
        yield checked


# -- storing ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportSummary:
    """What an import did."""

    imported: int
    skipped: int  # rows with problems, or left out by the admin
    duplicates: int  # likely duplicates found (imported or skipped as chosen)
    duplicates_imported: bool = False
    chart_numbers: tuple[str, str] = ("", "")  # first and last new chart number

    @property
    def text(self) -> str:
        """One line for the admin and the audit log."""
        dup = f"{self.duplicates:,} likely duplicate(s) " + (
            "imported" if self.duplicates_imported else "skipped"
        )
        charts = (
            f" (chart numbers {self.chart_numbers[0]}-{self.chart_numbers[1]})"
            if self.imported
            else ""
        )
        return f"{self.imported:,} imported{charts}, {self.skipped:,} skipped, {dup}"


def _patient_row(data: PatientInput, chart: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        f.name: (v.strip() if isinstance(v := getattr(data, f.name), str) else v)
        for f in fields(PatientInput)
    }
    row["chart_number"] = chart
    row["search_key"] = fold(
        " ".join(filter(None, (row["family_name"], row["given_name"], row["preferred_name"])))
    )[:SEARCH_KEY_LENGTH]
    row["family_key"] = fold(row["family_name"])[:FAMILY_KEY_LENGTH]
    return row


def _take_chart_numbers(session: Session, count: int) -> int:
    """Reserve ``count`` chart numbers; return the first."""
    counter = session.get(Counter, CHART_COUNTER)
    if counter is None:
        highest = session.scalar(select(func.count(Patient.id))) or 0
        counter = Counter(name=CHART_COUNTER, value=highest)
        session.add(counter)
        session.flush()
    first = counter.value + 1
    session.execute(
        update(Counter).where(Counter.name == CHART_COUNTER).values(value=Counter.value + count)
    )
    session.expire(counter)
    return first


def import_patients(
    session: Session,
    rows: Iterable[CheckedRow],
    *,
    import_duplicates: bool = False,
    skip: Iterable[int] = (),
    source: str = "",
    mapping: Mapping[str, str] | None = None,
) -> ImportSummary:
    """Store the checked rows in the caller's transaction: all of them or, on error, none.

    Rows with problems and the lines in ``skip`` are skipped; likely duplicates are skipped
    unless ``import_duplicates``. The mapping is remembered for next time. One audit entry
    records the summary.

    Raises:
        PermissionDeniedError: the account may not import.
        ValidationError: no row can be imported.
    """
    require(session, Permission.IMPORT)
    skipped_lines = set(skip)
    imported = skipped = duplicates = 0
    pending: list[PatientInput] = []
    first_chart = last_chart = ""

    def flush() -> None:
        nonlocal first_chart, last_chart
        if not pending:
            return
        first = _take_chart_numbers(session, len(pending))
        charts = [format_chart_number(first + i) for i in range(len(pending))]
        session.execute(
            insert(Patient), [_patient_row(d, c) for d, c in zip(pending, charts, strict=True)]
        )
        first_chart = first_chart or charts[0]
        last_chart = charts[-1]
        pending.clear()

    for row in rows:
        if row.duplicate_of:
            duplicates += 1
        if (
            row.patient is None
            or row.line in skipped_lines
            or (row.duplicate_of and not import_duplicates)
        ):
            skipped += 1
            continue
        pending.append(row.patient)
        imported += 1
        if len(pending) >= BATCH:
            flush()
    flush()
    if not imported:
        raise ValidationError({"rows": "No row can be imported: nothing was stored."})
    summary = ImportSummary(
        imported, skipped, duplicates, import_duplicates, (first_chart, last_chart)
    )
    if mapping:
        remember_mapping(session, mapping)
    audit.record(session, "import.patients", target=source[:100], detail=summary.text)
    return summary


# -- Charting's own CSV export, the whole record ---------------------------------------------------
def is_charting_export(path: Path) -> Path | None:
    """The folder of Charting CSV tables ``path`` names (None if it names none): the export's
    folder, its ``csv`` folder, or any file in either (a file dialog picks files, and an
    admin picks the one that looks right: patients.csv, the manifest, the README)."""
    path = Path(path).expanduser()
    place = path if path.is_dir() else path.parent
    for folder in (place, place / "csv"):
        if (folder / "data_dictionary.csv").is_file() and (folder / "patients.csv").is_file():
            return folder
    return None


@dataclass(frozen=True)
class RecordSummary:
    """What a whole-record import stored, per file."""

    counts: dict[str, int]

    @property
    def text(self) -> str:
        """One line: rows per file that had any, in words ("1 patient, 157 visits")."""
        parts = []
        for file, n in self.counts.items():
            words = file.removesuffix(".csv").replace("_", " ")
            if n == 1:
                words = words[:-3] + "y" if words.endswith("ies") else words.removesuffix("s")
            if n:
                parts.append(f"{n:,} {words}")
        return ", ".join(parts) or "no rows"


def _read_export_rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            yield {k: v[1:] if v.startswith("'") else v for k, v in row.items()}


def import_export(
    session: Session, folder: Path, *, import_duplicates: bool = False
) -> RecordSummary:
    """Import a Charting CSV export (every importable table) in the caller's transaction.

    Rows keep their ids where the database does not use them yet (so signed visits keep
    content hashes that verify); otherwise they get new ids and every reference is relinked.
    Practitioners already present (same name and licence number) are reused; a chart number
    already taken gets the next free one. Clinic settings present in both are kept as they
    are here.

    Raises:
        ImportFileError: a file is missing, or a row is not what the data dictionary says.
        ValidationError: patients of the export are already here (same names and date of
            birth: the export was most likely imported before), unless ``import_duplicates``.
    """
    require(session, Permission.IMPORT)
    folder = Path(folder)
    for item in csv_tables.TABLES:
        if item.importable and not item.optional and not (folder / item.file).is_file():
            raise ImportFileError(f"{item.file} is missing from {folder}.")
    if not import_duplicates:
        _refuse_patients_already_here(session, folder)
    new_ids: dict[str, dict[int, int]] = {}
    counts: dict[str, int] = {}
    taken_charts = set(session.scalars(select(Patient.chart_number)))
    # Rows of signed visits come back exactly as signed: written in bulk as Charting's own
    # import task (the person's permission was checked above, and the import is audited
    # under their name below).
    with guard.system_task(session, "import"):
        for item in csv_tables.TABLES:
            if not item.importable or not (folder / item.file).is_file():
                continue
            counts[item.file] = _import_table(session, folder, item, new_ids, taken_charts)
    highest = max((int(c) for c in taken_charts if c.isdigit()), default=0)
    counter = session.get(Counter, CHART_COUNTER)
    if counter is None:
        session.add(Counter(name=CHART_COUNTER, value=highest))
    elif counter.value < highest:
        counter.value = highest
    _bump_sequences(session)
    summary = RecordSummary(counts)
    audit.record(session, "import.record", target=str(folder)[-100:], detail=summary.text)
    return summary


def _refuse_patients_already_here(session: Session, folder: Path) -> None:
    """Raise if any patient of the export is registered here already: importing it again
    would give every one of them a second chart, with a copy of each visit."""
    known = existing_identities(session)
    if not known:
        return
    here: list[str] = []
    total = 0
    for row in _read_export_rows(folder / "patients.csv"):
        total += 1
        born, _ = parse_birth_date(row.get("date_of_birth", ""))
        key = identity(row.get("family_name", ""), row.get("given_name", ""), born)
        if key in known:
            here.append(
                f"{row.get('family_name', '')}, {row.get('given_name', '')} "
                f"(chart {known[key]} here)"
            )
    if here:
        examples = "; ".join(here[:3]) + ("; \u2026" if len(here) > 3 else "")
        raise ValidationError(
            {
                "patients": f"{len(here):,} of the export's {total:,} "
                f"patient{'s' if total != 1 else ''} "
                f"{'is' if len(here) == 1 else 'are'} already registered here with the same "
                f"name and date of birth ({examples}): it looks "
                "imported before, and importing it again would copy their records. Nothing "
                "was imported. To import it anyway, tick \u201cAlso import rows that look "
                "like patients already registered\u201d (--import-duplicates)."
            }
        )


def _import_table(
    session: Session,
    folder: Path,
    item: csv_tables.CsvTable,
    new_ids: dict[str, dict[int, int]],
    taken_charts: set[str],
) -> int:
    path = folder / item.file
    columns = [c for c in item.columns if c.attr]
    by_name = {c.name: c for c in columns}
    primary = [c.name for c in item.table.primary_key.columns]
    id_column = next((c for c in columns if c.attr == "id"), None)
    table = item.table
    existing_ids: set[int] = set()
    if id_column is not None:
        existing_ids = set(session.scalars(select(table.c.id)))
    known_practitioners: dict[tuple[str, str], int] = {}
    if item.model is Practitioner:
        known_practitioners = {
            (n, lic): i
            for i, n, lic in session.execute(
                select(Practitioner.id, Practitioner.name, Practitioner.licence_number)
            )
        }
    settings: set[str] = set()
    if item.model is ClinicSetting:
        settings = set(session.scalars(select(ClinicSetting.key)))
    # A custom point already here under the same code is kept as it is (like a setting).
    custom_codes: set[str] = set()
    if item.model is CustomPoint:
        custom_codes = set(session.scalars(select(CustomPoint.code)))
    mapped = new_ids.setdefault(item.file, {})
    # Keep the file's ids only if none of them is taken here (a fresh id given to one row
    # could otherwise collide with a kept id of a later row).
    keep_ids = id_column is not None and not (
        _file_ids(path, id_column.name, item, known_practitioners) & existing_ids
    )
    highest_chart = max((int(c) for c in taken_charts if c.isdigit()), default=0)
    count = 0
    batch: list[tuple[int | None, dict[str, Any]]] = []

    def store() -> None:
        if "id" not in table.c:
            if batch:
                session.execute(insert(table), [v for _, v in batch])
            batch.clear()
            return
        keep = [(old, v) for old, v in batch if "id" in v]
        fresh = [(old, v) for old, v in batch if "id" not in v]
        if keep:
            session.execute(insert(table), [v for _, v in keep])
            for old, _v in keep:
                if old is not None:
                    mapped[old] = old
        if fresh:
            ids = session.scalars(
                insert(table).returning(table.c.id, sort_by_parameter_order=True),
                [v for _, v in fresh],
            ).all()
            for (old, _v), new in zip(fresh, ids, strict=True):
                if old is not None:
                    mapped[old] = new
        batch.clear()

    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c.name for c in columns if c.name not in (reader.fieldnames or [])]
        if missing:
            raise ImportFileError(f"{item.file} has no column {', '.join(missing)}.")
        for line, raw in enumerate(reader, start=2):
            values: dict[str, Any] = {}
            for name, column in by_name.items():
                text = raw.get(name) or ""
                if column.kind != "integer" and text.startswith("'"):
                    text = text[1:]
                if text == "" and column.kind == "text" and table.c[column.attr].nullable:
                    values[column.attr] = None  # an optional code (point, muscle) left empty
                    continue
                try:
                    values[column.attr] = csv_tables.read_cell(column.kind, text)
                except (ValueError, KeyError) as exc:
                    raise ImportFileError(
                        f"{item.file} line {line}, column {name}: {exc}"
                    ) from None
            for attr, target in item.refs.items():
                old = values.get(attr)
                if old is None:
                    continue
                target_ids = new_ids.get(target, {})
                if old not in target_ids:
                    raise ImportFileError(
                        f"{item.file} line {line}: {attr} {old} is not in {target}."
                    )
                values[attr] = target_ids[old]
            old_id = values.get("id")
            if item.model is Practitioner:
                match = known_practitioners.get((values["name"], values["licence_number"]))
                if match is not None and old_id is not None:
                    mapped[old_id] = match
                    count += 1
                    continue
            if item.model is ClinicSetting and values["key"] in settings:
                continue
            if item.model is CustomPoint and values["code"] in custom_codes:
                continue
            if item.model is Patient:
                chart = values["chart_number"]
                if chart in taken_charts:
                    highest_chart = (
                        max(highest_chart, *(int(c) for c in (chart,) if c.isdigit())) + 1
                    )
                    while format_chart_number(highest_chart) in taken_charts:
                        highest_chart += 1
                    values["chart_number"] = format_chart_number(highest_chart)
                taken_charts.add(values["chart_number"])
                values["search_key"] = fold(
                    " ".join(
                        filter(
                            None,
                            (values["family_name"], values["given_name"], values["preferred_name"]),
                        )
                    )
                )[:SEARCH_KEY_LENGTH]
                values["family_key"] = fold(values["family_name"])[:FAMILY_KEY_LENGTH]
            if old_id is not None and (not keep_ids or primary != ["id"]):
                del values["id"]
            batch.append((old_id, values))
            count += 1
            if len(batch) >= BATCH:
                store()
    store()
    return count


def _file_ids(
    path: Path,
    name: str,
    item: csv_tables.CsvTable,
    known_practitioners: Mapping[tuple[str, str], int],
) -> set[int]:
    """The ids a file would insert (practitioners matched to the same id here excluded)."""
    ids: set[int] = set()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for raw in csv.DictReader(handle):
            try:
                old = int(raw.get(name) or "")
            except ValueError:
                continue  # reported with its line by the import itself
            if item.model is Practitioner:
                match = known_practitioners.get(
                    (raw.get("name", ""), raw.get("licence_number", ""))
                )
                if match is not None:
                    continue
            ids.add(old)
    return ids


def _bump_sequences(session: Session) -> None:
    """After rows went in with their own ids, PostgreSQL's id sequences must pass them."""
    if session.connection().dialect.name != "postgresql":
        return
    for item in csv_tables.TABLES:
        if item.importable and "id" in item.table.c:
            name = item.table.name
            session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {name}), 1))"
                )
            )


# re-exported for the UI's device list
DEVICES = tuple(d.value for d in ImplantedDevice)


def import_from_source(
    session: Session,
    source: Source,
    mapping: Mapping[str, str],
    fixes: Mapping[int, Mapping[str, str]] | None = None,
    skip: Iterable[int] = (),
    import_duplicates: bool = False,
) -> tuple[ImportSummary, Changes]:
    """Check and import every row of ``source`` (the app's Import button), in one transaction.

    Raises:
        ValidationError: the mapping lacks names or the date of birth, or no row can be stored.
    """
    require(session, Permission.IMPORT)
    problems = check_mapping(mapping)
    if problems:
        raise ValidationError({"mapping": " ".join(problems)})
    before = session.scalar(select(func.max(Patient.id))) or 0
    summary = import_patients(
        session,
        check_rows(session, source.rows(), mapping, fixes),
        import_duplicates=import_duplicates,
        skip=skip,
        source=source.path.name,
        mapping=mapping,
    )
    added = frozenset(session.scalars(select(Patient.id).where(Patient.id > before)))
    return summary, Changes(patients=added)


def import_export_folder(
    session: Session, folder: Path, *, import_duplicates: bool = False
) -> tuple[RecordSummary, Changes]:
    """Import a Charting CSV export, whole (the app's Import button for an export)."""
    before = session.scalar(select(func.max(Patient.id))) or 0
    summary = import_export(session, folder, import_duplicates=import_duplicates)
    added = frozenset(session.scalars(select(Patient.id).where(Patient.id > before)))
    return summary, Changes(patients=added)
