"""The visit treatment summary: SOAP content and every STRICTA item that applies, the body
map drawn from the screen's geometry, safety acknowledgements, signature and amendments."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer

from charting.bodymap import BodyMap
from charting.reports.bodymap_drawing import figures_for_visit, legend_drawing
from charting.reports.common import data_table, figure_grid, fmt, key_values, p
from charting.reports.pain_drawing import pain_story
from charting.reports.template import ChartingDoc, PageDecor
from charting.services import clinical_lists as lists
from charting.services import red_flags
from charting.services.marks import CUSTOM_LABEL, KIND_LABELS, RESPONSES, TECHNIQUES
from charting.services.report_data import PatientInfo, VisitData, VisitReport

ICD = {c.id: c.label for c in lists.ICD10_CODES}
RED_FLAGS = {c.id: c.label for c in lists.RED_FLAGS}
ADVICE = {c.id: c.label for c in lists.HOME_ADVICE}
EVENTS = {c.id: c.label for c in lists.ADVERSE_EVENT_KINDS}
CUPS = {c.id: c.label for c in lists.CUP_TYPES}
SKIN = {c.id: c.label for c in lists.SKIN_STATES}


def running_header(patient: PatientInfo) -> str:
    """Patient name, chart number and date of birth, on every page."""
    born = patient.date_of_birth.isoformat() if patient.date_of_birth else "unknown"
    return f"{patient.name}  \u00b7  Chart {patient.chart_number}  \u00b7  DOB {born}"


def _section(title: str) -> Paragraph:
    return p(title, "h2")


def visit_story(report: VisitReport, bodymap: BodyMap, width: float) -> list[Flowable]:
    """The flowables of one visit summary (also used inside the course report)."""
    v = report.visit
    r = v.record
    story: list[Flowable] = []
    title = f"Treatment summary \u2014 visit {v.number}"
    story.append(p(title, "title"))
    status = (
        f"Signed {fmt(v.signed_at)} by {v.practitioner.display}"
        if v.status == "signed"
        else "DRAFT \u2014 not signed"
    )
    story.append(
        p(f"{fmt(v.started_at)}  \u00b7  {v.practitioner.display}  \u00b7  {status}", "subtitle")
    )
    if v.altered:
        story.append(
            p(
                f"WARNING: {v.signature_problem}. Do not rely on this document as the signed "
                "record; the audit log and a backup show what was signed.",
                "warning",
            )
        )
    patient = report.patient
    story.append(
        key_values(
            [
                ("Patient", f"{patient.name} ({patient.sex})"),
                ("Chart / date of birth", f"{patient.chart_number} / {fmt(patient.date_of_birth)}"),
                ("Health flags", "; ".join(patient.flags) or "none recorded"),
            ],
            width,
        )
        or Spacer(0, 0)
    )
    _subjective(story, r, width)
    story += pain_story(bodymap, v.pain_areas, v.pain, width)
    _objective(story, r, width)
    _assessment(story, r, width)
    _treatment(story, v, bodymap, width)
    _after(story, v, width)
    _outcomes(story, r, width)
    _safety(story, v, width)
    _signature(story, v, width)
    _amendments(story, v, width)
    return [f for f in story if f is not None]


def _subjective(story: list[Any], r: dict[str, Any], width: float) -> None:
    story.append(_section("Consultation (S)"))
    pain = " / ".join(
        f"{label} {r[key]}"
        for label, key in (("now", "pain_now"), ("best", "pain_best"), ("worst", "pain_worst"))
        if r[key] is not None
    )
    story.append(
        key_values(
            [
                ("Chief complaint", r["chief_complaint"]),
                ("Pain (NRS 0\u201310)", pain),
                ("Onset / duration", " \u00b7 ".join(x for x in (r["onset"], r["duration"]) if x)),
                ("Mechanism", r["mechanism"]),
                (
                    "Quality / radiation",
                    " \u00b7 ".join(x for x in (r["pain_quality"], r["radiation"]) if x),
                ),
                (
                    "Aggravating / easing",
                    " \u00b7 ".join(x for x in (r["aggravating"], r["easing"]) if x),
                ),
                ("Sleep", r["sleep"]),
                ("Current medications", r["current_medications"]),
                ("Since last visit", r["response_since_last"]),
                ("Red flags", "; ".join(RED_FLAGS.get(f, f) for f in r["red_flags"]) or "none"),
                ("Referral decision", _referral_text(r)),
            ],
            width,
        )
    )


def _referral_text(r: dict[str, Any]) -> str:
    """The referral decision in words, with its details; flagged when a ticked red flag has
    none (a draft: signing is refused until one is recorded)."""
    outcome = red_flags.outcome_label(r.get("referral_outcome", ""))
    details = r["referral_decision"]
    if not outcome and r["red_flags"]:
        outcome = "NOT RECORDED (required before signing)"
    return " \u2014 ".join(x for x in (outcome, details) if x)


def _objective(story: list[Any], r: dict[str, Any], width: float) -> None:
    rows = [
        ("Posture", r["posture"]),
        ("Range of motion", r["range_of_motion"]),
        ("Palpation", r["palpation"]),
        ("Straight-leg raise", r["straight_leg_raise"]),
        ("Reflexes", r["reflexes"]),
        ("Sensation", r["sensation"]),
        ("Tongue", r["tongue"]),
        ("Pulse", r["pulse"]),
    ]
    table = key_values(rows, width)
    if table is not None:
        story += [_section("Examination (O)"), table]


def _assessment(story: list[Any], r: dict[str, Any], width: float) -> None:
    story.append(_section("Assessment (A)"))
    story.append(
        key_values([("TCM pattern(s)", r["tcm_patterns"]), ("Assessment", r["assessment"])], width)
    )
    if r["icd10_codes"]:
        story.append(
            data_table(
                ["ICD-10-CM", "Diagnosis"],
                [[code, ICD.get(code, "")] for code in r["icd10_codes"]],
                [0.18 * width, 0.82 * width],
            )
        )


def _treatment(story: list[Any], v: VisitData, bodymap: BodyMap, width: float) -> None:
    r = v.record
    story.append(_section("Treatment (P) \u2014 STRICTA details"))
    needle = " ".join(x for x in (r["needle_brand"], r["needle_gauge"]) if x)
    if r["needle_length"]:
        needle += f" \u00d7 {r['needle_length']}"
    counts = f"{v.needles_in} in"
    if r["needles_out"] is not None:
        counts += f", {r['needles_out']} out"
        if r["needles_out"] != v.needles_in:
            counts += "  \u26a0 counts differ"
    story.append(
        key_values(
            [
                ("Style", v.practitioner.style),
                ("Needle sites / count", counts),
                ("Needle type", needle),
                (
                    "Lot / expiry",
                    " / ".join(
                        x for x in (r["needle_lot"], fmt(r["needle_expiry"])) if x and x != "\u2013"
                    ),
                ),
                ("Retention", f"{r['retention_minutes']} min" if r["retention_minutes"] else None),
                ("Moxibustion", r["moxibustion"]),
                ("Heat lamp", "used" if r["heat_lamp"] else None),
            ],
            width,
        )
    )
    needled = [m for m in v.marks if m.kind != "cupping"]
    if needled:
        story.append(p("Points and sites needled", "h3"))
        rows = []
        for m in needled:
            if m.spec.point_code:
                try:
                    point = bodymap.point(m.spec.point_code)
                except KeyError:  # a custom point the map was not given: say what it is
                    name = f"{CUSTOM_LABEL} of this clinic" if m.custom else ""
                else:
                    name = (
                        f"{point.pinyin} ({CUSTOM_LABEL.lower()} of this clinic)"
                        if point.custom
                        else f"{point.pinyin} {point.hanzi}"
                    )
            elif m.spec.muscle_id:
                name = f"{bodymap.muscle(m.spec.muscle_id).name} (trigger point)"
            else:
                name = KIND_LABELS[m.kind]
            side = {"L": "left", "R": "right", "M": "midline"}[m.spec.side]
            depth = f"{m.spec.depth_mm:g} mm" if m.spec.depth_mm else ""
            rows.append(
                [
                    m.label.split(" ")[0] if m.spec.point_code else m.label,
                    side,
                    name,
                    TECHNIQUES.get(m.spec.technique, m.spec.technique),
                    depth,
                    RESPONSES.get(m.spec.response, "") if m.spec.response else "",
                    "; ".join(
                        x
                        for x in (
                            f"Skin: {SKIN[m.spec.skin].lower()}" if m.spec.skin else "",
                            m.spec.note,
                        )
                        if x
                    ),
                ]
            )
        widths = [0.1, 0.08, 0.2, 0.2, 0.09, 0.15, 0.18]
        story.append(
            data_table(
                ["Point", "Side", "Name", "Technique", "Depth", "Response", "Note"],
                rows,
                [w * width for w in widths],
            )
        )
    if v.ea_pairs:
        story.append(p("Electroacupuncture", "h3"))
        story.append(
            data_table(
                ["Pair", "Waveform", "Frequency", "Intensity", "Time", "Device"],
                [
                    [
                        f"{e.label_a} \u2194 {e.label_b}",
                        e.waveform,
                        e.frequency_text,
                        f"{e.intensity_ma:g} mA" if e.intensity_ma else "",
                        f"{e.minutes} min" if e.minutes else "",
                        e.device,
                    ]
                    for e in v.ea_pairs
                ],
                [w * width for w in (0.28, 0.16, 0.13, 0.13, 0.1, 0.2)],
            )
        )
    cups = [m for m in v.marks if m.kind == "cupping"]
    if cups:
        story.append(p("Cupping", "h3"))
        story.append(
            data_table(
                ["Site", "Method", "Cups", "Time", "Skin response"],
                [
                    [
                        m.label,
                        CUPS.get(m.spec.cup_type, ""),
                        m.spec.cup_count,
                        f"{m.spec.cup_minutes} min" if m.spec.cup_minutes else "",
                        m.spec.skin_response,
                    ]
                    for m in cups
                ],
                [w * width for w in (0.14, 0.24, 0.1, 0.12, 0.4)],
            )
        )
    figures = figures_for_visit(
        bodymap,
        list(v.marks),
        [(e.mark_a, e.mark_b) for e in v.ea_pairs],
        width / 2 - 8,
        max_height=330,
    )
    if figures:
        kinds = sorted({m.symbol for m in v.marks})
        story.append(
            KeepTogether(
                [
                    p("Body map", "h3"),
                    figure_grid(figures, width),
                    legend_drawing(width, kinds, bool(v.ea_pairs)),
                ]
            )
        )
    advice = [ADVICE.get(a, a) for a in r["home_advice"]]
    if r["home_advice_notes"]:
        advice.append(r["home_advice_notes"])
    if advice:
        story.append(key_values([("Home advice", "; ".join(advice))], width))


def _after(story: list[Any], v: VisitData, width: float) -> None:
    r = v.record
    story.append(_section("After treatment"))
    story.append(
        key_values(
            [
                ("Pain after (NRS)", r["pain_after"]),
                ("Patient response", r["patient_response"]),
                ("Next appointment", r["next_appointment"]),
                ("Aftercare handout", "; ".join(v.handouts) or "not recorded"),
                ("Needle count", _needle_text(v)),
            ],
            width,
        )
    )
    if v.adverse_events:
        story.append(p("Adverse events", "h3"))
        story.append(
            data_table(
                ["Event", "Severity", "Action taken", "Details", "Patient told"],
                [
                    [EVENTS.get(e.kind, e.kind), e.severity, e.action, e.note, e.patient_told]
                    for e in v.adverse_events
                ],
                [w * width for w in (0.18, 0.11, 0.27, 0.22, 0.22)],
            )
        )
    else:
        story.append(p("Adverse events: none recorded.", "body"))


def _needle_text(v: VisitData) -> str:
    out = v.record.get("needles_out")
    text = f"{v.needles_in} in, {out if out is not None else 'not counted'} out"
    if v.needle_resolution:
        text += f" (resolved: {v.needle_resolution})"
    return text


def _outcomes(story: list[Any], r: dict[str, Any], width: float) -> None:
    psfs = "; ".join(f"{i['activity']} {i['score']}/10" for i in r["psfs"])
    table = key_values(
        [
            ("ODI", f"{r['odi_percent']}%" if r["odi_percent"] is not None else None),
            ("RMDQ", f"{r['rmdq_score']}/24" if r["rmdq_score"] is not None else None),
            ("PSFS", psfs),
        ],
        width,
    )
    if table is not None:
        story += [_section("Outcome measures"), table]


def _safety(story: list[Any], v: VisitData, width: float) -> None:
    if not v.warnings:
        return
    story.append(_section("Safety warnings and how they were handled"))
    rows = []
    for w in v.warnings:
        handled = "not acknowledged"
        if w.acknowledged:
            handled = f"overridden: {w.reason}" if w.reason else "acknowledged"
        rows.append(
            [w.warning.severity.upper(), f"{w.warning.title}. {w.warning.message}", handled]
        )
    story.append(
        data_table(["Level", "Warning", "Handled"], rows, [0.12 * width, 0.6 * width, 0.28 * width])
    )


def _signature(story: list[Any], v: VisitData, width: float) -> None:
    pr = v.practitioner
    rows = [("Practitioner", pr.display), ("Licence", pr.licence_number)]
    if v.altered:
        rows += [
            ("Signed", fmt(v.signed_at)),
            ("Signature", f"DOES NOT MATCH: {v.signature_problem}"),
        ]
    elif v.status == "signed":
        rows += [("Signed", fmt(v.signed_at)), ("Content SHA-256", v.content_hash)]
    else:
        rows.append(("Status", "Draft \u2014 not signed; content may still change"))
    # Who signed, when and the content's hash read as one block: never a lone row of it (the
    # hash) on a page of its own.
    story.append(KeepTogether([_section("Signature"), key_values(rows, width)]))


def _amendments(story: list[Any], v: VisitData, width: float) -> None:
    if not v.amendments:
        return
    story.append(_section("Amendments (after the signed original)"))
    story.append(
        data_table(
            ["When / by", "Field", "As signed", "Correction", "Reason"],
            [
                [
                    f"{fmt(a.created_at)} {a.author}",
                    a.field.replace("_", " "),
                    a.original,
                    a.corrected,
                    a.reason,
                ]
                for a in v.amendments
            ],
            [w * width for w in (0.18, 0.14, 0.22, 0.24, 0.22)],
        )
    )


def build_visit_summary(
    report: VisitReport,
    bodymap: BodyMap,
    target: str | Path | IO[bytes],
    created_at: datetime | None = None,
    invariant: bool = False,
) -> None:
    """Write the visit treatment summary PDF to ``target``."""
    decor = PageDecor(
        report.clinic,
        running_header(report.patient),
        created_at or datetime.now(UTC),
        content_hash=report.visit.content_hash if report.visit.status == "signed" else "",
        draft=report.visit.status != "signed",
        altered=report.visit.altered,
    )
    doc = ChartingDoc(
        target, decor, f"Treatment summary \u2014 {report.patient.name}", invariant=int(invariant)
    )
    doc.build_story(visit_story(report, bodymap, doc.body_width))
