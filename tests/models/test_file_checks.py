"""Start-up may skip waiting for the file check only when the file is as Charting left it."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from charting.config import sqlite_url
from charting.models.db import (
    CheckInterruptedError,
    Database,
    DatabaseFileError,
    IntegrityCheck,
)
from charting.models.file_checks import MAX_AGE, FileCheckRecords
from charting.models.migrate import _BackgroundQuickCheck, open_database
from charting.services.access import Actor
from charting.services.patients import create_patient
from tests.factories import patient_input

pytestmark = pytest.mark.sqlite_only


def _start(path: Path, records: FileCheckRecords) -> Database:
    opened = open_database(sqlite_url(path), check_in_background=True, records=records)
    return opened.database.acting_as(Actor.system("test"))


def _session(path: Path, records: FileCheckRecords, wait_for_check: bool = True) -> Database:
    """One app session: start, add a patient, close cleanly."""
    database = _start(path, records)
    with database.write() as session:
        create_patient(session, patient_input())
    if wait_for_check:
        assert database.integrity_check is not None
        assert database.integrity_check.verdict(timeout=60) is None
    database.close(records)
    return database


@pytest.fixture
def clinic(tmp_path: Path) -> tuple[Path, FileCheckRecords]:
    path = tmp_path / "clinic.sqlite3"
    open_database(sqlite_url(path)).database.dispose()
    return path, FileCheckRecords(tmp_path / "data" / "file-checks.json")


def test_a_file_closed_cleanly_after_its_check_is_trusted_at_the_next_start(
    clinic: tuple[Path, FileCheckRecords],
) -> None:
    """The first start waits for the check; the next one may write at once, and its own
    check still runs and passes; the record follows the file through each clean close."""
    path, records = clinic
    first = _start(path, records)
    assert first.integrity_check is not None
    assert first.integrity_check.trusted_since is None
    first.integrity_check.verdict(timeout=60)
    first.close(records)
    assert not Path(f"{path}-wal").exists()

    second = _start(path, records)
    check = second.integrity_check
    assert check is not None and check.trusted_since is not None
    with second.write() as session:
        create_patient(session, patient_input())
    assert check.verdict(timeout=60) is None
    second.close(records)
    assert records.trusted_since(path) is not None


def test_a_trusted_start_writes_without_waiting_for_the_check() -> None:
    """Writes on an untrusted start wait for the verdict; on a trusted one they do not."""
    gate = threading.Event()
    waiting = IntegrityCheck("x.sqlite3", lambda: (gate.wait(30), None)[1])
    trusted = IntegrityCheck(
        "x.sqlite3", lambda: (gate.wait(30), None)[1], trusted_since=datetime.now(UTC)
    )
    trusted.require_sound()  # returns at once
    done = threading.Event()
    threading.Thread(target=lambda: (waiting.require_sound(), done.set())).start()
    assert not done.wait(0.3)
    gate.set()
    assert done.wait(10)


@pytest.mark.parametrize(
    "change",
    ["row written by another program", "file replaced by a copy", "write-ahead log left"],
)
def test_any_change_since_the_clean_close_means_waiting_for_the_check(
    clinic: tuple[Path, FileCheckRecords], change: str
) -> None:
    """Another program's write, a copied-over file or an unfolded write-ahead log (a crash,
    a second Charting still open) each make the next start wait for the check."""
    path, records = clinic
    _session(path, records)
    assert records.trusted_since(path) is not None
    other = None
    if change == "row written by another program":
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE patient SET given_name = 'Changed'")
        conn.close()
    elif change == "file replaced by a copy":
        copy = path.with_name("copy.sqlite3")
        copy.write_bytes(path.read_bytes())
        os.replace(copy, path)
    else:
        other = sqlite3.connect(path)
        other.execute("UPDATE patient SET given_name = 'Changed'")
        other.commit()
    assert records.trusted_since(path) is None
    database = _start(path, records)
    assert database.integrity_check is not None
    assert database.integrity_check.trusted_since is None
    database.close(records)
    if other is not None:
        other.close()


def test_damage_the_metadata_hides_is_still_found_and_stops_writing(
    clinic: tuple[Path, FileCheckRecords],
) -> None:
    """A failing disk can change pages without touching size or times: the trusted start
    still checks in the background, and once the verdict is in every write is refused."""
    path, records = clinic
    database = _start(path, records)
    with database.write() as session:
        for _ in range(300):
            create_patient(session, patient_input())
    database.integrity_check.verdict(timeout=60)  # type: ignore[union-attr]
    database.close(records)
    state = path.stat()
    data = bytearray(path.read_bytes())
    for offset in range(len(data) - 4 * 4096, len(data), 5):
        data[offset] = 0xA5
    with path.open("r+b") as handle:  # in place: same inode and size
        handle.write(bytes(data))
    os.utime(path, ns=(state.st_atime_ns, state.st_mtime_ns))
    assert records.trusted_since(path) is not None

    damaged = _start(path, records)
    check = damaged.integrity_check
    assert check is not None and check.trusted_since is not None
    assert "damaged" in (check.verdict(timeout=60) or "")
    with pytest.raises(DatabaseFileError, match="damaged"), damaged.write() as session:
        create_patient(session, patient_input())
    damaged.close(records)
    assert records.trusted_since(path) is None


def test_a_passed_check_is_relied_on_for_a_week_only(
    clinic: tuple[Path, FileCheckRecords],
) -> None:
    """Closing before the check finishes carries the earlier pass forward, not past
    MAX_AGE; an untrusted start that closes early records nothing."""
    path, records = clinic
    _session(path, records)
    checked = records.trusted_since(path)
    assert checked is not None
    assert records.trusted_since(path, checked + MAX_AGE) == checked
    assert records.trusted_since(path, checked + MAX_AGE + timedelta(seconds=1)) is None

    # A trusted start closed while its check runs keeps the earlier date.
    database = _start(path, records)
    trusted = database.integrity_check
    assert trusted is not None and trusted.trusted_since == checked
    trusted.verdict(timeout=60)
    gate = threading.Event()

    def still_running() -> str | None:
        gate.wait(30)
        raise CheckInterruptedError

    database.integrity_check = IntegrityCheck(str(path), still_running, checked, gate.set)
    database.close(records)
    assert records.trusted_since(path) == checked


def test_closing_interrupts_the_file_check(clinic: tuple[Path, FileCheckRecords]) -> None:
    """Interrupting the background check, before or during its run, gives no verdict
    rather than "damaged"."""
    path, _ = clinic
    quick = _BackgroundQuickCheck(path, shared=False)
    quick.interrupt()
    with pytest.raises(CheckInterruptedError):
        quick.run()


def test_an_untrusted_start_closed_before_its_check_finishes_records_nothing() -> None:
    """No passed check this session and none trusted: the next start waits again."""
    gate = threading.Event()

    def run() -> str | None:
        gate.wait(30)
        raise CheckInterruptedError

    check = IntegrityCheck("x", run, interrupt=gate.set)
    check.stop()
    assert check.finished and check.sound_as_of() is None
    assert check.verdict(timeout=0) is None  # stopped is not "damaged"


def test_damage_found_just_as_the_check_is_stopped_is_not_recorded_as_sound() -> None:
    """A verdict that arrives as Charting closes still counts: a trusted file found
    damaged then loses its record."""
    gate = threading.Event()
    check = IntegrityCheck(
        "x",
        lambda: (gate.wait(30), "the file is damaged (page 9)")[1],
        trusted_since=datetime.now(UTC),
        interrupt=gate.set,
    )
    check.stop()
    assert check.problem == "the file is damaged (page 9)"
    assert check.sound_as_of() is None


def test_unreadable_records_are_ignored_and_rewritten(
    clinic: tuple[Path, FileCheckRecords],
) -> None:
    """A record file that is not JSON (or not ours) means waiting for the check, not a
    failure; the next clean close writes a good one."""
    path, records = clinic
    records.path.parent.mkdir(parents=True, exist_ok=True)
    for junk in ("{not json", "[1, 2]", json.dumps({str(path.resolve()): {"size": "x"}})):
        records.path.write_text(junk)
        assert records.trusted_since(path) is None
        database = _start(path, records)
        assert database.integrity_check is not None
        assert database.integrity_check.trusted_since is None
        database.integrity_check.verdict(timeout=60)
        database.close(records)
        assert records.trusted_since(path) is not None
