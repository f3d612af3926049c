"""Billing units for US acupuncture codes, the superbill's data, and a CSV for billing systems.

The codes and their rules are the AMA's (CPT, Current Procedural Terminology, Medicine
section, acupuncture 97810-97814, and CPT's time guideline):

* 97810 acupuncture without electrical stimulation, initial 15 minutes of personal one-on-one
  contact with the patient; 97811 each additional 15 minutes, with re-insertion of needles.
* 97813 and 97814: the same with electrical stimulation.
* Only personal one-on-one (face-to-face) time counts, not the time needles are retained
  while the practitioner is elsewhere: 30 minutes of retention after 10 minutes of contact
  is one initial unit, not two.
* An additional unit needs needles re-inserted; without re-insertion there is only the
  initial unit, however long the contact.
* A unit of time is attained when its mid-point is passed (CPT's time rule): 8 minutes of a
  15-minute unit count, 7 do not. (Medicare's "8-minute rule" for timed therapy codes comes
  to the same thresholds for a single code.)
* One initial code per visit: 97813 when electrical stimulation was used, else 97810; the
  additional units use 97814 with stimulation, 97811 without.

The practitioner remains responsible for the codes billed: these are suggestions to confirm
or change, and the confirmed lines are what the superbill and the CSV carry.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from charting.models import EAPair, Patient, Practitioner, Visit, VisitBilling, utcnow
from charting.services import clinical_lists
from charting.services.access import Permission, require
from charting.services.appointments import local_day_bounds
from charting.services.changes import Changes
from charting.services.errors import NotFoundError, ValidationError
from charting.services.exports import atomic_writer, guard_cell
from charting.services.settings import ClinicSettings, load_settings

# The NPI check lives with the other field checks; billing callers find it here too.
from charting.services.validation import check_npi as check_npi
from charting.services.validation import npi_valid as npi_valid

UNIT_MINUTES = 15
#: CPT: a unit is attained once the mid-point (7.5 of 15 minutes) is passed.
MIDPOINT_MINUTES = 8
INITIAL_MANUAL, ADDITIONAL_MANUAL = "97810", "97811"
INITIAL_ELECTRO, ADDITIONAL_ELECTRO = "97813", "97814"
CODES: dict[str, str] = {
    INITIAL_MANUAL: "Acupuncture, without electrical stimulation, initial 15 minutes",
    ADDITIONAL_MANUAL: "Acupuncture, without electrical stimulation, each additional "
    "15 minutes, with re-insertion",
    INITIAL_ELECTRO: "Acupuncture, with electrical stimulation, initial 15 minutes",
    ADDITIONAL_ELECTRO: "Acupuncture, with electrical stimulation, each additional "
    "15 minutes, with re-insertion",
}
INITIAL_CODES = frozenset({INITIAL_MANUAL, INITIAL_ELECTRO})
MAX_UNITS = 8


@dataclass(frozen=True)
class BillingLine:
    """One code and its units."""

    code: str
    units: int

    @property
    def description(self) -> str:
        """The code's short description."""
        return CODES.get(self.code, "")


@dataclass(frozen=True)
class Suggestion:
    """The suggested lines, and why, in sentences."""

    lines: tuple[BillingLine, ...]
    reasons: tuple[str, ...]


def time_units(contact_minutes: int) -> int:
    """Units of 15 minutes attained by ``contact_minutes`` (a partial unit counts from 8)."""
    full, rest = divmod(max(contact_minutes, 0), UNIT_MINUTES)
    return full + (1 if rest >= MIDPOINT_MINUTES else 0)


def suggest(contact_minutes: int | None, electro: bool, reinsertions: int) -> Suggestion:
    """The CPT lines the recorded times support.

    Args:
        contact_minutes: Personal one-on-one minutes with the patient (None: not recorded).
        electro: Electrical stimulation was used.
        reinsertions: How many times needles were re-inserted after the first insertion.
    """
    if contact_minutes is None:
        return Suggestion((), ("Record the one-on-one contact minutes to get a suggestion.",))
    units = time_units(contact_minutes)
    reasons = [
        f"{contact_minutes} minutes of one-on-one contact attain {units} unit"
        f"{'s' if units != 1 else ''} of 15 minutes (a unit counts from 8 minutes)."
    ]
    if units == 0:
        reasons.append("Under 8 minutes of contact does not attain the initial unit.")
        return Suggestion((), tuple(reasons))
    allowed = 1 + max(reinsertions, 0)
    if units > allowed:
        reasons.append(
            f"Each additional unit needs needles re-inserted; {reinsertions} re-insertion"
            f"{'s' if reinsertions != 1 else ''} allow{'s' if reinsertions == 1 else ''} "
            f"{allowed} unit{'s' if allowed != 1 else ''}."
        )
        units = allowed
    initial, additional = (
        (INITIAL_ELECTRO, ADDITIONAL_ELECTRO) if electro else (INITIAL_MANUAL, ADDITIONAL_MANUAL)
    )
    reasons.append(
        "Electrical stimulation was used (97813/97814)."
        if electro
        else "No electrical stimulation (97810/97811)."
    )
    lines = [BillingLine(initial, 1)]
    if units > 1:
        lines.append(BillingLine(additional, units - 1))
    return Suggestion(tuple(lines), tuple(reasons))


def validate_lines(lines: Sequence[BillingLine]) -> dict[str, str]:
    """Check lines the practitioner confirmed; return ``{field: message}`` for problems."""
    errors: dict[str, str] = {}
    codes = [line.code for line in lines]
    if any(code not in CODES for code in codes):
        errors["lines"] = "Use the acupuncture codes 97810, 97811, 97813 or 97814."
    elif any(not isinstance(line.units, int) or not 1 <= line.units <= MAX_UNITS for line in lines):
        errors["lines"] = f"Units are whole numbers from 1 to {MAX_UNITS}."
    elif len(codes) != len(set(codes)):
        errors["lines"] = "List each code once, with its units."
    elif lines and sum(1 for c in codes if c in INITIAL_CODES) != 1:
        errors["lines"] = "Bill exactly one initial code (97810 or 97813) per visit."
    elif any(line.code in INITIAL_CODES and line.units != 1 for line in lines):
        errors["lines"] = "The initial code is one unit; further time uses 97811 or 97814."
    return errors


# --- the visit's billing record --------------------------------------------------------------


@dataclass
class BillingInput:
    """What the billing screen edits: the times, and the lines to confirm."""

    needles_in_at: datetime | None = None
    needles_out_at: datetime | None = None
    ea_on_at: datetime | None = None
    ea_off_at: datetime | None = None
    contact_minutes: int | None = None
    reinsertions: int = 0
    lines: list[BillingLine] = field(default_factory=list)


@dataclass(frozen=True)
class BillingState:
    """A visit's billing record as the screen shows it."""

    visit_id: int
    times: BillingInput
    electro: bool
    suggestion: Suggestion
    lines: tuple[BillingLine, ...]
    confirmed_by: str
    confirmed_at: datetime | None


def validate_times(data: BillingInput) -> dict[str, str]:
    """Check the recorded times; return ``{field: message}`` for every problem."""
    errors: dict[str, str] = {}
    if data.needles_in_at and data.needles_out_at and data.needles_out_at <= data.needles_in_at:
        errors["needles_out_at"] = "Needles come out after they go in."
    if data.ea_on_at and data.ea_off_at and data.ea_off_at <= data.ea_on_at:
        errors["ea_off_at"] = "Stimulation is switched off after it is switched on."
    if bool(data.ea_on_at) != bool(data.ea_off_at):
        errors["ea_off_at"] = "Give both times the stimulation was switched on and off."
    if data.contact_minutes is not None and not 0 <= data.contact_minutes <= 480:
        errors["contact_minutes"] = "One-on-one minutes must be between 0 and 480."
    if not 0 <= data.reinsertions <= 20:
        errors["reinsertions"] = "Re-insertions must be between 0 and 20."
    return errors


def _electro(session: Session, visit_id: int, billing: VisitBilling | None) -> bool:
    if billing is not None and billing.ea_on_at is not None:
        return True
    return bool(session.scalar(select(func.count(EAPair.id)).where(EAPair.visit_id == visit_id)))


def billing_state(session: Session, visit_id: int) -> BillingState:
    """The visit's times, the suggestion they support, and the confirmed lines."""
    require(session, Permission.VIEW_CLINICAL)
    if session.get(Visit, visit_id) is None:
        raise NotFoundError("That visit no longer exists.")
    billing = session.get(VisitBilling, visit_id)
    electro = _electro(session, visit_id, billing)
    if billing is None:
        times = BillingInput()
        lines: tuple[BillingLine, ...] = ()
        confirmed_by, confirmed_at = "", None
    else:
        times = BillingInput(
            billing.needles_in_at,
            billing.needles_out_at,
            billing.ea_on_at,
            billing.ea_off_at,
            billing.contact_minutes,
            billing.reinsertions,
        )
        lines = tuple(BillingLine(str(x["code"]), int(x["units"])) for x in billing.lines)
        who = (
            session.get(Practitioner, billing.confirmed_by_id) if billing.confirmed_by_id else None
        )
        confirmed_by, confirmed_at = (who.display_name if who else ""), billing.confirmed_at
    return BillingState(
        visit_id,
        times,
        electro,
        suggest(times.contact_minutes, electro, times.reinsertions),
        lines,
        confirmed_by,
        confirmed_at,
    )


def save_billing(
    session: Session, visit_id: int, data: BillingInput, *, confirm: bool = False
) -> Changes:
    """Store the visit's times (and, with ``confirm``, the lines as the practitioner's).

    Changing the times after confirmation clears the confirmation, so a superbill never
    carries codes confirmed for other times.

    Raises:
        ValidationError: a time or a line is unusable; nothing is stored.
    """
    actor = require(session, Permission.CHART, target=f"visit {visit_id}")
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFoundError("That visit no longer exists.")
    errors = validate_times(data)
    if confirm:
        errors |= validate_lines(data.lines)
        if actor.practitioner_id is None:
            errors["lines"] = "Codes are confirmed by a practitioner."
    if errors:
        raise ValidationError(errors)
    billing = session.get(VisitBilling, visit_id)
    if billing is None:
        billing = VisitBilling(visit_id=visit_id, reinsertions=0, lines=[])
        session.add(billing)
    before = (
        billing.needles_in_at,
        billing.needles_out_at,
        billing.ea_on_at,
        billing.ea_off_at,
        billing.contact_minutes,
        billing.reinsertions,
    )
    billing.needles_in_at = data.needles_in_at
    billing.needles_out_at = data.needles_out_at
    billing.ea_on_at = data.ea_on_at
    billing.ea_off_at = data.ea_off_at
    billing.contact_minutes = data.contact_minutes
    billing.reinsertions = data.reinsertions
    after = (
        data.needles_in_at,
        data.needles_out_at,
        data.ea_on_at,
        data.ea_off_at,
        data.contact_minutes,
        data.reinsertions,
    )
    if confirm:
        billing.lines = [{"code": line.code, "units": line.units} for line in data.lines]
        billing.confirmed_by_id = actor.practitioner_id
        billing.confirmed_at = utcnow()
    elif before != after and billing.confirmed_at is not None:
        billing.confirmed_by_id = None
        billing.confirmed_at = None
    session.flush()
    return Changes(visits=frozenset({visit_id}))


# --- superbill and CSV ------------------------------------------------------------------------


@dataclass(frozen=True)
class Superbill:
    """Everything a superbill prints for one visit."""

    clinic: ClinicSettings
    visit_id: int
    visit_date: date
    patient_name: str
    chart_number: str
    date_of_birth: date | None
    address: str
    phone: str
    practitioner: str
    licence_number: str
    npi: str
    diagnoses: tuple[tuple[str, str], ...]
    lines: tuple[BillingLine, ...]
    confirmed_by: str
    confirmed_at: datetime | None


def superbill(session: Session, visit_id: int) -> Superbill:
    """The superbill's data for a visit (codes as the practitioner confirmed them).

    Raises:
        ValidationError: the codes were not confirmed yet.
    """
    state = billing_state(session, visit_id)
    visit = session.get_one(Visit, visit_id)
    if state.confirmed_at is None or not state.lines:
        raise ValidationError(
            {"lines": "Confirm the billing codes first (Visit \u203a Billing codes)."}
        )
    labels = {c.id: c.label for c in clinical_lists.ICD10_CODES}
    patient, practitioner = visit.patient, visit.practitioner
    return Superbill(
        clinic=load_settings(session),
        visit_id=visit_id,
        visit_date=visit.started_at.astimezone().date(),
        patient_name=patient.full_name,
        chart_number=patient.chart_number,
        date_of_birth=patient.date_of_birth,
        address=patient.address,
        phone=patient.phone,
        practitioner=practitioner.display_name,
        licence_number=practitioner.licence_number,
        npi=practitioner.npi,
        diagnoses=tuple((code, labels.get(code, "")) for code in visit.icd10_codes),
        lines=state.lines,
        confirmed_by=state.confirmed_by,
        confirmed_at=state.confirmed_at,
    )


BILLING_CSV_COLUMNS = (
    "visit_id",
    "visit_date",
    "chart_number",
    "patient_name",
    "date_of_birth",
    "practitioner",
    "practitioner_npi",
    "practitioner_licence",
    "clinic_tax_id",
    "icd10_codes",
    "cpt_code",
    "units",
    "confirmed_at",
)


def billing_rows(session: Session, since: date, until: date) -> list[dict[str, Any]]:
    """One row per confirmed code of the visits in the local dates ``[since, until]``."""
    require(session, Permission.EXPORT)
    start, _ = local_day_bounds(since)
    _, end = local_day_bounds(until)
    tax_id = load_settings(session).clinic_tax_id
    query = (
        select(VisitBilling, Visit, Patient, Practitioner)
        .join(Visit, Visit.id == VisitBilling.visit_id)
        .join(Patient, Patient.id == Visit.patient_id)
        .join(Practitioner, Practitioner.id == Visit.practitioner_id)
        .where(
            Visit.started_at >= start,
            Visit.started_at < end,
            VisitBilling.confirmed_at.is_not(None),
        )
        .order_by(Visit.started_at, Visit.id)
    )
    rows: list[dict[str, Any]] = []
    for billing, visit, patient, practitioner in session.execute(query):
        for line in billing.lines:
            rows.append(
                {
                    "visit_id": visit.id,
                    "visit_date": visit.started_at.astimezone().date(),
                    "chart_number": patient.chart_number,
                    "patient_name": patient.full_name,
                    "date_of_birth": patient.date_of_birth,
                    "practitioner": practitioner.display_name,
                    "practitioner_npi": practitioner.npi,
                    "practitioner_licence": practitioner.licence_number,
                    "clinic_tax_id": tax_id,
                    "icd10_codes": "; ".join(visit.icd10_codes),
                    "cpt_code": line["code"],
                    "units": int(line["units"]),
                    "confirmed_at": billing.confirmed_at,
                }
            )
    return rows


def csv_cell(value: Any) -> str:
    """A value as a CSV cell: numbers as numbers, dates in ISO form, text guarded against
    spreadsheet formulas (OWASP ASVS 1.2.10, as the record export does)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return value.astimezone().isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return guard_cell(str(value))


def write_rows_csv(path: Path, columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> Path:
    """Write ``rows`` to ``path`` as UTF-8 CSV with a BOM, owner-only, replaced atomically."""
    with atomic_writer(Path(path), newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_cell(row.get(c)) for c in columns])
    return Path(path)


def export_billing_csv(session: Session, since: date, until: date, path: Path) -> int:
    """Write the confirmed codes of a date range for a billing system; return the row count.

    The export is audited.
    """
    from charting.services import audit

    rows = billing_rows(session, since, until)
    write_rows_csv(path, BILLING_CSV_COLUMNS, rows)
    audit.record(
        session,
        "export.billing",
        detail=f"{len(rows)} code lines, visits {since.isoformat()} to {until.isoformat()}",
    )
    return len(rows)
