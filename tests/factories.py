"""Factories for valid test data: patients, accounts, marks and whole charted visits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from charting.bodymap import load_bodymap
from charting.models import Role, UserAccount
from charting.models.db import Database
from charting.services.access import Actor
from charting.services.accounts import (
    AccountInput,
    actor_for,
    create_account,
    create_first_admin,
)
from charting.services.marks import MarkSpec, add_marks
from charting.services.patients import PatientInput
from charting.services.visit_record import EASettings


def patient_input(**overrides: object) -> PatientInput:
    """A valid patient form, with ``overrides`` applied."""
    data = PatientInput(
        family_name="Lindqvist",
        given_name="Maja",
        date_of_birth=date(1978, 5, 17),
        sex="female",
        phone="+1 555 0147",
        email="maja.lindqvist@example.org",
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    return data


def point_spec(code: str, side: str, view: str = "posterior", **details: object) -> MarkSpec:
    """An acupoint mark exactly at the catalog position of ``code`` on ``side``."""
    position = load_bodymap().position(code, side, view)  # type: ignore[arg-type]
    assert position is not None, f"{code} {side} is not on the {view} view"
    return MarkSpec("acupoint", view, position[0], position[1], side, point_code=code, **details)  # type: ignore[arg-type]


TEST_USERNAME = "ana"
TEST_PASSWORD = "lumbar-spring-2026"


def account_input(**overrides: object) -> AccountInput:
    """A valid account form (a practitioner), with ``overrides`` applied."""
    data = AccountInput(
        username=TEST_USERNAME,
        display_name="Ana Ruiz",
        roles={Role.PRACTITIONER},
        password=TEST_PASSWORD,
        credentials="L.Ac.",
        licence_number="AC-1234",
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    return data


def sign_in_test_user(database: Database) -> Actor:
    """Create the clinic's first account (Ana Ruiz, L.Ac.: admin and practitioner)."""
    with database.write() as session:
        return create_first_admin(session, account_input())


def add_account(database: Database, username: str, *roles: Role, name: str = "") -> Actor:
    """Add another account (as the test admin) and return it as an actor."""
    with database.write() as session:
        account_id, _ = create_account(
            session,
            account_input(
                username=username, display_name=name or username.title(), roles=set(roles)
            ),
        )
        return actor_for(session.get_one(UserAccount, account_id))


def count_needles_out(session: Session, visit_id: int) -> None:
    """Record the needles out as equal to the needles in (all accounted for), as a careful
    practitioner does before signing."""
    from charting.services.visit_record import needles_in, update_fields

    update_fields(session, visit_id, {"needles_out": needles_in(session, visit_id)})


#: The low-back treatment most tests chart: BL23 both sides, BL25 left, BL40 right.
DEFAULT_POINTS: tuple[tuple[str, str], ...] = (
    ("BL23", "L"),
    ("BL23", "R"),
    ("BL25", "L"),
    ("BL40", "R"),
)
#: Dry cupping over the left low back (a posterior-view position, in map units).
DEFAULT_CUPPING = MarkSpec(
    "cupping", "posterior", 400, 700, "L", cup_type="dry", cup_count=4, cup_minutes=8
)


#: "Not given": the factory's default applies (which ``bare`` changes).
DEFAULT: Any = object()
CHARTED_DEFAULTS: dict[str, Any] = {
    "points": DEFAULT_POINTS,
    "cupping": (DEFAULT_CUPPING,),
    "ea": (0, 1, EASettings("Continuous", 2.0, 1.5, 20, "")),
    "pain_now": 7,
    "pain_after": 3,
}
BARE_DEFAULTS: dict[str, Any] = {
    "points": (),
    "cupping": (),
    "ea": None,
    "pain_now": None,
    "pain_after": None,
}


@dataclass(frozen=True)
class MadeVisit:
    """What :func:`build_visit` stored: the ids a test goes on with."""

    patient_id: int
    practitioner_id: int
    visit_id: int
    #: The marks' ids in the order given (points first, then cupping).
    mark_ids: tuple[int, ...]
    #: The EA pairs' ids (none when ``ea`` was None).
    ea_pair_ids: tuple[int, ...]


def build_visit(
    session: Session,
    *,
    patient_id: int | None = None,
    patient: dict[str, object] | None = None,
    practitioner_id: int | None = None,
    started_at: datetime | None = None,
    chief_complaint: str | None = None,
    points: Any = DEFAULT,
    cupping: Any = DEFAULT,
    ea: Any = DEFAULT,
    pain_now: Any = DEFAULT,
    pain_after: Any = DEFAULT,
    fields: Mapping[str, object] | None = None,
    signed: bool = False,
    bare: bool = False,
) -> MadeVisit:
    """Store a charted visit in ``session`` and return its ids.

    By default a new patient (:func:`patient_input`, with ``patient`` overrides) sees the
    signed-in practitioner for low back pain: BL23 both sides, BL25 left, BL40 right, an EA
    pair on the BL23s (``ea`` names two of the marks by their index), dry cupping, pain 7
    before and 3 after. ``fields`` sets more of the record (``update_fields`` names).
    ``signed`` counts the needles out and signs it (a valid signature, as the app makes).
    ``bare`` changes those defaults to nothing (no marks, EA, cupping, pain or chief
    complaint); what is passed explicitly still applies.

    Args:
        points: ``(code, side)`` pairs or MarkSpecs (placed in this order, before cupping).
        cupping: cupping MarkSpecs.
        ea: ``(index_a, index_b, EASettings)`` joining two of the marks, or None.
        pain_now: pain before treatment (0-10), or None for not recorded.
        pain_after: pain after treatment, or None.
    """
    from charting.services.patients import create_patient
    from charting.services.visit_record import add_ea_pair, sign_visit, update_fields
    from charting.services.visits import start_visit

    if patient_id is None:
        patient_id, _ = create_patient(session, patient_input(**(patient or {})))
    if practitioner_id is None:
        actor = session.info.get("actor")
        own = getattr(actor, "practitioner_id", None)
        assert own is not None, "the signed-in account has no practitioner profile"
        practitioner_id = int(own)
    defaults = BARE_DEFAULTS if bare else CHARTED_DEFAULTS

    def chosen(name: str, value: Any) -> Any:
        return defaults[name] if value is DEFAULT else value

    points, cupping, ea = chosen("points", points), chosen("cupping", cupping), chosen("ea", ea)
    pain_now, pain_after = chosen("pain_now", pain_now), chosen("pain_after", pain_after)
    if chief_complaint is None:
        chief_complaint = "" if bare else "Low back pain"
    visit_id, _ = start_visit(session, patient_id, practitioner_id, started_at, chief_complaint)
    specs = [p if isinstance(p, MarkSpec) else point_spec(*p) for p in points]
    specs += list(cupping)
    mark_ids: list[int] = []
    if specs:
        mark_ids, _ = add_marks(session, load_bodymap(), visit_id, specs)
    pairs: list[int] = []
    if ea is not None:
        first, second, settings = ea
        pair_id, _ = add_ea_pair(session, visit_id, mark_ids[first], mark_ids[second], settings)
        pairs.append(pair_id)
    values: dict[str, object] = {}
    if pain_now is not None:
        values["pain_now"] = pain_now
    if pain_after is not None:
        values["pain_after"] = pain_after
    values.update(fields or {})
    if values:
        update_fields(session, visit_id, values)
    if signed:
        count_needles_out(session, visit_id)
        sign_visit(session, visit_id, practitioner_id)
    return MadeVisit(patient_id, practitioner_id, visit_id, tuple(mark_ids), tuple(pairs))


def make_visit(database: Database, **options: Any) -> MadeVisit:
    """:func:`build_visit` in a write of its own (see there for ``options``)."""
    with database.write() as session:
        return build_visit(session, **options)
