"""The clinic's own named points: placed on a view of the body model, kept beside the catalog."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from charting.models.base import Base, UTCDateTime, utcnow


class CustomPoint(Base):
    """A point a clinic added to its body map, at a position on one view, in model units.

    Marks of a custom point store its code and their own position like any acupoint mark, so
    a signed visit reads the same after the point is edited or retired. Once a mark uses the
    point, its code, name, view and position are fixed (the services refuse to change them);
    it can then only be retired, which hides it from placement and search but keeps it
    readable for the visits that used it.
    """

    __tablename__ = "custom_point"
    __table_args__ = (
        CheckConstraint("laterality IN ('midline', 'bilateral')", name="laterality_known"),
        CheckConstraint(
            "safe_depth_mm IS NULL OR (safe_depth_mm > 0 AND safe_depth_mm <= 150)",
            name="safe_depth",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    view: Mapped[str] = mapped_column(String(30))
    # Where it was placed (model units of the view); a bilateral point is mirrored.
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    laterality: Mapped[str] = mapped_column(String(10), default="bilateral")
    location: Mapped[str] = mapped_column(Text, default="", server_default="")
    cautions: Mapped[str] = mapped_column(Text, default="", server_default="")
    safe_depth_mm: Mapped[float | None] = mapped_column(Float)
    retired: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
