"""Visits: numbering in the course, practitioner, and the listing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from charting.models import Visit
from charting.models.db import Database
from charting.services.errors import NotFoundError
from charting.services.visits import list_visits, start_visit


def test_visits_are_numbered_in_the_course(
    make_patient, practitioner_id, database: Database
) -> None:  # type: ignore[no-untyped-def]
    """The first visit is number 1, the next 2; each patient has their own count."""
    a, b = make_patient(), make_patient(given_name="Ben")
    with database.write() as session:
        start_visit(session, a, practitioner_id, chief_complaint="Low back pain")
        start_visit(session, a, practitioner_id)
        start_visit(session, b, practitioner_id)
    with database.read() as session:
        rows = list_visits(session, a)
        assert [r.number for r in rows] == [2, 1]
        assert rows[1].chief_complaint == "Low back pain"
        assert rows[0].status == "draft"
        assert rows[0].practitioner == "Ana Ruiz"
        assert [r.number for r in list_visits(session, b)] == [1]


def test_start_time_is_stored_in_utc(make_patient, practitioner_id, database: Database) -> None:  # type: ignore[no-untyped-def]
    """A local start time comes back as the same instant, timezone-aware."""
    local = datetime(2026, 3, 2, 9, 30, tzinfo=timezone(timedelta(hours=-5)))
    pid = make_patient()
    with database.write() as session:
        vid, _ = start_visit(session, pid, practitioner_id, local)
    with database.read() as session:
        stored = session.get(Visit, vid)
        assert stored is not None
        assert stored.started_at == local
        assert stored.started_at.tzinfo is not None
        assert stored.started_at.astimezone(UTC).hour == 14


def test_visit_needs_a_real_patient_and_practitioner(make_patient, database: Database) -> None:  # type: ignore[no-untyped-def]
    """Starting a visit without a practitioner profile is refused with a message."""
    pid = make_patient()
    with pytest.raises(NotFoundError, match="practitioner"), database.write() as session:
        start_visit(session, pid, 12345)


def test_visit_list_shows_pain_before_and_after(
    make_patient, practitioner_id, database: Database
) -> None:  # type: ignore[no-untyped-def]
    """The course list shows each visit's pain before and after treatment."""
    from charting.services.visit_record import update_fields

    pid = make_patient()
    with database.write() as session:
        vid, _ = start_visit(session, pid, practitioner_id)
        update_fields(session, vid, {"pain_now": 7, "pain_after": 3})
        start_visit(session, pid, practitioner_id)
    with database.read() as session:
        rows = list_visits(session, pid)
    assert [r.pain_text for r in rows] == ["", "7 \u2192 3"]
