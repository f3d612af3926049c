"""The consent form: the treatments, the risks explained in plain words, and signature lines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from reportlab.platypus import Flowable, KeepTogether, Spacer, Table, TableStyle

from charting.reports.common import key_values, p
from charting.reports.styles import RULE
from charting.reports.template import ChartingDoc, PageDecor
from charting.services.consent import TREATMENTS, ConsentRow, risks_for
from charting.services.report_data import PatientInfo
from charting.services.settings import ClinicSettings


def _signature_block(width: float, who: str) -> Table:
    table = Table(
        [["", "", ""], [p(who, "small"), "", p("Date", "small")]],
        colWidths=[0.6 * width, 0.08 * width, 0.32 * width],
        rowHeights=[22, None],
    )
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (0, 0), 0.6, RULE),
                ("LINEBELOW", (2, 0), (2, 0), 0.6, RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def consent_story(patient: PatientInfo, consent: ConsentRow, width: float) -> list[Flowable]:
    """The consent form's flowables."""
    story: list[Flowable] = [
        p("Consent to treatment", "title"),
        p(
            "Please read this form. Ask us about anything that is not clear. You can change "
            "your mind at any time, before or during treatment.",
        ),
        Spacer(0, 6),
    ]
    table = key_values(
        [
            ("Patient", patient.name),
            ("Chart number", patient.chart_number),
            ("Date of birth", patient.date_of_birth),
            ("Course of treatment", consent.course),
            ("Explained by", consent.taken_by),
            ("Recorded", consent.taken_at),
        ],
        width,
    )
    if table is not None:
        story.append(table)
    story += [Spacer(0, 6), p("I agree to these treatments", "h2")]
    story += [
        p(f"\u2611 {TREATMENTS[t]}" if t in consent.treatments else f"\u2610 {TREATMENTS[t]}")
        for t in TREATMENTS
    ]
    story += [Spacer(0, 4), p("What was explained to me", "h2")]
    for risk in risks_for(consent.treatments):
        mark = "\u2611" if risk.key in consent.risks else "\u2610"
        story.append(p(f"{mark} {risk.text}"))
    if consent.note:
        story += [Spacer(0, 4), p("Notes", "h2"), p(consent.note)]
    if consent.withdrawn_at is not None:
        story += [
            Spacer(0, 4),
            p(
                f"Withdrawn on {consent.withdrawn_at.astimezone():%Y-%m-%d %H:%M} "
                f"({consent.withdrawn_by}): {consent.withdrawal_reason}",
                "warn",
            ),
        ]
    story += [
        Spacer(0, 8),
        KeepTogether(
            [
                p(
                    "I have read this form, my questions were answered, and I agree to the "
                    "treatments ticked above. I know I can stop at any time."
                ),
                Spacer(0, 14),
                _signature_block(width, "Patient's signature"),
                Spacer(0, 14),
                _signature_block(width, f"Practitioner: {consent.taken_by}"),
            ]
        ),
    ]
    return story


def build_consent_form(
    clinic: ClinicSettings,
    patient: PatientInfo,
    consent: ConsentRow,
    target: str | Path | IO[bytes],
    created_at: datetime | None = None,
    invariant: bool = False,
) -> None:
    """Write the consent form PDF to ``target``."""
    decor = PageDecor(clinic, f"Consent \u2014 {patient.name}", created_at or datetime.now(UTC))
    doc = ChartingDoc(target, decor, f"Consent \u2014 {patient.name}", invariant=int(invariant))
    doc.build_story(consent_story(patient, consent, doc.body_width))
