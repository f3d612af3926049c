"""ORM entities for the clinic's day: appointments and their history, consent, visit billing."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from charting.models.base import Base, UTCDateTime, utcnow


class AppointmentStatus(StrEnum):
    """Where an appointment stands on the day."""

    BOOKED = "booked"
    ARRIVED = "arrived"
    DONE = "done"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class Appointment(Base):
    """A booked time with a practitioner; the visit charted for it is linked once started.

    ``starts_at`` is stored in UTC and shown in local time. ``version`` refuses a move or a
    status change made from a stale copy (another workstation changed it meanwhile).
    """

    __tablename__ = "appointment"
    __table_args__ = (
        CheckConstraint(
            "status IN ('booked', 'arrived', 'done', 'cancelled', 'no_show')", name="status_known"
        ),
        CheckConstraint("minutes BETWEEN 5 AND 480", name="minutes"),
        # The day list and the week view read one practitioner's (or the clinic's) time range.
        Index("ix_appointment_practitioner_starts", "practitioner_id", "starts_at"),
        Index("ix_appointment_starts", "starts_at"),
        Index("ix_appointment_patient_starts", "patient_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="RESTRICT"))
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioner.id", ondelete="RESTRICT"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    minutes: Mapped[int] = mapped_column(Integer, default=45)
    reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
    status: Mapped[str] = mapped_column(
        String(10), default=AppointmentStatus.BOOKED.value, server_default="booked"
    )
    booked_by: Mapped[str] = mapped_column(String(60), default="", server_default="")
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    visit_id: Mapped[int | None] = mapped_column(
        ForeignKey("visit.id", ondelete="SET NULL"), index=True
    )
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it as is)


class AppointmentChange(Base):
    """One step in an appointment's history: booked, moved, cancelled, arrived, ..."""

    __tablename__ = "appointment_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    username: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(20))
    before: Mapped[str] = mapped_column(Text, default="", server_default="")
    after: Mapped[str] = mapped_column(Text, default="", server_default="")


class Consent(Base):
    """A patient's consent to treatments for a course, who took it, and its withdrawal."""

    __tablename__ = "consent"
    __table_args__ = (Index("ix_consent_patient", "patient_id", "taken_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="RESTRICT"))
    course: Mapped[str] = mapped_column(String(200), default="", server_default="")
    treatments: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    risks: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    taken_by_id: Mapped[int] = mapped_column(ForeignKey("practitioner.id", ondelete="RESTRICT"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by: Mapped[str] = mapped_column(String(60), default="", server_default="")
    withdrawal_reason: Mapped[str] = mapped_column(Text, default="", server_default="")


class VisitBilling(Base):
    """A visit's billing record: the times CPT counts, and the codes the practitioner confirmed.

    Kept beside the visit rather than in it, so billing can be completed after the visit is
    signed without touching what the signature covers.
    """

    __tablename__ = "visit_billing"
    __table_args__ = (
        CheckConstraint(
            "contact_minutes IS NULL OR contact_minutes BETWEEN 0 AND 480", name="contact"
        ),
        CheckConstraint("reinsertions BETWEEN 0 AND 20", name="reinsertions"),
    )

    visit_id: Mapped[int] = mapped_column(
        ForeignKey("visit.id", ondelete="CASCADE"), primary_key=True
    )
    needles_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    needles_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ea_on_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ea_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contact_minutes: Mapped[int | None] = mapped_column(Integer)
    reinsertions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # [{"code": "97813", "units": 1}, ...] as the practitioner confirmed (or changed) them.
    lines: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default=text("'[]'")
    )
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("practitioner.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
