"""The demo clinic's day: this week booked, consents on record, NPIs and billing units.

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
    HandoutIssue,
    Mark,
    Practitioner,
    Visit,
    VisitBilling,
    utcnow,
)
from charting.services.billing import suggest
from charting.services.consent import RISKS
from charting.services.signatures import SIGNATURE_FORMAT, content_of, hash_content, load_rows
from charting.services.visit_fields import FIELD_BLANKS, FIELDS

SLOT_MINUTES = 45
DAY_SLOTS = 10  # 09:00 to 16:30 for each practitioner
REASONS = ("Follow-up", "Follow-up", "Follow-up", "New patient", "Review of the course")
BILLING_DAYS = 30
CONSENT_TREATMENTS = ["acupuncture", "electroacupuncture", "cupping"]
# Fictional NPIs with a valid check digit, for the demo practitioners' superbills.
DEMO_NPIS = ("1234567893", "1245319599", "1467560003")


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
    taken: set[tuple[int, datetime]] = set()
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
                    patient = rng.choice(patients)
                    while (patient, start) in taken and len(patients) > len(practitioners):
                        patient = rng.choice(patients)  # one place at a time
                    taken.add((patient, start))
                    rows.append(
                        {
                            "patient_id": patient,
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
    """A visit for each appointment seen so far: signed when done, a draft when arrived.

    Each repeats the patient's previous visit (its written record, needles and marks, as a
    course goes on) and is signed like the generator's own visits: its content hash is
    computed from the rows as stored, so the signature checks out.
    """
    seen = [r for r in rows if r["status"] in ("done", "arrived")]
    if not seen:
        return
    table = cast(Table, Visit.__table__)
    patients = {r["patient_id"] for r in seen}
    latest = dict(
        session.execute(
            select(Visit.patient_id, func.max(Visit.id))
            .where(Visit.patient_id.in_(patients))
            .group_by(Visit.patient_id)
        ).all()
    )
    bases = {
        row["id"]: dict(row)
        for row in session.execute(
            select(table).where(table.c.id.in_(list(latest.values())))
        ).mappings()
    }
    numbers = {pid: bases[vid]["number"] for pid, vid in latest.items()}
    visits = []
    seen.sort(key=lambda r: r["starts_at"])
    for row in seen:
        pid = row["patient_id"]
        base = bases.get(latest.get(pid, -1), {})
        number = numbers.get(pid, 0) + 1
        numbers[pid] = number
        start = row["starts_at"]
        visits.append(
            {
                **{name: base.get(name, FIELD_BLANKS[name]) for name in FIELDS},
                "patient_id": pid,
                "practitioner_id": row["practitioner_id"],
                "started_at": start,
                "number": number,
                "status": "draft",
                "notes": "",
                "next_appointment": None,
                "created_at": start,
                "updated_at": start,
            }
        )
    ids = list(
        session.scalars(insert(Visit).returning(Visit.id, sort_by_parameter_order=True), visits)
    )
    _continue_courses(
        session, [(vid, latest.get(v["patient_id"])) for v, vid in zip(visits, ids, strict=True)]
    )
    for row, visit_id in zip(seen, ids, strict=True):
        row["visit_id"] = visit_id
    for row in rows:
        row.setdefault("visit_id", None)
    _sign(session, [r for r in seen if r["status"] == "done"])


def _continue_courses(session: Session, new_visits: list[tuple[int, int | None]]) -> None:
    """Each new visit repeats the marks of the patient's visit before this week."""
    table = cast(Table, Mark.__table__)
    copied = [c for c in table.c if c.name not in ("id", "visit_id")]
    for visit_id, previous in new_visits:
        if previous is None:
            continue
        session.execute(
            insert(table).from_select(
                ["visit_id", *(c.name for c in copied)],
                select(literal(visit_id), *copied)
                .where(table.c.visit_id == previous)
                .order_by(table.c.id),
            )
        )


def _sign(session: Session, done: list[dict[str, Any]]) -> None:
    """Sign the visits of the appointments already done, with a valid content hash, and
    record the handout printed at the end of each."""
    for row in done:
        signed_at = row["starts_at"] + timedelta(minutes=50)
        session.execute(
            update(Visit)
            .where(Visit.id == row["visit_id"])
            .values(
                status="signed",
                signed_at=signed_at,
                signed_by_id=row["practitioner_id"],
                signature_format=SIGNATURE_FORMAT,
            )
        )
    found = load_rows(session, [r["visit_id"] for r in done])
    for visit_id, visit_rows in found.items():
        session.execute(
            update(Visit)
            .where(Visit.id == visit_id)
            .values(content_hash=hash_content(content_of(visit_rows)))
        )
    names = dict(session.execute(select(Practitioner.id, Practitioner.name)).all())
    if done:
        session.execute(
            insert(cast(Table, HandoutIssue.__table__)),
            [
                {
                    "visit_id": r["visit_id"],
                    "how": "printed",
                    "issued_at": r["starts_at"] + timedelta(minutes=50),
                    "issued_by": names.get(r["practitioner_id"], ""),
                }
                for r in done
            ],
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
