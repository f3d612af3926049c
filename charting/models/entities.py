"""ORM entities: practitioners, patients and visits."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from charting.models.base import Base, UTCDateTime, utcnow


class Sex(StrEnum):
    """Sex recorded on the chart (administrative, as most intake forms ask it)."""

    FEMALE = "female"
    MALE = "male"
    INTERSEX = "intersex"
    UNKNOWN = "unknown"


class ImplantedDevice(StrEnum):
    """Implanted electrical devices that matter for electroacupuncture."""

    NONE = "none"
    PACEMAKER = "pacemaker"
    ICD = "icd"
    STIMULATOR = "stimulator"
    PUMP = "pump"
    OTHER = "other"


class Role(StrEnum):
    """What an account may do; an account can hold several roles (a sole practitioner is also
    the clinic's admin)."""

    ADMIN = "admin"
    PRACTITIONER = "practitioner"
    FRONT_DESK = "front_desk"


class VisitStatus(StrEnum):
    """Whether a visit can still be edited."""

    DRAFT = "draft"
    SIGNED = "signed"


def _text() -> Mapped[Any]:
    """A free-text column that is never NULL (empty when not recorded)."""
    return mapped_column(Text, default="", server_default="")


def _json_list() -> Mapped[Any]:
    """A JSON list column, empty by default."""
    return mapped_column(JSON, default=list, server_default=text("'[]'"))


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Counter(Base):
    """Named counters, incremented inside the transaction that uses the value."""

    __tablename__ = "counter"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Practitioner(Base):
    """A practitioner who treats patients and signs visits."""

    __tablename__ = "practitioner"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credentials: Mapped[str] = mapped_column(String(100), default="")
    licence_number: Mapped[str] = mapped_column(String(60), default="")
    # US National Provider Identifier (10 digits, Luhn check digit), printed on superbills.
    npi: Mapped[str] = mapped_column(String(10), default="", server_default="")
    style: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    visits: Mapped[list[Visit]] = relationship(
        back_populates="practitioner", foreign_keys="Visit.practitioner_id"
    )

    @property
    def display_name(self) -> str:
        """Name with credentials, as printed on a chart ("Ana Ruiz, L.Ac.")."""
        return f"{self.name}, {self.credentials}" if self.credentials else self.name


class UserAccount(Base):
    """A named login. Practitioner accounts link to the practitioner profile they chart as."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    roles: Mapped[list[str]] = _json_list()
    practitioner_id: Mapped[int | None] = mapped_column(
        ForeignKey("practitioner.id", ondelete="RESTRICT")
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEvent(Base):
    """One append-only audit entry, chained to the one before it by ``prev_hash``.

    ``seq`` runs 1, 2, 3... without gaps, so a deleted entry shows as a gap even where the
    database's own ids may skip (PostgreSQL sequences do after a rollback). User and patient
    are plain numbers, not foreign keys: the log must outlive whatever it mentions.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_patient_at", "patient_id", "at"),
        Index("ix_audit_event_user_at", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(60), index=True)
    patient_id: Mapped[int | None] = mapped_column(Integer)
    target: Mapped[str] = mapped_column(String(100), default="", server_default="")
    outcome: Mapped[str] = mapped_column(String(10), default="ok", server_default="ok")
    detail: Mapped[str] = _text()
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


def full_name(family_name: str, given_name: str, preferred_name: str | None) -> str:
    """ "Family, Given" (and the preferred name in quotes when it differs from the given)."""
    name = f"{family_name}, {given_name}"
    if preferred_name and preferred_name != given_name:
        name += f" \u201c{preferred_name}\u201d"
    return name


class Patient(Base):
    """A patient's demographics and the health flags the safety checks read."""

    __tablename__ = "patient"
    __table_args__ = (
        CheckConstraint(_in("sex", Sex), name="sex_known"),
        CheckConstraint(_in("implanted_device", ImplantedDevice), name="device_known"),
        Index("ix_patient_family_key", "family_key"),
        Index("ix_patient_date_of_birth", "date_of_birth"),
        # Covers the patient list and name search of live patients without touching the
        # table: 100,000 patients list in ~30 ms instead of ~230 ms (benchmarks/).
        Index(
            "ix_patient_live_names",
            "search_key",
            "family_key",
            "id",
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        # Chart-number search of live patients as a range on an index that also says who is
        # deleted: a keystroke such as "0" counts 100,000 patients in ~5 ms instead of
        # ~220 ms for a LIKE scan. (Not a partial index: SQLite would then scan it, wrongly,
        # for name searches, which the covering index above serves.)
        Index("ix_patient_chart_deleted", "chart_number", "deleted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chart_number: Mapped[str] = mapped_column(String(20), unique=True)
    family_name: Mapped[str] = mapped_column(String(120))
    given_name: Mapped[str] = mapped_column(String(120))
    preferred_name: Mapped[str] = mapped_column(String(120), default="")
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(10), default=Sex.UNKNOWN.value)
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    emergency_contact: Mapped[str] = mapped_column(String(200), default="")
    emergency_phone: Mapped[str] = mapped_column(String(40), default="")

    # Health flags used by the safety rules.
    pregnant: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    pregnancy_due_date: Mapped[date | None] = mapped_column(Date)
    implanted_device: Mapped[str] = mapped_column(
        String(20), default=ImplantedDevice.NONE.value, server_default=ImplantedDevice.NONE.value
    )
    bleeding_disorder: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    anticoagulant: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    epilepsy: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    diabetes: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    metal_allergy: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    needle_fainting: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Reduced sensation in the feet and legs (e.g. diabetic neuropathy): leg-point rules.
    peripheral_neuropathy: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    medical_history: Mapped[str] = mapped_column(Text, default="")
    medications: Mapped[str] = mapped_column(Text, default="")
    # The current course's treatment plan (e.g. 10 sessions, twice a week).
    plan_sessions: Mapped[int | None] = mapped_column(Integer)
    plan_frequency: Mapped[str] = mapped_column(String(60), default="", server_default="")

    # Lower-cased, accent-free copies of the names, kept by the patient service, so that a
    # search for "muller" finds "Müller" and name prefixes can use an index.
    search_key: Mapped[str] = mapped_column(String(400), default="")
    family_key: Mapped[str] = mapped_column(String(120), default="")

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    visits: Mapped[list[Visit]] = relationship(back_populates="patient", order_by="Visit.number")

    @property
    def full_name(self) -> str:
        """Family name, given name (and the preferred name in quotes when it differs)."""
        return full_name(self.family_name, self.given_name, self.preferred_name)


class Visit(Base):
    """One treatment session of a patient with a practitioner."""

    __tablename__ = "visit"
    __table_args__ = (
        UniqueConstraint("patient_id", "number"),
        CheckConstraint(_in("status", VisitStatus), name="status_known"),
        CheckConstraint("number >= 1", name="number_positive"),
        *(
            CheckConstraint(f"{c} IS NULL OR {c} BETWEEN 0 AND 10", name=f"{c}_nrs")
            for c in ("pain_now", "pain_best", "pain_worst", "pain_after")
        ),
        CheckConstraint("odi_percent IS NULL OR odi_percent BETWEEN 0 AND 100", name="odi"),
        CheckConstraint("rmdq_score IS NULL OR rmdq_score BETWEEN 0 AND 24", name="rmdq"),
        CheckConstraint(
            "referral_outcome IN ('', 'urgent', 'routine', 'not_referred')",
            name="referral_outcome_known",
        ),
        CheckConstraint(
            "patient_position IN ('', 'prone', 'side-lying', 'supine', 'seated')",
            name="patient_position_known",
        ),
        CheckConstraint(
            "retention_minutes IS NULL OR retention_minutes BETWEEN 0 AND 240", name="retention"
        ),
        CheckConstraint("needles_out IS NULL OR needles_out >= 0", name="needles_out"),
        Index("ix_visit_patient_started", "patient_id", "started_at"),
        # A manufacturer's needle recall finds every visit of a lot without a table scan.
        Index("ix_visit_needle_lot_started", "needle_lot", "started_at"),
        # Open drafts (unsigned visits) per practitioner, read at every sign-in.
        Index("ix_visit_status_practitioner", "status", "practitioner_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="RESTRICT"))
    practitioner_id: Mapped[int] = mapped_column(
        ForeignKey("practitioner.id", ondelete="RESTRICT"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default=VisitStatus.DRAFT.value)
    chief_complaint: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")

    # Consultation (S). Pain is the 0-10 numeric rating scale.
    onset: Mapped[str] = _text()
    duration: Mapped[str] = _text()
    mechanism: Mapped[str] = _text()
    pain_quality: Mapped[str] = _text()
    radiation: Mapped[str] = _text()
    aggravating: Mapped[str] = _text()
    easing: Mapped[str] = _text()
    sleep: Mapped[str] = _text()
    current_medications: Mapped[str] = _text()
    pain_now: Mapped[int | None] = mapped_column(Integer)
    pain_best: Mapped[int | None] = mapped_column(Integer)
    pain_worst: Mapped[int | None] = mapped_column(Integer)
    response_since_last: Mapped[str] = _text()
    red_flags: Mapped[list[str]] = _json_list()
    # What was decided about positive red flags ("urgent", "routine", "not_referred" or ""
    # when none was recorded); ``referral_decision`` holds the details or the reason.
    referral_outcome: Mapped[str] = mapped_column(String(20), default="", server_default="")
    referral_decision: Mapped[str] = _text()
    # Examination (O).
    posture: Mapped[str] = _text()
    range_of_motion: Mapped[str] = _text()
    palpation: Mapped[str] = _text()
    straight_leg_raise: Mapped[str] = _text()
    reflexes: Mapped[str] = _text()
    sensation: Mapped[str] = _text()
    tongue: Mapped[str] = _text()
    pulse: Mapped[str] = _text()
    # Assessment (A).
    tcm_patterns: Mapped[list[str]] = _json_list()
    assessment: Mapped[str] = _text()
    icd10_codes: Mapped[list[str]] = _json_list()
    # Treatment (P): how the patient lay or sat ("prone", "side-lying", "supine", "seated" or
    # "" when not recorded), then the needles used (STRICTA 2c, traceability by lot).
    patient_position: Mapped[str] = mapped_column(String(20), default="", server_default="")
    needle_brand: Mapped[str] = _text()
    needle_gauge: Mapped[str] = _text()
    needle_length: Mapped[str] = _text()
    needle_lot: Mapped[str] = _text()
    needle_expiry: Mapped[date | None] = mapped_column(Date)
    needles_out: Mapped[int | None] = mapped_column(Integer)
    retention_minutes: Mapped[int | None] = mapped_column(Integer)
    moxibustion: Mapped[str] = _text()
    heat_lamp: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    home_advice: Mapped[list[str]] = _json_list()
    home_advice_notes: Mapped[str] = _text()
    # After treatment.
    pain_after: Mapped[int | None] = mapped_column(Integer)
    patient_response: Mapped[str] = _text()
    next_appointment: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handout_given: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Outcome measures: PSFS items [{"activity": str, "score": int}], ODI % and RMDQ totals
    # entered from the clinic's own forms (the questionnaires' text is not embedded).
    psfs: Mapped[list[dict[str, Any]]] = _json_list()
    odi_percent: Mapped[int | None] = mapped_column(Integer)
    rmdq_score: Mapped[int | None] = mapped_column(Integer)
    # Fields filled from the patient's last visit when this one was started and not changed
    # since (shown as "from the last visit"; not part of the signed content).
    carried_fields: Mapped[list[str]] = _json_list()
    # Signing.
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("practitioner.id"))
    # Bumped on every change to the visit row, so a save made from a stale copy (another
    # workstation changed the visit meanwhile) is refused instead of overwriting it.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    content_hash: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # Which layout of the signed content ``content_hash`` covers (visits signed before the
    # layout changed keep theirs, so their signatures still check).
    signature_format: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    patient: Mapped[Patient] = relationship(back_populates="visits")
    practitioner: Mapped[Practitioner] = relationship(
        back_populates="visits", foreign_keys=[practitioner_id]
    )

    # The ORM adds "AND version = <loaded>" to every UPDATE and raises StaleDataError when
    # another transaction got there first (SQLAlchemy, "Configuring a Version Counter").
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it as is)


class MarkKind(StrEnum):
    """What a mark on the body map records."""

    ACUPOINT = "acupoint"
    TRIGGER_POINT = "trigger_point"
    ASHI = "ashi"
    CUPPING = "cupping"


class Mark(Base):
    """One thing marked on a visit's body map, in the body model's units.

    An acupoint mark stores its catalog code and side; a trigger point its muscle and side;
    ashi points and cupping sites only their position. The position is kept for every kind
    so the map can show where the practitioner actually needled.
    """

    __tablename__ = "mark"
    __table_args__ = (
        CheckConstraint(_in("kind", MarkKind), name="kind_known"),
        CheckConstraint("side IN ('L', 'R', 'M')", name="side_known"),
        CheckConstraint("kind != 'acupoint' OR point_code IS NOT NULL", name="acupoint_has_code"),
        CheckConstraint("depth_mm IS NULL OR (depth_mm > 0 AND depth_mm <= 150)", name="depth"),
        CheckConstraint(
            "skin IN ('', 'intact', 'broken', 'infected', 'inflamed', 'scar', 'keloid', "
            "'tattoo', 'varicose')",
            name="skin_known",
        ),
        Index("ix_mark_visit", "visit_id"),
        Index("ix_mark_point_code", "point_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    point_code: Mapped[str | None] = mapped_column(String(20))
    muscle_id: Mapped[str | None] = mapped_column(String(40))
    side: Mapped[str] = mapped_column(String(1))
    view: Mapped[str] = mapped_column(String(30))
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    location_variant: Mapped[str] = mapped_column(String(60), default="")
    technique: Mapped[str] = mapped_column(String(30), default="")
    depth_mm: Mapped[float | None] = mapped_column(Float)
    response: Mapped[str] = mapped_column(String(60), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    # The skin at the site as found before treatment ("" when not noted; see SKIN_STATES).
    skin: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # Cupping sites: type (dry, fire, wet, sliding, flash), cups, minutes, skin response.
    cup_type: Mapped[str] = mapped_column(String(10), default="", server_default="")
    cup_count: Mapped[int | None] = mapped_column(Integer)
    cup_minutes: Mapped[int | None] = mapped_column(Integer)
    skin_response: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Bumped on every change, like the visit's: an edit from a stale copy (two workstations
    # on one mark) is refused instead of silently overwriting the other.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    visit: Mapped[Visit] = relationship()

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Protocol(Base):
    """A named set of marks ("Acute low back pain") that can be applied to a visit."""

    __tablename__ = "protocol"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    # A list of mark specifications (kind, code, muscle, side, view, x, y, technique).
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EAPair(Base):
    """Two marks joined by an electroacupuncture lead, with the stimulation used."""

    __tablename__ = "ea_pair"
    __table_args__ = (
        CheckConstraint("mark_a_id != mark_b_id", name="two_marks"),
        CheckConstraint(
            "frequency_hz IS NULL OR (frequency_hz > 0 AND frequency_hz <= 200)", name="frequency"
        ),
        CheckConstraint(
            "intensity_ma IS NULL OR (intensity_ma >= 0 AND intensity_ma <= 50)", name="intensity"
        ),
        CheckConstraint("minutes IS NULL OR (minutes > 0 AND minutes <= 120)", name="minutes"),
        CheckConstraint(
            "frequency2_hz IS NULL OR (frequency2_hz > 0 AND frequency2_hz <= 200)",
            name="frequency2",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    mark_a_id: Mapped[int] = mapped_column(ForeignKey("mark.id", ondelete="CASCADE"))
    mark_b_id: Mapped[int] = mapped_column(ForeignKey("mark.id", ondelete="CASCADE"))
    waveform: Mapped[str] = mapped_column(String(30), default="", server_default="")
    frequency_hz: Mapped[float | None] = mapped_column(Float)
    intensity_ma: Mapped[float | None] = mapped_column(Float)
    minutes: Mapped[int | None] = mapped_column(Integer)
    device: Mapped[str] = mapped_column(String(120), default="", server_default="")
    # The second frequency of a dense-disperse (alternating) waveform, e.g. 2/100 Hz.
    frequency2_hz: Mapped[float | None] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class AdverseEvent(Base):
    """Something that went wrong during or after treatment, and what was done."""

    __tablename__ = "adverse_event"
    __table_args__ = (
        CheckConstraint("severity IN ('mild', 'significant', 'serious')", name="severity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    severity: Mapped[str] = mapped_column(String(12))
    action: Mapped[str] = mapped_column(Text, default="", server_default="")
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    # What the patient was told (a forgotten needle, a fainting episode ...).
    patient_told: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class NeedleCountResolution(Base):
    """How a difference between needles in and needles out was resolved before signing.

    A needle not accounted for is a safety event (a forgotten needle): either it was found
    and removed, or an adverse event is recorded with what the patient was told.
    """

    __tablename__ = "needle_resolution"
    __table_args__ = (
        CheckConstraint("outcome IN ('found_removed', 'adverse_event')", name="outcome_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), unique=True)
    needles_in: Mapped[int] = mapped_column(Integer)
    needles_out: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    adverse_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("adverse_event.id", ondelete="SET NULL")
    )
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("practitioner.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HandoutIssue(Base):
    """An aftercare handout given to the patient: an event beside the visit, recorded
    whether or not the visit is signed (the signed record itself does not change)."""

    __tablename__ = "handout_issue"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="RESTRICT"), index=True)
    how: Mapped[str] = mapped_column(String(20))  # printed, saved, opened, by hand
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by: Mapped[str] = mapped_column(String(200), default="", server_default="")


class SafetyAcknowledgement(Base):
    """A practitioner's acknowledgement of a safety warning (with the reason for an override)."""

    __tablename__ = "safety_ack"
    __table_args__ = (UniqueConstraint("visit_id", "warning_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"))
    warning_key: Mapped[str] = mapped_column(String(120))
    rule: Mapped[str] = mapped_column(String(60))
    severity: Mapped[str] = mapped_column(String(12))
    message: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("practitioner.id"))
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the decision was carried over from a standing decision made at an earlier
    # visit (the visit it was made at), rather than made again at this one.
    carried_from_visit_id: Mapped[int | None] = mapped_column(
        ForeignKey("visit.id", ondelete="SET NULL")
    )


class Amendment(Base):
    """A correction to a signed visit, kept beside the untouched original."""

    __tablename__ = "amendment"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="RESTRICT"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("practitioner.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    field: Mapped[str] = mapped_column(String(60))
    original: Mapped[str] = mapped_column(Text, default="", server_default="")
    corrected: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)


class ClinicSetting(Base):
    """One clinic-wide setting (letterhead, handout wording), shared by every workstation."""

    __tablename__ = "clinic_setting"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="", server_default="")
