"""SQLAlchemy models, the database engine and the schema migrations (Qt-free)."""

from charting.models.base import Base, utcnow
from charting.models.custom_points import CustomPoint
from charting.models.day import (
    Appointment,
    AppointmentChange,
    AppointmentStatus,
    Consent,
    VisitBilling,
)
from charting.models.decisions import StandingDecision
from charting.models.entities import (
    AdverseEvent,
    Amendment,
    AuditEvent,
    ClinicSetting,
    Counter,
    EAPair,
    HandoutIssue,
    ImplantedDevice,
    Mark,
    MarkKind,
    NeedleCountResolution,
    Patient,
    Practitioner,
    Protocol,
    Role,
    SafetyAcknowledgement,
    Sex,
    UserAccount,
    Visit,
    VisitStatus,
)
from charting.models.pain import PainArea, PainSummary

__all__ = [
    "AdverseEvent",
    "Amendment",
    "Appointment",
    "AppointmentChange",
    "AppointmentStatus",
    "AuditEvent",
    "Base",
    "ClinicSetting",
    "Consent",
    "Counter",
    "CustomPoint",
    "EAPair",
    "HandoutIssue",
    "ImplantedDevice",
    "Mark",
    "MarkKind",
    "NeedleCountResolution",
    "PainArea",
    "PainSummary",
    "Patient",
    "Practitioner",
    "Protocol",
    "Role",
    "SafetyAcknowledgement",
    "Sex",
    "StandingDecision",
    "UserAccount",
    "Visit",
    "VisitBilling",
    "VisitStatus",
    "utcnow",
]
