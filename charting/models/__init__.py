"""SQLAlchemy models, the database engine and the schema migrations (Qt-free)."""

from charting.models.base import Base, utcnow
from charting.models.entities import (
    Counter,
    ImplantedDevice,
    Patient,
    Practitioner,
    Sex,
    Visit,
    VisitStatus,
)

__all__ = [
    "Base",
    "Counter",
    "ImplantedDevice",
    "Patient",
    "Practitioner",
    "Sex",
    "Visit",
    "VisitStatus",
    "utcnow",
]
