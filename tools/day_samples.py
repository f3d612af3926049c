"""Sample consent form and superbill (fictional data), rendered for review by
tools/sample_documents.py."""

from __future__ import annotations

from datetime import UTC, date, datetime

from charting.reports.consent_form import build_consent_form
from charting.reports.superbill import build_superbill
from charting.services.billing import BillingLine, Superbill
from charting.services.consent import ConsentRow, risks_for
from charting.services.report_data import PatientInfo
from charting.services.settings import ClinicSettings

CLINIC = ClinicSettings(
    clinic_name="Cedar Street Acupuncture (fictional)",
    clinic_address="12 Cedar Street, Springfield",
    clinic_phone="+1 555 0100",
    clinic_email="desk@example.org",
    clinic_tax_id="12-3456789",
)


def day_documents(created: datetime) -> dict[str, object]:
    """Builders of the consent form and the superbill, by sample name."""
    patient = PatientInfo(
        1, "000042", "Aiko Nakamura", "", date(1979, 4, 26), "Female", ("Anticoagulant",)
    )
    treatments = ("acupuncture", "electroacupuncture", "cupping")
    consent = ConsentRow(
        id=1,
        patient_id=1,
        course="Low back pain with left sciatica, from September 2026",
        treatments=treatments,
        risks=tuple(r.key for r in risks_for(treatments)),
        note="Questions about bruising on blood thinners answered.",
        taken_by="Dr. Mira Castellanos, DAOM, L.Ac.",
        taken_at=datetime(2026, 9, 7, 15, tzinfo=UTC),
        withdrawn_at=None,
        withdrawn_by="",
        withdrawal_reason="",
    )
    bill = Superbill(
        clinic=CLINIC,
        visit_id=8,
        visit_date=date(2026, 10, 26),
        patient_name="Nakamura, Aiko",
        chart_number="000042",
        date_of_birth=date(1979, 4, 26),
        address="4 Willow Lane, Springfield",
        phone="+1 555 0147",
        practitioner="Dr. Mira Castellanos, DAOM, L.Ac.",
        licence_number="AC-004211",
        npi="1234567893",
        diagnoses=(
            ("M54.42", "Lumbago with sciatica, left side"),
            ("M54.50", "Low back pain, unspecified"),
        ),
        lines=(BillingLine("97813", 1), BillingLine("97814", 1)),
        confirmed_by="Dr. Mira Castellanos, DAOM, L.Ac.",
        confirmed_at=datetime(2026, 10, 26, 16, 5, tzinfo=UTC),
    )
    return {
        "consent-form": lambda t: build_consent_form(CLINIC, patient, consent, t, created),
        "superbill": lambda t: build_superbill(bill, t, created),
    }
