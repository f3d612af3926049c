"""SQLAlchemy models, the database engine and the schema migrations (Qt-free)."""

from charting.models.base import Base, utcnow
from charting.models.entities import (
    AdverseEvent,
    Amendment,
    ClinicSetting,
    Counter,
    EAPair,
    ImplantedDevice,
    Mark,
    MarkKind,
    Patient,
    Practitioner,
    Protocol,
    SafetyAcknowledgement,
    Sex,
    Visit,
    VisitStatus,
)

__all__ = [
    "AdverseEvent",
    "Amendment",
    "Base",
    "ClinicSetting",
    "Counter",
    "EAPair",
    "ImplantedDevice",
    "Mark",
    "MarkKind",
    "Patient",
    "Practitioner",
    "Protocol",
    "SafetyAcknowledgement",
    "Sex",
    "Visit",
    "VisitStatus",
    "utcnow",
]
