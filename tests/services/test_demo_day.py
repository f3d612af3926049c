"""The demo clinic's day: a booked week, consents, needle lots, open drafts and billing units."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from charting.models import Appointment, Consent, Practitioner, Visit, VisitBilling
from charting.models.db import Database
from charting.services import appointments as book
from charting.services import drafts, recall, signatures
from charting.services.demo import PRACTITIONERS, create_demo_clinic

DEMO_NAMES = [p[0] for p in PRACTITIONERS]


def test_demo_clinic_has_its_week_booked_and_its_day_working(database: Database) -> None:
    """After the demo, this week is booked for the practitioner (past slots done or no-show
    with signed visits), most patients have a consent, visits carry needle lots that the
    recall finds, this week's signed visits check out, recent signed visits carry confirmed
    billing units, and drafts are open."""
    with database.write() as session:
        create_demo_clinic(session, 120, 4, marks_per_visit=4)
    now = datetime.now().astimezone()
    monday = now.date() - timedelta(days=now.weekday())
    with database.read() as session:
        week = book.rows_between(
            session,
            book.local_day_bounds(monday)[0],
            book.local_day_bounds(monday + timedelta(days=6))[1],
        )
        practitioners = {r.practitioner_id for r in week}
        statuses = {r.status for r in week}
        done = [r for r in week if r.status == "done"]
        consents = session.scalar(select(func.count(Consent.id)))
        billed = session.scalar(
            select(func.count(VisitBilling.visit_id)).where(VisitBilling.confirmed_at.is_not(None))
        )
        lots = set(session.scalars(select(Visit.needle_lot).distinct()))
        this_week = [session.get_one(Visit, r.visit_id) for r in done]
        problems = [signatures.signature_problem(session, v.id) for v in this_week]
        demo_practitioners = set(
            session.scalars(select(Practitioner.id).where(Practitioner.name.in_(DEMO_NAMES)))
        )
        open_drafts = drafts.open_drafts(session, None)
        appointments = session.scalar(select(func.count(Appointment.id)))
    assert (
        practitioners == demo_practitioners
        and len(practitioners) == 3
        and appointments
        and appointments > len(week) >= 40
    )
    assert "booked" in statuses or now.weekday() >= 4
    if now.weekday() > 0 or now.hour >= 12:  # something of the week is already past
        assert done and all(r.visit_state == "signed" for r in done)
        # This week's visits repeat the course's record and are validly signed.
        assert problems == [None] * len(done)
        assert all(v.retention_minutes and v.needle_lot and v.needles_out for v in this_week)
    assert consents and consents >= 0.7 * 120
    assert billed and lots and "" not in lots
    assert open_drafts
    with database.write() as session:
        assert all(recall.find(session, recall.RecallQuery(lot=lot)) for lot in lots)
