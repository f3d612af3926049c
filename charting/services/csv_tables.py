"""The CSV export's tables, declared once: what each file holds, how it is read from the
database (set-based, streamed) and how the importer reads it back.

Adding a table to the export is one :class:`CsvTable` entry in :data:`TABLES`: its file name,
the model, how its rows reach a patient (``scope``), the meaning of each column for the data
dictionary, and the columns that refer to other exported rows (``refs``, so the importer can
link them again). Every database column is exported unless it is listed in ``omit``; a test
fails when a table of the schema is in neither :data:`TABLES` nor :data:`NOT_EXPORTED`, or a
column has no meaning.

Cells are written as :func:`cell_writer` says for the column's type: integers and floats as
plain numbers, booleans ``true``/``false``, times ISO 8601 UTC with a ``Z``, dates
``YYYY-MM-DD``, lists ``"; "``-separated (a ``;`` or ``\\`` inside an item is escaped with a
backslash), other JSON as JSON text; text cells are guarded against formula injection.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    Integer,
    Select,
    case,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy import String as SqlString
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from charting.models import (
    AdverseEvent,
    Amendment,
    Appointment,
    AppointmentChange,
    AuditEvent,
    ClinicSetting,
    Consent,
    CustomPoint,
    EAPair,
    HandoutIssue,
    Mark,
    NeedleCountResolution,
    PainArea,
    PainSummary,
    Patient,
    Practitioner,
    Protocol,
    SafetyAcknowledgement,
    StandingDecision,
    UserAccount,
    Visit,
    VisitBilling,
)
from charting.models.base import UTCDateTime
from charting.models.db import among, batches

#: Patients read per query: one statement per table per chunk keeps memory flat at any
#: clinic size and stays below every backend's bound-parameter limit.
CHUNK = 2_000
#: Patients per chunk of a file with checks (visits.csv): the export's worker and this
#: process share the checks chunk by chunk, so small chunks keep both busy to the end.
CHECK_CHUNK = 250

# OWASP ASVS 1.2.10 triggers, plus NUL; "'" makes the guard reversible.
INJECTION_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0", "'")


@dataclass(frozen=True)
class Column:
    """One column of an exported CSV file, as the data dictionary describes it.

    ``attr`` is the database column it holds (empty for a column derived for readers, such as
    a point's English name, which the importer skips); ``kind`` says how the cell is written
    and read back (text, integer, number, boolean, datetime, date, list, psfs, json).
    """

    name: str
    meaning: str
    type: str
    allowed: str = ""
    attr: str = ""
    kind: str = "text"


@dataclass(frozen=True)
class CsvTable:
    """One exported file: a table of the schema (or a view of one) and how to read it.

    ``scope`` is the column that ties a row to a patient (``Visit.patient_id`` for rows of a
    visit, joined through ``joins``), or None for clinic-wide tables (practitioners, settings),
    which are exported whole. ``refs`` names, per column, the exported table its value points
    to (``{"visit_id": "visits.csv"}``), so an import can link rows under their new ids.
    """

    file: str
    model: Any
    description: str
    meanings: Mapping[str, str | tuple[str, str]]
    scope: Any = None
    joins: tuple[Any, ...] = ()
    order_by: tuple[Any, ...] = ()
    refs: Mapping[str, str] = field(default_factory=dict)
    rename: Mapping[str, str] = field(default_factory=dict)
    omit: frozenset[str] = frozenset()
    extra: tuple[tuple[Column, ColumnElement[Any]], ...] = ()
    #: Read back by the importer (the audit log and accounts are exported for the record).
    importable: bool = True
    #: Exports made before the table existed lack the file: an import takes it as empty.
    optional: bool = False
    types: Mapping[str, str] = field(default_factory=dict)
    #: Columns looked up for readers from another exported column, e.g. a point's English
    #: name from its code: (column, source database column, function of (bodymap, value)).
    lookups: tuple[tuple[Column, str, Callable[[Any, Any], str]], ...] = ()
    #: Columns computed for readers from the rows of each chunk with the database at hand,
    #: e.g. whether a signed visit still matches its signature: (column, source database
    #: column, function of (session, the chunk's source values) giving text by value).
    checks: tuple[tuple[Column, str, Callable[[Session, list[Any]], Mapping[Any, str]]], ...] = ()
    #: The database columns that decide the checks' results besides the source column (a
    #: visit's status and stored hash, ...) and move with any change to a row (version, last
    #: change). Chunks made by another process (see :func:`make_chunk`) are used only when
    #: their rows read the same in these.
    check_key: tuple[str, ...] = ()

    @property
    def table(self) -> Any:
        """The SQLAlchemy table."""
        return self.model.__table__

    @property
    def columns(self) -> tuple[Column, ...]:
        """Every column of the file, in order, with its data-dictionary entry."""
        return (
            tuple(c for c, _ in self._layout())
            + tuple(c for c, _, _ in self.lookups)
            + tuple(c for c, _, _ in self.checks)
        )

    def _layout(self, dialect: str = "sqlite") -> list[tuple[Column, ColumnElement[Any]]]:
        # Made once per table and dialect: building a wide table's expressions (a guard per
        # text column) took longer than reading a chunk of its key columns.
        known = _LAYOUTS.get((self.file, dialect))
        if known is not None and known[0] is self:
            return known[1]
        layout = self._make_layout(dialect)
        _LAYOUTS[self.file, dialect] = (self, layout)
        return layout

    def _make_layout(self, dialect: str) -> list[tuple[Column, ColumnElement[Any]]]:
        out: list[tuple[Column, ColumnElement[Any]]] = []
        for db_column in self.table.columns:
            if db_column.name in self.omit:
                continue
            kind = self.types.get(db_column.name) or _kind_of(db_column.type)
            meaning = self.meanings.get(db_column.name, "")
            meaning, allowed = meaning if isinstance(meaning, tuple) else (meaning, "")
            name = self.rename.get(db_column.name, db_column.name)
            column = Column(name, meaning, _TYPE_WORDS[kind], allowed, db_column.name, kind)
            out.append((column, _read_expression(db_column, kind, dialect)))
        out.extend(
            (column, guarded(expr, dialect).label(column.name) if column.kind == "text" else expr)
            for column, expr in self.extra
        )
        return out

    def query(
        self,
        patient_ids: Sequence[int] | None,
        dialect: str = "sqlite",
        only: Collection[str] | None = None,
    ) -> Select[Any]:
        """The one statement that reads this file's rows for a chunk of patients (``only``
        these database columns, in the file's order, when given)."""
        layout = self._layout(dialect)
        if only is not None:
            layout = [(c, e) for c, e in layout if c.attr in only]
        statement = select(*(expr for _, expr in layout)).select_from(self.table)
        order = self.order_by or tuple(self.table.primary_key.columns)
        if self.scope is not None and patient_ids is not None:
            narrowed = self._through_key(statement, patient_ids, order, dialect)
            if narrowed is not None:
                return narrowed
        for join in self.joins:
            # A join is a model, or (model, on-clause) where two foreign keys could join.
            statement = (
                statement.join(join[0], join[1])
                if isinstance(join, tuple)
                else statement.join(join)
            )
        if self.scope is not None and patient_ids is not None:
            statement = statement.where(among(self.scope, patient_ids, dialect))
        return statement.order_by(*order)

    def _through_key(
        self,
        statement: Select[Any],
        patient_ids: Sequence[int],
        order: tuple[Any, ...],
        dialect: str,
    ) -> Select[Any] | None:
        """The rows of a table reached through one join (a visit's marks), read as
        ``visit_id IN (the patients' visits)`` rather than through the join, when nothing
        else needs the joined table: the database then walks the rows in the order of the
        foreign key's index instead of sorting every row of the chunk (a third of writing
        marks.csv)."""
        if len(self.joins) != 1 or isinstance(self.joins[0], tuple):
            return None
        joined = self.joins[0].__table__
        keys = [fk for fk in self.table.foreign_keys if fk.column.table is joined]
        if len(keys) != 1 or self.scope.table is not joined:
            return None
        parent = keys[0].column
        narrowed = statement.where(
            keys[0].parent.in_(select(parent).where(among(self.scope, patient_ids, dialect)))
        ).order_by(*order)
        if any(table is joined for table in narrowed.get_final_froms()):
            return None  # a column or the order refers to the joined table
        return narrowed


#: Each table's columns and read expressions per dialect (see :meth:`CsvTable._layout`).
_LAYOUTS: dict[tuple[str, str], tuple[CsvTable, list[tuple[Column, ColumnElement[Any]]]]] = {}


_TYPE_WORDS = {
    "text": "text",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean (true; false)",
    "datetime": "date-time (ISO 8601, UTC)",
    "date": "date (YYYY-MM-DD)",
    "list": "list separated by '; '",
    "psfs": "list of activity=score separated by '; '",
    "json": "JSON",
}


def _kind_of(sql_type: Any) -> str:
    if isinstance(sql_type, UTCDateTime):
        return "datetime"
    if isinstance(sql_type, Boolean):
        return "boolean"
    if isinstance(sql_type, Integer):
        return "integer"
    if isinstance(sql_type, Float):
        return "number"
    if isinstance(sql_type, Date):
        return "date"
    if isinstance(sql_type, JSON):
        return "json"
    return "text"


def _read_expression(db_column: Any, kind: str, dialect: str) -> ColumnElement[Any]:
    # Times, dates and booleans are formatted by the database and JSON is read as the driver
    # gives it: converting half a million timestamps into datetime objects only to print
    # them again was a third of the export's time, and a Python call per cell is the rest.
    if kind == "datetime":
        return utc_text(db_column, dialect).label(db_column.name)
    if kind == "boolean":
        return bool_text(db_column).label(db_column.name)
    if kind == "date" and dialect in SQL_DATES:
        return func.substr(type_coerce(db_column, SqlString), 1, 10).label(db_column.name)
    if kind in ("date", "list", "psfs", "json"):
        return type_coerce(db_column, SqlString).label(db_column.name)
    if kind == "text":
        return guarded(db_column, dialect).label(db_column.name)
    return db_column


#: Dialects whose dates are stored as ISO text ("2025-03-01"), which SQL can cut to the day.
SQL_DATES = ("sqlite",)


def bool_text(expression: Any) -> ColumnElement[Any]:
    """A stored boolean as ``true``/``false`` (empty when NULL), in SQL (as
    :func:`_bool_cell`)."""
    return case(
        (expression.is_(None), literal(None, SqlString)),
        (expression == True, literal("true", SqlString)),  # noqa: E712 - SQL, not Python
        else_=literal("false", SqlString),
    )


def utc_text(expression: Any, dialect: str) -> ColumnElement[Any]:
    """A stored time as ISO 8601 UTC text with a ``Z`` ("2025-03-01T09:30:00Z"), in SQL;
    fractions of a second only when there are any ("2025-03-01T09:30:00.250000Z").

    PostgreSQL formats its timestamptz in UTC. SQLite stores UTC text already
    ("2025-03-01 09:30:00.250000", or ".000000" for whole seconds), which gets its "T" and
    "Z" by two ``replace`` calls: cutting it apart with ``substr`` took three times as long
    (a quarter of a second per half a million cells).
    """
    if dialect == "postgresql":
        text = func.to_char(func.timezone("UTC", expression), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
        return func.regexp_replace(text, r"\.000000Z$", "Z")
    stored = type_coerce(expression, SqlString)
    whole = func.replace(stored, ".000000", "")
    return func.replace(whole, " ", "T").concat("Z")


def guarded(expression: Any, dialect: str) -> ColumnElement[Any]:
    """``expression`` with the formula-injection guard applied by the database itself.

    The same rule as :func:`guard_cell`, evaluated in SQL: one ``CASE`` per cell costs the
    database nothing next to a Python call per cell (4.5 million of them for a
    5,000-patient clinic). On SQLite the first character is tested by its code, and only
    when it comes before "A" (every character that starts a formula does): most cells
    start with a letter and cost one comparison, where cutting out the first character
    cost as much as reading the cell. PostgreSQL text cannot hold NUL, so it is not
    tested there.
    """
    guard = literal("'", SqlString).concat(expression)
    if dialect == "sqlite":
        first = func.unicode(expression)
        codes = [ord(s) for s in INJECTION_STARTS if s != "\0"]
        return case(
            (or_(first >= _BELOW, expression == ""), expression),
            # unicode() stops at a NUL, so a leading one is found by its position.
            (or_(first.in_(codes), func.instr(expression, func.char(0)) == 1), guard),
            else_=expression,
        )
    starts = [s for s in INJECTION_STARTS if s != "\0"]
    return case((func.substr(expression, 1, 1).in_(starts), guard), else_=expression)


#: Every character that starts a formula comes before this one.
_BELOW = ord("A")


# -- cells ---------------------------------------------------------------------------------------
def guard_cell(text: str) -> str:
    """Neutralise a text cell a spreadsheet would run as a formula (OWASP ASVS 1.2.10)."""
    return "'" + text if text.startswith(INJECTION_STARTS) else text


def _text_cell(value: Any) -> Any:
    if value is None or value == "":
        return value
    return "'" + value if value.startswith(INJECTION_STARTS) else value


def _bool_cell(value: Any) -> str:
    return "" if value is None else ("true" if value else "false")


def _datetime_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str) and value.endswith("Z"):
        return value  # formatted by the database (utc_text)
    if isinstance(value, str):
        # SQLite: "2025-03-01 09:30:00.250000" (stored in UTC) -> "2025-03-01T09:30:00.250000Z";
        # whole seconds are written without the fraction ("2025-03-01T09:30:00Z").
        fraction = value[19:26]
        if fraction.strip(".0"):
            return f"{value[:10]}T{value[11:19]}{fraction}Z"
        return f"{value[:10]}T{value[11:19]}Z"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC).replace(tzinfo=None)
    spec = "microseconds" if value.microsecond else "seconds"
    return value.isoformat(timespec=spec) + "Z"


def _date_cell(value: Any) -> str:
    if value is None:
        return ""
    return value[:10] if isinstance(value, str) else value.isoformat()


def _escape_item(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace(";", "\\;")


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _list_cell(value: Any) -> str:
    if value is None or value == "[]":
        return ""
    items = _loads(value) or []
    return _text_cell("; ".join(_escape_item(v) for v in items)) or ""


def _psfs_cell(value: Any) -> str:
    items = _loads(value) or []
    text = "; ".join(f"{_escape_item(i['activity'])}={i['score']}" for i in items)
    return _text_cell(text) or ""


def _json_cell(value: Any) -> str:
    if value is None:
        return ""
    data = _loads(value)
    return _text_cell(json.dumps(data, ensure_ascii=False, separators=(",", ":")))


def _same(value: Any) -> Any:
    return value


#: How each kind of column becomes a cell (the csv module writes None as an empty cell and
#: numbers with str(), which round-trips floats exactly).
CELL_WRITERS: dict[str, Callable[[Any], Any]] = {
    # Text is guarded in the query (see guarded()).
    "text": _same,
    "integer": _same,
    "number": _same,
    "boolean": _bool_cell,
    "datetime": _datetime_cell,
    "date": _date_cell,
    "list": _list_cell,
    "psfs": _psfs_cell,
    "json": _json_cell,
}


def cell_writer(kind: str) -> Callable[[Any], Any]:
    """The function that turns a database value of this kind into a CSV cell."""
    return CELL_WRITERS[kind]


# -- reading cells back (the importer) ------------------------------------------------------------
def _split_items(text: str) -> list[str]:
    items: list[str] = []
    current: list[str] = []
    chars = iter(text)
    for char in chars:
        if char == "\\":
            current.append(next(chars, ""))
        elif char == ";":
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    items.append("".join(current).strip())
    return [i for i in items if i]


def read_cell(kind: str, text: str) -> Any:
    """The database value of a cell written by :func:`cell_writer` (guard already undone).

    Raises:
        ValueError: the cell is not a value of that kind.
    """
    if kind == "text":
        return text
    if text == "":
        return [] if kind in ("list", "psfs") else None
    if kind == "integer":
        return int(text)
    if kind == "number":
        return float(text)
    if kind == "boolean":
        if text not in ("true", "false"):
            raise ValueError(f"{text!r} is not true or false")
        return text == "true"
    if kind == "datetime":
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    if kind == "date":
        return date.fromisoformat(text)
    if kind == "list":
        return _split_items(text)
    if kind == "psfs":
        out = []
        for item in _split_items(text):
            activity, _, score = item.rpartition("=")
            out.append({"activity": activity, "score": int(score)})
        return out
    if kind == "json":
        return json.loads(text)
    raise ValueError(f"unknown column kind {kind}")


# -- the tables ---------------------------------------------------------------------------------
_CREATED = "When the row was created"
_UPDATED = "When the row was last changed"
_SIDES = "L (left); R (right); M (midline)"


def _visit_meanings() -> tuple[dict[str, str | tuple[str, str]], dict[str, str]]:
    from charting.services.visit_record import FIELDS

    units = {
        "pain_now": "0-10 numeric rating scale (before treatment)",
        "pain_best": "0-10 numeric rating scale",
        "pain_worst": "0-10 numeric rating scale",
        "pain_after": "0-10 numeric rating scale (after treatment)",
        "retention_minutes": "minutes",
        "odi_percent": "percent (Oswestry Disability Index total)",
        "rmdq_score": "points (Roland-Morris total)",
        "needles_out": "needles",
    }
    meanings: dict[str, str | tuple[str, str]] = {}
    kinds: dict[str, str] = {}
    for name, spec in FIELDS.items():
        allowed = ""
        if spec.kind == "int":
            allowed = f"{spec.low}-{spec.high} {units.get(name, '')}".strip()
        elif spec.kind == "choice":
            allowed = "; ".join(sorted(spec.choices)) + "; empty if not recorded"
        elif spec.kind == "choices":
            allowed = "; ".join(sorted(spec.choices)) if spec.choices else "free entries"
            kinds[name] = "list"
        elif spec.kind == "psfs":
            allowed = "score 0 (unable) - 10 (as before the problem)"
            kinds[name] = "psfs"
        meanings[name] = (spec.label, allowed)
    meanings["psfs"] = (
        "Patient-Specific Functional Scale items",
        "score 0 (unable) - 10 (as before the problem)",
    )
    return meanings, kinds


_VISIT_MEANINGS, _VISIT_KINDS = _visit_meanings()


def _choices(values: Any) -> str:
    return "; ".join(sorted(str(v) for v in values if v))


def _lists() -> Any:
    from charting.services import clinical_lists

    return clinical_lists


_L = _lists()


def _words() -> tuple[str, str, str]:
    """The allowed values of pain qualities, handout ways and needle-count outcomes, from
    the services that define them."""
    from charting.services import clinical_lists
    from charting.services.handouts import HOW
    from charting.services.visit_record import NEEDLE_OUTCOMES

    return _choices(clinical_lists.PAIN_QUALITIES), _choices(HOW), _choices(NEEDLE_OUTCOMES)


_QUALITIES, _HANDOUT_HOW, _NEEDLE_OUTCOMES = _words()


def _pinyin(bodymap: Any, code: str | None) -> str:
    try:
        return bodymap.point(code).pinyin if code else ""
    except KeyError:
        return ""


def _english(bodymap: Any, code: str | None) -> str:
    try:
        return bodymap.point(code).english if code else ""
    except KeyError:
        return ""


def _custom(bodymap: Any, code: str | None) -> str:
    return "yes" if code and bodymap.is_custom(code) else ""


def _muscle(bodymap: Any, muscle_id: str | None) -> str:
    try:
        return bodymap.muscle(muscle_id).name if muscle_id else ""
    except KeyError:
        return ""


def _signature_words(session: Session, visit_ids: list[Any]) -> dict[Any, str]:
    """ "valid" or "ALTERED AFTER SIGNING: what is wrong" for each signed visit, checked at
    export time, so a stored hash is never passed off as a valid signature."""
    from charting.services import signatures

    return {
        visit_id: "valid" if problem is None else f"ALTERED AFTER SIGNING: {problem}"
        for visit_id, problem in signatures.problems(session, visit_ids).items()
    }


TABLES: tuple[CsvTable, ...] = (
    CsvTable(
        "practitioners.csv",
        Practitioner,
        "one row per practitioner (treating and signing)",
        {
            "id": "Practitioner id (practitioner_id in other files)",
            "name": "Practitioner's name",
            "credentials": "Credentials printed after the name (e.g. L.Ac.)",
            "licence_number": "Licence or registration number",
            "style": "Style of practice",
            "npi": ("US National Provider Identifier (printed on superbills)", "10 digits"),
            "active": "Whether the practitioner still practises at the clinic",
            "created_at": _CREATED,
        },
        rename={"id": "practitioner_id"},
    ),
    CsvTable(
        "patients.csv",
        Patient,
        "one row per patient: demographics, contacts, health flags and treatment plan",
        {
            "id": "Patient id (patient_id in other files)",
            "chart_number": ("Chart number", "six digits"),
            "family_name": "Family name",
            "given_name": "Given name",
            "preferred_name": "Preferred name",
            "date_of_birth": "Date of birth",
            "sex": ("Sex (administrative)", "female; intersex; male; unknown"),
            "phone": "Phone",
            "email": "E-mail address",
            "address": "Postal address",
            "emergency_contact": "Emergency contact's name",
            "emergency_phone": "Emergency contact's phone",
            "pregnant": "Health flag: pregnant",
            "pregnancy_due_date": "Expected due date (pregnant patients)",
            "implanted_device": (
                "Health flag: implanted electrical device",
                "icd; none; other; pacemaker; pump; stimulator",
            ),
            "bleeding_disorder": "Health flag: bleeding disorder",
            "anticoagulant": "Health flag: takes anticoagulants",
            "epilepsy": "Health flag: epilepsy",
            "diabetes": "Health flag: diabetes",
            "metal_allergy": "Health flag: metal (nickel) allergy",
            "needle_fainting": "Health flag: has fainted with needles",
            "peripheral_neuropathy": "Health flag: peripheral neuropathy",
            "medical_history": "Medical history",
            "medications": "Current medications",
            "plan_sessions": ("Treatment plan: sessions planned in the course", "sessions"),
            "plan_frequency": "Treatment plan: how often (e.g. twice a week)",
            "created_at": "When the patient was registered",
            "updated_at": _UPDATED,
            "deleted_at": "When the patient was hidden from lists (records are kept)",
        },
        scope=Patient.id,
        rename={"id": "patient_id"},
        omit=frozenset({"search_key", "family_key"}),
    ),
    CsvTable(
        "visits.csv",
        Visit,
        "one row per visit, every field of the record (SOAP, STRICTA, outcomes, signature)",
        {
            "id": "Visit id (visit_id in other files)",
            "patient_id": "Patient (patient_id in patients.csv)",
            "practitioner_id": "Treating practitioner (practitioner_id in practitioners.csv)",
            "started_at": "When the visit started",
            "number": ("Visit number in the patient's course", "1 or more"),
            "status": ("Whether the visit is signed", "draft; signed"),
            **_VISIT_MEANINGS,
            "chief_complaint": "Chief complaint",
            "notes": "Notes",
            "signed_at": "When the visit was signed",
            "signed_by_id": "Practitioner who signed (practitioner_id in practitioners.csv)",
            "signature_format": ("Layout of the signed content the hash covers", "1 or more"),
            "version": "Edit counter of the visit row (bumped by every save)",
            "content_hash": ("SHA-256 of the signed content", "64 hex digits, empty if draft"),
            "handout_given": (
                "Handout ticked as given on the visit itself (before handouts were recorded as "
                "events; see handouts.csv)"
            ),
            "carried_fields": (
                "Fields filled from the patient's last visit when this one was started and "
                "not changed since"
            ),
            "created_at": _CREATED,
            "updated_at": _UPDATED,
        },
        scope=Visit.patient_id,
        order_by=(Visit.patient_id, Visit.number),
        refs={
            "patient_id": "patients.csv",
            "practitioner_id": "practitioners.csv",
            "signed_by_id": "practitioners.csv",
        },
        rename={"id": "visit_id"},
        types=_VISIT_KINDS,
        checks=(
            (
                Column(
                    "signature",
                    "Whether the signed content still matches its signature (checked at export)",
                    "text",
                    "valid; ALTERED AFTER SIGNING: what is wrong; empty if draft",
                ),
                "id",
                _signature_words,
            ),
        ),
        check_key=("status", "content_hash", "signature_format", "version", "updated_at"),
        extra=(
            (
                Column("chart_number", "Patient's chart number (as in patients.csv)", "text"),
                select(Patient.chart_number)
                .where(Patient.id == Visit.patient_id)
                .scalar_subquery(),
            ),
            (
                Column("practitioner", "Treating practitioner's name and credentials", "text"),
                select(
                    case(
                        (
                            Practitioner.credentials != "",
                            Practitioner.name.concat(", ").concat(Practitioner.credentials),
                        ),
                        else_=Practitioner.name,
                    )
                )
                .where(Practitioner.id == Visit.practitioner_id)
                .scalar_subquery(),
            ),
        ),
    ),
    CsvTable(
        "marks.csv",
        Mark,
        "one row per body-map mark (acupoints, trigger points, ashi points, cupping sites)",
        {
            "id": "Mark id (mark_id in ea_pairs.csv)",
            "visit_id": "Visit (visit_id in visits.csv)",
            "kind": ("What the mark records", "acupoint; ashi; cupping; trigger_point"),
            "point_code": (
                "WHO acupoint code (acupoint marks), or the code of one of the clinic's custom "
                "points (custom_points.csv)",
                "codes of the catalog or of custom_points.csv",
            ),
            "muscle_id": ("Muscle id (trigger points)", "ids of the muscle catalog"),
            "side": ("Side of the body", _SIDES),
            "view": "Body-map view the mark was made on",
            "x": "Horizontal position in body-model units of the view",
            "y": "Vertical position in body-model units of the view",
            "location_variant": "Alternative point location used",
            "technique": "Technique used",
            "depth_mm": ("Needling depth", "above 0 up to 150 mm"),
            "response": "Response obtained",
            "note": "Practitioner's note on the mark",
            "cup_type": ("Cupping type", _choices(_L.ids(_L.CUP_TYPES))),
            "cup_count": ("Number of cups", "cups"),
            "cup_minutes": ("Cup retention", "minutes"),
            "skin_response": "Skin response to cupping",
            "skin": (
                "Skin at the site",
                _choices(_L.ids(_L.SKIN_STATES)) + "; empty if not recorded",
            ),
            "version": "Edit counter of the row (bumped by every save)",
            "created_at": _CREATED,
            "updated_at": _UPDATED,
        },
        scope=Visit.patient_id,
        joins=(Visit,),
        order_by=(Mark.visit_id, Mark.id),
        refs={"visit_id": "visits.csv"},
        rename={"id": "mark_id", "muscle_id": "muscle"},
        lookups=(
            (Column("pinyin", "Acupoint name in pinyin", "text"), "point_code", _pinyin),
            (
                Column("english", "Acupoint name in English (translations vary)", "text"),
                "point_code",
                _english,
            ),
            (Column("muscle_name", "Muscle name (trigger points)", "text"), "muscle_id", _muscle),
            (
                Column(
                    "custom_point",
                    "The point is one of the clinic's custom points, not a WHO standard point",
                    "text",
                    "yes; empty",
                ),
                "point_code",
                _custom,
            ),
        ),
    ),
    CsvTable(
        "ea_pairs.csv",
        EAPair,
        "one row per electroacupuncture pair (two marks joined by a lead)",
        {
            "id": "EA pair id",
            "visit_id": "Visit (visit_id in visits.csv)",
            "mark_a_id": "First needle (mark_id in marks.csv)",
            "mark_b_id": "Second needle (mark_id in marks.csv)",
            "waveform": ("Stimulation waveform", _choices(_L.EA_WAVEFORMS)),
            "frequency_hz": ("Stimulation frequency", "above 0 up to 200 Hz"),
            "intensity_ma": ("Stimulation intensity", "0-50 mA"),
            "minutes": ("Stimulation time", "above 0 up to 120 minutes"),
            "frequency2_hz": (
                "Second frequency of a dense-disperse waveform (e.g. 100 in 2/100 Hz)",
                "above 0 up to 200 Hz; empty for one frequency",
            ),
            "device": "Stimulator device",
            "version": "Edit counter of the row (bumped by every save)",
        },
        scope=Visit.patient_id,
        joins=(Visit,),
        order_by=(EAPair.visit_id, EAPair.id),
        refs={"visit_id": "visits.csv", "mark_a_id": "marks.csv", "mark_b_id": "marks.csv"},
        rename={"id": "pair_id"},
    ),
    CsvTable(
        "adverse_events.csv",
        AdverseEvent,
        "one row per adverse event and the action taken",
        {
            "id": "Adverse event id",
            "visit_id": "Visit (visit_id in visits.csv)",
            "kind": ("What happened", _choices(_L.ids(_L.ADVERSE_EVENT_KINDS))),
            "severity": ("Severity", _choices(_L.ids(_L.ADVERSE_SEVERITIES))),
            "action": "Action taken",
            "note": "Description",
            "patient_told": "What the patient was told",
            "created_at": "When the event was recorded",
            "version": "Edit counter of the row (bumped by every save)",
        },
        scope=Visit.patient_id,
        joins=(Visit,),
        order_by=(AdverseEvent.visit_id, AdverseEvent.id),
        refs={"visit_id": "visits.csv"},
        rename={"id": "event_id", "created_at": "recorded_at"},
    ),
    CsvTable(
        "safety_decisions.csv",
        SafetyAcknowledgement,
        "one row per safety warning acknowledged or overridden (with the reason)",
        {
            "id": "Safety decision id",
            "visit_id": "Visit (visit_id in visits.csv)",
            "warning_key": "Which warning (rule and the marks or flags it concerned)",
            "rule": "Safety rule that raised the warning",
            "severity": ("Severity of the warning", "block; caution; info"),
            "message": "The warning as shown to the practitioner",
            "reason": "Reason given for overriding a blocking warning",
            "acknowledged_by_id": "Practitioner who decided (practitioner_id)",
            "acknowledged_at": "When the decision was made",
            "carried_from_visit_id": (
                "Visit the standing decision was made at, when it was carried over to this "
                "visit (visit_id in visits.csv; empty when decided at this visit)"
            ),
        },
        scope=Visit.patient_id,
        joins=((Visit, Visit.id == SafetyAcknowledgement.visit_id),),
        order_by=(SafetyAcknowledgement.visit_id, SafetyAcknowledgement.id),
        refs={
            "visit_id": "visits.csv",
            "acknowledged_by_id": "practitioners.csv",
            "carried_from_visit_id": "visits.csv",
        },
        rename={"id": "decision_id"},
    ),
    CsvTable(
        "standing_decisions.csv",
        StandingDecision,
        "one row per safety decision that holds for the patient's later visits",
        {
            "id": "Standing decision id",
            "patient_id": "Patient (patient_id in patients.csv)",
            "warning_key": "Which warning (rule and the point, side or technique it concerns)",
            "basis": "Hash of what the warning said; a change brings the warning back",
            "rule": "Safety rule that raised the warning",
            "severity": ("Severity of the warning", "block; caution; info"),
            "message": "The warning as decided",
            "reason": "Reason given for overriding a blocking warning",
            "visit_id": "Visit it was decided at (visit_id in visits.csv)",
            "decided_by_id": "Practitioner who decided (practitioner_id)",
            "decided_at": "When it was decided",
        },
        scope=StandingDecision.patient_id,
        order_by=(StandingDecision.patient_id, StandingDecision.id),
        refs={
            "patient_id": "patients.csv",
            "visit_id": "visits.csv",
            "decided_by_id": "practitioners.csv",
        },
        rename={"id": "standing_decision_id"},
    ),
    CsvTable(
        "amendments.csv",
        Amendment,
        "one row per correction of a signed visit (the signed values stay in visits.csv)",
        {
            "id": "Amendment id",
            "visit_id": "Visit (visit_id in visits.csv)",
            "author_id": "Practitioner who amended (practitioner_id)",
            "created_at": "When the amendment was made",
            "field": "Visit field corrected (a column of visits.csv)",
            "original": "Value as signed",
            "corrected": "Corrected value",
            "reason": "Reason for the amendment",
        },
        scope=Visit.patient_id,
        joins=(Visit,),
        order_by=(Amendment.visit_id, Amendment.id),
        refs={"visit_id": "visits.csv", "author_id": "practitioners.csv"},
        rename={"id": "amendment_id"},
    ),
    CsvTable(
        "needle_resolutions.csv",
        NeedleCountResolution,
        "one row per visit whose needles in and out differed: how it was resolved",
        {
            "id": "Resolution id",
            "visit_id": "Visit (visit_id in visits.csv)",
            "needles_in": ("Needles inserted", "needles"),
            "needles_out": ("Needles counted out", "needles"),
            "outcome": ("How it was resolved", _NEEDLE_OUTCOMES),
            "note": "What was found or done",
            "adverse_event_id": "Adverse event recorded for it (event_id in adverse_events.csv)",
            "recorded_by_id": "Practitioner who recorded it (practitioner_id)",
            "recorded_at": "When it was recorded",
        },
        scope=Visit.patient_id,
        joins=(Visit,),
        order_by=(NeedleCountResolution.visit_id,),
        refs={
            "visit_id": "visits.csv",
            "adverse_event_id": "adverse_events.csv",
            "recorded_by_id": "practitioners.csv",
        },
        rename={"id": "resolution_id"},
    ),
    CsvTable(
        "handouts.csv",
        HandoutIssue,
        "one row per aftercare handout given (an event beside the visit, also after signing)",
        {
            "id": "Handout id",
            "visit_id": "Visit (visit_id in visits.csv)",
            "how": ("How it was given", _HANDOUT_HOW),
            "issued_at": "When it was given",
            "issued_by": "Who gave it",
        },
        scope=Visit.patient_id,
        joins=(Visit,),
        order_by=(HandoutIssue.visit_id, HandoutIssue.id),
        refs={"visit_id": "visits.csv"},
        rename={"id": "handout_id"},
    ),
    CsvTable(
        "pain_areas.csv",
        PainArea,
        "one row per area of a pain drawing (a brush stroke, a region filled or an eraser stroke)",
        {
            "id": "Pain area id",
            "visit_id": "Visit (visit_id in visits.csv)",
            "view": "Body-map view drawn on",
            "kind": ("What the area is", "stroke; region; erase"),
            "points": ("Outline or stroke path", "JSON list of [x, y] in body-model units"),
            "width": ("Brush width", "body-model units; empty for a region"),
            "region": "Body region filled (region fills)",
            "side": ("Side of the body", _SIDES),
            "quality": ("Quality of the pain", _QUALITIES),
            "intensity": ("Intensity of the pain drawn", "0-10 numeric rating scale"),
            "drawn_by": ("Who drew it", "patient; practitioner"),
            "created_at": "When it was drawn",
        },
        scope=Visit.patient_id,
        joins=(Visit,),
        order_by=(PainArea.visit_id, PainArea.id),
        refs={"visit_id": "visits.csv"},
        rename={"id": "pain_area_id"},
    ),
    CsvTable(
        "pain_summaries.csv",
        PainSummary,
        "one row per pain drawing: the measures Charting computed from it",
        {
            "visit_id": "Visit (visit_id in visits.csv)",
            "measures": (
                "Extent, share of each region, furthest reach down each leg, overlap with and "
                "change since the previous and first drawings, dermatome hint",
                "JSON object",
            ),
            "computed_at": "When the measures were computed",
        },
        scope=Visit.patient_id,
        joins=(Visit,),
        order_by=(PainSummary.visit_id,),
        refs={"visit_id": "visits.csv"},
    ),
    CsvTable(
        "consents.csv",
        Consent,
        "one row per consent recorded: treatments agreed to, risks explained, withdrawal",
        {
            "id": "Consent id",
            "patient_id": "Patient (patient_id in patients.csv)",
            "course": "Course of treatment it covers",
            "treatments": "Treatments agreed to",
            "risks": "Risks explained (keys of the clinic's risk list)",
            "note": "Note",
            "taken_by_id": "Practitioner who took it (practitioner_id)",
            "taken_at": "When it was taken",
            "withdrawn_at": "When it was withdrawn (empty if in force)",
            "withdrawn_by": "Who recorded the withdrawal",
            "withdrawal_reason": "The patient's reason for withdrawing",
        },
        scope=Consent.patient_id,
        order_by=(Consent.patient_id, Consent.id),
        refs={"patient_id": "patients.csv", "taken_by_id": "practitioners.csv"},
        rename={"id": "consent_id"},
        types={"treatments": "list", "risks": "list"},
    ),
    CsvTable(
        "appointments.csv",
        Appointment,
        "one row per appointment in the book (with its visit once started)",
        {
            "id": "Appointment id (appointment_id in appointment_changes.csv)",
            "patient_id": "Patient (patient_id in patients.csv)",
            "practitioner_id": "Practitioner booked (practitioner_id)",
            "starts_at": "When it starts",
            "minutes": ("Length", "minutes"),
            "reason": "Reason for the visit",
            "status": ("Status", "arrived; booked; cancelled; done; no_show"),
            "booked_by": "Who booked it",
            "booked_at": "When it was booked",
            "visit_id": "Visit started from it (visit_id in visits.csv)",
            "version": "Edit counter of the row (bumped by every change)",
            "updated_at": _UPDATED,
        },
        scope=Appointment.patient_id,
        order_by=(Appointment.patient_id, Appointment.id),
        refs={
            "patient_id": "patients.csv",
            "practitioner_id": "practitioners.csv",
            "visit_id": "visits.csv",
        },
        rename={"id": "appointment_id"},
    ),
    CsvTable(
        "appointment_changes.csv",
        AppointmentChange,
        "one row per change to an appointment (booked, moved, cancelled ...): who, when, from, to",
        {
            "id": "Change id",
            "appointment_id": "Appointment (appointment_id in appointments.csv)",
            "at": "When",
            "username": "Who (sign-in name)",
            "action": "What was done",
            "before": "Before",
            "after": "After",
        },
        scope=Appointment.patient_id,
        joins=(Appointment,),
        order_by=(AppointmentChange.appointment_id, AppointmentChange.id),
        refs={"appointment_id": "appointments.csv"},
        rename={"id": "change_id"},
    ),
    CsvTable(
        "billing.csv",
        VisitBilling,
        "one row per visit with billing times: contact minutes, re-insertions, CPT codes",
        {
            "visit_id": "Visit (visit_id in visits.csv)",
            "needles_in_at": "When the needles went in",
            "needles_out_at": "When the needles came out",
            "ea_on_at": "When electrical stimulation started",
            "ea_off_at": "When electrical stimulation stopped",
            "contact_minutes": ("Personal one-on-one contact time", "minutes"),
            "reinsertions": ("Times needles were re-inserted", "0 or more"),
            "lines": ("CPT codes and units confirmed", "JSON list of {code, units}"),
            "confirmed_by_id": "Practitioner who confirmed the codes (practitioner_id)",
            "confirmed_at": "When the codes were confirmed",
            "updated_at": _UPDATED,
        },
        scope=Visit.patient_id,
        joins=(Visit,),
        order_by=(VisitBilling.visit_id,),
        refs={"visit_id": "visits.csv", "confirmed_by_id": "practitioners.csv"},
    ),
    CsvTable(
        "protocols.csv",
        Protocol,
        "one row per saved treatment protocol (a named set of marks)",
        {
            "id": "Protocol id",
            "name": "Protocol name",
            "items": "The protocol's marks (kind, code, muscle, side, view, x, y, technique)",
            "created_at": _CREATED,
        },
        rename={"id": "protocol_id"},
    ),
    CsvTable(
        "custom_points.csv",
        CustomPoint,
        "one row per custom point the clinic added to its body map (not WHO standard points)",
        {
            "id": "Custom point id",
            "code": "The point's code (point_code in marks.csv)",
            "name": "The point's name",
            "view": "Body-map view it is placed on",
            "x": "Horizontal position in body-model units of the view",
            "y": "Vertical position in body-model units of the view",
            "laterality": ("Where it exists", "bilateral (mirrored on both sides); midline"),
            "location": "Where it is, in the clinic's words",
            "cautions": "Needling cautions, in the clinic's words",
            "safe_depth_mm": ("Deepest safe needling the clinic set", "above 0 up to 150 mm"),
            "retired": "No longer offered for new marks (kept for the visits that used it)",
            "added_at": "When it was added",
            "updated_at": _UPDATED,
        },
        rename={"id": "custom_point_id"},
        omit=frozenset({"added_by_id"}),
        optional=True,
    ),
    CsvTable(
        "clinic_settings.csv",
        ClinicSetting,
        "one row per clinic setting (letterhead, handout wording, security, import mapping)",
        {"key": "Setting name", "value": "Setting value"},
    ),
    CsvTable(
        "accounts.csv",
        UserAccount,
        "one row per sign-in account, for the record (password hashes are never exported)",
        {
            "id": "Account id (user_id in audit_log.csv)",
            "username": "Sign-in name",
            "display_name": "Name shown in the app",
            "roles": ("Roles", "admin; front_desk; practitioner"),
            "practitioner_id": "Practitioner profile the account charts as",
            "active": "Whether the account may sign in",
            "created_at": _CREATED,
            "last_login_at": "Last successful sign-in",
        },
        rename={"id": "account_id"},
        omit=frozenset({"password_hash", "failed_logins", "locked_until", "password_changed_at"}),
        importable=False,
    ),
    CsvTable(
        "audit_log.csv",
        AuditEvent,
        "the audit-log entries about the exported patients (who saw, changed or printed what)",
        {
            "id": "Entry id",
            "seq": "Position in the clinic's log (1, 2, 3...)",
            "at": "When",
            "user_id": "Account (account_id in accounts.csv)",
            "username": "Sign-in name at the time",
            "action": "What was done",
            "patient_id": "Patient concerned (patient_id)",
            "target": "Record concerned",
            "outcome": ("Outcome", "ok; denied; failed"),
            "detail": "Details",
            "prev_hash": "Hash of the entry before (the chain)",
            "hash": "SHA-256 of this entry chained to the one before",
        },
        scope=AuditEvent.patient_id,
        order_by=(AuditEvent.seq,),
        rename={"id": "entry_id"},
        importable=False,
    ),
)

#: Tables of the schema deliberately left out of the CSV export, and why.
NOT_EXPORTED: dict[str, str] = {
    "counter": "internal counters (the importer sets them from the imported rows)",
    "alembic_version": "schema version bookkeeping",
}

DICTIONARY = (
    Column("file", "CSV file name", "text"),
    Column("column", "Column name (first row of the file)", "text"),
    Column("meaning", "What the column holds", "text"),
    Column("type", "Value type", "text"),
    Column("allowed", "Allowed values or units", "text"),
)


def table(file: str) -> CsvTable:
    """The table written to ``file``."""
    for item in TABLES:
        if item.file == file:
            return item
    raise KeyError(file)


def dictionary_rows() -> Iterator[list[str]]:
    """The data dictionary's rows: every column of every file (itself included)."""
    for item in TABLES:
        for column in item.columns:
            yield [item.file, column.name, column.meaning, column.type, column.allowed]
    for column in DICTIONARY:
        yield ["data_dictionary.csv", column.name, column.meaning, column.type, column.allowed]


class _Cells:
    """Turns the rows a file's query reads into the file's cells: lists and JSON converted,
    looked-up columns added, the checks made (the same for this process and a worker)."""

    def __init__(self, session: Session, item: CsvTable, bodymap: Any, dialect: str) -> None:
        self.session = session
        stored = item.columns[: len(item.columns) - len(item.lookups) - len(item.checks)]
        # Only the columns the database cannot format are converted here: lists and JSON
        # (and dates where they are not stored as text). Their values recur (the same codes,
        # flags and advice across a clinic), so each distinct value is converted once.
        self.convert: list[tuple[int, Callable[[Any], Any], dict[Any, Any]]] = [
            (i, cell_writer(c.kind), {})
            for i, c in enumerate(stored)
            if c.kind in _PYTHON_KINDS or (c.kind == "date" and dialect not in SQL_DATES)
        ]
        if item.lookups:
            from charting.services.custom_points import clinic_bodymap

            bodymap = bodymap or clinic_bodymap(session)
        self.bodymap = bodymap
        at = {c.attr: i for i, c in enumerate(stored)}
        # A few hundred codes recur across a clinic's marks: the looked-up cells of each
        # combination of source values are made once.
        self.sources = [at[source] for _, source, _ in item.lookups]
        self.functions = [fn for _, _, fn in item.lookups]
        # The looked-up columns' source values of a row, as a tuple (made in C when several).
        self.key_of: Callable[[Sequence[Any]], tuple[Any, ...]] = (
            itemgetter(*self.sources)
            if len(self.sources) > 1
            else lambda row: tuple(row[i] for i in self.sources)
        )
        self.looked: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self.checks = [(at[source], fn) for _, source, fn in item.checks]
        #: Where the key columns of the checks are in a row (see :func:`make_chunk`).
        self.key_at = [i for i, c in enumerate(stored) if c.attr in _key_columns(item)]

    def _look_up(self, key: tuple[Any, ...]) -> tuple[Any, ...]:
        extra = self.looked[key] = tuple(
            _text_cell(fn(self.bodymap, value))
            for fn, value in zip(self.functions, key, strict=True)
        )
        return extra

    def __call__(self, partition: Sequence[Any]) -> Iterator[Sequence[Any]]:
        """The cells of ``partition``'s rows (a whole chunk of patients when there are
        checks: they are made per chunk)."""
        convert, sources, looked, key_of = self.convert, self.sources, self.looked, self.key_of
        if not convert and not sources and not self.checks:
            yield from partition
            return
        found = [(i, fn(self.session, [row[i] for row in partition])) for i, fn in self.checks]
        if not convert and not found:
            # Only looked-up cells to add (marks.csv, a quarter of a million rows).
            for row in partition:
                key = key_of(row)
                yield (*row, *(looked.get(key) or self._look_up(key)))
            return
        for row in partition:
            cells = list(row)
            for i, write, seen in convert:
                value = cells[i]
                try:
                    cells[i] = seen[value]
                except KeyError:
                    cells[i] = converted = write(value)
                    if len(seen) < _MEMO_LIMIT:
                        seen[value] = converted
                except TypeError:  # not hashable (a driver's parsed JSON)
                    cells[i] = write(value)
            if sources:
                key = key_of(cells)
                cells.extend(looked.get(key) or self._look_up(key))
            for i, words in found:
                cells.append(_text_cell(words.get(row[i], "")))
            yield cells


#: A run of a file's rows, or a chunk's rows made by another process as CSV text.
Block = Iterable[Sequence[Any]] | str


def stream_blocks(
    session: Session,
    item: CsvTable,
    patient_ids: Sequence[int] | None,
    bodymap: Any = None,
    premade: Callable[[int], MadeChunk | None] | None = None,
    chunk_done: Callable[[], None] | None = None,
) -> Iterator[Block]:
    """The file's rows, read chunk by chunk with one statement each, in blocks of rows
    (each written before the next is read).

    ``patient_ids`` None means every row (clinic-wide tables ignore it anyway).
    ``chunk_done()`` is called once each chunk's rows are out (progress, see :func:`chunks`).
    ``premade(n)`` gives the n-th chunk of patients of a file with checks already made by
    another process (see :func:`make_chunk`), or None. Its text is used when the chunk's
    key columns read the same here; the chunk is made here otherwise.
    """
    connection = session.connection()
    dialect = connection.dialect.name
    cells = _Cells(session, item, bodymap, dialect)
    for index, chunk in enumerate(chunks(item, patient_ids)):
        made = premade(index) if premade is not None and item.checks else None
        text = made.text_if_same(connection, item, chunk) if made is not None else None
        if text is not None:
            yield text
        elif item.checks:  # made per chunk: the whole chunk at once
            yield cells(_chunk_rows(connection, item, chunk))
        else:
            for part in batches(connection, item.query(chunk, dialect), 5_000):
                yield cells(part)
        if chunk_done is not None:
            chunk_done()


def stream_rows(
    session: Session, item: CsvTable, patient_ids: Sequence[int] | None, bodymap: Any = None
) -> Iterator[Sequence[Any]]:
    """The file's rows as sequences of cells (see :func:`stream_blocks`)."""
    for block in stream_blocks(session, item, patient_ids, bodymap):
        assert not isinstance(block, str)  # only premade chunks come as text
        yield from block


def csv_writer(handle: IO[str]) -> Any:
    """The writer of every exported CSV file: RFC 4180 quoting, CRLF line ends."""
    return csv.writer(handle, lineterminator="\r\n")


@dataclass(frozen=True)
class MadeChunk:
    """One chunk of patients of a file with checks (visits.csv), made by :func:`make_chunk`
    in another process: its rows as CSV text in a file of the export's folder, and the
    digest of the key columns it was made from (see :attr:`CsvTable.check_key`)."""

    digest: str
    path: str

    def text_if_same(
        self, connection: Any, item: CsvTable, chunk: Sequence[int] | None
    ) -> str | None:
        """The chunk's text when its rows' key columns read the same in this transaction
        (else None: the chunk is made again here). The text's file is removed either way."""
        path = Path(self.path)
        try:
            keys = _chunk_rows(connection, item, chunk, only=_key_columns(item))
            if _digest(keys, range(len(keys[0]) if keys else 0)) != self.digest:
                return None
            with path.open(encoding="utf-8", newline="") as handle:
                return handle.read()  # as written: its line ends are the file's
        except OSError:  # the worker's file is gone or unreadable: made here instead
            return None
        finally:
            path.unlink(missing_ok=True)


def make_chunk(
    session: Session, item: CsvTable, chunk: Sequence[int] | None, path: Path, bodymap: Any = None
) -> MadeChunk:
    """Make one chunk of patients (one of :func:`chunks`) of a file with checks, e.g. the
    visits with each signature checked, as :func:`stream_blocks` would, and write its rows
    as CSV text to ``path``. Run in another process while this one writes the other files.

    The digest covers the key columns (:attr:`CsvTable.check_key` and the checks' source):
    every change Charting makes to a visit moves its version and time of change, so a chunk
    whose keys read the same in the exporting transaction holds the same rows and verdicts.
    """
    connection = session.connection()
    cells = _Cells(session, item, bodymap, connection.dialect.name)
    rows = _chunk_rows(connection, item, chunk)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv_writer(handle).writerows(cells(rows))
    return MadeChunk(_digest(rows, cells.key_at), str(path))


def _chunk_rows(
    connection: Any, item: CsvTable, chunk: Sequence[int] | None, only: set[str] | None = None
) -> list[Sequence[Any]]:
    """Every row of one chunk of patients of ``item`` (``only`` these columns, when given)."""
    query = item.query(chunk, connection.dialect.name, only=only)
    return [row for part in batches(connection, query, 5_000) for row in part]


def _key_columns(item: CsvTable) -> set[str]:
    return {source for _, source, _ in item.checks} | set(item.check_key)


def _digest(rows: Sequence[Sequence[Any]], at: Sequence[int] | range) -> str:
    """SHA-256 of the values at positions ``at`` of every row, in order."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(repr(tuple(row[i] for i in at)).encode("utf-8"))
    return digest.hexdigest()


#: Kinds written by Python (see :func:`_read_expression` for the others).
_PYTHON_KINDS = frozenset({"list", "psfs", "json"})
#: Distinct values remembered per column: the recurring ones are met long before this.
_MEMO_LIMIT = 20_000


def chunks(item: CsvTable, patient_ids: Sequence[int] | None) -> list[Sequence[int] | None]:
    """The chunks of patients :func:`stream_rows` reads ``item`` in, in order (one, None,
    for every row)."""
    if item.scope is None or patient_ids is None:
        return [None]
    ids = sorted(patient_ids)
    size = CHECK_CHUNK if item.checks else CHUNK
    return [ids[i : i + size] for i in range(0, len(ids), size)]
