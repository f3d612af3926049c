"""The consent form and the superbill PDFs, checked by their text."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from pypdf import PdfReader

from charting.models import Practitioner
from charting.models.db import Database
from charting.reports.consent_form import build_consent_form
from charting.reports.superbill import build_superbill
from charting.services import billing, consent
from charting.services.billing import BillingInput, BillingLine
from charting.services.consent import ConsentInput
from charting.services.settings import ClinicSettings, save_settings
from charting.services.visit_record import update_fields
from charting.services.visits import start_visit


def _text(data: bytes) -> str:
    return " ".join(
        " ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(data)).pages
    )


def test_consent_form_lists_treatments_risks_and_signature_lines(
    database: Database,
    make_patient,  # type: ignore[no-untyped-def]
) -> None:
    """The form names the patient, ticks the treatments, states each risk and has lines for
    both signatures."""
    pid = make_patient()
    with database.write() as session:
        save_settings(session, ClinicSettings(clinic_name="Harbour Acupuncture"))
        cid, _ = consent.record_consent(
            session,
            ConsentInput(
                pid,
                "Low back pain, winter 2026",
                ["acupuncture", "cupping"],
                [r.key for r in consent.risks_for(["acupuncture", "cupping"])],
            ),
        )
    with database.read() as session:
        clinic, patient, row = consent.form_data(session, cid)
    out = io.BytesIO()
    build_consent_form(clinic, patient, row, out, invariant=True)
    text = _text(out.getvalue())
    assert "Consent to treatment" in text and "Maja Lindqvist" in text
    assert "Low back pain, winter 2026" in text and "Ana Ruiz, L.Ac." in text
    assert "☑ Acupuncture" in text and "☐ Electroacupuncture" in text
    assert "lung" in text and "fade within a few days to two weeks" in text
    assert "Patient's signature" in text and "Practitioner: Ana Ruiz, L.Ac." in text


def test_superbill_prints_codes_units_diagnoses_npi_and_tax_id(
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """The superbill carries the confirmed CPT lines with units, the ICD-10-CM codes, the
    practitioner's licence and NPI and the clinic's tax ID."""
    pid = make_patient()
    with database.write() as session:
        save_settings(
            session, ClinicSettings(clinic_name="Harbour Acupuncture", clinic_tax_id="12-3456789")
        )
        session.get_one(Practitioner, practitioner_id).npi = "1234567893"
        vid, _ = start_visit(session, pid, practitioner_id, datetime.now(UTC) - timedelta(hours=1))
        update_fields(session, vid, {"icd10_codes": ["M54.50", "M54.41"]})
        billing.save_billing(
            session,
            vid,
            BillingInput(
                contact_minutes=38,
                reinsertions=2,
                lines=[BillingLine("97813", 1), BillingLine("97814", 2)],
            ),
            confirm=True,
        )
    with database.read() as session:
        bill = billing.superbill(session, vid)
    out = io.BytesIO()
    build_superbill(bill, out, invariant=True)
    text = _text(out.getvalue())
    assert "Superbill" in text and "Lindqvist, Maja" in text
    assert "NPI 1234567893" in text and "AC-1234" in text and "12-3456789" in text
    assert "M54.50" in text and "Low back pain, unspecified" in text and "M54.41" in text
    assert "97813" in text and "97814" in text
    line = "97814 Acupuncture, with electrical stimulation, each additional 15 minutes"
    assert f"{line}, with re-insertion 2" in text
    assert "responsible for the codes" in text


def test_handout_next_appointment_comes_from_the_book(
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """A booked appointment after the visit is the handout's next appointment, even when the
    visit's own field was left empty."""
    from charting.bodymap import load_bodymap
    from charting.reports.handout import build_handout
    from charting.services.appointments import AppointmentInput, book
    from charting.services.report_data import visit_report

    bm = load_bodymap()
    pid = make_patient()
    visit_at = datetime(2026, 12, 1, 15, tzinfo=UTC)
    nxt = datetime(2026, 12, 8, 16, 30, tzinfo=UTC)
    with database.write() as session:
        vid, _ = start_visit(session, pid, practitioner_id, visit_at)
        book(session, AppointmentInput(pid, practitioner_id, nxt, 45))
    with database.read() as session:
        report = visit_report(session, vid, bm)
    out = io.BytesIO()
    build_handout(report, bm, out, invariant=True)
    text = _text(out.getvalue())
    assert f"{nxt.astimezone():%A %d %B %Y at %H:%M}" in text
    assert "Not booked yet" not in text
