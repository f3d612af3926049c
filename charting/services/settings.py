"""Clinic settings: the letterhead and the standard wording of the aftercare handout.

The default handout wording is written here in plain words for a reading age of about
11-12, from the aftercare facts in domain.md §5.1-5.4 (sources NHS-ACU, YORK-PT, AFTER-OH,
AFTER-HB, BACC-BR, CUP-PULSE, NCCIH-CUP, PTX, NHS-BACK). It makes no claims about what
treatment will achieve. Each paragraph can be changed by the clinic in the settings.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from charting.models import ClinicSetting
from charting.services.changes import Changes
from charting.services.errors import ValidationError
from charting.services.validation import check_email, check_phone, check_text

#: ``clinic_setting`` key set in a demo clinic's database (see ``services/demo.py``).
DEMO_SETTING = "demo_clinic"

DEFAULT_EXPECT = (
    "You may feel relaxed or tired for the rest of the day.\n"
    "The places where the needles went in may feel a little sore. You may see a small bruise "
    "or a tiny drop of blood. This is normal. It usually goes within a day or two. A bruise "
    "can take a week or more to fade.\n"
    "Sometimes your usual pain feels a bit worse for a day before it settles."
)
DEFAULT_DO = (
    "Take it easy for the rest of today. Avoid hard exercise.\n"
    "Drink some water and eat normally. Avoid alcohol today.\n"
    "Do not drive if you feel sleepy or light-headed.\n"
    "Keep taking your medicines as usual. Do not change any medicine without asking your "
    "doctor.\n"
    "Tell us next time about any bruise, soreness or other reaction."
)
DEFAULT_CUPPING = (
    "Round red or purple marks where the cups were are normal. They are not painful. They "
    "usually fade within a few days to two weeks.\n"
    "Keep the skin clean. Do not scratch or pick it. Avoid very hot baths, saunas and strong "
    "sun on the marks for a day.\n"
    "Call us if the skin blisters or breaks, or the marks do not fade."
)
DEFAULT_CALL = (
    "Call the clinic or your doctor if:\n"
    "- a needle or cup site becomes red, hot, swollen or weeping, or you get a fever\n"
    "- a bruise is large or keeps growing (especially if you take blood-thinning medicine)\n"
    "- numbness, weakness or shooting pain does not go away\n"
    "- you feel faint or unwell and it does not settle"
)
DEFAULT_EMERGENCY = (
    "Call emergency services (911 in the US, 999 in the UK) straight away if:\n"
    "- you become short of breath or have chest pain, even hours or days after treatment\n"
    "- you have numbness around your bottom or genitals, or tingling or weakness in both legs\n"
    "- you cannot pass urine, or lose control of your bladder or bowels"
)


@dataclass(frozen=True)
class ClinicSettings:
    """The clinic's letterhead and its handout wording."""

    clinic_name: str = "Your clinic"
    clinic_address: str = ""
    clinic_phone: str = ""
    clinic_email: str = ""
    clinic_website: str = ""
    # The clinic's US tax ID (EIN) for superbills; empty where not used.
    clinic_tax_id: str = ""
    logo_path: str = ""
    handout_expect: str = DEFAULT_EXPECT
    handout_do: str = DEFAULT_DO
    handout_cupping: str = DEFAULT_CUPPING
    handout_call: str = DEFAULT_CALL
    handout_emergency: str = DEFAULT_EMERGENCY
    #: A demo clinic (fictional records): printouts say so. Read from the database's demo
    #: mark, never saved from the settings form.
    demo: bool = False

    @property
    def contact_line(self) -> str:
        """Phone, e-mail and website on one line."""
        return "  \u00b7  ".join(
            p for p in (self.clinic_phone, self.clinic_email, self.clinic_website) if p
        )


#: The settings a person edits (text); ``demo`` is not one of them.
TEXT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ClinicSettings) if f.name != "demo")


def load_settings(session: Session) -> ClinicSettings:
    """The clinic settings (defaults for anything never set)."""
    stored = dict(session.execute(select(ClinicSetting.key, ClinicSetting.value)).all())
    values: dict[str, Any] = {k: v for k, v in stored.items() if k in TEXT_FIELDS}
    return replace(ClinicSettings(), **values, demo=DEMO_SETTING in stored)


def validate_settings(settings: ClinicSettings) -> dict[str, str]:
    """Check the settings form; return ``{field: message}`` for every problem."""
    checks = {
        "clinic_name": check_text(settings.clinic_name, "Clinic name", 120)
        or (None if settings.clinic_name.strip() else "The clinic name is required."),
        "clinic_address": check_text(settings.clinic_address, "Address", 300),
        "clinic_phone": check_phone(settings.clinic_phone),
        "clinic_email": check_email(settings.clinic_email),
        "clinic_website": check_text(settings.clinic_website, "Website", 200),
        "logo_path": check_text(settings.logo_path, "Logo", 500),
        "clinic_tax_id": check_text(settings.clinic_tax_id, "Tax ID", 20),
    }
    for f in fields(ClinicSettings):
        if f.name.startswith("handout_"):
            checks[f.name] = check_text(getattr(settings, f.name), "Handout text", 4_000)
    return {k: v for k, v in checks.items() if v}


def save_settings(session: Session, settings: ClinicSettings) -> Changes:
    """Store the clinic settings.

    Raises:
        ValidationError: a value is unusable; nothing is stored.
    """
    errors = validate_settings(settings)
    if errors:
        raise ValidationError(errors)
    for name in TEXT_FIELDS:
        row = session.get(ClinicSetting, name)
        value = getattr(settings, name).strip()
        if row is None:
            session.add(ClinicSetting(key=name, value=value))
        else:
            row.value = value
    return Changes()


@dataclass(frozen=True)
class SecuritySettings:
    """How soon an idle screen locks, and how many automatic backups are kept."""

    idle_lock_minutes: int = 10
    backups_kept: int = 14


IDLE_LOCK_RANGE = (1, 240)
BACKUPS_KEPT_RANGE = (1, 365)


def load_security(session: Session) -> SecuritySettings:
    """The lock and backup settings (defaults for anything never set or unreadable)."""
    stored = dict(session.execute(select(ClinicSetting.key, ClinicSetting.value)).all())
    values: dict[str, int] = {}
    for f in fields(SecuritySettings):
        text = stored.get(f.name, "")
        if text.isdigit():
            values[f.name] = int(text)
    return replace(SecuritySettings(), **values)


def validate_security(settings: SecuritySettings) -> dict[str, str]:
    """Check the lock and backup settings; return ``{field: message}`` for every problem."""
    errors: dict[str, str] = {}
    low, high = IDLE_LOCK_RANGE
    if not low <= settings.idle_lock_minutes <= high:
        errors["idle_lock_minutes"] = f"Lock after {low} to {high} minutes."
    low, high = BACKUPS_KEPT_RANGE
    if not low <= settings.backups_kept <= high:
        errors["backups_kept"] = f"Keep {low} to {high} backups."
    return errors


def save_security(session: Session, settings: SecuritySettings) -> Changes:
    """Store the lock and backup settings (clinic admins only: checked when written).

    Raises:
        ValidationError: a value is out of range; nothing is stored.
    """
    errors = validate_security(settings)
    if errors:
        raise ValidationError(errors)
    for f in fields(SecuritySettings):
        row = session.get(ClinicSetting, f.name)
        value = str(getattr(settings, f.name))
        if row is None:
            session.add(ClinicSetting(key=f.name, value=value))
        else:
            row.value = value
    return Changes()
