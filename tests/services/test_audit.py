"""The audit log: one entry per action, hash-chained, and tampering found at the right entry."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from charting.bodymap import load_bodymap
from charting.jobs.export import run_export
from charting.models import AuditEvent, utcnow
from charting.models.db import Database
from charting.services import audit
from charting.services.accounts import SignInError, sign_in
from charting.services.audit import AuditError, check_chain, verify_chain
from charting.services.marks import add_marks, delete_marks, move_mark
from charting.services.patients import create_patient
from charting.services.visit_record import amend, sign_visit, update_fields
from charting.services.visits import start_visit
from tests.factories import TEST_PASSWORD, TEST_USERNAME, patient_input, point_spec


def _entries(database: Database, since_seq: int = 0) -> list[AuditEvent]:
    with database.read() as session:
        query = select(AuditEvent).where(AuditEvent.seq > since_seq).order_by(AuditEvent.seq)
        return list(session.scalars(query))


def _last_seq(database: Database) -> int:
    entries = _entries(database)
    return entries[-1].seq if entries else 0


@pytest.fixture
def visit(database: Database, practitioner_id: int) -> tuple[int, int]:
    """A patient with a draft visit: (patient id, visit id)."""
    with database.write() as session:
        patient_id, _ = create_patient(session, patient_input())
        visit_id, _ = start_visit(session, patient_id, practitioner_id)
    return patient_id, visit_id


def _one(database: Database, before: int, action: str, patient_id: int | None) -> AuditEvent:
    new = _entries(database, before)
    assert [e.action for e in new] == [action], [e.action for e in new]
    entry = new[0]
    assert entry.username == TEST_USERNAME and entry.outcome == "ok"
    assert entry.patient_id == patient_id
    assert entry.at.tzinfo is not None and abs(utcnow() - entry.at) < timedelta(minutes=1)
    return entry


def test_each_charting_action_writes_exactly_one_entry(
    database: Database, visit: tuple[int, int], practitioner_id: int
) -> None:
    """Viewing, marking, moving, deleting, editing, signing and amending: one entry each."""
    patient_id, visit_id = visit
    bodymap = load_bodymap()
    steps = []

    def step(action: str, call) -> None:  # type: ignore[no-untyped-def]
        before = _last_seq(database)
        with database.write() as session:
            call(session)
        steps.append(_one(database, before, action, patient_id))

    step("patient.view", lambda s: audit.record_view(s, patient_id))
    step("visit.view", lambda s: audit.record_view(s, patient_id, visit_id))
    ids: list[int] = []
    spec = point_spec("BL23", "L")
    step("mark.add", lambda s: ids.extend(add_marks(s, bodymap, visit_id, [spec])[0]))
    x, y = bodymap.position("BL25", "L", "posterior")  # type: ignore[misc]
    step("mark.update", lambda s: move_mark(s, bodymap, ids[0], x, y))
    step("mark.delete", lambda s: delete_marks(s, ids))
    step("visit.update", lambda s: update_fields(s, visit_id, {"palpation": "Tender L4"}))
    step("visit.signed", lambda s: sign_visit(s, visit_id, practitioner_id))
    fix = ("palpation", "Tender L5", "Level misread")
    step("amendment.add", lambda s: amend(s, visit_id, practitioner_id, *fix))
    assert "BL23 L" in steps[2].detail
    assert steps[5].detail == "palpation"
    assert steps[5].target == f"visit {visit_id}"


def test_sign_in_outcomes_and_exports_are_logged(
    database: Database, visit: tuple[int, int], tmp_path: Path
) -> None:
    """A failed sign-in, a sign-in and an export each leave one entry with their outcome."""
    patient_id, _ = visit
    before = _last_seq(database)
    with pytest.raises(SignInError):
        sign_in(database, TEST_USERNAME, "not my password")
    sign_in(database, TEST_USERNAME, TEST_PASSWORD)
    run_export(database, [patient_id], tmp_path / "out", ["csv"])
    new = _entries(database, before)
    assert [(e.action, e.outcome) for e in new] == [
        ("login.failed", "failed"),
        ("login", "ok"),
        ("export", "ok"),
    ]
    assert new[2].patient_id == patient_id and "csv" in new[2].detail


def test_an_intact_log_verifies(database: Database, visit: tuple[int, int]) -> None:
    """With nothing touched, every entry checks out and the head hash is the newest entry's."""
    with database.read() as session:
        report = verify_chain(session)
    entries = _entries(database)
    assert report.ok and report.checked == len(entries) > 3
    assert report.head_hash == entries[-1].hash


def _raw(database: Database, sql: str) -> None:
    with database.engine.begin() as conn:
        conn.execute(text(sql))


def _verify(database: Database):  # type: ignore[no-untyped-def]
    with database.read() as session:
        return check_chain(session)


def test_an_edited_entry_is_found_at_that_entry(database: Database, visit: tuple[int, int]) -> None:
    """Changing one field of entry 3 directly in the database breaks the chain at entry 3."""
    _raw(database, "UPDATE audit_event SET detail = 'nothing happened' WHERE seq = 3")
    report = _verify(database)
    assert not report.ok and report.first_bad_seq == 3
    assert "entry 3 was changed" in report.problem


def test_a_rehashed_edit_is_found_at_that_entry(database: Database, visit: tuple[int, int]) -> None:
    """An edited entry whose hash was recomputed without the clinic's key is found there."""
    with database.read() as session:
        row = session.scalar(select(AuditEvent).where(AuditEvent.seq == 2))
        assert row is not None
        forged = replace(audit._entry(row), username="mallory")
        digest = audit.entry_hash(row.prev_hash, forged)
    _raw(database, f"UPDATE audit_event SET username = 'mallory', hash = '{digest}' WHERE seq = 2")
    report = _verify(database)
    assert report.first_bad_seq == 2 and "entry 2 was changed" in report.problem


@pytest.mark.parametrize("where", ["middle", "end"])
def test_a_deleted_entry_is_found(database: Database, visit: tuple[int, int], where: str) -> None:
    """Deleting an entry (in the middle or the newest) is reported at the missing entry."""
    last = _last_seq(database)
    gone = 2 if where == "middle" else last
    _raw(database, f"DELETE FROM audit_event WHERE seq = {gone}")
    report = _verify(database)
    assert not report.ok and report.first_bad_seq == gone
    assert "missing" in report.problem


def test_work_goes_on_after_tampering_and_the_damage_stays_visible(
    database: Database, visit: tuple[int, int]
) -> None:
    """A tampered log never stops the clinic; new entries still chain and the gap still shows."""
    patient_id, _ = visit
    last = _last_seq(database)
    _raw(database, f"DELETE FROM audit_event WHERE seq = {last}")
    with database.write() as session:
        audit.record_view(session, patient_id)
    report = _verify(database)
    assert report.first_bad_seq == last


def test_the_orm_refuses_to_change_or_delete_entries(
    database: Database, visit: tuple[int, int]
) -> None:
    """Through Charting's own sessions the log is append-only."""
    with pytest.raises(AuditError, match="append-only"), database.write() as session:
        entry = session.scalar(select(AuditEvent).limit(1))
        assert entry is not None
        entry.detail = "rewritten"
    with pytest.raises(AuditError, match="append-only"), database.write() as session:
        session.delete(session.scalar(select(AuditEvent).limit(1)))
    assert _verify(database).ok


def test_search_filters_by_user_patient_action_and_time(
    database: Database, visit: tuple[int, int]
) -> None:
    """The viewer's filters narrow the log the way an admin expects; newest first."""
    patient_id, _ = visit
    with database.write() as session:
        other, _ = create_patient(session, patient_input(family_name="Okafor"))
        audit.record_view(session, other)
        audit.record_view(session, patient_id)
    with database.read() as session:
        views = audit.search(session, action="patient.view")
        mine = audit.search(session, patient_id=patient_id, action="patient")
        nobody = audit.search(session, username="nobody")
        future = audit.search(session, since=utcnow() + timedelta(hours=1))
        today = audit.search(session, since=utcnow().astimezone(UTC) - timedelta(hours=1))
        families = audit.action_families(session)
    assert [e.patient_id for e in views] == [patient_id, other]
    assert {e.action for e in mine} == {"patient.add", "patient.view"}
    assert nobody == [] and future == []
    assert len(today) == len(_entries(database))
    assert {"patient", "visit", "account"} <= set(families)


@pytest.mark.sqlite_only
def test_command_line_verify_reports_the_broken_entry(
    database: Database, visit: tuple[int, int], database_url: str
) -> None:
    """`charting audit verify` exits 0 on an intact log and 1 naming the entry edited."""
    env = {**os.environ, "CHARTING_USER": TEST_USERNAME, "CHARTING_PASSWORD": TEST_PASSWORD}

    def verify() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "charting", "audit", "verify", "--db", database_url],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )

    intact = verify()
    assert intact.returncode == 0, intact.stderr
    assert "Audit log intact" in intact.stdout
    _raw(database, "UPDATE audit_event SET outcome = 'ok', action = 'noop' WHERE seq = 4")
    broken = verify()
    assert broken.returncode == 1
    assert "audit log broken at entry 4" in broken.stderr
    assert "Traceback" not in broken.stderr
