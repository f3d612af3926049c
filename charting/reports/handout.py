"""The aftercare handout: large type and plain words for the patient, tailored to the visit.

No claims about what the treatment will achieve. The standard paragraphs come from the
clinic settings (the clinic can change them); the parts about today come from the visit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from charting.bodymap import BodyMap
from charting.reports.bodymap_drawing import figures_for_visit
from charting.reports.fonts import para
from charting.reports.styles import handout_styles
from charting.reports.template import ChartingDoc, PageDecor
from charting.services import clinical_lists as lists
from charting.services.report_data import VisitReport

ADVICE = {c.id: c.label for c in lists.HOME_ADVICE}
#: Tallest body-map figure on the handout, in points (about a third of an A4 page).
FIGURE_MAX_HEIGHT = 250.0
_FIGURE_CAPTIONS = {
    "Posterior view": "Your back and legs",
    "Anterior view": "The front of your legs",
    "Lateral leg": "The outer side of your legs",
    "Medial leg": "The inner side of your lower legs",
}
AREAS = {
    "posterior": "your back and legs",
    "lateral_leg": "the outer side of your leg",
    "medial_leg": "the inner side of your lower leg and ankle",
    "anterior": "the front of your legs, knees and feet",
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
        elif line.endswith(":"):
            # A line that introduces a list stays with the list's first item.
            lead = ParagraphStyle(f"{style}_lead", parent=sheet[style], keepWithNext=1)
            out.append(Paragraph(para(line), lead))
        else:
            out.append(Paragraph(para(line), sheet[style]))
    return out


def _section(title: str, body: list[Flowable], whole: bool = False) -> list[Flowable]:
    """A heading with its text: the heading is kept on a page with the first lines under it
    (never alone at a page's foot); with ``whole`` the section is never split at all."""
    head = Paragraph(para(title), handout_styles()["h2"])
    if whole:
        return [KeepTogether([head, *body])]
    return [KeepTogether([head, *body[:2]]), *body[2:]]


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
        if any(m.custom for m in needled):
            parts.append(
                "Some points (green squares on the picture) are our clinic's own points, "
                "not standard acupuncture points."
            )
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
    # Every view that was treated (the front and the sides as well as the back), side by
    # side in one row no taller than a third of a page, so it fits under today's summary.
    treated = sum(1 for view in AREAS if any(m.spec.view == view for m in v.marks))
    column = width / max(2, treated)
    figures = figures_for_visit(
        bodymap, list(v.marks), [], column * 0.94, max_height=FIGURE_MAX_HEIGHT
    )
    if figures:
        row = Table(
            [
                [Paragraph(para(_FIGURE_CAPTIONS.get(t, t)), sheet["small"]) for t, _ in figures],
                [drawing for _, drawing in figures],
            ],
            colWidths=[column] * len(figures),
        )
        row.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ]
            )
        )
        story.append(
            KeepTogether(
                [row, Paragraph(para("The dots show where we treated you."), sheet["small"])]
            )
        )
    story.extend(_section("What to expect", _lines(clinic.handout_expect)))
    if any(m.kind == "cupping" for m in v.marks):
        story.extend(_section("After cupping", _lines(clinic.handout_cupping)))
    story.extend(_section("What to do", _lines(clinic.handout_do)))
    advice = [ADVICE.get(a, a) for a in v.record["home_advice"]]
    if v.record["home_advice_notes"]:
        advice.append(v.record["home_advice_notes"])
    if advice:
        story.extend(
            _section(
                "Your home advice",
                [Paragraph(para(a), sheet["bullet"], bulletText="\u2022") for a in advice],
            )
        )
    story.extend(_section("When to call us", _lines(clinic.handout_call)))
    story.extend(
        _section(
            "When to get help straight away",
            _lines(clinic.handout_emergency, "urgent"),
            whole=True,
        )
    )
    nxt = v.next_appointment  # from the book, else the visit's own field
    story.extend(
        _section(
            "Your next appointment",
            [
                Paragraph(
                    para(
                        f"{nxt.astimezone():%A %d %B %Y at %H:%M}"
                        if nxt
                        else "Not booked yet. Please call us to book."
                    ),
                    sheet["body"],
                )
            ],
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
