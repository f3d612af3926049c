"""Field validators shared by dialogs, the command line and imports."""

from __future__ import annotations

import calendar
import re
from datetime import date

# Oldest plausible living patient; anything older is a typing mistake.
MAX_AGE_YEARS = 120

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
_PHONE_CHARS = re.compile(r"^\+?[0-9 ()\-./]+(\s*(x|ext\.?)\s*[0-9]{1,6})?$", re.IGNORECASE)
# Control characters, and lone surrogates (not characters at all: they cannot be stored as
# UTF-8, and arrive only from broken input such as a bad import).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def check_name(value: str, label: str, *, required: bool = True, max_len: int = 120) -> str | None:
    """Return a message if ``value`` is not an acceptable name, else None."""
    value = value.strip()
    if not value:
        return f"{label} is required." if required else None
    if len(value) > max_len:
        return f"{label} is too long (at most {max_len} characters)."
    if _CONTROL.search(value):
        return f"{label} contains invisible control characters."
    if not any(ch.isalpha() for ch in value):
        return f"{label} must contain at least one letter."
    return None


def without_control(value: str) -> str:
    """``value`` with control characters and lone surrogates replaced by spaces (for text
    that is only looked up, never stored, such as a search)."""
    return _CONTROL.sub(" ", value)


def check_text(value: str, label: str, max_len: int) -> str | None:
    """Return a message if free text is too long or holds control characters."""
    if len(value) > max_len:
        return f"{label} is too long (at most {max_len:,} characters)."
    if _CONTROL.search(value):
        return f"{label} contains invisible control characters."
    return None


def parse_date(text: str) -> date | None:
    """Parse an ISO date (YYYY-MM-DD); return None if it is not one."""
    text = text.strip()
    if not re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text):
        return None
    try:
        year, month, day = (int(p) for p in text.split("-"))
        return date(year, month, day)
    except ValueError:
        return None


_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def date_problem(text: str) -> str | None:
    """Why ``text`` is not a date, telling a badly written date ("14/03/1975") from an
    impossible one ("1986-02-30"); None when it is a date (or empty)."""
    text = text.strip()
    if not text:
        return None
    if not re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text):
        return "Write the date as YYYY-MM-DD, e.g. 1975-03-14."
    year, month, day = (int(p) for p in text.split("-"))
    if not 1 <= month <= 12:
        return f"{text} is not a date: there is no month {month} (months are 1 to 12)."
    if year < 1:
        return f"{text} is not a date: there is no year {year}."
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        return f"{text} is not a date: {_MONTHS[month - 1]} {year} has {days} days."
    return None


def check_birth_date(value: date | None, today: date) -> str | None:
    """Return a message if a date of birth is missing, in the future or implausibly old."""
    if value is None:
        return "Date of birth is required (YYYY-MM-DD)."
    if value > today:
        return "Date of birth cannot be in the future."
    if today.year - value.year > MAX_AGE_YEARS:
        return f"Date of birth is more than {MAX_AGE_YEARS} years ago; please check it."
    return None


def check_phone(value: str, label: str = "Phone") -> str | None:
    """Return a message unless ``value`` is empty or a plausible phone number."""
    value = value.strip()
    if not value:
        return None
    digits = sum(ch.isdigit() for ch in value)
    if not _PHONE_CHARS.match(value) or not 6 <= digits <= 18:
        return f"{label} does not look like a phone number (digits, spaces, + - ( ) only)."
    return None


def check_email(value: str) -> str | None:
    """Return a message unless ``value`` is empty or a plausible e-mail address."""
    value = value.strip()
    if not value:
        return None
    if len(value) > 254 or not _EMAIL.match(value):
        return "E-mail does not look like an address (name@example.org)."
    return None


def npi_valid(npi: str) -> bool:
    """Whether ``npi`` is a well-formed National Provider Identifier.

    Ten digits whose last is a Luhn check digit computed over the nine before it with the
    prefix 80840 (CMS, "Requirements for the NPI check digit", ISO 7812).
    """
    if len(npi) != 10 or not npi.isdigit():
        return False
    digits = [int(d) for d in "80840" + npi]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def check_npi(npi: str) -> str | None:
    """A message when a (non-empty) NPI is malformed."""
    npi = npi.strip()
    if not npi:
        return None
    if len(npi) != 10 or not npi.isdigit():
        return "An NPI has 10 digits."
    if not npi_valid(npi):
        return "This NPI's check digit is wrong; check for a typing error."
    return None
