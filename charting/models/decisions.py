"""Standing safety decisions: a warning acknowledged (or a block overridden) for a patient."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from charting.models.base import Base, UTCDateTime, utcnow


class StandingDecision(Base):
    """A safety decision that holds for the patient's later visits.

    A warning acknowledged, or a block overridden with a reason, at one visit stays decided
    for the same patient's later visits while the warning is the same: same key (the rule,
    and the point, side or technique it concerns) and same ``basis`` (a hash of what the
    warning said, which names the health flag, point and technique behind it). When any of
    these changes the warning comes back to be decided again.
    """

    __tablename__ = "standing_decision"
    __table_args__ = (UniqueConstraint("patient_id", "warning_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    warning_key: Mapped[str] = mapped_column(String(120))
    basis: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(60))
    severity: Mapped[str] = mapped_column(String(12))
    message: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("practitioner.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
