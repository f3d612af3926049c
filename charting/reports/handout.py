"""The aftercare handout: large type and plain words for the patient, tailored to the visit.

No claims about what the treatment will achieve. The standard paragraphs come from the
clinic settings (the clinic can change them); the parts about today come from the visit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer

from charting.bodymap import BodyMap
from charting.reports.bodymap_drawing import figures_for_visit
from charting.reports.fonts import para
from charting.reports.styles import handout_styles
from charting.reports.template import ChartingDoc, PageDecor
from charting.services import clinical_lists as lists
from charting.services.report_data import VisitReport

ADVICE = {c.id: c.label for c in lists.HOME_ADVICE}
AREAS = {
    "posterior": "your back and legs",
    "lateral_leg": "the outer side of your leg",
    "medial_leg": "the inner side of your lower leg and ankle",
}


def _lines(text: str, style: str = "body") -> list[Flowable]:
    """Paragraphs from text; lines starting with "- " become bullets."""
    sheet = handout_styles()
    out: list[Flowable] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("- "):
            out.append(Paragraph(para(line[2:]), sheet["bullet"], bulletText="\u2022"))
        else:
            out.append(Paragraph(para(line), sheet[style]))
    return out


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def what_was_done(report: VisitReport) -> str:
    """Today's treatment in plain words ("We used fine needles on your back and legs. …")."""
    v = report.visit
    needled = [m for m in v.marks if m.kind != "cupping"]
    parts = []
    if needled:
        places = [AREAS[view] for view in AREAS if any(m.spec.view == view for m in needled)]
        parts.append(f"We used fine needles on {_join(places)}.")
        techniques = {m.spec.technique for m in needled}
        if "electro" in techniques:
            parts.append("Some of the needles carried a gentle electrical pulse.")
        if "trigger_point" in techniques or any(m.kind == "trigger_point" for m in needled):
            parts.append("We also needled tight knots in the muscles.")
    if any(m.kind == "cupping" for m in v.marks):
        parts.append("We used cupping too: cups that gently pull on the skin.")
    if v.record["heat_lamp"]:
        parts.append("A heat lamp kept the area warm.")
    minutes = v.record["retention_minutes"]
    if minutes:
        parts.append(f"The needles stayed in for about {minutes} minutes.")
    return " ".join(parts) or "Today we talked about your back and checked how you are."


def handout_story(report: VisitReport, bodymap: BodyMap, width: float) -> list[Flowable]:
    """The flowables of the aftercare handout."""
    sheet = handout_styles()
    clinic = report.clinic
    v = report.visit
    name = report.patient.preferred_name or report.patient.name.split(" ")[0]
    story: list[Flowable] = [
        Paragraph(para("After your treatment today"), sheet["title"]),
        Paragraph(
            para(f"For {name}  \u00b7  {v.started_at.astimezone():%A %d %B %Y}"), sheet["small"]
        ),
        Paragraph(para("What we did today"), sheet["h2"]),
        Paragraph(para(what_was_done(report)), sheet["body"]),
    ]
    figures = figures_for_visit(bodymap, [m for m in v.marks], [], width * 0.42)
    if figures:
        story.append(
            KeepTogether(
                [
                    figures[0][1],
                    Paragraph(para("The dots show where we treated you."), sheet["small"]),
                ]
            )
        )
    story.append(Paragraph(para("What to expect"), sheet["h2"]))
    story += _lines(clinic.handout_expect)
    if any(m.kind == "cupping" for m in v.marks):
        story.append(Paragraph(para("After cupping"), sheet["h2"]))
        story += _lines(clinic.handout_cupping)
    story.append(Paragraph(para("What to do"), sheet["h2"]))
    story += _lines(clinic.handout_do)
    advice = [ADVICE.get(a, a) for a in v.record["home_advice"]]
    if v.record["home_advice_notes"]:
        advice.append(v.record["home_advice_notes"])
    if advice:
        story.append(Paragraph(para("Your home advice"), sheet["h2"]))
        story += [Paragraph(para(a), sheet["bullet"], bulletText="\u2022") for a in advice]
    story.append(Paragraph(para("When to call us"), sheet["h2"]))
    story += _lines(clinic.handout_call)
    story.append(Paragraph(para("When to get help straight away"), sheet["h2"]))
    story += _lines(clinic.handout_emergency, "urgent")
    story.append(Paragraph(para("Your next appointment"), sheet["h2"]))
    nxt = v.next_appointment
    story.append(
        Paragraph(
            para(
                f"{nxt.astimezone():%A %d %B %Y at %H:%M}"
                if nxt
                else "Not booked yet. Please call us to book."
            ),
            sheet["body"],
        )
    )
    contact = "  ".join(x for x in (clinic.clinic_name, clinic.clinic_phone) if x)
    story += [Spacer(0, 8), Paragraph(para(f"Questions? Call {contact}."), sheet["body"])]
    return story


def build_handout(
    report: VisitReport,
    bodymap: BodyMap,
    target: str | Path | IO[bytes],
    created_at: datetime | None = None,
    invariant: bool = False,
) -> None:
    """Write the aftercare handout PDF to ``target``."""
    decor = PageDecor(
        report.clinic,
        f"Aftercare for {report.patient.name}",
        created_at or datetime.now(UTC),
        large=True,
        altered=report.visit.altered,
    )
    doc = ChartingDoc(
        target, decor, f"Aftercare \u2014 {report.patient.name}", invariant=int(invariant)
    )
    doc.build_story(handout_story(report, bodymap, doc.body_width))
