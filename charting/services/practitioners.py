"""Practitioner profiles: who treats, with which credentials."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from charting.models import Practitioner
from charting.services.changes import Changes
from charting.services.errors import NotFoundError, ValidationError
from charting.services.validation import check_name, check_npi, check_text

# Common acupuncture styles offered in the profile form; free text is accepted too.
STYLES = (
    "Traditional Chinese Medicine (TCM)",
    "Japanese (Meridian Therapy)",
    "Five Element",
    "Western medical acupuncture",
    "Dry needling / trigger point",
    "Other",
)


@dataclass
class PractitionerInput:
    """A practitioner profile form."""

    name: str = ""
    credentials: str = ""
    licence_number: str = ""
    style: str = ""
    npi: str = ""


def validate_practitioner(data: PractitionerInput) -> dict[str, str]:
    """Check a practitioner form; return ``{field: message}`` for every problem."""
    checks = {
        "name": check_name(data.name, "Name", max_len=200),
        "credentials": check_text(data.credentials, "Credentials", 100),
        "licence_number": check_text(data.licence_number, "Licence number", 60),
        "style": check_text(data.style, "Style", 100),
        "npi": check_npi(data.npi),
    }
    return {k: v for k, v in checks.items() if v}


def save_practitioner(
    session: Session, data: PractitionerInput, practitioner_id: int | None = None
) -> tuple[int, Changes]:
    """Create a practitioner, or update one when ``practitioner_id`` is given."""
    errors = validate_practitioner(data)
    if errors:
        raise ValidationError(errors)
    if practitioner_id is None:
        practitioner = Practitioner()
        session.add(practitioner)
    else:
        found = session.get(Practitioner, practitioner_id)
        if found is None:
            raise NotFoundError("That practitioner no longer exists.")
        practitioner = found
    practitioner.name = data.name.strip()
    practitioner.credentials = data.credentials.strip()
    practitioner.licence_number = data.licence_number.strip()
    practitioner.style = data.style.strip()
    practitioner.npi = data.npi.strip()
    session.flush()
    return practitioner.id, Changes(practitioners=frozenset({practitioner.id}))


def list_practitioners(session: Session) -> list[Practitioner]:
    """Active practitioners in name order."""
    return list(
        session.scalars(
            select(Practitioner)
            .where(Practitioner.active.is_(True))
            .order_by(Practitioner.name, Practitioner.id)
        )
    )
