"""Factories for valid test data."""

from __future__ import annotations

from datetime import date

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
from charting.services.marks import MarkSpec
from charting.services.patients import PatientInput


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
