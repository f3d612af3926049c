"""Consent and its safety warning, needle-lot recall, open drafts and late signing, .ics files."""

from __future__ import annotations

import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from charting.bodymap import load_bodymap
from charting.models import Role
from charting.models.db import Database
from charting.services import appointments, consent, drafts, ical, recall
from charting.services.access import PermissionDeniedError
from charting.services.audit import search
from charting.services.consent import ConsentInput
from charting.services.errors import ValidationError
from charting.services.exports import read_csv_rows
from charting.services.marks import add_marks
from charting.services.settings import ClinicSettings, save_settings
from charting.services.visit_record import EASettings, add_ea_pair, sign_visit, update_fields
from charting.services.visit_safety import visit_warnings
from charting.services.visits import start_visit
from tests.factories import add_account, point_spec

BM = load_bodymap()


def _needled_visit(
    database: Database, pid: int, practitioner_id: int, electro: bool = False
) -> int:
    with database.write() as session:
        vid, _ = start_visit(session, pid, practitioner_id)
        ids, _ = add_marks(session, BM, vid, [point_spec("BL23", "L"), point_spec("BL25", "L")])
        if electro:
            add_ea_pair(session, vid, ids[0], ids[1], EASettings(frequency_hz=2, minutes=20))
    return vid


def _consent_warnings(database: Database, vid: int) -> list[str]:
    with database.read() as session:
        return [
            w.warning.key for w in visit_warnings(session, vid, BM) if w.warning.rule == "consent"
        ]


def _consent(database: Database, pid: int, *treatments: str) -> int:
    data = ConsentInput(
        pid,
        "Low back pain",
        list(treatments),
        [r.key for r in consent.risks_for(treatments)],
    )
    with database.write() as session:
        return consent.record_consent(session, data)[0]


def test_needling_without_consent_warns_until_consent_is_recorded(
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """A needled EA visit warns of missing acupuncture and EA consent; consent to acupuncture
    leaves EA; consent to both clears it; withdrawal brings it back."""
    pid = make_patient()
    vid = _needled_visit(database, pid, practitioner_id, electro=True)
    assert _consent_warnings(database, vid) == ["consent:acupuncture,electroacupuncture"]
    _consent(database, pid, "acupuncture")
    assert _consent_warnings(database, vid) == ["consent:electroacupuncture"]
    both = _consent(database, pid, "acupuncture", "electroacupuncture")
    assert _consent_warnings(database, vid) == []
    with database.write() as session:
        consent.withdraw(session, both, "Does not want the current any more")
    assert _consent_warnings(database, vid) == ["consent:electroacupuncture"]


def test_pregnancy_needs_its_own_consent(
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """A pregnant patient's consent to acupuncture alone leaves the pregnancy consent missing."""
    pid = make_patient(pregnant=True)
    vid = _needled_visit(database, pid, practitioner_id)
    _consent(database, pid, "acupuncture")
    assert _consent_warnings(database, vid) == ["consent:pregnancy"]


def test_a_consent_must_tick_every_risk_of_its_treatments(database: Database, make_patient) -> None:  # type: ignore[no-untyped-def]
    """Consent to cupping without its risks explained is refused."""
    pid = make_patient()
    with database.write() as session, pytest.raises(ValidationError, match="risk"):
        consent.record_consent(session, ConsentInput(pid, "", ["cupping"], ["cup_marks"]))


def test_front_desk_cannot_record_consent(database: Database, make_patient) -> None:  # type: ignore[no-untyped-def]
    """Consent is taken by practitioners."""
    pid = make_patient()
    front = database.acting_as(add_account(database, "desk", Role.FRONT_DESK))
    with pytest.raises(PermissionDeniedError), front.write() as session:
        consent.record_consent(session, ConsentInput(pid, "", ["acupuncture"], ["soreness"]))


def _visit_with_lot(
    database: Database,
    pid: int,
    practitioner_id: int,
    lot: str,
    when: datetime,
    brand: str = "Seirin J",
) -> int:
    with database.write() as session:
        vid, _ = start_visit(session, pid, practitioner_id, when)
        update_fields(
            session,
            vid,
            {
                "needle_lot": lot,
                "needle_brand": brand,
                "needle_gauge": "0.25",
                "needle_length": "40 mm",
            },
        )
    return vid


def test_recall_finds_every_visit_of_a_lot_in_the_range_and_audits_the_search(
    database: Database,
    make_patient,
    practitioner_id: int,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """The lot search returns only that lot's visits in the dates, the CSV has the contact
    details (owner-only, formula guarded) and both search and export are in the audit log."""
    a = make_patient(phone="+1 555 0100", email="a@example.org")
    b = make_patient(family_name="=HYPERLINK(1)", given_name="Bo")
    day = datetime(2026, 11, 10, 15, tzinfo=UTC)
    hit1 = _visit_with_lot(database, a, practitioner_id, "L2291", day)
    hit2 = _visit_with_lot(database, b, practitioner_id, "L2291", day + timedelta(days=5))
    _visit_with_lot(database, a, practitioner_id, "L2292", day + timedelta(days=6))
    _visit_with_lot(database, a, practitioner_id, "L2291", day - timedelta(days=60))
    query = recall.RecallQuery(lot="L2291", since=date(2026, 11, 1))
    out = tmp_path / "recall.csv"
    with database.write() as session:
        rows = recall.find(session, query)
        recall.write_csv(session, rows, out, query)
    assert [r.visit_id for r in rows] == [hit1, hit2]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    raw = read_csv_rows(out, raw=True)
    rows_back = read_csv_rows(out)
    assert rows_back[0]["phone"] == "+1 555 0100" and rows_back[0]["email"] == "a@example.org"
    assert raw[1]["patient_name"].startswith("'=HYPERLINK")
    with database.read() as session:
        actions = [(e.action, e.detail) for e in search(session, action="recall")]
        assert actions == [("recall.search", "lot L2291, from 2026-11-01: 2 visits, 2 patients")]
        assert search(session, action="export.recall")


def test_recall_by_brand_and_size(database: Database, make_patient, practitioner_id: int) -> None:  # type: ignore[no-untyped-def]
    """Brand and size match without regard to case, with or without "mm"."""
    pid = make_patient()
    when = datetime(2026, 11, 10, 15, tzinfo=UTC)
    hit = _visit_with_lot(database, pid, practitioner_id, "A1", when)
    _visit_with_lot(database, pid, practitioner_id, "A2", when, brand="Other")
    with database.write() as session:
        rows = recall.find(
            session, recall.RecallQuery(brand="seirin j", gauge="0.25mm", length="40")
        )
    assert [r.visit_id for r in rows] == [hit]


def test_recall_needs_a_lot_or_brand_and_an_admin(database: Database) -> None:
    """An empty recall is refused; a practitioner without admin rights cannot search."""
    with database.write() as session, pytest.raises(ValidationError):
        recall.find(session, recall.RecallQuery())
    practitioner = database.acting_as(add_account(database, "lee", Role.PRACTITIONER))
    with pytest.raises(PermissionDeniedError), practitioner.write() as session:
        recall.find(session, recall.RecallQuery(lot="L1"))


def test_open_drafts_are_listed_with_their_age_and_late_signing_is_audited(
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """Drafts before today are listed ("2 visits not signed, oldest 4 days"); today's is
    not; signing one records how late it was signed."""
    pid = make_patient()
    now = datetime.now().astimezone()
    with database.write() as session:
        old, _ = start_visit(session, pid, practitioner_id, now - timedelta(days=4))
        start_visit(session, pid, practitioner_id, now - timedelta(days=1))
        start_visit(session, pid, practitioner_id, now)
    with database.read() as session:
        mine = drafts.open_drafts(session, practitioner_id)
    assert drafts.summary(mine) == "2 visits not signed, oldest 4 days"
    with database.write() as session:
        sign_visit(session, old, practitioner_id)
    with database.read() as session:
        (entry,) = search(session, action="visit.signed")
        assert len(drafts.open_drafts(session, practitioner_id)) == 1
    assert entry.detail.endswith("signed 4 days after the visit")


def test_a_practitioner_sees_only_their_own_drafts(database: Database) -> None:
    """The clinic's list is for admins."""
    lee = database.acting_as(add_account(database, "lee", Role.PRACTITIONER))
    with pytest.raises(PermissionDeniedError), lee.read() as session:
        drafts.open_drafts(session, None)


def _unfold(text: str) -> dict[str, str]:
    """Parse an iCalendar text back: unfold lines (RFC 5545 §3.1), split name and value."""
    assert "\n" not in text.replace("\r\n", "")
    lines: list[str] = []
    for line in text.split("\r\n")[:-1]:
        assert len(line.encode("utf-8")) <= 75
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return dict(line.split(":", 1) for line in lines if not line.startswith(("BEGIN", "END")))


def test_an_appointment_saves_as_an_icalendar_file_without_clinical_details(
    database: Database,
    make_patient,
    practitioner_id: int,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """The .ics has UTC start and end, the clinic's address as LOCATION (folded and
    escaped), a stable UID, and no reason for the visit."""
    pid = make_patient()
    start = datetime(2026, 12, 8, 15, 30, tzinfo=UTC)
    address = "Suite 4, Kløverstræde 12; Building Ø\n" + "Long Street Name " * 5
    with database.write() as session:
        save_settings(
            session, ClinicSettings(clinic_name="Harbour Acupuncture", clinic_address=address)
        )
        aid, _ = appointments.book(
            session,
            appointments.AppointmentInput(pid, practitioner_id, start, 45, "Sciatica flare"),
        )
    out = tmp_path / "appointment.ics"
    with database.write() as session:
        ical.save_ics(session, aid, out)
    raw = out.read_bytes().decode("utf-8")
    assert raw.endswith("\r\n") and "\r\n " in raw  # folded
    fields = _unfold(raw)
    assert fields["VERSION"] == "2.0"
    assert fields["DTSTART"] == "20261208T153000Z" and fields["DTEND"] == "20261208T161500Z"
    assert fields["UID"].endswith("@charting") and len(fields["DTSTAMP"]) == 16
    assert fields["SUMMARY"] == "Appointment at Harbour Acupuncture"
    assert fields["LOCATION"] == (
        "Suite 4\\, Kløverstræde 12\\; Building Ø\\, " + ("Long Street Name " * 5).strip()
    )
    assert "Sciatica" not in raw
    with database.write() as session:
        assert ical.appointment_ics(session, aid).split("DTSTAMP")[0] == raw.split("DTSTAMP")[0]
