"""The record guard: a signed visit is closed and a draft belongs to its practitioner, on
every path a change can take (services, the ORM directly, bulk statements)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from charting.bodymap import load_bodymap
from charting.models import AdverseEvent, EAPair, Mark, Role, Visit
from charting.models.db import Database
from charting.services.access import PermissionDeniedError
from charting.services.audit import search
from charting.services.guard import NotYourDraftError, SignedVisitError
from charting.services.marks import add_marks
from charting.services.patients import create_patient
from charting.services.visit_record import (
    add_adverse_event,
    record,
    sign_visit,
    update_fields,
)
from charting.services.visits import start_visit, take_over_draft, visit_access
from tests.factories import (
    add_account,
    build_visit,
    count_needles_out,
    patient_input,
    point_spec,
)


@pytest.fixture
def draft(database: Database, practitioner_id: int) -> int:
    """Ana's draft visit with two marks, an EA pair and an adverse event."""
    with database.write() as session:
        vid = build_visit(
            session,
            chief_complaint="",
            points=[("BL23", "L"), ("BL25", "L")],
            cupping=(),
            pain_after=None,
        ).visit_id
        add_adverse_event(session, vid, "bruising", "mild", "pressure applied", "")
    return vid


@pytest.fixture
def signed(database: Database, draft: int, practitioner_id: int) -> int:
    """The same visit, signed by Ana."""
    with database.write() as session:
        count_needles_out(session, draft)
        sign_visit(session, draft, practitioner_id)
    return draft


@pytest.fixture
def lee(database: Database) -> Database:
    """A second practitioner, Lee Chen, signed in on the same database."""
    return database.acting_as(add_account(database, "lee", Role.PRACTITIONER, name="Lee Chen"))


def test_an_orm_change_to_a_signed_visit_is_refused(database: Database, signed: int) -> None:
    """Setting a signed visit's pain score straight on the ORM object is refused at flush."""
    with pytest.raises(SignedVisitError), database.write() as session:
        visit = session.get_one(Visit, signed)
        visit.pain_now = 2
    with database.read() as session:
        assert record(session, signed)["pain_now"] == 7


@pytest.mark.parametrize("table", [Mark, EAPair, AdverseEvent])
def test_orm_changes_to_a_signed_visits_rows_are_refused(
    database: Database, signed: int, table: type
) -> None:
    """Editing or deleting a signed visit's marks, EA pairs or adverse events via the ORM fails."""
    with pytest.raises(SignedVisitError), database.write() as session:
        row = session.scalars(select(table).where(table.visit_id == signed)).first()  # type: ignore[attr-defined]
        session.delete(row)
    with pytest.raises(SignedVisitError), database.write() as session:
        mark = session.scalars(select(Mark).where(Mark.visit_id == signed)).first()
        assert mark is not None
        mark.note = "added after signing"
    with database.read() as session:
        assert session.scalar(select(Mark.note).where(Mark.visit_id == signed)) == ""


def test_a_mark_added_to_a_signed_visit_through_the_orm_is_refused(
    database: Database, signed: int
) -> None:
    """A new row under a signed visit is refused even when it never went near a service."""
    spec = point_spec("BL40", "R")
    with pytest.raises(SignedVisitError), database.write() as session:
        session.add(
            Mark(
                visit_id=signed,
                kind="acupoint",
                point_code="BL40",
                side="R",
                view=spec.view,
                x=spec.x,
                y=spec.y,
            )
        )


def test_bulk_statements_on_the_record_are_refused(database: Database, signed: int) -> None:
    """A bulk UPDATE or DELETE skips the flush, so it is refused on the clinical tables."""
    refused = pytest.raises(PermissionDeniedError, match="one record at a time")
    with refused, database.write() as session:
        session.execute(update(Mark).where(Mark.visit_id == signed).values(note="x"))
    refused = pytest.raises(PermissionDeniedError, match="one record at a time")
    with refused, database.write() as session:
        session.execute(delete(Visit).where(Visit.id == signed))


def test_a_colleagues_draft_is_read_only(database: Database, draft: int, lee: Database) -> None:
    """Lee cannot change Ana's draft (service or ORM), add to it or sign it; Ana still can."""
    with pytest.raises(NotYourDraftError, match="Ana Ruiz's visit"), lee.write() as session:
        update_fields(session, draft, {"pain_now": 4})
    with pytest.raises(NotYourDraftError), lee.write() as session:
        session.get_one(Visit, draft).pain_now = 4
    with pytest.raises(NotYourDraftError), lee.write() as session:
        add_marks(session, load_bodymap(), draft, [point_spec("GB30", "R")])
    with lee.read() as session:
        access = visit_access(session, draft)
    assert not access.editable and access.can_take_over and "Ana Ruiz" in access.reason
    with database.write() as session:
        update_fields(session, draft, {"pain_now": 6})
    with database.read() as session:
        assert record(session, draft)["pain_now"] == 6


def test_a_visit_cannot_be_reassigned_and_then_signed(
    database: Database, draft: int, lee: Database
) -> None:
    """Giving Ana's draft to Lee by setting its practitioner (not taking it over) is refused,
    and so is giving one's own draft away."""
    lee_id = lee.actor.practitioner_id
    with pytest.raises(NotYourDraftError, match="cannot be changed"), lee.write() as session:
        session.get_one(Visit, draft).practitioner_id = lee_id
    with pytest.raises(NotYourDraftError, match="cannot be changed"), database.write() as session:
        session.get_one(Visit, draft).practitioner_id = lee_id
    with pytest.raises(PermissionDeniedError), lee.write() as session:
        sign_visit(session, draft, lee_id or 0)


def test_taking_over_a_draft_is_explicit_and_audited(
    database: Database, draft: int, lee: Database
) -> None:
    """After Lee takes Ana's draft over, Lee writes and signs it and Ana no longer can."""
    lee_id = lee.actor.practitioner_id
    with lee.write() as session:
        take_over_draft(session, draft)
    with lee.write() as session:
        update_fields(session, draft, {"pain_after": 3})
    with pytest.raises(NotYourDraftError, match="Lee Chen's visit"), database.write() as session:
        update_fields(session, draft, {"pain_after": 5})
    with lee.write() as session:
        count_needles_out(session, draft)
        sign_visit(session, draft, lee_id or 0)
    with database.read() as session:
        taken = search(session, action="visit.take_over")
    assert len(taken) == 1
    assert taken[0].username == "lee" and "Ana Ruiz" in taken[0].detail
    assert "Lee Chen" in taken[0].detail


def test_a_signed_visit_cannot_be_taken_over(
    database: Database, signed: int, lee: Database
) -> None:
    """Taking over is for drafts: a signed visit stays with the practitioner who signed it."""
    with pytest.raises(SignedVisitError), lee.write() as session:
        take_over_draft(session, signed)
    with database.read() as session:
        access = visit_access(session, signed)
    assert access.signed_by == "Ana Ruiz" and access.signed_at is not None
    assert not access.can_take_over


def test_starting_a_visit_in_a_colleagues_name_is_refused(
    database: Database, lee: Database, practitioner_id: int
) -> None:
    """Lee cannot open a draft that would be Ana's (it would be Ana's to sign)."""
    with database.write() as session:
        patient_id, _ = create_patient(session, patient_input())
    with pytest.raises(NotYourDraftError), lee.write() as session:
        start_visit(session, patient_id, practitioner_id)
