"""Needle-lot recall: every visit and patient treated with a lot (or a brand and size).

Answering a manufacturer's recall is why the lot is recorded at every visit (domain
traceability: STRICTA 2c and the state rules that ask for needle lot records, [LAC]). The
search is for clinic admins, is written to the audit log with its criteria and result
count, and its CSV carries the contact details needed to reach each patient.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from charting.models import Patient, Practitioner, Visit
from charting.services import audit
from charting.services.access import Permission, require
from charting.services.appointments import local_day_bounds
from charting.services.billing import write_rows_csv
from charting.services.errors import ValidationError
from charting.services.validation import check_text


@dataclass(frozen=True)
class RecallQuery:
    """What the recall names: a lot, or a brand and size, in a date range."""

    lot: str = ""
    brand: str = ""
    gauge: str = ""
    length: str = ""
    since: date | None = None
    until: date | None = None

    def describe(self) -> str:
        """The criteria in words, for the audit log and the screen."""
        parts = []
        if self.lot.strip():
            parts.append(f"lot {self.lot.strip()}")
        if self.brand.strip():
            parts.append(f"brand {self.brand.strip()}")
        if self.gauge.strip():
            parts.append(f"gauge {self.gauge.strip()}")
        if self.length.strip():
            parts.append(f"length {self.length.strip()}")
        if self.since:
            parts.append(f"from {self.since.isoformat()}")
        if self.until:
            parts.append(f"to {self.until.isoformat()}")
        return ", ".join(parts)


@dataclass(frozen=True)
class RecallRow:
    """One visit treated with the recalled needles, with the patient's contact details."""

    visit_id: int
    visit_date: datetime
    visit_number: int
    practitioner: str
    needle_brand: str
    needle_size: str
    needle_lot: str
    patient_id: int
    chart_number: str
    patient_name: str
    date_of_birth: date | None
    phone: str
    email: str
    address: str


RECALL_CSV_COLUMNS = (
    "visit_date",
    "visit_id",
    "visit_number",
    "practitioner",
    "needle_brand",
    "needle_size",
    "needle_lot",
    "chart_number",
    "patient_name",
    "date_of_birth",
    "phone",
    "email",
    "address",
)


def validate(query: RecallQuery) -> dict[str, str]:
    """Check the criteria; return ``{field: message}`` for every problem."""
    errors: dict[str, str] = {}
    if not query.lot.strip() and not query.brand.strip():
        errors["lot"] = "Give the lot number, or the brand (and size) of the recalled needles."
    for name, value, limit in (
        ("lot", query.lot, 60),
        ("brand", query.brand, 120),
        ("gauge", query.gauge, 30),
        ("length", query.length, 30),
    ):
        if problem := check_text(value, name.capitalize(), limit):
            errors[name] = problem
    if query.since and query.until and query.until < query.since:
        errors["until"] = "The end date is before the start date."
    return errors


def _plain_size(text: str) -> str:
    return text.lower().replace("mm", "").replace(" ", "")


def _size(column: Any) -> Any:
    return func.replace(func.replace(column, "mm", ""), " ", "")


def find(session: Session, query: RecallQuery) -> list[RecallRow]:
    """Every visit (of live and deleted patients alike) matching the recall, oldest first.

    The lot is matched exactly as recorded (after trimming), through the lot index; brand
    and size are matched without regard to case. The search is audited.

    Raises:
        ValidationError: no lot or brand given, or the dates are reversed.
        PermissionDeniedError: the account is not a clinic admin.
    """
    require(session, Permission.EXPORT, target="recall")
    errors = validate(query)
    if errors:
        raise ValidationError(errors)
    statement = (
        select(
            Visit.id,
            Visit.started_at,
            Visit.number,
            Practitioner.name.label("practitioner"),
            Visit.needle_brand,
            Visit.needle_gauge,
            Visit.needle_length,
            Visit.needle_lot,
            Patient.id.label("patient_id"),
            Patient.chart_number,
            Patient.family_name,
            Patient.given_name,
            Patient.preferred_name,
            Patient.date_of_birth,
            Patient.phone,
            Patient.email,
            Patient.address,
        )
        .join(Patient, Patient.id == Visit.patient_id)
        .join(Practitioner, Practitioner.id == Visit.practitioner_id)
        .order_by(Visit.started_at, Visit.id)
    )
    if query.lot.strip():
        statement = statement.where(Visit.needle_lot == query.lot.strip())
    if query.brand.strip():
        statement = statement.where(func.lower(Visit.needle_brand) == query.brand.strip().lower())
    for column, value in ((Visit.needle_gauge, query.gauge), (Visit.needle_length, query.length)):
        if value.strip():
            # Sizes are typed "0.25", "0.25 mm" or "0.25mm": compare without unit and spaces.
            statement = statement.where(_size(func.lower(column)) == _plain_size(value))
    if query.since:
        statement = statement.where(Visit.started_at >= local_day_bounds(query.since)[0])
    if query.until:
        statement = statement.where(Visit.started_at < local_day_bounds(query.until)[1])
    rows = [
        RecallRow(
            visit_id=r.id,
            visit_date=r.started_at,
            visit_number=r.number,
            practitioner=r.practitioner,
            needle_brand=r.needle_brand,
            needle_size=" \u00d7 ".join(x for x in (r.needle_gauge, r.needle_length) if x),
            needle_lot=r.needle_lot,
            patient_id=r.patient_id,
            chart_number=r.chart_number,
            patient_name=(
                f"{r.family_name}, {r.given_name}"
                + (f" \u201c{r.preferred_name}\u201d" if r.preferred_name else "")
            ),
            date_of_birth=r.date_of_birth,
            phone=r.phone,
            email=r.email,
            address=r.address,
        )
        for r in session.execute(statement)
    ]
    patients = len({r.patient_id for r in rows})
    audit.record(
        session,
        "recall.search",
        target="recall",
        detail=f"{query.describe()}: {len(rows)} visits, {patients} patients",
    )
    return rows


def _csv_row(row: RecallRow) -> dict[str, Any]:
    return {
        "visit_date": row.visit_date.astimezone().date(),
        "visit_id": row.visit_id,
        "visit_number": row.visit_number,
        "practitioner": row.practitioner,
        "needle_brand": row.needle_brand,
        "needle_size": row.needle_size,
        "needle_lot": row.needle_lot,
        "chart_number": row.chart_number,
        "patient_name": row.patient_name,
        "date_of_birth": row.date_of_birth,
        "phone": row.phone,
        "email": row.email,
        "address": row.address,
    }


def write_csv(session: Session, rows: list[RecallRow], path: Path, query: RecallQuery) -> Path:
    """Write the recall list (owner-only file, formula-guarded cells) and audit the export."""
    require(session, Permission.EXPORT, target="recall")
    write_rows_csv(path, RECALL_CSV_COLUMNS, (_csv_row(r) for r in rows))
    audit.record(
        session,
        "export.recall",
        target="recall",
        detail=f"{query.describe()}: {len(rows)} visits to {Path(path).name}",
    )
    return Path(path)
