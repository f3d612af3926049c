"""The demo clinic: realistic, clearly fictional patients and visits for trying the app.

The demo lives in its own database (``charting --demo`` opens ``demo.sqlite3`` in the data
folder, the welcome page's "Explore the demo clinic" starts it in its own window), marked as
a demo clinic: the title bar and every printout say "Demo clinic (fictional)". It refuses a
database that holds real patients, and its visits are signed by its own fictional
practitioners, never by the clinic's.

Every demo patient's e-mail is at example.org (a domain reserved for examples, RFC 2606),
every phone number is in the 555-01xx range kept for fiction, and the medical history says
"Fictional demo patient". Visits are complete, as a careful practitioner's would be (all the
STRICTA items: needles and their lot, retention, depths, EA settings, cupping; the
examination, diagnoses, outcome measures, adverse events now and then, handouts given), and
signed visits carry a valid signature.

Rows go in as set-based inserts with ids chosen here, so 100,000 patients with about a
million visits take a few minutes (the clinic benchmarks are built this way).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.orm import Session

from charting.bodymap import BodyMap, load_bodymap
from charting.models import (
    AdverseEvent,
    ClinicSetting,
    Counter,
    CustomPoint,
    EAPair,
    HandoutIssue,
    ImplantedDevice,
    Mark,
    PainArea,
    PainSummary,
    Patient,
    Practitioner,
    Role,
    Sex,
    UserAccount,
    Visit,
)
from charting.services import audit, settings
from charting.services.access import Actor, Permission, actor_of, require
from charting.services.changes import Changes
from charting.services.demo_day import fill_demo_day
from charting.services.errors import ServiceError
from charting.services.pain_measures import AreaShape, measure
from charting.services.patients import CHART_COUNTER, format_chart_number
from charting.services.signatures import SIGNATURE_FORMAT, VisitRows, content_of, hash_content
from charting.services.text import fold
from charting.services.visit_fields import FIELD_BLANKS, FIELDS

DEMO_MARKER = "Fictional demo patient."
#: ``clinic_setting`` key set in a demo clinic's database (value "fictional").
DEMO_SETTING = settings.DEMO_SETTING
DEMO_CLINIC_NAME = "Demo clinic (fictional)"
#: The demo clinic's own point (see :func:`_demo_custom_point`).
DEMO_CUSTOM_POINT = "C-PIRI"

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


@dataclass(frozen=True)
class Stroke:
    """One brush stroke of a demo pain drawing, through named points ("BL23 L") on a view.

    A stroke that ``eases`` pulls back towards its first point as the pain eases over the
    course (the periphery clears first: pain centralising, as it does in patients who
    respond) and reaches further again when the pain worsens (peripheralising); the others
    stay while there is pain at all.
    """

    view: str
    quality: str
    through: tuple[str, ...]
    eases: bool = False


LOW_BACK = Stroke("posterior", "aching", ("BL52 L", "BL23 L", "GV4 M", "BL23 R", "BL52 R"))


@dataclass(frozen=True)
class Complaint:
    """A presenting complaint, with the diagnoses and patterns that usually go with it."""

    text: str
    icd10: tuple[str, ...]
    patterns: tuple[str, ...]
    radiation: str = ""
    drawing: tuple[Stroke, ...] = ()


COMPLAINTS = (
    Complaint(
        "Low back pain, worse on bending",
        ("M54.50",),
        ("Qi and Blood stagnation",),
        drawing=(LOW_BACK,),
    ),
    Complaint(
        "Low back pain radiating to the left buttock",
        ("M54.59",),
        ("Qi and Blood stagnation",),
        "Left buttock, not below the knee",
        (LOW_BACK, Stroke("posterior", "aching", ("BL25 L", "BL54 L", "GB30 L"), eases=True)),
    ),
    Complaint(
        "Right-sided sciatica to the calf",
        ("M54.41",),
        ("Qi and Blood stagnation", "Wind-Cold-Damp invasion"),
        "Right posterior thigh to the calf",
        (
            Stroke("posterior", "aching", ("BL23 R", "BL25 R", "BL26 R")),
            Stroke(
                "posterior",
                "sharp",
                ("BL54 R", "BL36 R", "BL37 R", "BL40 R", "BL55 R", "BL56 R", "BL57 R"),
                eases=True,
            ),
        ),
    ),
    Complaint(
        "Left-sided sciatica to the lateral foot",
        ("M54.42", "M51.17"),
        ("Qi and Blood stagnation",),
        "Left lateral leg to the lateral foot",
        (
            Stroke("posterior", "aching", ("BL23 L", "BL25 L", "BL54 L", "GB30 L")),
            Stroke(
                "lateral_leg",
                "pins_needles",
                ("GB31 L", "GB33 L", "GB34 L", "GB39 L", "BL60 L", "BL62 L"),
                eases=True,
            ),
        ),
    ),
    Complaint(
        "Chronic non-specific low back pain",
        ("M54.50",),
        ("Kidney Yang deficiency", "Qi deficiency"),
        drawing=(LOW_BACK,),
    ),
    Complaint(
        "Stiff lower back in the mornings",
        ("M47.816",),
        ("Cold-Damp obstruction (Bi syndrome)",),
        drawing=(LOW_BACK,),
    ),
    Complaint(
        "Sacroiliac pain after lifting",
        ("M54.59", "S39.012A"),
        ("Qi and Blood stagnation",),
        drawing=(Stroke("posterior", "sharp", ("BL26 R", "BL27 R", "BL28 R", "BL32 R")),),
    ),
    Complaint(
        "Hip and lateral thigh pain",
        ("M79.18",),
        ("Liver Qi stagnation",),
        "Lateral thigh to the knee",
        (
            Stroke("posterior", "aching", ("BL54 R", "GB30 R")),
            Stroke("lateral_leg", "burning", ("GB31 R", "GB32 R", "GB33 R"), eases=True),
        ),
    ),
    Complaint(
        "Hamstring tightness and posterior thigh pain",
        ("M79.18",),
        ("Blood deficiency",),
        drawing=(Stroke("posterior", "aching", ("BL36 L", "BL37 L", "BL40 L"), eases=True),),
    ),
    Complaint(
        "Muscle spasm of the lower back",
        ("M62.830",),
        ("Wind-Cold-Damp invasion",),
        drawing=(
            Stroke("posterior", "cramping", ("BL52 L", "BL23 L", "BL25 L")),
            Stroke("posterior", "cramping", ("BL52 R", "BL23 R", "BL25 R")),
        ),
    ),
)
PRACTITIONERS = (
    ("Dr. Mira Castellanos", "DAOM, L.Ac.", "DEMO-004211", "Traditional Chinese Medicine (TCM)"),
    ("Tomás Lindgren", "L.Ac.", "DEMO-007845", "Japanese (Meridian Therapy)"),
    ("Grace Okonkwo", "MSc, Dipl. Ac.", "DEMO-010392", "Western medical acupuncture"),
)
# Each fictional practitioner's usual needles (STRICTA 2c: brand, gauge x length).
NEEDLES = (
    ("Seirin J-Type", "0.25 mm", "40 mm"),
    ("DongBang DB100", "0.25 mm", "30 mm"),
    ("Hwato", "0.30 mm", "40 mm"),
)
EXAM = {
    "posture": ("Slight antalgic lean to the left", "Neutral", "Reduced lumbar lordosis"),
    "range_of_motion": (
        "Flexion to mid-shin, painful at end range",
        "Flexion to knees; extension limited by pain",
        "Full flexion; lateral flexion reduced to the right",
    ),
    "palpation": (
        "Tender L4-L5 paraspinals, taut band in quadratus lumborum",
        "Tender over the sacroiliac joint and gluteus medius",
        "Trigger point in piriformis reproduces buttock pain",
    ),
    "straight_leg_raise": ("Negative both sides", "Positive right at 60 degrees", "Negative"),
    "reflexes": ("Knee and ankle reflexes normal and equal",),
    "sensation": ("Light touch normal in L4-S1", "Reduced light touch lateral foot (S1)"),
    "tongue": ("Pale, thin white coat", "Purple edges", "Red, little coat"),
    "pulse": ("Wiry", "Deep and weak at the kidney position", "Choppy"),
}
ONSET = ("Gradual, over weeks", "Sudden, lifting a box", "After gardening", "No clear cause")
AGGRAVATING = ("Sitting over 30 minutes", "Bending and lifting", "Standing still", "Mornings")
EASING = ("Walking", "Heat", "Lying on the side", "Gentle movement")
PSFS_ACTIVITIES = ("Putting on socks", "Sitting through a meal", "Walking 20 minutes", "Gardening")
CUP_SKIN = (
    "Light redness, faded by the end of the visit",
    "Dark red marks over the lower back, no blistering",
    "Pink marks, settled within minutes",
)
BATCH = 5_000
INSERT_ROWS = 50_000

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


class DemoRefusedError(ServiceError):
    """The demo cannot go into this database (it holds a clinic's real patients)."""


@dataclass
class _Ids:
    """Ids handed out here (the inserts are set-based, and signed content needs them)."""

    visit: int
    mark: int
    pair: int
    event: int
    handout: int
    pain: int


@dataclass
class _Rows:
    """Rows waiting to be inserted."""

    visits: list[dict[str, Any]] = field(default_factory=list)
    marks: list[dict[str, Any]] = field(default_factory=list)
    pairs: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    handouts: list[dict[str, Any]] = field(default_factory=list)
    pain: list[dict[str, Any]] = field(default_factory=list)
    pain_summaries: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.marks) + len(self.visits)


def is_demo(session: Session) -> bool:
    """Whether this database is a demo clinic (fictional records only)."""
    return session.get(ClinicSetting, DEMO_SETTING) is not None


def _check_may_fill(session: Session) -> None:
    actor = actor_of(session)
    if actor.user_id is not None:
        require(session, Permission.CLINIC_SETTINGS)
    if is_demo(session):
        return
    real = session.scalar(
        select(func.count()).select_from(Patient).where(Patient.medical_history != DEMO_MARKER)
    )
    if real:
        raise DemoRefusedError(
            "This database holds a clinic's real patients, so the fictional demo clinic is "
            "not added to it. The demo has its own file: open it from the welcome page, with "
            "charting --demo, or fill a new file: charting demo --db demo.sqlite3"
        )


def _mark_as_demo(session: Session) -> None:
    session.merge(ClinicSetting(key=DEMO_SETTING, value="fictional"))
    name = session.get(ClinicSetting, "clinic_name")
    if name is None:
        session.add(ClinicSetting(key="clinic_name", value=DEMO_CLINIC_NAME))
    elif not name.value.strip():
        name.value = DEMO_CLINIC_NAME


def _practitioner_ids(session: Session) -> list[int]:
    """The demo's own fictional practitioners (added once), in a stable order."""
    ids = []
    for name, cred, licence, style in PRACTITIONERS:
        found = session.scalar(
            select(Practitioner.id).where(Practitioner.licence_number == licence)
        )
        if found is None:
            row = Practitioner(name=name, credentials=cred, licence_number=licence, style=style)
            session.add(row)
            session.flush()
            found = row.id
        ids.append(found)
    return ids


def _demo_custom_point(session: Session, bodymap: BodyMap) -> None:
    """One point of the demo clinic's own beside the catalog (added once, used by no mark, so
    every signed demo visit keeps its signature): something to find, place and chart."""
    if session.scalar(select(CustomPoint.id).where(CustomPoint.code == DEMO_CUSTOM_POINT)):
        return
    gb30 = bodymap.position("GB30", "L", "posterior")
    assert gb30 is not None
    session.add(
        CustomPoint(
            code=DEMO_CUSTOM_POINT,
            name="Piriformis release point",
            view="posterior",
            x=gb30[0] + 22,
            y=gb30[1] - 14,
            laterality="bilateral",
            location="Midway between GB30 and the sacral border, on the piriformis line",
            cautions="Sciatic nerve lies deep here: stop if a shooting pain goes down the leg.",
            safe_depth_mm=50.0,
        )
    )
    session.flush()


def _next_ids(session: Session) -> _Ids:
    def after(cls: type) -> int:
        return int(session.scalar(select(func.max(cls.id))) or 0) + 1  # type: ignore[attr-defined]

    return _Ids(
        after(Visit),
        after(Mark),
        after(EAPair),
        after(AdverseEvent),
        after(HandoutIssue),
        after(PainArea),
    )


#: Brush width of the demo's strokes, model units (about a hand's width on the body).
DEMO_BRUSH = 45.0


class _Drawings:
    """The demo's pain drawings: each complaint's strokes, pulled back stage by stage as the
    pain eases, and their measures.

    A drawing's measures depend only on its stage and the stages it is compared with, so they
    are computed once per combination: a clinic of 100,000 patients repeats a few dozen.
    """

    def __init__(self, bodymap: BodyMap) -> None:
        self.bodymap = bodymap
        self._paths: dict[Stroke, tuple[tuple[float, float], ...]] = {}
        self._measures: dict[tuple[Any, ...], dict[str, Any]] = {}

    def path(self, stroke: Stroke) -> tuple[tuple[float, float], ...]:
        """The stroke's path through its points, on its view."""
        if stroke not in self._paths:
            points = []
            for name in stroke.through:
                code, side = name.split()
                where = self.bodymap.position(code, side, stroke.view)  # type: ignore[arg-type]
                if where is None:
                    raise ValueError(f"{code} is not on the {stroke.view} view")
                points.append((round(where[0], 1), round(where[1], 1)))
            self._paths[stroke] = tuple(points)
        return self._paths[stroke]

    def stage(self, complaint: Complaint, pain: int) -> tuple[int, ...]:
        """How many points of each stroke are drawn at pain ``pain`` (0-10): the strokes
        that ease reach their end at 9 and pull back as the pain falls."""
        share = min(1.0, pain / 9)
        return tuple(
            max(2, math.ceil(len(self.path(s)) * share)) if s.eases else len(self.path(s))
            for s in complaint.drawing
        )

    def shapes(
        self, complaint: Complaint, stage: tuple[int, ...], intensity: int | None = None
    ) -> list[AreaShape]:
        """The drawing at ``stage`` as areas."""
        return [
            AreaShape(
                view=stroke.view,
                kind="stroke",
                drawn_by="practitioner",
                points=self.path(stroke)[:kept],
                width=DEMO_BRUSH,
                quality=stroke.quality,
                intensity=intensity,
            )
            for stroke, kept in zip(complaint.drawing, stage, strict=True)
        ]

    def measures(
        self,
        complaint: Complaint,
        stage: tuple[int, ...],
        previous: tuple[int, ...] | None,
        first: tuple[int, ...] | None,
    ) -> dict[str, Any]:
        """The measures of the drawing at ``stage`` against the earlier ones (as stored)."""
        key = (complaint.text, stage, previous, first)
        if key not in self._measures:
            self._measures[key] = measure(
                self.bodymap,
                self.shapes(complaint, stage),
                None if previous is None else self.shapes(complaint, previous),
                None if first is None else self.shapes(complaint, first),
            ).to_json()
        return self._measures[key]


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


def _formula(rng: random.Random, bodymap: BodyMap, size: float) -> list[dict[str, Any]]:
    """One patient's usual marks: catalog points (one or both sides) and a trigger point."""
    both = rng.random() < 0.6
    side = rng.choice(("L", "R"))
    marks: list[dict[str, Any]] = []
    wanted = round(size * (0.7 if both else 1.3))
    codes = rng.sample(FORMULA_POINTS, min(len(FORMULA_POINTS), max(2, wanted)))
    for code in codes:
        view = bodymap.views_for(code)[0]
        midline = bodymap.point(code).laterality == "midline"
        for s in ("M",) if midline else ("L", "R") if both else (side,):
            where = bodymap.position(code, s, view)  # type: ignore[arg-type]
            if where is not None:
                marks.append(_mark("acupoint", view, where, s, point_code=code))
    muscle, tp = rng.choice(FORMULA_TRIGGER_POINTS)
    tp_view = next(t.view for t in bodymap.muscle(muscle).trigger_points if t.id == tp)
    marks.append(
        _mark(
            "trigger_point",
            tp_view,
            bodymap.trigger_point_position(muscle, tp, side),  # type: ignore[arg-type]
            side,
            muscle_id=muscle,
        )
    )
    return marks


def _mark(
    kind: str,
    view: str,
    where: tuple[float, float],
    side: str,
    point_code: str | None = None,
    muscle_id: str | None = None,
) -> dict[str, Any]:
    """A mark with every stored field (as the database will hold it)."""
    return {
        "kind": kind,
        "view": view,
        "x": round(where[0], 1),
        "y": round(where[1], 1),
        "side": side,
        "point_code": point_code,
        "muscle_id": muscle_id,
        "location_variant": "",
        "technique": "trigger_point" if kind == "trigger_point" else "manual",
        "depth_mm": None,
        "response": "",
        "note": "",
        "cup_type": "",
        "cup_count": None,
        "cup_minutes": None,
        "skin_response": "",
        "skin": "",
    }


def _visit_marks(
    rng: random.Random, formula: list[dict[str, Any]], mean: float, electro: bool
) -> list[dict[str, Any]]:
    """A visit's marks: most of the patient's formula, about ``mean`` of them, each with its
    depth and response (STRICTA 2d, 2e)."""
    if mean <= 0 or not formula:
        return []
    count = max(1, min(len(formula), round(rng.gauss(mean, mean / 5))))
    chosen = []
    for mark in rng.sample(formula, count):
        depth = float(rng.choice((10, 15, 20, 25, 30, 40)))
        if mark["kind"] == "trigger_point":
            chosen.append(
                {**mark, "depth_mm": depth, "response": rng.choice(("twitch", "referral"))}
            )
        else:
            technique = "electro" if electro else "manual"
            chosen.append({**mark, "technique": technique, "depth_mm": depth, "response": "de_qi"})
    return chosen


def _cupping(rng: random.Random, bodymap: BodyMap) -> list[dict[str, Any]]:
    """Two to four cups over the lower back (beside BL23-BL26)."""
    cup_type = rng.choice(("dry", "fire", "dry", "sliding"))
    minutes = rng.choice((5, 8, 10))
    cups = []
    for code in rng.sample(("BL23", "BL24", "BL25", "BL26"), rng.randint(1, 2)):
        for side in ("L", "R"):
            where = bodymap.position(code, side, "posterior")
            if where is None:
                continue
            dx = -12.0 if side == "L" else 12.0
            row = _mark("cupping", "posterior", (where[0] + dx, where[1]), side)
            row.update(
                technique="cupping",
                cup_type=cup_type,
                cup_count=1,
                cup_minutes=minutes,
                skin_response=rng.choice(CUP_SKIN),
            )
            cups.append(row)
    return cups


def _safe_for_ea(patient: dict[str, Any]) -> bool:
    # EA is not given where the safety rules would block or warn strongly.
    return (
        patient["implanted_device"] == ImplantedDevice.NONE.value
        and not patient["pregnant"]
        and not patient["epilepsy"]
    )


def _record(
    rng: random.Random,
    complaint: Complaint,
    number: int,
    count: int,
    pain: int,
    needles: tuple[str, str, str],
    lot: tuple[str, date],
) -> dict[str, Any]:
    """The written record of one visit, complete as a careful practitioner's would be."""
    first = number == 1
    record: dict[str, Any] = {
        "chief_complaint": complaint.text,
        "pain_now": pain,
        "pain_best": max(0, pain - rng.randint(2, 4)),
        "pain_worst": min(10, pain + rng.randint(1, 2)),
        "radiation": complaint.radiation,
        "current_medications": rng.choice(("None", "Ibuprofen as needed", "Paracetamol as needed")),
        "referral_decision": "Red flags screened: none present; acupuncture appropriate.",
        # Back and leg treatments are given lying face down.
        "patient_position": "prone",
        "tcm_patterns": list(complaint.patterns),
        "icd10_codes": list(complaint.icd10),
        "assessment": f"{complaint.text}; {'first visit' if first else 'follow-up'}.",
        "needle_brand": needles[0],
        "needle_gauge": needles[1],
        "needle_length": needles[2],
        "needle_lot": lot[0],
        "needle_expiry": lot[1],
        "retention_minutes": rng.choice((15, 20, 20, 25, 30)),
        "home_advice": sorted(rng.sample(("stretches", "walking", "heat", "posture", "sleep"), 2)),
        "patient_response": rng.choice(
            ("Relaxed, pain eased", "Felt heavy and warm in the back", "Comfortable throughout")
        ),
    }
    if first:
        record.update(
            onset=rng.choice(ONSET),
            duration=rng.choice(("3 weeks", "2 months", "over a year, flaring now")),
            mechanism=rng.choice(("Lifting", "Prolonged sitting", "None known")),
            pain_quality=rng.choice(("Aching", "Aching with sharp twinges", "Dull, deep")),
            aggravating=rng.choice(AGGRAVATING),
            easing=rng.choice(EASING),
            sleep=rng.choice(("Wakes when turning", "Unaffected", "Slow to fall asleep")),
            **{name: rng.choice(choices) for name, choices in EXAM.items()},
        )
    else:
        record["response_since_last"] = rng.choice(
            (
                "Eased for two days, then returned partly",
                "Better; sitting longer before pain starts",
                "About the same",
                "Sore for a day, then easier",
            )
        )
        record["palpation"] = rng.choice(EXAM["palpation"])
    if first or number % 4 == 0 or number == count:
        record["odi_percent"] = max(0, min(100, pain * 5 + rng.randint(-6, 6)))
        record["rmdq_score"] = max(0, min(24, round(pain * 1.6) + rng.randint(-2, 2)))
        record["psfs"] = [
            {"activity": activity, "score": max(0, min(10, 10 - pain + rng.randint(-1, 1)))}
            for activity in rng.sample(PSFS_ACTIVITIES, 2)
        ]
    return record


def _course(
    rng: random.Random,
    bodymap: BodyMap,
    drawings: _Drawings,
    ids: _Ids,
    rows: _Rows,
    patient_id: int,
    patient: dict[str, Any],
    practitioners: list[tuple[int, str]],
    today: date,
    visits: int,
    marks_per_visit: float,
) -> None:
    """One patient's course of visits, with everything recorded, appended to ``rows``."""
    if not visits:
        return
    gaps = [rng.choice((3, 4, 7, 7, 7, 14)) for _ in range(visits)]
    day = today - timedelta(days=sum(gaps) + rng.randint(0, 400))
    who = rng.randrange(len(practitioners))
    practitioner_id, practitioner_name = practitioners[who]
    needles = NEEDLES[who]
    complaint = rng.choice(COMPLAINTS)
    formula = _formula(rng, bodymap, marks_per_visit) if marks_per_visit else []
    pain = rng.randint(4, 9)
    drawn: list[tuple[int, ...]] = []
    ea_ok = _safe_for_ea(patient)
    for number in range(1, visits + 1):
        started = datetime.combine(day, time(rng.randint(8, 17), rng.choice((0, 15, 30, 45))), UTC)
        # One lot per practitioner per quarter, as a box of needles lasts (e.g. "SE26401").
        quarter = (day.month - 1) // 3 + 1
        lot_number = f"{needles[0][:2].upper()}{day:%y}{quarter}{who + 1:02d}"
        lot = (lot_number, date(day.year + 3, day.month, 1))
        record = _record(rng, complaint, number, visits, pain, needles, lot)
        relief = rng.choice((0, 1, 1, 2, 2, 3))
        record["pain_after"] = max(0, pain - relief)
        electro = ea_ok and rng.random() < 0.3
        marks = _visit_marks(rng, formula, marks_per_visit, electro)
        if marks_per_visit and rng.random() < 0.2:
            marks += _cupping(rng, bodymap)
        visit_id = ids.visit
        ids.visit += 1
        for mark in marks:
            mark.update(id=ids.mark, visit_id=visit_id, created_at=started, updated_at=started)
            ids.mark += 1
        needled = [m for m in marks if m["kind"] == "acupoint"]
        pairs: list[dict[str, Any]] = []
        if electro and len(needled) >= 2:
            dense = rng.random() < 0.5
            pairs.append(
                {
                    "id": ids.pair,
                    "visit_id": visit_id,
                    "mark_a_id": needled[0]["id"],
                    "mark_b_id": needled[1]["id"],
                    "waveform": "Dense-disperse" if dense else "Continuous",
                    "frequency_hz": 2.0,
                    "frequency2_hz": 100.0 if dense else None,
                    "intensity_ma": rng.choice((1.0, 1.5, 2.0, 3.0)),
                    "minutes": record["retention_minutes"],
                    "device": "ITO ES-160",
                    "version": 1,
                }
            )
            ids.pair += 1
        events: list[dict[str, Any]] = []
        if needled and rng.random() < 0.03:
            events.append(
                {
                    "id": ids.event,
                    "visit_id": visit_id,
                    "kind": "bruising",
                    "severity": "mild",
                    "action": "Pressure applied for one minute",
                    "note": f"Small bruise at {needled[0]['point_code']} {needled[0]['side']}",
                    "patient_told": "It may look blue for a few days and fades by itself.",
                    "created_at": started,
                    "version": 1,
                }
            )
            ids.event += 1
        record["needles_out"] = sum(1 for m in marks if m["kind"] != "cupping") or None
        # Drawn at the first visit, every third and the last, while there is pain to draw.
        pain_rows: list[dict[str, Any]] = []
        if complaint.drawing and pain and (number == 1 or number % 3 == 0 or number == visits):
            stage = drawings.stage(complaint, pain)
            for shape in drawings.shapes(complaint, stage, pain):
                pain_rows.append(
                    {
                        "id": ids.pain,
                        "visit_id": visit_id,
                        "view": shape.view,
                        "kind": shape.kind,
                        "points": [list(p) for p in shape.points],
                        "width": shape.width,
                        "region": "",
                        "side": "",
                        "quality": shape.quality,
                        "intensity": shape.intensity,
                        "drawn_by": shape.drawn_by,
                        "created_at": started,
                    }
                )
                ids.pain += 1
            measures = drawings.measures(
                complaint, stage, drawn[-1] if drawn else None, drawn[0] if drawn else None
            )
            rows.pain_summaries.append(
                {"visit_id": visit_id, "measures": measures, "computed_at": started}
            )
            drawn.append(stage)
        last = number == visits
        signed = not last or rng.random() < 0.7
        if last and (today - day).days < 14:
            record["next_appointment"] = started + timedelta(days=7)
        visit = {
            "id": visit_id,
            "patient_id": patient_id,
            "practitioner_id": practitioner_id,
            "started_at": started,
            "number": number,
            "status": "signed" if signed else "draft",
            "notes": "",
            **{name: record.get(name, FIELD_BLANKS[name]) for name in FIELDS},
            "signed_at": started + timedelta(minutes=45) if signed else None,
            "signed_by_id": practitioner_id if signed else None,
            "signature_format": SIGNATURE_FORMAT,
            "version": 1,
            "created_at": started,
            "updated_at": started,
        }
        visit["content_hash"] = (
            hash_content(content_of(VisitRows(visit, marks, pairs, events, [], None, pain_rows)))
            if signed
            else ""
        )
        rows.visits.append(visit)
        rows.marks += marks
        rows.pairs += pairs
        rows.events += events
        rows.pain += pain_rows
        if signed:
            rows.handouts.append(
                {
                    "id": ids.handout,
                    "visit_id": visit_id,
                    "how": "printed",
                    "issued_at": started + timedelta(minutes=50),
                    "issued_by": practitioner_name,
                }
            )
            ids.handout += 1
        pain = max(0, min(10, pain - rng.choice((-1, 0, 0, 1, 1))))
        day += timedelta(days=gaps[number - 1])


def _insert(session: Session, cls: type, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(cast(Table, cls.__table__)), rows)  # type: ignore[attr-defined]


def _flush(session: Session, rows: _Rows) -> None:
    _insert(session, Visit, rows.visits)
    _insert(session, Mark, rows.marks)
    _insert(session, EAPair, rows.pairs)
    _insert(session, AdverseEvent, rows.events)
    _insert(session, HandoutIssue, rows.handouts)
    _insert(session, PainArea, rows.pain)
    _insert(session, PainSummary, rows.pain_summaries)
    rows.visits, rows.marks, rows.pairs, rows.events, rows.handouts = [], [], [], [], []
    rows.pain, rows.pain_summaries = [], []


def create_demo_clinic(
    session: Session,
    patients: int = 200,
    visits_per_patient: float = 6.0,
    seed: int = 2026,
    progress: Callable[[int, int], None] | None = None,
    marks_per_visit: float = 8.0,
) -> tuple[int, int, Changes]:
    """Add ``patients`` fictional patients with about ``visits_per_patient`` visits each, to
    a new database or a demo clinic's (which it marks as one).

    Each visit gets about ``marks_per_visit`` marks from the patient's own point formula,
    a complete record, and pain scores before and after that ease over the course.
    ``progress(done, total)`` is called after each batch. Returns the number of patients and
    visits added, and the change summary.

    Raises:
        DemoRefusedError: the database holds real patients.
        PermissionDeniedError: a signed-in person who may not change the clinic's settings.
    """
    _check_may_fill(session)
    # Rows go in as bulk inserts, which the per-row audit guard does not see: checked above
    # and logged here, then written by Charting itself (a system task may use bulk inserts).
    audit.record(session, "demo.create", detail=f"{patients} fictional patients")
    session.info["actor"] = Actor.system("demo")
    _mark_as_demo(session)
    rng = random.Random(seed)
    bodymap = load_bodymap()
    drawings = _Drawings(bodymap)
    practitioner_ids = _practitioner_ids(session)
    _demo_custom_point(session, bodymap)
    practitioners = [(pid, p[0]) for pid, p in zip(practitioner_ids, PRACTITIONERS, strict=True)]
    counter = session.get(Counter, CHART_COUNTER)
    if counter is None:
        counter = Counter(name=CHART_COUNTER, value=0)
        session.add(counter)
        session.flush()
    first = counter.value + 1
    today = date.today()
    ids = _next_ids(session)
    rows = _Rows()
    visits_added = 0
    added: set[int] = set()
    for start in range(0, patients, BATCH):
        count = min(BATCH, patients - start)
        people = [_patient_row(rng, first + start + i, today) for i in range(count)]
        patient_ids = list(
            session.scalars(
                insert(Patient).returning(Patient.id, sort_by_parameter_order=True), people
            )
        )
        added.update(patient_ids)
        for pid, person in zip(patient_ids, people, strict=True):
            n = max(0, round(rng.expovariate(1 / visits_per_patient))) if visits_per_patient else 0
            _course(
                rng,
                bodymap,
                drawings,
                ids,
                rows,
                pid,
                person,
                practitioners,
                today,
                n,
                marks_per_visit,
            )
            visits_added += n
            if len(rows) >= INSERT_ROWS:
                _flush(session, rows)
        _flush(session, rows)
        if progress:
            progress(start + count, patients)
    session.execute(
        update(Counter).where(Counter.name == CHART_COUNTER).values(value=first + patients - 1)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Ids were chosen here: move each table's sequence past them.
        for table in ("visit", "mark", "ea_pair", "adverse_event", "handout_issue", "pain_area"):
            session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )
            )
    fill_demo_day(session, added, practitioner_ids, seed)  # the book, consents, lots, billing
    return patients, visits_added, Changes(patients=frozenset(added))


#: The demo clinic's own account (shown on its screens: the demo holds nothing private).
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-clinic"
DEMO_PATIENTS = 200


def prepare_demo(session: Session, patients: int = DEMO_PATIENTS) -> Actor:
    """Make a new (empty) database the demo clinic, or reuse one that already is; return the
    demo account to work as (a practitioner and admin, charting as the demo's first
    fictional practitioner).

    Raises:
        DemoRefusedError: the database is not empty and not a demo clinic.
    """
    from charting.services.accounts import AccountInput, actor_for, create_account

    session.info["actor"] = Actor.system("demo")
    if not is_demo(session):
        used = session.scalar(select(func.count()).select_from(Patient)) or session.scalar(
            select(func.count()).select_from(UserAccount)
        )
        if used:
            raise DemoRefusedError(
                "This file is not the demo clinic and already holds records; it was left "
                "untouched. Move it away, or open it without --demo."
            )
        create_demo_clinic(session, patients)
        session.info["actor"] = Actor.system("demo")
    account = session.scalar(select(UserAccount).where(UserAccount.username == DEMO_USERNAME))
    if account is None:
        name, cred, licence, _style = PRACTITIONERS[0]
        data = AccountInput(
            username=DEMO_USERNAME,
            display_name=name,
            roles={Role.ADMIN, Role.PRACTITIONER},
            password=DEMO_PASSWORD,
            credentials=cred,
            licence_number=licence,
        )
        account_id, _ = create_account(session, data)
        account = session.get_one(UserAccount, account_id)
    return actor_for(account)


__all__ = [
    "DEMO_CLINIC_NAME",
    "DEMO_MARKER",
    "DEMO_PASSWORD",
    "DEMO_SETTING",
    "DEMO_USERNAME",
    "DemoRefusedError",
    "create_demo_clinic",
    "is_demo",
    "prepare_demo",
]
