"""The demo clinic: realistic, clearly fictional patients and visits for trying the app.

Every demo patient's e-mail is at example.org (a domain reserved for examples, RFC 2606),
every phone number is in the 555-01xx range kept for fiction, and the medical history says
"Fictional demo patient".
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from charting.bodymap import BodyMap, load_bodymap
from charting.models import Counter, ImplantedDevice, Mark, Patient, Practitioner, Sex, Visit
from charting.services import audit
from charting.services.access import Permission, require
from charting.services.changes import Changes
from charting.services.demo_day import fill_demo_day
from charting.services.patients import CHART_COUNTER, format_chart_number
from charting.services.text import fold

DEMO_MARKER = "Fictional demo patient."

FAMILY = (
    "Abbott Alvarez Andersen Bauer Becker Bianchi Brennan Castillo Chen Clarke Costa Dubois "
    "Dvořák Eriksen Fernández Fischer Fitzgerald García González Gray Hansen Hernández Huang "
    "Ivanova Jansen Jiménez Kaur Kelly Kim Kowalski Larsen Laurent Li Lindqvist López Lukić "
    "MacLeod Martín Mehta Mendes Morales Moreau Müller Murphy Nakamura Nguyen Novák Nowak "
    "O'Brien Okafor Olsen Ortiz Park Patel Pereira Petrović Quinn Ramírez Rossi Russo Santos "
    "Sato Schmidt Schneider Silva Singh Søndergaard Suzuki Tanaka Thompson Tran Varga Wagner "
    "Wang Weber Wójcik Wright Yamamoto Yılmaz Zhang Zhou Åberg Ødegaard Ōno Łukasz"
).split()
GIVEN_F = (
    "Aiko Alice Amara Ana Anneliese Aoife Beatriz Camille Chiara Chloé Daniela Elena Emma "
    "Fatima Freya Grace Hana Ines Ingrid Isabel Jing Julia Kateřina Leila Lucía Maja Mei "
    "Nadia Noor Olivia Priya Rosa Sakura Sofia Søren Talia Valentina Xiu Yasmin Zoë"
).split()
GIVEN_M = (
    "Aarav Ahmed Alejandro André Arjun Ben Bruno Carlos Daniel David Diego Elias Emil "
    "Farid Finn François Hiroshi Ibrahim Jakub Jamal João Jonas Kai Kenji Liam Luca Lukas "
    "Marco Mateo Mehmet Miguel Noah Oliver Omar Pavel Rafael Rhys Sebastián Tomás Wei Yusuf"
).split()
STREETS = "Oak Maple Cedar Birch Willow Elm Harbour Mill Station Church Park Orchard".split()
COMPLAINTS = (
    "Low back pain, worse on bending",
    "Low back pain radiating to the left buttock",
    "Right-sided sciatica to the calf",
    "Left-sided sciatica to the lateral foot",
    "Chronic non-specific low back pain",
    "Stiff lower back in the mornings",
    "Sacroiliac pain after lifting",
    "Hip and lateral thigh pain",
    "Hamstring tightness and posterior thigh pain",
    "Upper back and shoulder tension",
    "Knee pain behind the joint",
    "Calf cramps and ankle stiffness",
)
PRACTITIONERS = (
    ("Dr. Mira Castellanos", "DAOM, L.Ac.", "AC-004211", "Traditional Chinese Medicine (TCM)"),
    ("Tomás Lindgren", "L.Ac.", "AC-007845", "Japanese (Meridian Therapy)"),
    ("Grace Okonkwo", "MSc, Dipl. Ac.", "AC-010392", "Western medical acupuncture"),
)
BATCH = 5_000
MARK_BATCH = 50_000
# A plain table insert (one executemany per batch); the ORM's bulk insert splits the batch
# wherever a column is None in one row and set in the next, several times slower.
MARK_INSERT = insert(cast(Table, Mark.__table__))

# Points a back-and-leg practitioner commonly needles (domain.md §2): the pool each demo
# patient's own formula is drawn from. Bilateral points are needled on one or both sides.
FORMULA_POINTS = (
    "BL23 BL25 BL26 BL24 BL52 BL40 BL54 BL57 BL60 BL36 BL37 GB30 GV3 GV4 "
    "EX-B2-L3 EX-B2-L4 EX-B2-L5 Huanzhong GB34 GB31 KI3 BL58 SI3"
).split()
# Trigger points (muscle, trigger point) and cupping sites that go with them.
FORMULA_TRIGGER_POINTS = (
    ("quadratus_lumborum", "ql_sup_lower"),
    ("gluteus_medius", "gmed_post"),
    ("piriformis", "pir_lat"),
    ("gluteus_minimus", "gmin_post"),
    ("gastrocnemius", "gas_med_belly"),
)


def _practitioner_ids(session: Session) -> list[int]:
    # In id order, so one seed makes the same clinic on every backend.
    active = select(Practitioner.id).where(Practitioner.active.is_(True)).order_by(Practitioner.id)
    ids = list(session.scalars(active))
    if ids:
        return ids
    for name, cred, licence, style in PRACTITIONERS:
        session.add(Practitioner(name=name, credentials=cred, licence_number=licence, style=style))
    session.flush()
    return list(session.scalars(select(Practitioner.id).order_by(Practitioner.id)))


def _patient_row(rng: random.Random, chart: int, today: date) -> dict[str, object]:
    female = rng.random() < 0.58
    given = rng.choice(GIVEN_F if female else GIVEN_M)
    family = rng.choice(FAMILY)
    born = today - timedelta(days=rng.randint(18 * 365, 88 * 365))
    age = (today - born).days // 365
    pregnant = female and 20 <= age <= 42 and rng.random() < 0.05
    anticoag = age > 60 and rng.random() < 0.15
    device = ImplantedDevice.NONE.value
    if age > 65 and rng.random() < 0.04:
        device = ImplantedDevice.PACEMAKER.value
    elif rng.random() < 0.01:
        device = ImplantedDevice.STIMULATOR.value
    preferred = given[:3] if rng.random() < 0.05 else ""
    email_local = fold(f"{given}.{family}").replace(" ", "").replace("'", "")
    return {
        "chart_number": format_chart_number(chart),
        "family_name": family,
        "given_name": given,
        "preferred_name": preferred,
        "date_of_birth": born,
        "sex": Sex.FEMALE.value if female else Sex.MALE.value,
        "phone": f"+1 555-01{rng.randint(0, 99):02d}",
        "email": f"{email_local}{chart}@example.org",
        "address": f"{rng.randint(1, 240)} {rng.choice(STREETS)} Street, Springfield",
        "emergency_contact": f"{rng.choice(GIVEN_F + GIVEN_M)} {family}",
        "emergency_phone": f"+1 555-01{rng.randint(0, 99):02d}",
        "pregnant": pregnant,
        "pregnancy_due_date": today + timedelta(days=rng.randint(30, 250)) if pregnant else None,
        "implanted_device": device,
        "bleeding_disorder": rng.random() < 0.01,
        "anticoagulant": anticoag,
        "epilepsy": rng.random() < 0.01,
        "diabetes": age > 45 and rng.random() < 0.1,
        "metal_allergy": rng.random() < 0.03,
        "needle_fainting": rng.random() < 0.03,
        "medical_history": DEMO_MARKER,
        "medications": "Apixaban 5 mg twice daily" if anticoag else "",
        "search_key": fold(" ".join(filter(None, (family, given, preferred)))),
        "family_key": fold(family),
    }


def _formula(rng: random.Random, bodymap: BodyMap, size: float) -> list[dict[str, object]]:
    """One patient's usual marks: catalog points (one or both sides) and a trigger point."""
    both = rng.random() < 0.6
    side = rng.choice(("L", "R"))
    marks: list[dict[str, object]] = []
    wanted = round(size * (0.7 if both else 1.3))
    codes = rng.sample(FORMULA_POINTS, min(len(FORMULA_POINTS), max(2, wanted)))
    for code in codes:
        view = bodymap.views_for(code)[0]
        midline = bodymap.point(code).laterality == "midline"
        for s in ("M",) if midline else ("L", "R") if both else (side,):
            where = bodymap.position(code, s, view)  # type: ignore[arg-type]
            if where is not None:
                marks.append(_mark_row("acupoint", view, where, s, point_code=code))
    muscle, tp = rng.choice(FORMULA_TRIGGER_POINTS)
    tp_view = next(t.view for t in bodymap.muscle(muscle).trigger_points if t.id == tp)
    marks.append(
        _mark_row(
            "trigger_point",
            tp_view,
            bodymap.trigger_point_position(muscle, tp, side),  # type: ignore[arg-type]
            side,
            muscle_id=muscle,
            response=rng.choice(("twitch", "de_qi", "")),
        )
    )
    return marks


def _mark_row(
    kind: str,
    view: str,
    where: tuple[float, float],
    side: str,
    point_code: str | None = None,
    muscle_id: str | None = None,
    response: str = "de_qi",
) -> dict[str, object]:
    return {
        "kind": kind,
        "view": view,
        "x": round(where[0], 1),
        "y": round(where[1], 1),
        "side": side,
        "point_code": point_code,
        "muscle_id": muscle_id,
        "technique": "trigger_point" if kind == "trigger_point" else "manual",
        "response": response,
        "depth_mm": None,
    }


def _visit_marks(
    rng: random.Random, formula: list[dict[str, object]], mean: float
) -> list[dict[str, object]]:
    """A visit's marks: most of the patient's formula, about ``mean`` of them."""
    if mean <= 0 or not formula:
        return []
    count = max(1, min(len(formula), round(rng.gauss(mean, mean / 5))))
    chosen = rng.sample(formula, count)
    if rng.random() < 0.3:  # an electroacupuncture day
        chosen = [{**m, "technique": "electro"} if m["kind"] == "acupoint" else m for m in chosen]
    return chosen


def create_demo_clinic(
    session: Session,
    patients: int = 200,
    visits_per_patient: float = 6.0,
    seed: int = 2026,
    progress: Callable[[int, int], None] | None = None,
    marks_per_visit: float = 8.0,
) -> tuple[int, int, Changes]:
    """Add ``patients`` fictional patients with about ``visits_per_patient`` visits each.

    Each visit gets about ``marks_per_visit`` marks from the patient's own point formula,
    and pain scores before and after that ease over the course. Rows are inserted in
    batches for speed (100,000 patients with 1,000,000 visits and 10,000,000 marks take a
    few minutes). ``progress(done, total)`` is called after each batch. Returns the number
    of patients and visits added, and the change summary.
    """
    # Rows go in as bulk inserts, which the per-row audit guard does not see: check and
    # log here instead.
    require(session, Permission.EDIT_PATIENTS)
    require(session, Permission.CHART)
    audit.record(session, "demo.create", detail=f"{patients} fictional patients")
    rng = random.Random(seed)
    bodymap = load_bodymap()
    practitioners = _practitioner_ids(session)
    counter = session.get(Counter, CHART_COUNTER)
    if counter is None:
        counter = Counter(name=CHART_COUNTER, value=0)
        session.add(counter)
        session.flush()
    first = counter.value + 1
    today = date.today()
    visits_added = 0
    added: set[int] = set()
    for start in range(0, patients, BATCH):
        count = min(BATCH, patients - start)
        rows = [_patient_row(rng, first + start + i, today) for i in range(count)]
        ids = list(
            session.scalars(
                insert(Patient).returning(Patient.id, sort_by_parameter_order=True), rows
            )
        )
        added.update(ids)
        visits: list[dict[str, object]] = []
        formulas: list[list[dict[str, object]]] = []
        for pid in ids:
            n = max(0, round(rng.expovariate(1 / visits_per_patient))) if visits_per_patient else 0
            gaps = [rng.choice((3, 4, 7, 7, 7, 14)) for _ in range(n)]
            day = today - timedelta(days=sum(gaps) + rng.randint(0, 400))
            who = rng.choice(practitioners)
            complaint = rng.choice(COMPLAINTS)
            formula = _formula(rng, bodymap, marks_per_visit) if marks_per_visit else []
            pain = rng.randint(4, 9)
            for number in range(1, n + 1):
                started = datetime.combine(
                    day, time(rng.randint(8, 17), rng.choice((0, 15, 30, 45))), UTC
                )
                relief = rng.choice((0, 1, 1, 2, 2, 3))
                visits.append(
                    {
                        "patient_id": pid,
                        "practitioner_id": who,
                        "started_at": started,
                        "number": number,
                        "status": "signed" if number < n or rng.random() < 0.7 else "draft",
                        "chief_complaint": complaint,
                        "notes": "",
                        "pain_now": pain,
                        "pain_after": max(0, pain - relief),
                    }
                )
                formulas.append(formula)
                pain = max(0, min(10, pain - rng.choice((-1, 0, 0, 1, 1))))
                day += timedelta(days=gaps[number - 1])
        for v_start in range(0, len(visits), BATCH * 4):
            chunk = visits[v_start : v_start + BATCH * 4]
            visit_ids = list(
                session.scalars(
                    insert(Visit).returning(Visit.id, sort_by_parameter_order=True), chunk
                )
            )
            marks: list[dict[str, object]] = []
            for offset, vid in enumerate(visit_ids):
                formula = formulas[v_start + offset]
                when = chunk[offset]["started_at"]
                for mark in _visit_marks(rng, formula, marks_per_visit):
                    marks.append({**mark, "visit_id": vid, "created_at": when, "updated_at": when})
                if len(marks) >= MARK_BATCH:
                    session.execute(MARK_INSERT, marks)
                    marks = []
            if marks:
                session.execute(MARK_INSERT, marks)
        visits_added += len(visits)
        if progress:
            progress(start + count, patients)
    session.execute(
        update(Counter).where(Counter.name == CHART_COUNTER).values(value=first + patients - 1)
    )
    fill_demo_day(session, added, practitioners, seed)  # the book, consents, lots, billing
    return patients, visits_added, Changes(patients=frozenset(added))
