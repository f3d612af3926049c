"""The demo clinic's day: this week booked, consents on record, needle lots and billing units.

Called once by the demo generator after it has added its patients and visits. Everything is
written set-based (one statement, or one batch, per kind of row), so a 100,000-patient demo
clinic gets its book, consents and billing in seconds.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from datetime import UTC, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import JSON, Table, func, insert, literal, select, update
from sqlalchemy.orm import Session

from charting.models import (
    Appointment,
    AppointmentChange,
    Consent,
    Mark,
    Practitioner,
    Visit,
    VisitBilling,
    utcnow,
)
from charting.services.billing import suggest
from charting.services.consent import RISKS

# Needle products in the demo: (brand, gauge, length, lot). The first lot is the one the
# README's recall example finds.
NEEDLES = (
    ("Seirin J-type", "0.25 mm", "40 mm", "L2291"),
    ("Seirin J-type", "0.20 mm", "30 mm", "L2292"),
    ("DongBang DB100", "0.25 mm", "40 mm", "DB-7718"),
    ("Hwato", "0.30 mm", "50 mm", "HW-2305"),
)
SLOT_MINUTES = 45
DAY_SLOTS = 10  # 09:00 to 16:30 for each practitioner
REASONS = ("Follow-up", "Follow-up", "Follow-up", "New patient", "Review of the course")
BILLING_DAYS = 30
CONSENT_TREATMENTS = ["acupuncture", "electroacupuncture", "cupping"]
# Fictional NPIs with a valid check digit, for the demo practitioners' superbills.
DEMO_NPIS = ("1234567893", "1245319599", "1467560003")


def _lot_column(visit_id: Any, index: int) -> Any:
    """A CASE on visit id picking column ``index`` of :data:`NEEDLES` (set-based)."""
    from sqlalchemy import case

    return case(
        *((visit_id % len(NEEDLES) == i, literal(n[index])) for i, n in enumerate(NEEDLES)),
        else_=literal(NEEDLES[0][index]),
    )


def fill_demo_day(
    session: Session, patient_ids: Collection[int], practitioner_ids: list[int], seed: int
) -> int:
    """Give the demo patients needle lots, consents, this week's book and billing units.

    Returns the number of appointments booked.
    """
    if not patient_ids or not practitioner_ids:
        return 0
    rng = random.Random(seed + 20)
    low, high = min(patient_ids), max(patient_ids)
    in_range = Visit.patient_id.between(low, high)
    # Needles: every demo visit records a product and lot (for the recall screen).
    session.execute(
        update(Visit)
        .where(in_range)
        .values(
            needle_brand=_lot_column(Visit.id, 0),
            needle_gauge=_lot_column(Visit.id, 1),
            needle_length=_lot_column(Visit.id, 2),
            needle_lot=_lot_column(Visit.id, 3),
        )
    )
    for pid, npi in zip(practitioner_ids, DEMO_NPIS, strict=False):
        session.execute(
            update(Practitioner)
            .where(Practitioner.id == pid, Practitioner.npi == "")
            .values(npi=npi)
        )
    _consents(session, low, high)
    # Booked patients are ones with a course under way, so a visit started from the book
    # continues it (the same points as last time).
    treated = sorted(
        session.scalars(select(Visit.patient_id).where(in_range).distinct()).all()
    ) or sorted(patient_ids)
    booked = _book_weeks(session, treated, practitioner_ids, rng)
    _billing(session, low, high, rng)
    return booked


def _consents(session: Session, low: int, high: int) -> None:
    """Four patients in five have a consent on record, taken by their practitioner at their
    first visit (one INSERT ... SELECT)."""
    risks = [r.key for r in RISKS if r.treatment in CONSENT_TREATMENTS]
    first = (
        select(
            Visit.patient_id,
            literal("Back and leg pain").label("course"),
            literal(CONSENT_TREATMENTS, JSON).label("treatments"),
            literal(risks, JSON).label("risks"),
            literal("").label("note"),
            func.min(Visit.practitioner_id).label("taken_by_id"),
            func.min(Visit.started_at).label("taken_at"),
        )
        .where(Visit.patient_id.between(low, high), Visit.patient_id % 5 != 0)
        .group_by(Visit.patient_id)
    )
    session.execute(
        insert(cast(Table, Consent.__table__)).from_select(
            ["patient_id", "course", "treatments", "risks", "note", "taken_by_id", "taken_at"],
            first,
        )
    )


def _book_weeks(
    session: Session, patients: list[int], practitioners: list[int], rng: random.Random
) -> int:
    """This week fully booked for every practitioner, next week half booked; past slots are
    done (with a signed visit), arrived (today, with a draft), or a no-show."""
    now = datetime.now().astimezone()
    monday = now.date() - timedelta(days=now.weekday())
    rows: list[dict[str, Any]] = []
    for week, fill in ((0, 1.0), (1, 0.5)):
        for offset in range(5):
            day = monday + timedelta(days=7 * week + offset)
            for pid_index, practitioner in enumerate(practitioners):
                for slot in range(DAY_SLOTS):
                    if rng.random() > fill:
                        continue
                    start = datetime.combine(day, time(9)).astimezone() + timedelta(
                        minutes=SLOT_MINUTES * slot
                    )
                    rows.append(
                        {
                            "patient_id": rng.choice(patients),
                            "practitioner_id": practitioner,
                            "starts_at": start.astimezone(UTC),
                            "minutes": SLOT_MINUTES,
                            "reason": rng.choice(REASONS),
                            "status": _status(start, now, rng, pid_index + slot),
                            "booked_by": "system:demo",
                            "booked_at": start - timedelta(days=rng.randint(3, 20)),
                        }
                    )
    _visits_for(session, rows)
    ids = list(
        session.scalars(
            insert(Appointment).returning(Appointment.id, sort_by_parameter_order=True), rows
        )
    )
    session.execute(
        insert(cast(Table, AppointmentChange.__table__)),
        [
            {
                "appointment_id": aid,
                "at": row["booked_at"],
                "username": "system:demo",
                "action": "booked",
                "before": "",
                "after": "",
            }
            for aid, row in zip(ids, rows, strict=True)
        ],
    )
    return len(rows)


def _status(start: datetime, now: datetime, rng: random.Random, salt: int) -> str:
    if start + timedelta(minutes=SLOT_MINUTES) <= now:
        return "no_show" if rng.random() < 0.06 else "done"
    if start <= now:
        return "arrived"
    return "cancelled" if rng.random() < 0.04 and salt % 3 == 0 else "booked"


def _visits_for(session: Session, rows: list[dict[str, Any]]) -> None:
    """A visit for each appointment seen so far: signed when done, a draft when arrived."""
    seen = [r for r in rows if r["status"] in ("done", "arrived")]
    if not seen:
        return
    patients = {r["patient_id"] for r in seen}
    numbers = dict(
        session.execute(
            select(Visit.patient_id, func.max(Visit.number))
            .where(Visit.patient_id.in_(patients))
            .group_by(Visit.patient_id)
        ).all()
    )
    visits = []
    for row in sorted(seen, key=lambda r: r["starts_at"]):
        number = numbers.get(row["patient_id"], 0) + 1
        numbers[row["patient_id"]] = number
        signed = row["status"] == "done"
        visits.append(
            {
                "patient_id": row["patient_id"],
                "practitioner_id": row["practitioner_id"],
                "started_at": row["starts_at"],
                "number": number,
                "status": "signed" if signed else "draft",
                "signed_at": row["starts_at"] + timedelta(minutes=50) if signed else None,
                "signed_by_id": row["practitioner_id"] if signed else None,
                "chief_complaint": "Low back pain, follow-up",
                "notes": "",
                "needle_brand": NEEDLES[0][0],
                "needle_gauge": NEEDLES[0][1],
                "needle_length": NEEDLES[0][2],
                "needle_lot": NEEDLES[0][3],
            }
        )
    ids = list(
        session.scalars(insert(Visit).returning(Visit.id, sort_by_parameter_order=True), visits)
    )
    by_start = {(v["patient_id"], v["started_at"]): vid for v, vid in zip(visits, ids, strict=True)}
    _continue_courses(session, [(vid, v["patient_id"]) for v, vid in zip(visits, ids, strict=True)])
    for row in seen:
        row["visit_id"] = by_start[(row["patient_id"], row["starts_at"])]
    for row in rows:
        row.setdefault("visit_id", None)


def _continue_courses(session: Session, new_visits: list[tuple[int, int]]) -> None:
    """Each new visit repeats the patient's previous visit: its marks and pain scores."""
    table = cast(Table, Mark.__table__)
    copied = [c for c in table.c if c.name not in ("id", "visit_id")]
    for visit_id, patient_id in new_visits:
        previous = session.scalar(
            select(func.max(Visit.id)).where(Visit.patient_id == patient_id, Visit.id < visit_id)
        )
        if previous is None:
            continue
        pain = session.execute(
            select(Visit.pain_now, Visit.pain_after).where(Visit.id == previous)
        ).one()
        session.execute(
            update(Visit)
            .where(Visit.id == visit_id)
            .values(pain_now=pain.pain_now, pain_after=pain.pain_after)
        )
        session.execute(
            insert(table).from_select(
                ["visit_id", *(c.name for c in copied)],
                select(literal(visit_id), *copied).where(table.c.visit_id == previous),
            )
        )


def _billing(session: Session, low: int, high: int, rng: random.Random) -> None:
    """Times and confirmed CPT units for the demo visits of the last weeks."""
    since = utcnow() - timedelta(days=BILLING_DAYS)
    visits = session.execute(
        select(Visit.id, Visit.started_at, Visit.practitioner_id, Visit.status).where(
            Visit.patient_id.between(low, high), Visit.started_at >= since
        )
    ).all()
    rows = []
    for vid, started, practitioner, status in visits:
        contact = rng.choice((12, 18, 23, 26, 31, 38))
        reinsertions = rng.choice((0, 1, 1, 2))
        electro = vid % 3 == 0
        lines = [
            {"code": line.code, "units": line.units}
            for line in suggest(contact, electro, reinsertions).lines
        ]
        signed = status == "signed"
        rows.append(
            {
                "visit_id": vid,
                "needles_in_at": started + timedelta(minutes=15),
                "needles_out_at": started + timedelta(minutes=45),
                "ea_on_at": started + timedelta(minutes=18) if electro else None,
                "ea_off_at": started + timedelta(minutes=38) if electro else None,
                "contact_minutes": contact,
                "reinsertions": reinsertions,
                "lines": lines if signed else [],
                "confirmed_by_id": practitioner if signed else None,
                "confirmed_at": started + timedelta(minutes=55) if signed else None,
                "updated_at": started + timedelta(minutes=55),
            }
        )
    for start in range(0, len(rows), 5_000):
        session.execute(insert(cast(Table, VisitBilling.__table__)), rows[start : start + 5_000])
