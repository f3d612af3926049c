"""What a signature covers, its hash, and checking signed visits against it.

Signing stores the SHA-256 of the visit's content (its record, marks, EA pairs, adverse
events, safety decisions and needle-count resolution), serialised canonically, and the audit
log records the same hash. A signed visit is checked whenever it is opened, printed or
exported, and ``charting audit verify`` checks every one: an edit by any means (a direct SQL
edit included) makes the content disagree with the stored hash, and rewriting the stored hash
too makes it disagree with the audit log's.

The content's layout has a number (``Visit.signature_format``): a visit keeps the layout it
was signed in, so a later change of layout never breaks older signatures.

Rows are read as plain values, many visits at a time, so that checking a whole clinic is a
few statements per few hundred visits rather than several per visit.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Integer, String, Table, select, type_coerce
from sqlalchemy.orm import Session

from charting.models import (
    AdverseEvent,
    AuditEvent,
    EAPair,
    Mark,
    NeedleCountResolution,
    PainArea,
    Patient,
    SafetyAcknowledgement,
    Visit,
    VisitStatus,
)
from charting.models.base import UTCDateTime
from charting.models.db import among, batches
from charting.services.marks import EA_PAIR_COLUMNS, MARK_FIELDS
from charting.services.visit_fields import FIELD_BLANKS, FIELDS

#: The layout new signatures use (see :func:`content_of`): 3 adds the pain drawing, 4 the
#: referral decision and the patient's position (every record field added since) and the
#: skin at each mark's site.
SIGNATURE_FORMAT = 4
# Formats 1 to 3 covered exactly these record fields (written out, not read from FIELDS, so a
# field added to the record never changes the hash of a visit signed before it); format 4
# covers every field of FIELDS.
_V3_RECORD_FIELDS = (
    "chief_complaint",
    "notes",
    "onset",
    "duration",
    "mechanism",
    "pain_quality",
    "radiation",
    "aggravating",
    "easing",
    "sleep",
    "current_medications",
    "pain_now",
    "pain_best",
    "pain_worst",
    "response_since_last",
    "red_flags",
    "referral_decision",
    "posture",
    "range_of_motion",
    "palpation",
    "straight_leg_raise",
    "reflexes",
    "sensation",
    "tongue",
    "pulse",
    "tcm_patterns",
    "assessment",
    "icd10_codes",
    "needle_brand",
    "needle_gauge",
    "needle_length",
    "needle_lot",
    "needle_expiry",
    "needles_out",
    "retention_minutes",
    "moxibustion",
    "heat_lamp",
    "home_advice",
    "home_advice_notes",
    "pain_after",
    "patient_response",
    "next_appointment",
    "psfs",
    "odi_percent",
    "rmdq_score",
)
# Format 1 covered these record fields (the handout flag was part of the record then) and
# these EA columns (one frequency only).
_V1_RECORD_FIELDS = (*_V3_RECORD_FIELDS, "handout_given")
_V1_EA_COLUMNS = (
    "mark_a_id",
    "mark_b_id",
    "waveform",
    "frequency_hz",
    "intensity_ma",
    "minutes",
    "device",
)
# Formats 1 to 3 covered exactly these columns of each mark; format 4 covers MARK_FIELDS
# (the skin at the site was added with it).
_V3_MARK_FIELDS = (
    "kind",
    "view",
    "x",
    "y",
    "side",
    "point_code",
    "muscle_id",
    "location_variant",
    "technique",
    "depth_mm",
    "response",
    "note",
    "cup_type",
    "cup_count",
    "cup_minutes",
    "skin_response",
)
_EVENT_COLUMNS = ("kind", "severity", "action", "note", "patient_told")
_PAIN_COLUMNS = (
    "view",
    "kind",
    "points",
    "width",
    "region",
    "side",
    "quality",
    "intensity",
    "drawn_by",
)
_VISIT_KEYS = ("id", "patient_id", "number", "practitioner_id", "started_at")
#: How the audit log's sign entry names the hash signed.
SIGNED_HASH_PREFIX = "content SHA-256 "
_LOGGED_HASH = re.compile(re.escape(SIGNED_HASH_PREFIX) + r"([0-9a-f]{64})")
CHUNK = 400  # visits read together when checking many
_PROBLEMS_CHUNK = 2_000  # visits per statement in problems() (an export's chunk at once)


def jsonable(value: Any) -> Any:
    """A value as the signed content holds it (dates and times as ISO text)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


@dataclass
class VisitRows:
    """One visit's rows as plain values, as the signed content is built from them."""

    visit: dict[str, Any]
    marks: list[dict[str, Any]]
    pairs: list[dict[str, Any]]
    events: list[dict[str, Any]]
    acknowledgements: list[tuple[str, str, str]]
    needle_resolution: dict[str, Any] | None
    pain: list[dict[str, Any]] = field(default_factory=list)


def content_of(rows: VisitRows, fmt: int = SIGNATURE_FORMAT) -> dict[str, Any]:
    """The signed content of a visit in layout ``fmt``, from its rows (marks in the order
    they were made).

    In format 2, EA pairs name their needles by position in that order rather than by
    database id, so the content can be computed from rows about to be written (the demo
    clinic does) and survives a copy into another database.
    """
    v = rows.visit
    head = {k: jsonable(v[k]) for k in _VISIT_KEYS}
    if fmt == 1:
        return {
            "visit": head,
            "record": {
                k: jsonable(v.get(k, FIELD_BLANKS.get(k, False))) for k in _V1_RECORD_FIELDS
            },
            "marks": [
                {"id": m["id"], **{c: m.get(c) for c in _V3_MARK_FIELDS}} for m in rows.marks
            ],
            "ea_pairs": [{c: p.get(c) for c in _V1_EA_COLUMNS} for p in rows.pairs],
            "adverse_events": [
                {c: e.get(c, "") for c in ("kind", "severity", "action", "note")}
                for e in rows.events
            ],
            "acknowledgements": sorted(list(a) for a in rows.acknowledgements),
        }
    position = {m["id"]: i for i, m in enumerate(rows.marks)}
    # The same values as a comprehension calling jsonable() on each, built with C-level
    # zip/map: checking a whole clinic builds this for every signed visit.
    get = v.get
    keys = _V3_RECORD_KEYS if fmt < 4 else _RECORD_KEYS
    record = dict(zip(keys, map(get, keys, map(FIELD_BLANKS.__getitem__, keys)), strict=True))
    for key in _TIME_FIELDS:
        if key in record:
            record[key] = jsonable(record[key])
    mark_fields = _V3_MARK_KEYS if fmt < 4 else _MARK_KEYS
    content = {
        "format": fmt,
        "visit": head,
        "record": record,
        "marks": _mark_contents(rows.marks, mark_fields),
        "ea_pairs": [
            {
                "a": position.get(p["mark_a_id"]),
                "b": position.get(p["mark_b_id"]),
                **{c: p.get(c) for c in EA_PAIR_COLUMNS},
            }
            for p in rows.pairs
        ],
        "adverse_events": [{c: e.get(c, "") for c in _EVENT_COLUMNS} for e in rows.events],
        "acknowledgements": sorted(list(a) for a in rows.acknowledgements),
        "needle_resolution": rows.needle_resolution,
    }
    if fmt >= 3:
        content["pain"] = [{c: p.get(c) for c in _PAIN_COLUMNS} for p in rows.pain]
    return content


# The signed dicts are built with their keys in sorted order: the serialisation still sorts
# them (so the text never depends on how a dict was built), but sorting keys that are in
# order already is a single pass, and that made the canonical JSON about 13% sooner.
_RECORD_KEYS = tuple(sorted(FIELDS))
_V3_RECORD_KEYS = tuple(sorted(_V3_RECORD_FIELDS))
_MARK_KEYS = tuple(sorted(MARK_FIELDS))
_V3_MARK_KEYS = tuple(sorted(_V3_MARK_FIELDS))


def _mark_contents(marks: list[dict[str, Any]], fields: tuple[str, ...]) -> list[dict[str, Any]]:
    """Each mark's signed fields. A mark :func:`load_rows` read holds exactly the current
    layout's fields plus its id and visit: a copy without those two is the same dict, made
    several times faster (a clinic has a quarter of a million marks)."""
    if fields is _MARK_KEYS and _MARKS_COPY:
        out = []
        for m in marks:
            if type(m) is _LoadedMark:
                content = m.copy()  # a plain dict
                del content["id"], content["visit_id"]
                out.append(content)
            else:
                out.append(dict(zip(fields, map(m.get, fields), strict=True)))
        return out
    return [dict(zip(fields, map(m.get, fields), strict=True)) for m in marks]


class _LoadedMark(dict[str, Any]):
    """A mark as :func:`load_rows` reads it: exactly ``_MARK_COLUMNS`` (id, visit, and
    the fields every layout covers)."""


#: Record fields held as dates or times (written as ISO text in the content).
_TIME_FIELDS = tuple(k for k, spec in FIELDS.items() if spec.kind in ("date", "datetime"))


def hash_content(content: dict[str, Any]) -> str:
    """SHA-256 of signed content, canonically serialised."""
    # Content built from rows holds no cycles, so the encoder need not track every container
    # it enters (the same text, about 7% sooner).
    canonical = json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, check_circular=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _table(cls: type) -> Table:
    table = cls.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


#: The columns the signed content is built from in any layout (and what checking needs), so
#: loading reads nothing else: the rows' other times alone cost more to convert than the
#: content does to hash.
_VISIT_COLUMNS = tuple(
    dict.fromkeys(
        ("status", "signature_format", "content_hash", *_VISIT_KEYS, *_V1_RECORD_FIELDS, *FIELDS)
    )
)
_MARK_COLUMNS = ("id", "visit_id", *sorted({*MARK_FIELDS, *_V3_MARK_FIELDS}))
_PAIR_COLUMNS = (
    "visit_id",
    *dict.fromkeys(("mark_a_id", "mark_b_id", *_V1_EA_COLUMNS, *EA_PAIR_COLUMNS)),
)
_EVENT_READ = ("visit_id", *_EVENT_COLUMNS)
#: A loaded mark is its id, its visit and exactly the current layout's fields (true while
#: every field an older layout covered is still a field of the current one).
_MARKS_COPY = ("id", "visit_id", *_MARK_KEYS) == _MARK_COLUMNS
_PAIN_READ = ("visit_id", *_PAIN_COLUMNS)


class _JsonText:
    """JSON read as the stored text and decoded once per distinct value.

    A clinic's lists recur (no red flags, the same codes and advice), and decoding each
    cell again was a fifth of checking every signature. Shared values are only read: the
    signed content is serialised, never changed. PostgreSQL's driver hands JSON over decoded
    already; such values pass through.
    """

    LIMIT = 20_000  # distinct values remembered

    def __init__(self) -> None:
        self.seen: dict[str, Any] = {}

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return self.seen[value]
        except KeyError:
            decoded = json.loads(value)
            if len(self.seen) < self.LIMIT:
                self.seen[value] = decoded
            return decoded


def _as_time(value: Any) -> Any:
    """A stored time as UTCDateTime reads it (aware, in UTC) from the driver's value."""
    if isinstance(value, str):  # SQLite: UTC text "2025-03-01 09:30:00.000000"
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value


def _as_date(value: Any) -> Any:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _as_bool(value: Any) -> Any:
    return value if value is None else bool(value)


def _reader(
    table: Table, names: Sequence[str], decode: _JsonText
) -> tuple[Any, list[tuple[int, Callable[[Any], Any]]]]:
    """A select of ``names`` read as the driver gives them (on SQLite straight from its
    cursor), and the conversions that give back the values the ORM would: JSON decoded,
    times aware in UTC, dates and booleans as such. SQLAlchemy's own conversion of every
    row was a third of checking a clinic's signatures."""
    columns: list[Any] = []
    convert: list[tuple[int, Callable[[Any], Any]]] = []
    for i, name in enumerate(names):
        column = table.c[name]
        kind = column.type
        fn: Callable[[Any], Any] | None = None
        raw: Any = None
        if isinstance(kind, JSON):
            fn, raw = decode, String()
        elif isinstance(kind, UTCDateTime):
            fn, raw = _as_time, String()
        elif isinstance(kind, Date):
            fn, raw = _as_date, String()
        elif isinstance(kind, Boolean):
            fn, raw = _as_bool, Integer()
        if fn is None:
            columns.append(column)
        else:
            columns.append(type_coerce(column, raw).label(name))
            convert.append((i, fn))
    return select(*columns), convert


def _dicts(
    session: Session, statement: Any, names: Sequence[str], convert: Sequence[Any]
) -> Iterator[dict[str, Any]]:
    """The rows of ``statement`` as dicts of ``names``, converted (see :func:`_reader`)."""
    for rows in batches(session.connection(), statement, 10_000):
        for row in rows:
            values = dict(zip(names, row, strict=True))
            for i, fn in convert:
                values[names[i]] = fn(row[i])
            yield values


def _grouped(
    session: Session,
    table: Table,
    names: Sequence[str],
    ids: list[int],
    found: dict[int, VisitRows],
    into: Callable[[VisitRows], list[dict[str, Any]]],
    decode: _JsonText,
    kind: type[dict[str, Any]] = dict,
) -> None:
    """Add the rows of ``table`` of visits ``ids`` (one statement) to their visits' lists
    (``into`` names the list) in id order, as dicts (of type ``kind``) of ``names``."""
    statement, convert = _reader(table, names, decode)
    dialect = session.connection().dialect.name
    # Visit, then id: the order of the visit_id index, so the database does not sort.
    statement = statement.where(among(table.c.visit_id, ids, dialect)).order_by(
        table.c.visit_id, table.c.id
    )
    at = names.index("visit_id")
    visit: Any = None
    current: list[dict[str, Any]] = []  # the list of the visit the last row belonged to
    for rows in batches(session.connection(), statement, 10_000):
        for row in rows:
            values = kind(zip(names, row, strict=True))
            for i, fn in convert:
                values[names[i]] = fn(row[i])
            if row[at] != visit:  # rows come visit by visit
                visit = row[at]
                current = into(found[visit])
            current.append(values)


def load_rows(session: Session, visit_ids: Sequence[int]) -> dict[int, VisitRows]:
    """The rows of ``visit_ids`` (a few hundred at a time), as plain values, by visit id.

    Only the columns the signed content covers are read (plus what checking needs).
    """
    visits = _table(Visit)
    found: dict[int, VisitRows] = {}
    decode = _JsonText()
    names = [n for n in _VISIT_COLUMNS if n in visits.c]
    statement, convert = _reader(visits, names, decode)
    dialect = session.connection().dialect.name
    statement = statement.where(among(visits.c.id, visit_ids, dialect))
    for values in _dicts(session, statement, names, convert):
        found[values["id"]] = VisitRows(values, [], [], [], [], None)
    if not found:
        return found
    ids = list(found)
    _grouped(session, _table(Mark), _MARK_COLUMNS, ids, found, _marks, decode, _LoadedMark)
    _grouped(session, _table(EAPair), _PAIR_COLUMNS, ids, found, _pairs, decode)
    _grouped(session, _table(AdverseEvent), _EVENT_READ, ids, found, _events, decode)
    acks = _table(SafetyAcknowledgement)
    ack_rows = session.execute(
        select(acks.c.visit_id, acks.c.warning_key, acks.c.severity, acks.c.reason).where(
            among(acks.c.visit_id, ids, dialect)
        )
    )
    for ack in ack_rows:
        found[ack.visit_id].acknowledgements.append((ack.warning_key, ack.severity, ack.reason))
    _grouped(session, _table(PainArea), _PAIN_READ, ids, found, _pain, decode)
    resolutions = _table(NeedleCountResolution)
    for row in session.execute(
        select(
            resolutions.c.visit_id,
            resolutions.c.needles_in,
            resolutions.c.needles_out,
            resolutions.c.outcome,
            resolutions.c.note,
        ).where(among(resolutions.c.visit_id, ids, dialect))
    ):
        found[row.visit_id].needle_resolution = {
            "needles_in": row.needles_in,
            "needles_out": row.needles_out,
            "outcome": row.outcome,
            "note": row.note,
        }
    return found


def _marks(rows: VisitRows) -> list[dict[str, Any]]:
    return rows.marks


def _pairs(rows: VisitRows) -> list[dict[str, Any]]:
    return rows.pairs


def _events(rows: VisitRows) -> list[dict[str, Any]]:
    return rows.events


def _pain(rows: VisitRows) -> list[dict[str, Any]]:
    return rows.pain


def content_hash(session: Session, visit_id: int, fmt: int | None = None) -> str:
    """SHA-256 of a visit's content in layout ``fmt`` (its own when signed, else the current
    one)."""
    rows = load_rows(session, [visit_id]).get(visit_id)
    if rows is None:
        raise LookupError(visit_id)
    if fmt is None:
        signed = rows.visit["status"] == VisitStatus.SIGNED.value
        fmt = rows.visit["signature_format"] if signed else SIGNATURE_FORMAT
    return hash_content(content_of(rows, fmt))


def logged_hashes(session: Session, visit_ids: Iterable[int] | None = None) -> dict[int, str]:
    """The content hash the audit log recorded when each visit was last signed (visits
    signed before the log recorded hashes are absent)."""
    query = select(AuditEvent.target, AuditEvent.detail).where(AuditEvent.action == "visit.signed")
    if visit_ids is not None:
        targets = [f"visit {i}" for i in visit_ids]
        query = query.where(among(AuditEvent.target, targets, session.connection().dialect.name))
    found: dict[int, str] = {}
    for target, detail in session.execute(query.order_by(AuditEvent.seq)):
        match = _LOGGED_HASH.search(detail or "")
        if match and target.startswith("visit "):
            found[int(target[6:])] = match[1]
    return found


def _problem(rows: VisitRows, logged: str | None) -> str | None:
    visit = rows.visit
    if visit["status"] != VisitStatus.SIGNED.value:
        if logged is not None:
            return "this visit was signed, and its record was later set back to a draft"
        return None
    stored = visit["content_hash"]
    if not stored or hash_content(content_of(rows, visit["signature_format"])) != stored:
        return "this record was changed after it was signed: it no longer matches its signature"
    if logged is not None and logged != stored:
        return (
            "the signature stored with this record is not the one the audit log recorded when "
            "it was signed"
        )
    return None


def problems(session: Session, visit_ids: Sequence[int]) -> dict[int, str | None]:
    """What is wrong with each signed visit's signature among ``visit_ids`` (None when it is
    intact), a few hundred visits per statement; drafts never signed are left out."""
    found: dict[int, str | None] = {}
    ids = list(visit_ids)
    for start in range(0, len(ids), _PROBLEMS_CHUNK):
        chunk = ids[start : start + _PROBLEMS_CHUNK]
        rows = load_rows(session, chunk)
        logged = logged_hashes(session, chunk)
        for visit_id, visit_rows in rows.items():
            if visit_rows.visit["status"] == VisitStatus.SIGNED.value or visit_id in logged:
                found[visit_id] = _problem(visit_rows, logged.get(visit_id))
    return found


def signature_problem(session: Session, visit_id: int) -> str | None:
    """What is wrong with a visit's signature, in words; None when it is intact (or the visit
    is a draft that was never signed)."""
    rows = load_rows(session, [visit_id]).get(visit_id)
    if rows is None:
        return None
    logged = logged_hashes(session, [visit_id]).get(visit_id)
    return _problem(rows, logged)


@dataclass(frozen=True)
class AlteredVisit:
    """A signed visit that no longer matches its signature."""

    visit_id: int
    chart_number: str
    number: int
    problem: str


def check_all(
    session: Session, progress: Callable[[int, int], None] | None = None
) -> Iterator[AlteredVisit]:
    """Check every signed visit (and every visit the log says was signed); yield each one
    whose signature does not hold. ``progress(done, total)`` follows the work."""
    logged = logged_hashes(session)
    ids = set(
        session.scalars(select(Visit.id).where(Visit.status == VisitStatus.SIGNED.value))
    ) | set(logged)
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        rows = load_rows(session, chunk)
        for visit_id in chunk:
            found = rows.get(visit_id)
            if found is None:
                yield AlteredVisit(visit_id, "", 0, "this signed visit was deleted")
                continue
            if (problem := _problem(found, logged.get(visit_id))) is not None:
                chart = session.scalar(
                    select(Patient.chart_number).where(Patient.id == found.visit["patient_id"])
                )
                yield AlteredVisit(visit_id, chart or "", found.visit["number"], problem)
        if progress is not None:
            progress(min(start + CHUNK, len(ordered)), len(ordered))
