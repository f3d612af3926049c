"""Live safety checks for a visit: data-driven rules that turn the chart into warnings."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, Protocol

from charting.bodymap import BodyMap, load_bodymap
from charting.bodymap.types import Side
from charting.services.marks import MarkRow, mark_label

Severity = Literal["block", "warning", "advisory"]

#: Display and sort order of severities: blocks first.
SEVERITY_ORDER: dict[str, int] = {"block": 0, "warning": 1, "advisory": 2}
DEVICES: dict[str, str] = {
    "none": "no implanted device",
    "pacemaker": "a pacemaker",
    "icd": "an implanted defibrillator (ICD)",
    "stimulator": "an implanted nerve stimulator",
    "pump": "an implanted medication pump",
    "other": "an implanted electrical device",
}
CUP_TYPES = ("", "dry", "fire", "wet", "sliding", "flash")
POSITIONS = ("", "prone", "side-lying", "seated", "supine")
#: Techniques that put a needle through the skin (press needles included; moxa, cupping not).
NEEDLE_TECHNIQUES = frozenset({"", "manual", "electro", "trigger_point", "press"})
#: Body-map frames by region (see :mod:`charting.bodymap.model`).
UPPER_LIMB_FRAMES = frozenset({"upper_arm", "forearm", "hand"})
TRUNK_FRAMES = frozenset({"spine"})
LOWER_LEG_FRAMES = frozenset(
    {
        "leg_posterior",
        "foot_posterior",
        "leg_lateral",
        "fibula",
        "foot_lateral",
        "leg_medial",
        "tibia_medial_border",
        "foot_medial",
        "leg_anterior",
        "tibia_medial",
        "foot_dorsum",
    }
)
#: Recorded depths beyond which a caution point's structure is at risk, in mm: the deepest
#: needling CAM gives for the points of each flag (LUNG: oblique 0.5-0.7 in.; KIDNEY: BL23
#: perpendicular 1-1.2 in.; CORD: GV points 0.5-1.0 in.) [CAM]; GB21 over the lung's apex,
#: where the pleura lies 14.6 mm deep on average in women [GB21US].
SAFE_DEPTH_MM: dict[str, float] = {"LUNG": 18.0, "KIDNEY": 30.0, "CORD": 25.0}
POINT_SAFE_DEPTH_MM: dict[str, float] = {"GB21": 14.0}
_DEPTH_RISK = {
    "LUNG": "pneumothorax",
    "KIDNEY": "kidney injury",
    "CORD": "the spinal canal",
    "CUSTOM": "going past the depth the clinic set for this custom point",
}
#: Lowest level that counts as "thoracic" for EA pairs: T12, with half the gap to L1 as slack
#: for clicks that land a little low.
THORACIC_LIMIT = "T12+0.5"
#: Posterior lung and pleura reach from the root of the neck to about T12, so needled ashi and
#: trigger-point marks there get the same depth caution as LUNG points [WHO99-ORG] [PTX].
LUNG_TOP, LUNG_BOTTOM = "C7", "T12"
#: The lumbosacral region for the pregnancy rule: the iliac-crest line (L4) to the coccyx,
#: within 3 cun of the midline (the outer Bladder line) [WHO99-PREG].
LUMBOSACRAL_TOP, LUMBOSACRAL_HALF_CUN = "L4", 3.0
#: Deep needling in the midline from L2 upward risks the spinal canal [TCMWIN].
CORD_BOTTOM = "L2"
#: A pregnancy lasts 280 days from the last menstrual period to the due date.
PREGNANCY_DAYS = 280
MEDICATION_NOTE = "Any change to medication is for the prescriber to decide."


# --- inputs ----------------------------------------------------------------------------------


class PatientRecord(Protocol):
    """The patient fields the safety checks read (a ``charting.models.Patient`` fits)."""

    pregnant: bool
    pregnancy_due_date: date | None
    implanted_device: str
    bleeding_disorder: bool
    anticoagulant: bool
    epilepsy: bool
    diabetes: bool
    metal_allergy: bool
    needle_fainting: bool
    peripheral_neuropathy: bool


@dataclass(frozen=True)
class PatientSafety:
    """What the intake form recorded that matters for safety.

    Attributes:
        pregnant: Currently pregnant.
        pregnancy_due_date: Expected date of delivery, when known.
        implanted_device: One of :data:`DEVICES` ("none", "pacemaker", "icd", ...).
        bleeding_disorder: Haemophilia or another bleeding disorder.
        anticoagulant: Takes an anticoagulant or antiplatelet medicine.
        epilepsy: Epilepsy or another seizure disorder.
        diabetes: Diabetes.
        metal_allergy: Allergy to metals (needle material).
        needle_fainting: Has fainted (or nearly) with needles before.
        peripheral_neuropathy: Reduced sensation in the feet and legs.
    """

    pregnant: bool = False
    pregnancy_due_date: date | None = None
    implanted_device: str = "none"
    bleeding_disorder: bool = False
    anticoagulant: bool = False
    epilepsy: bool = False
    diabetes: bool = False
    metal_allergy: bool = False
    needle_fainting: bool = False
    peripheral_neuropathy: bool = False

    def __post_init__(self) -> None:
        """Refuse an unknown device kind (an empty string means "none")."""
        if self.implanted_device == "":
            object.__setattr__(self, "implanted_device", "none")
        if self.implanted_device not in DEVICES:
            raise ValueError(f"Unknown implanted device {self.implanted_device!r}.")

    @classmethod
    def from_patient(cls, patient: PatientRecord) -> PatientSafety:
        """Copy the safety fields of a loaded patient record."""
        return cls(
            pregnant=bool(patient.pregnant),
            pregnancy_due_date=patient.pregnancy_due_date,
            implanted_device=patient.implanted_device or "none",
            bleeding_disorder=bool(patient.bleeding_disorder),
            anticoagulant=bool(patient.anticoagulant),
            epilepsy=bool(patient.epilepsy),
            diabetes=bool(patient.diabetes),
            metal_allergy=bool(patient.metal_allergy),
            peripheral_neuropathy=bool(patient.peripheral_neuropathy),
            needle_fainting=bool(patient.needle_fainting),
        )

    @property
    def has_device(self) -> bool:
        """True when an implanted electrical device is recorded."""
        return self.implanted_device != "none"

    @property
    def bleeding_risk(self) -> bool:
        """True with a bleeding disorder or anticoagulant/antiplatelet use."""
        return self.bleeding_disorder or self.anticoagulant


@dataclass(frozen=True)
class EAPairInfo:
    """Two marks joined by one electroacupuncture lead.

    Attributes:
        id: Stored pair id (``None`` before it is saved).
        mark_a: One end.
        mark_b: The other end.
        frequency_hz: Stimulation frequency.
        intensity_ma: Current in mA.
        minutes: Duration.
    """

    id: int | None
    mark_a: MarkRow
    mark_b: MarkRow
    frequency_hz: float | None = None
    intensity_ma: float | None = None
    minutes: float | None = None


@dataclass(frozen=True)
class CuppingInfo:
    """The cupping done at one cupping mark.

    Attributes:
        mark_id: The cupping mark (``None`` when cupping is not tied to a mark).
        cup_type: One of :data:`CUP_TYPES` ("dry", "fire", "wet", "sliding", "flash").
    """

    mark_id: int | None
    cup_type: str = "dry"

    def __post_init__(self) -> None:
        """Refuse an unknown cup type."""
        if self.cup_type not in CUP_TYPES:
            raise ValueError(f"Unknown cup type {self.cup_type!r}.")


@dataclass(frozen=True)
class SafetyContext:
    """Everything the rules look at: the patient, the visit's marks and its techniques.

    Attributes:
        patient: The patient's safety-relevant history.
        marks: The visit's marks.
        ea_pairs: Electroacupuncture lead pairs.
        cupping: Cupping details per cupping mark (wet, fire, ...).
        bloodletting: Bloodletting (pricking to bleed) is done or planned.
        position: Treatment position: "prone", "side-lying", "seated", "supine" or "".
        today: The visit date (for the stage of pregnancy).
        consented: Treatments the patient's recorded, not withdrawn consents cover
            (``charting.services.consent.TREATMENTS`` keys); None when not looked up.
    """

    patient: PatientSafety
    marks: Sequence[MarkRow]
    ea_pairs: Sequence[EAPairInfo] = ()
    cupping: Sequence[CuppingInfo] = ()
    bloodletting: bool = False
    position: str = ""
    today: date = field(default_factory=date.today)
    consented: frozenset[str] | None = None

    def __post_init__(self) -> None:
        """Refuse an unknown treatment position."""
        if self.position not in POSITIONS:
            raise ValueError(f"Unknown treatment position {self.position!r}.")


# --- outputs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SafetyWarning:
    """One safety warning for the visit editor and the map.

    Attributes:
        key: Stable id of the situation (e.g. "preg-point:SP6:L", "device-ea"); the
            acknowledgement is stored under it.
        rule: Id of the rule that raised it.
        severity: "block" (override only with a recorded reason), "warning" or "advisory".
        title: Short title.
        message: One or two plain sentences naming the marks and saying what to do.
        mark_ids: Marks to highlight on the map.
        source: Source keys (docs/sources.md), comma-separated.
    """

    key: str
    rule: str
    severity: Severity
    title: str
    message: str
    mark_ids: tuple[int, ...]
    source: str

    @property
    def needs_reason(self) -> bool:
        """True when going ahead needs a recorded reason (a block)."""
        return self.severity == "block"


@dataclass(frozen=True)
class Finding:
    """What a rule's check found: the key suffix, the message and the marks involved."""

    detail: str
    message: str
    mark_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Rule:
    """One safety rule: what it checks, how severe, on whose authority, and the check.

    Attributes:
        id: Stable id; also the first part of every warning key it makes.
        title: Title of its warnings.
        description: What is checked, for the "what is checked" list.
        severity: Severity of every warning it raises.
        source: Source keys (docs/sources.md), comma-separated.
        check: Finds the situations in a context.
    """

    id: str
    title: str
    description: str
    severity: Severity
    source: str
    check: Callable[[Facts], Iterable[Finding]] = field(compare=False, repr=False)

    def run(self, context: SafetyContext, bodymap: BodyMap | None = None) -> list[SafetyWarning]:
        """Warnings this rule raises for ``context`` (empty when its condition is absent)."""
        return self.warnings(Facts(context, bodymap or load_bodymap()))

    def warnings(self, facts: Facts) -> list[SafetyWarning]:
        """Warnings for already-derived facts (shared by all rules in :func:`evaluate`)."""
        return [
            SafetyWarning(
                key=f"{self.id}:{f.detail}" if f.detail else self.id,
                rule=self.id,
                severity=self.severity,
                title=self.title,
                message=f.message,
                mark_ids=f.mark_ids,
                source=self.source,
            )
            for f in self.check(facts)
        ]


# --- facts derived once per evaluation -------------------------------------------------------


class Facts:
    """The context plus what the body map says about each mark (region, side, flags)."""

    def __init__(self, context: SafetyContext, bodymap: BodyMap) -> None:
        """Derive the facts every rule shares."""
        self.context = context
        self.patient = context.patient
        self.bodymap = bodymap
        self.marks: list[MarkRow] = list(context.marks)
        by_id = {m.id: m for m in self.marks}
        for pair in context.ea_pairs:
            for end in (pair.mark_a, pair.mark_b):
                by_id.setdefault(end.id, end)
        self.by_id = by_id
        self._flags: dict[int, frozenset[str]] = {}  # by id() of rows the context holds
        self.needled = [m for m in self.marks if is_needled(m)]
        self.ea_marks = self._ea_marks()
        self.cupping_types = self._cupping_types()

    def _ea_marks(self) -> list[MarkRow]:
        found = {m.id: m for m in self.marks if m.spec.technique == "electro"}
        for pair in self.context.ea_pairs:
            found.setdefault(pair.mark_a.id, pair.mark_a)
            found.setdefault(pair.mark_b.id, pair.mark_b)
        return list(found.values())

    def _cupping_types(self) -> dict[int | None, str]:
        """Cup type per cupping mark id (``None`` for cupping tied to no mark)."""
        types: dict[int | None, str] = {
            m.id: "" for m in self.marks if m.kind == "cupping" or m.spec.technique == "cupping"
        }
        for info in self.context.cupping:
            types[info.mark_id] = info.cup_type
        return types

    @property
    def electro(self) -> bool:
        """True when any electroacupuncture is charted."""
        return bool(self.ea_marks)

    def flags(self, mark: MarkRow) -> frozenset[str]:
        """Caution flags of a mark: its catalog point's, or its position's for ashi/TrP marks."""
        # By identity: the rules ask about the same few hundred rows again and again.
        known = self._flags.get(id(mark))
        if known is None:
            known = self._flags[id(mark)] = self._derive_flags(mark)
        return known

    def custom(self, mark: MarkRow) -> bool:
        """True for a mark of one of the clinic's custom points (no catalog flags of its own)."""
        return mark.custom or self.bodymap.is_custom(mark.spec.point_code)

    def _derive_flags(self, mark: MarkRow) -> frozenset[str]:
        flags = set(mark.flags)
        code = mark.spec.point_code
        # A custom point has no catalog flags: it gets the rules that go by position, as an
        # ashi point at the same spot does.
        by_position = not code or self.custom(mark)
        if code:
            with contextlib.suppress(KeyError):  # an unknown code has no catalog flags
                flags |= self.bodymap.point(code).flags
        if (
            by_position
            and (mark.kind in ("ashi", "trigger_point") or code)
            and mark.spec.view == "posterior"
        ):
            view = self.bodymap.views["posterior"]
            y = mark.spec.y
            if self.frame(mark) in TRUNK_FRAMES:
                if self.side(mark) == "M":
                    if y <= view.level_y(CORD_BOTTOM):
                        flags.add("CORD")
                elif view.level_y(LUNG_TOP) <= y <= view.level_y(LUNG_BOTTOM):
                    flags.add("LUNG")
        if by_position and self._pregnancy_region(mark):
            flags.add("PREG-REGION")
        return frozenset(flags)

    def _pregnancy_region(self, mark: MarkRow) -> bool:
        """True for an ashi, trigger-point or cupping site over the lumbosacral region (the
        iliac-crest line, L4, down to the coccyx, within 3 cun of the midline) or over the
        abdomen, the regions WHO says are traditionally avoided in pregnancy [WHO99-PREG]
        (and the abdomen is never cupped in pregnancy [CUP-EC])."""
        if mark.kind not in ("ashi", "trigger_point", "cupping") and not self.custom(mark):
            return False
        view = self.bodymap.views.get(mark.spec.view)
        if view is None:
            return False
        if view.id == "anterior":
            return self.frame(mark) == "abdomen"
        if view.id != "posterior" or self.frame(mark) not in TRUNK_FRAMES:
            return False
        upc = view.units_per_cun(mark.spec.x, mark.spec.y)
        return (
            view.level_y(LUMBOSACRAL_TOP) <= mark.spec.y <= view.level_y("coccyx_tip")
            and abs(mark.spec.x - view.mirror_axis) <= LUMBOSACRAL_HALF_CUN * upc
        )

    def frame(self, mark: MarkRow) -> str:
        """Name of the body-map frame (segment) the mark lies in, or "" for an unknown view."""
        view = self.bodymap.views.get(mark.spec.view)
        return "" if view is None else view.frame_at(mark.spec.x, mark.spec.y).name

    def side(self, mark: MarkRow) -> Side:
        """Patient's side from the position ("M" within the midline band), else as stored."""
        view = self.bodymap.views.get(mark.spec.view)
        if view is None:
            return "L" if mark.spec.side == "L" else "R" if mark.spec.side == "R" else "M"
        return view.side_at(mark.spec.x, mark.spec.y)

    def thoracic(self, mark: MarkRow) -> bool:
        """True for a trunk mark at or above the T12 level (neck and chest)."""
        if mark.spec.view != "posterior" or self.frame(mark) not in TRUNK_FRAMES:
            return False
        return mark.spec.y <= self.bodymap.views["posterior"].level_y(THORACIC_LIMIT)

    def upper_limb(self, mark: MarkRow) -> bool:
        """True for a mark on the arm or hand."""
        return self.frame(mark) in UPPER_LIMB_FRAMES

    def lower_leg(self, mark: MarkRow) -> bool:
        """True for a mark on the lower leg, ankle or foot."""
        return self.frame(mark) in LOWER_LEG_FRAMES

    def with_flag(self, flag: str, marks: Iterable[MarkRow] | None = None) -> list[MarkRow]:
        """Marks (default: all) carrying a caution flag."""
        return [m for m in (self.marks if marks is None else marks) if flag in self.flags(m)]


def is_needled(mark: MarkRow) -> bool:
    """True when a mark is needled (not a cupping site, moxa or plain pressure)."""
    return mark.kind != "cupping" and mark.spec.technique in NEEDLE_TECHNIQUES


def gestational_weeks(due: date, today: date) -> int | None:
    """Completed weeks of pregnancy on ``today`` from the due date, or ``None`` if implausible."""
    weeks = (PREGNANCY_DAYS - (due - today).days) // 7
    return weeks if 0 <= weeks <= 44 else None


def trimester(weeks: int) -> int:
    """Trimester (1-3) of a pregnancy of ``weeks`` completed weeks (14 and 28 weeks split them)."""
    return 1 if weeks < 14 else 2 if weeks < 28 else 3


# --- message helpers -------------------------------------------------------------------------


def _labels(marks: Iterable[MarkRow]) -> str:
    return ", ".join(dict.fromkeys(mark_label(m.spec) for m in marks))


def _verb(marks: Sequence[MarkRow], one: str, many: str) -> str:
    """``one`` or ``many`` (e.g. "lies"/"lie") to agree with the number of points named."""
    return one if len({mark_label(m.spec) for m in marks}) == 1 else many


def _ids(marks: Iterable[MarkRow]) -> tuple[int, ...]:
    return tuple(sorted({m.id for m in marks}))


def _by_point(marks: Iterable[MarkRow]) -> dict[tuple[str, str], list[MarkRow]]:
    """Marks grouped by (point code, side), in charting order."""
    groups: dict[tuple[str, str], list[MarkRow]] = {}
    for m in marks:
        groups.setdefault((m.spec.point_code or m.kind, m.spec.side), []).append(m)
    return groups


def _bleeding_cause(patient: PatientSafety) -> str:
    if patient.bleeding_disorder and patient.anticoagulant:
        return "has a bleeding disorder and takes an anticoagulant or antiplatelet medicine"
    if patient.bleeding_disorder:
        return "has a bleeding disorder"
    return "takes an anticoagulant or antiplatelet medicine"


# --- pregnancy -------------------------------------------------------------------------------


def _check_preg_point(facts: Facts) -> Iterator[Finding]:
    if not facts.patient.pregnant:
        return
    # The union of the traditional lists (LI4, SP6, BL60, BL67, GB21) carries PREG; the lists
    # disagree and the evidence is weak [PREGLISTS] [BIRCH] [GDS11].
    for (code, side), marks in _by_point(facts.with_flag("PREG")).items():
        yield Finding(
            f"{code}:{side}",
            f"{_labels(marks)} is traditionally avoided in pregnancy (the lists differ and the "
            "evidence is weak). Choose another point if you can, and record your decision if "
            "you use it.",
            _ids(marks),
        )


def _check_preg_region(facts: Facts) -> Iterator[Finding]:
    if not facts.patient.pregnant:
        return
    marks = [m for m in facts.with_flag("PREG-REGION") if "PREG" not in facts.flags(m)]
    if not marks:
        return
    due = facts.patient.pregnancy_due_date
    weeks = None if due is None else gestational_weeks(due, facts.context.today)
    points = _labels(marks)
    # WHO 1999: lumbosacral points are traditionally avoided in the first trimester; after the
    # third month, lumbosacral and strongly stimulating points [WHO99-PREG].
    if weeks is None:
        stage = "The stage of pregnancy is unknown (record the due date)"
        advice = (
            "lumbosacral points are traditionally avoided in the first trimester, and "
            "lumbosacral and strongly stimulating points after the third month"
        )
    elif trimester(weeks) == 1:
        stage = f"The patient is about {weeks} weeks pregnant (first trimester)"
        advice = "lumbosacral points are traditionally avoided in the first trimester"
    else:
        which = "second" if trimester(weeks) == 2 else "third"
        stage = f"The patient is about {weeks} weeks pregnant ({which} trimester)"
        advice = (
            "after the third month, lumbosacral points and strongly stimulating points are "
            "traditionally avoided"
        )
    yield Finding(
        "",
        f"{stage} and lumbosacral or abdominal sites are charted: {points}. WHO guidance: "
        f"{advice}; use gentle stimulation or other points, never cup the abdomen, and record "
        "your decision.",
        _ids(marks),
    )


def _check_preg_ea(facts: Facts) -> Iterator[Finding]:
    if facts.patient.pregnant and facts.electro:
        # Clinic sources list pregnancy as a contraindication to EA [WUWEI] [ACUPUNTURA].
        yield Finding(
            "",
            f"The patient is pregnant and electroacupuncture is charted at "
            f"{_labels(facts.ea_marks)}. Pregnancy is listed as a contraindication to "
            "electroacupuncture; prefer manual needling, or record why EA is needed.",
            _ids(facts.ea_marks),
        )


def _cupping_marks(facts: Facts, wet: bool | None = None) -> list[MarkRow]:
    """Cupping marks, optionally only wet (``True``) or only not wet (``False``)."""
    return [
        facts.by_id[mid]
        for mid, kind in facts.cupping_types.items()
        if mid is not None and mid in facts.by_id and (wet is None or (kind == "wet") == wet)
    ]


def _has_cupping(facts: Facts, wet: bool | None = None) -> bool:
    return any(wet is None or (kind == "wet") == wet for kind in facts.cupping_types.values())


def _sites(marks: Sequence[MarkRow]) -> str:
    return f"at {_labels(marks)}" if marks else "for this visit"


def _check_preg_cupping(facts: Facts) -> Iterator[Finding]:
    if facts.patient.pregnant and _has_cupping(facts):
        marks = _cupping_marks(facts)
        # Pregnancy is a relative contraindication; never cup the abdomen [CUP-GC] [CUP-EC].
        yield Finding(
            "",
            f"The patient is pregnant and cupping is charted {_sites(marks)}. Pregnancy is a "
            "relative contraindication to cupping, and the abdomen is never cupped in pregnancy.",
            _ids(marks),
        )


# --- implanted devices and electroacupuncture ------------------------------------------------


def _check_device_ea(facts: Facts) -> Iterator[Finding]:
    patient = facts.patient
    if patient.has_device and facts.electro:
        # Device makers and the BAcC: no EA with a pacemaker; manual needling is fine
        # [BMAS-ICD] [BACC-PM]; EA has interfered with a demand pacemaker [CUM11].
        yield Finding(
            "",
            f"The patient has {DEVICES[patient.implanted_device]} and electroacupuncture is "
            f"charted at {_labels(facts.ea_marks)}. EA is blocked with an implanted electrical "
            "device (manual needling is fine); go ahead only with a recorded reason.",
            _ids(facts.ea_marks),
        )


def _check_device_cupping(facts: Facts) -> Iterator[Finding]:
    if facts.patient.implanted_device == "pacemaker" and _has_cupping(facts):
        marks = _cupping_marks(facts)
        # A pacemaker is among the contraindications in a practical cupping list [CUP-GC].
        yield Finding(
            "",
            f"The patient has a pacemaker and cupping is charted {_sites(marks)}. Cupping "
            "contraindication lists include a pacemaker; keep cups well away from the "
            "device and record your decision.",
            _ids(marks),
        )


def _crosses_chest(facts: Facts, pair: EAPairInfo) -> bool:
    a, b = pair.mark_a, pair.mark_b
    if a.id == b.id or {facts.side(a), facts.side(b)} != {"L", "R"}:
        return False
    # Left-right pairs across the thorax or between the upper limbs send current across the
    # chest and heart [ITM] [BMAS-ICD], and across the thoracic cord [DRYN-E]; lumbar and
    # leg pairs are not flagged (no rule in the sources) [ITM].
    return any(facts.thoracic(m) or facts.upper_limb(m) for m in (a, b))


def _check_ea_chest(facts: Facts) -> Iterator[Finding]:
    for pair in facts.context.ea_pairs:
        if _crosses_chest(facts, pair):
            ends = (pair.mark_a, pair.mark_b)
            ids = _ids(ends)
            joins = (
                "joins the two arms"
                if all(facts.upper_limb(m) for m in ends)
                else "joins the left and right sides at or above T12"
            )
            yield Finding(
                "-".join(str(i) for i in ids),
                f"The EA pair {mark_label(pair.mark_a.spec)} to {mark_label(pair.mark_b.spec)} "
                f"{joins}, so the current crosses the chest or the thoracic spine. Pair the leads "
                "on the same side instead.",
                ids,
            )


def _check_epilepsy_ea(facts: Facts) -> Iterator[Finding]:
    if facts.patient.epilepsy and facts.electro:
        # Uncontrolled epilepsy is listed as an absolute contraindication to EA
        # [ACUPUNTURA] [WUWEI]; GERAC excluded epilepsy [GERAC-C].
        yield Finding(
            "",
            f"The patient has epilepsy and electroacupuncture is charted at "
            f"{_labels(facts.ea_marks)}. EA is listed as contraindicated in uncontrolled "
            "epilepsy; check seizure control, or use manual needling.",
            _ids(facts.ea_marks),
        )


# --- bleeding --------------------------------------------------------------------------------


def _check_bleeding_needling(facts: Facts) -> Iterator[Finding]:
    if facts.patient.bleeding_disorder and facts.needled:
        # WHO lists bleeding disorders among contraindications [WHO99-TOC]; severe ones such as
        # haemophilia are excluded [MEDSCAPE]; NHS: talk to the GP first [NHS-ACU].
        yield Finding(
            "",
            "The patient has a bleeding disorder and needling is charted. Confirm the patient "
            "has discussed acupuncture with their doctor, use light technique and few needles, "
            "and apply firm pressure after needle removal.",
            _ids(facts.needled),
        )


def _check_bleeding_cupping(facts: Facts) -> Iterator[Finding]:
    patient = facts.patient
    if patient.bleeding_risk and _has_cupping(facts, wet=False):
        marks = _cupping_marks(facts, wet=False)
        # Bleeding disorders: contraindication; anticoagulants: relative [CUP-GC].
        yield Finding(
            "",
            f"The patient {_bleeding_cause(patient)}; cupping is charted {_sites(marks)}. "
            "Keep suction light and short and check the skin for bruising afterwards. "
            f"{MEDICATION_NOTE}",
            _ids(marks),
        )


def _check_bleeding_wet_cupping(facts: Facts) -> Iterator[Finding]:
    patient = facts.patient
    if patient.bleeding_risk and _has_cupping(facts, wet=True):
        marks = _cupping_marks(facts, wet=True)
        # Wet cupping draws blood: extra bleeding risk [CUP-GC] [WHO99-TOC].
        yield Finding(
            "",
            f"The patient {_bleeding_cause(patient)}; wet cupping is charted {_sites(marks)}. "
            "Wet cupping is blocked for this patient; use dry cupping or none, or record a "
            f"reason to go ahead. {MEDICATION_NOTE}",
            _ids(marks),
        )


def _check_bleeding_bloodletting(facts: Facts) -> Iterator[Finding]:
    patient = facts.patient
    if patient.bleeding_risk and facts.context.bloodletting:
        marks = facts.with_flag("VESSEL")
        # Bloodletting (e.g. pricking the popliteal vein at BL40 [CAM]) adds bleeding risk.
        where = f" (at {_labels(marks)})" if marks else ""
        yield Finding(
            "",
            f"The patient {_bleeding_cause(patient)}; bloodletting is planned{where}. "
            f"Bloodletting is blocked for this patient; record a reason to go ahead. "
            f"{MEDICATION_NOTE}",
            _ids(marks),
        )


def _check_bleeding_vessel(facts: Facts) -> Iterator[Finding]:
    patient = facts.patient
    if not patient.bleeding_risk:
        return
    # Bleeding and haematoma are the commonest adverse events [WITT]; VESSEL points lie over
    # a large vessel [CAM].
    for (code, side), marks in _by_point(facts.with_flag("VESSEL", facts.needled)).items():
        yield Finding(
            f"{code}:{side}",
            f"{_labels(marks)} lies over a large vessel and the patient "
            f"{_bleeding_cause(patient)}. Use light technique and apply firm pressure after "
            f"needle removal. {MEDICATION_NOTE}",
            _ids(marks),
        )


def _check_bleeding_nerve(facts: Facts) -> Iterator[Finding]:
    patient = facts.patient
    if not patient.bleeding_risk:
        return
    marks = [m for m in facts.with_flag("NERVE", facts.needled) if "VESSEL" not in facts.flags(m)]
    if marks:
        # A lower-limb nerve lesion was the longest-lasting adverse event in Witt 2009 [WITT].
        yield Finding(
            "",
            f"Deep points near the sciatic or tibial nerve are charted ({_labels(marks)}) and the "
            f"patient {_bleeding_cause(patient)}. Use the shallowest depth that works and apply "
            "pressure after needle removal, as a deep haematoma is hard to compress.",
            _ids(marks),
        )


# --- depth cautions --------------------------------------------------------------------------


def _check_lung_depth(facts: Facts) -> Iterator[Finding]:
    marks = facts.with_flag("LUNG", facts.needled)
    if marks:
        # Needle chest and back points obliquely or horizontally; deep insertion can cause
        # pneumothorax [WHO99-ORG]; about 0.5-0.7 in. oblique [CAM]; case reports [PTX].
        yield Finding(
            "",
            f"{_labels(marks)} {_verb(marks, 'lies', 'lie')} over the lung. Needle obliquely "
            "and shallowly (no deep perpendicular insertion): deep needling here risks "
            "pneumothorax.",
            _ids(marks),
        )


def _check_kidney_depth(facts: Facts) -> Iterator[Finding]:
    marks = facts.with_flag("KIDNEY", facts.needled)
    if marks:
        # Deep perpendicular needling at upper-lumbar lateral points can reach the kidney
        # [AIM-BL52] [AMP-BL23].
        yield Finding(
            "",
            f"{_labels(marks)} {_verb(marks, 'lies', 'lie')} over the kidney. Keep to a "
            "moderate depth; deep perpendicular needling here risks kidney injury.",
            _ids(marks),
        )


def _check_cord_depth(facts: Facts) -> Iterator[Finding]:
    marks = facts.with_flag("CORD", facts.needled)
    if marks:
        # From L2 upward, deep midline needling can enter the spinal canal [TCMWIN]; most
        # thoracic GV points are needled obliquely upward [CAM].
        yield Finding(
            "",
            f"{_labels(marks)} {_verb(marks, 'is', 'are')} on the midline at or above L2. "
            "Needle obliquely upward and not deeply: deep needling here can enter the spinal "
            "canal.",
            _ids(marks),
        )


def safe_depth_mm(facts: Facts, mark: MarkRow) -> tuple[float, str] | None:
    """The shallowest safe depth among a mark's depth cautions, and the flag it comes from."""
    code = mark.spec.point_code or ""
    found = [(SAFE_DEPTH_MM[f], f) for f in facts.flags(mark) if f in SAFE_DEPTH_MM]
    if code in POINT_SAFE_DEPTH_MM and "LUNG" in facts.flags(mark):
        found.append((POINT_SAFE_DEPTH_MM[code], "LUNG"))
    if facts.custom(mark):
        with contextlib.suppress(KeyError):
            own = facts.bodymap.point(code).safe_depth_mm
            if own is not None:
                found.append((own, "CUSTOM"))
    return min(found) if found else None


def _check_depth_beyond_safe(facts: Facts) -> Iterator[Finding]:
    for mark in facts.needled:
        depth = mark.spec.depth_mm
        limit = safe_depth_mm(facts, mark)
        if depth is None or limit is None or depth <= limit[0]:
            continue
        safe, flag = limit
        yield Finding(
            str(mark.id),
            f"{mark.label} is recorded at {depth:g} mm, deeper than the {safe:g} mm that is "
            f"safe there (risk of {_DEPTH_RISK[flag]}). Check the recorded depth; if it is "
            "right, record why.",
            (mark.id,),
        )


def _check_custom_points(facts: Facts) -> Iterator[Finding]:
    marks = [m for m in facts.marks if facts.custom(m) and is_needled(m)]
    if not marks:
        return
    # A clinic's own point is not one of the standard locations [WHO08], so the catalog's
    # caution flags (lung, kidney, nerve, vessel, pregnancy) say nothing about it.
    notes = []
    for code in sorted({m.spec.point_code or "" for m in marks}):
        with contextlib.suppress(KeyError):
            point = facts.bodymap.point(code)
            own = [point.cautions.rstrip(". ")] if point.cautions else []
            if point.safe_depth_mm is not None:
                own.append(f"safe depth {point.safe_depth_mm:g} mm")
            if own:
                notes.append(f"{code}: {'; '.join(own)}")
    message = (
        f"{_labels(marks)} {_verb(marks, 'is a custom point', 'are custom points')} of this "
        "clinic, not a standard point: no catalog cautions are known for "
        f"{_verb(marks, 'it', 'them')}, so only the rules that go by position (over the lung, "
        "the spinal canal, the lumbosacral region and abdomen in pregnancy) are checked."
    )
    if notes:
        message += " The clinic's own cautions: " + "; ".join(notes) + "."
    yield Finding(",".join(sorted({m.spec.point_code or "" for m in marks})), message, _ids(marks))


# --- the skin at the site --------------------------------------------------------------------

#: Skin that is never needled or cupped through [CUP-GC] [CUP-EC] [WHO99-STER].
SKIN_NO_GO = {
    "broken": "broken skin",
    "infected": "infected skin",
    "inflamed": "inflamed skin",
    "varicose": "a varicose vein",
}
#: Skin that calls for care [CUP-GC] (keloid scars are a relative contraindication to cupping).
SKIN_CARE = {"scar": "a scar", "keloid": "a keloid scar", "tattoo": "a tattoo"}


def _treated(mark: MarkRow) -> bool:
    """Needled, cupped or pricked at the site (anything that touches the skin hard)."""
    return is_needled(mark) or mark.kind == "cupping" or mark.spec.technique == "bloodletting"


def _check_skin_no_go(facts: Facts) -> Iterator[Finding]:
    for mark in facts.marks:
        if mark.spec.skin in SKIN_NO_GO and _treated(mark):
            yield Finding(
                str(mark.id),
                f"{mark.label} is over {SKIN_NO_GO[mark.spec.skin]}. Do not needle or cup "
                "through it: move to intact skin nearby, or record why it is done.",
                (mark.id,),
            )


def _check_skin_care(facts: Facts) -> Iterator[Finding]:
    marks = [m for m in facts.marks if m.spec.skin in SKIN_CARE and _treated(m)]
    if marks:
        what = sorted({SKIN_CARE[m.spec.skin] for m in marks})
        yield Finding(
            "",
            f"{_labels(marks)} {_verb(marks, 'is', 'are')} over {', '.join(what)}. Needle "
            "beside rather than through it where you can; do not cup over a keloid scar.",
            _ids(marks),
        )


# --- other history ---------------------------------------------------------------------------


def _check_neuropathy_legs(facts: Facts) -> Iterator[Finding]:
    if not facts.patient.peripheral_neuropathy:
        return
    marks = [
        m
        for m in facts.marks
        if facts.lower_leg(m) and (is_needled(m) or m.spec.technique == "moxibustion")
    ]
    if marks:
        # With reduced sensation the patient cannot report a needle too deep, a burn or a
        # slow-healing wound; foot infections follow small skin breaks [XU13] [NBT].
        yield Finding(
            "",
            f"The patient has peripheral neuropathy and the lower leg or foot is treated "
            f"({_labels(marks)}). They may not feel a needle going too deep or heat burning: "
            "check the skin first, use gentle stimulation, no moxa or heat on numb skin, and "
            "strict clean technique.",
            _ids(marks),
        )


def _check_fainting_lying(facts: Facts) -> Iterator[Finding]:
    if facts.patient.needle_fainting and facts.context.position != "seated":
        # Treat lying down with gentle manipulation; watch complexion and pulse [WHO99-FAINT].
        yield Finding(
            "",
            "The patient has fainted with needles before. Treat lying down, with gentle "
            "manipulation, and watch complexion and pulse.",
        )


def _check_fainting_seated(facts: Facts) -> Iterator[Finding]:
    if facts.patient.needle_fainting and facts.context.position == "seated":
        # Treat lying down with gentle manipulation [WHO99-FAINT].
        yield Finding(
            "",
            "The patient has fainted with needles before and is to be treated seated. Treat "
            "lying down instead, with gentle manipulation, and watch complexion and pulse.",
        )


def _check_diabetes_legs(facts: Facts) -> Iterator[Finding]:
    if not facts.patient.diabetes:
        return
    marks = [m for m in facts.needled if facts.lower_leg(m)]
    if marks:
        # Intake asks about diabetes [NBT]; infection is the main complication in case reports
        # [XU13].
        yield Finding(
            "",
            f"The patient has diabetes and points on the lower leg or foot are charted "
            f"({_labels(marks)}). Check the skin first, avoid broken or poorly healing skin, and "
            "keep strict clean technique.",
            _ids(marks),
        )


def _check_metal_allergy(facts: Facts) -> Iterator[Finding]:
    if facts.patient.metal_allergy and facts.needled:
        # Intake asks about allergies [NBT]; STRICTA asks for the needle material [STRICTA].
        yield Finding(
            "",
            "The patient reports a metal allergy. Choose needles of a material the patient "
            "tolerates and record the material with the needles used.",
            _ids(facts.needled),
        )


# --- consent ---------------------------------------------------------------------------------

#: The consent each technique needs, in the order the warning names them.
CONSENT_LABELS = {
    "acupuncture": "acupuncture",
    "electroacupuncture": "electroacupuncture",
    "cupping": "cupping",
    "bloodletting": "bloodletting",
    "pregnancy": "treatment in pregnancy",
}


def _check_consent(facts: Facts) -> Iterator[Finding]:
    consented = facts.context.consented
    if consented is None:
        return
    needed: list[str] = []
    if any(is_needled(m) for m in facts.marks):
        needed.append("acupuncture")
    if facts.electro:
        needed.append("electroacupuncture")
    if _has_cupping(facts):
        needed.append("cupping")
    if facts.context.bloodletting or any(k == "wet" for k in facts.cupping_types.values()):
        needed.append("bloodletting")
    if needed and facts.patient.pregnant:
        needed.append("pregnancy")
    missing = [n for n in needed if n not in consented]
    if missing:
        # Informed consent to each technique is part of the record of the plan (STRICTA,
        # SOAP "P": consent); a withdrawn consent no longer covers it.
        words = ", ".join(CONSENT_LABELS[m] for m in missing)
        yield Finding(
            ",".join(missing),
            f"No recorded consent covers {words}. Record the patient's consent (Day › "
            "Consent) before treating, or acknowledge this warning saying why it was not taken.",
        )


# --- the rules -------------------------------------------------------------------------------

RULES: tuple[Rule, ...] = (
    Rule(
        "device-ea",
        "Electroacupuncture with an implanted device",
        "Implanted pacemaker, ICD, stimulator or pump and any electroacupuncture.",
        "block",
        "BMAS-ICD, BACC-PM, CUM11, MEDSCAPE",
        _check_device_ea,
    ),
    Rule(
        "bleeding-wet-cupping",
        "Wet cupping with a bleeding risk",
        "Bleeding disorder or anticoagulant/antiplatelet use and wet cupping.",
        "block",
        "CUP-GC, WHO99-TOC",
        _check_bleeding_wet_cupping,
    ),
    Rule(
        "bleeding-bloodletting",
        "Bloodletting with a bleeding risk",
        "Bleeding disorder or anticoagulant/antiplatelet use and bloodletting.",
        "block",
        "CAM, WHO99-TOC, GERAC-C",
        _check_bleeding_bloodletting,
    ),
    Rule(
        "depth-beyond-safe",
        "Recorded depth beyond the safe depth",
        "A recorded depth deeper than is safe at a lung, kidney or spinal-canal caution point "
        f"(lung {SAFE_DEPTH_MM['LUNG']:g} mm, GB21 {POINT_SAFE_DEPTH_MM['GB21']:g} mm, kidney "
        f"{SAFE_DEPTH_MM['KIDNEY']:g} mm, spinal canal {SAFE_DEPTH_MM['CORD']:g} mm).",
        "block",
        "CAM, GB21US, WHO99-ORG, AIM-BL52, TCMWIN",
        _check_depth_beyond_safe,
    ),
    Rule(
        "skin-no-go",
        "Broken, infected or inflamed skin at the site",
        "A needled, cupped or pricked site recorded over broken, infected or inflamed skin or "
        "a varicose vein.",
        "block",
        "CUP-GC, CUP-EC, WHO99-STER",
        _check_skin_no_go,
    ),
    Rule(
        "neuropathy-legs",
        "Peripheral neuropathy: lower leg and foot",
        "Peripheral neuropathy and needling or moxibustion on the lower leg or foot.",
        "warning",
        "NBT, XU13",
        _check_neuropathy_legs,
    ),
    Rule(
        "preg-point",
        "Point traditionally avoided in pregnancy",
        "Pregnancy and a point on the traditional lists (LI4, SP6, BL60, BL67, GB21).",
        "warning",
        "PREGLISTS, BIRCH, GDS11",
        _check_preg_point,
    ),
    Rule(
        "preg-ea",
        "Electroacupuncture in pregnancy",
        "Pregnancy and any electroacupuncture.",
        "warning",
        "WUWEI, ACUPUNTURA",
        _check_preg_ea,
    ),
    Rule(
        "ea-chest",
        "EA current across the chest",
        "An EA pair joining left and right at chest level or between the arms.",
        "warning",
        "ITM, BMAS-ICD, DRYN-E",
        _check_ea_chest,
    ),
    Rule(
        "epilepsy-ea",
        "Electroacupuncture with epilepsy",
        "Epilepsy or seizure disorder and any electroacupuncture.",
        "warning",
        "ACUPUNTURA, WUWEI, GERAC-C",
        _check_epilepsy_ea,
    ),
    Rule(
        "bleeding-needling",
        "Needling with a bleeding disorder",
        "Bleeding disorder and any needling.",
        "warning",
        "WHO99-TOC, MEDSCAPE, NHS-ACU",
        _check_bleeding_needling,
    ),
    Rule(
        "bleeding-cupping",
        "Cupping with a bleeding risk",
        "Bleeding disorder or anticoagulant/antiplatelet use and dry, fire, sliding or flash "
        "cupping.",
        "warning",
        "CUP-GC",
        _check_bleeding_cupping,
    ),
    Rule(
        "bleeding-vessel",
        "Point over a large vessel",
        "Bleeding disorder or anticoagulant/antiplatelet use and a needled VESSEL point.",
        "warning",
        "CAM, WITT",
        _check_bleeding_vessel,
    ),
    Rule(
        "lung-depth",
        "Depth caution: lung",
        "Needling over the lung (LUNG points, thoracic ashi and trigger points).",
        "warning",
        "WHO99-ORG, CAM, PTX",
        _check_lung_depth,
    ),
    Rule(
        "fainting-seated",
        "Fainting history, treated seated",
        "History of fainting with needles and a seated treatment position.",
        "warning",
        "WHO99-FAINT",
        _check_fainting_seated,
    ),
    Rule(
        "consent",
        "Consent not recorded",
        "A technique charted (needling, EA, cupping, bloodletting, pregnancy) that no recorded, "
        "not withdrawn consent of the patient covers.",
        "warning",
        "STRICTA",
        _check_consent,
    ),
    Rule(
        "preg-region",
        "Lumbosacral or abdominal sites in pregnancy",
        "Pregnancy and lumbosacral or abdominal points, ashi and trigger points, or cupping "
        "(stage from the due date when known).",
        "advisory",
        "WHO99-PREG",
        _check_preg_region,
    ),
    Rule(
        "custom-point",
        "The clinic's custom points",
        "A needled custom point: it has no catalog caution flags (only the rules by position "
        "apply), and its own cautions are shown.",
        "advisory",
        "WHO08",
        _check_custom_points,
    ),
    Rule(
        "preg-cupping",
        "Cupping in pregnancy",
        "Pregnancy and any cupping.",
        "advisory",
        "CUP-GC, CUP-EC",
        _check_preg_cupping,
    ),
    Rule(
        "device-cupping",
        "Cupping with a pacemaker",
        "Pacemaker and any cupping.",
        "advisory",
        "CUP-GC",
        _check_device_cupping,
    ),
    Rule(
        "bleeding-nerve",
        "Deep points with a bleeding risk",
        "Bleeding disorder or anticoagulant/antiplatelet use and a needled NERVE point.",
        "advisory",
        "WITT",
        _check_bleeding_nerve,
    ),
    Rule(
        "kidney-depth",
        "Depth caution: kidney",
        "Needling upper-lumbar lateral points over the kidney (KIDNEY points).",
        "advisory",
        "AIM-BL52, AMP-BL23",
        _check_kidney_depth,
    ),
    Rule(
        "cord-depth",
        "Depth caution: spinal canal",
        "Needling the midline from L2 upward (CORD points, midline ashi and trigger points).",
        "advisory",
        "TCMWIN, CAM",
        _check_cord_depth,
    ),
    Rule(
        "fainting-lying",
        "Fainting history",
        "History of fainting with needles (treat lying down).",
        "advisory",
        "WHO99-FAINT",
        _check_fainting_lying,
    ),
    Rule(
        "diabetes-legs",
        "Diabetes: lower-leg and foot skin",
        "Diabetes and needling on the lower leg or foot.",
        "advisory",
        "NBT, XU13",
        _check_diabetes_legs,
    ),
    Rule(
        "skin-care",
        "Scar, keloid or tattoo at the site",
        "A needled, cupped or pricked site recorded over a scar, keloid scar or tattoo.",
        "advisory",
        "CUP-GC",
        _check_skin_care,
    ),
    Rule(
        "metal-allergy",
        "Metal allergy",
        "Metal allergy and any needling.",
        "advisory",
        "NBT, STRICTA",
        _check_metal_allergy,
    ),
)


def rule(rule_id: str) -> Rule:
    """The rule with this id.

    Raises:
        KeyError: When there is no such rule.
    """
    for item in RULES:
        if item.id == rule_id:
            return item
    raise KeyError(rule_id)


def evaluate(
    context: SafetyContext,
    bodymap: BodyMap | None = None,
    rules: Sequence[Rule] = RULES,
) -> list[SafetyWarning]:
    """Run every rule on a visit and return its warnings, blocks first.

    Args:
        context: The patient and the visit's marks and techniques.
        bodymap: The body map (default: the shared one from :func:`load_bodymap`).
        rules: The rules to run (default: all of :data:`RULES`).

    Returns:
        Warnings sorted by severity (block, warning, advisory), then in rule order.
    """
    facts = Facts(context, bodymap or load_bodymap())
    found = [w for r in rules for w in r.warnings(facts)]
    return sorted(found, key=lambda w: SEVERITY_ORDER[w.severity])
