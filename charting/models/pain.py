"""Pain drawings: where it hurts, shaded on a visit's body map, in model units."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from charting.models.base import Base, UTCDateTime, utcnow


class PainArea(Base):
    """One stroke of the pain brush, one named region filled, or one stroke of the eraser.

    Stored as vector shapes in the body model's units (never pixels), so a drawing prints and
    compares at any size: a stroke is the path of the brush (``points``) and its width; a
    fill names a region of the view; an eraser stroke takes shading away from the areas
    drawn before it by the same person. Areas apply in the order they were made (``id``).
    """

    __tablename__ = "pain_area"
    __table_args__ = (
        CheckConstraint("kind IN ('stroke', 'region', 'erase')", name="kind_known"),
        CheckConstraint("drawn_by IN ('practitioner', 'patient')", name="drawn_by_known"),
        CheckConstraint("intensity IS NULL OR intensity BETWEEN 0 AND 10", name="intensity"),
        CheckConstraint("width IS NULL OR (width > 0 AND width <= 400)", name="width"),
        Index("ix_pain_area_visit", "visit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"))
    view: Mapped[str] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(10))
    points: Mapped[list[Any]] = mapped_column(JSON, default=list)
    width: Mapped[float | None] = mapped_column(Float)
    region: Mapped[str] = mapped_column(String(30), default="", server_default="")
    side: Mapped[str] = mapped_column(String(1), default="", server_default="")
    quality: Mapped[str] = mapped_column(String(20), default="", server_default="")
    intensity: Mapped[int | None] = mapped_column(Integer)
    drawn_by: Mapped[str] = mapped_column(String(12), default="practitioner")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PainSummary(Base):
    """The measures of a visit's pain drawing, computed when it was last changed."""

    __tablename__ = "pain_summary"

    visit_id: Mapped[int] = mapped_column(
        ForeignKey("visit.id", ondelete="CASCADE"), primary_key=True
    )
    measures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
