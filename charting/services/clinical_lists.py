"""Curated lists the visit record draws from: red flags, ICD-10-CM codes, patterns, advice."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Choice:
    """One entry of a curated list: a stable id, its label and a group heading."""

    id: str
    label: str
    group: str = ""


# Back-pain red flags for intake screening (NHS "Back pain" pages, the cauda equina pathway of
# the British Association of Spine Surgeons and the GetIT/Hull/BSC red-flag tables; see
# docs/sources.md NHS-BACK, CES-BP, GCARE, HULL, BSC). A ticked flag does not diagnose: it
# requires a recorded referral decision before the visit can be signed (services/red_flags.py).
RED_FLAGS = (
    Choice("ces_bladder", "Bladder retention or incontinence", "Cauda equina"),
    Choice("ces_bowel", "Faecal incontinence", "Cauda equina"),
    Choice("ces_saddle", "Saddle numbness or tingling", "Cauda equina"),
    Choice("ces_bilateral", "Symptoms in both legs / bilateral weakness", "Cauda equina"),
    Choice("ces_sexual", "New sexual dysfunction", "Cauda equina"),
    Choice("gait", "Progressive leg weakness or gait disturbance", "Cauda equina"),
    Choice("cancer_history", "History of cancer", "Cancer"),
    Choice("cancer_age", "New pain under 20 or over 50", "Cancer"),
    Choice("weight_loss", "Unexplained weight loss", "Cancer"),
    Choice("night_pain", "Persistent night pain, not eased by rest", "Cancer"),
    Choice("thoracic_pain", "Thoracic pain (between the shoulder blades)", "Cancer"),
    Choice("no_improvement", "No improvement after a month of care", "Cancer"),
    Choice("fever", "Fever, chills or rigors", "Infection"),
    Choice("immunosuppressed", "Immunosuppression or IV drug use", "Infection"),
    Choice(
        "recent_infection",
        "Recent bacterial infection, UTI or procedure, or a penetrating wound",
        "Infection",
    ),
    Choice("trauma", "Significant trauma, or minor trauma with osteoporosis/steroids", "Fracture"),
    Choice("inflammatory", "Known inflammatory disease (e.g. axial spondyloarthritis)", "Other"),
    Choice("cough_sneeze", "Pain worse on coughing, sneezing or straining", "Other"),
    Choice("chest_pain", "Chest pain", "Other"),
    Choice("deformity", "Structural deformity or a new lump", "Other"),
)

#: What was decided about positive red flags. Any ticked flag needs one of these before the
#: visit is signed; "not referred" also needs the reason (red flags have high false-positive
#: rates, so guidance asks for documented clinical reasoning, not automatic referral; GCARE,
#: PHYSIO-RF).
REFERRAL_OUTCOMES = (
    Choice("urgent", "Urgent referral (emergency care or same-day doctor)"),
    Choice("routine", "Routine referral (GP / physician)"),
    Choice("not_referred", "Considered; not referred (reason required)"),
)

#: Common wordings of the referral details, offered as suggestions.
REFERRAL_DECISIONS = (
    "Referred to emergency care today",
    "Referred to GP / physician (urgent, same day)",
    "Referred to GP / physician (routine)",
    "Already under medical care for this; treatment continued",
    "Considered; no referral needed (reason noted)",
)

# Billable ICD-10-CM codes for back and leg pain (the CMS ICD-10-CM code set). The deleted
# header code M54.5 is deliberately absent: claims with it are rejected since 1 October 2021
# (ICD-LBP).
ICD10_CODES = (
    Choice("M54.50", "Low back pain, unspecified"),
    Choice("M54.51", "Vertebrogenic low back pain"),
    Choice("M54.59", "Other low back pain"),
    Choice("M54.30", "Sciatica, unspecified side"),
    Choice("M54.31", "Sciatica, right side"),
    Choice("M54.32", "Sciatica, left side"),
    Choice("M54.40", "Lumbago with sciatica, unspecified side"),
    Choice("M54.41", "Lumbago with sciatica, right side"),
    Choice("M54.42", "Lumbago with sciatica, left side"),
    Choice("M54.16", "Radiculopathy, lumbar region"),
    Choice("M54.17", "Radiculopathy, lumbosacral region"),
    Choice("M54.6", "Pain in thoracic spine"),
    Choice("M54.9", "Dorsalgia, unspecified"),
    Choice("M51.16", "Intervertebral disc disorders with radiculopathy, lumbar region"),
    Choice("M51.17", "Intervertebral disc disorders with radiculopathy, lumbosacral region"),
    Choice("M51.26", "Other intervertebral disc displacement, lumbar region"),
    Choice("M51.27", "Other intervertebral disc displacement, lumbosacral region"),
    Choice("M48.061", "Spinal stenosis, lumbar region without neurogenic claudication"),
    Choice("M48.062", "Spinal stenosis, lumbar region with neurogenic claudication"),
    Choice("M43.16", "Spondylolisthesis, lumbar region"),
    Choice("M43.17", "Spondylolisthesis, lumbosacral region"),
    Choice("M47.816", "Spondylosis without myelopathy or radiculopathy, lumbar region"),
    Choice("M47.817", "Spondylosis without myelopathy or radiculopathy, lumbosacral region"),
    Choice("M62.830", "Muscle spasm of back"),
    Choice("M79.18", "Myalgia, other site (includes myofascial pain syndrome)"),
    Choice("S39.012A", "Strain of muscle, fascia and tendon of lower back, initial encounter"),
    Choice("S33.5XXA", "Sprain of ligaments of lumbar spine, initial encounter"),
    Choice("M54.89", "Other dorsalgia"),
    Choice("M48.07", "Spinal stenosis, lumbosacral region"),
    Choice("M53.3", "Sacrococcygeal disorders, not elsewhere classified (coccygodynia)"),
    Choice("M46.1", "Sacroiliitis, not elsewhere classified"),
    Choice("M99.03", "Segmental and somatic dysfunction of lumbar region"),
    Choice("M99.04", "Segmental and somatic dysfunction of sacral region"),
    Choice("G57.01", "Lesion of sciatic nerve, right lower limb"),
    Choice("G57.02", "Lesion of sciatic nerve, left lower limb"),
    # Chronic pain codes go first when the visit is for pain management (ICD-10-CM Official
    # Guidelines I.C.6).
    Choice("G89.29", "Other chronic pain"),
    Choice("G89.4", "Chronic pain syndrome"),
)
DELETED_ICD10 = frozenset({"M54.5", "M48.06", "M51.36", "M51.37", "M79.1"})

TCM_PATTERNS = (
    "Qi and Blood stagnation",
    "Cold-Damp obstruction (Bi syndrome)",
    "Damp-Heat in the lower back",
    "Kidney Yang deficiency",
    "Kidney Yin deficiency",
    "Liver Qi stagnation",
    "Blood deficiency",
    "Wind-Cold-Damp invasion",
    "Qi deficiency",
)

HOME_ADVICE = (
    Choice("stretches", "Gentle stretches as shown"),
    Choice("walking", "Short, regular walks; stay active within comfort"),
    Choice("heat", "Warmth (heat pack) on the area"),
    Choice("cold", "Cold pack for a flare-up, 10-15 minutes at a time"),
    Choice("posture", "Posture: change position at least every 30 minutes"),
    Choice("workstation", "Workstation set-up: chair, screen height, breaks"),
    Choice("lifting", "Lift with bent knees, keep loads close to the body"),
    Choice("sleep", "Sleeping position: pillow between or under the knees"),
    Choice("hydration", "Drink water after treatment"),
)

ADVERSE_EVENT_KINDS = (
    Choice("bruising", "Bruising"),
    Choice("bleeding", "Bleeding"),
    Choice("pain", "Pain at a needle site"),
    Choice("dizziness", "Dizziness or fainting"),
    Choice("nausea", "Nausea"),
    Choice("forgotten_needle", "Forgotten needle"),
    Choice("burn", "Burn (moxibustion, heat lamp or cupping)"),
    Choice("other", "Other"),
)
ADVERSE_SEVERITIES = (
    Choice("mild", "Mild"),
    Choice("significant", "Significant"),
    Choice("serious", "Serious"),
)
CUP_TYPES = (
    Choice("dry", "Dry (stationary)"),
    Choice("fire", "Fire"),
    Choice("wet", "Wet (with bloodletting)"),
    Choice("sliding", "Sliding / moving"),
    Choice("flash", "Flash"),
)
#: The skin at a needle or cup site as found before treatment. Do not needle or cup over
#: broken, infected or inflamed skin or varicose veins; keloid scars are a relative
#: contraindication to cupping (CUP-GC, CUP-EC).
SKIN_STATES = (
    Choice("intact", "Intact"),
    Choice("broken", "Broken (cut, graze, ulcer)"),
    Choice("infected", "Infected"),
    Choice("inflamed", "Inflamed (e.g. eczema, psoriasis flare)"),
    Choice("varicose", "Over a varicose vein"),
    Choice("scar", "Scar"),
    Choice("keloid", "Keloid scar"),
    Choice("tattoo", "Tattoo"),
)
#: How the patient lay or sat for the treatment: feeds the fainting rule (treat someone who
#: has fainted with needles lying down, WHO99-FAINT).
PATIENT_POSITIONS = (
    Choice("prone", "Prone (face down)"),
    Choice("side-lying", "Side-lying"),
    Choice("supine", "Supine (face up)"),
    Choice("seated", "Seated"),
)
EA_WAVEFORMS = ("Continuous", "Dense-disperse", "Intermittent", "Other")


def _words(text: str) -> list[str]:
    return [w for w in "".join(c if c.isalnum() else " " for c in text.lower()).split() if w]


def match_codes(text: str, choices: tuple[Choice, ...] = ICD10_CODES) -> list[Choice]:
    """The codes a typed text picks: a code typed in part, with or without its dot ("m5442",
    "M54.4", "g89"), or words of the title in any order ("sciatica left", "sacro"); all of
    them for a blank text. Code matches come first."""
    typed = text.strip().lower()
    if not typed:
        return list(choices)
    compact = typed.replace(".", "").replace(" ", "")
    by_code = [c for c in choices if c.id.lower().replace(".", "").startswith(compact)]
    words = _words(typed)
    by_words = [
        c
        for c in choices
        if c not in by_code and all(any(w.startswith(t) for w in _words(c.label)) for t in words)
    ]
    return by_code + by_words


def ids(choices: tuple[Choice, ...]) -> frozenset[str]:
    """The ids of a list of choices."""
    return frozenset(c.id for c in choices)


#: What the pain feels like (the common words of pain-drawing forms).
PAIN_QUALITIES = {
    "aching": "Aching",
    "sharp": "Sharp",
    "burning": "Burning",
    "numbness": "Numbness",
    "pins_needles": "Pins and needles",
    "cramping": "Cramping",
}
