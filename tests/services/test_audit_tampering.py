"""Someone who can write the database file but does not hold the clinic's audit key cannot
rewrite or cut back the audit log without `audit verify` finding it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select, text

from charting.models import AuditEvent
from charting.models.db import Database
from charting.services import audit, audit_keys
from charting.services.audit import check_chain, entry_hash
from charting.services.patients import create_patient
from tests.factories import patient_input

Tamper = Callable[[Database], None]


@pytest.fixture
def log(database: Database) -> Database:
    """A log of a dozen entries (the first admin, patients, views)."""
    with database.write() as session:
        for name in ("Okafor", "Silva", "Kowalski"):
            pid, _ = create_patient(session, patient_input(family_name=name))
            audit.record_view(session, pid)
    return database


def _sql(database: Database, *statements: str) -> None:
    with database.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def _rows(database: Database) -> list[AuditEvent]:
    with database.read() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def _rehash_from(database: Database, seq: int, edit: str = "") -> None:
    """Edit entry ``seq`` (SQL ``edit`` on it) and recompute every hash after it, as someone
    without the key can: with plain SHA-256."""
    if edit:
        _sql(database, f"UPDATE audit_event SET {edit} WHERE seq = {seq}")
    rows = _rows(database)
    prev = next((r.hash for r in rows if r.seq == seq - 1), audit.GENESIS)
    for row in rows:
        if row.seq < seq:
            continue
        digest = entry_hash(prev, audit._entry(row))
        _sql(
            database,
            f"UPDATE audit_event SET prev_hash = '{prev}', hash = '{digest}' WHERE seq = {row.seq}",
        )
        prev = digest


def _cut_back(database: Database, keep: int) -> None:
    _sql(
        database,
        f"DELETE FROM audit_event WHERE seq > {keep}",
        f"UPDATE counter SET value = {keep} WHERE name = 'audit'",
    )


def _newest(database: Database) -> int:
    return _rows(database)[-1].seq


KINDS: dict[str, Tamper] = {
    "edit a field": lambda d: _sql(d, "UPDATE audit_event SET detail = 'x' WHERE seq = 3"),
    "edit the time": lambda d: _sql(
        d, "UPDATE audit_event SET at = '2020-01-01 00:00:00' WHERE seq = 3"
    ),
    "edit and re-hash that entry": lambda d: _rehash_from(d, 3, "username = 'mallory'"),
    "edit and re-hash the chain after it": lambda d: _rehash_from(d, 2, "action = 'noop'"),
    "edit the link to the previous entry": lambda d: _sql(
        d, "UPDATE audit_event SET prev_hash = hash WHERE seq = 4"
    ),
    "delete an entry in the middle": lambda d: _sql(d, "DELETE FROM audit_event WHERE seq = 3"),
    "delete the newest entry": lambda d: _sql(
        d, f"DELETE FROM audit_event WHERE seq = {_newest(d)}"
    ),
    "delete the newest entries and fix the counter": lambda d: _cut_back(d, _newest(d) - 3),
    "delete the newest entries, fix the counter, re-hash": lambda d: (
        _cut_back(d, _newest(d) - 2),
        _rehash_from(d, 1),
    ),
    "wipe the whole log": lambda d: _cut_back(d, 0),
    "swap two entries": lambda d: _sql(
        d,
        "UPDATE audit_event SET seq = -1 WHERE seq = 3",
        "UPDATE audit_event SET seq = 3 WHERE seq = 4",
        "UPDATE audit_event SET seq = 4 WHERE seq = -1",
    ),
    "append a forged entry": lambda d: (
        _sql(
            d,
            "INSERT INTO audit_event (seq, at, user_id, username, action, patient_id, target, "
            "outcome, detail, prev_hash, hash) SELECT seq + 1, at, user_id, 'mallory', "
            "'login', NULL, '', 'ok', '', hash, hash FROM audit_event "
            f"WHERE seq = {_newest(d)}",
            "UPDATE counter SET value = value + 1 WHERE name = 'audit'",
        ),
        _rehash_from(d, _newest(d)),
    ),
    "remove the clinic id (to pass the log off as unkeyed)": lambda d: (
        _sql(d, "DELETE FROM clinic_setting WHERE key = 'audit_clinic_id'"),
        _rehash_from(d, 1),
    ),
}


def test_an_untouched_log_checks_out_against_the_checkpoint(log: Database) -> None:
    """The intact log verifies, and this computer's checkpoint saw its newest entry."""
    with log.read() as session:
        report = check_chain(session)
        cid = audit_keys.clinic_id(session)
    assert report.ok, report.problem
    assert cid is not None
    saved = audit_keys.read_anchor(audit_keys.checkpoint_path(cid))
    assert saved is not None and saved.seq == report.checked and saved.hash == report.head_hash


@pytest.mark.parametrize("kind", list(KINDS))
def test_tampering_without_the_key_is_found(log: Database, kind: str) -> None:
    """Each kind of tampering by someone who can write the database but has no key is found
    (a re-hash without the key fails; a cut-back log no longer reaches the checkpoint)."""
    KINDS[kind](log)
    with log.read() as session:
        report = check_chain(session)
    assert not report.ok, kind
    assert report.problem


def test_the_key_and_anchors_live_outside_the_database_owner_only(log: Database) -> None:
    """The key file and the checkpoint are private files in the data folder."""
    with log.read() as session:
        cid = audit_keys.clinic_id(session)
    assert cid is not None
    key_file = audit_keys.key_dir() / f"{cid}.key"
    anchor_file = audit_keys.checkpoint_path(cid)
    for path in (key_file, anchor_file):
        assert path.stat().st_mode & 0o077 == 0, path
    assert len(bytes.fromhex(json.loads(key_file.read_text())["secret"])) == 32


def test_an_anchor_kept_elsewhere_catches_a_rollback_to_an_older_copy(
    log: Database, tmp_path: Path
) -> None:
    """An anchor saved with an export (here: a file) still catches a log put back to an
    older state after this computer's checkpoint was deleted too."""
    with log.read() as session:
        head = audit.anchor(session)
    assert head is not None
    kept = audit_keys.write_anchor_file(tmp_path / "audit-anchor.json", head)
    audit_keys.checkpoint_path(head.clinic_id).unlink()
    _cut_back(log, head.seq - 4)
    with log.read() as session:
        assert check_chain(session).ok  # nothing on this computer remembers any more
        anchor = audit_keys.read_anchor(kept)
        assert anchor is not None
        report = check_chain(session, [anchor])
    assert not report.ok and "cut back or wiped" in report.problem


def test_without_the_key_the_log_cannot_be_checked_or_written(
    log: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """On a computer without the clinic's key, verify says the key is missing (and where it
    was looked for) instead of passing the log, and nothing is logged with a wrong key."""
    monkeypatch.setenv(audit_keys.KEY_DIR_ENV, str(tmp_path / "elsewhere"))
    audit_keys.forget_cached_keys()
    try:
        with log.read() as session:
            report = check_chain(session)
        assert not report.ok and "audit key is not on this computer" in report.problem
        with pytest.raises(audit_keys.AuditKeyError), log.write() as session:
            create_patient(session, patient_input(family_name="Nowak"))
    finally:
        audit_keys.forget_cached_keys()
