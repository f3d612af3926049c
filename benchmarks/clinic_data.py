"""The large synthetic clinic the clinic benchmarks run on, built once and cached.

``charting demo`` fills it (100,000 patients, about 1,000,000 visits with about 10 marks
each); then a few named fixtures are added through the app's own services: a patient with
a 200-visit course, a visit with 60 marks, a visit with 300 marks, and a signed-in account.
The result is cached in ``benchmarks/.cache/`` (ignored by git) under a name that changes
with the schema revision and the demo generator, so a change to either rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from benchmarks.common import spread_marks
from charting.bodymap import load_bodymap
from charting.config import sqlite_url
from charting.models.db import Database
from charting.models.entities import Role
from charting.models.migrate import head_revision, open_database
from charting.services.access import Actor
from charting.services.accounts import AccountInput, create_account
from charting.services.marks import add_marks
from charting.services.patients import PatientInput, create_patient
from charting.services.visits import start_visit
from tests.postgres import SUPERUSER, PostgresCluster

ROOT = Path(__file__).resolve().parent
CACHE = ROOT / ".cache"
PATIENTS = int(os.environ.get("BENCH_CLINIC_PATIENTS", "100000"))
VISITS_PER_PATIENT = 10.2  # the demo's visit counts average a little under the mean
MARKS_PER_VISIT = 10.0
LONG_COURSE = 200
BENCH_USER = "bench"
BENCH_PASSWORD = "bench-password-1"


@dataclass(frozen=True)
class Fixtures:
    """Ids of the named records the benchmarks open."""

    long_course_patient: int  # 200 visits
    typical_patient: int  # a demo patient with about 10 visits
    typical_visits: int
    visit_60_marks: int
    visit_300_marks: int
    practitioner: int


@dataclass(frozen=True)
class Clinic:
    """A built clinic: where it is, what is in it, and its named fixtures."""

    url: str
    patients: int
    visits: int
    marks: int
    fixtures: Fixtures


def _fingerprint() -> str:
    """Changes whenever the schema or the demo generator changes."""
    services = ROOT.parent / "charting" / "services"
    demo = (services / "demo.py").read_bytes() + (services / "demo_day.py").read_bytes()
    return f"{head_revision()}-{hashlib.sha256(demo).hexdigest()[:8]}"


def add_fixtures(database: Database) -> Fixtures:
    """Add the named records through the services, as a practitioner would create them."""
    from sqlalchemy import func, select

    from charting.models import Practitioner, Visit

    bodymap = load_bodymap()
    admin = database.acting_as(Actor.system("benchmark set-up"))
    with admin.write() as s:
        create_account(
            s,
            AccountInput(
                BENCH_USER,
                "Bench Practitioner",
                {Role.ADMIN, Role.PRACTITIONER},
                BENCH_PASSWORD,
            ),
        )
    with admin.read() as s:
        prac = s.scalar(select(Practitioner.id).where(Practitioner.name == "Bench Practitioner"))
        assert prac is not None
        typical, typical_visits = s.execute(
            select(Visit.patient_id, func.count())
            .group_by(Visit.patient_id)
            .having(func.count() == 10)
            .order_by(Visit.patient_id)
            .limit(1)
        ).one()
    started = datetime.now(UTC) - timedelta(days=7 * LONG_COURSE)
    with admin.write() as s:
        long_pid, _ = create_patient(
            s, PatientInput("Benchmark", "Long Course", date_of_birth=date(1961, 4, 2))
        )
        visit = 0
        for n in range(LONG_COURSE):
            visit, _ = start_visit(
                s, long_pid, prac, started + timedelta(days=7 * n), "Low back pain"
            )
            add_marks(s, bodymap, visit, spread_marks(bodymap, 10, seed=n, acupoints=0.6))
            if n % 20 == 19:
                s.flush()
        add_marks(
            s, bodymap, visit, spread_marks(bodymap, 50, seed=1000, acupoints=0.6)
        )  # the last visit: 60 marks
        busy_pid, _ = create_patient(
            s, PatientInput("Benchmark", "Busy Map", date_of_birth=date(1978, 9, 30))
        )
        busy_visit, _ = start_visit(s, busy_pid, prac)
        add_marks(s, bodymap, busy_visit, spread_marks(bodymap, 300, seed=2000, acupoints=0.6))
    return Fixtures(long_pid, typical, typical_visits, visit, busy_visit, prac)


def _counts(database: Database) -> tuple[int, int, int]:
    from sqlalchemy import func, select

    from charting.models import Mark, Patient, Visit

    with database.acting_as(Actor.system("benchmark")).read() as s:
        return tuple(  # type: ignore[return-value]
            s.scalar(select(func.count()).select_from(t)) or 0 for t in (Patient, Visit, Mark)
        )


def build(url: str, *, log: bool = True) -> Fixtures:
    """Fill an empty database at ``url`` with the demo clinic and the fixtures."""
    started = time.perf_counter()
    command = [
        sys.executable,
        "-m",
        "charting",
        "demo",
        "--patients",
        str(PATIENTS),
        "--visits-per-patient",
        str(VISITS_PER_PATIENT),
        "--marks-per-visit",
        str(MARKS_PER_VISIT),
        "--db",
        url,
    ]
    if log:
        print(f"building the benchmark clinic ({PATIENTS:,} patients); this takes minutes")
    subprocess.run(command, check=True)
    opened = open_database(url)
    try:
        fixtures = add_fixtures(opened.database)
    finally:
        opened.database.dispose()
    if log:
        print(f"built in {time.perf_counter() - started:.0f} s")
    return fixtures


def sqlite_clinic() -> Clinic:
    """The cached SQLite clinic, built first if missing or out of date."""
    CACHE.mkdir(exist_ok=True)
    name = f"clinic-{PATIENTS}-{_fingerprint()}"
    db = CACHE / f"{name}.sqlite3"
    meta = CACHE / f"{name}.json"
    if not (db.exists() and meta.exists()):
        for old in CACHE.glob(f"clinic-{PATIENTS}-*"):
            old.unlink()
        building = CACHE / "building.sqlite3"
        for leftover in CACHE.glob("building.sqlite3*"):
            leftover.unlink()
        fixtures = build(sqlite_url(building))
        with sqlite3.connect(building) as conn:  # everything into the main file
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.move(building, db)
        for leftover in CACHE.glob("building.sqlite3*"):  # the emptied -wal and -shm
            leftover.unlink()
        _save_meta(meta, sqlite_url(db), fixtures)
    return _load(meta, sqlite_url(db))


def _save_meta(meta: Path, database_url: str, fixtures: Fixtures) -> None:
    opened = open_database(database_url)
    patients, visits, marks = _counts(opened.database)
    opened.database.dispose()
    counts = {"patients": patients, "visits": visits, "marks": marks}
    meta.write_text(json.dumps({**counts, **asdict(fixtures)}))


def _load(meta: Path, url: str) -> Clinic:
    data = json.loads(meta.read_text())
    counts = {k: data.pop(k) for k in ("patients", "visits", "marks")}
    return Clinic(url, **counts, fixtures=Fixtures(**data))


def postgresql_clinic() -> tuple[PostgresCluster, Clinic]:
    """The same clinic on a private PostgreSQL server kept in ``.cache`` (started here; the
    caller stops it with ``stop(keep=True)``)."""
    CACHE.mkdir(exist_ok=True)
    name = f"pg-{PATIENTS}-{_fingerprint()}"
    folder = CACHE / name
    meta = CACHE / f"{name}.json"
    if not meta.exists():
        for old in CACHE.glob(f"pg-{PATIENTS}-*"):
            if old.is_dir():
                subprocess.run(["rm", "-rf", str(old)], check=True)
            else:
                old.unlink()
    folder.mkdir(exist_ok=True)
    cluster = PostgresCluster(folder)
    if cluster.as_root:
        shutil.chown(folder, SUPERUSER, SUPERUSER)
    cluster.start()
    url = cluster.url("clinic")
    if not meta.exists():
        cluster.execute("DROP DATABASE IF EXISTS clinic")
        cluster.execute("CREATE DATABASE clinic")
        fixtures = build(url)
        vacuum_analyze(cluster.folder)
        _save_meta(meta, url, fixtures)
    return cluster, _load(meta, url)


def vacuum_analyze(socket_folder: Path) -> None:
    """What autovacuum does to a live clinic's database within the hour: planner statistics
    and the visibility map after the bulk load (without them PostgreSQL neither picks the
    indexes well nor answers a count from an index alone)."""
    import psycopg

    with psycopg.connect(
        host=str(socket_folder), user=SUPERUSER, dbname="clinic", autocommit=True
    ) as conn:
        conn.execute("VACUUM (ANALYZE)")
