"""Marks on a visit's body map: add, move, edit, delete, restore, and the protocols that reuse them.

Every call writes in the caller's (short) transaction and returns a change summary; the map
always redraws from :func:`list_marks`, never from its own state.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from charting.bodymap import BodyMap
from charting.models import EAPair, Mark, MarkKind, Protocol, Visit
from charting.services import clinical_lists as lists
from charting.services.access import Permission, require
from charting.services.changes import Changes
from charting.services.errors import NotFoundError, ServiceError, ValidationError
from charting.services.guard import SignedVisitError as SignedVisitError
from charting.services.guard import check_editable
from charting.services.validation import check_text
from charting.services.versions import check_version

# Techniques and responses offered per mark (STRICTA items 2b-2f).
TECHNIQUES = {
    "": "Not recorded",
    "manual": "Manual needling",
    "electro": "Electroacupuncture",
    "trigger_point": "Trigger-point needling",
    "cupping": "Cupping",
    "moxibustion": "Moxibustion",
    "press": "Acupressure / press needle",
    "bloodletting": "Bloodletting (pricking to bleed)",
}
RESPONSES = {
    "": "Not recorded",
    "de_qi": "De qi",
    "twitch": "Local twitch response",
    "referral": "Referral reproduced",
    "twitch_referral": "Twitch and referral reproduced",
    "none": "No response",
}
DEFAULT_TECHNIQUE = {
    MarkKind.ACUPOINT.value: "manual",
    MarkKind.TRIGGER_POINT.value: "trigger_point",
    MarkKind.ASHI.value: "manual",
    MarkKind.CUPPING.value: "cupping",
}
KIND_LABELS = {
    MarkKind.ACUPOINT.value: "Acupoint",
    MarkKind.TRIGGER_POINT.value: "Trigger point",
    MarkKind.ASHI.value: "Ashi point",
    MarkKind.CUPPING.value: "Cupping site",
}
#: How a mark of a clinic's custom point is named (an acupoint mark, drawn and printed apart).
CUSTOM_LABEL = "Custom point"


def kind_label(row: MarkRow) -> str:
    """What a mark is, in words: its kind, or "Custom point" for a clinic's own point."""
    return CUSTOM_LABEL if row.custom else KIND_LABELS.get(row.kind, row.kind)


MAX_DEPTH_MM = 150.0
CUP_TYPE_IDS = frozenset({"", "dry", "fire", "wet", "sliding", "flash"})
SKIN_IDS = frozenset(c.id for c in lists.SKIN_STATES)
# Short muscle names for map labels, as commonly abbreviated in myofascial charting.
MUSCLE_ABBREVIATIONS = {
    "quadratus_lumborum": "QL",
    "iliocostalis_lumborum": "ICL",
    "iliocostalis_thoracis": "ICT",
    "longissimus_thoracis": "LT",
    "multifidus_rotatores": "MF",
    "gluteus_maximus": "GMax",
    "gluteus_medius": "GMed",
    "gluteus_minimus": "GMin",
    "piriformis": "Pir",
    "hamstrings_medial": "ST/SM",
    "biceps_femoris": "BF",
    "gastrocnemius": "Gastroc",
    "soleus": "Soleus",
    "tensor_fasciae_latae": "TFL",
    "vastus_lateralis_itb": "VL/ITB",
    "fibularis_longus": "FL",
    "tibialis_anterior": "TA",
    "adductors": "Add",
    "iliopsoas": "IP",
    "rectus_abdominis": "RA",
}


@dataclass(frozen=True)
class MarkSpec:
    """What to put on the map (a mark without its id and visit)."""

    kind: str
    view: str
    x: float
    y: float
    side: str
    point_code: str | None = None
    muscle_id: str | None = None
    location_variant: str = ""
    technique: str = ""
    depth_mm: float | None = None
    response: str = ""
    note: str = ""
    cup_type: str = ""
    cup_count: int | None = None
    cup_minutes: int | None = None
    skin_response: str = ""
    skin: str = ""


#: The stored fields of a mark (everything but its id and visit), in a stable order.
MARK_FIELDS: tuple[str, ...] = ()  # filled in below, once MarkSpec exists


@dataclass(frozen=True)
class MarkDetails:
    """The editable details of a mark (the cupping fields apply to cupping sites)."""

    technique: str = ""
    depth_mm: float | None = None
    response: str = ""
    note: str = ""
    cup_type: str = ""
    cup_count: int | None = None
    cup_minutes: int | None = None
    skin_response: str = ""
    skin: str = ""


@dataclass(frozen=True)
class MarkRow:
    """A stored mark as the map, lists and reports show it."""

    id: int
    visit_id: int
    spec: MarkSpec
    # Derived from the catalog (not stored), so it takes no part in comparisons.
    flags: frozenset[str] = field(default_factory=frozenset, compare=False)
    #: True for a mark of one of the clinic's custom points (derived from the body map).
    custom: bool = field(default=False, compare=False)
    # The row's version when read: an edit made from this copy is refused if it changed since.
    # (Not part of comparisons: two reads of the same mark with the same content are equal.)
    version: int = field(default=1, compare=False)

    @property
    def kind(self) -> str:
        """Mark kind (acupoint, trigger_point, ashi, cupping)."""
        return self.spec.kind

    @property
    def label(self) -> str:
        """Compact map label: "BL23 L", "GV4", "QL TrP R", "Ashi L", "Cup R"."""
        return mark_label(self.spec)

    @property
    def symbol(self) -> str:
        """The symbol style it is drawn with: its kind, or "custom" for a custom point."""
        return "custom" if self.custom else self.spec.kind


MARK_FIELDS = tuple(f.name for f in fields(MarkSpec))


def mark_label(spec: MarkSpec) -> str:
    """Compact label of a mark, as drawn beside it on the map."""
    side = "" if spec.side == "M" else f" {spec.side}"
    if spec.kind == MarkKind.ACUPOINT.value:
        return f"{spec.point_code}{side}"
    if spec.kind == MarkKind.TRIGGER_POINT.value:
        muscle = spec.muscle_id or ""
        short = MUSCLE_ABBREVIATIONS.get(muscle, muscle.replace("_", " "))
        return f"TrP {short}{side}".strip()
    if spec.kind == MarkKind.ASHI.value:
        return f"Ashi{side}"
    return f"Cup{side}"


def _editable_visit(session: Session, visit_id: int) -> Visit:
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFoundError("That visit no longer exists.")
    check_editable(session, visit)
    # The session's identity map holds objects weakly: keep the checked visit for the rest
    # of the transaction, so the audit entry (which names its patient) does not read it again.
    session.info.setdefault("checked_visits", {})[visit_id] = visit
    return visit


def validate_spec(spec: MarkSpec, bodymap: BodyMap) -> dict[str, str]:
    """Check a mark against the catalogs; return ``{field: message}`` for every problem."""
    errors: dict[str, str] = {}
    if spec.kind not in {k.value for k in MarkKind}:
        errors["kind"] = "Unknown kind of mark."
    if spec.view not in bodymap.views:
        errors["view"] = f"Unknown body-map view '{spec.view}'."
    elif not (math.isfinite(spec.x) and math.isfinite(spec.y)) or not bodymap.inside_outline(
        spec.view, spec.x, spec.y
    ):
        errors["position"] = "The mark must be on the body."
    if spec.side not in ("L", "R", "M"):
        errors["side"] = "Side must be L, R or M."
    if spec.kind == MarkKind.ACUPOINT.value:
        try:
            point = bodymap.point(spec.point_code or "")
        except KeyError:
            errors["point_code"] = f"'{spec.point_code}' is not in the acupoint catalog."
        else:
            if point.retired:
                errors["point_code"] = (
                    f"{point.code} is a retired custom point of this clinic: it is no longer "
                    "charted (bring it back in Settings \u25b8 Custom points\u2026)."
                )
            elif spec.side not in point.sides:
                errors["side"] = f"{point.code} is not charted on side {spec.side}."
    if spec.kind == MarkKind.TRIGGER_POINT.value:
        try:
            bodymap.muscle(spec.muscle_id or "")
        except KeyError:
            errors["muscle_id"] = "Unknown muscle."
    errors.update(validate_details(details_of(spec)))
    return errors


def validate_details(details: MarkDetails) -> dict[str, str]:
    """Check a mark's editable details."""
    errors: dict[str, str] = {}
    if details.technique not in TECHNIQUES:
        errors["technique"] = "Choose a technique from the list."
    if details.response not in RESPONSES:
        errors["response"] = "Choose a response from the list."
    depth = details.depth_mm
    if depth is not None and (not math.isfinite(depth) or not 0 < depth <= MAX_DEPTH_MM):
        errors["depth_mm"] = f"Depth must be between 0 and {MAX_DEPTH_MM:g} mm."
    problem = check_text(details.note, "Note", 2_000)
    if problem:
        errors["note"] = problem
    if details.cup_type not in CUP_TYPE_IDS:
        errors["cup_type"] = "Choose a cupping method from the list."
    if details.skin and details.skin not in SKIN_IDS:
        errors["skin"] = "Choose the skin at the site from the list."
    for name, label, high in (("cup_count", "Number of cups", 30), ("cup_minutes", "Minutes", 60)):
        value = getattr(details, name)
        if value is not None and (isinstance(value, bool) or not 1 <= value <= high):
            errors[name] = f"{label} must be between 1 and {high}."
    if problem := check_text(details.skin_response, "Skin response", 200):
        errors["skin_response"] = problem
    return errors


def details_of(spec: MarkSpec) -> MarkDetails:
    """The editable details carried by a mark specification."""
    return MarkDetails(**{f.name: getattr(spec, f.name) for f in fields(MarkDetails)})


def _to_row(mark: Any, bodymap: BodyMap | None = None) -> MarkRow:
    """A ``MarkRow`` from a ``Mark`` entity or a plain row of the mark table."""
    spec = MarkSpec(
        kind=mark.kind,
        view=mark.view,
        x=mark.x,
        y=mark.y,
        side=mark.side,
        point_code=mark.point_code,
        muscle_id=mark.muscle_id,
        location_variant=mark.location_variant,
        technique=mark.technique,
        depth_mm=mark.depth_mm,
        response=mark.response,
        note=mark.note,
        cup_type=mark.cup_type,
        cup_count=mark.cup_count,
        cup_minutes=mark.cup_minutes,
        skin_response=mark.skin_response,
        skin=mark.skin,
    )
    flags: frozenset[str] = frozenset()
    custom = False
    if bodymap is not None and mark.point_code:
        try:
            point = bodymap.point(mark.point_code)
        except KeyError:
            pass
        else:
            flags, custom = point.flags, point.custom
    return MarkRow(mark.id, mark.visit_id, spec, flags, custom, getattr(mark, "version", 1))


def add_marks(
    session: Session, bodymap: BodyMap, visit_id: int, specs: Sequence[MarkSpec]
) -> tuple[list[int], Changes]:
    """Store new marks on a draft visit (all or none).

    Raises:
        ValidationError: a mark is off the body or names an unknown point or muscle.
        SignedVisitError: the visit is signed.
    """
    require(session, Permission.CHART)
    visit = _editable_visit(session, visit_id)
    marks = []
    for spec in specs:
        errors = validate_spec(spec, bodymap)
        if problem := depth_beyond_needle(spec.depth_mm, visit.needle_length):
            errors["depth_mm"] = problem
        if errors:
            raise ValidationError(errors)
        technique = spec.technique or DEFAULT_TECHNIQUE.get(spec.kind, "")
        mark = Mark(visit_id=visit_id, **{**asdict(spec), "technique": technique})
        session.add(mark)
        marks.append(mark)
    session.flush()
    ids = [m.id for m in marks]
    return ids, Changes(visits=frozenset({visit_id}), marks=frozenset(ids))


def _owned(session: Session, mark_ids: Iterable[int]) -> list[Mark]:
    ids = list(mark_ids)
    marks = list(session.scalars(select(Mark).where(Mark.id.in_(ids))))
    if len(marks) != len(set(ids)):
        raise NotFoundError("A mark was already removed.")
    for visit_id in {m.visit_id for m in marks}:
        _editable_visit(session, visit_id)
    return marks


def move_mark(
    session: Session,
    bodymap: BodyMap,
    mark_id: int,
    x: float,
    y: float,
    expected_version: int | None = None,
) -> tuple[int, Changes]:
    """Move a mark to where it was really needled (it keeps its point, muscle and side).

    Returns the mark's new version.

    Raises:
        ConcurrentEditError: the mark changed since ``expected_version`` (another workstation).
    """
    require(session, Permission.CHART)
    (mark,) = _owned(session, [mark_id])
    check_version(session, mark, expected_version, "This mark")
    if not (math.isfinite(x) and math.isfinite(y)) or not bodymap.inside_outline(mark.view, x, y):
        raise ValidationError({"position": "The mark must stay on the body."})
    mark.x, mark.y = x, y
    session.flush()
    return mark.version, Changes(visits=frozenset({mark.visit_id}), marks=frozenset({mark_id}))


_LENGTH = re.compile(
    r"(?P<value>\d+(?:[.,]\d+)?)\s*(?P<unit>mm|cm|in(?:ch(?:es)?)?|\"|cun)?", re.IGNORECASE
)
#: Millimetres per unit of a written needle length (a "cun" needle is 25 mm long, by trade
#: convention: 1.5 cun = 40 mm).
_MM_PER = {"mm": 1.0, "cm": 10.0, "in": 25.4, "inch": 25.4, "inches": 25.4, '"': 25.4, "cun": 25.0}


def needle_length_mm(text: str) -> float | None:
    """The length in mm of a written needle length ("40 mm", "0.25 x 40 mm", "1.5 in",
    "1.5 cun"), or None when it cannot be read. With several numbers (gauge x length) the
    last is the length."""
    found = list(_LENGTH.finditer(text or ""))
    if not found:
        return None
    last = found[-1]
    value = float(last["value"].replace(",", "."))
    unit = (last["unit"] or "mm").lower()
    return value * _MM_PER.get(unit, 1.0) if value > 0 else None


def depth_beyond_needle(depth_mm: float | None, needle_length: str) -> str | None:
    """Why a recorded depth cannot be right for the visit's needles (deeper than the needle
    is long), or None."""
    length = needle_length_mm(needle_length)
    if depth_mm is None or length is None or depth_mm <= length:
        return None
    return (
        f"A depth of {depth_mm:g} mm is more than the length of the needles used "
        f"({needle_length.strip()}, {length:g} mm): check the depth, or the needle length "
        "in the treatment section."
    )


def update_details(
    session: Session, mark_id: int, details: MarkDetails, expected_version: int | None = None
) -> tuple[int, Changes]:
    """Change a mark's technique, depth, response, note and cupping details.

    Returns the mark's new version.

    Raises:
        ValidationError: a detail is refused.
        ConcurrentEditError: the mark changed since ``expected_version`` (another workstation).
    """
    require(session, Permission.CHART)
    errors = validate_details(details)
    if errors:
        raise ValidationError(errors)
    (mark,) = _owned(session, [mark_id])
    check_version(session, mark, expected_version, "This mark")
    if problem := depth_beyond_needle(details.depth_mm, mark.visit.needle_length):
        raise ValidationError({"depth_mm": problem})
    for f in fields(MarkDetails):
        value = getattr(details, f.name)
        setattr(mark, f.name, value.strip() if isinstance(value, str) else value)
    session.flush()
    return mark.version, Changes(visits=frozenset({mark.visit_id}), marks=frozenset({mark_id}))


@dataclass(frozen=True)
class RemovedMarks:
    """Marks taken off a visit, with the EA pairs that joined them, as undo restores them."""

    rows: tuple[MarkRow, ...]
    pairs: tuple[dict[str, Any], ...] = ()


#: The stored columns of an EA pair that a copy or a restore carries.
EA_PAIR_COLUMNS = (
    "waveform",
    "frequency_hz",
    "frequency2_hz",
    "intensity_ma",
    "minutes",
    "device",
)


def delete_marks(session: Session, mark_ids: Sequence[int]) -> tuple[RemovedMarks, Changes]:
    """Remove marks from a draft visit, and the EA pairs on them; returns what they were, so
    undo can restore them."""
    require(session, Permission.CHART)
    marks = _owned(session, mark_ids)
    rows = tuple(_to_row(m) for m in marks)
    ids = [m.id for m in marks]
    pairs = list(
        session.scalars(
            select(EAPair)
            .where(EAPair.mark_a_id.in_(ids) | EAPair.mark_b_id.in_(ids))
            .order_by(EAPair.id)
        )
    )
    snapshots = tuple(
        {
            "id": p.id,
            "visit_id": p.visit_id,
            "mark_a_id": p.mark_a_id,
            "mark_b_id": p.mark_b_id,
            **{c: getattr(p, c) for c in EA_PAIR_COLUMNS},
        }
        for p in pairs
    )
    # Row by row, pairs first, so each deletion is checked and audited (the database's own
    # cascade would remove the pairs unseen).
    for pair in pairs:
        session.delete(pair)
    session.flush()
    for mark in marks:
        session.delete(mark)
    session.flush()
    visits = frozenset(m.visit_id for m in marks)
    return RemovedMarks(rows, snapshots), Changes(visits=visits, marks=frozenset(mark_ids))


def restore_marks(session: Session, removed: RemovedMarks | Sequence[MarkRow]) -> Changes:
    """Put deleted marks back with their original ids, and their EA pairs (undo of a delete)."""
    require(session, Permission.CHART)
    if not isinstance(removed, RemovedMarks):
        removed = RemovedMarks(tuple(removed))
    rows = removed.rows
    for visit_id in {r.visit_id for r in rows}:
        _editable_visit(session, visit_id)
    for row in rows:
        session.add(Mark(id=row.id, visit_id=row.visit_id, **asdict(row.spec)))
    try:
        session.flush()
        for pair in removed.pairs:
            session.add(EAPair(**pair))
        session.flush()
    except IntegrityError:
        raise ServiceError("The mark could not be restored.") from None
    return Changes(visits=frozenset(r.visit_id for r in rows), marks=frozenset(r.id for r in rows))


def repeat_visit(
    session: Session, bodymap: BodyMap, visit_id: int, source_visit_id: int
) -> tuple[list[int], Changes]:
    """Copy another visit's marks (techniques, depths, cupping details) and its EA pairs with
    their settings onto this draft, in one step. Responses are not copied: they are what
    happened that day. Marks of a custom point the clinic has retired since are left out
    (with the EA pairs on them): see :func:`retired_points`.

    Raises:
        NotFoundError: the source visit does not exist.
        ValidationError: a mark is no longer valid (e.g. a point left the catalog).
    """
    require(session, Permission.CHART)
    rows = list_marks(session, source_visit_id)
    retired = set(retired_points(bodymap, rows))
    source = [m for m in rows if m.spec.point_code not in retired]
    ids, changes = add_marks(session, bodymap, visit_id, as_specs(source))
    new_id = {row.id: new for row, new in zip(source, ids, strict=True)}
    pairs = session.scalars(
        select(EAPair).where(EAPair.visit_id == source_visit_id).order_by(EAPair.id)
    )
    for pair in list(pairs):
        a, b = new_id.get(pair.mark_a_id), new_id.get(pair.mark_b_id)
        if a is None or b is None:
            continue
        session.add(
            EAPair(
                visit_id=visit_id,
                mark_a_id=a,
                mark_b_id=b,
                **{c: getattr(pair, c) for c in EA_PAIR_COLUMNS},
            )
        )
    session.flush()
    return ids, changes


def retired_points(bodymap: BodyMap, rows: Iterable[MarkRow]) -> list[str]:
    """The codes of retired custom points among these marks (no longer charted anew), in
    order."""
    found: list[str] = []
    for row in rows:
        code = row.spec.point_code
        if code and code not in found:
            try:
                if bodymap.point(code).retired:
                    found.append(code)
            except KeyError:
                pass
    return found


def list_marks(
    session: Session,
    visit_id: int,
    bodymap: BodyMap | None = None,
    only: Iterable[int] | None = None,
) -> list[MarkRow]:
    """A visit's marks in the order they were made (``only``: just these of them)."""
    require(session, Permission.VIEW_CLINICAL)
    # Plain rows, not entities: building hundreds of entities costs more than a click.
    table = Mark.__table__
    query = select(table).where(table.c.visit_id == visit_id).order_by(table.c.id)
    if only is not None:
        query = query.where(table.c.id.in_(list(only)))
    return [_to_row(m, bodymap) for m in session.execute(query)]


def marks_of_visits(
    session: Session, visit_ids: Sequence[int], bodymap: BodyMap | None = None
) -> dict[int, list[MarkRow]]:
    """Several visits' marks, each visit's in the order they were made (one statement)."""
    require(session, Permission.VIEW_CLINICAL)
    table = Mark.__table__
    query = select(table).where(table.c.visit_id.in_(list(visit_ids))).order_by(table.c.id)
    out: dict[int, list[MarkRow]] = {vid: [] for vid in visit_ids}
    for m in session.execute(query):
        out[m.visit_id].append(_to_row(m, bodymap))
    return out


def previous_visit_id(session: Session, visit_id: int) -> int | None:
    """The same patient's visit just before this one (by course number), if any."""
    visit = session.get(Visit, visit_id)
    if visit is None:
        return None
    return session.scalar(
        select(Visit.id)
        .where(Visit.patient_id == visit.patient_id, Visit.number < visit.number)
        .order_by(Visit.number.desc())
        .limit(1)
    )


def previous_marks(
    session: Session, visit_id: int, bodymap: BodyMap | None = None
) -> list[MarkRow]:
    """Marks of the patient's previous visit (empty for a first visit)."""
    require(session, Permission.VIEW_CLINICAL)
    prev = previous_visit_id(session, visit_id)
    return [] if prev is None else list_marks(session, prev, bodymap)


def as_specs(rows: Iterable[MarkRow], keep_details: bool = True) -> list[MarkSpec]:
    """Turn stored marks into specifications for copying (repeat last visit, protocols)."""
    specs = []
    for row in rows:
        spec = row.spec if keep_details else replace(row.spec, depth_mm=None, note="")
        specs.append(replace(spec, response="", note=spec.note if keep_details else ""))
    return specs


# -- protocols -------------------------------------------------------------------------
def save_protocol(session: Session, name: str, specs: Sequence[MarkSpec]) -> tuple[int, Changes]:
    """Save marks as a named protocol (an existing protocol of that name is replaced)."""
    require(session, Permission.CHART)
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "Give the protocol a name."})
    # check_text also refuses control characters: PostgreSQL cannot store NUL at all.
    if problem := check_text(name, "The name", 120):
        raise ValidationError({"name": problem})
    if not specs:
        raise ValidationError({"marks": "There are no marks to save as a protocol."})
    items: list[dict[str, Any]] = [
        {k: v for k, v in asdict(s).items() if k not in ("response", "note")} for s in specs
    ]
    protocol = session.scalar(select(Protocol).where(func.lower(Protocol.name) == name.lower()))
    if protocol is None:
        protocol = Protocol(name=name, items=items)
        session.add(protocol)
    else:
        protocol.name = name
        protocol.items = items
    session.flush()
    return protocol.id, Changes(protocols=frozenset({protocol.id}))


def list_protocols(session: Session) -> list[tuple[int, str, int]]:
    """(id, name, number of marks) of every protocol, by name."""
    return [
        (p.id, p.name, len(p.items))
        for p in session.scalars(select(Protocol).order_by(func.lower(Protocol.name)))
    ]


def protocol_specs(session: Session, protocol_id: int) -> list[MarkSpec]:
    """The marks a protocol would add."""
    protocol = session.get(Protocol, protocol_id)
    if protocol is None:
        raise NotFoundError("That protocol no longer exists.")
    return [MarkSpec(**item) for item in protocol.items]


def delete_protocol(session: Session, protocol_id: int) -> Changes:
    """Remove a protocol (visits it was applied to keep their marks)."""
    require(session, Permission.CHART)
    protocol = session.get(Protocol, protocol_id)
    if protocol is None:
        raise NotFoundError("That protocol no longer exists.")
    session.delete(protocol)
    return Changes(protocols=frozenset({protocol_id}))
