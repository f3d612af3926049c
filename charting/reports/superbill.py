"""The superbill: a visit's diagnoses and confirmed procedure codes for the patient's insurer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from reportlab.platypus import Flowable, Spacer

from charting.reports.common import data_table, key_values, p
from charting.reports.template import ChartingDoc, PageDecor
from charting.services.billing import Superbill


def superbill_story(bill: Superbill, width: float) -> list[Flowable]:
    """The superbill's flowables."""
    clinic = bill.clinic
    story: list[Flowable] = [p("Superbill", "title"), Spacer(0, 4)]
    provider = key_values(
        [
            ("Provider", bill.practitioner),
            ("NPI", bill.npi),
            ("Licence number", bill.licence_number),
            ("Clinic", clinic.clinic_name),
            ("Clinic tax ID (EIN)", clinic.clinic_tax_id),
            ("Address", ", ".join(x.strip() for x in clinic.clinic_address.splitlines() if x)),
            ("Phone", clinic.clinic_phone),
        ],
        width,
    )
    patient = key_values(
        [
            ("Patient", bill.patient_name),
            ("Chart number", bill.chart_number),
            ("Date of birth", bill.date_of_birth),
            ("Address", bill.address),
            ("Phone", bill.phone),
            ("Date of service", bill.visit_date),
        ],
        width,
    )
    for heading, block in (("Provider", provider), ("Patient", patient)):
        story.append(p(heading, "h2"))
        if block is not None:
            story.append(block)
    story.append(p("Diagnoses (ICD-10-CM)", "h2"))
    if bill.diagnoses:
        story.append(
            data_table(
                ["Pointer", "Code", "Description"],
                [
                    (chr(ord("A") + i), code, label)
                    for i, (code, label) in enumerate(bill.diagnoses)
                ],
                [0.1 * width, 0.15 * width, 0.75 * width],
            )
        )
    else:
        story.append(p("No diagnosis code recorded for this visit.", "warn"))
    pointers = "".join(chr(ord("A") + i) for i in range(min(len(bill.diagnoses), 4)))
    story.append(p("Procedures (CPT)", "h2"))
    story.append(
        data_table(
            ["Date", "CPT code", "Description", "Units", "Dx pointer"],
            [
                (bill.visit_date, line.code, line.description, str(line.units), pointers)
                for line in bill.lines
            ],
            [0.14 * width, 0.12 * width, 0.5 * width, 0.1 * width, 0.14 * width],
        )
    )
    story += [
        Spacer(0, 8),
        p(
            f"Codes confirmed by {bill.confirmed_by} on "
            f"{bill.confirmed_at.astimezone():%Y-%m-%d %H:%M}."
            if bill.confirmed_at
            else "",
            "small",
        ),
        p(
            "CPT codes 97810-97814 count personal one-on-one contact time in units of 15 "
            "minutes; each additional unit requires re-insertion of needles (CPT, American "
            "Medical Association). The provider is responsible for the codes billed.",
            "small",
        ),
    ]
    return story


def build_superbill(
    bill: Superbill,
    target: str | Path | IO[bytes],
    created_at: datetime | None = None,
    invariant: bool = False,
) -> None:
    """Write the superbill PDF to ``target``."""
    decor = PageDecor(
        bill.clinic, f"Superbill \u2014 {bill.patient_name}", created_at or datetime.now(UTC)
    )
    doc = ChartingDoc(
        target, decor, f"Superbill \u2014 {bill.patient_name}", invariant=int(invariant)
    )
    doc.build_story(superbill_story(bill, doc.body_width))
