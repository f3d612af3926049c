"""Two Charting processes writing one SQLite file at once: both finish, nothing is lost."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from charting.models.db import Database
from charting.services.patients import search_patient_ids
from charting.services.visits import start_visit

pytestmark = pytest.mark.sqlite_only

ROOT = Path(__file__).resolve().parents[2]
COUNT = 300  # patients, and as many marks, per process
LABELS = ("Alder", "Birch")


def _start(db_path: Path, visit_id: int, label: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.proof.writer_process",
            "concurrent",
            str(db_path),
            str(visit_id),
            label,
            str(COUNT),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    if first != b"ready\n":
        _, err = proc.communicate(timeout=60)
        pytest.fail(f"{label} did not start: {first!r}\n{err.decode(errors='replace')}")
    return proc


def test_two_processes_writing_one_file_both_keep_every_write(
    database: Database,
    make_patient: Callable[..., int],
    practitioner_id: int,
    db_path: Path,
) -> None:
    """Two writers saving 300 patients and 300 marks each at once: all 1,200 writes are kept."""
    with database.write() as session:
        visit_id, _ = start_visit(session, make_patient(), practitioner_id)
    database.dispose()

    procs = {label: _start(db_path, visit_id, label) for label in LABELS}
    for proc in procs.values():  # both are connected and waiting: start them together
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
    outputs = {label: proc.communicate(timeout=300) for label, proc in procs.items()}

    acked: dict[str, dict[str, set[int]]] = {}
    for label, (out, err) in outputs.items():
        errors = err.decode(errors="replace")
        assert procs[label].returncode == 0, errors
        assert "locked" not in errors and "Traceback" not in errors, errors
        acked[label] = {"patient": set(), "mark": set()}
        for line in out.decode().splitlines():
            kind, ident = line.split()
            acked[label][kind].add(int(ident))
        assert len(acked[label]["patient"]) == COUNT
        assert len(acked[label]["mark"]) == COUNT

    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        for label in LABELS:
            patients = conn.execute("SELECT id FROM patient WHERE family_name = ?", (label,))
            assert {r[0] for r in patients} == acked[label]["patient"]
            marks = conn.execute(
                "SELECT id FROM mark WHERE visit_id = ? AND note LIKE ?", (visit_id, f"{label} #%")
            )
            assert {r[0] for r in marks} == acked[label]["mark"]
        assert conn.execute("SELECT count(*) FROM patient").fetchone()[0] == 2 * COUNT + 1
        assert conn.execute("SELECT count(*) FROM mark").fetchone()[0] == 2 * COUNT
        chart_numbers = [r[0] for r in conn.execute("SELECT chart_number FROM patient")]
    finally:
        conn.close()
    assert len(set(chart_numbers)) == len(chart_numbers), "two patients share a chart number"

    # What the practitioner sees: searching either family name lists all its patients.
    with database.read() as session:
        for label in LABELS:
            assert set(search_patient_ids(session, label)) == acked[label]["patient"]
