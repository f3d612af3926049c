"""The demo clinic: realistic, clearly fictional patients and visits for trying the app.

Every demo patient's e-mail is at example.org (a domain reserved for examples, RFC 2606),
every phone number is in the 555-01xx range kept for fiction, and the medical history says
"Fictional demo patient".
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from charting.models import Counter, ImplantedDevice, Patient, Practitioner, Sex, Visit
from charting.services import audit
from charting.services.access import Permission, require
from charting.services.changes import Changes
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


def create_demo_clinic(
    session: Session,
    patients: int = 200,
    visits_per_patient: float = 6.0,
    seed: int = 2026,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int, Changes]:
    """Add ``patients`` fictional patients with about ``visits_per_patient`` visits each.

    Rows are inserted in batches for speed (100,000 patients take well under a minute).
    ``progress(done, total)`` is called after each batch. Returns the number of patients
    and visits added, and the change summary.
    """
    # Rows go in as bulk inserts, which the per-row audit guard does not see: check and
    # log here instead.
    require(session, Permission.EDIT_PATIENTS)
    require(session, Permission.CHART)
    audit.record(session, "demo.create", detail=f"{patients} fictional patients")
    rng = random.Random(seed)
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
        for pid in ids:
            n = max(0, round(rng.expovariate(1 / visits_per_patient))) if visits_per_patient else 0
            gaps = [rng.choice((3, 4, 7, 7, 7, 14)) for _ in range(n)]
            day = today - timedelta(days=sum(gaps) + rng.randint(0, 400))
            who = rng.choice(practitioners)
            complaint = rng.choice(COMPLAINTS)
            for number in range(1, n + 1):
                started = datetime.combine(
                    day, time(rng.randint(8, 17), rng.choice((0, 15, 30, 45))), UTC
                )
                visits.append(
                    {
                        "patient_id": pid,
                        "practitioner_id": who,
                        "started_at": started,
                        "number": number,
                        "status": "signed" if number < n or rng.random() < 0.7 else "draft",
                        "chief_complaint": complaint,
                        "notes": "",
                    }
                )
                day += timedelta(days=gaps[number - 1])
        for v_start in range(0, len(visits), BATCH * 4):
            session.execute(insert(Visit), visits[v_start : v_start + BATCH * 4])
        visits_added += len(visits)
        if progress:
            progress(start + count, patients)
    session.execute(
        update(Counter).where(Counter.name == CHART_COUNTER).values(value=first + patients - 1)
    )
    return patients, visits_added, Changes(patients=frozenset(added))
