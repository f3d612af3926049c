"""Billing units under CPT's acupuncture rules, NPI checks, confirmation and the billing CSV."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from charting.models.db import Database
from charting.services import billing
from charting.services.billing import BillingInput, BillingLine, suggest
from charting.services.errors import ValidationError
from charting.services.exports import read_csv_rows
from charting.services.visit_record import update_fields
from charting.services.visits import start_visit

# (one-on-one minutes, electrical stimulation, re-insertions) -> expected lines.
BOUNDARIES = [
    (7, False, 0, []),
    (7, True, 3, []),
    (8, False, 0, [("97810", 1)]),
    (8, True, 0, [("97813", 1)]),
    (22, False, 1, [("97810", 1)]),
    (22, True, 1, [("97813", 1)]),
    (23, False, 0, [("97810", 1)]),  # a second unit of time, but no re-insertion
    (23, False, 1, [("97810", 1), ("97811", 1)]),
    (23, True, 1, [("97813", 1), ("97814", 1)]),
    (30, False, 0, [("97810", 1)]),  # 30 minutes of retention alone: one initial unit
    (30, False, 1, [("97810", 1), ("97811", 1)]),
    (30, True, 0, [("97813", 1)]),
    (30, True, 1, [("97813", 1), ("97814", 1)]),
    (38, False, 1, [("97810", 1), ("97811", 1)]),  # three units of time, one re-insertion
    (38, False, 2, [("97810", 1), ("97811", 2)]),
    (38, True, 2, [("97813", 1), ("97814", 2)]),
    (37, True, 2, [("97813", 1), ("97814", 1)]),  # 37 = 15 + 15 + 7: the third is not attained
]


@pytest.mark.parametrize(("minutes", "electro", "reinsertions", "expected"), BOUNDARIES)
def test_units_follow_cpt_at_the_boundaries(
    minutes: int, electro: bool, reinsertions: int, expected: list[tuple[str, int]]
) -> None:
    """Units count from 8 minutes of contact, each further unit needs a re-insertion, and
    electrical stimulation switches to 97813/97814."""
    lines = suggest(minutes, electro, reinsertions).lines
    assert [(line.code, line.units) for line in lines] == expected


def test_no_suggestion_without_contact_minutes() -> None:
    """Without one-on-one minutes there is nothing to suggest, and the reason says so."""
    result = suggest(None, True, 2)
    assert result.lines == () and "one-on-one" in result.reasons[0]


@pytest.mark.parametrize(
    ("npi", "ok"),
    [
        ("1234567893", True),
        ("1245319599", True),
        ("1234567890", False),
        ("123456789", False),
        ("12345678a3", False),
    ],
)
def test_npi_check_digit(npi: str, ok: bool) -> None:
    """NPIs are 10 digits with a Luhn check digit over the 80840 prefix."""
    assert billing.npi_valid(npi) is ok


def test_confirmed_lines_are_checked(database: Database) -> None:
    """Two initial codes, an unknown code or 0 units are refused with a message."""
    for lines in (
        [BillingLine("97810", 1), BillingLine("97813", 1)],
        [BillingLine("99213", 1)],
        [BillingLine("97810", 1), BillingLine("97811", 0)],
        [BillingLine("97811", 2)],
    ):
        assert billing.validate_lines(lines), lines
    assert billing.validate_lines([BillingLine("97813", 1), BillingLine("97811", 1)]) == {}


def test_times_after_confirmation_clear_it_and_the_csv_lists_confirmed_codes(
    database: Database,
    make_patient,
    practitioner_id: int,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """Confirmed codes reach the billing CSV (owner-only); changing the times afterwards
    clears the confirmation."""
    pid = make_patient()
    start = datetime.now(UTC) - timedelta(hours=2)
    with database.write() as session:
        vid, _ = start_visit(session, pid, practitioner_id, start)
        update_fields(session, vid, {"icd10_codes": ["M54.50", "M54.41"]})
    times = BillingInput(
        needles_in_at=start + timedelta(minutes=10),
        needles_out_at=start + timedelta(minutes=40),
        contact_minutes=23,
        reinsertions=1,
    )
    with database.write() as session:
        billing.save_billing(session, vid, times)
    with database.read() as session:
        state = billing.billing_state(session, vid)
    assert [(x.code, x.units) for x in state.suggestion.lines] == [("97810", 1), ("97811", 1)]
    times.lines = list(state.suggestion.lines)
    with database.write() as session:
        billing.save_billing(session, vid, times, confirm=True)
    out = tmp_path / "billing.csv"
    today = datetime.now().astimezone().date()
    with database.write() as session:
        assert billing.export_billing_csv(session, today - timedelta(days=1), today, out) == 2
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = read_csv_rows(out)
    assert [(r["cpt_code"], r["units"], r["icd10_codes"]) for r in rows] == [
        ("97810", "1", "M54.50; M54.41"),
        ("97811", "1", "M54.50; M54.41"),
    ]
    times.contact_minutes = 30
    with database.write() as session:
        billing.save_billing(session, vid, times)
    with database.read() as session:
        assert billing.billing_state(session, vid).confirmed_at is None
        with pytest.raises(ValidationError, match="Confirm the billing codes"):
            billing.superbill(session, vid)


def test_bad_times_are_refused(database: Database, make_patient, practitioner_id: int) -> None:  # type: ignore[no-untyped-def]
    """Needles out before they went in, or EA on without off, is refused."""
    pid = make_patient()
    now = datetime.now(UTC)
    with database.write() as session:
        vid, _ = start_visit(session, pid, practitioner_id)
    with database.write() as session, pytest.raises(ValidationError) as caught:
        billing.save_billing(
            session, vid, BillingInput(needles_in_at=now, needles_out_at=now, ea_on_at=now)
        )
    assert set(caught.value.errors) == {"needles_out_at", "ea_off_at"}
