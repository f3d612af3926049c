"""SQLAlchemy models, the database engine and the schema migrations (Qt-free)."""

from charting.models.base import Base, utcnow
from charting.models.entities import (
    Counter,
    ImplantedDevice,
    Mark,
    MarkKind,
    Patient,
    Practitioner,
    Protocol,
    Sex,
    Visit,
    VisitStatus,
)

__all__ = [
    "Base",
    "Counter",
    "ImplantedDevice",
    "Mark",
    "MarkKind",
    "Patient",
    "Practitioner",
    "Protocol",
    "Sex",
    "Visit",
    "VisitStatus",
    "utcnow",
]
