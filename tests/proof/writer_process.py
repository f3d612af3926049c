"""Child processes for the proof tests: a charting writer to kill, and concurrent writers.

Run as ``python -m tests.proof.writer_process MODE ...`` from the project root.

``zygote DB``: imports everything once (no database connection), prints ``ready``, then for
each ``run RUN VISIT ACKFILE`` line on stdin forks a fresh writer child, prints ``pid PID``,
waits for the child to die and prints ``done PID STATUS``. The writer opens its own
connection and charts marks on VISIT forever, one transaction per mark, appending each mark
id to ACKFILE (with ``os.write``) only after its commit returned.

``concurrent DB VISIT LABEL COUNT``: opens the database, prints ``ready``, waits for a line
on stdin, then adds COUNT patients (family name LABEL) and COUNT marks on VISIT, each in its
own transaction, printing ``patient ID`` / ``mark ID`` after each commit.
"""

from __future__ import annotations

import itertools
import os
import sys
import traceback
from dataclasses import replace
from datetime import date
from pathlib import Path

from charting.bodymap import load_bodymap
from charting.config import sqlite_url
from charting.models.db import Database
from charting.models.migrate import head_revision, known_revisions, open_database
from charting.services.access import Actor
from charting.services.marks import MarkSpec, add_marks
from charting.services.patients import PatientInput, create_patient

# Points a practitioner might needle for low back pain, both sides.
POINTS = ("BL23", "BL25", "BL40", "GB30", "BL52", "BL57", "GB34", "BL60")
SIDES = ("L", "R")


def mark_specs() -> list[MarkSpec]:
    """Acupoint marks exactly at their catalog positions on the posterior view."""
    bodymap = load_bodymap()
    specs = []
    for code, side in itertools.product(POINTS, SIDES):
        position = bodymap.position(code, side, "posterior")  # type: ignore[arg-type]
        if position is not None:
            specs.append(
                MarkSpec("acupoint", "posterior", position[0], position[1], side, point_code=code)
            )
    assert specs, "no test point is on the posterior view"
    return specs


def open_as_system(db_path: str) -> Database:
    """Open the database the way the app does, signed in as a named system task."""
    database = open_database(sqlite_url(Path(db_path))).database
    database.actor = Actor.system("crash-test")
    return database


def chart_forever(db_path: str, visit_id: int, run: int, ack_path: str) -> None:
    """Add marks one transaction at a time; acknowledge each only after its commit."""
    bodymap = load_bodymap()
    specs = mark_specs()
    database = open_as_system(db_path)
    ack = os.open(ack_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    for n in itertools.count(1):
        spec = replace(specs[n % len(specs)], note=f"run {run} #{n}")
        with database.write() as session:
            (mark_id,), _ = add_marks(session, bodymap, visit_id, [spec])
        os.write(ack, f"{mark_id}\n".encode())


def zygote(db_path: str) -> int:
    """Fork one writer per request; never touch the database here."""
    mark_specs()  # loads the body map once, for every child
    known_revisions()
    head_revision()
    print("ready", flush=True)
    for line in sys.stdin:
        _command, run, visit_id, ack_path = line.split()
        pid = os.fork()
        if pid == 0:
            code = 3
            try:
                chart_forever(db_path, int(visit_id), int(run), ack_path)
            except BaseException:
                traceback.print_exc()
                sys.stderr.flush()
            finally:
                os._exit(code)
        print(f"pid {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"done {pid} {status}", flush=True)
    return 0


def concurrent(db_path: str, visit_id: int, label: str, count: int) -> int:
    """Write patients and marks as fast as possible, alongside another process."""
    bodymap = load_bodymap()
    specs = mark_specs()
    database = open_as_system(db_path)
    print("ready", flush=True)
    sys.stdin.readline()
    for n in range(count):
        form = PatientInput(
            family_name=label,
            given_name=f"Writer {chr(ord('A') + n % 26)}",
            date_of_birth=date(1970 + n % 40, 1 + n % 12, 1 + n % 28),
        )
        with database.write() as session:
            patient_id, _ = create_patient(session, form)
        print(f"patient {patient_id}", flush=True)
        spec = replace(specs[n % len(specs)], note=f"{label} #{n}")
        with database.write() as session:
            (mark_id,), _ = add_marks(session, bodymap, visit_id, [spec])
        print(f"mark {mark_id}", flush=True)
    database.dispose()
    return 0


def main(argv: list[str]) -> int:
    """Dispatch on the mode named first."""
    mode, *args = argv
    if mode == "zygote":
        return zygote(args[0])
    if mode == "concurrent":
        return concurrent(args[0], int(args[1]), args[2], int(args[3]))
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
