"""The demo clinic's day: a booked week, consents, needle lots, open drafts and billing units."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from charting.models import Appointment, Consent, Visit, VisitBilling
from charting.models.db import Database
from charting.services import appointments as book
from charting.services import drafts, recall
from charting.services.demo import create_demo_clinic


def test_demo_clinic_has_its_week_booked_and_its_day_working(database: Database) -> None:
    """After the demo, this week is booked for the practitioner (past slots done or no-show
    with signed visits), most patients have a consent, visits carry needle lots that the
    recall finds, recent signed visits carry confirmed billing units, and drafts are open."""
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
        open_drafts = drafts.open_drafts(session, None)
        appointments = session.scalar(select(func.count(Appointment.id)))
    assert (
        practitioners == {database.actor.practitioner_id}
        and appointments
        and appointments > len(week) >= 40
    )
    assert "booked" in statuses or now.weekday() >= 4
    if now.weekday() > 0 or now.hour >= 12:  # something of the week is already past
        assert done and all(r.visit_state == "signed" for r in done)
    assert consents and consents >= 0.7 * 120
    assert billed and "L2291" in lots and "" not in lots
    assert open_drafts
    with database.write() as session:
        assert recall.find(session, recall.RecallQuery(lot="L2291"))
